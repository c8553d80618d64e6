"""Flask extensions, created unbound here and initialised in `create_app`."""

import time

from flask import has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import Pool


class Base(DeclarativeBase):
    # Named constraints so that Alembic can alter them on SQLite (batch mode) and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


# --- reading requests on PostgreSQL: no transaction, so no BEGIN and no ROLLBACK ----------------
#
# With psycopg every BEGIN, COMMIT and ROLLBACK is a round trip to the server of its own. A page
# that only reads does not need them: on PostgreSQL a GET or HEAD request's session reads on an
# AUTOCOMMIT connection, so each statement sees what was committed when it started (READ
# COMMITTED per statement; the pages were READ COMMITTED before too, which does not keep one
# snapshot across statements either). A write in such a request still gets a real transaction:
# before its first INSERT, UPDATE, DELETE, flush or SELECT ... FOR UPDATE the session sends
# BEGIN itself, and the service's commit() sends COMMIT (rollback() and the end of the request
# ROLLBACK), so what a service writes together is committed together, as in a POST. Forms
# (POST) and everything outside a request (CLI, jobs, Socket.IO handlers, tests) are unchanged.
# SQLite has no round trips and keeps its transactions as they were.

READING = "forum.reading"  # in the WSGI environ: this request reads on an AUTOCOMMIT connection
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def mark_reading_request() -> None:
    """before_request (registered first): a GET/HEAD on PostgreSQL reads without a transaction.
    Set per request rather than read from `request.method` when the session begins, so that
    Socket.IO handlers (their request is the handshake's GET) keep real transactions."""
    if request.method in SAFE_METHODS:
        request.environ[READING] = True


class Session(FlaskSession):
    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        if (bind is None and has_request_context() and request.environ.get(READING)
                and engine.dialect.driver == "psycopg"):
            return _autocommit(engine)
        return engine


def _autocommit(engine: Engine) -> Engine:
    # One option engine per engine, kept on it (same pool): a session must get the same bind
    # every time it asks, or it would hold two connections.
    reading = engine.__dict__.get("_forum_reading")
    if reading is None:
        reading = engine.__dict__["_forum_reading"] = engine.execution_options(
            isolation_level="AUTOCOMMIT")
    return reading


def _begin_for_write(session) -> None:
    """Open a real transaction before a write on a reading request's AUTOCOMMIT connection."""
    connection = session.connection()
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        return
    from psycopg.pq import TransactionStatus

    if connection.connection.dbapi_connection.info.transaction_status == TransactionStatus.IDLE:
        connection.exec_driver_sql("BEGIN")


@event.listens_for(Session, "before_flush")
def _flush_in_a_transaction(session, flush_context, instances) -> None:
    _begin_for_write(session)


@event.listens_for(Session, "do_orm_execute")
def _write_in_a_transaction(state) -> None:
    # atomic_alone: one statement whose caller commits right after it (nothing else to keep
    # together with it) runs as it is, itself a transaction on an AUTOCOMMIT connection.
    if state.execution_options.get("atomic_alone"):
        return
    if state.is_insert or state.is_update or state.is_delete or (
            state.is_select and getattr(state.statement, "_for_update_arg", None) is not None):
        _begin_for_write(state.session)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)
socketio = SocketIO()


THREADED_BUSY_MS = 30_000


def use_sqlite_synchronous(app) -> None:
    """Every SQLite connection of this app syncs as FORUM_SQLITE_SYNCHRONOUS says (call
    after `db.init_app`). In WAL mode "normal" writes a commit to the log without waiting
    for the disk (fsync at checkpoints only): under gevent a waiting commit holds up every
    socket and page of the process, which matters most to the chat."""
    level = app.config.get("FORUM_SQLITE_SYNCHRONOUS", "normal").upper()
    if level not in {"NORMAL", "FULL"}:
        raise ValueError(f"FORUM_SQLITE_SYNCHRONOUS: {level!r}")

    # Under threads (FORUM_ASYNC_MODE=threading, gunicorn's gthread worker) a writer waiting
    # for SQLite's write lock blocks only its own thread, so it may wait longer than the 5 s
    # that suit gevent (where SQLite's wait blocks the whole process): a burst of writers is
    # served in turn instead of failing with "database is locked" (issue 18, finding 3).
    threaded = app.config.get("FORUM_ASYNC_MODE") == "threading"

    def set_level(dbapi_connection, connection_record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA synchronous={level}")
        if threaded:
            cursor.execute(f"PRAGMA busy_timeout={THREADED_BUSY_MS}")
        cursor.close()

    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", set_level)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys (ON DELETE rules) and let readers work beside a writer."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


# --- checking pooled PostgreSQL connections ---------------------------------------------------
#
# pool_pre_ping costs a round trip ("SELECT 1") on every checkout, that is on every request. A
# connection used a moment ago is alive; one that sat in the pool for a while may have been
# cut (a database restart, a firewall's idle timeout). So a psycopg connection is checked only
# when it has been idle longer than PING_AFTER_IDLE seconds; a dead one is replaced before the
# request uses it. (A server restarted within those seconds fails the one request that finds
# its connection dead; SQLAlchemy then renews the whole pool.) SQLite keeps pool_pre_ping.
PING_AFTER_IDLE = 10.0  # seconds


@event.listens_for(Pool, "checkin")
def _remember_checkin(dbapi_connection, connection_record) -> None:
    connection_record.info["checked_in_at"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, connection_record, connection_proxy) -> None:
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    checked_in = connection_record.info.get("checked_in_at")
    if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE:
        return  # new, or used a moment ago
    autocommit = dbapi_connection.autocommit
    try:
        dbapi_connection.autocommit = True  # one round trip, no transaction
        dbapi_connection.execute("SELECT 1")
    except Exception as error:  # the pool replaces the connection and tries again
        raise exc.DisconnectionError() from error
    finally:
        if not dbapi_connection.closed:
            dbapi_connection.autocommit = autocommit
