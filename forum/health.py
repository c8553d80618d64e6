"""Health checks for load balancers and the "being upgraded" guard.

- `GET /healthz` (liveness): the process answers. No dependency is checked; always 200.
- `GET /readyz` (readiness): the database answers, Redis answers (when configured), the schema
  is at the code's migration head (or ahead of it, during a rolling upgrade), the file storage
  takes a write. 200 when all pass, 503 otherwise; the JSON body names each check:
  `{"status": "ok"|"unavailable", "checks": {"database": {"ok": true}, ...}}`.

Both are exempt from rate limits and CSRF, set no cookie, and log a warning only when a check
changes from passing to failing (and an info line when it passes again), never per request.

In production (`FORUM_ENV=production`), while the schema is behind the code, every other page
answers 503 "The forum is being upgraded" (templates/errors/upgrading.html, no database use);
the schema is looked at at most every few seconds per process (forum.schema).
"""

from __future__ import annotations

import logging
import threading

from flask import Blueprint, Flask, current_app, jsonify, render_template, request, session
from flask_babel import force_locale

from forum import schema
from forum.config import LOCALES
from forum.extensions import csrf, db, limiter

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

REDIS_TIMEOUT = 2.0  # seconds, to connect and to answer PING
# Paths served during an upgrade: the probes, the metrics and the static files.
ALWAYS_SERVED = ("/healthz", "/readyz", "/metrics", "/static/")

_state_lock = threading.Lock()


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
@csrf.exempt
def readyz():
    checks = run_checks(current_app._get_current_object())
    ready = all(check["ok"] for check in checks.values())
    response = jsonify(status="ok" if ready else "unavailable", checks=checks)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def run_checks(app: Flask) -> dict[str, dict]:
    checks = {"database": check_database(app)}
    checks["schema"] = (check_schema(app) if checks["database"]["ok"]
                        else {"ok": False, "state": "unknown", "error": "database unavailable"})
    redis_url = app.config.get("FORUM_REDIS_URL") or ""
    queue_url = app.config.get("SOCKETIO_MESSAGE_QUEUE") or ""
    if redis_url:
        checks["redis"] = check_redis(app, redis_url)
    if queue_url and queue_url != redis_url:
        checks["message_queue"] = check_redis(app, queue_url)
    checks["storage"] = check_storage(app)
    _log_changes(app, checks)
    return checks


def _failed(name: str, error: BaseException) -> dict:
    # The body names the kind of error only (it may be public); the log has the details.
    log.debug("readiness check %s failed", name, exc_info=error)
    return {"ok": False, "error": type(error).__name__, "_detail": str(error)}


def check_database(app: Flask) -> dict:
    try:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as error:
        return _failed("database", error)
    return {"ok": True}


def check_schema(app: Flask) -> dict:
    try:
        return schema.schema_state(app).as_dict()
    except Exception as error:
        return _failed("schema", error)


def _redis_client(app: Flask, url: str):
    clients = app.extensions.setdefault("forum_health_redis", {})
    client = clients.get(url)
    if client is None:
        import redis

        client = clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
    return client


def check_redis(app: Flask, url: str) -> dict:
    try:
        _redis_client(app, url).ping()
    except Exception as error:
        return _failed("redis", error)
    return {"ok": True}


def check_storage(app: Flask) -> dict:
    from forum.materials.backends import storage_for

    try:
        storage_for(app).check_writable()
    except Exception as error:
        return _failed("storage", error)
    return {"ok": True}


def _log_changes(app: Flask, checks: dict[str, dict]) -> None:
    """A warning when a check starts failing, an info line when it passes again; details stay
    out of the response."""
    with _state_lock:
        previous = app.extensions.setdefault("forum_health_state", {})
        for name, check in checks.items():
            detail = check.pop("_detail", None)
            if previous.get(name, True) and not check["ok"]:
                log.warning("readiness: %s fails: %s", name,
                            detail or {k: v for k, v in check.items() if k != "ok"})
            elif previous.get(name) is False and check["ok"]:
                log.info("readiness: %s passes again", name)
            previous[name] = check["ok"]


# --- refusing to serve while the schema is behind the code -----------------------------------


def _guard_locale() -> str:
    """The reader's language without the database (no profile lookup)."""
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return (request.accept_languages.best_match(LOCALES)
            or current_app.config["BABEL_DEFAULT_LOCALE"])


def refuse_while_behind():
    """before_request: 503 "being upgraded" while the database schema is behind the code."""
    if request.path.startswith(ALWAYS_SERVED):
        return None
    app = current_app._get_current_object()
    try:
        state = schema.schema_state(app)
    except Exception:  # the database does not answer: the page itself will say so
        return None
    if state.ok:
        return None
    locale = _guard_locale()
    with force_locale(locale):
        body = render_template("errors/upgrading.html", lang=locale)
    return body, 503, {"Retry-After": "30", "Cache-Control": "no-store"}


def init_app(app: Flask) -> None:
    """In production, refuse pages while the schema is behind (first after the request id)."""
    if app.config["FORUM_ENV"] != "production":
        return  # development and tests: no cost per request
    hooks = app.before_request_funcs.setdefault(None, [])
    position = next((i + 1 for i, hook in enumerate(hooks)
                     if getattr(hook, "__name__", "") == "start_request"), 0)
    hooks.insert(position, refuse_while_behind)
