"""Forms a clerk can use and pages that read at a glance (issue 13), through TestClient on both databases."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from PIL import Image

from tests.pages.test_pages import login_token, sign_in

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


def test_the_ruling_forms_show_the_objection_and_a_case_picker_offers_the_meetings(client, api):
    meeting = api.create("office", "2026年第一季度联席会议专题会议", workflow="meeting",
                         payload={"kind": "topical", "due": "2026-03-31"}, parties={"organiser": ["two_lakes_office"]})
    case = api.referral("gy_sthjj", "gy_qz_gov")
    api.ok("gy_qz_gov", case["id"], "object", {"reason": "问题点位在花溪区", "proposed_unit": "gy_sthjj"})
    sign_in(client, "office")
    page = client.get(f"/case/{case['id']}").text
    lead = re.search(r'data-testid="lead-in">(.*?)</aside>', page, re.S).group(1)
    assert "申请退回" in lead and "问题点位在花溪区" in lead and "贵阳市生态环境局" in lead
    picker = re.search(r'<datalist id="escalate_to_meeting-meeting-cases">(.*?)</datalist>', page, re.S).group(1)
    assert f'<option value="{meeting["number"]}">{meeting["number"]} 2026年第一季度联席会议专题会议</option>' in picker
    assert case["number"] not in picker  # only meetings
    # Units come grouped by where they sit.
    assert re.search(r'<optgroup label="贵阳市 · 清镇市"><option value="gy_qz_gov"', page)


def test_a_meeting_is_not_held_before_its_time_and_minutes_take_any_number_of_decisions(client, api, clock):
    m = api.create("office", "2026年第一季度联席会议专题会议", workflow="meeting",
                   payload={"kind": "topical", "due": "2026-03-31"}, parties={"organiser": ["two_lakes_office"]})
    api.ok("office", m["id"], "propose_item", {"item": "截污管网建设进展", "owner": "gy_qz_gov"})
    api.ok("convenor", m["id"], "approve_agenda")
    api.ok("office", m["id"], "issue_notice", {"meeting_name": "专题会议", "meeting_at": "2026-03-12T09:30:00+08:00",
                                              "venue": "贵阳市水务局三楼会议室"})
    csrf = sign_in(client, "office")
    hold = {"csrf_token": csrf, "chair": "贵阳市水务局局长某某", "chair_position": "副组长", "attendees": ["gy_qz_gov"]}
    r = client.post(f"/case/{m['id']}/events/hold", data=hold)
    assert r.status_code == 422 and "会议时间未到，不能登记召开（2026年3月12日 09:30）" in r.text
    clock.set(datetime(2026, 3, 12, 1, 30, tzinfo=UTC))
    assert client.post(f"/case/{m['id']}/events/hold", data=hold, follow_redirects=False).status_code == 303
    # Five decisions, the last typed into a row numbered past a removed one: rows are read as posted.
    rows = {0: "加快截污管网建设", 1: "排查畜禽养殖", 2: "清理沿岸垃圾", 3: "核查排污口", 5: "开展水质加密监测"}
    form = {"csrf_token": csrf, "summary": "听取汇报"}
    for i, text in rows.items():
        form[f"decisions.{i}.text"], form[f"decisions.{i}.responsible_unit"] = text, "gy_qz_gov"
    assert client.post(f"/case/{m['id']}/events/draft_minutes", data=form,
                       follow_redirects=False).status_code == 303
    recorded = api.get("office", f"/cases/{m['id']}").json()["data"]["decisions"]
    assert [d["text"] for d in recorded] == list(rows.values())
    # The second draft starts from the first: every decision in its own row, in order, and one row spare.
    page = client.get(f"/case/{m['id']}").text
    redraft = re.search(r'data-event="draft_minutes">(.*?)</details>', page, re.S).group(1)
    assert re.findall(r'<textarea name="decisions\.(\d)\.text"[^>]*>([^<]*)</textarea>', redraft) == [
        *[(str(i), t) for i, t in enumerate(rows.values())], ("5", "")]
    assert redraft.count('<option value="gy_qz_gov" data-duties') == 6
    assert redraft.count('value="gy_qz_gov" data-duties="') == 6 and redraft.count("selected>清镇市政府") == 5
    assert ">听取汇报</textarea>" in redraft


def test_colour_follows_the_ladder_level_as_well_as_days_left(client, api):
    case = api.create("office", "督办：清镇市政府逾期未签收", workflow="supervision",
                      parties={"supervised": ["gy_qz_gov"]}, payload={"item": "移送事项签收"})
    api.ok("office", case["id"], "yellow")
    sign_in(client, "office")
    page = client.get(f"/case/{case['id']}").text
    # 7 working days to the red card: green by days alone, yellow at 黄牌.
    (badge,) = re.findall(r'<span class="badge (\w+)">剩余(\d+)天</span>', page)
    assert badge[0] == "yellow" and int(badge[1]) > 3
    ladder = client.get("/office/ladder").text
    assert '<span class="badge yellow">黄牌</span>' in ladder


def test_the_print_view_holds_facts_parties_deadlines_and_the_timeline(client, api):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    sign_in(client, "gy_qz_gov")
    r = client.get(f"/case/{case['id']}/print")
    assert r.status_code == 200
    facts = re.search(r'data-testid="print-facts">(.*?)</table>', r.text, re.S).group(1)
    assert case["number"] in facts and "清镇市政府" in facts and "贵阳市生态环境局" in facts
    assert "签收" in re.search(r'data-testid="print-deadlines">(.*?)</table>', r.text, re.S).group(1)
    timeline = re.search(r'data-testid="print-timeline">(.*?)</table>', r.text, re.S).group(1)
    assert "移送" in timeline and "属地管理" in timeline
    assert f'href="/case/{case["id"]}/print"' in client.get(f"/case/{case['id']}").text
    sign_in(client, "as_sthjj")  # a unit with no part in it sees no print view either
    assert client.get(f"/case/{case['id']}/print").status_code == 404


DEMO = ("office", "convenor", "gy_sthjj", "gy_qz_gov", "as_sthjj", "as_pb_gov", "ga_sthjj", "inspector",
        "procurator", "observer")


def test_every_nav_link_answers_for_every_demo_role(client, api):
    api.referral("gy_sthjj", "gy_qz_gov")
    for who in DEMO:
        sign_in(client, who)
        home = client.get("/").text
        nav = re.search(r"<nav>(.*?)</nav>", home, re.S).group(1)
        links = re.findall(r'href="([^"]+)"', nav) + ["/messages"]
        assert "/office/calendar" in links and "/office/scorecards" in links
        assert ("/office/accounts" in links) == (who == "office")
        for href in links:
            r = client.get(href)
            assert r.status_code == 200 and "未找到" not in r.text and "仅专班办公室可见" not in r.text, (who, href)
            for inner in re.findall(r'href="(/(?:new|office)/[^"?]+)"', r.text):
                assert client.get(inner).status_code == 200, (who, href, inner)


def test_the_office_manages_accounts_in_pages_and_every_change_is_recorded(client, api, db):
    csrf = sign_in(client, "gy_sthjj")
    assert client.get("/office/accounts").status_code == 403
    assert client.post("/office/accounts", data={"csrf_token": csrf, "username": "x"}).status_code == 403
    csrf = sign_in(client, "office")
    r = client.get("/office/accounts")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    form = {"csrf_token": csrf, "username": "qz_liaison2", "display_name": "清镇市联络员乙", "unit": "gy_qz_gov",
            "roles": ["member"]}
    bad = client.post("/office/accounts", data={**form, "roles": ["admiral"]})
    assert bad.status_code == 422 and "角色不属于本专班" in bad.text and 'value="清镇市联络员乙"' in bad.text
    r = client.post("/office/accounts", data=form)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    password = re.search(r'data-testid="password">([^<]+)<', r.text).group(1)
    assert client.post("/office/accounts", data=form).status_code == 422  # the name is taken
    row = re.search(r'<tr data-username="qz_liaison2">(.*?)</tr>', r.text, re.S).group(1)
    user_id = re.search(r'/office/accounts/(\d+)/edit', row).group(1)
    drawn = re.search(r'name="drawn" value="([^"]+)"', row).group(1)
    other = client.__class__(client.app)
    assert other.post("/login", data={"username": "qz_liaison2", "password": password, "next": "/",
                                      "login_token": login_token(other)}, follow_redirects=False).status_code == 303
    assert other.get("/").status_code == 200
    # Roles and unit, then a form drawn before that change is stale.
    r = client.post(f"/office/accounts/{user_id}/edit", data={"csrf_token": csrf, "drawn": drawn, "unit": "gy_swj",
                                                               "roles": ["member", "inspector"]}, follow_redirects=False)
    assert r.status_code == 303
    assert other.get("/", follow_redirects=False).status_code == 303  # its sign-in ended with the change
    assert client.post(f"/office/accounts/{user_id}/disable", data={"csrf_token": csrf, "drawn": drawn}).status_code == 409
    page = client.get("/office/accounts").text
    drawn = re.search(r'<tr data-username="qz_liaison2">.*?name="drawn" value="([^"]+)"', page, re.S).group(1)
    r = client.post(f"/office/accounts/{user_id}/reset", data={"csrf_token": csrf, "drawn": drawn})
    new_password = re.search(r'data-testid="password">([^<]+)<', r.text).group(1)
    assert new_password != password
    r = client.post(f"/office/accounts/{user_id}/disable", data={"csrf_token": csrf, "drawn": drawn},
                    follow_redirects=True)
    assert "已停用账户" in r.text
    assert other.post("/login", data={"username": "qz_liaison2", "password": new_password, "next": "/",
                                      "login_token": login_token(other)}).status_code == 401
    changes = re.search(r'data-testid="account-changes"[^>]*>(.*?)</table>', r.text, re.S).group(1)
    words = re.findall(r'<td data-label="变更">([^<]+)</td>', changes)
    assert words[:5] == ["停用", "重置密码", "调整所在单位：清镇市政府 → 贵阳市水务局", "调整角色：成员单位联络员 → 成员单位联络员、联合排查人员",
                         "新增账户：清镇市政府，成员单位联络员"], words
    assert changes.count('<td data-label="办理人">office</td>') >= 5 and new_password not in r.text.split("account-changes")[1]
