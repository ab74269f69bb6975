"""Headers every page carries, no-store once signed in, and the sign-in form refusing a cross-site post."""

from __future__ import annotations

import json
import re

from api.middleware import CSP
from tests.pages.conftest import PASSWORD


def _token(client) -> str:
    return re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text).group(1)


def _sign_in(client) -> None:
    r = client.post("/login", data={"username": "office", "password": PASSWORD, "login_token": _token(client)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def test_pages_forbid_inline_script_framing_and_sniffing(client):
    for path in ("/login", "/public", "/health", "/static/pages.js"):
        r = client.get(path)
        assert r.headers["content-security-policy"] == CSP, path
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
    assert "script-src 'self';" in CSP and "frame-ancestors 'none'" in CSP and "unsafe-inline" not in CSP.split(
        "style-src")[0]
    page = client.get("/login").text
    # No inline script is left for the policy to block: the one script is a file of this site.
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/pages.js">']
    assert "select[data-duties]" in client.get("/static/pages.js").text
    # The API docs keep their CDN script but may not be framed either.
    assert client.get("/docs").headers["content-security-policy"] == "frame-ancestors 'none'"


def test_signed_in_pages_are_not_kept_in_the_browser_cache(client):
    assert "no-store" not in client.get("/public").headers.get("cache-control", "")
    _sign_in(client)
    for path in ("/", "/me", "/public"):
        assert client.get(path).headers["cache-control"] == "no-store", path
    assert "no-store" not in client.get("/static/pages.js").headers.get("cache-control", "")
    # After 退出 the browser must ask again: the page it would show from its cache was never stored.
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_sign_in_form_refuses_a_cross_site_post(client):
    form = {"username": "office", "password": PASSWORD}
    # Without the pre-session token (a form on another site cannot read the cookie to copy it).
    r = client.post("/login", data=form, follow_redirects=False)
    assert r.status_code == 403 and "来源不明" in r.text and "gongzhi_session" not in r.cookies
    token = _token(client)
    assert client.post("/login", data={**form, "login_token": "x" * 32}, follow_redirects=False).status_code == 403
    # With the token, but the browser says the post came from another site.
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://evil.example"}, {"Origin": "null"}):
        r = client.post("/login", data={**form, "login_token": token}, headers=headers, follow_redirects=False)
        assert r.status_code == 403, headers
    # From the form itself, as a browser sends it.
    r = client.post("/login", data={**form, "login_token": token}, follow_redirects=False,
                    headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"})
    assert r.status_code == 303 and r.cookies.get("gongzhi_session")


def test_the_session_endpoint_takes_json_only_which_a_cross_site_form_cannot_send(client):
    # A form on another site can post text/plain or form data, never application/json without a preflight.
    body = json.dumps({"username": "office", "password": PASSWORD})
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        r = client.post("/auth/session", content=body, headers={"Content-Type": content_type})
        assert r.status_code == 422 and "gongzhi_session" not in r.cookies, content_type
