"""Document kinds: for each, a builder that turns a case record into a frozen template context.

A kind is named in a workflow definition (`documents: [minutes]` on an event). Its builder reads
the case as the issuing event left it (documents/records.py): each key below is looked up first in
that event's payload, then in the case data, so a definition may pass a value with the issuing
event or record it earlier (`record`, `append_item`). Dates are ISO dates ("2026-06-30"), times
ISO date-times (a time without zone is Beijing time), units are unit codes. Keys marked * are
required; the issuing history row gives the document's date, every kind gets its number here.

Where workflows/two_lakes records the same thing under another name, the builder accepts it too
("venue | place"); tests/fixtures/docs/definitions/{joint_meeting,supervision}.v1.yaml record
cases that way.

Every kind
    copy_to            units      抄送 (分送 on minutes)

meeting_notice (会议通知, 文件格式; issuer: the task force office)
    meeting_name       string     default: the case title ("2026年第一季度联席会议专题会议");
                                  the title reads 关于召开…的通知
    meeting_at*        datetime
    venue* | place     string
    agenda | topic     strings, or text (one item a line)
    invitees           units      主送; default 专班各成员单位
    attendance         text       who should attend
    reply_by           date       adds the 参会回执 attachment and asks for it by that date
    contact            string     附注 (联系人、电话)

minutes (会议纪要, 纪要格式; the office)
    meeting_name, venue* | place     as above
    held_at | meeting_at*  datetime  the day it was held
    chair              string     who chaired ("甲市人民政府副市长王某")
    attendees*         strings or units  出席: a unit code (shown as the unit's name) or free text each
    absentees          strings    请假, same form
    observers          strings    列席, same form
    summary            strings, or text (a paragraph a line): after the opening sentence
    decisions          list of {text*, responsible_unit* (unit), co_units (units), due (date)}
                       the numbered 议定事项 (`append_item: {key: decisions, fields: [...]}`)

referral_letter (移送函, 信函格式; the office) — matches workflows/two_lakes/referral
    problem*           text       what was found
    location           string     where
    reason             text       移送理由
    due                date       reply by
    parties            receiver* (主送), referrer (who found it; copied)

rectification_plan (整改方案 with its 问题清单 as a landscape attachment; the office)
    plan_name          string     the title; default "<case title>问题整改方案"
    plan_body* | summary  strings, or text: paragraphs; "一、…" and "（一）…" open headings
    addressees         units      主送; default 专班各成员单位
    problems*          list of {text*, location, source (水源地名称/点位), measures,
                       responsible_unit (unit; default the case's responsible party), co_units, due}
    lookbacks          list of {problem_no*, finding*, done* (boolean), remark} (Excel 回头看 table;
                       the last entry for a problem counts)

The supervision ladder: the supervised unit is `supervised_unit`, else the case's supervised,
responsible or receiver party; the matter `supervision_matter` | `item`, else the case title; the
original deadline `due`, else the case's due date at the issuing row.

supervision_notice (督办单; the office)
    supervision_level  blue | yellow | red   (蓝色: 临期提醒, 黄色: 黄牌督办, 红色: 红牌督办);
                       default: the case's state when it is one of these
    supervision_situation  text  default: the deadline and how many days it is overdue
    supervision_demand     text  督办要求; default: 请抓紧办理，并按时书面反馈办理情况
    supervision_reply_by   date  反馈时限

circular_notice (通报, 文件格式; the office)
    circular_title     string     default: 关于<unit>承办事项逾期未办结情况的通报
    circular_body      strings    default: the ladder's 通报 from the matter, the unit and the dates
    circular_addressees units     主送; default 专班各成员单位

summons_record (约谈记录; the office)
    summoned_person* | summoned   被约谈人
    summons_demands | measures    strings, or text: 整改要求
    summons_due | new_due         date: 整改时限
    summons_at (default: the document date), summons_venue, summons_host (约谈人),
    summons_reason (default from the matter), summoned_unit (unit; default the supervised unit),
    summons_recorder, summons_issues (strings), summons_response (text: 被约谈方表态)

procuratorial_followup (检察建议跟进监督情况表; issuer: the case's procuratorate party)
    recommendation_no*     string   the 检察建议书's own number (issued in the procuratorate's system)
    recommendation_points* strings  the recommendation's points, in order
    served_on*             date     date of service: the reply clock starts here
    reply_due              date     default: served_on + 2 months (+ 15 days when `urgent`)
    urgent                 boolean
    reply_received_on      date     the written reply, once received
    reply_summary          text
    point_states           list of {point* (1-based), state*, note}; the last entry for a point counts
    procurator_name        string   承办检察官
    parties                procuratorate* (issuer), agency* (被建议单位)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta

from documents.records import CaseRecord, MissingData, freeze
from documents.render import UnknownKind, cn_date
from engine.localtime import moment_of, to_local


@dataclass(frozen=True, slots=True)
class Issue:
    """What issuing adds to the record: the document number and date."""

    number: str
    date: dt.date


Builder = Callable[[CaseRecord, Issue], Mapping[str, Any]]


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    template: str
    # Appended to the issuer's prefix to form the 机关代字: "两湖专班办" + "函" → 两湖专班办函〔2026〕1号.
    # Each 代字 counts on its own, as offices number 发文 and 函 separately.
    series: str
    # None: the task force office issues it; else the party role whose unit does.
    issuer_role: str | None
    build: Builder


_KINDS: dict[str, Kind] = {}


def kind(name: str, *, title: str, template: str, series: str = "", issuer_role: str | None = None):
    """Register a builder for a document kind."""

    def deco(fn: Builder) -> Builder:
        _KINDS[name] = Kind(name, title, template, series, issuer_role, fn)
        return fn

    return deco


def kinds() -> Mapping[str, Kind]:
    return _KINDS


def get_kind(name: str) -> Kind:
    found = _KINDS.get(name)
    if found is None:
        raise UnknownKind(f"no builder for document kind {name!r} (known: {', '.join(sorted(_KINDS))})")
    return found


def build(name: str, record: CaseRecord, issue: Issue) -> Mapping[str, Any]:
    """The frozen context of one document."""
    return freeze(get_kind(name).build(record, issue))


# ---- formatting -------------------------------------------------------------------------------

_DIGITS = "零一二三四五六七八九"
_WEEKDAYS = "一二三四五六日"


def cn_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九 (heading numbers)."""
    if not 0 < n < 100:
        raise ValueError(f"no heading numeral for {n}")
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else _DIGITS[tens]) + "十" if tens else "") + (_DIGITS[ones] if ones else "")


def as_date(value: Any) -> dt.date:
    """A recorded date, or the Beijing day of a recorded date-time (not the first ten characters of its
    text: 2026-03-11T20:00:00Z falls on 12 March in Beijing)."""
    if isinstance(value, dt.datetime) or (isinstance(value, str) and len(value) > 10):
        return local_time(value).date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def local_time(value: Any) -> dt.datetime:
    """A stored date-time in Beijing time (one without a zone is Beijing time: `engine.localtime.aware`)."""
    return to_local(moment_of(value if isinstance(value, dt.datetime) else str(value)))


def cn_datetime(value: Any) -> str:
    """"2026年3月12日（星期四）上午9:30", as notices write a meeting's time."""
    t = local_time(value)
    if t.hour < 12:
        half, hour = "上午", t.hour
    elif t.hour == 12:
        half, hour = "中午", 12
    else:
        half, hour = "下午", t.hour - 12
    return f"{cn_date(t.date())}（星期{_WEEKDAYS[t.weekday()]}）{half}{hour}:{t.minute:02d}"


def sentence(text: str) -> str:
    """Text ending in full-width punctuation (a "。" is added when it ends in none)."""
    text = text.strip()
    return text if not text or text[-1] in "。！？；：…”）" else text + "。"


_HEADING = re.compile(r"^(?:(?P<l1>[一二三四五六七八九十]+、)|(?P<l2>（[一二三四五六七八九十]+）))")


def blocks(paragraphs: Iterable[str]) -> tuple[Any, ...]:
    """Paragraphs as body blocks: "一、…" opens a 黑体 heading, "（一）…" a 楷体 one.

    A heading line that runs on into text ("（一）强化组织领导。相关街道…") keeps its first sentence
    in the heading face and the rest in 仿宋, as GB/T 9704 documents set it.
    """
    out: list[Any] = []
    for text in paragraphs:
        text = text.strip()
        if not text:
            continue
        m = _HEADING.match(text)
        if not m:
            out.append(text)
            continue
        level = 1 if m.group("l1") else 2
        head, stop, rest = text.partition("。")
        if stop and rest:
            out.append({"level": level, "text": head + stop, "rest": rest})
        else:
            out.append({"level": level, "text": text})
    return tuple(out)


def names_or(record: CaseRecord, codes: Sequence[str] | None, default: str) -> tuple[str, ...]:
    return record.unit_names(codes) or (default,)


def mention(record: CaseRecord, entries: Sequence[str] | None) -> str:
    """出席/请假/列席 lists: a unit code is shown as the unit's name, anything else as written."""
    return "、".join(record.unit(e).name if e in record.units else e for e in entries or ())


def _common(record: CaseRecord, issue: Issue) -> dict[str, Any]:
    """What every office document shares: number, date, 署名, 版记."""
    tf = record.task_force
    return {
        "doc_number": issue.number,
        "date": issue.date,
        "signature": tf.office_title,
        "copy_to": record.unit_names(record.get("copy_to")),
        "printer": tf.office_title,
        "printed_on": issue.date,
    }


def _office_name(record: CaseRecord) -> str:
    """The office's full name (发文机关标志), or how it signs when no office unit is recorded."""
    office = record.task_force.office
    return office.name if office else record.task_force.office_title


def _office_mark(record: CaseRecord) -> str:
    return _office_name(record) + "文件"


def _members(record: CaseRecord) -> str:
    return f"{record.task_force.short_name}各成员单位"


def _responsible(record: CaseRecord, key: str) -> str | None:
    """A unit named by `key`, else the case's supervised, responsible or receiver party."""
    code = record.get(key)
    if code:
        return code
    for role in ("supervised", "responsible", "receiver"):
        if record.party(role):
            return record.party(role)[0]
    return None


def first(record: CaseRecord, *keys: str) -> Any:
    """The value of the first of `keys` the record has (a key and the other names workflows use for it)."""
    return next((value for value in map(record.get, keys) if value not in (None, "", ())), None)


def first_required(record: CaseRecord, *keys: str) -> Any:
    value = first(record, *keys)
    if value is None:
        raise MissingData(f"case {record.case_number}: none of {', '.join(map(repr, keys))} in the case data "
                          "or the event")
    return value


def paragraphs_of(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Text as paragraphs: a list as given, a text split at its line breaks."""
    if value is None:
        return ()
    items = value.splitlines() if isinstance(value, str) else value
    return tuple(p.strip() for p in items if p.strip())


def meeting_name(record: CaseRecord) -> str:
    """meeting_name, else the case title ("2026年第一季度联席会议专题会议", as cadences name meetings)."""
    return record.get("meeting_name") or record.title


def original_due(record: CaseRecord) -> dt.date | None:
    """The deadline a supervision is about: a recorded `due`, else the case's due date."""
    due = record.get("due") or record.due_at
    return as_date(due) if due else None


# ---- 会议通知 -----------------------------------------------------------------------------------


@kind("meeting_notice", title="会议通知", template="notice")
def meeting_notice(record: CaseRecord, issue: Issue) -> dict[str, Any]:
    name = meeting_name(record)
    when = cn_datetime(record.require("meeting_at"))
    venue = first_required(record, "venue", "place")
    reply_by = record.get("reply_by")
    sections: list[tuple[str, list[str]]] = [("会议时间", [f"{when}。"]), ("会议地点", [sentence(venue)])]
    agenda = paragraphs_of(first(record, "agenda", "topic"))
    if agenda:
        sections.append(("会议议程", [f"{i}.{sentence(item)}" for i, item in enumerate(agenda, 1)]))
    if record.get("attendance"):
        sections.append(("参会人员", [sentence(record.get("attendance"))]))
    if reply_by:
        sections.append(("其他事项", [f"请于{cn_date(as_date(reply_by))}前将参会回执（见附件）报送"
                                     f"{record.task_force.office_title}。"]))
    paragraphs: list[Any] = [f"经研究，定于{when}在{venue}召开{name}。现将有关事项通知如下："]
    for i, (heading, lines) in enumerate(sections, 1):
        paragraphs.append({"level": 1, "text": f"{cn_numeral(i)}、{heading}"})
        paragraphs.extend(lines)
    annexes = []
    if reply_by:
        annexes.append({
            "label": "附件", "title": f"{name}参会回执", "landscape": False,
            "table": {"columns": ["单位", "姓名", "职务", "联系电话"], "widths": [4, 2, 3, 3], "blank": True,
                      "rows": [["", "", "", ""]] * 6},
        })
    contact = record.get("contact")
    return _common(record, issue) | {
        "issuer_mark": _office_mark(record),
        "title": f"关于召开{name}的通知",
        "addressees": names_or(record, record.get("invitees"), _members(record)),
        "paragraphs": paragraphs,
        "attachments": ["参会回执"] if reply_by else [],
        "annexes": annexes,
        "note": f"联系人：{contact}" if contact else "",
    }


# ---- 会议纪要 -----------------------------------------------------------------------------------


def decision_line(record: CaseRecord, n: int, decision: Mapping[str, Any]) -> str:
    """"一、…。（责任单位：…；配合单位：…；完成时限：…前）"."""
    parts = [f"责任单位：{record.unit(decision['responsible_unit']).name}"]
    if decision.get("co_units"):
        parts.append(f"配合单位：{'、'.join(record.unit_names(decision['co_units']))}")
    if decision.get("due"):
        parts.append(f"完成时限：{cn_date(as_date(decision['due']))}前")
    return f"{cn_numeral(n)}、{sentence(decision['text'])}（{'；'.join(parts)}）"


@kind("minutes", title="会议纪要", template="minutes", series="纪")
def minutes(record: CaseRecord, issue: Issue) -> dict[str, Any]:
    name = meeting_name(record)
    held = cn_date(local_time(first_required(record, "held_at", "meeting_at")).date())
    venue = first_required(record, "venue", "place")
    chair = record.get("chair")
    opening = f"{held}，{chair}在{venue}主持召开{name}。" if chair else f"{held}，{name}在{venue}召开。"
    decisions = record.get("decisions") or ()
    attendance = [("出席", mention(record, record.require("attendees")))]
    attendance += [(label, mention(record, record.get(key)))
                   for label, key in (("请假", "absentees"), ("列席", "observers")) if record.get(key)]
    return _common(record, issue) | {
        "issuer_mark": f"{record.task_force.short_name}会议纪要",
        "title": name if name.endswith("纪要") else f"{name}纪要",
        "paragraphs": [opening, *blocks(paragraphs_of(record.get("summary")))]
                      + (["现将会议议定事项纪要如下："] if decisions else []),
        "decisions": [decision_line(record, i, d) for i, d in enumerate(decisions, 1)],
        "attendance": attendance,
    }


# ---- 移送函 ------------------------------------------------------------------------------------


@kind("referral_letter", title="移送函", template="letter", series="函")
def referral_letter(record: CaseRecord, issue: Issue) -> dict[str, Any]:
    if not record.party("receiver"):
        raise MissingData(f"case {record.case_number}: no receiver to refer to")
    receiver = record.unit(record.party("receiver")[0])
    referrer = record.unit(record.party("referrer")[0]) if record.party("referrer") else None
    office = record.task_force.office
    by_office = referrer is None or (office is not None and referrer.code == office.code)
    finder = "我办" if by_office else referrer.name
    where = record.get("location")
    problem = sentence(record.require("problem"))
    paragraphs = [f"{finder}在工作中发现{where + '存在' if where else ''}以下问题：{problem}"]
    if record.get("reason"):
        paragraphs.append(f"移送理由：{sentence(record.get('reason'))}")
    paragraphs.append("按照跨区域、跨部门问题移送的工作要求，现将该问题移送你单位依法依规处理。")
    back_to = None if by_office else referrer.short_name
    report = (f"书面反馈{back_to}，并抄送{record.task_force.office_title}" if back_to
              else f"书面反馈{record.task_force.office_title}")
    due = record.get("due")
    paragraphs.append(f"请于{cn_date(as_date(due))}前将办理结果{report}。" if due else f"请及时将办理结果{report}。")
    paragraphs.append("特此函告。")
    title = record.title if record.title.endswith("问题") else f"{record.title}问题"
    copy_to = record.unit_names(record.get("copy_to")) or ((referrer.name,) if back_to else ())
    return _common(record, issue) | {
        "issuer_mark": _office_name(record),
        "title": f"关于移送{title}的函",
        "addressees": [receiver.name],
        "paragraphs": paragraphs,
        "attachments": [],
        "copy_to": copy_to,
    }


# ---- 整改方案 + 问题清单 --------------------------------------------------------------------------

PROBLEM_COLUMNS = ("所在地", "水源地名称", "问题描述", "整改措施", "责任单位", "配合单位", "整改时限")


def problem_rows(record: CaseRecord) -> list[list[str]]:
    """The 问题清单 as table rows (without 序号), in the order the problems were recorded."""
    default_unit = next(iter(record.party("responsible")), None)
    rows = []
    for p in record.require("problems"):
        unit = p.get("responsible_unit") or default_unit
        rows.append([
            p.get("location") or "", p.get("source") or "", sentence(p["text"]), sentence(p.get("measures") or ""),
            record.unit(unit).short_name if unit else "", "、".join(record.unit_names(p.get("co_units"), short=True)),
            cn_date(as_date(p["due"])) if p.get("due") else "",
        ])
    return rows


@kind("rectification_plan", title="整改方案", template="notice")
def rectification_plan(record: CaseRecord, issue: Issue) -> dict[str, Any]:
    name = record.get("plan_name") or f"{record.title}问题整改方案"
    return _common(record, issue) | {
        "issuer_mark": _office_mark(record),
        "title": name,
        "addressees": names_or(record, record.get("addressees"), _members(record)),
        "paragraphs": blocks(paragraphs_of(first_required(record, "plan_body", "summary"))),
        "attachments": ["问题清单"],
        "annexes": [{
            "label": "附件", "title": f"{name}问题清单", "landscape": True,
            "table": {"columns": PROBLEM_COLUMNS, "numbered": True, "widths": [5, 6.5, 13, 9, 5.5, 5.5, 8.5],
                      "rows": problem_rows(record)},
        }],
    }


# ---- 督办单 ------------------------------------------------------------------------------------

LADDER = {
    "blue": ("蓝色督办单", "临期提醒"),
    "yellow": ("黄色督办单", "黄牌督办"),
    "red": ("红色督办单", "红牌督办"),
}


def supervised_matter(record: CaseRecord) -> str:
    return first(record, "supervision_matter", "item") or record.title


def overdue_situation(due: dt.date | None, today: dt.date) -> str:
    """What a 督办单 says when the workflow recorded no situation: the deadline and how late it is."""
    if due is None:
        return "尚未按期办结"
    late = (today - due).days
    return f"原定{cn_date(due)}前完成，" + (f"截至{cn_date(today)}已逾期{late}日，尚未办结" if late > 0 else "尚未办结")


@kind("supervision_notice", title="督办单", template="supervision_notice", series="督")
def supervision_notice(record: CaseRecord, issue: Issue) -> dict[str, Any]:
    # A supervision workflow whose states are the rungs (yellow, red) needs no level recorded.
    level = record.get("supervision_level") or (record.state if record.state in LADDER else None)
    if level not in LADDER:
        raise MissingData(f"case {record.case_number}: supervision_level {level!r} is not one of {', '.join(LADDER)}")
    unit = _responsible(record, "supervised_unit")
    reply_by = record.get("supervision_reply_by")
    due = original_due(record)
    rows = [
        ("督办事项", supervised_matter(record)),
        ("责任单位", record.unit(unit).name if unit else "—"),
        ("原定完成时限", cn_date(due) if due else "—"),
        ("办理情况", sentence(record.get("supervision_situation") or overdue_situation(due, issue.date))),
        ("督办要求", sentence(record.get("supervision_demand") or "请抓紧办理，并按时书面反馈办理情况")),
        ("反馈时限", f"{cn_date(as_date(reply_by))}前书面反馈办理情况" if reply_by else "—"),
    ]
    form_title, level_title = LADDER[level]
    return _common(record, issue) | {
        "issuer_name": _office_name(record),
        "title": form_title,
        "level": level,
        "level_title": level_title,
        "rows": rows,
    }


# ---- 通报 --------------------------------------------------------------------------------------


@kind("circular_notice", title="通报", template="notice")
def circular_notice(record: CaseRecord, issue: Issue) -> dict[str, Any]:
    unit = _responsible(record, "supervised_unit")
    matter = supervised_matter(record)
    return _common(record, issue) | {
        "issuer_mark": _office_mark(record),
        "title": record.get("circular_title") or (
            f"关于{record.unit(unit).short_name + '承办事项' if unit else ''}逾期未办结情况的通报"),
        "addressees": names_or(record, record.get("circular_addressees"), _members(record)),
        "paragraphs": blocks(paragraphs_of(record.get("circular_body")) or ladder_circular(record, unit, matter,
                                                                                         issue.date)),
        "attachments": [],
    }


def ladder_circular(record: CaseRecord, unit: str | None, matter: str, today: dt.date) -> list[str]:
    """The 通报 of the supervision ladder, from what the case recorded, when no text was given."""
    who = record.unit(unit).name if unit else "有关单位"
    due = original_due(record)
    return [
        f"{who}承办的“{matter}”" + (f"，原定{cn_date(due)}前完成" if due else "")
        + f"，经催办、督办，截至{cn_date(today)}仍未办结。",
        "为严肃工作纪律，推动联动机制各项工作落实，现予以通报。",
        f"请{who}认真查找原因，落实整改责任，抓紧办结，并将办理情况书面报送{record.task_force.office_title}。",
    ]


# ---- 约谈记录 -----------------------------------------------------------------------------------


@kind("summons_record", title="约谈记录", template="summons_record", series="约")
def summons_record(record: CaseRecord, issue: Issue) -> dict[str, Any]:
    unit = _responsible(record, "summoned_unit")
    due = first(record, "summons_due", "new_due")
    at = record.get("summons_at")
    reason = record.get("summons_reason") or f"“{supervised_matter(record)}”逾期未办结，经通报后仍未整改到位"
    rows = [
        ("约谈时间", cn_datetime(at) if at else cn_date(issue.date)),
        ("约谈地点", record.get("summons_venue") or "—"),
        ("约谈人", record.get("summons_host") or "—"),
        ("被约谈单位", record.unit(unit).name if unit else "—"),
        ("被约谈人", first_required(record, "summoned_person", "summoned")),
        ("记录人", record.get("summons_recorder") or "—"),
        ("约谈事由", sentence(reason)),
        ("存在问题", [sentence(t) for t in paragraphs_of(record.get("summons_issues"))] or "—"),
        ("整改要求", [sentence(t) for t in paragraphs_of(first(record, "summons_demands", "measures"))] or "—"),
        ("整改时限", f"{cn_date(as_date(due))}前" if due else "—"),
        ("表态发言", sentence(record.get("summons_response") or "") or "—"),
    ]
    return _common(record, issue) | {
        "issuer_name": _office_name(record),
        "title": "约谈记录",
        "rows": rows,
        "signers": ["约谈人", "被约谈人", "记录人"],
    }


# ---- 检察建议跟进监督情况表 --------------------------------------------------------------------------

REPLY_MONTHS = 2  # 《人民检察院检察建议工作规定》第十九条; 公益诉讼解释第二十一条
URGENT_REPLY_DAYS = 15


def reply_due(record: CaseRecord) -> dt.date:
    """The reply deadline: as recorded, else two months (urgent: 15 days) from the date of service."""
    if record.get("reply_due"):
        return as_date(record.get("reply_due"))
    served = as_date(record.require("served_on"))
    if record.get("urgent"):
        return served + dt.timedelta(days=URGENT_REPLY_DAYS)
    return served + relativedelta(months=REPLY_MONTHS)


def reply_status(record: CaseRecord, due: dt.date, today: dt.date) -> str:
    received = record.get("reply_received_on")
    if received:
        late = (as_date(received) - due).days
        return f"{cn_date(as_date(received))}收到" + (f"（逾期{late}日）" if late > 0 else "（按期）")
    if today > due:
        return f"未回复（已逾期{(today - due).days}日）"
    return f"未回复（距回复期限{(due - today).days}日）"


@kind("procuratorial_followup", title="检察建议跟进监督情况表", template="procuratorial_followup",
      series="跟", issuer_role="procuratorate")
def procuratorial_followup(record: CaseRecord, issue: Issue) -> dict[str, Any]:
    if not record.party("agency") or not record.party("procuratorate"):
        raise MissingData(f"case {record.case_number}: needs the agency and the procuratorate as parties")
    points = record.require("recommendation_points")
    states: dict[int, Mapping[str, Any]] = {}
    for entry in record.get("point_states") or ():
        states[int(entry["point"])] = entry
    received = bool(record.get("reply_received_on"))
    point_rows = []
    for i, text in enumerate(points, 1):
        entry = states.get(i)
        point_rows.append([sentence(text), entry["state"] if entry else ("待评估" if received else "待回复"),
                           sentence(entry.get("note") or "") if entry else ""])
    due = reply_due(record)
    procuratorate = record.unit(record.party("procuratorate")[0])
    rows = [
        ("被建议单位", record.unit(record.party("agency")[0]).name),
        ("检察建议书文号", record.require("recommendation_no")),
        ("送达日期", cn_date(as_date(record.require("served_on")))),
        ("回复期限", cn_date(due) + ("（紧急）" if record.get("urgent") else "")),
        ("书面回复", reply_status(record, due, issue.date)),
    ]
    if record.get("reply_summary"):
        rows.append(("回复内容", sentence(record.get("reply_summary"))))
    return _common(record, issue) | {
        "issuer_name": procuratorate.name,
        "title": "检察建议跟进监督情况表",
        "rows": rows,
        "points": {"columns": ["建议事项", "落实情况", "说明"], "numbered": True, "widths": [6, 2, 4],
                   "rows": point_rows},
        "procurator": record.get("procurator_name") or "",
        "signature": procuratorate.name,
        "printer": procuratorate.name,
    }
