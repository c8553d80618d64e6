"""search everything: chat messages and materials (with the text of their files)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

Adds `search_text` to chat_message and material, and `text` (the text extracted from the
file) to material_version. Each search text is indexed like post.search_text in 0004:
SQLite: an external-content FTS5 table kept in sync by triggers; PostgreSQL: a stored
generated tsvector column ('simple' configuration: the text is already folded and carries
its stems, see forum/searchtext.py) with a GIN index. Neither index is described by the
models; forum.search.include_object makes Alembic ignore them.

The new columns start empty, and earlier posts keep a search text without word stems:
`flask forum reindex-search` fills them (README "Search"); `make run` runs it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TABLES = ("chat_message", "material")


def _sqlite_index(table):
    fts = f"{table}_fts"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {fts}_after_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"CREATE TRIGGER {fts}_after_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); END",
        f"CREATE TRIGGER {fts}_after_update AFTER UPDATE OF search_text ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def upgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                          server_default=''))
    with op.batch_alter_table('material_version') as batch_op:
        batch_op.add_column(sa.Column('text', sa.Text(), nullable=False, server_default=''))
    for table in TABLES:
        if dialect == "sqlite":
            for statement in _sqlite_index(table):
                op.execute(statement)
        elif dialect == "postgresql":
            op.execute(f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED "
                       "ALWAYS AS (to_tsvector('simple', search_text)) STORED")
            op.execute(f"CREATE INDEX ix_{table}_search ON {table} USING gin (search_vector)")


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "sqlite":
            fts = f"{table}_fts"
            for suffix in ("after_update", "after_delete", "after_insert"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        elif dialect == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search")
            op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
    with op.batch_alter_table('material_version') as batch_op:
        batch_op.drop_column('text')
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('search_text')
