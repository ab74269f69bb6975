"""Real cases that issue every document kind, moved through the engine (tests/fixtures/docs and the
two-lakes referral workflow)."""

from __future__ import annotations

from engine.actors import Actor
from engine.cases import Cases
from tests import tx

OFFICE = Actor.of("d-office-1", "d_office", "office", "office_head", "convenor", name="专班办公室刘洋")
PROCURATOR = Actor.of("d-proc-1", "d_a_jcy", "procurator", name="甲市检察院周敏")
TWO_LAKES_OFFICE = Actor.of("tl-office-1", "two_lakes_office", "office", name="专班办公室陈静")

DECISION_TEXTS = [
    "甲市水务局牵头，会同乙市生态环境局对跨界断面水质开展加密监测，每月5日前通报上月监测结果",
    "清水县人民政府对水源地一级保护区内违法建筑开展全面清理，逐一建立台账，整治一个、销号一个",
    "乙市西山区人民政府加快推进入湖支流沿岸生活污水收集管网建设，确保雨污分流改造按期完成",
    "乙市农业农村局组织开展流域农业面源污染专项整治，推广测土配方施肥，减少化肥农药使用量",
    "专班办公室建立问题清单月调度制度，每月汇总各成员单位整改进展，对进度滞后的事项及时督办",
]


def decision(i: int) -> dict[str, object]:
    units = ["d_a_water", "d_a_qs_gov", "d_b_xs_gov", "d_b_agri", "d_a_eco"]
    return {
        "text": DECISION_TEXTS[i % len(DECISION_TEXTS)] + ("" if i < len(DECISION_TEXTS) else f"（第{i + 1}项）"),
        "responsible_unit": units[i % len(units)],
        "co_units": ["d_b_eco", "d_a_eco"] if i % 2 == 0 else [],
        "due": f"2026-{4 + i % 6:02d}-30",
    }


def meeting(cases: Cases, *, decisions: int = 5, summary_paragraphs: int = 2):
    """A joint meeting: notified (meeting_notice), held, decided, minuted (minutes)."""
    case = tx.start(cases, task_force="docs", workflow="meeting", actor=OFFICE, title="2026年第一季度专题会议", payload={
        "meeting_name": "2026年第一季度跨界水源地保护专题会议",
        "meeting_at": "2026-03-12T09:30:00+08:00",
        "venue": "甲市水务局三楼会议室",
        "agenda": ["通报第一季度联合排查发现问题及整改进展", "研究部署跨界断面水质加密监测工作", "审议问题清单调度制度"],
        "invitees": ["d_a_water", "d_a_eco", "d_b_eco", "d_b_agri", "d_a_qs_gov", "d_b_xs_gov"],
        "attendance": "各成员单位分管负责同志1名、联络员1名",
        "reply_by": "2026-03-09",
        "contact": "刘洋，电话0851-12345678",
    })
    case = tx.fire(cases, case, "notify", OFFICE, {"copy_to": ["d_a_gov", "d_b_gov"]})
    case = tx.fire(cases, case, "hold", OFFICE, {
        "chair": "甲市人民政府副市长王建国",
        "attendees": ["d_a_water", "d_a_eco", "d_b_eco", "d_b_agri", "清水县人民政府副县长李明"],
        "absentees": ["d_b_xs_gov"],
        "observers": ["d_a_jcy", "市人大代表张华"],
        "summary": [
            "会议听取了专班办公室关于第一季度联合排查发现问题及整改进展情况的汇报，"
            "各成员单位分别汇报了本单位落实联动机制、推进问题整改的工作情况。" * (1 + i % 2)
            for i in range(summary_paragraphs)
        ],
    })
    for i in range(decisions):
        case = tx.fire(cases, case, "decide", OFFICE, decision(i))
    return tx.fire(cases, case, "issue_minutes", OFFICE, {"copy_to": ["d_a_gov", "d_b_gov"]})


def referral(cases: Cases):
    """A two-lakes referral (the real workflow): referred, which issues its referral_letter."""
    case = tx.start(cases, task_force="two_lakes", workflow="referral", actor=TWO_LAKES_OFFICE, title="红枫湖清镇段沿岸生活垃圾堆放",
                    payload={"problem": "联合排查发现红枫湖清镇段右岸约200米范围内堆放生活垃圾，部分已入水",
                             "location": "清镇市红枫湖镇右二村沿岸", "cross_city": False})
    return tx.fire(cases, case, "refer", TWO_LAKES_OFFICE, {
        "receiver": "gy_qz_gov", "reason": "问题位于清镇市辖区，属地政府负责辖区环境卫生整治",
        "due": "2026-03-31"})


def problem(i: int) -> dict[str, object]:
    sources = ["红枫湖饮用水水源地", "百花湖饮用水水源地", "阿哈水库饮用水水源地"]
    places = ["甲市清水县", "乙市西山区", "甲市白云区"]
    return {
        "location": places[i % 3], "source": sources[i % 3],
        "text": f"第{i + 1}号点位二级保护区内存在生活污水直排口{1 + i % 3}处",
        "measures": "封堵排污口，污水接入市政管网",
        "responsible_unit": ["d_a_qs_gov", "d_b_xs_gov", "d_a_eco"][i % 3],
        "co_units": ["d_a_eco"] if i % 3 != 2 else [],
        "due": f"2026-{5 + i % 6:02d}-30",
    }


PLAN_BODY = [
    "为深入打好污染防治攻坚战，集中解决跨界饮用水水源地突出环境问题，根据联合排查结果，制定本方案。",
    "一、目标任务",
    "对联合排查发现的问题逐一建立清单，明确整改措施、责任单位和完成时限，确保按期整改到位、销号一个。",
    "二、工作措施",
    "（一）实施清理整治。各责任单位对照问题清单，按照“一个水源地、一套方案、一抓到底”原则细化整改措施。",
    "（二）逐一核查销号。专班办公室建立问题清单“回头看”制度，确保完成一个、销号一个。",
]


def rectification(cases: Cases, *, problems: int = 60):
    """A rectification plan with its problem list (rectification_plan), then the look-back."""
    case = tx.start(cases, task_force="docs", workflow="rectification", actor=OFFICE, title="跨界水源地环境问题整改",
                    payload={"plan_name": "跨界饮用水水源地环境问题整改方案", "responsible_unit": "d_a_qs_gov"})
    for i in range(problems):
        case = tx.fire(cases, case, "add_problem", OFFICE, problem(i))
    case = tx.fire(cases, case, "issue_plan", OFFICE, {"plan_body": PLAN_BODY, "copy_to": ["d_a_gov", "d_b_gov"],
                                                       "due": "2026-03-20"})
    case = tx.fire(cases, case, "lookback", OFFICE, {"problem_no": 1, "finding": "排污口已封堵，未发现反弹", "done": True})
    return tx.fire(cases, case, "lookback", OFFICE, {"problem_no": 2, "finding": "管网尚未接通", "done": False,
                                                     "remark": "申请延期至6月底"})


def supervise(cases: Cases, case, level: str):
    """One rung of the supervision ladder (supervision_notice)."""
    days = {"blue": "将于3日后到期", "yellow": "已逾期5个工作日", "red": "已逾期12个工作日"}[level]
    return tx.fire(cases, case, "supervise", OFFICE, {
        "supervision_level": level,
        "supervision_situation": f"该整改事项{days}，问题清单第2项管网尚未接通",
        "supervision_demand": "请主要负责同志亲自研究部署，倒排工期，确保按期完成整改",
        "supervision_reply_by": "2026-04-10",
    })


def circulate(cases: Cases, case):
    return tx.fire(cases, case, "circulate", OFFICE, {
        "circular_title": "关于跨界水源地环境问题整改进展情况的通报",
        "circular_body": ["截至3月底，问题清单所列问题已整改销号2个，清水县人民政府承担的整改任务进展缓慢。",
                          "一、存在问题", "部分问题整改逾期，且未按要求报送延期申请。",
                          "二、下步要求", "请各责任单位对照清单倒排工期，4月10日前报送整改进展。"],
        "copy_to": ["d_a_gov", "d_b_gov"],
    })


def summon(cases: Cases, case):
    return tx.fire(cases, case, "summon", OFFICE, {
        "summons_at": "2026-04-15T15:00:00+08:00", "summons_venue": "甲市人民政府第二会议室",
        "summons_host": "甲市人民政府副市长王建国", "summoned_unit": "d_a_qs_gov",
        "summoned_person": "清水县人民政府县长赵刚", "summons_recorder": "专班办公室刘洋",
        "summons_reason": "水源地二级保护区生活污水直排问题整改经红牌督办后仍未完成",
        "summons_issues": ["整改进度严重滞后", "未按要求报送延期申请"],
        "summons_demands": ["5月15日前完成管网接通", "每周报送整改进展"],
        "summons_due": "2026-05-15", "summons_response": "清水县将成立工作专班，倒排工期，确保按期完成",
    })


RECOMMENDATION_POINTS = [
    "依法履行饮用水水源地监督管理职责，对二级保护区内生活污水直排口予以封堵",
    "对违法排污行为依法查处",
    "建立水源地日常巡查制度，防止问题反弹",
]


def recommendation(cases: Cases):
    """A procuratorial recommendation served, replied to, assessed (procuratorial_followup)."""
    case = tx.start(cases, task_force="docs", workflow="recommendation", actor=PROCURATOR, title="清水县水源地生活污水直排",
                    payload={"recommendation_no": "甲检行公建〔2026〕3号", "agency": "d_a_eco",
                             "recommendation_points": RECOMMENDATION_POINTS, "served_on": "2026-01-05",
                             "procurator_name": "周敏"})
    case = tx.fire(cases, case, "receive_reply", PROCURATOR, {"reply_received_on": "2026-02-27",
                                                              "reply_summary": "已封堵排污口2处，立案查处1起"})
    case = tx.fire(cases, case, "assess_point", PROCURATOR, {"point": 1, "state": "已落实", "note": "现场核实已封堵"})
    case = tx.fire(cases, case, "assess_point", PROCURATOR, {"point": 2, "state": "正在落实"})
    return tx.fire(cases, case, "record_followup", PROCURATOR)


def joint_meeting(cases: Cases):
    """A meeting recorded as the two-lakes meeting workflow records it (see joint_meeting.v1.yaml)."""
    case = tx.start(cases, task_force="docs", workflow="joint_meeting", actor=OFFICE, title="2026年第一季度联席会议专题会议",
                    payload={"kind": "topical", "period": "2026年第一季度", "due": "2026-03-31",
                             "topic": "研究跨界断面水质异常问题"})
    case = tx.fire(cases, case, "issue_notice", OFFICE, {"meeting_at": "2026-03-20T14:30:00+08:00", "place": "乙市生态环境局会议室",
                                                         "agenda": "通报水质监测情况\n研究异常断面整改措施"})
    case = tx.fire(cases, case, "hold", OFFICE, {"attendees": ["d_a_water", "d_b_eco"], "held_at": "2026-03-20T14:30:00+08:00"})
    case = tx.fire(cases, case, "draft_minutes", OFFICE, {"summary": "会议通报了第一季度水质监测情况。\n会议要求加密监测。"})
    return tx.fire(cases, case, "issue_minutes", OFFICE)


def ladder(cases: Cases):
    """An overdue item climbing the two-lakes supervision ladder (see supervision.v1.yaml)."""
    case = tx.start(cases, task_force="docs", workflow="supervision", actor=OFFICE, title="清水县政府：排污口封堵逾期",
                    parties={"supervised": ["d_a_qs_gov"]},
                    payload={"item": "红枫湖二级保护区排污口封堵", "deadline": "办理期限", "due": "2026-02-20"})
    for event in ("yellow", "approve_red", "approve_circular"):
        case = tx.fire(cases, case, event, OFFICE)
    return tx.fire(cases, case, "approve_summons", OFFICE, {"summoned": "清水县人民政府县长赵刚",
                                                            "measures": "5月15日前完成封堵\n每周报送进展",
                                                            "new_due": "2026-05-15"})
