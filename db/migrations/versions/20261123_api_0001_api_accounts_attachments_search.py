"""api: accounts, sign-in tokens, API keys, idempotency keys, attachments, full-text search

Search finds Chinese words in titles, descriptions and every payload. SQLite: two FTS5 tables
with the trigram tokenizer (one row per case, one per history row that carries a payload), kept by
triggers that extract the JSON string values. PostgreSQL: pg_trgm GIN indexes on the same text.
Trigrams need 3 characters; the repository falls back to LIKE for shorter words (the FTS5 table
and the trigram index still answer LIKE, by scanning). See db/migration_only.py.

Revision ID: api_0001
Revises: docs_0001
Create Date: 2026-11-23 15:47:19.719180
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text  # noqa: F401
from sqlalchemy.dialects import postgresql  # noqa: F401

import db.types  # noqa: F401

revision: str = 'api_0001'
down_revision: str | None = 'docs_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('principal', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('headers', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('principal', 'key', name=op.f('pk_idempotency_keys'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)

    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('unit_code', sa.String(length=40), nullable=False),
    sa.Column('task_force_code', sa.String(length=40), nullable=False),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_force_code'], ['task_forces.code'], name=op.f('fk_api_keys_task_force_code_task_forces')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_api_keys_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_unit_code'), ['unit_code'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('unit_code', sa.String(length=40), nullable=False),
    sa.Column('task_force_code', sa.String(length=40), nullable=False),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_force_code'], ['task_forces.code'], name=op.f('fk_users_task_force_code_task_forces')),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_users_unit_code_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_unit_code'), ['unit_code'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=120), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('uploaded_by', sa.String(length=80), nullable=False),
    sa.Column('uploader_unit', sa.String(length=40), nullable=True),
    sa.Column('history_seq', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_sha256'), ['sha256'], unique=False)

    op.create_table('auth_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_auth_tokens'))
    )
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_tokens_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_auth_tokens_user_id'), ['user_id'], unique=False)

    if op.get_context().dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
    else:
        for statement in POSTGRES_SEARCH:
            op.execute(statement)


# The string values of a JSON document, space-separated (keys, numbers and booleans left out).
_SQLITE_JSON_TEXT = "(SELECT coalesce(group_concat(value, ' '), '') FROM json_tree({col}) WHERE type = 'text')"
_CASE_ROW = ("INSERT INTO case_search_fts(rowid, title, description, body) VALUES "
             "(new.id, new.title, new.description, " + _SQLITE_JSON_TEXT.format(col="new.data") + ");")
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE case_search_fts USING fts5(title, description, body, tokenize='trigram')",
    "CREATE VIRTUAL TABLE history_search_fts USING fts5(body, case_id UNINDEXED, tokenize='trigram')",
    "CREATE TRIGGER cases_search_ai AFTER INSERT ON cases BEGIN " + _CASE_ROW + " END",
    # Only when the searchable columns change: the per-event UPDATE (state, version) never fires it.
    "CREATE TRIGGER cases_search_au AFTER UPDATE OF title, description, data ON cases BEGIN "
    "DELETE FROM case_search_fts WHERE rowid = old.id; " + _CASE_ROW + " END",
    "CREATE TRIGGER cases_search_ad AFTER DELETE ON cases BEGIN "
    "DELETE FROM case_search_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER history_search_ai AFTER INSERT ON case_history WHEN new.payload NOT IN ('{}', 'null') BEGIN "
    "INSERT INTO history_search_fts(rowid, body, case_id) VALUES (new.id, "
    + _SQLITE_JSON_TEXT.format(col="new.payload") + ", new.case_id); END",
    "CREATE TRIGGER history_search_ad AFTER DELETE ON case_history BEGIN "
    "DELETE FROM history_search_fts WHERE rowid = old.id; END",
]
POSTGRES_SEARCH = [
    # Trusted since PostgreSQL 13: a database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE FUNCTION gz_json_text(j jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
    "SELECT coalesce(string_agg(v #>> '{}', ' '), '') FROM jsonb_path_query(j, 'strict $.**') AS v "
    "WHERE jsonb_typeof(v) = 'string' $$",
    "CREATE INDEX ix_cases_search_trgm ON cases USING gin "
    "((title || ' ' || description || ' ' || gz_json_text(data)) gin_trgm_ops)",
    "CREATE INDEX ix_case_history_search_trgm ON case_history USING gin (gz_json_text(payload) gin_trgm_ops)",
]


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for name in ("cases_search_ai", "cases_search_au", "cases_search_ad", "history_search_ai",
                     "history_search_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS case_search_fts")
        op.execute("DROP TABLE IF EXISTS history_search_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_case_history_search_trgm")
        op.execute("DROP INDEX IF EXISTS ix_cases_search_trgm")
        op.execute("DROP FUNCTION IF EXISTS gz_json_text(jsonb)")
        # pg_trgm stays: another schema object may use it, and it costs nothing idle.
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_auth_tokens_expires_at'))

    op.drop_table('auth_tokens')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_sha256'))
        batch_op.drop_index(batch_op.f('ix_attachments_case_id'))

    op.drop_table('attachments')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_unit_code'))

    op.drop_table('users')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_unit_code'))

    op.drop_table('api_keys')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    op.drop_table('idempotency_keys')
