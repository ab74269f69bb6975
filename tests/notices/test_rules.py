"""Notification rules: declared per task force, written in the event's own transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from api.accounts import Accounts, hasher
from db.models import Channel, Notice, OutboxItem
from db.repositories import notices as repo
from engine.errors import DefinitionError, NotAllowed
from engine.notices import parse_notifications
from engine.publishing import read_task_force
from engine.timers import run_due
from tests.workflows.flow import OFFICE, Flow, member

GY_STHJJ, QZ = member("gy_sthjj"), member("gy_qz_gov")


def _account(db, cases, unit: str, roles=("member",)) -> tuple[int, str]:
    name = f"u{uuid.uuid4().hex[:10]}"
    accounts = Accounts(hasher("cheapest"), timedelta(hours=1))
    with db.write() as conn:
        user_id = accounts.create_user(conn, username=name, display_name=name, unit=unit, task_force="two_lakes",
                                       roles=list(roles), password="pw-123456", now=cases.clock.now())
    return user_id, name


def _channel(db, cases, owner_kind: str, owner: str, kind: str = "email", target: str = "a@example.org") -> int:
    with db.write() as conn:
        return conn.execute(insert(Channel.__table__).returning(Channel.__table__.c.id), {
            "owner_kind": owner_kind, "owner": owner, "kind": kind, "target": target, "enabled": True,
            "created_at": cases.clock.now()}).scalar_one()


def _notices(db, case_id: int):
    with db.read() as conn:
        return conn.execute(select(Notice).where(Notice.case_id == case_id).order_by(Notice.id)).all()


def _referral(cases):
    return Flow.start(cases, "referral", GY_STHJJ, "红枫湖沿岸生活垃圾堆放", problem="沿岸发现生活垃圾堆放",
                      location="清镇市红枫镇")


def test_the_receiver_is_told_of_a_referral_and_its_channels_are_queued(cases, db):
    f = _referral(cases)
    assert _notices(db, f.id) == []  # opening a draft tells nobody
    user_id, username = _account(db, cases, "gy_qz_gov")
    unit_channel = _channel(db, cases, "unit", "gy_qz_gov", "wecom", "http://127.0.0.1:9/robot")
    user_channel = _channel(db, cases, "user", username)
    _channel(db, cases, "unit", "gy_by_gov")  # another unit's channel: not used
    f.fire("refer", GY_STHJJ, "referred", receiver="gy_qz_gov", reason="属地管理")
    told = _notices(db, f.id)
    assert [(n.unit_code, n.rule, n.cause) for n in told] == [("gy_qz_gov", "referral_received", "refer")]
    assert told[0].title == "收到移送问题：红枫湖沿岸生活垃圾堆放"
    assert "贵阳市生态环境局" in told[0].body or "生态环境局" in told[0].body
    with db.read() as conn:
        queued = conn.execute(select(OutboxItem).where(OutboxItem.topic == "notice",
                                                       OutboxItem.case_id == f.id)).all()
        assert repo.unread_count(conn, "gy_qz_gov", user_id) == 1
        assert repo.unread_count(conn, "gy_sthjj", user_id + 10_000) == 0
    assert sorted(q.payload["channel_id"] for q in queued) == sorted([unit_channel, user_channel])
    assert {q.payload["kind"] for q in queued} == {"wecom", "email"}
    assert len({q.dedupe_key for q in queued}) == 2
    assert all(q.payload["link"] == f"/case/{f.id}" and q.payload["case_number"] == f.case.number for q in queued)
    # The referrer hears back when the receiver signs for it.
    f.fire("accept", QZ, "accepted")
    assert [n.unit_code for n in _notices(db, f.id)] == ["gy_qz_gov", "gy_sthjj"]
    with db.write() as conn:
        assert repo.mark_read(conn, "gy_qz_gov", user_id, None, cases.clock.now()) == 1
        assert repo.unread_count(conn, "gy_qz_gov", user_id) == 0


def test_a_refused_event_tells_nobody(cases, db):
    f = _referral(cases)
    with pytest.raises(NotAllowed):
        f.fire("accept", QZ, "accepted")
    assert _notices(db, f.id) == []


def test_the_deadline_owner_is_warned_and_told_of_expiry(cases, db, clock):
    f = _referral(cases)
    f.fire("refer", GY_STHJJ, "referred", receiver="gy_qz_gov", reason="属地管理")
    clock.advance(timedelta(days=30))
    run_due(cases)
    told = [(n.rule, n.unit_code) for n in _notices(db, f.id)]
    assert ("deadline_warning", "gy_qz_gov") in told or ("deadline_expired", "gy_qz_gov") in told
    expired = [n for n in _notices(db, f.id) if n.rule == "deadline_expired"]
    assert expired and {n.unit_code for n in expired} >= {"gy_qz_gov", "two_lakes_office"}
    assert all("已逾期" in n.title and f.case.number in n.title for n in expired)


def test_a_role_recipient_is_each_account_holding_it(cases, db):
    convenor_id, _ = _account(db, cases, "gy_gov", roles=("convenor",))
    member_id, _ = _account(db, cases, "gy_gov", roles=("member",))
    f = Flow.start(cases, "meeting", OFFICE, "2026年第一季度专题会议", kind="topical", due="2026-03-31",
                   parties={"organiser": ["two_lakes_office"]})
    f.fire("propose_item", GY_STHJJ, "scheduled", item="红枫湖岸线整治", owner="gy_sthjj")
    told = [n for n in _notices(db, f.id) if n.rule == "meeting_item_proposed"]
    assert convenor_id in {n.user_id for n in told} and member_id not in {n.user_id for n in told}
    assert "two_lakes_office" in {n.unit_code for n in told}
    with db.read() as conn:
        assert repo.unread_count(conn, "gy_gov", convenor_id) >= 1
        assert repo.unread_count(conn, "gy_gov", member_id) == 0


MISTAKES = [
    ("workflow: nosuch\n    when: refer\n    to: [{party: receiver}]", 2, "unknown workflow 'nosuch'"),
    ("workflow: referral\n    when: reefer\n    to: [{party: receiver}]", 2, "'reefer' is no event"),
    ("workflow: referral\n    when: refer\n    to: [{party: recever}]", 2, "'recever' is no party role"),
    ("workflow: referral\n    when: refer\n    to: [{role: nobody}]", 2, "'nobody' is no organisation role"),
    ("workflow: referral\n    when: refer\n    to: [{party: receiver}]\n    title: 移送{titel}", 2,
     "unknown placeholder {titel}"),
    ("workflow: referral\n    on: refer\n    to: [{party: receiver}]", 2, "unknown key"),
]


@pytest.mark.parametrize(("rule", "line", "said"), MISTAKES)
def test_a_mistake_in_a_rule_is_named_with_its_line(tmp_path: Path, rule: str, line: int, said: str):
    files = read_task_force(Path(__file__).resolve().parents[2] / "workflows" / "two_lakes")
    latest = {d.name: d for d in sorted(files.definitions, key=lambda d: d.version)}
    path = tmp_path / "notifications.yaml"
    body = rule if "title:" in rule else rule + "\n    title: 收到"
    path.write_text(f"notifications:\n  - code: one\n    {body}\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        parse_notifications(path, latest, frozenset(files.organisation.role_codes))
    assert said in str(caught.value)
    assert f"notifications.yaml:{line}" in str(caught.value)
