"""account changes

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-02 13:13:55.761725
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401
from sqlalchemy.dialects import postgresql  # noqa: F401
import db.types  # noqa: F401

revision: str = '0009'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('task_force_code', sa.String(length=40), nullable=False),
    sa.Column('actor_username', sa.String(length=60), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('change', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_changes'))
    )
    with op.batch_alter_table('account_changes', schema=None) as batch_op:
        batch_op.create_index('ix_account_changes_task_force_at', ['task_force_code', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('account_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_account_changes_task_force_at')

    op.drop_table('account_changes')
