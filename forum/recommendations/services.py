"""Every rule of the recommendations register: a recommendation starts from an agreed proposal,
a thread's conclusion or by hand; its status moves proposed → agreed → sent to the training
centre → adopted / not adopted, each step dated with a note (audited); the group's register and
the programme's (every group the reader may see), filtered, and exported as CSV and a
document."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from forum.audit.services import record_audit
from forum.discussions.models import Post, Thread
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group
from forum.groups.policy import can_moderate_group, can_view_group, is_admin, roles_of
from forum.materials.models import Material
from forum.polls import services as polls
from forum.polls.models import Poll, PollKind
from forum.recommendations.models import Recommendation, RecommendationStatus, RecommendationStep
from forum.text import fold, render_markdown
from forum.timeutil import utcnow
from forum.workshops.models import Workshop
from forum.workshops.services import group_today

MAX_TITLE = 300
MAX_TEXT = 20_000
MAX_NOTE = 2000
S = RecommendationStatus
STATUSES = {
    S.PROPOSED: _l("Proposed"),
    S.AGREED: _l("Agreed"),
    S.SENT: _l("Sent to the training centre"),
    S.ADOPTED: _l("Adopted"),
    S.NOT_ADOPTED: _l("Not adopted"),
}
NEXT = {
    S.PROPOSED: (S.AGREED, S.NOT_ADOPTED),
    S.AGREED: (S.SENT, S.NOT_ADOPTED),
    S.SENT: (S.ADOPTED, S.NOT_ADOPTED),
    S.ADOPTED: (),
    S.NOT_ADOPTED: (),
}


def can_manage(actor, group: Group) -> bool:
    """Write recommendations and move their status: the group's moderators (and
    administrators, who run the programme)."""
    return can_moderate_group(actor, group)


# --- reading ---------------------------------------------------------------------------------


def get_recommendation_for(actor, group: Group, recommendation_id: int) -> Recommendation:
    if not can_view_group(actor, group):
        raise NotFound()
    found = db.session.get(Recommendation, recommendation_id)
    if found is None or found.group_id != group.id:
        raise NotFound()
    return found


@dataclass(frozen=True)
class Filters:
    status: str = ""
    group_slug: str = ""  # the programme's register only
    session: int | None = None  # a session number (a group's register only)
    query: str = ""  # words that must all occur in the title, text or notes


def _visible_group_ids(actor) -> list[int] | None:
    """None: every group (an administrator)."""
    if is_admin(actor):
        return None
    return list(roles_of(actor))


def list_recommendations(actor, group: Group | None = None,
                         filters: Filters = Filters()) -> list[Recommendation]:
    """A group's register, or (without a group) the programme's: every group the reader may
    see. Newest first."""
    statement = (db.select(Recommendation)
                 .options(selectinload(Recommendation.steps),
                          selectinload(Recommendation.group))
                 .order_by(Recommendation.id.desc()))
    if group is not None:
        if not can_view_group(actor, group):
            raise NotFound()
        statement = statement.where(Recommendation.group_id == group.id)
        if filters.session:
            statement = statement.join(Workshop, Workshop.id == Recommendation.workshop_id).where(
                Workshop.number == filters.session)
    else:
        visible = _visible_group_ids(actor)
        if visible is not None:
            statement = statement.where(Recommendation.group_id.in_(visible))
        if filters.group_slug:
            statement = statement.join(Group, Group.id == Recommendation.group_id).where(
                Group.slug == filters.group_slug)
    if filters.status in STATUSES:
        statement = statement.where(Recommendation.status == filters.status)
    found = list(db.session.scalars(statement.limit(1000)))
    words = fold(filters.query).split()[:10]
    if words:
        # A register holds dozens of recommendations, not millions: matched here, with
        # accents and case folded (forum.text.fold), so "szkolen" finds "Szkoleń".
        found = [r for r in found if all(word in _searchable(r) for word in words)]
    return found


def _searchable(recommendation: Recommendation) -> str:
    return fold(" ".join([recommendation.title, recommendation.text,
                          *(step.note for step in recommendation.steps)]))


# --- where a recommendation comes from -------------------------------------------------------


@dataclass
class RecommendationInput:
    title: str = ""
    text: str = ""
    note: str = ""  # the first step's note
    on: date | None = None  # the first step's day
    session: int | None = None  # the session it came from (its number)
    material_id: int | None = None


def agreed_proposal(poll: Poll) -> bool:
    """A closed consent proposal whose outcome is "agreed"."""
    return (poll.kind == PollKind.CONSENT and not polls.is_open(poll)
            and polls.results(poll).outcome == "agreed")


def draft_from_poll(actor, group: Group, poll: Poll) -> RecommendationInput:
    if not agreed_proposal(poll):
        raise InvalidInput({"": _l("Only a closed proposal that was agreed becomes a "
                                   "recommendation.")})
    found = polls.results(poll)
    counts = {o.code: found.tally.totals[o.id] for o in poll.options}
    note = str(_l("Agreed in the proposal “%(question)s”: %(agree)d agree, %(abstain)d "
                  "abstain, %(disagree)d disagree, no block.", question=poll.question,
                  agree=counts["agree"], abstain=counts["abstain"],
                  disagree=counts["disagree"]))
    workshop = db.session.get(Workshop, poll.workshop_id) if poll.workshop_id else None
    return RecommendationInput(title=poll.question, text=poll.details, note=note,
                               session=workshop.number if workshop else None)


def draft_from_thread(actor, group: Group, thread: Thread) -> RecommendationInput:
    text = thread.close_summary
    if thread.conclusion_post_id is not None:
        post = db.session.get(Post, thread.conclusion_post_id)
        if post is not None and post.deleted_at is None and post.hidden_at is None:
            text = post.body
    if not text.strip():
        raise InvalidInput({"": _l("This thread has no conclusion or closing summary yet.")})
    return RecommendationInput(
        title=thread.title, text=text,
        note=str(_l("From the conclusion of the thread “%(title)s”.", title=thread.title)),
        session=thread.workshop.number if thread.workshop else None)


# --- writing ---------------------------------------------------------------------------------


def _check_step(errors: dict, on: date | None, note: str, group: Group,
                not_before: date | None = None) -> None:
    today = group_today(group)
    if on is None:
        errors["on"] = _l("Give the day of this step.")
    elif on > today:
        errors["on"] = _l("The day of a step cannot be in the future.")
    elif not_before is not None and on < not_before:
        errors["on"] = _l("The day cannot be before the previous step (%(day)s).",
                          day=not_before.isoformat())
    if len(note) > MAX_NOTE:
        errors["note"] = _l("At most %(n)d characters.", n=MAX_NOTE)


def create(actor, group: Group, data: RecommendationInput, *, poll: Poll | None = None,
           thread: Thread | None = None) -> Recommendation:
    """A new recommendation: "agreed" when it comes from an agreed proposal, else "proposed"."""
    if not can_view_group(actor, group):
        raise NotFound()
    if not can_manage(actor, group):
        raise PermissionDenied()
    if (poll is not None and poll.group_id != group.id) or (
            thread is not None and thread.group_id != group.id):
        raise NotFound()
    if poll is not None and not agreed_proposal(poll):
        raise InvalidInput({"": _l("Only a closed proposal that was agreed becomes a "
                                   "recommendation.")})
    errors: dict[str, str] = {}
    title = " ".join(data.title.split())
    if not title:
        errors["title"] = _l("Give the recommendation a title.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _l("At most %(n)d characters.", n=MAX_TITLE)
    if len(data.text) > MAX_TEXT:
        errors["text"] = _l("At most %(n)d characters.", n=MAX_TEXT)
    _check_step(errors, data.on, data.note, group)
    workshop = material = None
    if data.session:
        workshop = db.session.scalar(db.select(Workshop).where(
            Workshop.group_id == group.id, Workshop.number == data.session))
        if workshop is None:
            errors["session"] = _l("No such session in this group.")
    if data.material_id:
        material = db.session.get(Material, data.material_id)
        if material is None or material.group_id != group.id or material.deleted_at:
            errors["material_id"] = _l("No such material in this group.")
    if errors:
        raise InvalidInput(errors)
    status = S.AGREED if poll is not None else S.PROPOSED
    thread_id = thread.id if thread is not None else (poll.thread_id if poll else None)
    recommendation = Recommendation(
        group_id=group.id, title=title, text=data.text.strip(),
        text_html=render_markdown(data.text.strip()), status=status,
        poll_id=poll.id if poll else None, thread_id=thread_id,
        workshop_id=workshop.id if workshop else None,
        material_id=material.id if material else None, created_by_id=actor.id)
    recommendation.steps = [RecommendationStep(status=status, on=data.on,
                                               note=data.note.strip(), recorded_by_id=actor.id)]
    db.session.add(recommendation)
    db.session.flush()
    record_audit(actor, "recommendation.create", group=group, target=title,
                 subject=recommendation, details={"status": status})
    db.session.commit()
    return recommendation


def change_status(actor, group: Group, recommendation: Recommendation, status: str, *,
                  on: date | None, note: str) -> RecommendationStep:
    if not can_view_group(actor, group) or recommendation.group_id != group.id:
        raise NotFound()
    if not can_manage(actor, group):
        raise PermissionDenied()
    errors: dict[str, str] = {}
    current = recommendation.status
    if status not in NEXT.get(current, ()):
        errors["status"] = _l("From “%(current)s” a recommendation can move to: %(allowed)s.",
                              current=STATUSES[current],
                              allowed=", ".join(str(STATUSES[s]) for s in NEXT[current])
                              or "—")
    last = recommendation.steps[-1].on if recommendation.steps else None
    _check_step(errors, on, note, group, not_before=last)
    if errors:
        raise InvalidInput(errors)
    # Two moderators moving the same recommendation at once: only one step is taken.
    moved = db.session.execute(
        db.update(Recommendation)
        .where(Recommendation.id == recommendation.id, Recommendation.status == current)
        .values(status=status, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not moved:
        db.session.rollback()
        raise InvalidInput({"status": _l("Someone changed the status meanwhile: look at it "
                                         "again.")})
    step = RecommendationStep(recommendation_id=recommendation.id, status=status, on=on,
                              note=note.strip(), recorded_by_id=actor.id)
    db.session.add(step)
    record_audit(actor, "recommendation.status", group=group, target=recommendation.title,
                 subject=recommendation, details={"from": current, "to": status,
                                                  "on": on.isoformat()})
    db.session.commit()
    db.session.refresh(recommendation)
    return step


# --- export ----------------------------------------------------------------------------------


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(recommendations: list[Recommendation]) -> Iterator[str]:
    """One row per recommendation, its steps in one cell (day, status, note), in the
    reader's language."""
    out = io.StringIO()
    writer = csv.writer(out)

    def line(row) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow([_cell(v) for v in row])
        return out.getvalue()

    yield line([_l("Number"), _l("Group"), _l("Title"), _l("Status"), _l("Since"),
                _l("Text"), _l("History")])
    for r in recommendations:
        history = "\n".join(f"{s.on.isoformat()} {STATUSES.get(s.status, s.status)}"
                            + (f": {s.note}" if s.note else "") for s in r.steps)
        yield line([r.id, r.group.name, r.title, STATUSES.get(r.status, r.status),
                    r.steps[-1].on.isoformat() if r.steps else "", r.text, history])


def docx_document(recommendations: list[Recommendation], heading: str) -> bytes:
    """The register as a Word document: one section per recommendation with its history."""
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for r in recommendations:
        document.add_heading(f"{r.id}. {r.title}", level=2)
        document.add_paragraph(f"{r.group.name} · {STATUSES.get(r.status, r.status)}")
        for paragraph in r.text.split("\n\n"):
            if paragraph.strip():
                document.add_paragraph(paragraph.strip())
        for step in r.steps:
            document.add_paragraph(
                f"{step.on.isoformat()} — {STATUSES.get(step.status, step.status)}"
                + (f": {step.note}" if step.note else ""), style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- links -----------------------------------------------------------------------------------


def recommendation_links(ids: set[int]) -> dict[int, tuple[str, dict]]:
    """Audit-log links (forum.audit.services.register_links)."""
    return {rid: ("recommendations.detail", {"slug": slug, "recommendation_id": rid})
            for rid, slug in db.session.execute(
                db.select(Recommendation.id, Group.slug)
                .join(Group, Group.id == Recommendation.group_id)
                .where(Recommendation.id.in_(ids))).all()}
