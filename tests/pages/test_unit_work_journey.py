"""分办 and 委托 in headless Chromium: a liaison assigns a referral to a colleague, who finds it first in
我的待办 and signs for it; the colleague delegates to another for the day; the delegate acts (the history
says 李四 代 张三) and, once the day is over, is refused in words."""

from __future__ import annotations

from datetime import datetime, timedelta

import playwright.sync_api as playwright
import pytest

from api.accounts import Accounts, hasher
from engine.actors import Actor
from engine.cases import Cases
from engine.localtime import LOCAL_TZ
from tests import tx
from tests.pages.browser import PASSWORD, running_site
from tests.pages.test_journeys import Person

expect = playwright.expect


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with running_site(tmp_path_factory.mktemp("unit_work_site")) as s:
        yield s


def test_a_liaison_assigns_a_colleague_acts_a_delegate_acts_then_is_refused(browser, site):
    service = Accounts(hasher("cheapest"), timedelta(hours=12))
    with site.db.write() as conn:
        for username, name in (("qz_zhang", "张三"), ("qz_li", "李四")):
            service.create_user(conn, username=username, display_name=name, unit="gy_qz_gov", task_force="two_lakes",
                                roles=["member"], password=PASSWORD, now=site.clock.now())
    cases = Cases(site.db, site.clock)
    referrer = Actor.of("user:3", "gy_sthjj", "member", name="贵阳市生态环境局联络员")
    for title in ("未分办的移送", "分办给张三的移送"):
        case = tx.start(cases, task_force="two_lakes", workflow="referral", actor=referrer, title=title,
                        payload={"problem": "红枫湖沿岸垃圾"})
        tx.fire(cases, case, "refer", referrer, {"receiver": "gy_qz_gov", "reason": "属地管理"})

    liaison = Person(browser, site, "gy_qz_gov")
    liaison.open_case("分办给张三的移送")
    liaison.page.select_option("#assignee", label="张三")
    liaison.page.get_by_role("button", name="分办", exact=True).click()
    expect(liaison.page.locator(".notice")).to_contain_text("已办理：分办")
    expect(liaison.page.get_by_test_id("assignment")).to_contain_text("张三")
    assert liaison.events() == []  # the case is 张三's now: the liaison reads it, reassigns it, no more
    liaison.page.goto("/")
    expect(liaison.page.get_by_test_id("my-work")).to_contain_text("已分办给张三")
    liaison.close()

    zhang = Person(browser, site, "qz_zhang")
    first = zhang.page.get_by_test_id("my-work").locator("tbody tr").first
    expect(first).to_contain_text("分办给张三的移送")  # first, though the other was referred earlier
    zhang.open_case("分办给张三的移送")
    zhang.act("accept")
    assert zhang.state() == "已签收"
    today = "2026-03-02"
    zhang.page.get_by_test_id("delegation-link").click()
    zhang.page.select_option("#delegate", label="李四")
    zhang.fill("", starts_on=today, ends_on=today)
    zhang.page.get_by_role("button", name="设置委托").click()
    expect(zhang.page.get_by_test_id("given")).to_contain_text("生效中")
    zhang.close()

    # Late on the last day of the delegation 李四 signs in and acts for 张三.
    site.clock.set(datetime(2026, 3, 2, 20, 0, tzinfo=LOCAL_TZ))
    li = Person(browser, site, "qz_li")
    expect(li.page.get_by_test_id("my-work")).to_contain_text("代张三办理")
    li.open_case("分办给张三的移送")
    li.act("start_work")
    assert li.state() == "办理中"
    expect(li.page.get_by_test_id("timeline")).to_contain_text("李四 代 张三")
    # The form stays open past midnight: the delegation is over, the event is refused and says why.
    site.clock.set(datetime(2026, 3, 3, 0, 30, tzinfo=LOCAL_TZ))
    li.act("progress", note="已清理一半")
    refused = li.page.get_by_test_id("refused")
    expect(refused).to_contain_text("委托已于2026年3月2日结束")
    assert li.state() == "办理中"
    li.page.reload()
    assert li.events() == []
    li.close()
    assert tx.verify(cases) == []
