"""One Chromium journey over the forms a clerk uses: unit pickers that filter and count, item rows
added and removed, evidence previewed — and the office's pages at a phone's width (390 px)."""

from __future__ import annotations

import io
import re

from PIL import Image

from tests.pages.browser import ARTEFACTS
from tests.pages.test_journeys import PHONE, Person, expect, site  # noqa: F401


def test_pickers_item_rows_preview_and_the_office_pages_on_a_phone(browser, site, tmp_path):  # noqa: F811
    office = Person(browser, site, "office")
    office.page.goto("/new/meeting")
    office.page.fill("#title", "2026年第一季度联席会议临时会议")
    office.fill("", kind="ad_hoc", due="2026-03-31")
    # The organiser picker: type to filter, the groups by place narrow with it.
    picker = office.page.locator("#party_unit")
    office.page.locator(".picker-filter").first.fill("清镇")
    visible = picker.evaluate("s => [...s.options].filter(o => o.value && !o.hidden).map(o => o.textContent)")
    assert visible and all("清镇" in v for v in visible)
    assert picker.evaluate("s => [...s.querySelectorAll('optgroup')].filter(g => !g.hidden).map(g => g.label)") == [
        "贵阳市 · 清镇市"]
    office.page.locator(".picker-filter").first.fill("")
    picker.select_option("two_lakes_office")
    office.page.click("main button[type=submit]")
    expect(office.page.locator(".notice")).to_contain_text("已办理：新建")
    url = office.page.url.split("?")[0]
    office.act("propose_item", item="沿岸垃圾清理", owner="gy_qz_gov")
    office.page.goto(url)
    # (An ad hoc meeting waits on the convenor; the office's notice then needs no 3 days' lead.)
    convenor = Person(browser, site, "convenor")
    convenor.page.goto(url)
    convenor.act("approve_agenda")
    convenor.close()
    office.page.goto(url)
    form = office.page.locator('details[data-event="issue_notice"]')
    form.locator("summary").click()
    invitees = office.page.locator('[id="issue_notice-invitees"]')
    invitees.select_option(["gy_qz_gov", "as_pb_gov", "gy_swj"])
    invitees.dispatch_event("change")
    expect(form.locator(".picker-count")).to_have_text("已选 3 个单位")
    office.fill("issue_notice-", meeting_name="临时会议", meeting_at="2026-03-02T09:00", venue="三楼会议室")
    form.locator("button[type=submit]").click()
    assert office.state() == "已发通知"
    office.act("hold", chair="贵阳市水务局局长某某", chair_position="副组长", attendees=["gy_qz_gov"])
    assert office.state() == "已召开"
    # Five decisions: two rows added to the three drawn, one removed and added again.
    minutes = office.page.locator('details[data-event="draft_minutes"]')
    minutes.locator("summary").click()
    rows = minutes.locator("fieldset[data-row]")
    expect(rows).to_have_count(3)
    add = minutes.locator("button.row-add")
    for _ in range(3):
        add.click()
    expect(rows).to_have_count(6)
    rows.nth(5).locator("button.row-remove").click()
    expect(rows).to_have_count(5)
    expect(rows.nth(4).locator("legend")).to_contain_text("第5项")
    for i, text in enumerate(("截污管网", "畜禽养殖", "沿岸垃圾", "排污口", "水质监测")):
        office.fill("draft_minutes-", **{f"decisions.{i}.text": text, f"decisions.{i}.responsible_unit": "gy_qz_gov"})
    minutes.locator("button[type=submit]").last.click()
    office.page.wait_for_load_state()
    assert office.state() == "纪要起草中"
    expect(office.page.locator("dl.facts")).to_contain_text("水质监测，清镇市政府")
    # The re-draft starts from the five recorded, one row spare.
    redraft = office.page.locator('details[data-event="draft_minutes"]')
    expect(redraft.locator("fieldset[data-row]")).to_have_count(6)
    expect(office.page.locator('[id="draft_minutes-decisions.4.text"]')).to_have_value("水质监测")
    # Evidence: an image shows a thumbnail and opens in the browser.
    picture = tmp_path / "现场照片.png"
    Image.new("RGB", (1600, 900), (40, 140, 90)).save(picture)
    office.page.set_input_files("#evidence-file", str(picture))
    office.page.locator('form[action$="/evidence"] button[type=submit]').click()
    thumb = office.page.get_by_test_id("thumbnail")
    expect(thumb).to_have_count(1)
    assert thumb.evaluate("i => i.decode().then(() => [i.naturalWidth, i.naturalHeight])") == [320, 180]
    with office.context.expect_page() as opened:
        office.page.get_by_test_id("preview").click()
    shown = opened.value
    shown.wait_for_load_state()
    assert shown.evaluate("() => document.contentType") == "image/png"  # shown, not saved
    shown.close()
    office.shot("20-forms-meeting-case")
    office.close()

    phone = Person(browser, site, "office", viewport=PHONE)
    for path, name in (("/office/calendar?month=2026-03", "21-phone-calendar"), ("/office/overdue", "22-phone-overdue"),
                       ("/office/scorecards?year=2026", "23-phone-scorecards"), ("/office/accounts", "24-phone-accounts"),
                       (url, "25-phone-meeting")):
        phone.page.goto(path)
        phone.shot(name)
        width = phone.page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    phone.page.goto("/office/calendar?month=2026-03")
    # A meeting's title reads on one line or two, not one column of characters.
    link = phone.page.get_by_test_id("calendar").get_by_role("link", name=re.compile("临时会议")).first
    assert link.evaluate("a => a.getBoundingClientRect().width") > 200
    # Signed-in pages are never cached: Back after 退出 asks the server again, which wants a sign-in.
    phone.page.goto("/")
    phone.page.get_by_role("button", name="退出").click()
    expect(phone.page.locator("h1")).to_have_text("登录")
    phone.page.go_back()
    expect(phone.page.locator("h1")).to_have_text("登录")
    assert "/login" in phone.page.url
    phone.close()
    assert (ARTEFACTS / "21-phone-calendar.png").is_file()
    assert Image.open(io.BytesIO((ARTEFACTS / "23-phone-scorecards.png").read_bytes())).size[0] == 390
