"""Issue 15: the follow-up form's reply deadline must be the engine's, not one documents/ recomputes.

Served 2026-08-01 (Saturday): two months end on 2026-10-01, inside the 国庆 holiday (10-01 to 10-07 in
workflows/calendar/2026.yaml), so the engine's legal deadline moves to the first working day, 10-08.
"""

from __future__ import annotations

import datetime as dt

import pytest

from documents import contexts, records
from engine.localtime import to_local
from tests.api.conftest import accounts, app, client, settings  # noqa: F401
from tests.workflows.test_pil_case_v2 import due, served


def test_the_engines_reply_deadline_for_a_service_on_1_august_2026_is_8_october(cases, db):
    c = served(cases, served_on="2026-08-01")
    due_at, _status = due(db, c, "reply")
    assert to_local(due_at).date() == dt.date(2026, 10, 8)


@pytest.mark.xfail(strict=True, reason="issue 15 not done: documents/contexts.reply_due recomputes the date "
                                       "(2026-10-01) instead of reading the engine's deadline row")
def test_the_follow_up_form_reads_the_engines_reply_deadline(cases, db):
    c = served(cases, served_on="2026-08-01")
    with db.read() as conn:
        record = records.load(conn, c.id)
    assert contexts.reply_due(record) == dt.date(2026, 10, 8)
