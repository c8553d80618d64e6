"""Observability: log lines with request and user ids, the X-Request-ID header, /metrics.

`init_app(app)` (from create_app) installs the log handler (not under FORUM_ENV=testing, where
pytest's capture stays in charge), gives every request an id, times it for the metrics and
registers `/metrics`. Handlers elsewhere report through the small functions re-exported here.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

from forum.config import ConfigError
from forum.observability import logs
from forum.observability.logs import current_ids

# Light on purpose: gunicorn's master imports forum.observability.gunicorn (its logger class)
# before the gevent worker patches the standard library, so the metrics (Flask extensions,
# Socket.IO) are imported only when an app is made or reports something.

__all__ = ["init_app", "current_ids", "set_log_user", "chat_message_created", "socket_opened",
           "socket_closed", "REQUEST_ID_HEADER"]

REQUEST_ID_HEADER = "X-Request-ID"
# An id set by the proxy (nginx's $request_id: 32 hex digits) is kept if it is a plain token.
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# What gunicorn's access log reads (forum.observability.gunicorn): a dict put into the WSGI
# environ before Flask-SocketIO's middleware copies the environ, filled in after the request.
ENVIRON_NOTES = "forum.log"


class AccessLogNotes:
    """WSGI middleware (outside the Socket.IO one): gives each request a dict that the app fills
    with its request id and user id, and the server's access log reads afterwards."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ.setdefault(ENVIRON_NOTES, {})
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    fmt, level = app.config["FORUM_LOG_FORMAT"], app.config["FORUM_LOG_LEVEL"]
    try:
        logs.make_formatter(fmt)
        if not isinstance(logging.getLevelName(level), int):
            raise ValueError(f"FORUM_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, "
                             f"not {level!r}")
    except ValueError as error:
        raise ConfigError(str(error)) from None
    if app.config["FORUM_ENV"] != "testing":
        logs.configure(fmt, level)
    from forum.observability import metrics

    metrics.init_app(app)
    app.wsgi_app = AccessLogNotes(app.wsgi_app)

    def start_request():
        g.request_started = time.perf_counter()
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex

    # First of all before-request hooks: whatever the others log carries the id.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)

    @app.after_request
    def finish_request(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers[REQUEST_ID_HEADER] = request_id
        notes = request.environ.get(ENVIRON_NOTES)
        if notes is not None:
            notes.update(request_id=request_id, user_id=current_ids()[1])
        started = g.get("request_started")
        if started is not None:
            endpoint = request.url_rule.endpoint if request.url_rule else None
            metrics.observe_request(endpoint, request.method, response.status_code,
                                    time.perf_counter() - started)
        return response


def set_log_user(user_id: int | None) -> None:
    """Name the person behind a Socket.IO event in the log lines it makes (HTTP requests
    find them by themselves)."""
    g.log_user_id = user_id


def chat_message_created() -> None:
    from forum.observability import metrics

    metrics.chat_message_created()


def socket_opened(namespace: str, sid: str) -> None:
    from forum.observability import metrics

    metrics.socket_opened(namespace, sid)


def socket_closed(namespace: str, sid: str) -> None:
    from forum.observability import metrics

    metrics.socket_closed(namespace, sid)
