"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 15:30:05.441010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import db.types

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('jurisdictions',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('parent_code', sa.String(length=40), nullable=True),
    sa.Column('top_code', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['parent_code'], ['jurisdictions.code'], name=op.f('fk_jurisdictions_parent_code_jurisdictions')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_jurisdictions'))
    )
    with op.batch_alter_table('jurisdictions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jurisdictions_parent_code'), ['parent_code'], unique=False)

    op.create_table('sequences',
    sa.Column('scope', sa.String(length=120), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'year', name=op.f('pk_sequences'))
    )
    op.create_table('task_forces',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=100), nullable=False),
    sa.Column('doc_prefix', sa.String(length=50), nullable=False),
    sa.Column('office_hosts', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_task_forces'))
    )
    op.create_table('definitions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_force_code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('spec', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('source_path', sa.String(length=300), nullable=False),
    sa.Column('published_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_force_code'], ['task_forces.code'], name=op.f('fk_definitions_task_force_code_task_forces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_definitions')),
    sa.UniqueConstraint('task_force_code', 'name', 'version', name=op.f('uq_definitions_task_force_code_name_version'))
    )
    op.create_table('units',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=40), nullable=False),
    sa.Column('duties', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdictions.code'], name=op.f('fk_units_jurisdiction_code_jurisdictions')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_units'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_jurisdiction_code'), ['jurisdiction_code'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('task_force_code', sa.String(length=40), nullable=False),
    sa.Column('definition_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('parties', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state_entered_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['definition_id'], ['definitions.id'], name=op.f('fk_cases_definition_id_definitions')),
    sa.ForeignKeyConstraint(['task_force_code'], ['task_forces.code'], name=op.f('fk_cases_task_force_code_task_forces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_definition_id'), ['definition_id'], unique=False)
        batch_op.create_index('ix_cases_open_due', ['closed', 'due_at'], unique=False)
        batch_op.create_index('ix_cases_tf_state', ['task_force_code', 'state'], unique=False)

    op.create_table('task_force_positions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_force_code', sa.String(length=40), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('position', sa.String(length=20), nullable=False),
    sa.Column('unit_code', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['task_force_code'], ['task_forces.code'], name=op.f('fk_task_force_positions_task_force_code_task_forces')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_task_force_positions_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_force_positions'))
    )
    with op.batch_alter_table('task_force_positions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_force_positions_task_force_code'), ['task_force_code'], unique=False)

    op.create_table('task_force_units',
    sa.Column('task_force_code', sa.String(length=40), nullable=False),
    sa.Column('unit_code', sa.String(length=40), nullable=False),
    sa.Column('member', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['task_force_code'], ['task_forces.code'], name=op.f('fk_task_force_units_task_force_code_task_forces')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_task_force_units_unit_code_units')),
    sa.PrimaryKeyConstraint('task_force_code', 'unit_code', name=op.f('pk_task_force_units'))
    )
    with op.batch_alter_table('task_force_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_force_units_unit_code'), ['unit_code'], unique=False)

    op.create_table('case_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('from_state', sa.String(length=60), nullable=True),
    sa.Column('to_state', sa.String(length=60), nullable=False),
    sa.Column('actor_id', sa.String(length=80), nullable=False),
    sa.Column('actor_unit', sa.String(length=40), nullable=True),
    sa.Column('actor_role', sa.String(length=40), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_history_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_history')),
    sa.UniqueConstraint('case_id', 'seq', name=op.f('uq_case_history_case_id_seq'))
    )
    op.create_table('case_parties',
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('unit_code', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_parties_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_case_parties_unit_code_units')),
    sa.PrimaryKeyConstraint('case_id', 'role', 'unit_code', name=op.f('pk_case_parties'))
    )
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_parties_unit_code'), ['unit_code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_parties_unit_code'))

    op.drop_table('case_parties')
    op.drop_table('case_history')
    with op.batch_alter_table('task_force_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_force_units_unit_code'))

    op.drop_table('task_force_units')
    with op.batch_alter_table('task_force_positions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_force_positions_task_force_code'))

    op.drop_table('task_force_positions')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_tf_state')
        batch_op.drop_index('ix_cases_open_due')
        batch_op.drop_index(batch_op.f('ix_cases_definition_id'))

    op.drop_table('cases')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_jurisdiction_code'))

    op.drop_table('units')
    op.drop_table('definitions')
    op.drop_table('task_forces')
    op.drop_table('sequences')
    with op.batch_alter_table('jurisdictions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jurisdictions_parent_code'))

    op.drop_table('jurisdictions')
