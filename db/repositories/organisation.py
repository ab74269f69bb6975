"""Reading the organisation: a task force, its office and units' names (documents address them)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from db.models import Jurisdiction, TaskForce, TaskForceUnit, Unit

_tf = TaskForce.__table__
_tfu = TaskForceUnit.__table__
_u = Unit.__table__


def task_force(conn: Connection, code: str):
    """(code, name, short_name, doc_prefix, office_hosts) or None."""
    return conn.execute(select(_tf.c.code, _tf.c.name, _tf.c.short_name, _tf.c.doc_prefix, _tf.c.office_hosts)
                        .where(_tf.c.code == code)).first()


def task_force_units(conn: Connection, code: str):
    """(unit code, member, unit kind) of every unit in a task force, in code order."""
    return conn.execute(select(_tfu.c.unit_code, _tfu.c.member, _u.c.kind)
                        .join(_u, _u.c.code == _tfu.c.unit_code)
                        .where(_tfu.c.task_force_code == code).order_by(_tfu.c.unit_code)).all()


def units(conn: Connection):
    """(code, name, short_name, kind) of every unit: a deployment has tens to hundreds."""
    return conn.execute(select(_u.c.code, _u.c.name, _u.c.short_name, _u.c.kind).order_by(_u.c.code)).all()


def task_force_unit_facts(conn: Connection, code: str):
    """(code, name, short_name, kind, jurisdiction code, duties) of every unit in a task force, in code order."""
    return conn.execute(select(_u.c.code, _u.c.name, _u.c.short_name, _u.c.kind, _u.c.jurisdiction_code, _u.c.duties)
                        .join(_tfu, _tfu.c.unit_code == _u.c.code)
                        .where(_tfu.c.task_force_code == code).order_by(_u.c.code)).all()


def jurisdictions(conn: Connection):
    """(code, name, parent code) of every jurisdiction."""
    j = Jurisdiction.__table__
    return conn.execute(select(j.c.code, j.c.name, j.c.parent_code).order_by(j.c.code)).all()


def task_force_roles(conn: Connection, code: str) -> list[dict[str, str]]:
    """The organisation roles of a task force: [{code, title}]."""
    return conn.execute(select(_tf.c.roles).where(_tf.c.code == code)).scalar_one_or_none() or []


def task_forces(conn: Connection):
    """(code, name, short_name) of every task force, in code order."""
    return conn.execute(select(_tf.c.code, _tf.c.name, _tf.c.short_name).order_by(_tf.c.code)).all()
