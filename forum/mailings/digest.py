"""The digest "since session n": what happened in a group after a session ended, on the web
(/g/<slug>/since/<n>) and by e-mail (`flask forum send-digests`, meant for cron)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func

from forum.accounts.models import User
from forum.discussions.models import Post, Thread
from forum.errors import NotFound
from forum.extensions import db
from forum.groups.models import Group, Membership
from forum.groups.policy import can_view_group
from forum.library.models import ListingStatus, PracticeListing
from forum.library.services import published_since
from forum.materials.models import Material
from forum.notifications import services
from forum.notifications.emails import in_language_of, render_email
from forum.notifications.models import DigestDelivery
from forum.notifications.outbox import queue_email
from forum.polls.models import Ballot, Poll
from forum.reviews.models import OrganisationAnswer, Review, ReviewOrganisation
from forum.timeutil import utcnow
from forum.workshops.models import Workshop
from forum.workshops.services import group_today

log = logging.getLogger(__name__)

NEW_THREADS_SHOWN = 20
ACTIVE_THREADS_SHOWN = 5
MATERIALS_SHOWN = 20
POLLS_SHOWN = 20


def workshop_end(group: Group, workshop: Workshop) -> datetime:
    """The end of day 2 in the group's time zone (midnight after it), in UTC."""
    midnight = datetime.combine(workshop.day2 + timedelta(days=1), time(0),
                                tzinfo=ZoneInfo(group.time_zone))
    return midnight.astimezone(UTC)


@dataclass
class SinceDigest:
    group: Group
    workshop: Workshop
    since: datetime
    ended: bool  # False while session n is still upcoming or live
    new_threads: list[Thread] = field(default_factory=list)
    new_thread_count: int = 0
    active_threads: list[tuple[Thread, int]] = field(default_factory=list)  # (thread, posts)
    post_count: int = 0
    new_materials: list[Material] = field(default_factory=list)
    open_reviews: list[Material] = field(default_factory=list)
    # Reviews section by section (forum.reviews) still open, and each organisation's answer.
    section_reviews: list[Review] = field(default_factory=list)
    review_asked: set[tuple[int, int]] = field(default_factory=set)
    review_answers: dict[tuple[int, int], str] = field(default_factory=dict)
    # Polls still open (forum.polls), and who has voted in them (poll id, voter key).
    open_polls: list[Poll] = field(default_factory=list)
    # Good practices any group published in the programme's library since then.
    new_practices: list[Material] = field(default_factory=list)
    poll_voters: set[tuple[int, str]] = field(default_factory=set)
    next_workshop: Workshop | None = None
    next_live: bool = False  # the "next" session is going on now (a digest sent during it)

    def poll_waiting(self, poll: Poll, user) -> bool:
        """Does the poll still wait for this reader's vote (or their organisation's)?"""
        if poll.per_organisation:
            if getattr(user, "organisation_id", None) is None:
                return False
            return (poll.id, f"org:{user.organisation_id}") not in self.poll_voters
        return (poll.id, f"user:{user.id}") not in self.poll_voters

    def review_status(self, review: Review, organisation_id: int | None) -> str:
        """not_asked | submitted | draft | none: an organisation's answer to a review."""
        if (review.id, organisation_id) not in self.review_asked:
            return "not_asked"
        return self.review_answers.get((review.id, organisation_id), "none")

    @property
    def empty(self) -> bool:
        return not (self.new_thread_count or self.post_count or self.new_materials
                    or self.new_practices)


def _visible_posts_since(group: Group, since: datetime):
    return (db.select(Post.thread_id, func.count(Post.id).label("posts"))
            .join(Thread, Thread.id == Post.thread_id)
            .where(Thread.group_id == group.id, Thread.merged_into_id.is_(None),
                   Post.created_at >= since, Post.deleted_at.is_(None),
                   Post.hidden_at.is_(None))
            .group_by(Post.thread_id))


def _content(group: Group, workshop: Workshop, since: datetime,
             now: datetime) -> SinceDigest:
    today = group_today(group, now)
    digest = SinceDigest(group, workshop, since, ended=since <= now)
    threads = (db.select(Thread).where(Thread.group_id == group.id,
                                       Thread.merged_into_id.is_(None),
                                       Thread.created_at >= since))
    digest.new_thread_count = db.session.scalar(
        db.select(func.count()).select_from(threads.subquery())) or 0
    digest.new_threads = list(db.session.scalars(
        threads.order_by(Thread.created_at.desc(), Thread.id.desc()).limit(NEW_THREADS_SHOWN)))

    counts = _visible_posts_since(group, since).subquery()
    digest.post_count = db.session.scalar(db.select(func.coalesce(func.sum(counts.c.posts), 0)))
    top = db.session.execute(
        db.select(counts.c.thread_id, counts.c.posts)
        .order_by(counts.c.posts.desc(), counts.c.thread_id.desc())
        .limit(ACTIVE_THREADS_SHOWN)).all()
    if top:
        by_id = {t.id: t for t in db.session.scalars(
            db.select(Thread).where(Thread.id.in_([row.thread_id for row in top])))}
        digest.active_threads = [(by_id[row.thread_id], row.posts) for row in top]

    materials = db.select(Material).where(Material.group_id == group.id,
                                          Material.deleted_at.is_(None))
    digest.new_materials = list(db.session.scalars(
        materials.where(Material.created_at >= since)
        .order_by(Material.created_at.desc(), Material.id.desc()).limit(MATERIALS_SHOWN)))
    digest.open_reviews = list(db.session.scalars(
        materials.where(Material.review_until.is_not(None), Material.review_until >= today)
        .order_by(Material.review_until, Material.id)))
    digest.section_reviews = list(db.session.scalars(
        db.select(Review).join(Material, Material.id == Review.material_id)
        .where(Review.group_id == group.id, Material.deleted_at.is_(None),
               Review.deadline >= today).order_by(Review.deadline, Review.id)))
    ids = [r.id for r in digest.section_reviews]
    if ids:
        digest.review_asked = {(r, o) for r, o in db.session.execute(db.select(
            ReviewOrganisation.review_id, ReviewOrganisation.organisation_id)
            .where(ReviewOrganisation.review_id.in_(ids)))}
        digest.review_answers = {(r, o): status for r, o, status in db.session.execute(
            db.select(OrganisationAnswer.review_id, OrganisationAnswer.organisation_id,
                      OrganisationAnswer.status).where(OrganisationAnswer.review_id.in_(ids)))}
    digest.open_polls = list(db.session.scalars(
        db.select(Poll).where(Poll.group_id == group.id, Poll.closed_at.is_(None),
                              Poll.closes_at > now)
        .order_by(Poll.closes_at, Poll.id).limit(POLLS_SHOWN)))
    if digest.open_polls:
        digest.poll_voters = {(poll_id, voter) for poll_id, voter in db.session.execute(
            db.select(Ballot.poll_id, Ballot.voter)
            .where(Ballot.poll_id.in_([p.id for p in digest.open_polls])))}
    digest.new_practices = published_since(None, since)
    digest.next_workshop = db.session.scalar(
        db.select(Workshop)
        .where(Workshop.group_id == group.id, Workshop.cancelled_at.is_(None),
               Workshop.day2 >= today, Workshop.id != workshop.id,
               Workshop.day1 > workshop.day1)
        .order_by(Workshop.day1).limit(1))
    digest.next_live = (digest.next_workshop is not None
                        and digest.next_workshop.day1 <= today)
    return digest


def build_since(actor, group: Group, number: int, now: datetime | None = None) -> SinceDigest:
    """What happened in the group since session `number` ended; NotFound when the actor may
    not see the group or the session does not exist."""
    if not can_view_group(actor, group):
        raise NotFound()
    workshop = db.session.scalar(db.select(Workshop).where(
        Workshop.group_id == group.id, Workshop.number == number))
    if workshop is None:
        raise NotFound()
    return _content(group, workshop, workshop_end(group, workshop), now or utcnow())


def latest_concluded(group: Group, now: datetime | None = None) -> Workshop | None:
    return db.session.scalar(
        db.select(Workshop)
        .where(Workshop.group_id == group.id, Workshop.cancelled_at.is_(None),
               Workshop.day2 < group_today(group, now))
        .order_by(Workshop.day2.desc(), Workshop.number.desc()).limit(1))


def _last_activity(group: Group, since: datetime) -> datetime | None:
    """When anything a digest reports last happened in the group after `since`."""
    latest_post = db.session.scalar(
        db.select(func.max(Post.created_at)).join(Thread, Thread.id == Post.thread_id)
        .where(Thread.group_id == group.id, Thread.merged_into_id.is_(None),
               Post.created_at >= since, Post.deleted_at.is_(None), Post.hidden_at.is_(None)))
    latest_material = db.session.scalar(
        db.select(func.max(Material.created_at))
        .where(Material.group_id == group.id, Material.deleted_at.is_(None),
               Material.created_at >= since))
    latest_practice = db.session.scalar(
        db.select(func.max(PracticeListing.published_at))
        .where(PracticeListing.status == ListingStatus.PUBLISHED,
               PracticeListing.published_at >= since))
    # func.max loses the column type on some backends: make sure they are aware UTC.
    values = [_aware(v) for v in (latest_post, latest_material, latest_practice)
              if v is not None]
    return max(values, default=None)


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _link_helpers(slug: str) -> dict:
    """Absolute links to a group's pages, for the digest templates."""
    return {
        "thread_url": lambda t: services.absolute_url("discussions.thread", slug=slug,
                                                      thread_id=t.id),
        "material_url": lambda m: services.absolute_url("materials.detail", slug=slug,
                                                        material_id=m.id),
        "session_url": lambda w: services.absolute_url("workshops.detail", slug=slug,
                                                       number=w.number),
        "review_url": lambda r: services.absolute_url("reviews.detail", slug=slug,
                                                      review_id=r.id),
        "poll_url": lambda p: services.absolute_url("polls.detail", slug=slug, poll_id=p.id),
        "practice_url": lambda m: services.absolute_url("library.detail", material_id=m.id),
    }


def iso_week(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class DigestReport:
    queued: int = 0
    already: int = 0  # this week's digest was given already
    nothing_new: int = 0  # nothing happened since session n or since the previous digest
    groups: list[str] = field(default_factory=list)  # "slug: session n"
    no_workshop: list[str] = field(default_factory=list)  # groups without a concluded session

    @property
    def skipped(self) -> int:
        return self.already + self.nothing_new


def _recipients(group: Group) -> list[User]:
    return list(db.session.scalars(
        db.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == group.id, User.active.is_(True),
               User.email_digest.is_(True))
        .order_by(User.id)))


def queue_digests(groups: list[Group], *, dry_run: bool = False,
                  now: datetime | None = None) -> DigestReport:
    """For each group's latest concluded session, one digest e-mail per active member who
    wants it, at most one per ISO week (DigestDelivery is unique per person, group, session
    and week). Call it under the "send-digests" JobLock. One transaction per group."""
    now = now or utcnow()
    period = iso_week(now)
    report = DigestReport()
    for group in groups:
        workshop = latest_concluded(group, now)
        if workshop is None:
            report.no_workshop.append(group.slug)
            continue
        report.groups.append(f"{group.slug}: {workshop.number}")
        since = workshop_end(group, workshop)
        digest = _content(group, workshop, since, now)
        last_activity = _last_activity(group, since)
        delivered = dict(db.session.execute(
            db.select(DigestDelivery.user_id, func.max(DigestDelivery.created_at))
            .where(DigestDelivery.group_id == group.id,
                   DigestDelivery.workshop_id == workshop.id)
            .group_by(DigestDelivery.user_id)).all())
        this_week = set(db.session.scalars(db.select(DigestDelivery.user_id).where(
            DigestDelivery.group_id == group.id, DigestDelivery.workshop_id == workshop.id,
            DigestDelivery.period == period)))
        for user in _recipients(group):
            if user.id in this_week:
                report.already += 1
                continue
            previous = delivered.get(user.id)
            window_start = max(since, _aware(previous)) if previous else since
            if digest.empty or last_activity is None or last_activity < window_start:
                report.nothing_new += 1
                continue
            report.queued += 1
            if dry_run:
                continue
            with in_language_of(user):
                subject = _("What happened in %(group)s since session %(number)d",
                            group=group.name, number=workshop.number)
                email = render_email(
                    user, "digest", subject, services.SCOPE_DIGEST, digest=digest,
                    since_url=services.absolute_url("mailings.since", slug=group.slug,
                                                    number=workshop.number),
                    **_link_helpers(group.slug))
            outbox_id = queue_email("digest", user, email.subject, email.text, email.html,
                                    dedupe_key=f"digest:{user.id}:{workshop.id}:{period}",
                                    headers=email.headers)
            db.session.add(DigestDelivery(user_id=user.id, group_id=group.id,
                                          workshop_id=workshop.id, period=period,
                                          outbox_id=outbox_id, created_at=now))
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    current_app.logger.info("digests: %d queued, %d skipped", report.queued, report.skipped)
    return report
