"""A year of the two-lakes mechanism, simulated through the engine's own API.

The clock is injected and walks day by day: at 00:05 the cadences open the period's duties, during
the working day the units act on their cases, at 23:54 the timers fire (warnings, expiries, the
supervision ladder). Who acts on a case, when, with what payload and how often late is data:
`RULES` gives, per workflow and state, the steps someone may take, each with its actor, its timing
relative to the state or the due date, the chance it is late or never taken, and a payload builder.
Every random choice comes from one RNG seeded by `--seed`, and cases are visited in id order, so a
(year, seed) pair always gives the same year. One unit, chosen by the seed, is persistently late:
its ladders climb and the procuratorate takes it to court.
"""

from __future__ import annotations

import random
import time as _time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from db.models import Case, CaseHistory, CaseLink, Definition, TaskForceUnit, Unit
from db.repositories import units as units_repo
from db.repositories.cases import CaseRow
from engine.actors import Actor
from engine.cadences import materialise
from engine.cases import Cases
from engine.clock import FixedClock
from engine.errors import EngineError
from engine.localtime import LOCAL_TZ, end_of_local_day, local_date, moment_of
from engine.scheduler import all_cadences, fire_through
from engine.views import due_items, links, scorecards

TF = "two_lakes"
# What the summary counts: (workflow, event, label).
MILESTONES = (
    ("meeting", "hold", "meetings held"), ("meeting", "issue_minutes", "minutes issued"),
    ("joint_inspection", "conduct", "joint inspections"), ("problem_item", "close_out", "problems closed out (销号)"),
    ("problem_item", "relapse", "relapses found by 回头看"), ("referral", "refer", "referrals"),
    ("referral", "escalate_to_meeting", "escalated to a meeting"), ("enforcement_action", "conduct", "enforcement actions"),
    ("anomaly_report", "notify", "anomalies reported"), ("supervision", "yellow", "yellow cards"),
    ("supervision", "approve_red", "red cards"), ("supervision", "approve_circular", "通报"),
    ("supervision", "approve_summons", "约谈"), ("supervision", "approve_transfer", "移交"),
    ("pil_case", "decide_file", "procuratorial cases filed"), ("pil_case", "serve_recommendation", "检察建议"),
    ("pil_case", "file_suit", "suits filed"), ("pil_case", "judgment", "judgments"),
)
OFFICE_UNIT = "two_lakes_office"
FOUR = ("gy_swj", "gy_sthjj", "as_sthjj", "ga_sthjj")  # the joint-inspection agencies
OBSERVERS = ("gy_jcy", "as_jcy", "gz_observers", "gz_sthjt", "gz_slt")
PROCURATORATES = {"gy": "gy_jcy", "as": "as_jcy", "ga": "gy_jcy"}  # 贵安 cases: the 贵阳 procuratorate [B]
SECTORS = ("生态环境", "水务", "农业农村", "综合行政执法", "交通")

PROBLEMS = (
    ("沿岸生活污水直排", "完善截污管网，封堵直排口"), ("农村生活污水收集设施破损", "修复污水收集管网"),
    ("库区消落带生活垃圾堆放", "清运垃圾，建立日常保洁机制"), ("村寨垃圾收集点渗滤液外溢", "改造垃圾收集点"),
    ("饮用水源一级保护区隔离防护网破损", "修复隔离防护网"), ("二级保护区界标缺失", "补设界标和警示牌"),
    ("规模以下养殖户畜禽粪污直排", "督促配套粪污处理设施"), ("入湖支流排污口未登记", "排查登记并规范整治"),
    ("涉渔“三无”船舶停靠", "清理取缔“三无”船舶"), ("工业园区雨污混排", "实施雨污分流改造"),
)
PLACES = {"gy": ("清镇市红枫湖镇", "花溪区", "白云区", "观山湖区百花湖"), "as": ("平坝区", "西秀区", "安顺高新区"),
          "ga": ("高峰镇", "马场镇", "湖潮乡")}


@dataclass(frozen=True)
class Step:
    """One thing someone may do to a case in a state."""

    event: str
    actor: str  # office | office_head | convenor | party:<role> | chief (the case's procuratorate) | creator
    when: tuple[str, int, int] = ("entered", 1, 3)  # days after entering the state, or ("due", lo, hi)
    late: float = 0.0  # chance it is done 3–45 days after the due date instead
    never: float = 0.0  # chance it is never done
    weight: float = 1.0
    payload: Callable[[Sim, CaseRow], dict[str, Any]] | None = None
    applies: Callable[[Sim, CaseRow], bool] | None = None
    then: Callable[[Sim, CaseRow], None] | None = None


@dataclass
class Plan:
    version: int
    at: datetime | None
    step: Step | None
    refusals: int = 0
    recheck: date | None = None  # nothing applies yet (e.g. decisions still open): look again then


@dataclass
class Report:
    year: int
    seed: int
    until: date | None = None
    seconds: float = 0.0
    events: int = 0
    refused: Counter = field(default_factory=Counter)
    by_state: Counter = field(default_factory=Counter)
    overdue: Counter = field(default_factory=Counter)
    late: Counter = field(default_factory=Counter)  # deadlines missed during the year
    cards: dict[str, Counter] = field(default_factory=dict)
    unit_names: dict[str, str] = field(default_factory=dict)
    links: Counter = field(default_factory=Counter)
    stubborn: str = ""
    problems: list[str] = field(default_factory=list)
    timers: Counter = field(default_factory=Counter)
    milestones: Counter = field(default_factory=Counter)

    def render(self) -> str:
        span = f"{self.year}" if self.until == date(self.year, 12, 31) else f"{self.year} to {self.until}"
        out = [f"gongzhi simulate — 两湖专班 {span}, seed {self.seed}: {self.seconds:.1f} s",
               f"{self.events} events fired by people, {self.timers['fired']} by the clock "
               f"({self.timers['expired']} expiries, {self.timers['ladders_opened']} ladders opened); "
               f"persistently late: {self.unit_names.get(self.stubborn, self.stubborn)}",
               "Milestones: " + ", ".join(f"{label} {self.milestones[label]}" for *_, label in MILESTONES), "",
               "Cases by workflow and final state", f"{'workflow':<20}{'state':<26}{'cases':>6}"]
        for (workflow, state), n in sorted(self.by_state.items()):
            out.append(f"{workflow:<20}{state:<26}{n:>6}")
        out.append(f"{'total':<46}{sum(self.by_state.values()):>6}")
        columns = ("overdue", "missed", "黄牌", "红牌", "通报", "约谈", "移交")
        out += ["", f"Late units: items overdue at the end of {self.until} (by the lead unit of the late role), "
                "deadlines missed during the year, and the ladder's cards",
                _pad("unit", 24) + "".join(_pad(c, 8, right=True) for c in columns)]
        units = {u for u in set(self.overdue) | set(self.late) | set(self.cards)
                 if self.overdue[u] or self.late[u] or sum(self.cards.get(u, Counter()).values())}
        for unit in sorted(units, key=lambda u: (-self.overdue[u], -self.late[u], u)):
            c = self.cards.get(unit, Counter())
            values = (self.overdue[unit], self.late[unit], c["yellow"], c["red"], c["circular"], c["summons"],
                      c["transfer"])
            out.append(_pad(self.unit_names.get(unit, unit), 24) + "".join(_pad(str(v), 8, right=True) for v in values))
        out.append(_pad("total", 24) + _pad(str(sum(self.overdue.values())), 8, right=True)
                   + _pad(str(sum(self.late.values())), 8, right=True))
        out += ["", "Links between cases: " + ", ".join(f"{k} {n}" for k, n in sorted(self.links.items()))]
        if self.refused:
            out.append("Refused attempts (retried later): " + ", ".join(f"{k} {n}" for k, n in
                                                                         sorted(self.refused.items())))
        out.append("verify: " + ("OK, every case replays to its state and every hash chain holds" if not self.problems
                                 else f"{len(self.problems)} problem(s): {self.problems[:3]}"))
        return "\n".join(out)


def _pad(text: str, width: int, right: bool = False) -> str:
    """Justify in `width` terminal columns, a CJK character taking two."""
    fill = " " * max(1, width - len(text) - sum(1 for ch in text if ord(ch) > 0x2E80))
    return fill + text if right else text + fill


# --- payload builders ---------------------------------------------------------------------------


def _text(sim: Sim) -> tuple[str, str]:
    return sim.rng.choice(PROBLEMS)


def _due(sim: Sim, lo: int, hi: int) -> str:
    return (sim.today + timedelta(days=sim.rng.randint(lo, hi))).isoformat()


def _local_government(sim: Sim, city: str | None = None) -> str:
    return sim.rng.choice([u for u in sim.local_governments() if city is None or sim.units[u][1] == city])


def self_inspection(sim: Sim, case: CaseRow) -> dict[str, Any]:
    if case.data.get("kind") != "self_inspection":
        return {"content": f"{case.title}：按期报送"}
    reporter = case.parties["reporter"][0]
    city = sim.units[reporter][1] or "gy"
    problems = []
    for _ in range(sim.rng.choices((0, 1, 2), (0.75, 0.2, 0.05))[0]):
        text, _m = _text(sim)
        roll = sim.rng.random()
        if roll < 0.5:
            problems.append({"text": text, "location": sim.rng.choice(PLACES[city]), "own_remit": True,
                             "due": _due(sim, 30, 75)})
        else:
            other = sim.rng.choice([c for c in PLACES if c != city]) if roll > 0.7 else city
            receiver = sim.rng.choice([u for u in sim.local_governments() if sim.units[u][1] == other and u != reporter])
            problems.append({"text": text, "location": sim.rng.choice(PLACES[other]), "own_remit": False,
                             "receiver": receiver, "cross_city": other != city})
    return {"content": f"{case.title}：排查发现问题{len(problems)}个", "problems": problems}


def maybe_anomaly(sim: Sim, case: CaseRow) -> None:
    """A monthly water-data report sometimes shows an anomaly, reported at once."""
    if case.data.get("kind") != "water_data" or sim.rng.random() > 0.06:
        return
    reporter = case.parties["reporter"][0]
    seen = datetime.combine(sim.today, time(7, sim.rng.randint(10, 50)), tzinfo=LOCAL_TZ)
    sim.start("anomaly_report", sim.member(reporter), f"{sim.name(reporter)}监测断面水质异常", kind="water_quality",
              section="红枫湖入湖支流交界断面", parameter=sim.rng.choice(("氨氮", "总磷", "高锰酸盐指数")),
              detected_at=seen.isoformat(), description="监测值超过Ⅲ类标准", source=case.number)


def recipients(sim: Sim, case: CaseRow) -> dict[str, Any]:
    reporter = case.parties["reporter"][0]
    others = [u for u in ("gy_sthjj", "as_sthjj", "ga_sthjj", OFFICE_UNIT) if u != reporter]
    return {"recipients": others, "content": f"{case.data['section']}{case.data.get('parameter', '')}异常，已启动加密监测"}


def anomaly_problem(sim: Sim, case: CaseRow) -> dict[str, Any]:
    top = sim.units[case.parties["reporter"][0]][1] or "gy"
    return {"responsible_unit": _local_government(sim, top), "due": _due(sim, 30, 60), "measures": "排查污染来源并整治"}


def agenda_item(sim: Sim, case: CaseRow) -> dict[str, Any]:
    first = not case.data.get("agenda_items")
    if first and case.data.get("kind") == "plenary" and case.data.get("period", "").endswith("H1"):
        return {"item": "研究红枫湖饮用水源保护区优化调整", "owner": "gy_swj", "major": True}
    text, _ = _text(sim)
    return {"item": f"{text}专项整治推进情况", "owner": sim.rng.choice(FOUR)}


def notice(sim: Sim, case: CaseRow) -> dict[str, Any]:
    at = datetime.combine(sim.workday(sim.today + timedelta(days=7)), time(9, 30), tzinfo=LOCAL_TZ)
    body = {"meeting_name": case.title, "meeting_at": at.isoformat(), "venue": "贵阳市水务局三楼会议室",
            "agenda": [i["item"] for i in case.data.get("agenda_items", [])], "reply_by": (at.date() - timedelta(
                days=2)).isoformat(), "contact": "专班办公室 0851-00000000"}
    if case.data.get("kind") != "plenary":
        owners = {i.get("owner") for i in case.data.get("agenda_items", []) if i.get("owner")} - {OFFICE_UNIT}
        body["invitees"] = sorted(owners | set(sim.rng.sample(sorted(sim.members), 4)))
    return body


def hold(sim: Sim, case: CaseRow) -> dict[str, Any]:
    kind = case.data.get("kind")
    if kind == "plenary":
        chair = sim.rng.choice((("贵阳市人民政府市长", "组长", None), ("贵阳市人民政府分管生态环境的副市长", "常务副组长",
                                                                         "组长（贵阳市人民政府市长）")))
    else:
        chair = ("贵阳市水务局主要负责人", "副组长", None)
    invited = case.parties.get("invited") or sorted(sim.members)
    attendees = [u for u in invited if sim.rng.random() > 0.08] or invited[:1]
    body = {"chair": chair[0], "chair_position": chair[1], "attendees": attendees,
            "absentees": [u for u in invited if u not in attendees]}
    if chair[2]:
        body["delegated_by"] = chair[2]
    if case.parties.get("observer"):
        body["observers"] = case.parties["observer"]
    return body


def minutes(sim: Sim, case: CaseRow) -> dict[str, Any]:
    decisions = []
    for item in case.data.get("agenda_items", []):
        source = item.get("source")
        if source:  # an escalated referral: the meeting designates who handles it
            with sim.cases.db.read() as conn:
                ref = sim.cases.load(conn, sim.number_to_id(source))
            unit = ref.data.get("proposed_receiver") or _local_government(sim)
            decisions.append({"text": f"{item['item']}，由{sim.name(unit)}牵头办理", "responsible_unit": unit,
                              "due": _due(sim, 30, 60), "case": source})
    for _ in range(sim.rng.randint(1, 3)):
        text, measures = _text(sim)
        decisions.append({"text": f"{measures}（{text}）", "responsible_unit": _local_government(sim),
                          "co_units": [sim.rng.choice(FOUR)], "due": _due(sim, 30, 100)})
    return {"summary": ["会议听取了专班办公室关于“两湖”保护治理工作情况的汇报，研究了有关事项。"], "decisions": decisions}


def next_meeting(sim: Sim, case: CaseRow) -> dict[str, Any]:
    return {"meeting": sim.open_meeting(), "reason": "跨市问题经统筹协调未能解决，提请联席会议研究"}


def inspection_list(sim: Sim, case: CaseRow) -> dict[str, Any]:
    problems = []
    for _ in range(sim.rng.randint(2, 4)):
        text, measures = _text(sim)
        city = sim.rng.choice(("gy", "gy", "as", "ga"))
        problems.append({"text": text, "location": sim.rng.choice(PLACES[city]), "source": "红枫湖饮用水源保护区",
                         "measures": measures, "responsible_unit": _local_government(sim, city),
                         "co_units": [sim.rng.choice(FOUR)], "due": _due(sim, 45, 90)})
    return {"plan_name": f"{case.title}问题整改方案", "plan_body": ["一、总体要求", "二、整改措施", "三、工作要求"],
            "problems": problems}


def lookback(sim: Sim, case: CaseRow) -> dict[str, Any]:
    number = sim.lookback_due(case)[0]
    relapsed = sim.rng.random() < 0.15
    return {"problem_no": number, "finding": "问题反弹" if relapsed else "整改成效巩固", "done": not relapsed}


def organise(sim: Sim, case: CaseRow) -> dict[str, Any]:
    action = (sim.today + timedelta(days=sim.rng.randint(5, 15))).isoformat()
    if case.data.get("kind") == "comprehensive":
        sectors = sim.rng.sample(SECTORS, sim.rng.randint(2, 4))
        by_sector = {"生态环境": "gy_sthjj", "水务": "gy_swj", "农业农村": "as_nyncj", "综合行政执法": "ga_zhzfzd",
                     "交通": "as_jtysj"}
        return {"participants": [by_sector[s] for s in sectors], "sectors": sectors, "plan": "综合性联合执法方案",
                "action_date": action}
    return {"participants": case.parties.get("participant") or case.parties["organiser"],
            "sectors": [case.data.get("sector", "生态环境")], "plan": "行业联合执法方案", "action_date": action}


def enforcement_findings(sim: Sim, case: CaseRow) -> dict[str, Any]:
    findings = []
    for _ in range(sim.rng.choices((0, 1, 2), (0.6, 0.3, 0.1))[0]):
        text, measures = _text(sim)
        findings.append({"text": text, "responsible_unit": _local_government(sim), "measures": measures,
                         "due": _due(sim, 30, 60)})
    return {"summary": "检查企业、养殖场和船舶，依法查处违法行为", "cases_filed": sim.rng.randint(0, 5),
            "findings": findings}


def red(sim: Sim, case: CaseRow) -> dict[str, Any]:
    return {"supervision_situation": f"{case.data.get('item')}逾期10个工作日仍未办结",
            "supervision_demand": "限5个工作日内办结并书面报告", "supervision_reply_by": _due(sim, 7, 7)}


def summons(sim: Sim, case: CaseRow) -> dict[str, Any]:
    unit = case.parties["supervised"][0]
    at = datetime.combine(sim.today + timedelta(days=3), time(15), tzinfo=LOCAL_TZ)
    return {"summons_at": at.isoformat(), "summons_venue": "贵阳市人民政府会议室", "summons_host": "常务副组长",
            "summoned_person": f"{sim.name(unit)}主要负责人", "summons_reason": "经通报仍未办结",
            "summons_demands": ["限期办结"], "summons_due": _due(sim, 20, 20)}


def clue_from_ladder(sim: Sim, case: CaseRow) -> dict[str, Any]:
    unit = case.parties["supervised"][0]
    return {"procuratorate": PROCURATORATES.get(sim.units[unit][1] or "gy", "gy_jcy"),
            "reason": f"{sim.name(unit)}经红牌督办仍不依法履职，“两湖”水环境持续受损"}


def ladder_to_procuratorate(sim: Sim, case: CaseRow) -> bool:
    unit = case.parties.get("supervised", [None])[0]
    return (unit == sim.stubborn or sim.rng.random() < 0.1) and sim.units.get(unit, ("", ""))[0] in (
        "government", "department") and not sim.referred_clue(case)


def decide_file(sim: Sim, case: CaseRow) -> dict[str, Any]:
    return {"agency": case.parties.get("agency", [sim.stubborn])[0], "harm": "“两湖”饮用水源受到污染威胁",
            "duty": "属地水污染防治监督管理职责"}


def investigation_end(sim: Sim, case: CaseRow) -> dict[str, Any]:
    recommend = case.parties.get("agency", [None])[0] == sim.stubborn or sim.rng.random() < 0.8
    return {"proposal": "发出检察建议" if recommend else "终结案件", "report": "调查终结报告"}


def review_end(sim: Sim, case: CaseRow) -> dict[str, Any]:
    sue = case.parties.get("agency", [None])[0] == sim.stubborn or case.data.get("reply_overdue")
    return {"proposal": "提起诉讼" if sue else "终结案件", "report": "审查终结报告"}


def stubborn_agency(sim: Sim, case: CaseRow) -> bool:
    return case.parties.get("agency", [None])[0] == sim.stubborn


def has_agenda(sim: Sim, case: CaseRow) -> bool:
    return bool(case.data.get("agenda_items"))


def agenda_open(sim: Sim, case: CaseRow) -> bool:
    return len(case.data.get("agenda_items", [])) < 2


def far_from_due(sim: Sim, case: CaseRow) -> bool:
    return case.due_at is not None and case.due_at - sim.now() > timedelta(days=35)


def near_due(sim: Sim, case: CaseRow) -> bool:
    return not far_from_due(sim, case)


def one(event: str, actor: str, **kw: Any) -> list[Step]:
    return [Step(event, actor, **kw)]


DUE_SOON = ("due", -12, -1)

RULES: dict[str, dict[str, list[Step]]] = {
    "duty_report": {
        "pending": one("submit", "party:reporter", when=("due", -8, 0), late=0.06, never=0.01, payload=self_inspection,
                       then=maybe_anomaly),
        "returned": one("submit", "party:reporter", when=("entered", 1, 4), payload=self_inspection),
        "submitted": [Step("accept", "office", weight=0.95), Step(
            "return", "office", weight=0.05, payload=lambda s, c: {"reason": "数据不完整", "due": _due(s, 5, 5)})],
    },
    "meeting": {
        "scheduled": [
            Step("propose_item", "office", when=("due", -75, -45), payload=agenda_item, applies=agenda_open),
            Step("approve_agenda", "convenor", when=("due", -40, -20), late=0.08, applies=has_agenda, weight=2),
        ],
        "agenda_approved": one("issue_notice", "office", when=("entered", 1, 3), payload=notice),
        "notice_issued": [Step("hold", "office", when=("meeting", 0, 0), payload=hold, weight=0.95),
                          Step("postpone", "convenor", when=("entered", 1, 2), weight=0.05, payload=lambda s, c: {
                              "new_due": max(c.data["due"], _due(s, 20, 20)), "reason": "主要领导公务冲突"})],
        "held": one("draft_minutes", "office", when=("entered", 1, 2), payload=minutes),
        "minutes_draft": one("submit_minutes", "office", when=("entered", 0, 1)),
        "minutes_review": [Step("issue_minutes", "convenor", when=("entered", 1, 3), weight=0.9),
                           Step("return_minutes", "convenor", when=("entered", 1, 2), weight=0.1,
                                payload=lambda s, c: {"reason": "请补充责任单位"})],
        "tracking": one("close", "office", when=("entered", 0, 5), applies=lambda s, c: s.decisions_done(c)),
    },
    "action_item": {
        "open": [Step("report_done", "party:responsible", when=DUE_SOON, late=0.12, never=0.03,
                      payload=lambda s, c: {"result": "已按期完成", "evidence": ["完成情况报告"]}),
                 Step("request_extension", "party:responsible", when=("due", -10, -5), weight=0.08,
                      applies=lambda s, c: not c.data.get("asked"),
                      payload=lambda s, c: {"new_due": (local_date(c.due_at) + timedelta(days=30)).isoformat(),
                                            "reason": "涉及工程建设，需延长工期"})],
        "extension_pending": [Step("grant_extension", "office_head", weight=0.7,
                                   payload=lambda s, c: {"new_due": (local_date(c.due_at) + timedelta(days=30)).isoformat()}),
                              Step("deny_extension", "office_head", weight=0.3,
                                   payload=lambda s, c: {"reason": "理由不充分"})],
        "done_reported": [Step("verify_pass", "office", weight=0.9),
                          Step("return_for_redo", "office", weight=0.1,
                               payload=lambda s, c: {"reason": "尚未完全落实", "due": _due(s, 20, 30)})],
    },
    "problem_item": {
        "listed": one("submit_plan", "party:responsible", when=("entered", 3, 12), late=0.05,
                      payload=lambda s, c: {"measures": c.data.get("measures") or "制定整改措施并组织实施",
                                            "category": s.rng.choice(("立行立改", "限期整改", "限期整改", "长期整改"))}),
        "plan_submitted": [Step("approve_plan", "office", weight=0.9), Step(
            "return_plan", "office", weight=0.1, payload=lambda s, c: {"reason": "整改措施不具体"})],
        "rectifying": [
            Step("report_progress", "party:responsible", when=("entered", 26, 31), applies=far_from_due,
                 payload=lambda s, c: {"progress": "按方案推进整改"}),
            Step("apply_close", "party:responsible", when=DUE_SOON, late=0.12, never=0.03, applies=near_due,
                 payload=lambda s, c: {"evidence": ["整改前后对比照片", "监测数据"]}),
        ],
        "extension_pending": [Step("grant_extension", "office_head", weight=0.6,
                                   payload=lambda s, c: {"new_due": (local_date(c.due_at) + timedelta(days=30)).isoformat()}),
                              Step("deny_extension", "office_head", weight=0.4, payload=lambda s, c: {"reason": "不予延期"})],
        "close_requested": one("assign_verifiers", "office", payload=lambda s, c: {"verifiers": [s.rng.choice(
            [u for u in FOUR if u not in c.parties.get("responsible", [])])]}),
        "verifying": [Step("verify_pass", "party:verifier", when=("entered", 2, 8), weight=0.85,
                           payload=lambda s, c: {"finding": "现场核查达到销号标准"}),
                      Step("verify_fail", "party:verifier", when=("entered", 2, 8), weight=0.15,
                           payload=lambda s, c: {"reason": "现场仍有问题", "due": _due(s, 20, 30)})],
    },
    "joint_inspection": {
        "planned": one("conduct", "party:inspecting", when=("due", -50, -20), late=0.05,
                       payload=lambda s, c: {"summary": "四部门联合排查红枫湖、百花湖沿岸", "focus": ["污水", "垃圾", "隔离防护设施"]}),
        "conducted": [Step("lookback", "office", when=("entered", 0, 1), payload=lookback,
                           applies=lambda s, c: bool(s.lookback_due(c))),
                      Step("issue_list", "office", when=("entered", 2, 4), payload=inspection_list,
                           applies=lambda s, c: not s.lookback_due(c))],
        "list_issued": one("close", "office", when=("entered", 1, 3)),
    },
    "referral": {
        "draft": [Step("refer", "party:referrer", payload=lambda s, c: {
            "receiver": c.data.get("proposed_receiver") or _local_government(s), "reason": "属地管理",
            "due": _due(s, 25, 40)}, applies=lambda s, c: not c.data.get("cross_city")),
                  Step("report_to_office", "party:referrer", applies=lambda s, c: bool(c.data.get("cross_city")),
                       payload=lambda s, c: {"reason": "涉及跨市问题，报专班办公室统筹协调"})],
        "referred": [Step("accept", "party:receiver", when=("entered", 1, 2), late=0.05, weight=0.85),
                     Step("object", "party:receiver", when=("entered", 1, 3), weight=0.15,
                          applies=lambda s, c: not c.data.get("designated"),
                          payload=lambda s, c: {"reason": "该问题不属本单位职责"})],
        "objected": [Step("reassign", "office", weight=0.4, payload=lambda s, c: {
            "receiver": s.rng.choice([u for u in s.local_governments() if u not in c.parties["receiver"]]),
            "reason": "改由属地政府办理"}),
                     Step("designate", "office", weight=0.6, payload=lambda s, c: {"reason": "属地管理，指定办理"})],
        "accepted": one("start_work", "party:receiver", when=("entered", 0, 2)),
        "in_progress": [Step("report_result", "party:receiver", when=DUE_SOON, late=0.12, never=0.03,
                             payload=lambda s, c: {"result": "已办结", "evidence": ["办理情况报告"]})],
        "extension_pending": one("grant_extension", "office", payload=lambda s, c: {
            "new_due": (local_date(c.due_at) + timedelta(days=20)).isoformat()}),
        "result_reported": [Step("verify_pass", "office", weight=0.9),
                            Step("return_for_redo", "office", weight=0.1, payload=lambda s, c: {
                                "reason": "办理不到位", "due": _due(s, 15, 20)})],
        "coordinating": [Step("coordinate_designate", "office", when=("entered", 5, 12), weight=0.5, payload=lambda s, c: {
            "receiver": c.data.get("proposed_receiver") or _local_government(s), "reason": "协调确定由属地办理"}),
                         Step("escalate_to_meeting", "office_head", when=("entered", 10, 14), weight=0.5,
                              payload=next_meeting)],
    },
    "supervision": {
        "red_proposed": [Step("approve_red", "office_head", weight=0.85, payload=red),
                         Step("decline_red", "office_head", weight=0.15, payload=lambda s, c: {"reason": "已说明客观原因"})],
        "red": one("refer_to_procuratorate", "office_head", when=("entered", 3, 8), payload=clue_from_ladder,
                   applies=ladder_to_procuratorate),
        "circular_proposed": [Step("approve_circular", "convenor", weight=0.85, payload=lambda s, c: {
            "circular_title": f"关于{s.name(c.parties['supervised'][0])}逾期未办结事项的通报",
            "circular_body": ["一、基本情况", "二、存在问题", "三、工作要求"]}),
                              Step("decline_circular", "convenor", weight=0.15, payload=lambda s, c: {"reason": "已基本办结"})],
        "summons_proposed": one("approve_summons", "convenor", when=("entered", 2, 5), payload=summons),
        "transfer_proposed": one("approve_transfer", "convenor", when=("entered", 3, 6),
                                 payload=lambda s, c: {"reason": "约谈后仍未整改到位"}),
    },
    "pil_case": {
        "clue_submitted": one("register_clue", "party:procuratorate", when=("entered", 2, 5)),
        "evaluating": [Step("decide_file", "chief", when=("entered", 5, 12), weight=0.8, payload=decide_file),
                       Step("decide_not_file", "chief", when=("entered", 5, 12), weight=0.2,
                            applies=lambda s, c: not stubborn_agency(s, c), payload=lambda s, c: {"reason": "不符合立案条件"})],
        "filed": one("serve_filing", "party:procuratorate", when=("entered", 1, 5),
                     payload=lambda s, c: {"served_on": s.today.isoformat()}),
        "investigating": [
            Step("consult", "party:procuratorate", when=("entered", 3, 8), weight=0.3,
                 applies=lambda s, c: not c.data.get("consultation_minutes"),
                 payload=lambda s, c: {"form": "磋商座谈会", "topics": "整改方案"}),
            Step("propose_hearing", "party:procuratorate", when=("entered", 3, 8), weight=0.1,
                 applies=lambda s, c: not s.hearing_of(c), payload=lambda s, c: {"matter": "整改方案是否可行", "public": True}),
            Step("conclude_investigation", "party:procuratorate", when=("entered", 15, 30), payload=investigation_end),
        ],
        "consulting": one("end_consultation", "party:procuratorate", when=("entered", 5, 10),
                          payload=lambda s, c: {"minutes": "行政机关承诺限期整改"}),
        "investigation_concluded": [
            Step("decide_recommendation", "chief", applies=lambda s, c: s.last(c, "proposal") == "发出检察建议",
                 payload=lambda s, c: {"recommendation_points": ["依法履行监督管理职责", "限期完成整改"],
                                       "urgent": s.rng.random() < 0.2}),
            Step("terminate", "chief", applies=lambda s, c: s.last(c, "proposal") == "终结案件",
                 payload=lambda s, c: {"ground": "国家利益或社会公共利益已得到有效保护"})],
        "recommendation_decided": one("serve_recommendation", "party:procuratorate", when=("entered", 1, 2),
                                      payload=lambda s, c: {"served_on": s.today.isoformat(),
                                                            "recommendation_no": f"检建〔{s.year}〕{c.id}号"}),
        "awaiting_reply": one("record_reply", "party:procuratorate", when=("entered", 20, 50),
                              applies=lambda s, c: not stubborn_agency(s, c),
                              payload=lambda s, c: {"reply_received_on": s.today.isoformat(),
                                                    "reply_summary": "已制定整改方案并推进落实"}),
        "follow_up": one("conclude_review", "party:procuratorate", when=("entered", 15, 25), payload=review_end),
        "review_concluded": [
            Step("close_performed", "chief", applies=lambda s, c: s.last(c, "proposal") == "终结案件",
                 payload=lambda s, c: {"note": "行政机关已依法履职"}),
            Step("start_prosecution_review", "chief", applies=lambda s, c: s.last(c, "proposal") == "提起诉讼",
                 payload=lambda s, c: {"situation": "逾期不回复且未采取有效措施", "interest_still_harmed": True})],
        "prosecution_review": one("file_suit", "chief", when=("entered", 10, 20),
                                  payload=lambda s, c: {"court": "清镇市人民法院", "claims": ["确认违法", "责令依法履行职责"]}),
        "suit_filed": one("court_accepts", "party:procuratorate", when=("entered", 5, 10),
                          payload=lambda s, c: {"accepted_on": s.today.isoformat()}),
        "in_trial": one("judgment", "party:procuratorate", when=("entered", 30, 60),
                        payload=lambda s, c: {"outcome": "责令履行职责", "judged_on": s.today.isoformat()}),
        "judged": one("close", "party:procuratorate", when=("entered", 10, 20), payload=lambda s, c: {"note": "判决已生效"}),
    },
    "hearing": {
        "proposed": one("approve", "chief"),
        "approved": one("schedule", "party:procuratorate", payload=lambda s, c: {
            "hearing_at": datetime.combine(s.today + timedelta(days=7), time(9), tzinfo=LOCAL_TZ).isoformat(),
            "venue": "检察听证室", "hearing_officers": ["人大代表", "政协委员", "生态环境专家"], "public_notice": True}),
        "scheduled": one("hold", "party:procuratorate", when=("entered", 7, 8), payload=lambda s, c: {"presiding": "承办检察官"}),
        "held": one("record_opinions", "party:procuratorate", payload=lambda s, c: {
            "opinions": ["方案可行", "方案可行", "需补充监测"], "majority_opinion": "方案可行", "follows_majority": True}),
    },
    "enforcement_action": {
        "planned": one("organise", "party:organiser", when=("due", -60, -25), late=0.05, payload=organise),
        "organised": one("conduct", "party:organiser", when=("action", 0, 0), payload=enforcement_findings),
        "conducted": one("notify_each_other", "party:organiser", when=("entered", 1, 3), late=0.08,
                         payload=lambda s, c: {"content": "执法行动情况互相通报"}),
        "notified": one("report_to_office", "party:organiser", when=("entered", 0, 2),
                        payload=lambda s, c: {"report": "联合执法工作开展情况"}),
        "reported": one("acknowledge", "office"),
    },
    "anomaly_report": {
        "detected": one("notify", "party:reporter", when=("entered", 0, 0), late=0.1, payload=recipients),
        "notified": [Step("open_referral", "office", weight=0.4, payload=lambda s, c: {"reason": "查明污染来源"}),
                     Step("open_problem", "office", weight=0.3, payload=anomaly_problem),
                     Step("close", "office", weight=0.3, payload=lambda s, c: {"reason": "复测正常"})],
    },
    "fund_application": {
        "planning": one("submit", "party:lead", when=("due", -20, -5), payload=lambda s, c: {
            "amount": 5000.0, "summary": "贵阳市、安顺市、贵安新区共同谋划"}),
        "submitted": [Step("record_approval", "office", when=("entered", 40, 60), weight=0.7,
                           payload=lambda s, c: {"amount_approved": 3000.0}),
                      Step("record_rejection", "office", when=("entered", 40, 60), weight=0.3,
                           payload=lambda s, c: {"reason": "未入选年度项目库"})],
        "approved": one("start_implementation", "party:lead", when=("entered", 10, 20)),
        "implementing": one("complete", "party:lead", when=("entered", 90, 150), payload=lambda s, c: {"result": "项目完工"}),
    },
}


# --- the driver ---------------------------------------------------------------------------------


class Sim:
    """The state of one simulated year: clock, RNG, plans per case."""

    def __init__(self, cases: Cases, clock: FixedClock, year: int, seed: int) -> None:
        self.cases, self.clock, self.year = cases, clock, year
        self.rng = random.Random(seed)
        self.plans: dict[int, Plan] = {}
        self.today = date(year, 1, 1)
        self.tick = 0
        self.looked: dict[int, set[str]] = {}
        self.report = Report(year, seed)
        with cases.db.read() as conn:
            codes = list(conn.execute(select(TaskForceUnit.unit_code).where(TaskForceUnit.task_force_code == TF))
                         .scalars())
            self.members = frozenset(conn.execute(select(TaskForceUnit.unit_code).where(
                TaskForceUnit.task_force_code == TF, TaskForceUnit.member)).scalars()) - {OFFICE_UNIT}
            self.units = units_repo.facts(conn, codes)
            self.names = dict(conn.execute(select(Unit.code, Unit.short_name).where(Unit.code.in_(codes))).all())
        self.stubborn = self.rng.choice(self.local_governments())
        self.report.stubborn, self.report.unit_names = self.stubborn, self.names

    # -- helpers used by the rules --

    def now(self) -> datetime:
        return self.clock.now()

    def name(self, unit: str) -> str:
        return self.names.get(unit, unit)

    def member(self, unit: str) -> Actor:
        roles = ("procurator",) if self.units.get(unit, ("",))[0] == "procuratorate" else ("member",)
        return Actor.of(f"sim-{unit}", unit, *roles, name=f"{self.name(unit)}联络员")

    def workday(self, day: date) -> date:
        cal = self.cases.deadlines.calendar
        return day if cal.is_working_day(day) else cal.next_working_day(day)

    def number_to_id(self, number: str) -> int:
        with self.cases.db.read() as conn:
            return conn.execute(select(Case.id).where(Case.number == number)).scalar_one()

    def start(self, workflow: str, actor: Actor, title: str, parties: dict[str, list[str]] | None = None,
              **payload: Any) -> CaseRow:
        self._advance()
        with self.cases.db.write() as conn:
            return self.cases.start(conn, task_force=TF, workflow=workflow, actor=actor, title=title,
                                    payload=payload, parties=parties)

    def open_meeting(self) -> str:
        """The next meeting still taking agenda items within 45 days; else an ad hoc one is called."""
        soon = datetime.combine(self.today + timedelta(days=45), time(0), tzinfo=LOCAL_TZ)
        with self.cases.db.read() as conn:
            number = conn.execute(
                select(Case.number).join(Definition, Definition.id == Case.definition_id)
                .where(Case.task_force_code == TF, Definition.name == "meeting", Case.due_at <= soon,
                       Case.state.in_(("scheduled", "agenda_approved"))).order_by(Case.due_at, Case.id)).scalar()
        if number is None:
            # The office organises it: a meeting's holding deadline needs a unit that owes it.
            number = self.start("meeting", self.actor("office", None), f"{self.today:%Y年%-m月}联席会议临时会议",
                                parties={"organiser": [OFFICE_UNIT]}, kind="ad_hoc", due=(self.today + timedelta(days=30)).isoformat(),
                                topic="研究跨市问题").number
        return number

    def lookback_due(self, case: CaseRow) -> list[str]:
        """Closed-out problem items this inspection has not yet looked back at."""
        seen = self.looked.setdefault(case.id, set())
        with self.cases.db.read() as conn:
            numbers = conn.execute(select(Case.number).join(Definition, Definition.id == Case.definition_id).where(
                Case.task_force_code == TF, Definition.name == "problem_item", Case.state == "closed_out")
                .order_by(Case.id)).scalars().all()
        # A 回头看 samples up to five closed-out items per inspection.
        return [n for n in numbers if n not in seen][:max(0, 5 - len(seen))]

    def referred_clue(self, case: CaseRow) -> bool:
        with self.cases.db.read() as conn:
            return any(kind == "clue" for _, kind, _, _ in links(conn, case.id))

    def local_governments(self) -> list[str]:
        return sorted(u for u, (kind, top) in self.units.items()
                      if kind == "government" and top and u not in ("gy_gov", "as_gov", "ga_gov"))

    def decisions_done(self, case: CaseRow) -> bool:
        with self.cases.db.read() as conn:
            return all(self.cases.load(conn, other).closed for _, kind, other, _ in links(conn, case.id)
                       if kind == "decision")

    def hearing_of(self, case: CaseRow) -> bool:
        with self.cases.db.read() as conn:
            return any(kind == "hearing" for _, kind, _, _ in links(conn, case.id))

    def last(self, case: CaseRow, key: str) -> Any:
        """A value from the case's latest event payload that carried it."""
        with self.cases.db.read() as conn:
            rows = self.cases.history(conn, case.id)
        for row in reversed(rows):
            if key in row.payload:
                return row.payload[key]
        return None

    def actor(self, who: str, case: CaseRow | None) -> Actor:
        if who == "office":
            return Actor.of("sim-office", OFFICE_UNIT, "office", name="专班办公室")
        if who == "office_head":
            return Actor.of("sim-office-head", OFFICE_UNIT, "office_head", name="专班办公室负责人")
        if who == "convenor":
            return Actor.of("sim-convenor", "gy_gov", "convenor", name="召集人")
        if who == "chief":
            unit = case.parties["procuratorate"][0]
            return Actor.of(f"sim-chief-{unit}", unit, "chief_procurator", name="检察长")
        role = who.split(":", 1)[1]
        return self.member(case.parties[role][0])

    # -- planning and acting --

    def plan(self, case: CaseRow, workflow: str) -> Plan:
        rules = RULES.get(workflow, {}).get(case.state, [])
        steps = [s for s in rules if s.applies is None or s.applies(self, case)]
        if not steps:
            return Plan(case.version, None, None, recheck=self.today + timedelta(days=7) if rules else None)
        step = self.rng.choices(steps, [s.weight for s in steps])[0]
        kind, lo, hi = step.when
        entered = max(local_date(case.state_entered_at), self.today)
        if kind == "due" and case.due_at is not None:
            day = local_date(case.due_at) + timedelta(days=self.rng.randint(lo, hi))
        elif kind == "meeting":
            day = local_date(moment_of(case.data["meeting_at"]))
        elif kind == "action":
            day = date.fromisoformat(case.data.get("action_date") or self.last(case, "action_date"))
        else:
            day = entered + timedelta(days=self.rng.randint(lo, hi) if kind == "entered" else 0)
        try:
            acting = self.actor(step.actor, case).unit
        except KeyError:  # the party that would act is not on the case: nobody acts
            return Plan(case.version, None, None)
        never = step.never + (0.8 if acting == self.stubborn and step.late else 0)
        roll = self.rng.random()
        if roll < never:
            return Plan(case.version, None, step)
        if roll < never + step.late and case.due_at is not None:
            day = local_date(case.due_at) + timedelta(days=self.rng.randint(3, 45))
        day = self.workday(max(day, self.today))
        return Plan(case.version, datetime.combine(day, time(9), tzinfo=LOCAL_TZ), step)

    def _advance(self) -> None:
        self.tick += 1
        self.clock.set(datetime.combine(self.today, time(9), tzinfo=LOCAL_TZ) + timedelta(seconds=self.tick))

    def act(self) -> None:
        """Everyone does what is planned for today; what today's steps opened or moved may follow today."""
        for _ in range(4):
            if not self._pass():
                return

    def _pass(self) -> int:
        with self.cases.db.read() as conn:
            rows = conn.execute(select(Case.id, Definition.name, Case.version)
                                .join(Definition, Definition.id == Case.definition_id)
                                .where(Case.task_force_code == TF, Case.closed.is_(False)).order_by(Case.id)).all()
        end_of_day = datetime.combine(self.today, time(18), tzinfo=LOCAL_TZ)
        acted = 0
        for case_id, workflow, version in rows:
            plan = self.plans.get(case_id)
            if plan is None or plan.version != version or (plan.recheck and plan.recheck <= self.today):
                with self.cases.db.read() as conn:
                    planned = self.cases.load(conn, case_id)
                plan = self.plans[case_id] = self.plan(planned, workflow)
            if plan.at is None or plan.at > end_of_day or plan.step is None:
                continue
            acted += 1
            with self.cases.db.read() as conn:
                case = self.cases.load(conn, case_id)
            if case.version != plan.version:  # moved since it was planned (e.g. its ladder was cancelled)
                continue
            step = plan.step
            self._advance()
            try:
                payload = step.payload(self, case) if step.payload else {}
                with self.cases.db.write() as conn:
                    self.cases.fire(conn, case, step.event, self.actor(step.actor, case), payload)
            except EngineError as exc:
                self.report.refused[f"{workflow}.{step.event}: {exc.code}"] += 1
                plan.refusals += 1
                plan.at = None if plan.refusals >= 4 else datetime.combine(
                    self.workday(self.today + timedelta(days=7)), time(9), tzinfo=LOCAL_TZ)
                continue
            self.report.events += 1
            if step.then:
                with self.cases.db.read() as conn:
                    moved = self.cases.load(conn, case_id)
                step.then(self, moved)
            if step.event == "lookback":
                self.looked.setdefault(case_id, set()).add(payload["problem_no"])
        return acted

    def own_initiatives(self) -> None:
        """What nobody's calendar creates: the procuratorate's own clue, a joint fund application, emergencies."""
        if self.today == date(self.year, 1, 12):
            top = self.units[self.stubborn][1] or "gy"
            proc = PROCURATORATES.get(top, "gy_jcy")
            self.start("pil_case", self.member(proc), f"{self.name(self.stubborn)}未依法履行饮用水源保护监管职责",
                       facts="履职中发现：红枫湖饮用水源保护区内污水直排，属地政府长期未依法履职", procuratorate=proc,
                       agency=self.stubborn, clue_type="履职中发现")
        if self.today == date(self.year, 3, 2):
            self.start("fund_application", self.actor("office", None), "红枫湖流域水生态保护修复中央资金项目",
                       project="红枫湖流域水生态保护修复", fund="中央水污染防治资金", due=f"{self.year}-05-29",
                       applicants=["gy_gov", "as_gov", "ga_gov"], lead_unit="gy_gov")
        if self.today.day == 20 and self.today.month in (5, 8) and self.rng.random() < 0.8:
            reporter = self.rng.choice(("gy_sthjj", "as_sthjj", "ga_sthjj"))
            seen = datetime.combine(self.today, time(6, 40), tzinfo=LOCAL_TZ)
            self.start("anomaly_report", self.member(reporter), f"{self.name(reporter)}辖区突发环境事件",
                       kind="emergency", section="红枫湖上游入湖河口", detected_at=seen.isoformat(),
                       description="运输车辆侧翻导致油类泄漏入河")

    def run(self, cadences, last: date) -> None:
        while self.today <= last:
            self.clock.set(datetime.combine(self.today, time(0, 5), tzinfo=LOCAL_TZ))
            materialise(self.cases, TF, cadences, self.today, self.today)
            self.tick = 0
            if self.cases.deadlines.calendar.is_working_day(self.today):
                self.own_initiatives()
                self.act()
            # Everything due today fires today, each at its own time (an end-of-day deadline at 23:59:59).
            fired = fire_through(self.cases, self.clock, datetime.combine(self.today, time(23, 54), tzinfo=LOCAL_TZ),
                                 end_of_local_day(self.today))
            for name in ("fired", "expired", "warnings", "ladders_opened", "dropped"):
                self.report.timers[name] += getattr(fired, name)
            self.today += timedelta(days=1)


def run(cases: Cases, clock: FixedClock, *, year: int, seed: int, root, until: date | None = None) -> Report:
    """Simulate `year` (to `until`, default its last day) on an empty two-lakes task force; returns the
    summary and leaves the cases in the database."""
    started = _time.perf_counter()
    sim = Sim(cases, clock, year, seed)
    last = until or date(year, 12, 31)
    sim.run(all_cadences(root).get(TF, []), last)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
    report = sim.report
    report.until = last
    with cases.db.read() as conn:
        for workflow, state, n in conn.execute(
                select(Definition.name, Case.state, func.count()).join(Definition, Definition.id == Case.definition_id)
                .where(Case.task_force_code == TF).group_by(Definition.name, Case.state)):
            report.by_state[(workflow, state)] = n
        for item in due_items(conn, end, task_force=TF, overdue_only=True):
            report.overdue[item.unit] += 1
        start = datetime.combine(date(year, 1, 1), time(0), tzinfo=LOCAL_TZ)
        for unit, card in scorecards(conn, TF, start, end).items():
            report.late[unit] = card.deadlines_late
            report.cards[unit] = card.cards
        for kind, n in conn.execute(select(CaseLink.kind, func.count()).group_by(CaseLink.kind)):
            report.links[kind] = n
        counted = conn.execute(
            select(Definition.name, CaseHistory.event, func.count()).join(Case, Case.id == CaseHistory.case_id)
            .join(Definition, Definition.id == Case.definition_id)
            .where(Case.task_force_code == TF, CaseHistory.kind == "event").group_by(Definition.name, CaseHistory.event))
        fired = {(w, e): n for w, e, n in counted}
        for workflow, event, label in MILESTONES:
            report.milestones[label] = fired.get((workflow, event), 0)
        report.problems = cases.verify(conn)
    report.seconds = _time.perf_counter() - started
    return report
