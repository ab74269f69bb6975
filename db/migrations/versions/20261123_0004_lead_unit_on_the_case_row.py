"""lead unit on the case row

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:58:16.589504
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401
from sqlalchemy.dialects import postgresql  # noqa: F401
import db.types  # noqa: F401


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_unit', sa.String(length=40), nullable=True))
        batch_op.drop_index(batch_op.f('ix_cases_open_due'))
        batch_op.create_index('ix_cases_open_due_unit', ['closed', 'task_force_code', 'due_unit', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open_due_unit')
        batch_op.create_index(batch_op.f('ix_cases_open_due'), ['closed', 'due_at'], unique=False)
        batch_op.drop_column('due_unit')

