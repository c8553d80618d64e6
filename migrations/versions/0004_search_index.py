"""full-text search index on posts (SQLite FTS5, PostgreSQL GIN)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

SQLite: an external-content FTS5 table over post.search_text, kept in sync by triggers.
PostgreSQL: a stored generated column post.search_vector = to_tsvector('simple', search_text)
with a GIN index. Stored rather than an index on the expression: ranking and rechecking rows
then read the vector instead of parsing the text again (on a million posts a common word took
seconds with the expression index, tens of milliseconds with the column).
Neither is described by the models; forum.search.include_object makes Alembic ignore them.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE post_fts USING fts5(search_text, content='post', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER post_fts_after_insert AFTER INSERT ON post BEGIN "
    "INSERT INTO post_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER post_fts_after_delete AFTER DELETE ON post BEGIN "
    "INSERT INTO post_fts(post_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER post_fts_after_update AFTER UPDATE OF search_text ON post BEGIN "
    "INSERT INTO post_fts(post_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO post_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO post_fts(post_fts) VALUES ('rebuild')",
]

SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS post_fts_after_update",
    "DROP TRIGGER IF EXISTS post_fts_after_delete",
    "DROP TRIGGER IF EXISTS post_fts_after_insert",
    "DROP TABLE IF EXISTS post_fts",
]


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_UPGRADE:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("ALTER TABLE post ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
                   "(to_tsvector('simple', search_text)) STORED")
        op.execute("CREATE INDEX ix_post_search ON post USING gin (search_vector)")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_post_search")
        op.execute("ALTER TABLE post DROP COLUMN IF EXISTS search_vector")
