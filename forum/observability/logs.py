"""Log lines an operator can search: one handler on the root logger, writing to stderr.

Text (default):
    2026-12-03T08:40:01.123Z INFO forum.chat request_id=4f1c… user_id=12 the message
JSON (FORUM_LOG_FORMAT=json), one object per line:
    {"timestamp": "2026-12-03T08:40:01.123Z", "level": "INFO", "logger": "forum.chat",
     "message": "…", "request_id": "4f1c…", "user_id": 12, "exc_info": "Traceback …"}

The request id and the user id come from the request being served (flask.g; the user only when
Flask-Login has already loaded them: logging never queries the database). Gunicorn's own loggers
keep their handlers and do not propagate here (see forum.observability.gunicorn).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter

# The forum's loggers log at FORUM_LOG_LEVEL; other libraries at WARNING and above, except the
# migration tools, whose INFO lines say what `flask db upgrade` did.
OWN_LOGGERS = ("forum",)
INFO_LOGGERS = ("alembic", "flask_migrate")
OTHER_LEVEL = logging.WARNING


def iso_utc(created: float) -> str:
    """2026-12-03T08:40:01.123Z"""
    moment = datetime.fromtimestamp(created, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def current_ids() -> tuple[str | None, int | None]:
    """(request id, user id) of the request or Socket.IO event being handled, else Nones."""
    from flask import g, has_app_context, has_request_context

    if not has_app_context():
        return None, None
    request_id = g.get("request_id")
    user_id = g.get("log_user_id")
    if user_id is None and has_request_context():
        user_id = _loaded_user_id(g.get("_login_user"))
    return request_id, user_id


def _loaded_user_id(user) -> int | None:
    """The id of the user Flask-Login loaded for this request, without touching the database
    (the identity key survives an expired instance; reading `user.id` could refresh it)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    from sqlalchemy import inspect
    from sqlalchemy.exc import NoInspectionAvailable

    try:
        identity = inspect(user).identity
    except NoInspectionAvailable:
        return None
    return identity[0] if identity else None


class RequestContextFilter(logging.Filter):
    """Puts `request_id` and `user_id` on every record (None outside a request); values given
    with `extra=` are kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id") or not hasattr(record, "user_id"):
            try:
                request_id, user_id = current_ids()
            except Exception:  # logging must never fail a request
                request_id, user_id = None, None
            if not hasattr(record, "request_id"):
                record.request_id = request_id
            if not hasattr(record, "user_id"):
                record.user_id = user_id
        return True


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(levelname)s %(name)s request_id=%(request_id)s "
                         "user_id=%(user_id)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        for name in ("request_id", "user_id"):
            if getattr(record, name, None) is None:
                setattr(record, name, "-")
        return f"{iso_utc(record.created)} {super().format(record)}"


class JsonLineFormatter(JsonFormatter):
    """timestamp, level, logger, message, request_id, user_id, exc_info (when present), and
    whatever else was given with `extra=`."""

    def __init__(self):
        super().__init__("%(levelname)s %(name)s %(message)s",
                         rename_fields={"levelname": "level", "name": "logger"})

    def add_fields(self, log_data, record, message_dict) -> None:
        log_data["timestamp"] = iso_utc(record.created)
        super().add_fields(log_data, record, message_dict)
        log_data.setdefault("request_id", getattr(record, "request_id", None))
        log_data.setdefault("user_id", getattr(record, "user_id", None))


def make_formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonLineFormatter()
    if fmt == "text":
        return TextFormatter()
    raise ValueError(f"FORUM_LOG_FORMAT must be text or json, not {fmt!r}")


class ForumHandler(logging.StreamHandler):
    """Writes to the stderr of the moment (or to the stream given): a handler made once must not
    keep a stream that was replaced since (test runners swap sys.stderr)."""

    def __init__(self, stream=None):
        super().__init__(stream)
        self._fixed = stream

    @property
    def stream(self):
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ and setStream assign it
        self._fixed = value if value is not sys.stderr else None


class AlembicBoilerplate(logging.Filter):
    """Alembic says "Context impl …" and "Will assume … DDL" each time a migration context is
    made, which the schema check of a served process does every few seconds: not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Context impl", "Will assume"))


class RefusedOriginIsAWarning(logging.Filter):
    """Engine.IO logs a connection from a foreign origin (refused, as it should be) at ERROR
    level; it is a visitor's doing, not the server's fault: a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and "is not an accepted origin" in str(record.msg):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def installed_handler() -> ForumHandler | None:
    for handler in logging.getLogger().handlers:
        if isinstance(handler, ForumHandler):
            return handler
    return None


def configure(fmt: str = "text", level: str = "INFO", stream=None) -> ForumHandler:
    """Install (or re-configure) the one forum handler on the root logger. Idempotent: every
    `create_app` may call it; there is never more than one such handler."""
    level_number = logging.getLevelName(level.upper())
    if not isinstance(level_number, int):
        raise ValueError(f"FORUM_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    root = logging.getLogger()
    handler = installed_handler()
    if handler is None:
        handler = ForumHandler(stream)
        handler.addFilter(RequestContextFilter())
        root.addHandler(handler)
    else:
        handler.stream = stream
    handler.setFormatter(make_formatter(fmt))
    root.setLevel(max(OTHER_LEVEL, level_number))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level_number)
    # Flask gives `app.logger` ("forum") its own handler if it is used before this runs.
    from flask.logging import default_handler

    logging.getLogger("forum").removeHandler(default_handler)
    for name in INFO_LOGGERS:
        logging.getLogger(name).setLevel(min(logging.INFO, level_number))
    migration = logging.getLogger("alembic.runtime.migration")
    if not any(isinstance(f, AlembicBoilerplate) for f in migration.filters):
        migration.addFilter(AlembicBoilerplate())
    engineio = logging.getLogger("engineio.server")
    if not any(isinstance(f, RefusedOriginIsAWarning) for f in engineio.filters):
        engineio.addFilter(RefusedOriginIsAWarning())
    return handler


def remove() -> None:
    """Take the forum handler off again (tests)."""
    handler = installed_handler()
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()
