// The pages' only script, served from this site: the Content-Security-Policy allows no inline script.
document.querySelectorAll("select[data-duties]").forEach(function (s) {
  var hint = s.parentNode.querySelector(".duties");
  function show() { var o = s.options[s.selectedIndex]; hint.textContent = o && o.dataset.duties ? "职责：" + o.dataset.duties : ""; }
  s.addEventListener("change", show); show();
});
