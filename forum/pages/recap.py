"""Session recap: what a session produced, on a page and as a ZIP for the programme's report.

A recap exists once the session has started (live or concluded). It gathers the session's
materials, the threads linked to it or started during it (day 1 to day 2 in the group's time
zone) and linked to no other session, its chat transcript, and counts. The export is a ZIP
with a self-contained `index.html` (the HTML is rendered by the view from the sanitised
`*_html` only, its links into the forum made absolute), the current version of every material
under `materials/`, and a `README.txt`.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from forum.attendance.hours import day_hours, hours_for_days
from forum.attendance.models import CheckIn, Registration
from forum.chat.models import MessageKind
from forum.chat.services import TranscriptDay
from forum.chat.services import transcript as chat_transcript
from forum.discussions.models import Post, Thread
from forum.errors import InvalidInput, NotFound
from forum.extensions import db
from forum.groups.policy import can_view_group
from forum.materials.filetypes import safe_download_name
from forum.materials.models import Material, MaterialVersion
from forum.materials.services import open_version
from forum.pages.agenda import ThreadSummary, summaries
from forum.timeutil import utcnow
from forum.workshops.models import Workshop, WorkshopState
from forum.workshops.services import group_today

log = logging.getLogger(__name__)

# A forum-relative link in sanitised HTML (href="/g/…"; not "//host", which is not the forum's).
_RELATIVE_HREF = re.compile(r'href="/(?!/)')


def absolute_links(html: str, base_url: str) -> Markup:
    """Sanitised HTML (from forum.text) with its links into the forum made absolute, for the
    export read offline, where "/g/…/chat" would point into the reader's own disk."""
    return Markup(_RELATIVE_HREF.sub(f'href="{escape(base_url.rstrip("/"))}/', html or ""))

SPOOL_BYTES = 8 * 1024 * 1024  # a ZIP bigger than this goes to a temporary file on disk
COPY_CHUNK = 256 * 1024
# Already compressed: stored as they are (deflating them again costs time and saves nothing).
_COMPRESSED_MIME = ("image/", "video/", "audio/", "application/pdf", "application/zip",
                    "application/vnd.openxmlformats", "application/vnd.oasis")


# --- availability ----------------------------------------------------------------------------


def recap_state(workshop: Workshop, now: datetime | None = None) -> WorkshopState:
    return workshop.state_on(group_today(workshop.group, now))


def recap_available(workshop: Workshop, now: datetime | None = None) -> bool:
    return recap_state(workshop, now) in (WorkshopState.LIVE, WorkshopState.CONCLUDED)


def _check_available(workshop: Workshop, now: datetime | None) -> None:
    state = recap_state(workshop, now)
    if state == WorkshopState.CANCELLED:
        raise InvalidInput({"": _l("This session was cancelled: there is no recap.")})
    if state == WorkshopState.UPCOMING:
        raise InvalidInput({"": _l("The recap is available once the session has started.")})


# --- the recap -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayAttendance:
    """Who was at the session on one of its days (at least one check-in that day)."""

    day: int  # 1 or 2
    date: date
    registered: int  # people registered for that day
    people: int
    organisations: int
    hours: float  # the day's hours (its start and end times; 0 when not set)


@dataclass(frozen=True)
class Attendance:
    """The session's attendance figures (forum.attendance's tables, counted here). People
    whose account was erased still count (their check-ins stay, anonymous)."""

    registered: int  # people registered for at least one day
    registered_organisations: int
    people: int  # attended: at least one check-in
    organisations: int
    days: tuple[DayAttendance, ...]
    # Hours of attendance: for each person, the hours of the days they attended, added up.
    person_hours: float


def attendance_figures(workshop: Workshop) -> Attendance:
    registrations = db.session.execute(
        db.select(Registration.user_id, Registration.organisation_id, Registration.day1,
                  Registration.day2).where(Registration.workshop_id == workshop.id)).all()
    check_ins = db.session.execute(
        db.select(CheckIn.user_id, CheckIn.organisation_id, CheckIn.day)
        .where(CheckIn.workshop_id == workshop.id)).all()
    days_of: dict[int, set[int]] = {}
    organisations: set[int] = set()
    for user_id, organisation_id, day in check_ins:
        days_of.setdefault(user_id, set()).add(day)
        if organisation_id is not None:
            organisations.add(organisation_id)
    per_day = []
    for day, on in ((1, workshop.day1), (2, workshop.day2)):
        present = [(u, o) for u, o, d in check_ins if d == day]
        per_day.append(DayAttendance(
            day=day, date=on,
            registered=sum(1 for r in registrations if (r.day1 if day == 1 else r.day2)),
            people=len({u for u, _ in present}),
            organisations=len({o for _, o in present if o is not None}),
            hours=day_hours(workshop, day)))
    return Attendance(
        registered=len(registrations),
        registered_organisations=len({r.organisation_id for r in registrations
                                      if r.organisation_id is not None}),
        people=len(days_of), organisations=len(organisations), days=tuple(per_day),
        person_hours=sum(hours_for_days(workshop, days) for days in days_of.values()))


@dataclass
class Recap:
    workshop: Workshop
    materials: list[Material]
    threads: list[ThreadSummary]
    transcript: list[TranscriptDay]
    attendance: Attendance
    post_count: int
    message_count: int
    # For the export: every thread's visible posts, oldest first (only with_posts=True).
    posts: dict[int, list[Post]] = field(default_factory=dict)

    @property
    def material_count(self) -> int:
        return len(self.materials)


def workshop_bounds(workshop: Workshop) -> tuple[datetime, datetime]:
    """From the start of day 1 to the end of day 2 in the group's time zone (as UTC-aware)."""
    zone = ZoneInfo(workshop.group.time_zone)
    start = datetime.combine(workshop.day1, time.min, zone)
    end = datetime.combine(workshop.day2 + timedelta(days=1), time.min, zone)
    return start, end


def _materials(workshop: Workshop) -> list[Material]:
    return list(db.session.scalars(
        db.select(Material)
        .where(Material.workshop_id == workshop.id, Material.group_id == workshop.group_id,
               Material.deleted_at.is_(None))
        .options(selectinload(Material.versions))
        .order_by(Material.created_at, Material.id)))


def _threads(workshop: Workshop) -> list[Thread]:
    start, end = workshop_bounds(workshop)
    return list(db.session.scalars(
        db.select(Thread)
        .where(Thread.group_id == workshop.group_id, Thread.merged_into_id.is_(None),
               # Linked to this session, or started during it and linked to no session
               # (a thread of another session started on these days is that session's).
               or_(Thread.workshop_id == workshop.id,
                   Thread.workshop_id.is_(None) & (Thread.created_at >= start)
                   & (Thread.created_at < end)))
        .options(selectinload(Thread.conclusion_post))
        .order_by(Thread.created_at, Thread.id)))


def _visible_posts(thread_ids: list[int]) -> dict[int, list[Post]]:
    posts: dict[int, list[Post]] = {i: [] for i in thread_ids}
    if thread_ids:
        for post in db.session.scalars(
                db.select(Post).where(Post.thread_id.in_(thread_ids), Post.deleted_at.is_(None),
                                      Post.hidden_at.is_(None))
                .order_by(Post.thread_id, Post.number)):
            posts[post.thread_id].append(post)
    return posts


def build_recap(actor, workshop: Workshop, *, with_posts: bool = False,
                now: datetime | None = None) -> Recap:
    """The recap of a session that has started; NotFound for people outside the group,
    InvalidInput before the session starts or when it was cancelled."""
    if not can_view_group(actor, workshop.group):
        raise NotFound()
    _check_available(workshop, now)
    materials = _materials(workshop)
    threads = summaries(_threads(workshop))
    transcript = chat_transcript(actor, workshop)
    thread_ids = [s.thread.id for s in threads]
    messages = [m for day in transcript for m in day.messages
                if m.kind == MessageKind.MESSAGE and not m.removed]
    return Recap(
        workshop=workshop, materials=materials, threads=threads, transcript=transcript,
        attendance=attendance_figures(workshop), post_count=sum(s.post_count for s in threads),
        message_count=len(messages),
        posts=_visible_posts(thread_ids) if with_posts else {})


# --- the ZIP export --------------------------------------------------------------------------


def material_files(materials: list[Material]) -> dict[int, tuple[MaterialVersion, str]]:
    """material id → (current version, a safe file name unique within the ZIP)."""
    files, taken = {}, set()
    for material in materials:
        version = material.current_version
        if version is None:  # a good-practice write-up without a file
            continue
        name = safe_download_name(version.original_name, max_length=120)
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})"
        taken.add(candidate.casefold())
        files[material.id] = (version, candidate)
    return files


def export_name(workshop: Workshop) -> str:
    return f"{workshop.group.slug}-session-{workshop.number}-recap.zip"


def _readme(recap: Recap, files: dict[int, tuple[MaterialVersion, str]],
            missing: tuple[int, ...] = ()) -> str:
    workshop = recap.workshop
    lines = [
        _("Recap of session %(number)d: %(theme)s", number=workshop.number,
          theme=workshop.theme),
        workshop.group.name,
        f"{workshop.day1.isoformat()} – {workshop.day2.isoformat()}"
        + (f", {workshop.place}" if workshop.place else ""),
        "",
        _("index.html — the recap: materials, threads with their posts, the chat transcript "
          "and the counts. Open it in any web browser; it needs no connection."),
        _("materials/ — the current version of each material of the session."),
        "",
        *_attendance_lines(recap.attendance),
        _("Posts: %(n)d", n=recap.post_count),
        _("Chat messages: %(n)d", n=recap.message_count),
        _("Materials: %(n)d", n=recap.material_count),
        "",
    ]
    for material in recap.materials:
        if material.id in files and material.id not in missing:
            version, name = files[material.id]
            lines.append(f"materials/{name} — {material.title} "
                         f"({_('version %(n)d', n=version.number)}, SHA-256 {version.sha256})")
    for material in recap.materials:
        if material.id in missing:
            lines.append(_("Not included: the file of “%(title)s” is missing from the forum's "
                           "storage. The administrators have been told.", title=material.title))
    lines += ["", _("Exported on %(when)s (UTC).",
                    when=utcnow().strftime("%Y-%m-%d %H:%M"))]
    return "\r\n".join(lines) + "\r\n"


def format_hours(hours: float) -> str:
    """Hours (to a quarter) in the reader's notation: "6", "5.5" / "5,5", "11.25"."""
    return format_decimal(hours, format="#,##0.##")


def _attendance_lines(attendance: Attendance) -> list[str]:
    lines = [_("Registered: people: %(people)d, organisations: %(organisations)d",
               people=attendance.registered,
               organisations=attendance.registered_organisations),
             _("Attended: people: %(people)d, organisations: %(organisations)d",
               people=attendance.people, organisations=attendance.organisations)]
    for day in attendance.days:
        lines.append(_("Session day %(n)d, %(date)s", n=day.day, date=day.date.isoformat()) + " — "
                     + _("attended: people: %(people)d, organisations: %(organisations)d; "
                         "registered: %(registered)d; hours: %(hours)s",
                         people=day.people, organisations=day.organisations,
                         registered=day.registered, hours=format_hours(day.hours)))
    lines.append(_("Hours attended, all people together: %(hours)s",
                   hours=format_hours(attendance.person_hours)))
    return lines


def _compressed(mime: str) -> bool:
    return mime.startswith(_COMPRESSED_MIME)


def write_zip(recap: Recap, index_html: str, files: dict[int, tuple[MaterialVersion, str]]):
    """The ZIP in a SpooledTemporaryFile (in memory while small, on disk beyond
    SPOOL_BYTES), positioned at its start; material files are copied in chunks."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("index.html", index_html.encode("utf-8"))
            missing = []
            for material in recap.materials:
                if material.id not in files:
                    continue
                version, name = files[material.id]
                info = zipfile.ZipInfo(f"materials/{name}",
                                       date_time=version.created_at.timetuple()[:6])
                info.compress_type = (zipfile.ZIP_STORED if _compressed(version.mime)
                                      else zipfile.ZIP_DEFLATED)
                info.external_attr = 0o644 << 16
                try:
                    source = open_version(version)
                except FileNotFoundError:  # lost from the storage: left out, said in README
                    log.error("recap of %s session %d: the file %s of material %d version %d "
                              "is missing from the storage", recap.workshop.group.slug,
                              recap.workshop.number, version.storage_key, material.id,
                              version.number)
                    missing.append(material.id)
                    continue
                with source, \
                        archive.open(info, "w", force_zip64=version.size > 2**31) as target:
                    shutil.copyfileobj(source, target, COPY_CHUNK)
            # Last, so that it can say which files could not be included.
            archive.writestr("README.txt",
                             _readme(recap, files, tuple(missing)).encode("utf-8"))
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out
