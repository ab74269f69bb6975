"""Forms a clerk can use and pages that read at a glance (issue 13), through TestClient on both databases."""

from __future__ import annotations

import io

from PIL import Image

from tests.pages.test_pages import sign_in

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_images_and_pdfs_open_in_the_browser_with_thumbnails_and_other_files_download(api, client, login):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    ids = {}
    for name, data in (("现场.png", png(1200, 800)), ("报告.pdf", PDF), ("说明.txt", "已整改".encode())):
        r = client.post(f"/cases/{case['id']}/attachments", headers=login("gy_qz_gov"),
                        files={"file": (name, data, "application/octet-stream")})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    base = f"/cases/{case['id']}/attachments"
    image = api.get("office", f"{base}/{ids['现场.png']}")
    assert image.headers["content-disposition"].startswith("inline;") and image.headers["content-type"] == "image/png"
    assert "sandbox" in image.headers["content-security-policy"]
    pdf = api.get("office", f"{base}/{ids['报告.pdf']}")
    assert pdf.headers["content-disposition"].startswith("inline;") and "sandbox" not in pdf.headers[
        "content-security-policy"] and "default-src 'none'" in pdf.headers["content-security-policy"]
    text = api.get("office", f"{base}/{ids['说明.txt']}")
    assert text.headers["content-disposition"].startswith("attachment;")
    thumb = api.get("office", f"{base}/{ids['现场.png']}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 213)
    assert api.get("office", f"{base}/{ids['报告.pdf']}/thumbnail").status_code == 404
    sign_in(client, "office")
    page = client.get(f"/case/{case['id']}").text
    assert page.count('data-testid="thumbnail"') == 1 and page.count('data-testid="preview"') == 2
