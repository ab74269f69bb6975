"""case numbers unique per task force

Two task forces whose workflows share a number prefix (报送) each number their own cases, so
报送-2018-0001 may exist in both; the number is unique within a task force.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-02 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recreating_cases(change) -> None:
    """SQLite drops a unique constraint only by copying the table, which loses the table's triggers
    (the full-text index's): they are read before and created again after."""
    bind = op.get_bind()
    triggers = []
    if bind.dialect.name == "sqlite":
        triggers = bind.execute(sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases'")).scalars().all()
    with op.batch_alter_table('cases', schema=None) as batch_op:
        change(batch_op)
    for sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    def change(batch_op) -> None:
        batch_op.drop_constraint('uq_cases_number', type_='unique')
        batch_op.create_unique_constraint('uq_cases_task_force_code_number', ['task_force_code', 'number'])
    _recreating_cases(change)


def downgrade() -> None:
    def change(batch_op) -> None:
        batch_op.drop_constraint('uq_cases_task_force_code_number', type_='unique')
        batch_op.create_unique_constraint('uq_cases_number', ['number'])
    _recreating_cases(change)
