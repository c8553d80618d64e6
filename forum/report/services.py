"""The programme's report (issue 17): the figures the funder asks for, per group, per session
and per organisation, for a date range, as a page, CSV and XLSX.

Every figure comes from aggregate queries (GROUP BY), a fixed number of them whatever the size
of the programme. What counts:

- sessions: not cancelled, day 1 within the range (and in the chosen group); "held" once
  their day 1 has come (a session planned later in the range is listed but not held yet);
- registrations, check-ins ("attended"), hours, certificates and evaluation answers: those of
  these sessions;
- posts (visible), chat messages (not removed), opinions on drafts (an organisation's submitted
  answer), good practices written (shared) and published, recommendations: created (submitted,
  published) within the range, days counted in UTC.

Per organisation: registrations and check-ins by the organisation recorded with them; posts,
chat messages, certificates and good practices by the author's present organisation. Evaluation
answers are anonymous, so they have no organisation.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, false, func, select

from forum.accounts.models import Organisation, User
from forum.accounts.services import ORGANISATION_KINDS
from forum.attendance.hours import hours_for_days
from forum.attendance.models import Certificate, CheckIn, Registration
from forum.chat.models import ChatMessage
from forum.discussions.models import Post, Thread
from forum.evaluation.models import EvaluationAnswer, EvaluationQuestion, QuestionKind
from forum.extensions import db
from forum.groups.models import Group
from forum.ids import parse_id
from forum.library.models import ListingStatus, PracticeListing
from forum.materials.models import GoodPractice, Material
from forum.recommendations.models import Recommendation
from forum.reviews.models import AnswerStatus, OrganisationAnswer, Review
from forum.workshops.models import Workshop
from forum.workshops.services import group_today

# The figures, in the order of the columns (key, label). A row's value is None where the
# figure does not apply to that kind of row (shown as "—", an empty cell in the files).
FIGURES: list[tuple[str, object]] = [
    ("registered", _l("Registered people")),
    ("attended_people", _l("Attended: people")),
    ("attended_organisations", _l("Attended: organisations")),
    ("hours", _l("Hours")),
    ("certificates", _l("Certificates issued")),
    ("evaluation_average", _l("Evaluation average (1–5)")),
    ("evaluation_answers", _l("Evaluation answers")),
    ("posts", _l("Posts")),
    ("chat_messages", _l("Chat messages")),
    ("opinions", _l("Opinions on drafts")),
    ("practices_written", _l("Good practices written")),
    ("practices_published", _l("Good practices published")),
    ("recommendations", _l("Recommendations")),
]
FIGURE_KEYS = [key for key, _label in FIGURES]
NOT_PER_ORGANISATION = {"attended_organisations", "evaluation_average", "evaluation_answers",
                        "recommendations"}


@dataclass(frozen=True)
class ReportFilters:
    date_from: date | None = None
    date_to: date | None = None
    group_id: int | None = None

    def starts(self) -> datetime | None:
        return None if self.date_from is None else datetime.combine(
            self.date_from, time(0), tzinfo=UTC)

    def ends(self) -> datetime | None:
        """The first moment after the range (its last day included)."""
        if self.date_to is None or self.date_to == date.max:
            return None
        return datetime.combine(
            self.date_to + timedelta(days=1), time(0), tzinfo=UTC)

    def file_stem(self) -> str:
        """programme-report_2026-01-01_2026-12-31 (``start``/``end`` for an open side)."""
        first = self.date_from.isoformat() if self.date_from else "start"
        last = self.date_to.isoformat() if self.date_to else "end"
        return f"programme-report_{first}_{last}"


@dataclass
class Row:
    label: str
    figures: dict[str, float | int | None]
    # extra columns shown before the figures (group name, session number, day, kind …)
    info: dict[str, object] = field(default_factory=dict)


@dataclass
class Totals:
    sessions_held: int = 0
    local_governments: int = 0
    people: int = 0
    by_kind: list[tuple[str, int]] = field(default_factory=list)  # (kind label, count)
    figures: dict[str, float | int | None] = field(default_factory=dict)


@dataclass
class Report:
    filters: ReportFilters
    totals: Totals
    groups: list[Row]
    sessions: list[Row]
    organisations: list[Row]


def parse_filters(args) -> tuple[ReportFilters, dict[str, str]]:
    """Filters from a query string (``from``, ``to`` as YYYY-MM-DD, ``group`` an id); the
    errors by field name. A wrong value is ignored (and reported), the rest still applies."""
    errors: dict[str, str] = {}

    def day(name: str) -> date | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            errors[name] = str(_l("Enter a date as YYYY-MM-DD."))
            return None

    date_from, date_to = day("from"), day("to")
    if date_from and date_to and date_to < date_from:
        errors["to"] = str(_l("The end of the range is before its start."))
        date_to = None
    group_id = None
    value = (args.get("group") or "").strip()
    if value:
        found = parse_id(value)
        if found is not None and db.session.get(Group, found) is not None:
            group_id = found
        else:
            errors["group"] = str(_l("Choose a group from the list."))
    return ReportFilters(date_from, date_to, group_id), errors


def group_choices() -> list[Group]:
    return list(db.session.scalars(select(Group).order_by(Group.name, Group.id)))


# --- the queries -----------------------------------------------------------------------------


def _in_range(column, filters: ReportFilters) -> list:
    conditions = []
    if (starts := filters.starts()) is not None:
        conditions.append(column >= starts)
    if (ends := filters.ends()) is not None:
        conditions.append(column < ends)
    return conditions


def _sessions(filters: ReportFilters) -> list[Workshop]:
    query = select(Workshop).join(Group, Group.id == Workshop.group_id).where(
        Workshop.cancelled_at.is_(None)).order_by(Group.name, Group.id, Workshop.number)
    if filters.date_from is not None:
        query = query.where(Workshop.day1 >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(Workshop.day1 <= filters.date_to)
    if filters.group_id is not None:
        query = query.where(Workshop.group_id == filters.group_id)
    return list(db.session.scalars(query))


def _counts(statement) -> dict:
    """{key: value} from a two-column (key, aggregate) statement."""
    return {key: value for key, value in db.session.execute(statement) if key is not None}


class _Scope:
    """The grouping keys: per session, per group and per organisation, for one figure."""

    def __init__(self, filters: ReportFilters, session_ids: list[int]):
        self.filters = filters
        self.session_ids = session_ids

    def sessions_where(self, column) -> list:
        return [column.in_(self.session_ids)] if self.session_ids else [false()]

    def group_where(self, column) -> list:
        return [] if self.filters.group_id is None else [column == self.filters.group_id]


def _session_figure(base, session_col, group_col, org_col, value, *, scope: _Scope,
                    session_scope: bool):
    """Three dicts (by session id, group id, organisation id) of `value` aggregated over the
    rows of `base` (a Select with its FROM/JOINs and WHERE): `session_scope` limits the rows to
    the sessions of the report (else to the chosen group)."""
    where = (scope.sessions_where(session_col) if session_scope
             else scope.group_where(group_col))
    results = []
    for key in (session_col, group_col, org_col):
        if key is None:
            results.append({})
            continue
        statement = base.add_columns(key, value).where(*where).group_by(key)
        results.append(_counts(statement))
    return results


def build_report(filters: ReportFilters) -> Report:
    sessions = _sessions(filters)
    session_ids = [s.id for s in sessions]
    scope = _Scope(filters, session_ids)
    by_session: dict[str, dict] = {}
    by_group: dict[str, dict] = {}
    by_org: dict[str, dict] = {}

    def put(name, results):
        by_session[name], by_group[name], by_org[name] = results

    # Registrations and check-ins: those of the report's sessions.
    put("registered", _session_figure(
        select().select_from(Registration).join(Workshop, Workshop.id == Registration.workshop_id),
        Registration.workshop_id, Workshop.group_id, Registration.organisation_id,
        func.count(func.distinct(Registration.user_id)), scope=scope, session_scope=True))
    put("attended_people", _session_figure(
        select().select_from(CheckIn).join(Workshop, Workshop.id == CheckIn.workshop_id),
        CheckIn.workshop_id, Workshop.group_id, CheckIn.organisation_id,
        func.count(func.distinct(CheckIn.user_id)), scope=scope, session_scope=True))
    put("attended_organisations", _session_figure(
        select().select_from(CheckIn).join(Workshop, Workshop.id == CheckIn.workshop_id),
        CheckIn.workshop_id, Workshop.group_id, None,
        func.count(func.distinct(CheckIn.organisation_id)), scope=scope, session_scope=True))
    put("certificates", _session_figure(
        select().select_from(Certificate).join(Workshop, Workshop.id == Certificate.workshop_id)
        .join(User, User.id == Certificate.user_id),
        Certificate.workshop_id, Workshop.group_id, User.organisation_id,
        func.count(Certificate.id), scope=scope, session_scope=True))
    scale = (select().select_from(EvaluationAnswer)
             .join(EvaluationQuestion, EvaluationQuestion.id == EvaluationAnswer.question_id)
             .join(Workshop, Workshop.id == EvaluationAnswer.workshop_id)
             .where(EvaluationQuestion.kind == QuestionKind.SCALE,
                    EvaluationAnswer.scale.isnot(None)))
    put("evaluation_average", _session_figure(
        scale, EvaluationAnswer.workshop_id, Workshop.group_id, None,
        func.avg(EvaluationAnswer.scale), scope=scope, session_scope=True))
    put("evaluation_answers", _session_figure(
        scale, EvaluationAnswer.workshop_id, Workshop.group_id, None,
        func.count(EvaluationAnswer.id), scope=scope, session_scope=True))

    # Activity within the range (of the chosen group).
    posts = (select().select_from(Post).join(Thread, Thread.id == Post.thread_id)
             .outerjoin(User, User.id == Post.author_id)
             .where(Post.deleted_at.is_(None), Post.hidden_at.is_(None),
                    *_in_range(Post.created_at, filters)))
    put("posts", _session_figure(posts, Thread.workshop_id, Thread.group_id,
                                 User.organisation_id, func.count(Post.id),
                                 scope=scope, session_scope=False))
    chat = (select().select_from(ChatMessage).outerjoin(User, User.id == ChatMessage.author_id)
            .where(ChatMessage.removed_at.is_(None), *_in_range(ChatMessage.created_at, filters)))
    put("chat_messages", _session_figure(chat, ChatMessage.workshop_id, ChatMessage.group_id,
                                         User.organisation_id, func.count(ChatMessage.id),
                                         scope=scope, session_scope=False))
    opinions = (select().select_from(OrganisationAnswer)
                .join(Review, Review.id == OrganisationAnswer.review_id)
                .join(Material, Material.id == Review.material_id)
                .where(OrganisationAnswer.status == AnswerStatus.SUBMITTED,
                       *_in_range(OrganisationAnswer.submitted_at, filters)))
    put("opinions", _session_figure(opinions, Material.workshop_id, Review.group_id,
                                    OrganisationAnswer.organisation_id,
                                    func.count(OrganisationAnswer.id),
                                    scope=scope, session_scope=False))
    written = (select().select_from(GoodPractice)
               .join(Material, Material.id == GoodPractice.material_id)
               .outerjoin(User, User.id == Material.uploaded_by_id)
               .where(Material.deleted_at.is_(None), *_in_range(Material.created_at, filters)))
    put("practices_written", _session_figure(written, Material.workshop_id, Material.group_id,
                                             User.organisation_id, func.count(Material.id),
                                             scope=scope, session_scope=False))
    published = (select().select_from(PracticeListing)
                 .join(Material, Material.id == PracticeListing.material_id)
                 .outerjoin(User, User.id == Material.uploaded_by_id)
                 .where(Material.deleted_at.is_(None),
                        PracticeListing.status == ListingStatus.PUBLISHED,
                        *_in_range(PracticeListing.published_at, filters)))
    put("practices_published", _session_figure(
        published, Material.workshop_id, Material.group_id, User.organisation_id,
        func.count(Material.id), scope=scope, session_scope=False))
    recommendations = select().select_from(Recommendation).where(
        *_in_range(Recommendation.created_at, filters))
    put("recommendations", _session_figure(
        recommendations, Recommendation.workshop_id, Recommendation.group_id, None,
        func.count(Recommendation.id), scope=scope, session_scope=False))
    # Activity keyed by session counts only the report's sessions.
    for name in ("posts", "chat_messages", "opinions", "practices_written",
                 "practices_published", "recommendations"):
        by_session[name] = {k: v for k, v in by_session[name].items() if k in set(session_ids)}

    hours_session, hours_group, hours_org = _hours(sessions)
    by_session["hours"], by_group["hours"], by_org["hours"] = (
        hours_session, hours_group, hours_org)

    def figures(source: dict[str, dict], key, skip=()) -> dict:
        values = {}
        for name in FIGURE_KEYS:
            if name in skip:
                values[name] = None
            elif name == "evaluation_average":
                average = source[name].get(key)
                values[name] = None if average is None else round(float(average), 2)
            elif name == "hours":
                values[name] = float(source[name].get(key, 0))
            else:
                values[name] = int(source[name].get(key, 0))
        return values

    session_rows = [Row(label=s.theme, figures=figures(by_session, s.id), info={
        "group": s.group.name, "number": s.number, "day1": s.day1}) for s in sessions]

    group_query = select(Group).order_by(Group.name, Group.id)
    if filters.group_id is not None:
        group_query = group_query.where(Group.id == filters.group_id)
    held: dict[int, int] = defaultdict(int)
    for session in sessions:
        if _held(session):
            held[session.group_id] += 1
    group_rows = []
    for group in db.session.scalars(group_query):
        row = Row(label=group.name, figures=figures(by_group, group.id),
                  info={"sessions": int(held.get(group.id, 0))})
        group_rows.append(row)

    organisation_ids = set()
    for name in FIGURE_KEYS:
        organisation_ids.update(k for k, v in by_org[name].items() if v)
    organisation_rows = []
    if organisation_ids:
        for organisation in db.session.scalars(
                select(Organisation).where(Organisation.id.in_(organisation_ids))
                .order_by(Organisation.name)):
            organisation_rows.append(Row(
                label=organisation.name,
                figures=figures(by_org, organisation.id, skip=NOT_PER_ORGANISATION),
                info={"kind": str(ORGANISATION_KINDS.get(organisation.kind, organisation.kind)),
                      "region": organisation.region}))

    return Report(filters, _totals(scope, sum(held.values()), group_rows), group_rows,
                  session_rows, organisation_rows)


def _held(session: Workshop) -> bool:
    """Held: not cancelled (the report's sessions are not) and day 1 has come in the group."""
    return session.day1 <= group_today(session.group)


def _hours(sessions: list[Workshop]) -> tuple[dict, dict, dict]:
    """Hours by session, group and organisation: per person and session, the hours of the days
    they checked in (forum.attendance.hours), summed. One query: people are grouped by the days
    they attended, so each (session, organisation, days) comes once with its number of people."""
    if not sessions:
        return {}, {}, {}
    per_person = (select(
        CheckIn.workshop_id.label("workshop_id"),
        func.max(CheckIn.organisation_id).label("organisation_id"),
        func.max(case((CheckIn.day == 1, 1), else_=0)).label("day1"),
        func.max(case((CheckIn.day == 2, 1), else_=0)).label("day2"))
        .where(CheckIn.workshop_id.in_([s.id for s in sessions]))
        .group_by(CheckIn.workshop_id, CheckIn.user_id).subquery())
    statement = select(per_person.c.workshop_id, per_person.c.organisation_id,
                       per_person.c.day1, per_person.c.day2, func.count()).group_by(
        per_person.c.workshop_id, per_person.c.organisation_id, per_person.c.day1,
        per_person.c.day2)
    workshops = {s.id: s for s in sessions}
    by_session: dict[int, float] = defaultdict(float)
    by_group: dict[int, float] = defaultdict(float)
    by_org: dict[int, float] = defaultdict(float)
    for workshop_id, organisation_id, day1, day2, people in db.session.execute(statement):
        workshop = workshops[workshop_id]
        days = [day for day, present in ((1, day1), (2, day2)) if present]
        hours = hours_for_days(workshop, days) * people
        by_session[workshop_id] += hours
        by_group[workshop.group_id] += hours
        if organisation_id is not None:
            by_org[organisation_id] += hours
    return by_session, by_group, by_org


def _totals(scope: _Scope, sessions_held: int, groups: list[Row]) -> Totals:
    checkins = select().select_from(CheckIn).where(*scope.sessions_where(CheckIn.workshop_id))
    people = db.session.execute(
        checkins.add_columns(func.count(func.distinct(CheckIn.user_id)))).scalar_one()
    local_governments = db.session.execute(
        checkins.add_columns(func.count(func.distinct(CheckIn.organisation_id)))).scalar_one()
    kinds = db.session.execute(
        checkins.join(Organisation, Organisation.id == CheckIn.organisation_id)
        .add_columns(Organisation.kind, func.count(func.distinct(CheckIn.organisation_id)))
        .group_by(Organisation.kind).order_by(Organisation.kind)).all()
    figures: dict[str, float | int | None] = {}
    for name in FIGURE_KEYS:
        if name == "evaluation_average":
            continue
        if name in ("attended_people", "attended_organisations"):
            continue
        figures[name] = sum(row.figures[name] or 0 for row in groups)
    figures["registered"] = int(db.session.execute(
        select(func.count(func.distinct(Registration.user_id)))
        .where(*scope.sessions_where(Registration.workshop_id))).scalar_one())
    figures["attended_people"] = int(people)
    figures["attended_organisations"] = int(local_governments)
    # The mean of every scale answer of the report's sessions (not a mean of means).
    average = db.session.execute(
        select(func.avg(EvaluationAnswer.scale))
        .join(EvaluationQuestion, EvaluationQuestion.id == EvaluationAnswer.question_id)
        .where(EvaluationQuestion.kind == QuestionKind.SCALE,
               EvaluationAnswer.scale.isnot(None),
               *scope.sessions_where(EvaluationAnswer.workshop_id))).scalar_one()
    figures["evaluation_average"] = None if average is None else round(float(average), 2)
    figures = {name: figures[name] for name in FIGURE_KEYS}
    return Totals(
        sessions_held=sessions_held, local_governments=int(local_governments),
        people=int(people),
        by_kind=[(str(ORGANISATION_KINDS.get(kind, kind)), int(count)) for kind, count in kinds],
        figures=figures)


# --- the files -------------------------------------------------------------------------------


def _labels() -> dict[str, list]:
    """The header rows of the four tables (page, CSV and XLSX share them)."""
    figure_labels = [str(label) for _key, label in FIGURES]
    return {
        "groups": [str(_l("Group")), str(_l("Sessions held"))] + figure_labels,
        "sessions": [str(_l("Group")), str(_l("Session")), str(_l("Theme")),
                     str(_l("Day 1"))] + figure_labels,
        "organisations": [str(_l("Organisation")), str(_l("Kind")), str(_l("Region"))]
        + figure_labels,
    }


def table_rows(report: Report) -> dict[str, tuple[list, list[list]]]:
    """Each table as (header, rows of plain values: str, int, float, date or None)."""
    labels = _labels()

    def values(row: Row) -> list:
        return [row.figures[key] for key in FIGURE_KEYS]

    return {
        "totals": ([str(_l("Figure")), str(_l("Value"))], totals_rows(report.totals)),
        "groups": (labels["groups"], [[r.label, r.info["sessions"]] + values(r)
                                      for r in report.groups]),
        "sessions": (labels["sessions"], [[r.info["group"], r.info["number"], r.label,
                                           r.info["day1"]] + values(r)
                                          for r in report.sessions]),
        "organisations": (labels["organisations"], [[r.label, r.info["kind"], r.info["region"]]
                                                    + values(r) for r in report.organisations]),
    }


def totals_rows(totals: Totals) -> list[list]:
    rows = [
        [str(_l("Local governments taking part")), totals.local_governments],
        [str(_l("People taking part")), totals.people],
        [str(_l("Sessions held")), totals.sessions_held],
    ]
    rows += [[str(_l("Local governments taking part: %(kind)s", kind=kind)), count]
             for kind, count in totals.by_kind]
    rows += [[str(label), totals.figures[key]] for key, label in FIGURES
             if key not in ("attended_people", "attended_organisations")]
    return rows


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not take for a formula."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


SHEETS = [("totals", _l("Totals")), ("groups", _l("Groups")), ("sessions", _l("Sessions")),
          ("organisations", _l("Organisations"))]


def csv_text(report: Report) -> str:
    """The four tables one after another, each under its title, separated by an empty line."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_cell(str(_l("Programme report"))), _cell(_range_text(report.filters))])
    for key, title in SHEETS:
        header, rows = table_rows(report)[key]
        writer.writerow([])
        writer.writerow([_cell(str(title))])
        writer.writerow([_cell(v) for v in header])
        for row in rows:
            writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _range_text(filters: ReportFilters) -> str:
    first = filters.date_from.isoformat() if filters.date_from else "…"
    last = filters.date_to.isoformat() if filters.date_to else "…"
    return f"{first} – {last}"


def xlsx_bytes(report: Report) -> bytes:
    """A workbook with the sheets Totals, Groups, Sessions, Organisations; numbers as numbers,
    dates as dates, header rows bold. Text cells that start like a formula are stored as text
    (openpyxl would otherwise write them as formulas)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    tables = table_rows(report)
    bold = Font(bold=True)
    for key, title in SHEETS:
        sheet = workbook.create_sheet(str(title)[:31])
        header, rows = tables[key]
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
                elif isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
        sheet.freeze_panes = "B2"
        for index, _label in enumerate(header, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = 14 if index > 1 else 32
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

