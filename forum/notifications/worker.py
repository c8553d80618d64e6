"""The mail worker: the batcher, then the sender, again and again.

Runs as `flask forum send-mail --loop`, or inside each served process (FORUM_MAIL_WORKER=1) as
a Socket.IO background task (a greenlet under gevent) started by the first request the process
serves, so that commands (`flask db upgrade`, …) never start one. Restarting loses nothing (the
outbox table is the queue) and sends nothing twice (claims and dedupe keys).
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask

from forum.extensions import db, socketio
from forum.notifications.batcher import BatchReport, run_batcher
from forum.notifications.outbox import DeliveryReport, deliver_all, purge_sent

log = logging.getLogger(__name__)


def run_once() -> tuple[BatchReport, DeliveryReport]:
    """One round (inside an app context): queue due notification e-mails, send due e-mails."""
    batch = run_batcher()
    delivery = deliver_all()
    purge_sent()
    return batch, delivery


class MailWorker:
    def __init__(self, app: Flask):
        self.app = app
        self.stopping = threading.Event()
        self.task = None

    def loop(self) -> None:
        poll = self.app.config["FORUM_MAIL_POLL_SECONDS"]
        log.info("mail worker started in process %s (every %ss)", os.getpid(), poll)
        while not self.stopping.is_set():
            with self.app.app_context():
                try:
                    batch, delivery = run_once()
                    if batch.emails or delivery.total:
                        log.info("mail worker: %d notification e-mail(s) queued; %d sent, "
                                 "%d to retry, %d failed", batch.emails, delivery.sent,
                                 delivery.retried, delivery.failed)
                except Exception:  # keep going: the next round retries
                    log.exception("mail worker round failed")
                    db.session.rollback()
                finally:
                    db.session.remove()
            socketio.sleep(poll)

    def start(self) -> MailWorker:
        self.task = socketio.start_background_task(self.loop)
        return self

    def stop(self, timeout: float = 10) -> None:
        self.stopping.set()
        join = getattr(self.task, "join", None)
        if join is not None:
            join(timeout)


def init_app(app: Flask) -> None:
    """With FORUM_MAIL_WORKER on, the first request a process serves starts its worker (once
    per process: a process forked from one that already runs a worker starts its own)."""
    if not app.config["FORUM_MAIL_WORKER"]:
        return
    workers: dict[int, MailWorker] = {}
    lock = threading.Lock()

    @app.before_request
    def _start_mail_worker():
        if os.getpid() not in workers:
            with lock:
                if os.getpid() not in workers:
                    workers[os.getpid()] = MailWorker(app).start()

    app.extensions["forum_mail_workers"] = workers
