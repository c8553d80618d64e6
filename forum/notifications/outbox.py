"""The outbox: e-mail decided in a transaction, delivered later by a background sender.

Guarantee: at-least-once delivery with a stable Message-ID. A row is queued in the same
transaction as the decision to send it (so a rolled-back decision sends nothing, a committed
one is never lost); `dedupe_key` makes deciding twice harmless. A sender claims due rows with an
atomic UPDATE (and SKIP LOCKED on PostgreSQL) and commits the claim before talking to SMTP, so
two senders never take the same row. A row is sent twice only if its sender died between the
SMTP server accepting it and the "sent" mark; the retry then carries the same Message-ID, so mail
clients recognise the copy.

Account e-mails (invitations, password resets, account set-up: kind "account") are queued the
same way and then nudged: `deliver_after_commit` tries to send the row at once, after the commit,
in the background, so that nobody waits for the worker's next round. Their bodies carry a link
with a secret token, so the body is replaced by a short note as soon as the row is sent or given
up: the table never keeps a usable link longer than the e-mail is waiting to leave.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import smtplib
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, has_request_context
from sqlalchemy import and_, or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from forum import mail
from forum.events import after_commit
from forum.extensions import db, socketio
from forum.notifications.models import OutboxEmail, OutboxStatus
from forum.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
ERROR_LIMIT = 2000  # characters of the last error kept on the row

# Invitations, password resets and account set-up: e-mails whose body holds a secret link.
ACCOUNT_KIND = "account"
SECRET_KINDS = frozenset({ACCOUNT_KIND})
# What such a row's body becomes once it has been sent or given up (operators still see the
# address, subject, status and error; nobody with read access to the database gets the link).
REMOVED_BODY = "[removed once sent or given up: this e-mail contained a personal link]"


def _message_id(dedupe_key: str) -> str:
    domain = current_app.config["MAIL_SENDER"].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:24]
    return f"<outbox.{digest}.{secrets.token_hex(6)}@{domain}>"


def _insert():
    return postgresql_insert if db.session.get_bind().dialect.name == "postgresql" \
        else sqlite_insert


def queue_email(kind: str, user, subject: str, text: str, html: str = "", *,
                dedupe_key: str, headers: dict[str, str] | None = None,
                to: str | None = None) -> int | None:
    """Add an e-mail to the outbox in the caller's transaction (the caller commits).

    Returns the new row's id, or None when an e-mail with this `dedupe_key` was already
    queued (a second decision to send the same thing is a no-op). The insert uses ON CONFLICT
    DO NOTHING, which is safe against a concurrent writer on PostgreSQL and SQLite alike and
    leaves the caller's transaction usable."""
    address = to or user.email
    all_headers = {"Message-ID": _message_id(dedupe_key), **(headers or {})}
    statement = (
        _insert()(OutboxEmail)
        .values(dedupe_key=dedupe_key[:200], kind=kind,
                user_id=user.id if user is not None else None, to_address=address,
                subject=subject[:300], body_text=text, body_html=html,
                headers=json.dumps(all_headers), status=OutboxStatus.PENDING, attempts=0,
                next_attempt_at=utcnow(), last_error="", created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxEmail.id)
    )
    new_id = db.session.execute(statement).scalar()
    if new_id is None:
        log.info("e-mail %s already queued; not queued again", dedupe_key)
    return new_id


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0  # failed this time, will be tried again
    failed: int = 0  # gave up on them

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        return self

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed


def _due(now: datetime):
    return or_(
        and_(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now),
        # Claimed by a sender that did not finish in time (it died, or hangs): take it over.
        and_(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.claimed_until < now),
    )


def _claim(limit: int, now: datetime,
           only: Collection[int] | None = None) -> list[tuple[int, datetime]]:
    """Claim up to `limit` due rows (among the ids `only`, when given) and commit the claim;
    returns (id, claimed_until) pairs."""
    lease = timedelta(seconds=current_app.config["FORUM_MAIL_CLAIM_SECONDS"])
    query = db.select(OutboxEmail.id).where(_due(now)).order_by(OutboxEmail.id).limit(limit)
    if only is not None:
        query = query.where(OutboxEmail.id.in_(list(only)))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    candidates = list(db.session.scalars(query))
    claimed = []
    for outbox_id in candidates:
        # A distinct lease end per row: it is also the sender's proof of ownership when it
        # marks the row sent (a sender whose lease expired and was taken over finds out).
        until = now + lease + timedelta(microseconds=secrets.randbelow(1_000_000))
        result = db.session.execute(
            db.update(OutboxEmail)
            .where(OutboxEmail.id == outbox_id, _due(now))  # still as we read it
            .values(status=OutboxStatus.SENDING, claimed_until=until)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append((outbox_id, until))
    db.session.commit()
    return claimed


def _permanent(error: Exception) -> bool:
    """Errors that a retry cannot fix: every recipient refused with a 5xx code."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in error.recipients.values())
    return False


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: the base, doubled after every failure, capped."""
    base = timedelta(seconds=current_app.config["FORUM_MAIL_RETRY_SECONDS"])
    return min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _forget_secret_body(row: OutboxEmail) -> dict[str, str]:
    """The values that drop a secret link from a row that will not be sent again."""
    if row.kind in SECRET_KINDS:
        return {"body_text": REMOVED_BODY, "body_html": ""}
    return {}


def _send_one(outbox_id: int, until: datetime, report: DeliveryReport) -> None:
    row = db.session.get(OutboxEmail, outbox_id)
    if row is None:  # deleted meanwhile (never by the forum itself)
        return
    mine = and_(OutboxEmail.id == outbox_id, OutboxEmail.status == OutboxStatus.SENDING,
                OutboxEmail.claimed_until == until)
    try:
        mail.send_mail(row.to_address, row.subject, row.body_text, html=row.body_html,
                       headers=json.loads(row.headers or "{}"))
    except Exception as error:  # any failure is recorded on the row
        db.session.rollback()
        attempts = row.attempts + 1
        give_up = _permanent(error) or attempts >= current_app.config["FORUM_MAIL_MAX_ATTEMPTS"]
        message = f"{type(error).__name__}: {error}"[:ERROR_LIMIT]
        values = {"attempts": attempts, "last_error": message, "claimed_until": None}
        if give_up:
            values["status"] = OutboxStatus.FAILED
            values.update(_forget_secret_body(row))
            report.failed += 1
            log.error("e-mail %s to %s failed for good after %d attempt(s): %s",
                      outbox_id, row.to_address, attempts, message)
        else:
            values["status"] = OutboxStatus.PENDING
            values["next_attempt_at"] = utcnow() + backoff(attempts)
            report.retried += 1
            log.warning("e-mail %s to %s failed (attempt %d), retrying at %s: %s",
                        outbox_id, row.to_address, attempts, values["next_attempt_at"], message)
        db.session.execute(db.update(OutboxEmail).where(mine).values(**values)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        return
    result = db.session.execute(
        db.update(OutboxEmail).where(mine)
        .values(status=OutboxStatus.SENT, sent_at=utcnow(), claimed_until=None,
                attempts=row.attempts + 1, last_error="", **_forget_secret_body(row))
        .execution_options(synchronize_session=False))
    db.session.commit()
    report.sent += 1
    if result.rowcount != 1:
        log.warning("e-mail %s was sent after its claim had expired; another sender may "
                    "send it again (same Message-ID)", outbox_id)


def deliver_due(limit: int = 50, now: datetime | None = None) -> DeliveryReport:
    """Claim and send up to `limit` due e-mails; each ends sent, pending (retry) or failed."""
    report = DeliveryReport()
    claimed = _claim(limit, now or utcnow())
    for outbox_id, until in claimed:
        _send_one(outbox_id, until, report)
    db.session.expire_all()
    return report


def deliver_ids(ids: Collection[int], now: datetime | None = None) -> DeliveryReport:
    """Send these rows now if they are due and nobody else holds them (the nudge)."""
    report = DeliveryReport()
    for outbox_id, until in _claim(len(ids), now or utcnow(), only=ids):
        _send_one(outbox_id, until, report)
    db.session.expire_all()
    return report


class _Nudges:
    """Deliveries started by `deliver_after_commit` that have not finished yet (one per app),
    so that a test, or a process about to stop, can wait for them."""

    def __init__(self):
        self.running = 0
        self.changed = threading.Condition()  # a gevent-aware one when gevent patched threading

    def __enter__(self):
        with self.changed:
            self.running += 1

    def __exit__(self, *exc_info):
        with self.changed:
            self.running -= 1
            self.changed.notify_all()

    def wait(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.running == 0, timeout)


def _nudges(app: Flask) -> _Nudges:
    return app.extensions.setdefault("forum_mail_nudges", _Nudges())


def wait_for_nudges(app: Flask, timeout: float = 30) -> bool:
    """Wait until every immediate delivery this app started has finished; False on timeout."""
    return _nudges(app).wait(timeout)


def deliver_after_commit(outbox_id: int | None) -> None:
    """Try to send this queued row as soon as the current transaction commits, without waiting
    for the mail worker's next round (people wait for a password or invitation link).

    In a web request the attempt runs as a background task of the app's async mode (a greenlet
    under gevent, a thread under threading): the answer never waits for the SMTP server and is
    the same whether it is up or not. Elsewhere (the command line) it runs before the commit
    returns, in a thread of its own (the committing session cannot run SQL inside its commit
    hook), because the process may end right after. A failed attempt leaves the row queued
    with its retry time and the worker sends it later; nothing happens on rollback (the row
    is rolled back too). None (already queued under the same key): nothing to do."""
    if outbox_id is None:
        return
    app = current_app._get_current_object()
    in_request = has_request_context()

    def start() -> None:  # in the commit hook: counted before the commit returns
        nudges = _nudges(app)
        nudges.__enter__()
        try:
            if in_request:
                socketio.start_background_task(_deliver_in_background, app, outbox_id, nudges)
                return
            thread = threading.Thread(target=_deliver_in_background,
                                      args=(app, outbox_id, nudges), name="outbox-nudge")
            thread.start()
        except Exception:
            nudges.__exit__(None, None, None)
            raise
        thread.join()

    after_commit(start)


def _deliver_in_background(app: Flask, outbox_id: int, nudges: _Nudges) -> None:
    try:
        with app.app_context():
            try:
                report = deliver_ids([outbox_id])
                if report.retried or report.failed:
                    log.warning("e-mail %s could not be sent at once; the mail worker will "
                                "retry it", outbox_id)
            except Exception:  # the row stays queued (or claimed until its lease ends)
                log.exception("immediate delivery of e-mail %s failed; the mail worker will "
                              "retry it", outbox_id)
                db.session.rollback()
            finally:
                db.session.remove()
    finally:
        nudges.__exit__(None, None, None)


def deliver_all(batch: int = 50, now: datetime | None = None) -> DeliveryReport:
    """Send everything due now (batch after batch) until nothing due is left."""
    report = DeliveryReport()
    while True:
        step = deliver_due(batch, now)
        report += step
        if step.total < batch:
            return report


def purge_sent(now: datetime | None = None, dry_run: bool = False) -> int:
    """Forget e-mails sent more than FORUM_MAIL_KEEP_DAYS ago (0: keep them); failed ones go
    after FORUM_RETAIN_FAILED_MAIL_DAYS (forum.privacy.retention). Their dedupe keys go too,
    which is safe: notices are marked e-mailed and digests are remembered in
    `digest_delivery`, so nothing queues them again. `dry_run` counts instead."""
    keep_days = current_app.config["FORUM_MAIL_KEEP_DAYS"]
    if keep_days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    old = (OutboxEmail.status == OutboxStatus.SENT, OutboxEmail.sent_at < cutoff)
    if dry_run:
        return db.session.scalar(db.select(db.func.count()).select_from(OutboxEmail)
                                 .where(*old)) or 0
    result = db.session.execute(db.delete(OutboxEmail).where(*old))
    db.session.commit()
    return result.rowcount or 0


def outbox_counts() -> dict[str, int]:
    """Rows per status (for the command line and operators)."""
    rows = db.session.execute(db.select(OutboxEmail.status, db.func.count())
                              .group_by(OutboxEmail.status))
    return {status: count for status, count in rows}
