"""Full-text search over posts: SQLite FTS5 or PostgreSQL text search (see services.py).

The index is built by migration 0004 and is not described by the models, so Alembic's
model-versus-database comparisons pass `include_object` to leave it alone.
"""

from __future__ import annotations

SEARCH_TABLE_PREFIX = "post_fts"  # the FTS5 table and its shadow tables (SQLite)
SEARCH_INDEX = "ix_post_search"  # the GIN index (PostgreSQL)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic `include_object` hook: skip the search index, which lives outside the models."""
    if type_ == "table" and name and name.startswith(SEARCH_TABLE_PREFIX):
        return False
    return not (type_ == "index" and name == SEARCH_INDEX)
