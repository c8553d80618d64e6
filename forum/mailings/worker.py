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
import time

from flask import Flask

from forum.extensions import db, socketio
from forum.mailings.batcher import BatchReport, run_batcher
from forum.notifications.outbox import DeliveryReport, deliver_all, purge_sent

log = logging.getLogger(__name__)


def run_once() -> tuple[BatchReport, DeliveryReport]:
    """One round (inside an app context): queue due notification e-mails, build due data
    exports (whose e-mails then go in the same round), send due e-mails."""
    send_review_reminders()
    send_poll_reminders()
    send_session_reminders()
    batch = run_batcher()
    build_exports()
    delivery = deliver_all()
    purge_sent()
    return batch, delivery


def send_review_reminders() -> None:
    """The automatic reminders of reviews (forum.reviews): notifications, which this same
    round's batcher mails as each person's settings say."""
    from forum.reviews.services import send_due_reminders

    try:
        people = send_due_reminders()
    except Exception:
        log.exception("review reminder step failed")
        db.session.rollback()
        return
    if people:
        log.info("review reminders: %d people notified", people)


def send_poll_reminders() -> None:
    """A day before a poll closes (forum.polls): notifications to whoever has not voted,
    which this same round's batcher mails as each person's settings say."""
    from forum.polls.services import send_due_reminders

    try:
        people = send_due_reminders()
    except Exception:
        log.exception("poll reminder step failed")
        db.session.rollback()
        return
    if people:
        log.info("poll reminders: %d people notified", people)


def send_session_reminders() -> None:
    """The day before a session (forum.attendance): notifications to the people registered
    for it, which this same round's batcher mails as each person's settings say."""
    from forum.attendance.services import send_due_reminders

    try:
        people = send_due_reminders()
    except Exception:
        log.exception("session reminder step failed")
        db.session.rollback()
        return
    if people:
        log.info("session reminders: %d people notified", people)


def build_exports() -> None:
    """The data-export step (forum.privacy.export): a few due exports per round; a failure
    is recorded on the export and never stops the e-mail."""
    from forum.privacy.export import build_due_exports

    try:
        report = build_due_exports()
    except Exception:
        log.exception("data export step failed")
        db.session.rollback()
        return
    if report.total:
        log.info("data exports: %d built, %d to retry, %d failed", report.built,
                 report.retried, report.failed)


class MailWorker:
    def __init__(self, app: Flask):
        self.app = app
        self.stopping = threading.Event()
        self.nudged = False  # work was just queued (a data export): end the nap early
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
            self.nap(poll)

    def nap(self, seconds: float) -> None:
        """Sleep up to `seconds`, in short steps so that a nudge or stop() ends it early."""
        end = time.monotonic() + seconds
        while not self.stopping.is_set() and not self.nudged:
            left = end - time.monotonic()
            if left <= 0:
                break
            socketio.sleep(min(left, 0.5))
        self.nudged = False

    def start(self) -> MailWorker:
        self.task = socketio.start_background_task(self.loop)
        return self

    def stop(self, timeout: float = 10) -> None:
        self.stopping.set()
        join = getattr(self.task, "join", None)
        if join is not None:
            join(timeout)


def nudge(app: Flask) -> None:
    """Start this process's next round now rather than after the poll interval (a request
    that queued background work calls it; without a worker in this process, nothing)."""
    worker = app.extensions.get("forum_mail_workers", {}).get(os.getpid())
    if worker is not None:
        worker.nudged = True


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
