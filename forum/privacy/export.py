"""Export my data: a ZIP of everything the forum keeps about one person, built in the background.

A person asks for it on /profile/data (`request_export(actor, actor)`); an administrator may
ask for anyone (`request_export(admin, user)`, recorded in the audit log). The request only
adds a `DataExport` row (status "pending"); the background sender (forum.mailings.worker,
`flask forum send-mail --loop` or the worker in each served process) and `flask forum
build-exports` claim pending rows the way the outbox claims e-mails: an atomic UPDATE (SKIP
LOCKED on PostgreSQL) committed before any work, with a lease (`claimed_until`) after which
another process takes over a build that died. A build that fails is tried again after a
growing wait (`claimed_until` then holds the earliest next try) up to MAX_ATTEMPTS times, then
the row stays "failed" with its error.

The ZIP (export.json, index.html, files/…) is written to a temporary file and stored in the
uploads storage under its SHA-256 (`data_export.storage_key`); the person is then told in the
app and by e-mail (the outbox, in their language, an absolute link from FORUM_BASE_URL). The
link works until `expires_at` (FORUM_EXPORT_KEEP_DAYS after it was built) and only for the
person — and, for an export an administrator asked for, that administrator; anybody else gets
404. `expire_exports` (called by `flask forum apply-retention`) deletes expired ZIPs and their
rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_

from forum.accounts.models import User
from forum.audit.services import record_audit
from forum.errors import InvalidInput, NotFound
from forum.extensions import db, socketio
from forum.groups.policy import can_administer, is_signed_in
from forum.materials.backends import storage_for
from forum.materials.models import MaterialVersion
from forum.notifications.emails import formatters, in_language_of
from forum.notifications.inbox import notify
from forum.notifications.outbox import queue_email
from forum.notifications.services import absolute_url
from forum.privacy import export_content
from forum.privacy.models import DataExport
from forum.timeutil import utcnow

log = logging.getLogger(__name__)

PENDING, RUNNING, READY, FAILED = "pending", "running", "ready", "failed"
UNFINISHED = (PENDING, RUNNING)
MAX_ATTEMPTS = 3
LEASE = timedelta(minutes=30)  # a build still running after this is taken over
RETRY_BASE = timedelta(minutes=2)  # wait before the 2nd attempt; doubled before the 3rd
ERROR_LIMIT = 2000
COPY_CHUNK = 256 * 1024
NOTIFICATION_KIND = "data_export"
AUDIT_REQUEST = "user.export"
AUDIT_DOWNLOAD = "user.export_download"
# Already compressed: stored as they are in the ZIP.
_COMPRESSED_MIME = ("image/", "video/", "audio/", "application/pdf", "application/zip",
                    "application/vnd.openxmlformats", "application/vnd.oasis")


def keep_days() -> int:
    return int(current_app.config.get("FORUM_EXPORT_KEEP_DAYS", 7))


# --- asking for an export --------------------------------------------------------------------


def request_export(actor, user: User) -> DataExport:
    """Ask for an export of `user`'s data: the person for themself, or an administrator for
    anyone (audited). At most one unfinished export per person; InvalidInput otherwise."""
    if not is_signed_in(actor) or (actor.id != user.id and not can_administer(actor)):
        raise NotFound()
    if getattr(user, "anonymised_at", None) is not None:
        raise InvalidInput({"": _l("This account was erased: there is no personal data left "
                                   "to export.")})
    busy = InvalidInput({"": _l("An export is already being prepared. You will be told when "
                                "it is ready; then you can ask for a new one.")})
    # Two requests at the same moment: the user row's lock (PostgreSQL) orders them, and the
    # count after the insert catches the other case (SQLite writes one at a time).
    db.session.execute(db.select(User.id).where(User.id == user.id).with_for_update())
    if _unfinished(user.id):
        db.session.rollback()
        raise busy
    export = DataExport(user_id=user.id, requested_by_id=actor.id, status=PENDING,
                        attempts=0, error="", created_at=utcnow())
    db.session.add(export)
    db.session.flush()
    if _unfinished(user.id) > 1:
        db.session.rollback()
        raise busy
    if actor.id != user.id:
        record_audit(actor, AUDIT_REQUEST, target=user.name, subject=user,
                     details={"export_id": export.id})
    db.session.commit()
    log.info("data export %s of user %s requested by user %s", export.id, user.id, actor.id)
    return export


def _unfinished(user_id: int) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(DataExport).where(
        DataExport.user_id == user_id, DataExport.status.in_(UNFINISHED))) or 0


def exports_of(actor, user: User) -> list[DataExport]:
    """The person's exports, newest first (for the person, or an administrator)."""
    if not is_signed_in(actor) or (actor.id != user.id and not can_administer(actor)):
        raise NotFound()
    return list(db.session.scalars(db.select(DataExport).where(DataExport.user_id == user.id)
                                   .order_by(DataExport.id.desc())))


def is_downloadable(export: DataExport, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (export.status == READY and export.storage_key is not None
            and (export.expires_at is None or export.expires_at > now))


def get_download_for(actor, export_id: int, *, user_id: int | None = None,
                     as_administrator: bool = False) -> DataExport:
    """The export `actor` may download, or NotFound (missing, expired, not ready, not theirs:
    never told apart). Without `as_administrator` only the person whose data it is; with it
    (the admin pages) only the administrator who asked for it, and `user_id` must match."""
    export = db.session.get(DataExport, export_id)
    if export is None or not is_signed_in(actor) or not is_downloadable(export):
        raise NotFound()
    if as_administrator:
        if not (can_administer(actor) and export.requested_by_id == actor.id
                and export.user_id == user_id):
            raise NotFound()
    elif export.user_id != actor.id:
        raise NotFound()
    return export


def open_download(actor, export: DataExport, *, as_administrator: bool = False) -> BinaryIO:
    """The ZIP as a stream (close it); an administrator's download of someone else's data is
    recorded in the audit log. NotFound when the file is gone from the storage."""
    try:
        stream = storage_for(current_app).open(export.storage_key)
    except FileNotFoundError:
        log.error("data export %s: its file %s is missing from the storage", export.id,
                  export.storage_key)
        raise NotFound() from None
    if as_administrator and export.user_id != actor.id:
        user = db.session.get(User, export.user_id)
        record_audit(actor, AUDIT_DOWNLOAD, target=user.name if user else "", subject=user,
                     details={"export_id": export.id})
        db.session.commit()
    return stream


def download_name(export: DataExport) -> str:
    return f"forum-data-{export.user_id}-{export.created_at:%Y%m%d}-{export.id}.zip"


# --- building --------------------------------------------------------------------------------


def _compressed(mime: str) -> bool:
    return (mime or "").startswith(_COMPRESSED_MIME)


def _write_zip(out: BinaryIO, data: dict, render_index: Callable[[list[str]], str],
               files: list[export_content.ExportFile], generated_at: datetime) -> list[str]:
    """The files, then export.json and index.html (last, so that they can say which files
    were missing from the storage and left out); returns those files' paths."""
    storage = storage_for(current_app)
    stamp = generated_at.timetuple()[:6]
    missing = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in files:
            info = zipfile.ZipInfo(item.path, date_time=item.created_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED if _compressed(item.mime) \
                else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            try:
                source = storage.open(item.storage_key)
            except FileNotFoundError:
                log.error("data export: the file %s (%s) is missing from the storage",
                          item.storage_key, item.path)
                missing.append(item.path)
                continue
            with source, archive.open(info, "w", force_zip64=item.size > 2**31) as target:
                while chunk := source.read(COPY_CHUNK):
                    target.write(chunk)
                    socketio.sleep(0)  # let the served process's other greenlets run
        _mark_missing(data, missing)
        for name, content in (("export.json", json.dumps(data, ensure_ascii=False, indent=2)),
                              ("index.html", render_index(missing))):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content.encode("utf-8"))
    return missing


def _mark_missing(data: dict, missing: list[str]) -> None:
    gone = set(missing)
    for material in data["materials"]:
        for version in material["versions_uploaded_by_me"]:
            version["file_missing"] = version["file"] in gone
            if version["file_missing"]:
                version["file"] = None


OUTCOMES = {
    "hidden": _l("the moderators hid or removed it"),
    "edited": _l("the moderators edited it"),
    "dismissed": _l("the moderators left it as it is"),
    "warned": _l("the moderators warned its author"),
}


NOTICE_KINDS = {
    "reply": _l("a reply"),
    "mention": _l("a mention of you"),
    "new_thread": _l("a new thread"),
    "report_outcome": _l("the outcome of your report"),
    "warning": _l("a private notice from the moderators"),
    "new_report": _l("a new report to handle"),
    NOTIFICATION_KIND: _l("your data export"),
}


def _render_index(user: User, data: dict) -> Callable[[list[str]], str]:
    """index.html in the person's language and time zone (given the missing files)."""
    from forum.discussions.services import REACTIONS
    from forum.groups.services import ROLES
    from forum.materials.services import MATERIAL_KINDS
    from forum.moderation.reports import REASONS
    from forum.notifications.services import FREQUENCIES
    from forum.reviews.services import OUTCOMES as REVIEW_OUTCOMES
    from forum.reviews.services import STANCES

    def render(missing: list[str]) -> str:
        with in_language_of(user):
            helpers = formatters(user)

            def at(value: str | None) -> str:
                if not value:
                    return "—"
                return helpers["when"](datetime.fromisoformat(value.replace("Z", "+00:00")),
                                       "medium")

            return render_template(
                "privacy/data_export_index.html", data=data, missing=missing, at=at,
                roles=ROLES, reactions=REACTIONS, material_kinds=MATERIAL_KINDS,
                reasons=REASONS, outcomes=OUTCOMES, frequencies=FREQUENCIES,
                notice_kinds=NOTICE_KINDS, stances=STANCES,
                outcomes_review=REVIEW_OUTCOMES)
    return render


def _store(archive: BinaryIO) -> tuple[str, int]:
    archive.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := archive.read(COPY_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    archive.seek(0)
    key = digest.hexdigest()
    storage_for(current_app).put(key, archive)
    return key, size


def build_export(export: DataExport) -> bool:
    """Build the ZIP of `export` (a row the caller claimed, or a pending one), store it, mark
    the row ready (size, finished_at, expires_at) and tell the person. False when the row was
    taken over by another builder meanwhile (its result is kept, this one discarded). Raises
    on failure, leaving the row to the caller (`build_due_exports` records it)."""
    export_id, until = export.id, export.claimed_until
    user = db.session.get(User, export.user_id)
    if user is None:  # the account was deleted meanwhile (its exports go with it)
        return False
    generated_at = utcnow()
    by_admin = export.requested_by_id is not None and export.requested_by_id != user.id
    data, files = export_content.collect(
        user, export_id=export_id, requested_by_admin=by_admin, generated_at=generated_at,
        site=current_app.config["FORUM_SITE_NAME"], base_url=current_app.config["FORUM_BASE_URL"])
    render = _render_index(user, data)
    db.session.commit()  # end the reading transaction before the long copy
    with tempfile.TemporaryFile(prefix="forum-export-") as archive:
        _write_zip(archive, data, render, files, generated_at)
        key, size = _store(archive)
    finished = utcnow()
    days = keep_days()
    mine = and_(DataExport.id == export_id, DataExport.status.in_(UNFINISHED),
                DataExport.claimed_until == until if until is not None
                else DataExport.claimed_until.is_(None))
    result = db.session.execute(
        db.update(DataExport).where(mine)
        .values(status=READY, storage_key=key, size=size, finished_at=finished,
                expires_at=finished + timedelta(days=days) if days > 0 else None,
                claimed_until=None, error="")
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        _delete_if_unused(key)
        log.warning("data export %s was taken over by another builder; this build discarded",
                    export_id)
        return False
    _tell(user, db.session.get(DataExport, export_id), by_admin, finished)
    db.session.commit()
    db.session.expire_all()
    log.info("data export %s of user %s ready: %d bytes, %d file(s)", export_id, user.id,
             size, len(files))
    return True


def _tell(user: User, export: DataExport, by_admin: bool, now: datetime) -> None:
    """In the app (a notification, not e-mailed by the batcher: it has its own e-mail) and by
    e-mail through the outbox, whatever the person's notification settings: they asked."""
    db.session.refresh(export)
    notify(user.id, NOTIFICATION_KIND, text=str(export.id), created_at=now, emailed_at=now)
    if getattr(user, "anonymised_at", None) is not None or not user.email:
        return
    with in_language_of(user):
        subject = (_("An administrator prepared a copy of your data")
                   if by_admin else _("Your data is ready to download"))
        text = render_template(
            "email/data_export_ready.txt", user=user, export=export, by_admin=by_admin,
            download_url=absolute_url("export.download", export_id=export.id),
            page_url=absolute_url("export.data"), site=current_app.config["FORUM_SITE_NAME"],
            **formatters(user))
    queue_email(NOTIFICATION_KIND, user, subject, text, dedupe_key=f"data-export:{export.id}")


# --- the background step ---------------------------------------------------------------------


@dataclass
class ExportReport:
    built: int = 0
    retried: int = 0  # failed this time, will be tried again
    failed: int = 0  # gave up

    @property
    def total(self) -> int:
        return self.built + self.retried + self.failed


def _due(now: datetime):
    return or_(
        and_(DataExport.status == PENDING,
             or_(DataExport.claimed_until.is_(None), DataExport.claimed_until <= now)),
        # Claimed by a builder that did not finish in time (it died): take it over.
        and_(DataExport.status == RUNNING, DataExport.claimed_until < now),
    )


def _give_up_abandoned(now: datetime) -> None:
    """Builds that died MAX_ATTEMPTS times are not tried again."""
    db.session.execute(
        db.update(DataExport)
        .where(DataExport.status == RUNNING, DataExport.claimed_until < now,
               DataExport.attempts >= MAX_ATTEMPTS)
        .values(status=FAILED, claimed_until=None, finished_at=now,
                error="the build did not finish (the process building it stopped)")
        .execution_options(synchronize_session=False))


def _claim(limit: int, now: datetime) -> list[tuple[int, datetime]]:
    """Claim up to `limit` due exports and commit the claim (before any work)."""
    _give_up_abandoned(now)
    query = db.select(DataExport.id).where(_due(now)).order_by(DataExport.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for export_id in list(db.session.scalars(query)):
        # A distinct lease end per claim: the builder's proof of ownership when it finishes.
        until = now + LEASE + timedelta(microseconds=secrets.randbelow(1_000_000))
        result = db.session.execute(
            db.update(DataExport).where(DataExport.id == export_id, _due(now))
            .values(status=RUNNING, claimed_until=until, attempts=DataExport.attempts + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append((export_id, until))
    db.session.commit()
    return claimed


def _record_failure(export_id: int, until: datetime, error: Exception,
                    report: ExportReport) -> None:
    db.session.rollback()
    row = db.session.get(DataExport, export_id)
    if row is None:
        return
    message = f"{type(error).__name__}: {error}"[:ERROR_LIMIT]
    now = utcnow()
    values: dict = {"error": message}
    if row.attempts >= MAX_ATTEMPTS:
        values.update(status=FAILED, claimed_until=None, finished_at=now)
        report.failed += 1
        log.error("data export %s failed for good after %d attempt(s): %s", export_id,
                  row.attempts, message)
    else:
        # Pending again; `claimed_until` is the earliest next try.
        values.update(status=PENDING, claimed_until=now + RETRY_BASE * 2 ** (row.attempts - 1))
        report.retried += 1
        log.warning("data export %s failed (attempt %d), trying again after %s: %s",
                    export_id, row.attempts, values["claimed_until"], message)
    db.session.execute(
        db.update(DataExport)
        .where(DataExport.id == export_id, DataExport.status == RUNNING,
               DataExport.claimed_until == until)
        .values(**values).execution_options(synchronize_session=False))
    db.session.commit()


def build_due_exports(limit: int = 3, now: datetime | None = None) -> ExportReport:
    """One round of the background step: claim up to `limit` due exports and build them."""
    report = ExportReport()
    for export_id, until in _claim(limit, now or utcnow()):
        export = db.session.get(DataExport, export_id)
        if export is None:
            continue
        try:
            if build_export(export):
                report.built += 1
        except Exception as error:  # recorded on the row; the next round may retry it
            log.exception("data export %s could not be built", export_id)
            _record_failure(export_id, until, error, report)
    db.session.expire_all()
    return report


def build_all_due(batch: int = 3, now: datetime | None = None) -> ExportReport:
    """Everything due now, batch after batch (`flask forum build-exports`)."""
    report = ExportReport()
    while True:
        step = build_due_exports(batch, now)
        report.built += step.built
        report.retried += step.retried
        report.failed += step.failed
        if step.total < batch:
            return report


def pending_count() -> int:
    """Exports waiting or being built (all people)."""
    return db.session.scalar(db.select(db.func.count()).select_from(DataExport).where(
        DataExport.status.in_(UNFINISHED))) or 0


# --- expiry (flask forum apply-retention) ----------------------------------------------------


def _delete_if_unused(key: str | None) -> bool:
    """Delete a stored ZIP unless a row still refers to the key (content-addressed storage)."""
    if not key:
        return False
    used = db.session.scalar(db.select(db.func.count()).select_from(DataExport)
                             .where(DataExport.storage_key == key)) or 0
    used += db.session.scalar(db.select(db.func.count()).select_from(MaterialVersion)
                              .where(MaterialVersion.storage_key == key)) or 0
    if used:
        return False
    storage_for(current_app).delete(key)
    return True


def _expired(now: datetime, days: int):
    clauses = [and_(DataExport.expires_at.is_not(None), DataExport.expires_at <= now)]
    if days > 0:  # failed ones: their row (and error) is kept as long as a ready export
        clauses.append(and_(DataExport.status == FAILED,
                            DataExport.created_at < now - timedelta(days=days)))
    return or_(*clauses)


def delete_exports_of(user_id: int) -> int:
    """Delete every export of a person, rows and ZIPs (erasure: the copies hold their data).
    Commits; returns how many exports there were."""
    rows = db.session.execute(db.select(DataExport.id, DataExport.storage_key)
                              .where(DataExport.user_id == user_id)).all()
    if not rows:
        return 0
    db.session.execute(db.delete(DataExport).where(DataExport.user_id == user_id)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    for _export_id, key in rows:
        _delete_if_unused(key)
    return len(rows)


def expire_exports(now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete exports whose link has expired (their ZIP from the storage, then the row) and
    failed ones older than FORUM_EXPORT_KEEP_DAYS; returns how many (would be) removed."""
    now = now or utcnow()
    where = _expired(now, keep_days())
    if dry_run:
        return db.session.scalar(db.select(db.func.count()).select_from(DataExport)
                                 .where(where)) or 0
    removed = 0
    for export_id, key in db.session.execute(
            db.select(DataExport.id, DataExport.storage_key).where(where)
            .order_by(DataExport.id)).all():
        # The row goes first: a crash in between leaves an unused file (check-storage finds
        # it), never a row whose file is gone.
        deleted = db.session.execute(db.delete(DataExport).where(DataExport.id == export_id,
                                                                 where)
                                     .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if deleted:
            removed += 1
            _delete_if_unused(key)
            log.info("data export %s expired: row and file %s removed", export_id, key)
    return removed
