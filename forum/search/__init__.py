"""Search over everything a person may see: SQLite FTS5 or PostgreSQL text search (see
services.py).

The indexes are built by migrations 0004 (posts) and 0011 (chat messages, materials) and are
not described by the models (they differ between the two databases), so Alembic's
model-versus-database comparisons pass `include_object` to leave them alone.
"""

from __future__ import annotations

INDEXED_TABLES = ("post", "chat_message", "material")
# SQLite: the FTS5 tables (and their shadow tables) are named after the table they index.
SEARCH_TABLE_PREFIXES = tuple(f"{name}_fts" for name in INDEXED_TABLES)
SEARCH_COLUMN = "search_vector"  # PostgreSQL: <table>.search_vector, a stored tsvector
SEARCH_INDEXES = ("ix_post_search", "ix_chat_message_search", "ix_material_search")  # GIN


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic `include_object` hook: skip the search indexes, which live outside the
    models."""
    if type_ == "table":
        return not (name or "").startswith(SEARCH_TABLE_PREFIXES)
    if type_ == "column":
        return not (name == SEARCH_COLUMN and obj.table.name in INDEXED_TABLES)
    return not (type_ == "index" and name in SEARCH_INDEXES)
