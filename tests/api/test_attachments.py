"""Evidence files: checked, stored by SHA-256, downloaded byte for byte; only acting parties add them."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def upload(client, login, who, case_id, name, data, content_type="application/octet-stream", **form):
    return client.post(f"/cases/{case_id}/attachments", headers=login(who), data=form,
                       files={"file": (name, data, content_type)})


def test_upload_list_download_and_export(api, client, login):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    r = upload(client, login, "gy_qz_gov", case["id"], "../../整改报告.pdf", PDF, "application/pdf",
               description="整改完成情况报告")
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["sha256"] == hashlib.sha256(PDF).hexdigest() and a["size"] == len(PDF)
    assert a["filename"] == "整改报告.pdf" and a["media_type"] == "application/pdf"
    assert a["uploader_unit"] == "gy_qz_gov" and a["history_seq"] == case["version"]
    assert r.headers["location"] == a["download_url"]
    listed = api.get("gy_sthjj", f"/cases/{case['id']}/attachments").json()
    assert [x["id"] for x in listed] == [a["id"]]
    got = api.get("office", a["download_url"])
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf" and got.headers["etag"] == f'"{a["sha256"]}"'
    assert "filename*=UTF-8''%E6%95%B4" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    export = api.get("office", f"/cases/{case['id']}/export").json()
    assert export["attachments"][0]["sha256"] == a["sha256"]
    # The same bytes twice: two records, one stored file.
    again = upload(client, login, "gy_sthjj", case["id"], "副本.pdf", PDF).json()
    assert again["sha256"] == a["sha256"] and again["id"] != a["id"]


@pytest.mark.parametrize(("name", "data", "media_type"), [
    ("现场.png", PNG, "image/png"),
    ("照片.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32, "image/jpeg"),
    ("方案.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("监测数据.csv", "断面,溶解氧\n花溪,7.2\n".encode(), "text/csv"),
    ("说明.txt", "已整改".encode(), "text/plain"),
])
def test_types_are_read_from_the_bytes(api, client, login, name, data, media_type):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    # The client's Content-Type is ignored: the bytes decide.
    r = upload(client, login, "gy_qz_gov", case["id"], name, data, "application/x-anything")
    assert r.status_code == 201, r.text
    assert r.json()["media_type"] == media_type


def test_refusals(api, client, login, app):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    r = upload(client, login, "gy_qz_gov", case["id"], "tool.exe", b"MZ\x90\x00" + b"\x00" * 100)
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    assert "application/pdf" in r.json()["details"]["accepted"]
    r = upload(client, login, "gy_qz_gov", case["id"], "archive.zip", _zip())
    assert r.status_code == 415
    # Not a party: the case does not exist for it.
    assert upload(client, login, "as_sthjj", case["id"], "a.pdf", PDF).status_code == 404
    assert api.get("as_sthjj", f"/cases/{case['id']}/attachments").status_code == 404
    assert api.get("gy_qz_gov", f"/cases/{case['id']}/attachments/999999").status_code == 404
    r = client.post(f"/cases/{case['id']}/attachments", headers=login("gy_qz_gov"), data={"description": "x"})
    assert r.status_code == 422 and r.json()["details"]["field"] == "body.file"


def test_size_limit_is_413(api, client, login, app):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    services = app.state.services
    limit = services.attachments.max_bytes
    services.attachments.max_bytes = 1000
    try:
        r = upload(client, login, "gy_qz_gov", case["id"], "big.pdf", PDF + b"0" * 2000)
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    finally:
        services.attachments.max_bytes = limit
    assert api.get("gy_qz_gov", f"/cases/{case['id']}/attachments").json() == []


def test_bodies_over_the_request_limit_are_413_before_they_are_read(db, clock, accounts, tmp_path, login):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from db.settings import Settings

    small = create_app(Settings(environment="test", data_dir=tmp_path, password_profile="cheapest",
                                attachment_max_bytes=2000, max_json_bytes=4096, log_level="WARNING"), db, clock)
    client = TestClient(small)
    r = client.post("/cases/1/attachments", files={"file": ("a.pdf", PDF + b"0" * 100_000, "application/pdf")})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    r = client.post("/cases", json={"workflow": "referral", "title": "x" * 10_000})
    assert r.status_code == 413 and r.json()["message_en"].startswith("request body exceeds")


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "x")
    return buf.getvalue()
