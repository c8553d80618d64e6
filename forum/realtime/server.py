"""The app's Socket.IO server: options, origins, publishing, cutting people off.

`socketio` in forum.extensions is one object for the whole process, re-initialised by every
`create_app` (tests make many apps). Each app therefore keeps the Socket.IO server made for it
in `app.extensions["forum_realtime"]`, and every namespace publishes through that one.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import socketio as python_socketio
from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from forum.errors import Refused
from forum.events import after_commit
from forum.extensions import db
from forum.realtime.models import SocketCutoff
from forum.realtime.presence import CHECK_SECONDS, REFRESH_SECONDS, make_presence
from forum.redis_names import limits_storage, redis_name
from forum.timeutil import utcnow

log = logging.getLogger(__name__)

_EXTENSION = "forum_realtime"


# --- set-up ----------------------------------------------------------------------------------


MAX_PACKET_BYTES = 1_000_000


def socketio_options(app: Flask) -> dict:
    """Options for `socketio.init_app`: async mode, message queue, allowed origins.

    The client manager is always given explicitly: Flask-SocketIO keeps options between
    `init_app` calls, and an app without Redis must not inherit the previous app's queue.
    The channel carries the installation's prefix: publish/subscribe ignores Redis database
    numbers, and rooms are named by ids that coincide between installations.
    """
    url = app.config.get("SOCKETIO_MESSAGE_QUEUE") or ""
    manager = (ResyncingRedisManager(url, channel=redis_name(app.config, "socketio"),
                                     on_resumed=lambda lost_at: _queue_resumed(app, lost_at))
               if url else python_socketio.Manager())
    return {
        "async_mode": app.config["FORUM_ASYNC_MODE"],
        "manage_session": False,
        "client_manager": manager,
        "cors_allowed_origins": allowed_origin,
        "cors_credentials": True,
        # Far above the chat's limit (FORUM_CHAT_MAX_LENGTH characters): a body too long for
        # the chat still arrives and gets a "too_long" answer; only a packet over this size
        # makes Engine.IO close the connection.
        "max_http_buffer_size": MAX_PACKET_BYTES,
    }


class ResyncingRedisManager(python_socketio.RedisManager):
    """python-socketio's Redis message queue, listening again within RETRY_SECONDS of Redis
    coming back (the stock one waits 1, 2, 4 … 60 s) and calling `on_resumed(lost_at)` once
    it listens again: every event published while this worker was not listening (the outage
    and the moment after it) was lost for its clients, who are then told to fetch what they
    missed (issue 18, finding 1; the chat's `resync`)."""

    RETRY_SECONDS = 0.5

    def __init__(self, *args, on_resumed=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.on_resumed = on_resumed

    lost_at: float | None = None  # since when this worker cannot listen (None: it can)

    def _redis_listen_with_retries(self):  # the listening loop of python-socketio's manager
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                lost_at, self.lost_at = self.lost_at, None
                if lost_at is not None:
                    log.warning("the message queue is back after %.1f s; clients resync",
                                time.time() - lost_at)
                    if self.on_resumed is not None:
                        try:
                            self.on_resumed(lost_at)
                        except Exception:
                            log.exception("telling clients to resync failed")
                yield from self.pubsub.listen()
            except Exception as error:
                if self.lost_at is None:
                    self.lost_at = time.time()
                    log.warning("lost the message queue (%s); trying again every %.1f s",
                                error, self.RETRY_SECONDS)
                time.sleep(self.RETRY_SECONDS)


def queue_reachable() -> bool:
    """False while this worker has lost its message queue: what it publishes reaches nobody."""
    return getattr(state().server.manager, "lost_at", None) is None


def on_queue_resumed(app: Flask, hook) -> None:
    """Register a namespace's `hook(lost_at)`, called (in an app context) when this worker
    listens to the message queue again after losing it since the time `lost_at`."""
    state(app).resume_hooks.append(hook)


def _queue_resumed(app: Flask, lost_at: float) -> None:
    with app.app_context():
        for hook in state(app).resume_hooks:
            try:
                hook(lost_at)
            except Exception:  # one namespace failing must not keep the others stale
                log.exception("resume hook %r failed", hook)
            finally:
                db.session.remove()


class FallingBackLimiter:
    """The chat's rate limits in their storage (Redis when configured), or in this process's
    memory while the storage cannot be reached: sending keeps working with per-process counts
    and a warning in the log, instead of a server error (issue 18, finding 5)."""

    RETRY_SECONDS = 5.0

    def __init__(self, storage) -> None:
        self.primary = MovingWindowRateLimiter(storage)
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        self.failed_at: float | None = None

    def _call(self, name: str, *args):
        now = time.monotonic()
        if self.failed_at is None or now - self.failed_at > self.RETRY_SECONDS:
            try:
                result = getattr(self.primary, name)(*args)
            except Exception as error:  # redis.ConnectionError, TimeoutError, …
                if self.failed_at is None:
                    log.warning("chat rate limits: storage unreachable (%s); counting in this "
                                "process until it is back", error)
                self.failed_at = now
            else:
                if self.failed_at is not None:
                    log.warning("chat rate limits: storage reachable again")
                self.failed_at = None
                return result
        return getattr(self.memory, name)(*args)

    def hit(self, item, *keys) -> bool:
        return self._call("hit", item, *keys)

    def get_window_stats(self, item, *keys):
        return self._call("get_window_stats", item, *keys)


@dataclass
class RealtimeState:
    server: python_socketio.Server
    presence: object  # who is in which group (presence.MemoryPresence | RedisPresence)
    limiter: FallingBackLimiter
    refresher_started: bool = False
    cutoff_watcher_started: bool = False
    group_slugs: dict[int, str] = field(default_factory=dict)  # for presence_changed
    # Each namespace's `fn(user_id, reason)`: tell the person's sockets why, then cut them off.
    disconnect_hooks: list = field(default_factory=list)
    # Each namespace's `fn(lost_at)`: the message queue is back after an outage.
    resume_hooks: list = field(default_factory=list)


def init_app(app: Flask) -> None:
    """Call right after `socketio.init_app(app)`: remembers the server made for this app."""
    from forum.extensions import socketio

    app.extensions[_EXTENSION] = RealtimeState(
        server=socketio.server,
        presence=make_presence(app.config.get("FORUM_REDIS_URL") or None,
                               redis_name(app.config, "chat")),
        limiter=FallingBackLimiter(limits_storage(app.config)),
    )
    app.wsgi_app = QuietWebSocketDeparture(app.wsgi_app)


class QuietWebSocketDeparture:
    """A browser that leaves a page while its connection is being upgraded to WebSocket
    closes the socket under Engine.IO, which then raises a bare OSError; gunicorn would log
    that as a server error. Under gunicorn, end the hijacked connection the way Engine.IO
    does when a WebSocket ends normally (StopIteration). Real socket errors (with an errno)
    and every other request pass through untouched."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if (environ.get("HTTP_UPGRADE", "").lower() != "websocket"
                or "gunicorn.socket" not in environ):
            return self.app(environ, start_response)
        try:
            return self.app(environ, start_response)
        except OSError as error:
            if error.errno is not None:
                raise
            log.info("a WebSocket was closed by the client during the upgrade")
            raise StopIteration() from None


def state(app: Flask | None = None) -> RealtimeState:
    return (app or current_app).extensions[_EXTENSION]


def start_presence_refresher() -> None:
    """With Redis, keep this worker's presence entries alive (one background task)."""
    realtime = state()
    if realtime.refresher_started or not realtime.presence.needs_refresh():
        return
    realtime.refresher_started = True
    server, presence = realtime.server, realtime.presence

    def refresh_forever():
        last = time.monotonic()
        while True:
            server.sleep(CHECK_SECONDS)
            try:
                if time.monotonic() - last >= REFRESH_SECONDS or presence.lost_data():
                    presence.refresh()
                    last = time.monotonic()
            except Exception as error:  # Redis away for a moment: again at the next tick
                log.warning("refreshing chat presence failed: %s", error)

    server.start_background_task(refresh_forever)


# --- origins ---------------------------------------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins(config, environ) -> set[str]:
    """The app's own origin: FORUM_BASE_URL's; outside production (a demo reached by another
    name or port) also the one the request was addressed to. Production trusts only the
    address it names (a Host header is whatever a DNS-rebinding page makes it, issue 19)."""
    origins = {_origin(config["FORUM_BASE_URL"])} if config else set()
    if config and config.get("FORUM_ENV") == "production":
        return origins
    host = environ.get("HTTP_HOST")
    if host:
        origins.add(f"{environ.get('wsgi.url_scheme', 'http')}://{host}".lower())
    return origins


def allowed_origin(origin: str | None, environ: dict) -> bool:
    """Engine.IO asks this for every request that has an Origin header."""
    if not origin:
        return True  # judged by `connection_allowed` at connect time
    app = environ.get("flask.app")
    return origin.lower() in own_origins(app.config if app else None, environ)


def connection_allowed(headers, environ, config) -> bool:
    """No cross-site socket: a foreign Origin is refused, and so is a browser without one.

    Browsers send Origin on WebSocket handshakes and cross-origin requests, but not on a
    same-origin GET (the polling handshake); there they send `Sec-Fetch-Site: same-origin`.
    A browser-like request with neither is refused. Clients that are not browsers (no Origin,
    no fetch metadata, no browser User-Agent) still need a valid session cookie.
    """
    origin = headers.get("Origin")
    if origin:
        return origin.lower() in own_origins(config, environ)
    site = headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    return not headers.get("User-Agent", "").startswith("Mozilla/")


# --- publishing and cutting off -------------------------------------------------------------


def enter_room(sid: str, room: str, *, namespace: str) -> None:
    """Put an event's socket into a room. A socket can disconnect while its event is still
    being handled (the browser left the page): that is not a server error but a Refused
    ("disconnected"), whose acknowledgement nobody receives."""
    try:
        state().server.enter_room(sid, room, namespace=namespace)
    except ValueError as error:  # python-socketio: "sid is not connected to requested namespace"
        raise Refused("disconnected", _l("The connection was closed.")) from error


def publish(room: str, event: str, payload: dict, *, namespace: str,
            skip_sid: str | None = None) -> None:
    """Send to everyone in the room (every worker, through the message queue when set)."""
    state().server.emit(event, payload, to=room, namespace=namespace, skip_sid=skip_sid)


def publish_after_commit(room: str, event: str, payload: dict, *, namespace: str) -> None:
    """Queue `publish` for when the current transaction commits (dropped on rollback), so
    nothing is announced that did not happen."""
    server = state().server  # the app of this request, even if the commit runs elsewhere
    after_commit(lambda: server.emit(event, payload, to=room, namespace=namespace))


def on_disconnect_user(app: Flask, hook) -> None:
    """Register a namespace's `hook(user_id, reason)` (from the application factory)."""
    state(app).disconnect_hooks.append(hook)


def disconnect_user(user_id: int, reason: str) -> None:
    """Cut the person's sockets off in every namespace (every worker)."""
    for hook in state().disconnect_hooks:
        try:
            hook(user_id, reason)
        except Exception:  # one namespace failing must not keep the others connected
            log.exception("disconnect hook %r failed", hook)


def disconnect_after_commit(user_id: int, reason: str) -> None:
    """For services: once this transaction commits, end the person's sockets.

    reason: "signed_out" (logout, password change, deactivation) or "membership" (removed
    from a group, role changed: the client reconnects and joins again with what it may do).

    This process cuts them at once; the row written in the same transaction reaches serving
    processes that share no message queue with it (the command line without Redis), through
    `watch_cutoffs`.
    """
    db.session.add(SocketCutoff(user_id=user_id, reason=reason, origin=PROCESS_TOKEN))
    after_commit(lambda: disconnect_user(user_id, reason))


# Who wrote a cut-off row: this process acts on its own rows at once and skips them later.
PROCESS_TOKEN = secrets.token_hex(16)
CUTOFF_KEEP_SECONDS = 600  # rows older than this are deleted by the watchers


def start_cutoff_watcher(app: Flask | None = None) -> None:
    """In a process that serves sockets without a message queue, act on the cut-offs other
    processes write (one background task; FORUM_CUTOFF_POLL_SECONDS, 0: off)."""
    app = app or current_app._get_current_object()
    realtime = state(app)
    seconds = app.config.get("FORUM_CUTOFF_POLL_SECONDS", 0)
    if realtime.cutoff_watcher_started or not seconds or app.config.get("SOCKETIO_MESSAGE_QUEUE"):
        return
    realtime.cutoff_watcher_started = True
    with app.app_context():
        last = db.session.scalar(db.select(db.func.max(SocketCutoff.id))) or 0
    realtime.server.start_background_task(_watch_cutoffs, app, realtime.server, seconds, last)


def _watch_cutoffs(app: Flask, server, seconds: float, last: int) -> None:
    rounds = 0
    while True:
        server.sleep(seconds)
        rounds += 1
        try:
            with app.app_context():
                rows = db.session.execute(
                    db.select(SocketCutoff.id, SocketCutoff.user_id, SocketCutoff.reason,
                              SocketCutoff.origin)
                    .where(SocketCutoff.id > last).order_by(SocketCutoff.id)).all()
                for row in rows:
                    last = row.id
                    if row.origin != PROCESS_TOKEN:
                        log.info("cut-off from another process user_id=%s reason=%s",
                                 row.user_id, row.reason)
                        disconnect_user(row.user_id, row.reason)
                if rounds % 120 == 0:  # now and then: forget the old rows
                    old = utcnow() - timedelta(seconds=CUTOFF_KEEP_SECONDS)
                    db.session.execute(db.delete(SocketCutoff).where(
                        SocketCutoff.created_at < old))
                    db.session.commit()
        except Exception:  # the database away for a moment: try again at the next tick
            log.exception("reading socket cut-offs failed")


def ack_error(code: str, message) -> dict:
    """The negative acknowledgement (and connection refusal) of every namespace."""
    return {"ok": False, "error": code, "message": str(message)}


def admit(namespace_label: str, sign_in_message):
    """Connect handler's checks for every namespace: the app's own origin and a signed-in
    person; returns the user or raises ConnectionRefusedError with the error code."""
    if not connection_allowed(request.headers, request.environ, current_app.config):
        logging.getLogger("forum.security").warning(
            "%s connection refused (origin) origin=%s site=%s", namespace_label,
            request.headers.get("Origin"), request.headers.get("Sec-Fetch-Site"))
        raise ConnectionRefusedError(ack_error(
            "origin", _l("Connections from other sites are not accepted.")))
    if not current_user.is_authenticated:
        raise ConnectionRefusedError(ack_error("unauthorised", sign_in_message))
    start_cutoff_watcher()
    return current_user._get_current_object()


# --- the /socket.io endpoint's own answers ----------------------------------------------------

# Engine.IO answers /socket.io itself, outside Flask: these are the app's security headers for
# what it answers (a polling payload is data, never a page or a script).
SOCKET_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)


class SocketEndpointGuard:
    """WSGI middleware in front of Engine.IO's: refuses JSONP polling (`?j=`: the payload
    wrapped as a script, a same-origin script gadget for anything a member can write, issue
    19) and adds SOCKET_HEADERS to every answer of the Socket.IO path."""

    def __init__(self, wsgi_app, path: str = "/socket.io", hsts: bool = False):
        self.wsgi_app = wsgi_app
        self.path = path.rstrip("/")
        self.headers = SOCKET_HEADERS + ((("Strict-Transport-Security", "max-age=31536000"),)
                                         if hsts else ())

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path != self.path and not path.startswith(self.path + "/"):
            return self.wsgi_app(environ, start_response)

        def with_headers(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers = list(headers) + [(name, value) for name, value in self.headers
                                       if name.lower() not in present]
            return start_response(status, headers, exc_info)

        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if "j" in query:
            body = b"JSONP polling is not offered."
            with_headers("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8"),
                                             ("Content-Length", str(len(body)))])
            return [body]
        return self.wsgi_app(environ, with_headers)
