"""Is the database schema where this code expects it? (the migration head of `migrations/`)

`schema_state(app)` compares the database's `alembic_version` with the head revision(s) of the
code's migrations:

- "current": the database is at the code's head;
- "behind": the database is at an older revision the code knows (or has no `alembic_version`
  at all): `flask db upgrade` has not been run for this code. Not ready; the app refuses to
  serve pages in production (forum.health);
- "ahead": the database has a revision this code does not know. During a rolling upgrade newer
  code has already migrated it, and this (older) process must keep serving until it is
  restarted: ready. Migrations are written to stay compatible with the previous release's code
  (tests/test_upgrade_compat.py).

The code's head is read once per process; the database's revision at most every
`CACHE_SECONDS` per app, so a request-wide check costs a clock reading.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Flask

CACHE_SECONDS = 5.0
_EXTENSION = "forum_schema"


@dataclass(frozen=True)
class SchemaState:
    state: str  # current | behind | ahead
    database: str | None  # the database's revision(s), comma-separated; None: no table
    code: str  # the code's head revision(s), comma-separated

    @property
    def ok(self) -> bool:
        return self.state != "behind"

    def as_dict(self) -> dict:
        return {"ok": self.ok, **asdict(self)}


class _Cache:
    def __init__(self, directory: str):
        self.directory = directory
        self.lock = threading.Lock()
        self.heads: frozenset[str] | None = None
        self.known: frozenset[str] = frozenset()
        self.state: SchemaState | None = None
        self.checked_at = float("-inf")


def _cache(app: Flask) -> _Cache:
    cache = app.extensions.get(_EXTENSION)
    if cache is None:
        migrate = app.extensions.get("migrate")
        directory = migrate.directory if migrate is not None else "migrations"
        if not Path(directory).is_absolute():
            directory = str(Path(app.root_path).parent / directory)
        cache = app.extensions.setdefault(_EXTENSION, _Cache(directory))
    return cache


def _load_code_revisions(cache: _Cache) -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(cache.directory)
    cache.known = frozenset(script.revision for script in scripts.walk_revisions())
    cache.heads = frozenset(scripts.get_heads())


def code_heads(app: Flask) -> frozenset[str]:
    """The head revision(s) of the code's migrations (read once per process)."""
    cache = _cache(app)
    if cache.heads is None:
        with cache.lock:
            if cache.heads is None:
                _load_code_revisions(cache)
    return cache.heads


def database_revisions(app: Flask) -> frozenset[str]:
    """The revision(s) in the database's alembic_version; empty when there is none (or no
    table). Raises SQLAlchemyError when the database does not answer."""
    from alembic.runtime.migration import MigrationContext

    from forum.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        return frozenset(MigrationContext.configure(connection).get_current_heads())


def compare(database: frozenset[str], heads: frozenset[str], known: frozenset[str]) -> str:
    if database == heads:
        return "current"
    if database - known:  # a revision written by newer code
        return "ahead"
    return "behind"


def _join(revisions) -> str | None:
    return ",".join(sorted(revisions)) if revisions else None


def schema_state(app: Flask, *, max_age: float | None = None) -> SchemaState:
    """The database's schema compared with the code's (cached for `max_age` seconds, by
    default CACHE_SECONDS). Raises SQLAlchemyError when the database does not answer (nothing
    is cached then)."""
    cache = _cache(app)
    now = time.monotonic()
    max_age = CACHE_SECONDS if max_age is None else max_age
    if cache.state is not None and now - cache.checked_at < max_age:
        return cache.state
    heads = code_heads(app)
    database = database_revisions(app)
    state = SchemaState(compare(database, heads, cache.known), _join(database), _join(heads))
    cache.state, cache.checked_at = state, now
    return state


def forget(app: Flask) -> None:
    """Check the database again on the next call (after `flask db upgrade` in tests)."""
    cache = app.extensions.get(_EXTENSION)
    if cache is not None:
        cache.state, cache.checked_at = None, float("-inf")
