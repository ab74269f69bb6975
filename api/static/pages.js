// The pages' only script, served from this site: the Content-Security-Policy allows no inline script.
// Every form works without it; this adds type-to-filter unit pickers, the count of the chosen, and
// rows added to or removed from a list of items.
function showDuties(root) {
  root.querySelectorAll("select[data-duties]").forEach(function (s) {
    if (s.dataset.dutiesOn) return;
    s.dataset.dutiesOn = "1";
    var hint = s.parentNode.querySelector(".duties");
    function show() { var o = s.options[s.selectedIndex]; hint.textContent = o && o.dataset.duties ? "职责：" + o.dataset.duties : ""; }
    s.addEventListener("change", show); show();
  });
}

function enhancePickers(root) {
  root.querySelectorAll("select[data-picker]").forEach(function (s) {
    if (s.dataset.pickerOn) return;
    s.dataset.pickerOn = "1";
    var filter = document.createElement("input");
    filter.type = "search";
    filter.className = "picker-filter";
    filter.placeholder = "输入单位或地区名称筛选";
    filter.setAttribute("aria-label", "筛选单位");
    s.parentNode.insertBefore(filter, s);
    var count = null;
    if (s.multiple) {
      count = document.createElement("div");
      count.className = "hint picker-count";
      count.setAttribute("aria-live", "polite");
      s.parentNode.insertBefore(count, s.nextSibling);
    }
    function counted() { if (count) count.textContent = "已选 " + s.selectedOptions.length + " 个单位"; }
    filter.addEventListener("input", function () {
      var words = filter.value.trim();
      s.querySelectorAll("optgroup").forEach(function (g) {
        var placeHits = words && g.label.indexOf(words) >= 0;
        var any = false;
        g.querySelectorAll("option").forEach(function (o) {
          var hit = !words || placeHits || o.textContent.indexOf(words) >= 0 || o.selected;
          o.hidden = !hit;
          any = any || hit;
        });
        g.hidden = !any;
      });
    });
    s.addEventListener("change", counted);
    counted();
  });
}

function renumber(box) {
  var name = box.dataset.items;
  box.querySelectorAll("fieldset[data-row]").forEach(function (row, i) {
    row.querySelector(".row-no").textContent = i + 1;
    row.querySelectorAll("[name]").forEach(function (el) {
      var rest = el.name.slice(name.length + 1).replace(/^[0-9]+\./, "");
      var old = el.id;
      el.name = name + "." + i + "." + rest;
      if (old) {
        el.id = old.replace(new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "\\.[0-9]+\\."), name + "." + i + ".");
        var label = row.querySelector('label[for="' + old + '"]');
        if (label) label.htmlFor = el.id;
      }
    });
  });
}

function removeButton(box, row) {
  var b = document.createElement("button");
  b.type = "button";
  b.className = "row-remove";
  b.textContent = "删除此项";
  b.addEventListener("click", function () {
    if (box.querySelectorAll("fieldset[data-row]").length > 1) {
      row.remove();
    } else {
      clear(row);
    }
    renumber(box);
  });
  row.appendChild(b);
}

function clear(row) {
  row.querySelectorAll("input, textarea, select").forEach(function (el) {
    if (el.tagName === "SELECT") { Array.prototype.forEach.call(el.options, function (o) { o.selected = false; }); }
    else if (el.type === "checkbox") { el.checked = false; }
    else { el.value = ""; }
  });
  row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
  row.querySelectorAll(".has-error").forEach(function (e) { e.classList.remove("has-error"); });
}

document.querySelectorAll("div.items[data-items]").forEach(function (box) {
  box.querySelectorAll("fieldset[data-row]").forEach(function (row) { removeButton(box, row); });
  var add = document.createElement("button");
  add.type = "button";
  add.className = "row-add";
  add.textContent = "添加一项" + (box.dataset.title || "");
  add.addEventListener("click", function () {
    var rows = box.querySelectorAll("fieldset[data-row]");
    var copy = rows[rows.length - 1].cloneNode(true);
    copy.querySelectorAll(".picker-filter, .picker-count, .row-remove").forEach(function (e) { e.remove(); });
    copy.querySelectorAll("[data-picker-on], [data-duties-on]").forEach(function (e) {
      delete e.dataset.pickerOn; delete e.dataset.dutiesOn;
    });
    copy.querySelectorAll("legend .req").forEach(function (e) { e.remove(); });
    clear(copy);
    box.appendChild(copy);
    removeButton(box, copy);
    renumber(box);
    enhancePickers(copy);
    showDuties(copy);
    var first = copy.querySelector("input, textarea, select");
    if (first) first.focus();
  });
  box.parentNode.insertBefore(add, box.nextSibling);
});

enhancePickers(document);
showDuties(document);

document.querySelectorAll("button[data-print]").forEach(function (b) {
  b.addEventListener("click", function () { window.print(); });
});
