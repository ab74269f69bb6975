"""运行状态: the office's page of heartbeats, failures, documents and notices not yet out, overdue timers."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.ops import rows
from tests.pages.test_pages import sign_in


def table(html: str, testid: str) -> str:
    return re.search(rf'data-testid="{testid}">(.*?)</table>', html, re.S).group(1)


def test_the_office_sees_what_the_background_is_doing(client, api, db, clock, settings):
    case = api.referral("gy_sthjj", "gy_qz_gov")
    toy = api.create("toy_office", "别的专班的事项", workflow="ticket", payload={"summary": "别的专班"})
    now = clock.now()
    sign_in(client, "office")
    empty = client.get("/office/operations")
    assert empty.status_code == 200 and 'data-testid="no-workers"' in empty.text
    assert '<a href="/office/operations" aria-current="page" class="current">运行状态</a>' in empty.text  # header

    rows.heartbeat(db, "clock", now - timedelta(seconds=20), host="gz-a", pid=101, rounds=55)
    rows.heartbeat(db, "notices", now - timedelta(seconds=settings.heartbeat_stale_seconds + 300), host="gz-b",
                   pid=202, last_error="SMTP 连接超时")
    rows.failure(db, "cadence:two_lakes:monthly_report", "clock", now, error="缺少所属周期")
    rows.failure(db, "cadence:toy:weekly", "clock", now, task_force="toy", error="toy 的失败")
    rows.outbox(db, "document", case["id"], "failed", now, {"kind": "referral_letter"}, error="字体缺失")
    rows.outbox(db, "notice", case["id"], "pending", now, {"kind": "dingtalk", "title": "新移送事项",
                                                          "target": "https://oapi.dingtalk.com/robot/send?access_token=s3cret"})
    rows.outbox(db, "document", toy["id"], "failed", now, {"kind": "x"}, error="toy 的公文")
    rows.timer(db, case["id"], now - timedelta(hours=2))
    rows.timer(db, toy["id"], now - timedelta(days=5))  # another task force's, older

    html = client.get("/office/operations").text
    assert 'data-testid="stale"' in html and "消息推送" in html
    beats = table(html, "heartbeats")
    assert "时钟（周期性工作与计时器）" in beats and "gz-a" in beats and "101" in beats and "55" in beats
    assert "SMTP 连接超时" in beats and "已停滞" in beats and "正常" in beats
    local = (now - timedelta(seconds=20)).astimezone(__import__("engine.localtime", fromlist=["LOCAL_TZ"]).LOCAL_TZ)
    assert f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}" in beats  # Beijing time
    failures = table(html, "failures")
    assert "cadence:two_lakes:monthly_report" in failures and "缺少所属周期" in failures and "3次" in failures
    assert "toy 的失败" not in failures  # another task force's
    documents = table(html, "documents")
    assert case["number"] in documents and "字体缺失" in documents and "已停止重试" in documents
    assert "移送函" in documents and "referral_letter" not in documents  # the kind's title, in Chinese
    assert "toy 的公文" not in documents
    notices = table(html, "notices")
    assert "钉钉：新移送事项" in notices and "待处理" in notices and "s3cret" not in html  # never the webhook's key
    timer = re.search(r'data-testid="oldest-timer">(.*?)</section>', html, re.S).group(1)
    assert case["number"] in timer and "到期计时器" in timer and "2小时0分钟前" in timer
    assert toy["number"] not in timer
    load = re.search(r'data-testid="load">(.*?)</section>', html, re.S).group(1)
    assert "最近一分钟办理" in load and "已处理请求" in load and "毫秒" in load


def test_the_page_is_the_offices(client):
    sign_in(client, "gy_sthjj")
    r = client.get("/office/operations")
    assert r.status_code == 403 and "仅专班办公室可见" in r.text
    assert "/office/operations" not in client.get("/").text
    client.cookies.clear()
    r = client.get("/office/operations", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
