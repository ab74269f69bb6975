"""case numbers unique per task force

Two task forces whose workflows share a number prefix (报送) each number their own cases, so
报送-2018-0001 may exist in both; the number is unique within a task force.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-02 13:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('uq_cases_number', type_='unique')
        batch_op.create_unique_constraint('uq_cases_task_force_code_number', ['task_force_code', 'number'])


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('uq_cases_task_force_code_number', type_='unique')
        batch_op.create_unique_constraint('uq_cases_number', ['number'])
