"""The two-lakes organisation loads faithfully, and loading it twice changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.models import Jurisdiction, TaskForce, TaskForcePosition, TaskForceUnit, Unit
from db.session import Database
from engine.bootstrap import init_database
from engine.organisation import parse_organisation
from workflows import ROOT

TABLES = (Jurisdiction, Unit, TaskForce, TaskForceUnit, TaskForcePosition)


def dump(db: Database) -> dict[str, list]:
    with db.read() as conn:
        return {m.__tablename__: sorted(map(str, conn.execute(select(m.__table__)))) for m in TABLES}


def test_loading_twice_changes_nothing(backend, fresh_url):
    db = Database(fresh_url(backend))
    try:
        first = init_database(db, ROOT)
        assert first["two_lakes"]["organisation_changed"] == 1
        before = dump(db)
        second = init_database(db, ROOT)
        assert second["two_lakes"] == {"organisation_changed": 0, "definitions_published": 0,
                                       "definitions": first["two_lakes"]["definitions"]}
        assert dump(db) == before
    finally:
        db.dispose()


def test_two_lakes_organisation_matches_the_seed(db):
    with db.read() as conn:
        def count(stmt):
            return conn.execute(stmt).scalar_one()

        positions = conn.execute(select(TaskForcePosition.position, func.count()).where(
            TaskForcePosition.task_force_code == "two_lakes").group_by(TaskForcePosition.position)).all()
        tops = dict(conn.execute(select(Jurisdiction.name, Jurisdiction.top_code)).all())
        tf = conn.execute(select(TaskForce.office_hosts, TaskForce.doc_prefix).where(TaskForce.code == "two_lakes")).one()
        procuratorates = conn.execute(select(Unit.name, TaskForceUnit.member).join(
            TaskForceUnit, TaskForceUnit.unit_code == Unit.code).where(
            Unit.kind == "procuratorate", TaskForceUnit.task_force_code == "two_lakes")).all()
        water = conn.execute(select(Unit.duties).where(Unit.code == "gy_swj")).scalar_one()
        members = count(select(func.count()).select_from(TaskForceUnit).where(
            TaskForceUnit.task_force_code == "two_lakes", TaskForceUnit.member))
    # 成员名单: 2 组长, 3 常务副组长, 7 副组长, 28 成员.
    assert dict(positions) == {"组长": 2, "常务副组长": 3, "副组长": 7, "成员": 28}
    assert members >= 30
    assert tops["清镇市"] == "gy" and tops["平坝区"] == "as" and tops["湖潮乡"] == "ga"
    assert tf.office_hosts == ["gy_swj", "as_sthjj"] and tf.doc_prefix == "两湖专班办"
    assert sorted(procuratorates) == [("安顺市人民检察院", False), ("贵阳市人民检察院", False)]
    assert "生态流量监管" in water


def test_every_annex_unit_is_named_in_the_seed():
    from pathlib import Path

    seed = (Path(__file__).resolve().parents[3] / "shared" / "seeds" / "004_ec76c64dc1dbd9f8.txt")
    org = parse_organisation(ROOT / "two_lakes" / "organisation.yaml")
    if not seed.is_file():
        pytest.skip(f"the seeds are not beside this checkout ({seed})")
    text = seed.read_text(encoding="utf-8").replace("\n", "")
    with_duties = [u for u in org.units if u["duties"]]
    assert len(with_duties) >= 25
    for u in with_duties:
        assert u["duties"].replace("\n", "") in text, u["code"]
