"""README's first command, as written, on a fresh data directory: the mechanism runs by itself.

A 贵阳 department refers a problem to an 安顺 district government in Chromium; with no other command
run, the receiver's header counts the notice within seconds, the 移送函 PDF appears on the case page, and
the loopback SMTP server and robot receiver each get the notice exactly once.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import playwright.sync_api as playwright

from tests.notify.conftest import free_port
from tests.pages.browser import ARTEFACTS, CHROMIUM, CHROMIUM_ARGS

expect = playwright.expect
REPO = Path(__file__).resolve().parents[2]
PASSWORD = "两湖联动 readme"


def readme_first_command() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## 两条命令", 1)[1]
    return re.search(r"```\n(.+?)\n```", section, re.S).group(1).strip()


def _gongzhi(env: dict, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(REPO / ".venv" / "bin" / "gongzhi"), *args], cwd=REPO, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _sign_in(browser, base: str, username: str):
    context = browser.new_context(base_url=base, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("我的待办")
    return page


def _within(seconds: float, check, page=None) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s")
        time.sleep(0.25)
        if page is not None:
            page.reload()


def test_the_first_command_runs_the_clock_documents_and_notices(tmp_path, smtp, receiver):
    command = readme_first_command()
    assert command == "bash scripts/start"
    port = free_port()
    env = {**os.environ, "GONGZHI_DATA_DIR": str(tmp_path / "data"), "GONGZHI_PORT": str(port),
           "GONGZHI_SMTP_HOST": "127.0.0.1", "GONGZHI_SMTP_PORT": str(smtp.port),
           "GONGZHI_SMTP_FROM": "gongzhi@example.org", "GONGZHI_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "GONGZHI_NOTIFY_QUIET_HOURS": "false", "GONGZHI_LOG_JSON": "false"}
    env.pop("GONGZHI_DATABASE_URL", None)
    log = open(tmp_path / "start.log", "w")  # noqa: SIM115 — open for the server's whole life, closed in finally
    proc = subprocess.Popen(["bash", "-c", command], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, (tmp_path / "start.log").read_text()
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.5)
        # The newcomer's own set-up: two accounts, and where the district wants its notices.
        _gongzhi(env, "user", "add", "gy_liaison", "--unit", "gy_sthjj", "--role", "member", "--name", "贵阳市生态环境局联络员",
                 "--password-stdin", stdin=PASSWORD + "\n")
        _gongzhi(env, "user", "add", "pb_liaison", "--unit", "as_pb_gov", "--role", "member", "--name", "平坝区政府联络员",
                 "--password-stdin", stdin=PASSWORD + "\n")
        _gongzhi(env, "channel", "add", "--unit", "as_pb_gov", "--kind", "email", "--target", "pb@example.org")
        _gongzhi(env, "channel", "add", "--unit", "as_pb_gov", "--kind", "wecom", "--target",
                 receiver.url("/wecom/pb", "key=test"))

        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pb = _sign_in(browser, base, "pb_liaison")
            # The clock has already told the district of this period's duties (its self-inspection).
            expect(pb.get_by_test_id("unread-count")).to_be_visible(timeout=20_000)
            before = int(pb.get_by_test_id("unread-count").inner_text())
            gy = _sign_in(browser, base, "gy_liaison")
            gy.get_by_role("link", name="跨区域问题移送").click()
            gy.fill("#title", "平坝区羊昌河沿岸养殖废水直排")
            gy.fill("#problem", "羊昌河平坝段沿岸养殖场废水直排，经河道入红枫湖")
            gy.fill("#location", "安顺市平坝区")
            gy.click("main button[type=submit]")
            refer = gy.locator('details[data-event="refer"]')
            refer.locator("summary").click()
            gy.locator('[id="refer-receiver"]').select_option("as_pb_gov")
            gy.locator('[id="refer-reason"]').fill("问题位于平坝区辖区，属地管理")
            refer.locator("button[type=submit]").click()
            gy.wait_for_load_state()
            assert gy.get_by_test_id("state").inner_text() == "已移送待签收"
            case_url = gy.url.split("?")[0]

            _within(10, lambda: int(pb.get_by_test_id("unread-count").inner_text()) == before + 1, pb)
            ARTEFACTS.mkdir(exist_ok=True)
            pb.screenshot(path=str(ARTEFACTS / "20-readme-start-receiver-unread.png"), full_page=True)
            pb.get_by_test_id("unread").click()
            expect(pb.get_by_test_id("messages")).to_contain_text("收到移送问题：平坝区羊昌河沿岸养殖废水直排")
            pb.screenshot(path=str(ARTEFACTS / "21-readme-start-messages.png"), full_page=True)
            pb.locator('[data-testid="messages"] a').first.click()
            assert pb.url.split("?")[0] == case_url
            _within(20, lambda: "两湖专班办函" in pb.get_by_test_id("documents").inner_text(), pb)  # the 移送函
            link = pb.get_by_test_id("documents").locator("a").first.get_attribute("href")
            pdf = pb.context.request.get(base + link)
            assert pdf.status == 200 and pdf.body()[:4] == b"%PDF"
            _within(10, lambda: "已发送" in pb.get_by_test_id("sends").inner_text()
                    and "待发送" not in pb.get_by_test_id("sends").inner_text(), pb)
            pb.screenshot(path=str(ARTEFACTS / "22-readme-start-case-sent.png"), full_page=True)
            browser.close()

        time.sleep(3)  # anything sent twice would have arrived by now
        mails = [m for to, m in smtp.messages if "pb@example.org" in to]
        assert len(mails) == 1 and "平坝区羊昌河沿岸养殖废水直排" in str(mails[0]["Subject"])
        robots = receiver.of("/wecom/pb")
        assert len(robots) == 1 and "平坝区羊昌河沿岸养殖废水直排" in robots[0]["raw"].decode("utf-8")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
