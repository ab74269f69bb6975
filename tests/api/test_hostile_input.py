"""Hostile input answers 4xx with the bilingual body and a request id, on both databases — through the API
and through the page forms alike; lost races without If-Match are retried inside the server."""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import re
import socket
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from engine.cases import Cases
from engine.loader import load_definition_file
from engine.publishing import publish
from tests import tx
from tests.api.conftest import PASSWORD

PROBE = """\
name: hostile_probe
version: 1
title: 输入检查（测试）
number_prefix: 检查测试
roles:
  office: {kind: org, title: 专班办公室}
states:
  - {name: open, title: 进行中, initial: true}
  - {name: closed, title: 已结束, final: true}
create:
  roles: [office]
  fields:
    amount: {type: number, title: 金额}
    count: {type: integer, title: 件数}
    note: {type: text, title: 说明, max_length: 50}
    place: {type: string, title: 地点}
events:
  - name: comment
    title: 说明情况
    from: open
    roles: [office]
    fields:
      text: {type: text, required: true, title: 说明}
      amount: {type: number, title: 金额}
  - name: close
    title: 结束
    from: open
    to: closed
    roles: [office]
"""


@pytest.fixture
def probe(db, clock, accounts, tmp_path) -> str:
    """A definition with number, integer and limited text fields, published into two_lakes once per database."""
    path = tmp_path / "hostile_probe.v1.yaml"
    path.write_text(PROBE, encoding="utf-8")
    with db.write() as conn:
        publish(conn, "two_lakes", load_definition_file(path), clock)  # the same version again is a no-op
    return "hostile_probe"


def _refused(r, status: int = 422) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] and body["message_zh"] and body["message_en"] and re.fullmatch(r"[0-9a-f]{32}",
                                                                                      body["request_id"])
    assert r.headers["x-request-id"] == body["request_id"]
    return body


# Header bytes are read as Latin-1: "²" arrives as such from a Latin-1 client, as "Â²" from a UTF-8 one;
# digits outside Latin-1 ("٣", "１") can only be sent as UTF-8 bytes.
IF_MATCH_TAGS = [(t, e) for t in ('"²"', '"¹"', '"٣"', '"1_0"', '" 1"', '"１"') for e in ("latin-1", "utf-8")
                 if e == "utf-8" or t not in ('"٣"', '"１"')]


@pytest.mark.parametrize(("tag", "encoding"), IF_MATCH_TAGS)
def test_if_match_takes_ascii_digits_only(api, tag, encoding):
    sent = tag.encode(encoding)
    case = api.create("office", workflow="api_briefing")
    r = api.fire("office", case["id"], "comment", {"text": "说明"}, headers={"If-Match": sent})
    assert _refused(r)["details"]["field"] == "If-Match"


@pytest.mark.parametrize("number", ["NaN", "nan", "Infinity", "-inf", "1e400"])
def test_numbers_must_be_finite_in_json(api, probe, number):
    # As a JSON string (lax parsing would read it) and as the literal Python's JSON reader accepts.
    r = api.client.post("/cases", headers=api.login("office"),
                        json={"workflow": probe, "title": "t", "payload": {"amount": number}})
    assert _refused(r)["details"]["field"] in ("amount", "payload", "body.payload")
    literal = "NaN" if number == "nan" else number
    raw = f'{{"workflow": "{probe}", "title": "t", "payload": {{"amount": {literal}}}}}'
    r = api.client.post("/cases", headers={**api.login("office"), "Content-Type": "application/json"},
                        content=raw)
    assert r.status_code == 422 and r.json()["request_id"]


def test_integers_are_bounded_and_text_limits_hold_in_the_api(api, probe):
    def create(payload):
        return api.client.post("/cases", headers=api.login("office"),
                               json={"workflow": probe, "title": "t", "payload": payload})

    assert _refused(create({"count": 10**20}))["details"]["field"] == "count"
    # max_length declared in the definition (50), and the default of a string (300).
    assert _refused(create({"note": "字" * 51}))["details"]["field"] == "note"
    assert create({"note": "字" * 50}).status_code == 201
    assert _refused(create({"place": "x" * 301}))["details"]["field"] == "place"
    assert _refused(create({"place": "a\x00b"}))["details"]["field"] in ("place", "body.payload")
    case = api.create("office", workflow="api_briefing")
    # A text field's default: 20,000 characters (a document of about 30 pages).
    assert _refused(api.fire("office", case["id"], "comment", {"text": "长" * 20_001}))["details"]["field"] == "text"
    assert api.fire("office", case["id"], "comment", {"text": "长" * 20_000}).status_code == 200


def _page_sign_in(client, username: str = "office") -> str:
    token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "login_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def _count_cases(db) -> int:
    from sqlalchemy import func, select

    from db.models import Case

    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(Case)).scalar_one()


def test_page_forms_make_the_api_checks(client, db, probe):
    csrf = _page_sign_in(client)
    before = _count_cases(db)
    cases = [
        ({"title": "x" * 301}, "title", "不能超过300个字"),
        ({"title": "有\x00空字符"}, "title", "空字符"),
        ({"title": "t", "description": "d\x00"}, "description", "空字符"),
        ({"title": "t", "amount": "NaN"}, "amount", "请填写数字"),
        ({"title": "t", "amount": "1e400"}, "amount", "请填写数字"),
        ({"title": "t", "count": "²"}, "count", "请填写整数"),
        ({"title": "t", "count": "٣"}, "count", "请填写整数"),
        ({"title": "t", "count": "1" * 30}, "count", "请填写整数"),
        ({"title": "t", "note": "字" * 51}, "note", "不能超过50个字"),
        ({"title": "t", "place": "p\x00"}, "place", "空字符"),
    ]
    for form, _field, words in cases:
        r = client.post(f"/new/{probe}", data={"csrf_token": csrf, **form})
        assert r.status_code == 422, (form, r.status_code)
        assert words in r.text, form
        assert r.headers["x-request-id"]
    assert _count_cases(db) == before  # nothing stored, on either database
    r = client.post(f"/new/{probe}", data={"csrf_token": csrf, "title": "正常", "amount": "12.5", "count": "3"},
                    follow_redirects=False)
    assert r.status_code == 303


def test_a_page_form_with_a_version_that_is_no_number_is_refused(client, api, probe):
    csrf = _page_sign_in(client)
    case = api.create("office", workflow=probe)
    for version in ("²", "¹", "٣", "1e3", "-1"):
        r = client.post(f"/case/{case['id']}/events/comment", data={"csrf_token": csrf, "version": version,
                                                                   "text": "说明"})
        assert r.status_code == 422 and "页面已过期" in r.text, version
    r = client.post(f"/case/{case['id']}/events/comment", data={"csrf_token": csrf, "version": "1", "text": "说明"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert api.get("office", f"/cases/{case['id']}").json()["version"] == 2


def _docx(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def test_a_zip_bomb_is_refused_as_docx_evidence(api, client, login):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    bomb = _docx({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document>" + b" " * (300 << 20)})
    assert len(bomb) < 1 << 20  # 300 MiB of spaces deflate to about 300 KiB
    r = client.post(f"/cases/{case['id']}/attachments", headers=login("gy_qz_gov"),
                    files={"file": ("整改报告.docx", bomb, "application/octet-stream")})
    body = _refused(r, 413)
    assert body["code"] == "zip_bomb" and body["details"]["expanded"] > body["details"]["limit"]
    # A directory that understates the sizes is caught by inflating it (counted, never written).
    lying = bytearray(_docx({"word/document.xml": b"0" * (100 << 20)}))
    for marker in (b"PK\x01\x02", b"PK\x03\x04"):
        at = lying.find(marker)
        while at != -1:
            offset = at + (24 if marker == b"PK\x01\x02" else 22)  # uncompressed size
            lying[offset:offset + 4] = (1000).to_bytes(4, "little")
            at = lying.find(marker, at + 4)
    r = client.post(f"/cases/{case['id']}/attachments", headers=login("gy_qz_gov"),
                    files={"file": ("a.docx", bytes(lying), "application/octet-stream")})
    assert r.status_code in (413, 415), r.text  # a bomb, or no readable office file: never kept
    honest = _docx({"[Content_Types].xml": b"<Types/>", "word/document.xml": "<w:t>整改完成</w:t>".encode() * 2000})
    r = client.post(f"/cases/{case['id']}/attachments", headers=login("gy_qz_gov"),
                    files={"file": ("整改报告.docx", honest, "application/octet-stream")})
    assert r.status_code == 201, r.text


def test_an_upload_is_not_read_before_authentication(app, api):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    chunk = b"x" * (1 << 20)
    pulled = 0

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < 20}

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    boundary = "gzboundary"
    scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": f"/cases/{case['id']}/attachments", "raw_path": f"/cases/{case['id']}/attachments".encode(),
             "query_string": b"", "root_path": "", "server": ("testserver", 80), "client": ("192.0.2.1", 1),
             "headers": [(b"host", b"testserver"), (b"content-length", str(20 << 20).encode()),
                         (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
                         (b"authorization", b"Bearer gzt_not-a-real-token")]}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 401
    assert pulled == 0  # not one chunk of the 20 MiB was read
    body = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
    assert body["code"] == "not_authenticated" and body["request_id"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(app):
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the test server did not start"
        time.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def test_an_unexpected_error_keeps_the_connection_and_carries_a_request_id(app, server):
    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-boom", boom)
    conn = http.client.HTTPConnection(server, timeout=10)
    for _ in range(2):  # the same connection answers twice
        conn.request("GET", "/test-boom")
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 500 and body["code"] == "internal_error" and body["request_id"]
        assert r.getheader("x-request-id") == body["request_id"]
    conn.request("GET", "/health")
    assert conn.getresponse().status == 200
    conn.close()


def test_eighty_concurrent_events_without_if_match_all_apply(api, server, db, clock):
    case = api.create("office", workflow="api_briefing")
    headers = api.login("office")

    def comment(n: int) -> int:
        with httpx.Client(base_url=f"http://{server}", timeout=60) as http_client:
            r = http_client.post(f"/cases/{case['id']}/events", headers=headers,
                                 json={"event": "comment", "payload": {"text": f"第{n}条说明"}})
            return r.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(comment, range(80)))
    assert statuses == [200] * 80, {s: statuses.count(s) for s in set(statuses)}
    history = api.get("office", f"/cases/{case['id']}/history").json()
    assert [h["seq"] for h in history] == list(range(1, 82))
    assert sorted(h["payload"]["text"] for h in history[1:]) == sorted(f"第{n}条说明" for n in range(80))
    assert tx.verify(Cases(db, clock)) == []
    # With If-Match a stale version is still the client's to resolve.
    r = api.fire("office", case["id"], "comment", {"text": "旧版本"}, headers={"If-Match": '"3"'})
    assert _refused(r, 409)["code"] == "stale_version"


