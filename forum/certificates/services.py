"""Attendance certificates (issue 17): who gets one, its number, and the PDF.

A person who checked in at a session (forum.attendance CheckIn rows) downloads a certificate
once the last day they attended is over in the group's time zone. The PDF is made again on
every download from the check-ins; the Certificate row, created at the first download, fixes
its number and its date of issue. Site administrators and the group's moderators download all
of a session's certificates in one ZIP (audited).
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from forum.accounts.models import User
from forum.attendance.hours import hours_for_days
from forum.attendance.models import Certificate, CheckIn
from forum.audit.services import record_audit
from forum.errors import ForumError, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group
from forum.groups.policy import can_moderate_group, can_view_group, is_signed_in
from forum.notifications.emails import in_language_of
from forum.timeutil import utcnow
from forum.workshops.models import Workshop

FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
SPOOL_BYTES = 8 * 1024 * 1024  # a session's ZIP beyond this is built on disk


class NotYetAvailable(ForumError):
    """The person attended, but the last day they attended is not over yet."""

    def __init__(self, available_at: datetime):
        super().__init__(f"available from {available_at.isoformat()}")
        self.available_at = available_at  # UTC


class FontMissing(ForumError):
    """The TTF font the PDF needs is not where FORUM_CERTIFICATE_FONT_DIR says."""


# --- who attended, and when a certificate is due -------------------------------------------


def attended_days(workshop: Workshop, user_id: int) -> list[int]:
    """The days (1 and/or 2) the person checked in at the session, in order."""
    return sorted(set(db.session.scalars(db.select(CheckIn.day).where(
        CheckIn.workshop_id == workshop.id, CheckIn.user_id == user_id))))


def day_date(workshop: Workshop, day: int) -> date:
    return workshop.day1 if day == 1 else workshop.day2


def available_at(workshop: Workshop, days: list[int]) -> datetime:
    """When (UTC) the last attended day is over where the group meets: at its end time when the
    session has one, otherwise at the following midnight."""
    last = max(days)
    ends = workshop.day1_ends if last == 1 else workshop.day2_ends
    local = (datetime.combine(day_date(workshop, last), ends) if ends is not None
             else datetime.combine(day_date(workshop, last) + timedelta(days=1), time()))
    return local.replace(tzinfo=ZoneInfo(workshop.group.time_zone)).astimezone(ZoneInfo("UTC"))


def _attendees(workshop: Workshop) -> dict[int, list[int]]:
    """{user_id: attended days} for everyone who checked in at the session."""
    found: dict[int, list[int]] = {}
    for user_id, day in db.session.execute(db.select(CheckIn.user_id, CheckIn.day).where(
            CheckIn.workshop_id == workshop.id).order_by(CheckIn.user_id, CheckIn.day)):
        if day not in found.setdefault(user_id, []):
            found[user_id].append(day)
    return found


def readiness(actor, workshop: Workshop, now: datetime | None = None) -> datetime | None:
    """For a link on another part's page: None when the person has no certificate for the
    session (did not check in, or it was cancelled), else when (UTC) it is or will be ready;
    `readiness(...) <= now` means the link can be offered."""
    if not is_signed_in(actor) or workshop.cancelled_at is not None:
        return None
    days = attended_days(workshop, actor.id)
    return available_at(workshop, days) if days else None


def can_download_all(actor, group: Group) -> bool:
    """The ZIP of a session's certificates: site administrators and the group's moderators."""
    return can_moderate_group(actor, group)


# --- the certificate's number ----------------------------------------------------------------


def _existing(workshop_id: int, user_id: int) -> Certificate | None:
    return db.session.scalar(db.select(Certificate).where(
        Certificate.workshop_id == workshop_id, Certificate.user_id == user_id))


def make_serial(workshop: Workshop, user_id: int, issued_at: datetime) -> str:
    """A readable number, unique because the pair (session, person) is: year/session/person."""
    return f"{issued_at.year}/{workshop.id:05d}/{user_id:06d}"


def issue(workshop: Workshop, user_id: int, now: datetime | None = None) -> Certificate:
    """The person's Certificate row for the session, created and committed at the first call.
    Two first downloads at the same moment give one row: the second insert fails on the unique
    (session, person) pair, is rolled back, and the first one's row is returned. Commits (or
    rolls back) the session: call it with nothing else pending."""
    certificate = _existing(workshop.id, user_id)
    if certificate is not None:
        return certificate
    workshop_id = workshop.id
    now = now or utcnow()
    db.session.add(Certificate(workshop_id=workshop_id, user_id=user_id, issued_at=now,
                               serial=make_serial(workshop, user_id, now)))
    try:
        db.session.commit()
    except IntegrityError:  # someone else issued it at the same moment: theirs stays
        db.session.rollback()
    certificate = _existing(workshop_id, user_id)
    if certificate is None:  # pragma: no cover - the row was deleted meanwhile
        raise NotFound()
    return certificate


# --- what a certificate says -----------------------------------------------------------------


@dataclass(frozen=True)
class CertificateData:
    user: User
    workshop: Workshop
    days: list[int]
    hours: float
    certificate: Certificate


def own_certificate(actor, group: Group, workshop: Workshop,
                    now: datetime | None = None) -> CertificateData:
    """The signed-in person's own certificate for the session (issued and committed at the first
    call). NotFound for non-members and for members who did not check in;
    NotYetAvailable before the last attended day is over."""
    if not is_signed_in(actor) or not can_view_group(actor, group) \
            or workshop.group_id != group.id or workshop.cancelled_at is not None:
        raise NotFound()
    days = attended_days(workshop, actor.id)
    if not days:
        raise NotFound()
    now = now or utcnow()
    due = available_at(workshop, days)
    if now < due:
        raise NotYetAvailable(due)
    return CertificateData(actor, workshop, days, hours_for_days(workshop, days),
                           issue(workshop, actor.id, now))


def _format_hours(hours: float) -> str:
    return format_decimal(hours, format="#,##0.##", locale=str(get_locale()))


def _format_day(value: date) -> str:
    return babel_format_date(value, "long", locale=str(get_locale()))


def texts(data: CertificateData) -> dict[str, str]:
    """The certificate's words, in the current language (the caller chooses it)."""
    workshop, user = data.workshop, data.user
    organisation = user.organisation.name if user.organisation is not None else ""
    return {
        "title": _("Certificate of attendance"),
        "intro": _("This is to certify that"),
        "name": user.name,
        "organisation": organisation,
        "took_part": _("took part in the exchange group"),
        "group": workshop.group.name,
        "session": _("Session %(number)d: %(theme)s", number=workshop.number,
                     theme=workshop.theme),
        "dates_label": _("Dates attended"),
        "dates": "\n".join(_format_day(day_date(workshop, d)) for d in data.days),
        "hours_label": _("Hours"),
        "hours": _format_hours(data.hours),
        "place_label": _("Place"),
        "place": workshop.place or "",
        "serial_label": _("Certificate number"),
        "serial": data.certificate.serial,
        "issued_label": _("Issued on"),
        "issued": _format_day(data.certificate.issued_at.astimezone(
            ZoneInfo(workshop.group.time_zone)).date()),
        "site": current_app.config["FORUM_SITE_NAME"],
    }


# --- the PDF ---------------------------------------------------------------------------------


def font_paths() -> tuple[str, str]:
    folder = current_app.config["FORUM_CERTIFICATE_FONT_DIR"]
    paths = tuple(os.path.join(folder, name) for name in FONT_FILES)
    for path in paths:
        if not os.path.isfile(path):
            raise FontMissing(
                f"The certificate font {path} is missing. Install the DejaVu fonts "
                "(Debian: apt install fonts-dejavu-core) or set FORUM_CERTIFICATE_FONT_DIR "
                f"to a folder holding {' and '.join(FONT_FILES)}.")
    return paths  # type: ignore[return-value]


def render_pdf(data: CertificateData) -> bytes:
    """The certificate as an A4 PDF, in the current language."""
    from fpdf import FPDF  # imported when needed: the rest of the forum does not load it

    regular, bold = font_paths()
    words = texts(data)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(f"{words['title']} {words['serial']}")
    pdf.set_author(words["site"])
    pdf.set_creator(words["site"])
    pdf.set_auto_page_break(auto=False)
    pdf.add_font("DejaVu", "", regular)
    pdf.add_font("DejaVu", "B", bold)
    pdf.add_page()
    width = pdf.w - 2 * 25
    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(0.8)
    pdf.rect(12, 12, pdf.w - 24, pdf.h - 24)
    pdf.set_line_width(0.2)
    pdf.rect(15, 15, pdf.w - 30, pdf.h - 30)

    def line(text: str, size: float, style: str = "", gap: float = 4, height: float = 0):
        pdf.set_x(25)
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(width, height or size * 0.55, text, align="C",
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    pdf.set_y(32)
    pdf.set_text_color(90, 90, 90)
    line(words["site"], 11, gap=14)
    pdf.set_text_color(40, 70, 120)
    line(words["title"], 22, "B", gap=14)
    pdf.set_text_color(20, 20, 20)
    line(words["intro"], 13, gap=8)
    line(words["name"], 22, "B", gap=4)
    if words["organisation"]:
        line(words["organisation"], 13, gap=12)
    else:
        pdf.ln(8)
    line(words["took_part"], 13, gap=4)
    line(words["group"], 16, "B", gap=10)
    line(words["session"], 15, "B", gap=14)

    def row(label: str, value: str):
        pdf.set_x(35)
        pdf.set_font("DejaVu", "", 11)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(55, 7, label)
        pdf.set_font("DejaVu", "B", 11)
        pdf.set_text_color(20, 20, 20)
        pdf.multi_cell(pdf.w - 35 - 55 - 30, 7, value, align="L", new_x="LMARGIN",
                       new_y="NEXT")
        pdf.ln(1)

    row(words["dates_label"], words["dates"])
    row(words["hours_label"], words["hours"])
    if words["place"]:
        row(words["place_label"], words["place"])
    pdf.set_y(max(pdf.h - 60, pdf.get_y() + 4))  # lower on long names, themes and places
    pdf.set_draw_color(160, 160, 160)
    pdf.line(40, pdf.get_y(), pdf.w - 40, pdf.get_y())
    pdf.ln(4)
    row(words["serial_label"], words["serial"])
    row(words["issued_label"], words["issued"])
    return bytes(pdf.output())


def pdf_in_language_of(data: CertificateData) -> bytes:
    with in_language_of(data.user):
        return render_pdf(data)


# --- file names ------------------------------------------------------------------------------

_FOLD = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ß": "ss"})


def safe_file_stem(text: str, fallback: str = "certificate") -> str:
    """ASCII letters, digits and hyphens only: fit for a file name anywhere."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:80].strip("-")
    return text or fallback


def download_name(workshop: Workshop) -> str:
    return f"certificate-{safe_file_stem(workshop.group.slug)}-session-{workshop.number}.pdf"


# --- everyone's certificates in one ZIP ------------------------------------------------------


def write_session_zip(actor, group: Group, workshop: Workshop, out,
                      now: datetime | None = None) -> int:
    """Write a ZIP of every due attendee's certificate (one PDF each, in the person's language) to
    the binary file `out`; issues the certificates not yet issued (each committed as it is
    issued), records the download in the audit log and commits. Returns how many certificates
    it holds. NotFound for those who cannot see the group; PermissionDenied for those who may
    not download them all."""
    if not can_view_group(actor, group) or workshop.group_id != group.id \
            or workshop.cancelled_at is not None:
        raise NotFound()
    if not can_download_all(actor, group):
        raise PermissionDenied()
    now = now or utcnow()
    # As for the person's own download: only those whose last attended day is over.
    attendees = {user_id: days for user_id, days in _attendees(workshop).items()
                 if available_at(workshop, days) <= now}
    users = {u.id: u for u in db.session.scalars(
        db.select(User).where(User.id.in_(attendees)))} if attendees else {}
    used: set[str] = set()
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for user in sorted(users.values(), key=lambda u: (u.name.casefold(), u.id)):
            days = attendees[user.id]
            data = CertificateData(user, workshop, days, hours_for_days(workshop, days),
                                   issue(workshop, user.id, now))
            stem = safe_file_stem(user.name, f"person-{user.id}")
            name, n = f"{stem}.pdf", 2
            while name.casefold() in used:
                name, n = f"{stem}-{n}.pdf", n + 1
            used.add(name.casefold())
            archive.writestr(name, pdf_in_language_of(data))
            count += 1
    record_audit(actor, "certificate.zip", group=group, subject=workshop,
                 target=f"{workshop.number}. {workshop.theme}", details={"certificates": count})
    db.session.commit()
    return count


def session_zip_file(actor, group: Group, workshop: Workshop):
    """The ZIP in a temporary file (in memory while small, on disk beyond SPOOL_BYTES;
    deleted when closed), positioned at its start."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        write_session_zip(actor, group, workshop, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


# --- for other parts: counts and a person's certificates -------------------------------------


def issued_count(workshop_ids) -> dict[int, int]:
    """{workshop_id: certificates issued} for the given sessions (0 where none)."""
    ids = list(set(workshop_ids))
    counts = dict.fromkeys(ids, 0)
    if ids:
        counts.update(db.session.execute(
            db.select(Certificate.workshop_id, func.count(Certificate.id))
            .where(Certificate.workshop_id.in_(ids)).group_by(Certificate.workshop_id)).all())
    return counts


def certificates_of(user) -> list[dict]:
    """The person's issued certificates, oldest first, as plain data (the data export)."""
    rows = db.session.execute(
        db.select(Certificate, Workshop, Group)
        .join(Workshop, Workshop.id == Certificate.workshop_id)
        .join(Group, Group.id == Workshop.group_id)
        .where(Certificate.user_id == user.id).order_by(Certificate.issued_at, Certificate.id))
    return [{"serial": c.serial, "issued_at": c.issued_at.isoformat(), "group": g.name,
             "session": w.number, "theme": w.theme,
             "days": [day_date(w, d).isoformat() for d in attended_days(w, user.id)]}
            for c, w, g in rows]

