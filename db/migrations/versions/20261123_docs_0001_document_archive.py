"""document archive: issued and received documents, numbered per issuer and year

Revision ID: docs_0001
Revises: 0004
Create Date: 2026-11-23 15:48:33.576780
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401
from sqlalchemy.dialects import postgresql  # noqa: F401

import db.types  # noqa: F401

revision: str = 'docs_0001'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('history_seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('issuer', sa.String(length=80), nullable=False),
    sa.Column('issuer_unit', sa.String(length=40), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('template_version', sa.String(length=32), nullable=True),
    sa.Column('media_type', sa.String(length=80), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_documents_case_id_cases')),
    sa.ForeignKeyConstraint(['issuer_unit'], ['units.code'], name=op.f('fk_documents_issuer_unit_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('case_id', 'history_seq', 'kind', name=op.f('uq_documents_case_id_history_seq_kind')),
    sa.UniqueConstraint('issuer', 'year', 'serial', name=op.f('uq_documents_issuer_year_serial'))
    )


def downgrade() -> None:
    op.drop_table('documents')
