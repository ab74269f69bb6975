"""Three journeys end to end in headless Chromium against a running server, checking what people see.

Screenshots of the main pages go to test-artifacts/ (gitignored), at laptop and phone widths.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import playwright.sync_api as playwright
import pytest

from documents.outbox import process_pending
from engine.cases import Cases
from tests import tx
from tests.pages.browser import ARTEFACTS, running_site, signed_in_page
from tests.workflows.flow import GY_CHIEF, GY_PROC, OFFICE

expect = playwright.expect
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with running_site(tmp_path_factory.mktemp("site")) as s:
        yield s


class Person:
    """One signed-in person in their own browser context."""

    def __init__(self, browser, site, username: str, viewport=LAPTOP) -> None:
        self.context, self.page = signed_in_page(browser, site.url, username, viewport=viewport)

    def shot(self, name: str) -> None:
        ARTEFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)

    def fill(self, prefix: str, **fields) -> None:
        for name, value in fields.items():
            box = self.page.locator(f'[id="{prefix}{name}"]')
            tag = box.evaluate("e => e.tagName + ':' + (e.type || '')")
            if tag.startswith("SELECT"):
                box.select_option(value)
            elif tag.endswith(":checkbox"):
                box.set_checked(bool(value))
            else:
                box.fill(value)

    def act(self, event: str, **fields) -> None:
        """Open the event's form on the case page, fill it and submit it."""
        form = self.page.locator(f'details[data-event="{event}"]')
        if form.get_attribute("open") is None:
            form.locator("summary").click()
        self.fill(f"{event}-", **fields)
        form.locator("button[type=submit]").click()
        self.page.wait_for_load_state()

    def state(self) -> str:
        return self.page.get_by_test_id("state").inner_text()

    def events(self) -> list[str]:
        """The events whose forms the case page offers, in order."""
        return [e.get_attribute("data-event") for e in self.page.locator("details.event").all()]

    def open_case(self, title: str) -> None:
        self.page.goto("/")
        self.page.get_by_role("link", name=title).first.click()
        expect(self.page.locator("h1")).to_have_text(title)

    def close(self) -> None:
        self.context.close()


def test_the_office_holds_a_topical_meeting_and_issues_its_minutes_as_a_pdf(browser, site):
    office = Person(browser, site, "office")
    header = office.page.get_by_test_id("who").inner_text()
    assert "专班办公室（演示）" in header and "专班办公室负责人" in header
    office.page.get_by_role("link", name="联席会议").click()
    office.page.fill("#title", "2026年第一季度联席会议专题会议")
    office.fill("", kind="topical", due="2026-03-31", topic="红枫湖沿岸截污", party_unit="two_lakes_office")
    office.page.click("main button[type=submit]")
    expect(office.page.locator(".notice")).to_contain_text("已办理：新建")
    assert office.state() == "征集议题"
    office.act("propose_item", item="红枫湖沿岸截污管网建设进展", owner="gy_qz_gov")
    expect(office.page.get_by_test_id("timeline")).to_contain_text("提出议题")
    office.page.goto("/")
    work = office.page.get_by_test_id("my-work")
    expect(work).to_contain_text("2026年第一季度联席会议专题会议")
    expect(work).to_contain_text("剩余29天")  # due 31 March, seen on 2 March
    office.shot("01-office-my-work")
    meeting_url = office.page.get_by_role("link", name="2026年第一季度联席会议专题会议").get_attribute("href")

    convenor = Person(browser, site, "convenor")
    convenor.page.goto(meeting_url)
    convenor.act("approve_agenda")
    assert convenor.state() == "议题已确定"

    office.page.goto(meeting_url)
    office.act("issue_notice", meeting_name="2026年第一季度联席会议专题会议", meeting_at="2026-03-12T09:30",
               venue="贵阳市水务局三楼会议室", invitees=["gy_qz_gov", "as_pb_gov"])
    assert office.state() == "已发通知"
    expect(office.page.locator("dl.facts")).to_contain_text("2026年3月12日")
    # Not held before the time the notice gave (meeting v2); then the clock reaches it.
    # Not held before the time the notice gave (meeting v2): the page says why; then the clock reaches it.
    assert "hold" not in office.events()
    expect(office.page.get_by_test_id("refused-now")).to_contain_text(
        "召开会议：会议时间未到，不能登记召开（2026年3月12日 09:30）")
    back_then = site.clock.now()
    site.clock.set(datetime(2026, 3, 12, 1, 30, tzinfo=UTC))
    office.close()
    convenor.close()  # ten days on, the sign-ins of 2 March have expired: both sign in again
    office, convenor = Person(browser, site, "office"), Person(browser, site, "convenor")
    office.page.goto(meeting_url)
    office.act("hold", chair="贵阳市水务局局长某某", chair_position="副组长", attendees=["gy_qz_gov", "as_pb_gov"])
    assert office.state() == "已召开"
    # A decision without its responsible unit is refused beside the field, and what was typed stays.
    office.act("draft_minutes", **{"summary": "会议听取了截污管网建设进展汇报", "decisions.0.text": "加快红枫湖沿岸截污管网建设"})
    expect(office.page.locator(".error-box")).to_contain_text("请补充或更正")
    form = office.page.locator('details[data-event="draft_minutes"]')
    expect(form.locator(".field.has-error .error")).to_have_text("此项必填")
    expect(office.page.locator('[id="draft_minutes-decisions.0.text"]')).to_have_value("加快红枫湖沿岸截污管网建设")
    expect(office.page.locator('[id="draft_minutes-summary"]')).to_have_value("会议听取了截污管网建设进展汇报")
    office.shot("02-form-refused")
    office.act("draft_minutes", **{"decisions.0.responsible_unit": "gy_qz_gov", "decisions.0.due": "2026-06-30"})
    assert office.state() == "纪要起草中"
    office.act("submit_minutes")
    assert office.state() == "纪要征求意见"

    convenor.page.goto(meeting_url)
    convenor.act("issue_minutes")
    assert convenor.state() == "议定事项督办中"

    outcome = process_pending(site.db, site.clock, 10)
    assert len(outcome.issued) == 2, outcome
    office.page.goto(meeting_url)
    expect(office.page.get_by_test_id("links")).to_contain_text("议定事项：加快红枫湖沿岸截污管网建设")
    expect(office.page.locator("dl.facts")).to_contain_text("加快红枫湖沿岸截污管网建设，清镇市政府，2026年6月30日")
    docs = office.page.get_by_test_id("documents")
    expect(docs.locator("a")).to_have_count(2)
    minutes = docs.get_by_role("link", name=re.compile("纪要"))
    reply = office.page.request.get(minutes.get_attribute("href"))
    assert reply.status == 200 and reply.headers["content-type"] == "application/pdf"
    assert reply.body().startswith(b"%PDF")
    office.shot("03-meeting-case")
    # The meeting is on the office's calendar for March; the other office pages are captured here too.
    office.page.goto("/office/calendar?month=2026-03")
    expect(office.page.get_by_test_id("calendar")).to_contain_text("2026年第一季度联席会议专题会议")
    office.shot("09-office-calendar")
    for path, name in (("/office/overdue", "10-office-overdue"), ("/office/ladder", "11-office-ladder"),
                       ("/office/scorecards", "12-office-scorecards")):
        office.page.goto(path)
        office.shot(name)
    office.close()
    convenor.close()
    site.clock.set(back_then)  # the module's other journeys run on 2 March


def test_a_gui_an_department_refers_a_problem_to_an_anshun_district_which_objects_and_is_designated(browser, site):
    """贵安新区 refers straight to 平坝区 (安顺市); 平坝区 objects, the office designates, 平坝区 reports, 贵安 verifies."""
    ga = Person(browser, site, "ga_sthjj")
    ga.page.get_by_role("link", name="跨区域问题移送").click()
    # A missing field is flagged beside it and the rest of the form is kept.
    ga.page.fill("#title", "马场河上游生活垃圾堆放")
    ga.fill("", location="平坝区马场镇", proposed_receiver="as_pb_gov")
    expect(ga.page.locator(".duties")).to_contain_text("职责")
    ga.page.click("main button[type=submit]")
    problem = ga.page.locator(".field.has-error", has=ga.page.locator("#problem"))
    expect(problem.locator(".error")).to_have_text("此项必填")
    expect(ga.page.locator("#title")).to_have_value("马场河上游生活垃圾堆放")
    expect(ga.page.locator("#location")).to_have_value("平坝区马场镇")
    expect(ga.page.locator("#proposed_receiver")).to_have_value("as_pb_gov")
    ga.shot("04-refer-missing-field")
    ga.fill("", problem="马场河上游沿岸堆放生活垃圾，雨季随径流入湖")
    ga.page.click("main button[type=submit]")
    assert ga.state() == "草稿"
    ga.act("refer", receiver="as_pb_gov", reason="问题位于平坝区马场镇辖区，属地管理")
    assert ga.state() == "已移送待签收"
    expect(ga.page.locator("dl.facts")).to_contain_text("平坝区")
    case_url = ga.page.url.split("?")[0]

    pb = Person(browser, site, "as_pb_gov", viewport=PHONE)
    expect(pb.page.get_by_test_id("my-work")).to_contain_text("马场河上游生活垃圾堆放")
    pb.shot("05-phone-my-work")
    pb.open_case("马场河上游生活垃圾堆放")
    assert pb.events() == ["accept", "object"]
    expect(pb.page.get_by_test_id("deadlines")).to_contain_text("5个工作日内可申请退回")
    expect(pb.page.get_by_test_id("deadlines").locator("tr", has_text="3个工作日内签收")).to_contain_text("平坝区政府")
    pb.act("object", reason="垃圾堆放点位于贵安新区马场镇一侧，不属本区管辖", proposed_unit="ga_gov")
    assert pb.state() == "申请退回"
    assert pb.events() == []
    pb.shot("16-phone-objected")

    office = Person(browser, site, "office")
    office.open_case("马场河上游生活垃圾堆放")
    expect(office.page.get_by_test_id("timeline")).to_contain_text("不属本区管辖")
    # The ruling is owed by the office: it is on the office's own list, and the table says whose it is.
    ruling = office.page.get_by_test_id("deadlines").locator("tr", has_text="裁定退回申请")
    expect(ruling).to_contain_text("专班办公室")
    expect(ruling).to_contain_text("剩余3天")
    office.shot("15-office-rules-on-objection")
    office.act("designate", reason="经现场核实，堆放点位于平坝区一侧，指定平坝区政府承办")
    assert office.state() == "已移送待签收"

    pb.open_case("马场河上游生活垃圾堆放")
    # Designated: the objection form is gone, only signing for it is left.
    assert pb.events() == ["accept"]
    pb.act("accept")
    assert pb.state() == "已签收"
    pb.act("start_work")
    assert pb.state() == "办理中"
    pb.page.set_input_files("#evidence-file", files=[{"name": "清运台账.txt", "mimeType": "text/plain",
                                                      "buffer": "3月5日清运生活垃圾12吨。".encode()}])
    pb.page.fill("#evidence-description", "清运台账")
    pb.page.locator('form[action$="/evidence"] button').click()
    expect(pb.page.get_by_test_id("evidence")).to_contain_text("清运台账.txt")
    pb.act("report_result", result="已清运垃圾12吨，设置围挡和警示牌", evidence="清运台账\n现场照片")
    assert pb.state() == "已报结果待核查"
    pb.shot("06-phone-case")

    ga.page.goto(case_url)
    ga.act("verify_pass")
    assert ga.state() == "已办结"
    timeline = ga.page.get_by_test_id("timeline")
    for step in ("移送", "申请退回", "驳回退回申请，指定承办", "签收", "开始办理", "报送办理结果", "核查通过"):
        expect(timeline).to_contain_text(step)
    expect(timeline).to_contain_text("指定平坝区政府承办")
    # The 移送函 the referral produced is there to download.
    process_pending(site.db, site.clock, 10)
    ga.page.reload()
    letter = ga.page.get_by_test_id("documents").get_by_role("link", name=re.compile("移送"))
    reply = ga.page.request.get(letter.get_attribute("href"))
    assert reply.status == 200 and reply.body().startswith(b"%PDF")
    ga.shot("07-referral-closed")
    public = browser.new_page(base_url=site.url, viewport=PHONE)
    public.goto("/public")
    # Several task forces are loaded (the sister mechanisms too): the visitor picks the two lakes.
    public.locator('a[href="/public/two_lakes"]').click()
    expect(public.get_by_test_id("disclosure")).to_contain_text("2026年3月")
    expect(public.locator("header")).not_to_contain_text("退出")
    public.screenshot(path=str(ARTEFACTS / "13-phone-public.png"), full_page=True)
    public.close()
    for p in (ga, office, pb):
        p.close()


def test_a_prosecutor_serves_a_recommendation_and_records_the_reply(browser, site):
    cases = Cases(site.db, site.clock)
    case = tx.start(cases, task_force="two_lakes", workflow="pil_case", actor=OFFICE, title="清镇市红枫湖沿岸污水直排",
                    payload={"facts": "沿岸生活污水长期直排", "procuratorate": "gy_jcy", "agency": "gy_qz_gov"})
    for event, actor, payload in (
            ("register_clue", GY_PROC, {}),
            ("decide_file", GY_CHIEF, {"agency": "gy_qz_gov", "harm": "饮用水源受污染", "duty": "属地水污染防治职责"}),
            ("serve_filing", GY_PROC, {"served_on": "2026-03-03"}),
            ("conclude_investigation", GY_PROC, {"proposal": "发出检察建议", "report": "调查终结报告"}),
            ("decide_recommendation", GY_CHIEF, {"recommendation_points": ["依法履行监管职责", "限期完成截污"]})):
        tx.fire(cases, case.id, event, actor, payload)

    proc = Person(browser, site, "procurator")
    expect(proc.page.get_by_test_id("my-work")).to_contain_text("清镇市红枫湖沿岸污水直排")
    proc.open_case("清镇市红枫湖沿岸污水直排")
    assert proc.state() == "已决定发出检察建议"
    proc.act("serve_recommendation", served_on="2026-03-05", recommendation_no="清检行公建〔2026〕1号",
             procurator_name="检察官某某")
    assert proc.state() == "待行政机关回复"
    deadlines = proc.page.get_by_test_id("deadlines")
    reply_row = deadlines.locator("tr", has_text="两个月内书面回复")
    expect(reply_row).to_contain_text("2026年5月")
    expect(reply_row).to_contain_text(re.compile(r"剩余\d+天"))
    proc.shot("08-procurator-awaiting-reply")
    proc.page.get_by_role("link", name="检察监督").first.click()
    replies = proc.page.get_by_test_id("replies")
    expect(replies).to_contain_text("清检行公建〔2026〕1号")
    expect(replies).to_contain_text(re.compile(r"剩余\d+天"))
    proc.shot("14-procurator-page")
    proc.open_case("清镇市红枫湖沿岸污水直排")
    proc.act("record_reply", reply_received_on="2026-04-20", reply_summary="已完成沿岸截污管网建设")
    assert proc.state() == "跟进调查"
    expect(proc.page.get_by_test_id("timeline")).to_contain_text("收到书面回复")
    proc.close()
