"""Every rule of a review: opening (sections from the file or by hand), who answers for which
organisation, nothing after the deadline, extending it (audited), submitting and changing an
answer (history kept), dispositions, the response board, reminders and the export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from forum.accounts.models import Organisation, User
from forum.audit.services import record_audit
from forum.discussions import services as discussions
from forum.discussions.models import Thread
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group, Membership, Role
from forum.materials import services as materials
from forum.materials.models import Material
from forum.notifications.inbox import notify
from forum.reviews import sections as section_reader
from forum.reviews.models import (
    AnswerStatus,
    CommentDisposition,
    OpinionHistory,
    OrganisationAnswer,
    Outcome,
    Review,
    ReviewOrganisation,
    ReviewSection,
    SectionOpinion,
    Stance,
)
from forum.reviews.policy import can_answer_for, can_decide, can_open_review, can_view_review
from forum.textdiff import word_diff
from forum.timeutil import utcnow
from forum.workshops.services import group_today

MAX_QUESTION = 1000
MAX_COMMENT = 5000
MAX_REASON = 2000
REMINDER_KIND = "review_reminder"
_RACE = _l("A colleague from your organisation saved this answer meanwhile. Your text is "
           "kept below: check their changes and save again.")

STANCES = {
    Stance.AGREE: _l("Agree"),
    Stance.AGREE_WITH_CHANGES: _l("Agree with changes"),
    Stance.DISAGREE: _l("Disagree"),
    Stance.NO_OPINION: _l("No opinion"),
}
OUTCOMES = {
    Outcome.ACCEPTED: _l("Accepted"),
    Outcome.PARTLY: _l("Partly accepted"),
    Outcome.REJECTED: _l("Rejected"),
}


# --- reading ---------------------------------------------------------------------------------


def get_review_for(actor, group: Group, review_id: int) -> Review:
    if not can_view_review(actor, group):
        raise NotFound()
    review = db.session.get(Review, review_id)
    if review is None or review.group_id != group.id or review.material.deleted_at is not None:
        raise NotFound()
    return review


def list_reviews(actor, group: Group, material: Material | None = None) -> list[Review]:
    if not can_view_review(actor, group):
        raise NotFound()
    statement = (db.select(Review).join(Material, Material.id == Review.material_id)
                 .where(Review.group_id == group.id, Material.deleted_at.is_(None))
                 .order_by(Review.deadline.desc(), Review.id.desc()))
    if material is not None:
        statement = statement.where(Review.material_id == material.id)
    return list(db.session.scalars(statement))


def is_open(review: Review, today: date | None = None) -> bool:
    return (today or group_today(review.group)) <= review.deadline


def answer_of(review: Review, organisation_id: int | None) -> OrganisationAnswer | None:
    if organisation_id is None:
        return None
    return db.session.scalar(db.select(OrganisationAnswer).where(
        OrganisationAnswer.review_id == review.id,
        OrganisationAnswer.organisation_id == organisation_id))


def answering_organisation(actor, group: Group, review: Review) -> int | None:
    """The organisation the actor answers for in this review, or None (reads only)."""
    organisation_id = getattr(actor, "organisation_id", None)
    return organisation_id if can_answer_for(actor, group, review, organisation_id) else None


def default_organisations(group: Group) -> list[Organisation]:
    """Every organisation with a member (or moderator) in the group."""
    return list(db.session.scalars(
        db.select(Organisation).join(User, User.organisation_id == Organisation.id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == group.id,
               Membership.role.in_([Role.MEMBER, Role.MODERATOR]), User.active.is_(True))
        .distinct().order_by(Organisation.name)))


# --- opening ---------------------------------------------------------------------------------


def sections_of_version(version) -> list[section_reader.Section]:
    with materials.open_version(version) as stream:
        data = stream.read(section_reader.MAX_FILE_BYTES + 1)
    return section_reader.from_file(version.original_name, data)


def open_review(actor, group: Group, material: Material, *, question: str, deadline: date | None,
                manual_sections: str = "", version_number: int | None = None,
                organisation_ids: list[int] | None = None, today: date | None = None) -> Review:
    """Sections come from `manual_sections` (Markdown headings) when given, else from the
    file's headings; a file without headings asks for the manual path."""
    if not can_open_review(actor, group):
        raise PermissionDenied()
    if material.group_id != group.id or not material.versions:
        raise NotFound()
    version = materials.get_version(material, version_number)
    errors: dict[str, str] = {}
    question = question.strip()
    if not question:
        errors["question"] = _l("Say what the organisations are asked.")
    elif len(question) > MAX_QUESTION:
        errors["question"] = _l("At most %(n)d characters.", n=MAX_QUESTION)
    today = today or group_today(group)
    if deadline is None or deadline < today:
        errors["deadline"] = _l("Choose a deadline from today on.")
    if manual_sections.strip():
        found = section_reader.from_markdown(manual_sections)
        if not found:
            errors["manual_sections"] = _l("Start each section with a line like “# 1. "
                                           "Introduction”.")
    else:
        found = sections_of_version(version)
        if not found:
            errors["manual_sections"] = _l(
                "No headings were found in this file. Enter the sections by hand: a line "
                "starting with # for each heading, its text below.")
    organisations = default_organisations(group)
    if organisation_ids is not None:
        organisations = [o for o in organisations if o.id in set(organisation_ids)]
        if not organisations:
            errors["organisations"] = _l("Ask at least one organisation.")
    if errors:
        raise InvalidInput(errors)
    review = Review(group_id=group.id, material=material, version=version, question=question,
                    deadline=deadline, opened_by_id=actor.id)
    review.sections = [ReviewSection(number=n, heading=s.heading, text=s.text)
                       for n, s in enumerate(found, start=1)]
    review.asked = [ReviewOrganisation(organisation_id=o.id) for o in organisations]
    db.session.add(review)
    db.session.flush()
    record_audit(actor, "review.open", group=group, target=material.title, subject=review,
                 details={"deadline": deadline.isoformat(), "sections": len(found)})
    _notify_members(actor, group, review, {o.id for o in organisations}, only_unanswered=False)
    db.session.commit()
    return review


def extend_deadline(actor, group: Group, review: Review, deadline: date | None) -> None:
    if not can_open_review(actor, group):
        raise PermissionDenied()
    if deadline is None or deadline <= review.deadline:
        raise InvalidInput({"deadline": _l("Choose a day after the current deadline.")})
    before = review.deadline.isoformat()
    review.deadline = deadline
    # The reminders count from the deadline: the new one gets its own.
    review.reminded_before_at = review.reminded_last_day_at = None
    record_audit(actor, "review.extend", group=group, target=review.material.title,
                 subject=review, details={"from": before, "to": deadline.isoformat()})
    db.session.commit()


# --- answering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpinionInput:
    section_id: int
    stance: str = ""
    comment: str = ""
    proposed_wording: str = ""


def save_answer(actor, group: Group, review: Review, opinions: list[OpinionInput], *,
                revision: int, submit: bool, today: date | None = None) -> OrganisationAnswer:
    """Save (and with `submit`, send) the actor's organisation's answer. `revision` is the
    answer's revision the form was made from: a colleague's save in between refuses this one
    (the view shows the typed text again). After submitting, changes keep the earlier text."""
    organisation_id = answering_organisation(actor, group, review)
    if organisation_id is None:
        raise PermissionDenied()
    if not is_open(review, today):
        raise InvalidInput({"": _l("The deadline has passed: answers can no longer be "
                                   "given or changed.")})
    errors: dict[str, str] = {}
    sections = {s.id: s for s in review.sections}
    for item in opinions:
        if item.section_id not in sections:
            raise NotFound()
        field = f"s{item.section_id}"
        if item.stance and item.stance not in STANCES:
            errors[f"{field}-stance"] = _l("Choose a stance.")
        if len(item.comment) > MAX_COMMENT or len(item.proposed_wording) > MAX_COMMENT:
            errors[f"{field}-comment"] = _l("At most %(n)d characters.", n=MAX_COMMENT)
    if submit and not any(item.stance for item in opinions):
        errors[""] = _l("Give a stance on at least one section before submitting.")
    answer = answer_of(review, organisation_id)
    if answer is not None and answer.revision != revision:
        errors[""] = _RACE
    if errors:
        raise InvalidInput(errors)
    now = utcnow()
    if answer is None:
        answer = OrganisationAnswer(review_id=review.id, organisation_id=organisation_id,
                                    revision=1, updated_at=now)
        db.session.add(answer)
        try:  # two first saves racing: the unique (review, organisation) refuses the second
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            raise InvalidInput({"": _RACE}) from None
    else:
        # Claim the next revision in the database: of two saves racing past the check above
        # only one matches.
        won = db.session.execute(
            db.update(OrganisationAnswer)
            .where(OrganisationAnswer.id == answer.id, OrganisationAnswer.revision == revision)
            .values(revision=revision + 1, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if not won:
            db.session.rollback()
            raise InvalidInput({"": _RACE})
        db.session.refresh(answer)
    existing = {o.section_id: o for o in answer.opinions}
    for item in opinions:
        content = (item.stance, item.comment.strip(), item.proposed_wording.strip())
        opinion = existing.get(item.section_id)
        if opinion is None:
            if not any(content):
                continue
            opinion = SectionOpinion(section_id=item.section_id)
            answer.opinions.append(opinion)
        elif (opinion.stance, opinion.comment, opinion.proposed_wording) == content:
            continue
        elif answer.status == AnswerStatus.SUBMITTED:
            db.session.add(OpinionHistory(
                opinion_id=opinion.id, stance=opinion.stance, comment=opinion.comment,
                proposed_wording=opinion.proposed_wording, changed_by_id=actor.id,
                written_by_id=opinion.updated_by_id, changed_at=now))
        opinion.stance, opinion.comment, opinion.proposed_wording = content
        opinion.updated_by_id = actor.id
        opinion.updated_at = now
    if submit and answer.status != AnswerStatus.SUBMITTED:
        answer.status = AnswerStatus.SUBMITTED
        answer.submitted_at = now
        answer.submitted_by_id = actor.id
    db.session.commit()
    return answer


def history_of(opinion: SectionOpinion) -> list[OpinionHistory]:
    return list(db.session.scalars(db.select(OpinionHistory).where(
        OpinionHistory.opinion_id == opinion.id).order_by(OpinionHistory.id.desc())))


# --- reading opinions ------------------------------------------------------------------------


def visible_answers(actor, group: Group, review: Review) -> list[OrganisationAnswer]:
    """Submitted answers, and the actor's own organisation's draft."""
    own = answering_organisation(actor, group, review)
    answers = db.session.scalars(db.select(OrganisationAnswer).where(
        OrganisationAnswer.review_id == review.id).order_by(OrganisationAnswer.id))
    return [a for a in answers
            if a.status == AnswerStatus.SUBMITTED or a.organisation_id == own]


def opinions_by_section(actor, group: Group, review: Review) -> dict[int, list[SectionOpinion]]:
    """{section id: opinions of the visible answers, by organisation name}."""
    result: dict[int, list[SectionOpinion]] = {s.id: [] for s in review.sections}
    for answer in visible_answers(actor, group, review):
        for opinion in answer.opinions:
            result[opinion.section_id].append(opinion)
    for opinions in result.values():
        opinions.sort(key=lambda o: o.answer.organisation.name)
    return result


@dataclass
class BoardRow:
    organisation: Organisation
    answer: OrganisationAnswer | None
    members: list[User]

    @property
    def answered(self) -> bool:
        return self.answer is not None and self.answer.status == AnswerStatus.SUBMITTED


def board(actor, group: Group, review: Review) -> list[BoardRow]:
    if not can_open_review(actor, group):
        raise PermissionDenied()
    answers = {a.organisation_id: a for a in db.session.scalars(
        db.select(OrganisationAnswer).where(OrganisationAnswer.review_id == review.id))}
    members: dict[int, list[User]] = {}
    for user in db.session.scalars(
            db.select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == group.id,
                   Membership.role.in_([Role.MEMBER, Role.MODERATOR]), User.active.is_(True))
            .order_by(User.name)):
        members.setdefault(user.organisation_id, []).append(user)
    rows = [BoardRow(asked.organisation, answers.get(asked.organisation_id),
                     members.get(asked.organisation_id, [])) for asked in review.asked]
    rows.sort(key=lambda row: (row.answered, row.organisation.name))
    return rows


def response_rate(review: Review) -> tuple[int, int]:
    answered = db.session.scalar(db.select(db.func.count()).select_from(OrganisationAnswer)
                                 .where(OrganisationAnswer.review_id == review.id,
                                        OrganisationAnswer.status == AnswerStatus.SUBMITTED))
    return answered or 0, len(review.asked)


# --- reminders -------------------------------------------------------------------------------


def _notify_members(actor, group: Group, review: Review, organisation_ids: set[int], *,
                    only_unanswered: bool) -> int:
    """A notification (kind review_reminder, `text` the review's id) to each member of the
    organisations; the e-mail batcher mails it in the person's language, as their
    notification settings say, through the outbox."""
    if only_unanswered:
        answered = set(db.session.scalars(db.select(OrganisationAnswer.organisation_id).where(
            OrganisationAnswer.review_id == review.id,
            OrganisationAnswer.status == AnswerStatus.SUBMITTED)))
        organisation_ids = organisation_ids - answered
    if not organisation_ids:
        return 0
    users = db.session.scalars(
        db.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == group.id, User.organisation_id.in_(organisation_ids),
               Membership.role.in_([Role.MEMBER, Role.MODERATOR]), User.active.is_(True)))
    count = 0
    for user in users:
        if actor is not None and user.id == actor.id:
            continue
        notify(user.id, REMINDER_KIND, group_id=group.id,
               actor_id=actor.id if actor is not None else None, text=str(review.id))
        count += 1
    return count


def remind(actor, group: Group, review: Review, today: date | None = None) -> int:
    """Remind the members of every asked organisation that has not submitted."""
    if not can_open_review(actor, group):
        raise PermissionDenied()
    if not is_open(review, today):
        raise InvalidInput({"": _l("The deadline has passed.")})
    count = _notify_members(actor, group, review, {a.organisation_id for a in review.asked},
                            only_unanswered=True)
    record_audit(actor, "review.remind", group=group, target=review.material.title,
                 subject=review, details={"people": count})
    db.session.commit()
    return count


# --- dispositions ----------------------------------------------------------------------------


def decide(actor, group: Group, review: Review, opinion_id: int, outcome: str,
           reason: str) -> CommentDisposition:
    if not can_decide(actor, group, review):
        raise PermissionDenied()
    opinion = db.session.get(SectionOpinion, opinion_id)
    if (opinion is None or opinion.answer.review_id != review.id
            or opinion.answer.status != AnswerStatus.SUBMITTED):
        raise NotFound()
    errors = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = _l("Choose how the comment was handled.")
    if len(reason) > MAX_REASON:
        errors["reason"] = _l("At most %(n)d characters.", n=MAX_REASON)
    if errors:
        raise InvalidInput(errors)
    disposition = opinion.disposition or CommentDisposition(opinion=opinion, outcome=outcome)
    disposition.outcome = outcome
    disposition.reason = reason.strip()
    disposition.decided_by_id = actor.id
    disposition.decided_at = utcnow()
    db.session.add(disposition)
    db.session.commit()
    return disposition


# --- export ----------------------------------------------------------------------------------


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_lines(actor, group: Group, review: Review) -> Iterator[str]:
    """One row per section and organisation answer (submitted answers only), in the reader's
    language."""
    if not can_view_review(actor, group):
        raise NotFound()
    out = io.StringIO()
    writer = csv.writer(out)

    def line(row) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow([_cell(v) for v in row])
        return out.getvalue()

    yield line([_l("Section"), _l("Heading"), _l("Organisation"), _l("Stance"), _l("Comment"),
                _l("Proposed wording"), _l("Disposition"), _l("Reason")])
    submitted = [a for a in visible_answers(None, group, review)]
    for section in review.sections:
        for answer in submitted:
            for opinion in answer.opinions:
                if opinion.section_id != section.id:
                    continue
                d = opinion.disposition
                yield line([section.number, section.heading, answer.organisation.name,
                            STANCES.get(opinion.stance, ""), opinion.comment,
                            opinion.proposed_wording, OUTCOMES.get(d.outcome, "") if d else "",
                            d.reason if d else ""])


# --- links -----------------------------------------------------------------------------------


def review_links(ids: set[int]) -> dict[int, tuple[str, dict]]:
    """Audit-log links to reviews (forum.audit.services.register_links)."""
    return {review_id: ("reviews.detail", {"slug": slug, "review_id": review_id})
            for review_id, slug in db.session.execute(
                db.select(Review.id, Group.slug).join(Group, Group.id == Review.group_id)
                .where(Review.id.in_(ids))).all()}


def reminded_review(notification) -> Review | None:
    """The review a review_reminder notification is about (its `text` is the id)."""
    if notification.kind != REMINDER_KIND or not notification.text.isdigit():
        return None
    return db.session.get(Review, int(notification.text))


def reminder_url(actor, notification) -> str | None:
    review = reminded_review(notification)
    if review is None or not can_view_review(actor, review.group):
        return None
    return url_for("reviews.detail", slug=review.group.slug, review_id=review.id)


# --- automatic reminders ---------------------------------------------------------------------


def send_due_reminders(now: datetime | None = None) -> int:
    """Remind the organisations that have not submitted, 3 days before the deadline and on
    its last day (by the group's calendar); once each, even with several workers (the review
    row is claimed first). Called by every round of the mail worker (forum.mailings.worker).
    Returns the number of people notified."""
    now = now or utcnow()
    first, last = now.date() - timedelta(days=1), now.date() + timedelta(days=4)
    candidates = db.session.scalars(
        db.select(Review).join(Material, Material.id == Review.material_id)
        .where(Review.deadline.between(first, last), Material.deleted_at.is_(None))).all()
    people = 0
    for review in candidates:
        days = (review.deadline - group_today(review.group, now)).days
        column = {3: Review.reminded_before_at, 0: Review.reminded_last_day_at}.get(days)
        if column is None:
            continue
        claimed = db.session.execute(
            db.update(Review).where(Review.id == review.id, column.is_(None))
            .values({column.key: now}).execution_options(synchronize_session=False)).rowcount
        if claimed:
            people += _notify_members(None, review.group, review,
                                      {a.organisation_id for a in review.asked},
                                      only_unanswered=True)
        db.session.commit()
    return people


# --- replies per section ---------------------------------------------------------------------


def reply_to_section(actor, group: Group, review: Review, section_id: int, body: str):
    """A reply about a section: the first starts the section's thread (linked to the
    material), later ones are replies in it. Returns the post's id."""
    if not can_view_review(actor, group):
        raise NotFound()
    section = db.session.get(ReviewSection, section_id)
    if section is None or section.review_id != review.id:
        raise NotFound()
    thread = db.session.get(Thread, section.thread_id) if section.thread_id else None
    while thread is not None and thread.merged_into_id is not None:
        thread = db.session.get(Thread, thread.merged_into_id)
    if thread is not None:
        return discussions.reply(actor, thread, body).id
    title = f"{review.material.title} — {section.number}. {section.heading}"[:200]

    def link_to_section(new_thread: Thread) -> None:
        # In the thread's own transaction: of two first replies racing, one links its thread;
        # the other's thread is rolled back and its text becomes a reply in the winner's.
        linked = db.session.execute(
            db.update(ReviewSection)
            .where(ReviewSection.id == section.id, ReviewSection.thread_id.is_(None))
            .values(thread_id=new_thread.id).execution_options(synchronize_session=False))
        if not linked.rowcount:
            raise _SectionTaken()

    try:
        thread = discussions.start_thread(actor, group, title=title, body=body,
                                          material_ids=[review.material_id],
                                          before_commit=link_to_section)
    except _SectionTaken:
        db.session.expire_all()
        return reply_to_section(actor, group, review, section_id, body)
    db.session.refresh(section)
    return discussions.post_id_at(thread, 1)


class _SectionTaken(Exception):
    """Another first reply linked its thread to the section meanwhile."""


# --- version 2: the comparison per section ---------------------------------------------------


@dataclass
class ComparedSection:
    section: ReviewSection
    new_heading: str | None  # None: no matching section in the newer version
    changes: list | None  # word-diff pieces; None when there is no text to compare
    opinions: list[SectionOpinion]


@dataclass
class Comparison:
    newer: object | None  # the newer MaterialVersion, None when there is none yet
    sections: list[ComparedSection]
    added: list[section_reader.Section]  # sections only in the newer version
    automatic: bool  # the newer version's sections could be read from its file


def _key(heading: str) -> str:
    return re.sub(r"^[\s\d.)]+", "", heading).strip().casefold()


def comparison(actor, group: Group, review: Review) -> Comparison:
    """The reviewed version against the material's newest one, section by section: sections
    are matched by heading (numbers aside), else by position; text formats get a word diff,
    others the section list with the comments and how each was handled."""
    if not can_view_review(actor, group):
        raise NotFound()
    by_section = opinions_by_section(None, group, review)
    newest = review.material.versions[0] if review.material.versions else None
    newer = newest if newest is not None and newest.number > review.version.number else None
    found = sections_of_version(newer) if newer is not None else []
    by_heading = {_key(s.heading): s for s in found}
    used: set[int] = set()
    compared = []
    for index, section in enumerate(review.sections):
        match = by_heading.get(_key(section.heading))
        if match is None and len(found) == len(review.sections):
            match = found[index]
        changes = None
        if match is not None:
            used.add(id(match))
            changes = word_diff(section.text, match.text)
        compared.append(ComparedSection(section, match.heading if match else None, changes,
                                        by_section[section.id]))
    added = [s for s in found if id(s) not in used]
    return Comparison(newer, compared, added, bool(found))


def histories(review: Review) -> dict[int, list[OpinionHistory]]:
    """{opinion id: its earlier texts, newest first} for a review's opinions (one query)."""
    result: dict[int, list[OpinionHistory]] = {}
    for row in db.session.scalars(
            db.select(OpinionHistory)
            .join(SectionOpinion, SectionOpinion.id == OpinionHistory.opinion_id)
            .join(OrganisationAnswer, OrganisationAnswer.id == SectionOpinion.answer_id)
            .where(OrganisationAnswer.review_id == review.id)
            .order_by(OpinionHistory.id.desc())):
        result.setdefault(row.opinion_id, []).append(row)
    return result
