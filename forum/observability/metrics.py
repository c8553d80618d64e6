"""Prometheus metrics of one app: a registry per app (tests make many apps in one process), its
collectors, and the `/metrics` endpoint that serves it.

Each served process has its own numbers; scrape every process (each gunicorn on its own port).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from forum.extensions import csrf, limiter

log = logging.getLogger(__name__)

_EXTENSION = "forum_metrics"
ENDPOINT = "metrics.metrics"  # not counted in its own histogram
NAMESPACES = ("/chat", "/threads")
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# Seconds; uploads and exports of large files take longer than pages.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

bp = Blueprint("metrics", __name__)


@dataclass
class Metrics:
    registry: CollectorRegistry
    request_duration: Histogram
    socket_connections: Gauge
    chat_messages: Counter
    sockets: dict[str, set[str]] = field(default_factory=lambda: {n: set() for n in NAMESPACES})
    lock: threading.Lock = field(default_factory=threading.Lock)


def init_app(app: Flask) -> None:
    registry = CollectorRegistry(auto_describe=True)
    metrics = Metrics(
        registry=registry,
        request_duration=Histogram(
            "forum_http_request_duration_seconds",
            "Time to answer an HTTP request, by Flask endpoint, method and status class.",
            ["endpoint", "method", "status"], buckets=BUCKETS, registry=registry),
        socket_connections=Gauge(
            "forum_socket_connections",
            "Socket.IO connections open in this process, by namespace.",
            ["namespace"], registry=registry),
        chat_messages=Counter(
            "forum_chat_messages",
            "Chat messages created (committed) by this process.", registry=registry),
    )
    for namespace in NAMESPACES:
        metrics.socket_connections.labels(namespace).set(0)
    registry.register(OutboxCollector(app))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    app.extensions[_EXTENSION] = metrics
    app.register_blueprint(bp)


def of(app: Flask | None = None) -> Metrics | None:
    try:
        app = app or current_app._get_current_object()
    except RuntimeError:  # no app context
        return None
    return app.extensions.get(_EXTENSION)


# --- what the app reports ---------------------------------------------------------------------


def status_class(code: int) -> str:
    return f"{code // 100}xx" if 100 <= code < 600 else "other"


def observe_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    metrics = of()
    if metrics is None or endpoint == ENDPOINT:
        return
    metrics.request_duration.labels(
        endpoint or "unknown", method if method in METHODS else "other", status_class(status),
    ).observe(seconds)


def socket_opened(namespace: str, sid: str) -> None:
    metrics = of()
    if metrics is None:
        return
    with metrics.lock:
        sids = metrics.sockets.setdefault(namespace, set())
        sids.add(sid)
        metrics.socket_connections.labels(namespace).set(len(sids))


def socket_closed(namespace: str, sid: str) -> None:
    metrics = of()
    if metrics is None:
        return
    with metrics.lock:
        sids = metrics.sockets.setdefault(namespace, set())
        sids.discard(sid)
        metrics.socket_connections.labels(namespace).set(len(sids))


def chat_message_created() -> None:
    metrics = of()
    if metrics is not None:
        metrics.chat_messages.inc()


# --- read at scrape time ----------------------------------------------------------------------


class OutboxCollector:
    """The e-mail outbox, read from the database at each scrape (one indexed query). When the
    database does not answer, these metrics are left out and a warning is logged."""

    def __init__(self, app: Flask):
        self.app = app

    def describe(self):
        return []  # nothing to check at registration: collect() queries the database

    def collect(self):
        from sqlalchemy import func, select

        from forum.extensions import db
        from forum.notifications.models import OutboxEmail, OutboxStatus
        from forum.timeutil import utcnow

        waiting = (OutboxStatus.PENDING, OutboxStatus.SENDING)
        try:
            with self.app.app_context(), db.engine.connect() as connection:
                rows = connection.execute(
                    select(OutboxEmail.status, func.count(), func.min(OutboxEmail.created_at))
                    .where(OutboxEmail.status.in_((*waiting, OutboxStatus.FAILED)))
                    .group_by(OutboxEmail.status)).all()
        except Exception as error:  # a scrape must answer whatever the database does
            log.warning("metrics: could not read the outbox: %s: %s", type(error).__name__,
                        (str(error).splitlines() or [""])[0])
            return
        counts = {status: count for status, count, _ in rows}
        oldest = [first for status, _, first in rows if status in waiting and first is not None]
        age = max(0.0, (utcnow() - min(oldest)).total_seconds()) if oldest else 0.0
        yield GaugeMetricFamily(
            "forum_outbox_queue_length", "E-mails waiting to be sent (pending or being sent).",
            value=sum(counts.get(status, 0) for status in waiting))
        yield GaugeMetricFamily(
            "forum_outbox_oldest_unsent_age_seconds",
            "Age of the oldest e-mail not sent yet (0 when none waits).", value=age)
        yield GaugeMetricFamily(
            "forum_outbox_failed", "E-mails given up after too many attempts (kept for a look).",
            value=counts.get(OutboxStatus.FAILED, 0))


# --- the endpoint ------------------------------------------------------------------------------


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def allowed() -> bool:
    """With FORUM_METRICS_TOKEN: `Authorization: Bearer <token>` (compared in constant time),
    from anywhere. Without: only requests from this machine. Behind a proxy with
    FORUM_TRUST_PROXY=1 the remote address is the forwarded client's, so a request from outside
    through the proxy is refused."""
    token = current_app.config.get("FORUM_METRICS_TOKEN") or ""
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode())
    return _loopback(request.remote_addr)


@bp.get("/metrics")
@limiter.exempt
@csrf.exempt
def metrics():
    if not allowed():
        abort(404)  # not advertised
    # The text format Prometheus asks for (OpenMetrics when its Accept header says so).
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = Response(encode(of().registry))
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = "no-store"
    return response
