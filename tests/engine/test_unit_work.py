"""分办 / 认领 / 改派, 委托 and 抄送 / 已阅 on a real referral: every action is a note row on the case's
chain (verify passes after them all), refusals write nothing, and a delegate acts only inside its dates."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from db.repositories import accounts as accounts_repo
from db.repositories import assignments as assign_repo
from engine import delegation
from engine.access import CaseAccess, Viewer
from engine.acting import ON_BEHALF_OF
from engine.assignment import UnitWork, case_work
from engine.errors import BadAssignee, NotActingUnit, NotAssignee, NotFound, StaleVersion, WorkConflict
from engine.localtime import LOCAL_TZ
from engine.worklist import actionable
from tests import tx

TF = "two_lakes"
PEOPLE = {  # username -> (name, unit)
    "uw_qz_liaison": ("清镇联络员", "gy_qz_gov"), "uw_qz_zhang": ("张三", "gy_qz_gov"),
    "uw_qz_li": ("李四", "gy_qz_gov"), "uw_sthjj": ("生态环境局联络员", "gy_sthjj"),
    "uw_pb": ("平坝区联络员", "as_pb_gov"),
}


@pytest.fixture(scope="module")
def people(_loaded):
    """username -> Viewer, for accounts made once per backend (the db fixture keeps users)."""
    out = {}
    with _loaded.write() as conn:
        for username, (name, unit) in PEOPLE.items():
            found = accounts_repo.by_username(conn, username)
            user_id = found[0].id if found else accounts_repo.insert_user(
                conn, username=username, display_name=name, unit=unit, task_force=TF, roles=["member"],
                password_hash="x", at=datetime(2026, 1, 1, tzinfo=LOCAL_TZ))
            out[username] = Viewer(f"user:{user_id}", name, unit, TF, frozenset({"member"}))
    return out


def uid(viewer: Viewer) -> int:
    return int(viewer.id.split(":")[1])


def referral(db, cases, people) -> int:
    referrer = CaseAccess(cases, people["uw_sthjj"])
    with db.write() as conn:
        case = referrer.start(conn, workflow="referral", title="红枫湖沿岸垃圾", payload={"problem": "垃圾堆放"})
        referrer.fire(conn, case.id, "refer", {"receiver": "gy_qz_gov", "reason": "属地管理"})
    return case.id


def test_assign_claim_reassign_delegate_share_and_read_all_chain_and_verify(db, cases, clock, people):
    case_id = referral(db, cases, people)
    liaison, zhang, li = (CaseAccess(cases, people[u]) for u in ("uw_qz_liaison", "uw_qz_zhang", "uw_qz_li"))
    outsider = people["uw_pb"]
    with db.write() as conn:
        version = cases.load(conn, case_id).version
        # Refusals first: nothing is written by any of them.
        with pytest.raises(BadAssignee) as outside:
            UnitWork(liaison).assign(conn, case_id, uid(outsider))
        assert "本单位" in outside.value.message_zh and outside.value.details["assignee_id"] == uid(outsider)
        with pytest.raises(StaleVersion):
            UnitWork(liaison).assign(conn, case_id, uid(people["uw_qz_zhang"]), expected_version=version - 1)
        with pytest.raises(NotFound):  # a unit with no part in the case does not see it
            UnitWork(CaseAccess(cases, outsider)).assign(conn, case_id, uid(outsider))
        assert cases.load(conn, case_id).version == version

        UnitWork(liaison).assign(conn, case_id, uid(people["uw_qz_zhang"]), expected_version=version)
        with pytest.raises(WorkConflict) as taken:
            UnitWork(li).claim(conn, case_id)
        assert "张三" in taken.value.message_zh
    # Assigned to 张三: the liaison and 李四 no longer act for the unit; 张三 does.
    with db.read() as conn:
        record = cases.load(conn, case_id)
        assert liaison.allowed(conn, record) == [] and li.allowed(conn, record) == []
        assert "accept" in zhang.allowed(conn, record)
        assert case_id in {a.case_id for a in actionable(conn, liaison)}  # still the unit's work, listed
    with db.write() as conn, pytest.raises(NotAssignee) as blocked:
        li.fire(conn, case_id, "accept")
    assert "张三" in blocked.value.message_zh
    with db.write() as conn:
        zhang.fire(conn, case_id, "accept")

    # 委托: 张三 delegates to 李四 for two local days; 李四 acts during them, not after.
    start = clock.now().astimezone(LOCAL_TZ).date()
    with db.write() as conn:
        with pytest.raises(BadAssignee):
            delegation.delegate(conn, people["uw_qz_zhang"], clock, uid(outsider), start, start)
        with pytest.raises(BadAssignee):
            delegation.delegate(conn, people["uw_qz_zhang"], clock, uid(people["uw_qz_li"]), start, start - timedelta(1))
        delegation.delegate(conn, people["uw_qz_zhang"], clock, uid(people["uw_qz_li"]), start, start + timedelta(1))
    with db.write() as conn:
        li.fire(conn, case_id, "start_work")
    row = tx.history(cases, case_id)[-1]
    assert row.event == "start_work" and row.actor_id == people["uw_qz_li"].id
    assert row.payload[ON_BEHALF_OF] == {"id": people["uw_qz_zhang"].id, "name": "张三"}
    clock.set(datetime.combine(start + timedelta(days=2), datetime.min.time(), tzinfo=LOCAL_TZ) + timedelta(hours=9))
    with db.write() as conn, pytest.raises(NotAssignee) as ended:
        li.fire(conn, case_id, "progress", {"note": "已清理一半"})
    assert "结束" in ended.value.message_zh and ended.value.code == "assigned_to_another"

    # 改派 to 李四, then 抄送 to 平坝区 whose reader's first opening is a receipt (once).
    with db.write() as conn:
        UnitWork(liaison).assign(conn, case_id, uid(people["uw_qz_li"]))
        li.fire(conn, case_id, "progress", {"note": "已清理一半"})
        with pytest.raises(BadAssignee):  # a party needs no copy
            UnitWork(zhang).share(conn, case_id, ["gy_sthjj"])
        UnitWork(zhang).share(conn, case_id, ["as_pb_gov"])
    reader = CaseAccess(cases, outsider)
    with db.write() as conn:
        assert UnitWork(reader).note_read(conn, case_id) is True
        assert UnitWork(reader).note_read(conn, case_id) is False
        record = reader.record(conn, case_id)  # the reader sees the case now
        assert reader.allowed(conn, record) == []  # and acts on none of it
        with pytest.raises(NotActingUnit):  # nor hands it on, nor assigns it
            UnitWork(reader).share(conn, case_id, ["gy_swj"])
        with pytest.raises(NotActingUnit):
            UnitWork(reader).claim(conn, case_id)
    notes = [(h.event, h.payload.get("assignee_name") or h.payload.get("reader_name") or h.payload.get("units"))
             for h in tx.history(cases, case_id) if h.kind == "note"]
    assert notes == [("assigned", "张三"), ("reassigned", "李四"), ("shared", ["as_pb_gov"]), ("read", "平坝区联络员")]
    with db.read() as conn:
        work = case_work(conn, case_id)
        assert [(a.unit, a.name) for a in work.assignees] == [("gy_qz_gov", "李四")]
        assert [r[1] for r in work.receipts] == ["平坝区联络员"]
        assert assign_repo.is_shared_with(conn, case_id, "as_pb_gov")
    assert tx.verify(cases) == []
    assert tx.replay(cases, case_id) == tx.load(cases, case_id).state == "in_progress"


def test_claim_and_who_may_assign(db, cases, people):
    case_id = referral(db, cases, people)
    li = CaseAccess(cases, people["uw_qz_li"])
    with db.write() as conn:
        UnitWork(li).claim(conn, case_id)
        # The referrer's own unit assigns its own share of the case; it cannot hand out the receiver's.
        referrer = UnitWork(CaseAccess(cases, people["uw_sthjj"]))
        with pytest.raises(BadAssignee):
            referrer.assign(conn, case_id, uid(people["uw_qz_zhang"]))
    with db.read() as conn:
        assert assign_repo.assignee(conn, case_id, "gy_qz_gov").name == "李四"
    assert [h.event for h in tx.history(cases, case_id) if h.kind == "note"] == ["claimed"]
    assert tx.verify(cases) == []
