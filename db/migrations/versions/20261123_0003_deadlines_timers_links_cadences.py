"""deadlines timers links cadences

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:45:35.623085
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401
from sqlalchemy.dialects import postgresql  # noqa: F401
import db.types  # noqa: F401

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('settings',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('cadence_runs',
    sa.Column('task_force_code', sa.String(length=40), nullable=False),
    sa.Column('cadence', sa.String(length=60), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('unit_code', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_cadence_runs_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_force_code'], ['task_forces.code'], name=op.f('fk_cadence_runs_task_force_code_task_forces')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_cadence_runs_unit_code_units')),
    sa.PrimaryKeyConstraint('task_force_code', 'cadence', 'period', 'unit_code', name=op.f('pk_cadence_runs'))
    )
    with op.batch_alter_table('cadence_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cadence_runs_case_id'), ['case_id'], unique=False)

    op.create_table('case_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('from_case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('to_case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('deadline', sa.String(length=60), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_case_id'], ['cases.id'], name=op.f('fk_case_links_from_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_case_id'], ['cases.id'], name=op.f('fk_case_links_to_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_links'))
    )
    with op.batch_alter_table('case_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_links_from_case_id'), ['from_case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_links_to_case_id'), ['to_case_id'], unique=False)

    op.create_table('deadlines',
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('warn_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('owner_role', sa.String(length=40), nullable=True),
    sa.Column('rule', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('extensions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_deadlines_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'name', name=op.f('pk_deadlines'))
    )
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_deadlines_status_due', ['status', 'due_at'], unique=False)

    op.create_table('timers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('deadline', sa.String(length=60), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('due_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('fired_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_timers_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timers'))
    )
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timers_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_timers_status_due', ['status', 'due_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_role', sa.String(length=40), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('due_role')

    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_index('ix_timers_status_due')
        batch_op.drop_index(batch_op.f('ix_timers_case_id'))

    op.drop_table('timers')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_status_due')

    op.drop_table('deadlines')
    with op.batch_alter_table('case_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_links_to_case_id'))
        batch_op.drop_index(batch_op.f('ix_case_links_from_case_id'))

    op.drop_table('case_links')
    with op.batch_alter_table('cadence_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cadence_runs_case_id'))

    op.drop_table('cadence_runs')
    op.drop_table('settings')
