"""日常管理 and 信息共享: quarterly self-inspections whose problems are handled or referred, data and
information exchanged between the parties, anomalies reported at once — every path, both databases."""

from __future__ import annotations

from datetime import timedelta

from engine.errors import BadPayload, GuardFailed, RoleNotHeld
from engine.timers import run_due
from tests.conftest import end_of, local
from tests.workflows.flow import OFFICE, Flow, member

GY_STHJJ, AS_STHJJ, QZ, AS_GOV, GY_GOV = (member(u) for u in ("gy_sthjj", "as_sthjj", "gy_qz_gov", "as_gov",
                                                              "gy_gov"))
EXCHANGE = ["gy_sthjj", "gy_swj", "as_sthjj", "as_swj", "ga_sthjj"]


def duty(cases, kind, reporter, recipients=None, due="2026-03-13"):
    parties = {"reporter": [reporter], **({"recipient": recipients} if recipients else {})}
    return Flow.start(cases, "duty_report", OFFICE, f"{kind} {reporter}", parties=parties, kind=kind,
                      period="2026-Q1", due=due)


def test_self_inspection_problems_are_handled_in_remit_or_referred(cases):
    d = duty(cases, "self_inspection", "gy_qz_gov")
    d.refused(RoleNotHeld, "submit", GY_STHJJ, content="x")
    d.refused(BadPayload, "submit", QZ, content="排查情况", problems=[{"text": "沿岸垃圾"}])
    case = d.fire("submit", QZ, "submitted", content="一季度排查发现3个问题", problems=[
        {"text": "红枫镇沿岸垃圾堆放", "location": "红枫镇", "own_remit": True, "due": "2026-04-30"},
        {"text": "上游养殖场废水", "location": "平坝区交界", "own_remit": False, "receiver": "as_pb_gov",
         "cross_city": True},
        {"text": "市管河段排口", "own_remit": False, "receiver": "gy_sthjj"},
    ])
    assert case.due_at is None
    (own,) = d.linked("own_problem")
    assert own.case.parties == {"responsible": ["gy_qz_gov"]} and own.case.data["origin"] == "self_inspection"
    assert own.case.data["due"] == "2026-04-30"
    cross, local_referral = d.linked("referral")
    assert cross.state == "draft" and cross.case.parties == {"referrer": ["gy_qz_gov"]}
    assert cross.case.data == {"problem": "上游养殖场废水", "location": "平坝区交界", "proposed_receiver": "as_pb_gov",
                               "cross_city": True}
    # The unit then refers what it found: within its city directly, across cities through the office.
    cross.fire("report_to_office", QZ, "coordinating", reason="跨市")
    local_referral.fire("refer", QZ, "referred", receiver="gy_sthjj", reason="属市生态环境局职责")
    d.fire("accept", OFFICE, "accepted")


def test_water_data_is_exchanged_and_acknowledged_by_another_party(cases):
    d = duty(cases, "water_data", "gy_sthjj", EXCHANGE)
    d.fire("submit", GY_STHJJ, "submitted", content="2月红枫湖各断面水质、流量", attachments=["数据表.xlsx"])
    d.refused(GuardFailed, "accept", GY_STHJJ, "cannot do this itself")
    d.refused(RoleNotHeld, "accept", QZ)
    d.fire("accept", AS_STHJJ, "accepted")


def test_a_report_returned_for_more_is_due_again(cases):
    d = duty(cases, "project_list", "as_gov", ["gy_gov", "ga_gov"], due="2026-07-14")
    d.fire("submit", AS_GOV, "submitted", content="上半年审批项目清单")
    case = d.fire("return", OFFICE, "returned", reason="缺少项目位置", due="2026-07-20")
    assert case.due_at == end_of(2026, 7, 20)
    d.fire("submit", AS_GOV, "submitted", content="补充项目位置")
    d.fire("accept", GY_GOV, "accepted")


def test_a_late_report_climbs_the_ladder_until_it_is_sent(cases):
    d = duty(cases, "risk_info", "as_sthjj", due="2026-03-04")
    cases.clock.set(local(2026, 3, 5, 9))
    run_due(cases)
    (ladder,) = d.linked("supervision")
    assert ladder.state == "reminded"
    d.fire("submit", AS_STHJJ, "submitted", content="环境风险信息")
    assert ladder.state == "cancelled"


# --- 水质异常、突发环境事件 -----------------------------------------------------------------------------

def anomaly(cases, detected_at=None, **extra):
    when = detected_at or local(2026, 3, 2, 8, 30)
    return Flow.start(cases, "anomaly_report", AS_STHJJ, "平坝区交界断面氨氮超标", kind="water_quality",
                      section="红枫湖上游交界断面", parameter="氨氮", value="2.3 mg/L",
                      detected_at=when.isoformat(), description="交界断面氨氮超过Ⅲ类标准", **extra)


def test_anomaly_reported_at_once_then_referred(cases):
    water = duty(cases, "water_data", "as_sthjj", EXCHANGE)
    a = anomaly(cases, source=water.case.number)
    assert a.case.due_at == local(2026, 3, 2, 10, 30)  # two hours after it was seen
    assert [x.id for x in a.linked("anomaly")] == [water.id]
    a.refused(GuardFailed, "notify", AS_STHJJ, "already the reporter", recipients=["as_sthjj"], content="x")
    a.fire("notify", AS_STHJJ, "notified", recipients=["gy_sthjj", "ga_sthjj", "two_lakes_office"],
           content="交界断面氨氮超标，已启动应急监测")
    a.fire("follow_up", AS_STHJJ, "notified", report="应急监测显示浓度下降", final=True)
    a.refused(RoleNotHeld, "open_referral", AS_STHJJ, reason="x")
    a.fire("open_referral", OFFICE, "referral_opened", reason="查明上游排污来源", cross_city=False)
    (referral,) = a.linked("referral")
    assert referral.case.parties == {"referrer": ["two_lakes_office"]}
    assert referral.case.data["problem"] == "交界断面氨氮超过Ⅲ类标准"
    referral.fire("refer", OFFICE, "referred", receiver="as_pb_gov", reason="属地排查")


def test_anomaly_becomes_a_problem_item_or_needs_nothing_more(cases):
    a = anomaly(cases)
    a.fire("notify", AS_STHJJ, recipients=["gy_sthjj"], content="通报")
    a.fire("open_problem", OFFICE, "problem_opened", responsible_unit="as_pb_gov", due="2026-04-30")
    (p,) = a.linked("problem")
    assert p.case.parties["responsible"] == ["as_pb_gov"] and p.case.data["origin"] == "anomaly"
    b = anomaly(cases)
    b.fire("notify", AS_STHJJ, recipients=["gy_sthjj"], content="通报")
    b.fire("close", OFFICE, "closed", reason="复测正常，系采样误差")


def test_an_anomaly_not_passed_on_within_two_hours_is_supervised(cases):
    # Seen at 07:30, reported into the system at 09:00: due at 09:30, one minute late at 09:31 (the clock
    # only moves forward past the report; a history never runs backwards).
    a = anomaly(cases, detected_at=local(2026, 3, 2, 7, 30))
    cases.clock.set(local(2026, 3, 2, 9, 31))
    run_due(cases)
    (ladder,) = a.linked("supervision")
    assert ladder.case.parties == {"supervised": ["as_sthjj"]}
    cases.clock.advance(timedelta(minutes=5))
    a.fire("notify", AS_STHJJ, "notified", recipients=["gy_sthjj"], content="迟报")
    assert ladder.state == "cancelled"
