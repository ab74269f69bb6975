"""case keys: one case per declared key (figures.yaml `unique`)

Revision ID: fig_0001
Revises: 0008
Create Date: 2026-12-02 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'fig_0001'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_force_code', sa.String(length=40), nullable=False),
    sa.Column('workflow', sa.String(length=60), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_keys_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_force_code'], ['task_forces.code'],
                            name=op.f('fk_case_keys_task_force_code_task_forces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_keys')),
    sa.UniqueConstraint('task_force_code', 'workflow', 'key', name=op.f('uq_case_keys_task_force_code_workflow_key'))
    )
    with op.batch_alter_table('case_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_keys_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_keys_case_id'))
    op.drop_table('case_keys')
