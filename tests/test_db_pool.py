"""The database pool follows FORUM_DB_POOL_SIZE / FORUM_DB_MAX_OVERFLOW on PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from forum import create_app
from forum.config import engine_options
from forum.extensions import db
from tests.conftest import make_config
from tests.loud_skips import skip_missing
from tests.servers import ComponentUnavailable, pgbouncer


def test_a_server_database_gets_the_configured_pool(make_app, database_url):
    app = make_app(FORUM_DB_POOL_SIZE=3, FORUM_DB_MAX_OVERFLOW=2,
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_timeout": 1})
    with app.app_context():
        pool = db.engine.pool
        if database_url.startswith("sqlite"):
            assert "pool_size" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
            with db.engine.connect() as connection:  # SQLAlchemy's own pool still works
                assert connection.scalar(sa.text("select 1")) == 1
            return
        assert isinstance(pool, sa.pool.QueuePool)
        assert pool.size() == 3 and pool._max_overflow == 2
        # Really at most 3 + 2 connections: the sixth waits pool_timeout and gives up.
        connections = [db.engine.connect() for _ in range(5)]
        try:
            pids = {c.scalar(sa.text("select pg_backend_pid()")) for c in connections}
            assert len(pids) == 5
            with pytest.raises(sa.exc.TimeoutError):
                db.engine.connect()
        finally:
            for connection in connections:
                connection.close()
        assert pool.checkedin() == 3  # the overflow ones are closed on return


def test_engine_options():
    server = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://forum@db/forum",
              "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
              "FORUM_DB_POOL_SIZE": 8, "FORUM_DB_MAX_OVERFLOW": 4}
    assert engine_options(server) == {"pool_pre_ping": True, "pool_size": 8, "max_overflow": 4}
    assert engine_options({**server, "FORUM_DB_PGBOUNCER": True})["connect_args"] == {
        "prepare_threshold": None}
    sqlite = {**server, "SQLALCHEMY_DATABASE_URI": "sqlite:////var/lib/forum/forum.db"}
    assert engine_options(sqlite) == {"pool_pre_ping": True}
    explicit = {**server, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20}}
    assert engine_options(explicit)["pool_size"] == 20


@pytest.fixture
def bouncer_url(_postgres):
    """PgBouncer 1.18 (Debian 12) in transaction mode, one server connection for everyone."""
    if isinstance(_postgres, ComponentUnavailable):
        skip_missing("PostgreSQL", _postgres.reason)
    try:
        manager = pgbouncer(_postgres, pool_size=1)
        url = manager.__enter__()
    except ComponentUnavailable as exc:
        skip_missing("PgBouncer", exc.reason)
    try:
        yield url.format(dbname="postgres")
    finally:
        manager.__exit__(None, None, None)


def _same_query_from_two_connections(app, rounds: int = 8) -> None:
    """Two app connections take turns (separate transactions) with one query, more often
    than psycopg's prepare_threshold (5); PgBouncer runs them all on one server connection."""
    with app.app_context():
        first, second = db.engine.connect(), db.engine.connect()
        try:
            for n in range(rounds):
                for connection in (first, second):
                    query = sa.text("select cast(:n as integer) + 1")
                    assert connection.scalar(query, {"n": n}) == n + 1
                    connection.commit()
        finally:
            first.close()
            second.close()
            db.engine.dispose()  # also when the query failed: no pooled connection left open


def test_behind_pgbouncer_in_transaction_mode(bouncer_url, smtp, tmp_path):
    def app_with(**settings):
        return create_app(make_config(bouncer_url, smtp, FORUM_STORAGE_ROOT=str(tmp_path),
                                      **settings))

    _same_query_from_two_connections(app_with(FORUM_DB_PGBOUNCER=True))
    # Without the setting, both clients' prepared statements meet on the server connection.
    with pytest.raises(sa.exc.DBAPIError, match="prepared statement"):
        _same_query_from_two_connections(app_with())
