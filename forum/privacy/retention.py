"""Retention: what the forum deletes once it is old enough (`flask forum apply-retention`).

Every period is a setting in days (0 keeps that kind without a time limit) and the privacy page
states the same settings, so the page and the practice cannot drift apart.

- chat messages older than FORUM_RETAIN_CHAT_DAYS, except those sent during a session whose
  group chose to keep the transcript (`Workshop.keep_chat`) and those with an open report
  (moderators still need them; they go at a later run once the report is resolved). Their
  notifications (mentions among them) and resolved reports go with them (ON DELETE CASCADE);
- in-app notifications (chat mentions among them) older than FORUM_RETAIN_NOTIFICATIONS_DAYS;
- sent e-mails after FORUM_MAIL_KEEP_DAYS (the mail worker's own purge, also run here) and
  failed ones FORUM_RETAIN_FAILED_MAIL_DAYS after they were queued;
- data exports after FORUM_EXPORT_KEEP_DAYS (forum.privacy.export.expire_exports);
- sign-in records: the database keeps none (only the time of a person's latest visit, on their
  account); failed sign-in counters live in Redis or memory and expire with their window;
- attendance (issue 17): registrations, check-ins, certificates and the records of who
  answered a questionnaire, of sessions whose day 2 is more than FORUM_RETAIN_ATTENDANCE_DAYS
  ago (default 0: kept, for the programme's reporting period; the operator sets it once that
  period is over). The anonymous answers stay;
- audit entries older than FORUM_RETAIN_AUDIT_DAYS: the one deletion the append-only audit
  log allows, done with a Core DELETE here and itself recorded ("retention.apply" with the
  counts).

Idempotent: a second run finds nothing more to delete. Deletes go in batches of BATCH rows,
each its own short transaction, so a large table is never locked for long; a database lock
(forum.notifications.locks) keeps two runs from overlapping. A dry run counts with the same
conditions and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_

from forum.audit.models import AuditEntry
from forum.audit.services import record_audit
from forum.chat.models import ChatMessage
from forum.extensions import db
from forum.moderation.models import Report, ReportStatus
from forum.notifications import locks
from forum.notifications.models import Notification, OutboxEmail, OutboxStatus
from forum.notifications.outbox import purge_sent
from forum.timeutil import utcnow
from forum.workshops.models import Workshop

BATCH = 1000
LOCK_NAME = "apply-retention"
LOCK_TTL = timedelta(hours=2)
AUDIT_ACTION = "retention.apply"

# kind → the setting that says how many days it is kept (the privacy page uses the same).
SETTINGS = {
    "chat_messages": "FORUM_RETAIN_CHAT_DAYS",
    "notifications": "FORUM_RETAIN_NOTIFICATIONS_DAYS",
    "sent_emails": "FORUM_MAIL_KEEP_DAYS",
    "failed_emails": "FORUM_RETAIN_FAILED_MAIL_DAYS",
    "exports": "FORUM_EXPORT_KEEP_DAYS",
    "sign_in_records": "FORUM_RETAIN_SIGNIN_DAYS",
    "attendance": "FORUM_RETAIN_ATTENDANCE_DAYS",
    "audit_entries": "FORUM_RETAIN_AUDIT_DAYS",
}
# How the command line names each kind.
LABELS = {
    "chat_messages": "chat messages",
    "notifications": "notifications",
    "sent_emails": "sent e-mails",
    "failed_emails": "failed e-mails",
    "exports": "data exports",
    "sign_in_records": "sign-in records",
    "attendance": "attendance records",
    "audit_entries": "audit entries",
}


@dataclass
class KindResult:
    kind: str
    days: int
    count: int = 0
    note: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.kind]


@dataclass
class RetentionReport:
    dry_run: bool
    results: list[KindResult] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return next((r.count for r in self.results if r.kind == kind), 0)

    @property
    def total(self) -> int:
        return sum(r.count for r in self.results)

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        out = []
        for result in self.results:
            if result.kind == "sign_in_records":
                out.append(f"{result.label}: {result.note}")
                continue
            if result.days <= 0 and not result.count:
                out.append(f"{result.label}: kept without a time limit (0 days)")
                continue
            age = f" (older than {result.days} days)" if result.days > 0 else ""
            line = f"{verb} {result.count} {result.label}{age}"
            out.append(f"{line}; {result.note}" if result.note else line)
        return out


def days_for(kind: str, config=None) -> int:
    return int((config or current_app.config)[SETTINGS[kind]])


def _count(model, where) -> int:
    return db.session.scalar(db.select(func.count()).select_from(model).where(where)) or 0


def _delete_batches(model, id_column, where, dry_run: bool, before_delete=None) -> int:
    """Delete the rows matching `where`, BATCH ids at a time, each batch committed."""
    if dry_run:
        return _count(model, where)
    total = 0
    while True:
        ids = list(db.session.scalars(
            db.select(id_column).where(where).distinct().order_by(id_column).limit(BATCH)))
        if not ids:
            return total
        if before_delete:
            before_delete(ids)
        deleted = db.session.execute(db.delete(model).where(and_(id_column.in_(ids), where))
                                     .execution_options(synchronize_session=False))
        db.session.commit()
        total += deleted.rowcount or 0


# --- each kind ------------------------------------------------------------------------------


def _workshops_keeping_chat():
    return db.select(Workshop.id).where(Workshop.keep_chat.is_(True))


def _open_reports():
    return db.select(Report.chat_message_id).where(
        Report.status == ReportStatus.OPEN, Report.chat_message_id.is_not(None))


def chat_cutoff_clause(cutoff: datetime):
    """The chat messages retention deletes: old, not of a kept session, not under report."""
    return and_(ChatMessage.created_at < cutoff,
                or_(ChatMessage.workshop_id.is_(None),
                    ChatMessage.workshop_id.not_in(_workshops_keeping_chat())),
                ChatMessage.id.not_in(_open_reports()))


def _chat_messages(now: datetime, days: int, dry_run: bool) -> KindResult:
    result = KindResult("chat_messages", days)
    cutoff = now - timedelta(days=days)
    where = chat_cutoff_clause(cutoff)
    reports = []

    def count_reports(ids):
        reports.append(_count(Report, Report.chat_message_id.in_(ids)))

    if dry_run:
        reports.append(_count(Report, Report.chat_message_id.in_(
            db.select(ChatMessage.id).where(where))))
    result.count = _delete_batches(ChatMessage, ChatMessage.id, where, dry_run, count_reports)
    old = ChatMessage.created_at < cutoff
    kept = _count(ChatMessage, and_(old, ChatMessage.workshop_id.in_(_workshops_keeping_chat())))
    reported = _count(ChatMessage, and_(old, ChatMessage.id.in_(_open_reports())))
    notes = []
    if sum(reports):
        notes.append(f"with {sum(reports)} resolved report(s) about them")
    if kept:
        notes.append(f"{kept} kept: their session's transcript is kept")
    if reported:
        notes.append(f"{reported} kept until their open report is resolved")
    result.note = "; ".join(notes)
    return result


def _notifications(now: datetime, days: int, dry_run: bool) -> KindResult:
    where = Notification.created_at < now - timedelta(days=days)
    return KindResult("notifications", days,
                      _delete_batches(Notification, Notification.id, where, dry_run))


def _sent_emails(now: datetime, days: int, dry_run: bool) -> KindResult:
    return KindResult("sent_emails", days, purge_sent(now, dry_run=dry_run))


def _failed_emails(now: datetime, days: int, dry_run: bool) -> KindResult:
    where = and_(OutboxEmail.status == OutboxStatus.FAILED,
                 OutboxEmail.created_at < now - timedelta(days=days))
    return KindResult("failed_emails", days,
                      _delete_batches(OutboxEmail, OutboxEmail.id, where, dry_run))


def _exports(now: datetime, days: int, dry_run: bool) -> KindResult:
    try:
        from forum.privacy.export import expire_exports
    except ImportError:  # the export feature is not installed in this tree
        return KindResult("exports", days, 0, "no export feature to expire")
    return KindResult("exports", days, int(expire_exports(now, dry_run) or 0))


def _sign_in_records(now: datetime, days: int, dry_run: bool) -> KindResult:
    note = ("nothing to remove: the database keeps no sign-in history (only each account's "
            "latest visit) and failed sign-in counters expire with their window")
    if days > 0:
        note += f"; keep log files no longer than {days} days"
    return KindResult("sign_in_records", days, 0, note)


def _attendance(now: datetime, days: int, dry_run: bool) -> KindResult:
    """Registrations, check-ins, certificates and evaluation submissions of sessions that
    ended (day 2) more than `days` ago. The programme's report and the recaps of those
    sessions then count nobody; the anonymous evaluation answers stay."""
    from forum.attendance.models import Certificate, CheckIn, Registration
    from forum.evaluation.models import EvaluationSubmission

    old_sessions = db.select(Workshop.id).where(
        Workshop.day2 < (now - timedelta(days=days)).date())
    total = 0
    for model in (Registration, CheckIn, Certificate, EvaluationSubmission):
        total += _delete_batches(model, model.id, model.workshop_id.in_(old_sessions), dry_run)
    return KindResult("attendance", days, total,
                      "registrations, check-ins, certificates, who answered questionnaires"
                      if total else "")


def _audit_entries(now: datetime, days: int, dry_run: bool) -> KindResult:
    """The audit log refuses deletes through the ORM; retention is its one documented
    exception, so it deletes with Core statements on the connection (no ORM events)."""
    table = AuditEntry.__table__
    where = table.c.created_at < now - timedelta(days=days)
    if dry_run:
        return KindResult("audit_entries", days, _count(table, where))
    total = 0
    while True:
        connection = db.session.connection()
        ids = list(connection.execute(
            db.select(table.c.id).where(where).order_by(table.c.id).limit(BATCH)).scalars())
        if not ids:
            break
        connection.execute(table.delete().where(table.c.id.in_(ids)))
        db.session.commit()
        total += len(ids)
    return KindResult("audit_entries", days, total)


# Dependent rows first (notifications, chat mentions among them, of messages that are about
# to go), so that a dry run's counts are what the real run then deletes.
STEPS = (
    ("notifications", _notifications),
    ("chat_messages", _chat_messages),
    ("sent_emails", _sent_emails),
    ("failed_emails", _failed_emails),
    ("exports", _exports),
    ("sign_in_records", _sign_in_records),
    ("attendance", _attendance),
    ("audit_entries", _audit_entries),
)


# Run whatever the setting: sign-in records only report; exports expire by their own date.
ALWAYS_RUN = {"sign_in_records", "exports"}


def apply_retention(now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Delete (or, with dry_run, count) everything older than its retention period.

    Raises locks.LockHeld when another run holds the lock (a dry run takes no lock). When
    something was deleted, one audit entry records the counts."""
    now = now or utcnow()
    report = RetentionReport(dry_run=dry_run)
    holder = None if dry_run else locks.acquire(LOCK_NAME, LOCK_TTL, now=utcnow())
    try:
        for kind, step in STEPS:
            days = days_for(kind)
            if days <= 0 and kind not in ALWAYS_RUN:
                report.results.append(KindResult(kind, days))
                continue
            report.results.append(step(now, days, dry_run))
            db.session.commit()
        if not dry_run and report.total:
            record_audit(None, AUDIT_ACTION, target="apply-retention", details={
                r.kind: r.count for r in report.results if r.count})
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        if holder:
            locks.release(LOCK_NAME, holder)
    return report
