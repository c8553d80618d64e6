"""Full-text search over posts: SQLite FTS5 or PostgreSQL text search (see services.py).

The index is built by migration 0004 and is not described by the models (it differs between
the two databases), so Alembic's model-versus-database comparisons pass `include_object` to
leave it alone.
"""

from __future__ import annotations

SEARCH_TABLE_PREFIX = "post_fts"  # SQLite: the FTS5 table and its shadow tables
SEARCH_COLUMN = "search_vector"  # PostgreSQL: post.search_vector, a stored tsvector
SEARCH_INDEX = "ix_post_search"  # PostgreSQL: its GIN index


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic `include_object` hook: skip the search index, which lives outside the models."""
    if type_ == "table":
        return not (name or "").startswith(SEARCH_TABLE_PREFIX)
    if type_ == "column":
        return not (name == SEARCH_COLUMN and obj.table.name == "post")
    return not (type_ == "index" and name == SEARCH_INDEX)
