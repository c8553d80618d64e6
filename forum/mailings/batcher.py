"""Notification e-mails: a person's new notices gathered into one e-mail per interval.

Source: `Notification` rows whose `emailed_at` is empty (reply, mention, new_thread,
chat_mention, report_outcome, warning, new_report …). For each person whose interval has passed
("every": FORUM_MAIL_BATCH_MINUTES, "daily", "weekly") the notices still worth telling (not
read in the app meanwhile, not too old, in groups the person still belongs to) become one
outbox e-mail, and every notice looked at gets `emailed_at`, in one transaction per person.
"none" and inactive accounts: the notices are marked without an e-mail.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import format_date, format_datetime, ngettext
from flask_babel import gettext as _

from forum.accounts.models import User
from forum.attendance import services as attendance
from forum.chat.models import MENTION, ChatMessage
from forum.discussions.models import Post
from forum.extensions import db
from forum.groups.models import Membership
from forum.library import services as library
from forum.notifications import services
from forum.notifications.emails import in_language_of, render_email
from forum.notifications.models import Notification
from forum.notifications.outbox import queue_email
from forum.polls import services as polls
from forum.reviews.services import REMINDER_KIND, reminded_review
from forum.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_AGE = timedelta(days=7)
EXCERPT_LENGTH = 280
INTERVALS = {services.DAILY: timedelta(days=1), services.WEEKLY: timedelta(days=7)}


def interval_for(user: User) -> timedelta | None:
    """Least time between two notification e-mails (None: never send)."""
    if user.email_notifications == services.EVERY:
        return timedelta(minutes=current_app.config["FORUM_MAIL_BATCH_MINUTES"])
    return INTERVALS.get(user.email_notifications)


def is_due(user: User, now: datetime) -> bool:
    interval = interval_for(user)
    if interval is None:
        return True  # nothing will be sent: mark the notices now
    last = user.last_notification_email_at
    # A little slack so that a daily e-mail does not slide later by one poll every day.
    slack = timedelta(seconds=current_app.config["FORUM_MAIL_POLL_SECONDS"])
    return last is None or now - last >= interval - slack


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    text = re.sub(r"\s+", " ", text or "").strip()
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


@dataclass
class Item:
    """One line of a notification e-mail."""

    created_at: datetime
    title: str
    group_name: str
    url: str
    excerpt: str = ""


@dataclass
class BatchReport:
    emails: int = 0  # e-mails queued
    notices: int = 0  # notices put into them
    skipped: int = 0  # notices marked without e-mail (read, old, left group, none, inactive)
    waiting: int = 0  # people whose interval has not passed yet
    users: list[int] = field(default_factory=list)


def _pending_user_ids() -> set[int]:
    return set(db.session.scalars(db.select(Notification.user_id).where(
        Notification.emailed_at.is_(None)).distinct()))


def run_batcher(now: datetime | None = None) -> BatchReport:
    """Queue the notification e-mails that are due; one transaction per person."""
    now = now or utcnow()
    report = BatchReport()
    user_ids = sorted(_pending_user_ids())
    if not user_ids:
        return report
    users = db.session.scalars(db.select(User).where(User.id.in_(user_ids))).all()
    for user in sorted(users, key=lambda u: u.id):
        if user.active and not is_due(user, now):
            report.waiting += 1
            continue
        try:
            _batch_for(user, now, report)
        except Exception:
            db.session.rollback()
            log.exception("notification e-mail for user %s could not be prepared", user.id)
    return report


def _batch_for(user: User, now: datetime, report: BatchReport) -> None:
    notices = list(db.session.scalars(
        db.select(Notification)
        .where(Notification.user_id == user.id, Notification.emailed_at.is_(None))
        .order_by(Notification.id)))
    if not notices:
        return

    sending = user.active and interval_for(user) is not None
    items: list[Item] = []
    if sending:
        groups = set(db.session.scalars(db.select(Membership.group_id).where(
            Membership.user_id == user.id)))
        max_age = max(MAX_AGE, (interval_for(user) or MAX_AGE) + timedelta(days=1))
        oldest = now - max_age
        posts = _by_id(Post, {n.post_id for n in notices if n.post_id})
        messages = _by_id(ChatMessage, {n.chat_message_id for n in notices
                                        if n.kind == MENTION and n.chat_message_id})
        with in_language_of(user):
            for notice in notices:
                if (notice.read_at is None and notice.created_at >= oldest
                        and (notice.group_id is None or notice.group_id in groups)):
                    item = _notice_item(notice, posts.get(notice.post_id),
                                        messages.get(notice.chat_message_id))
                    if item is not None:
                        items.append(item)

    # Take the notices: only those still untaken (a second batcher running at the same time
    # finds fewer rows and gives way, so nobody gets the same notice twice).
    taken = db.session.execute(
        db.update(Notification)
        .where(Notification.id.in_([n.id for n in notices]), Notification.emailed_at.is_(None))
        .values(emailed_at=now).execution_options(synchronize_session=False)).rowcount
    if taken != len(notices):
        db.session.rollback()
        log.info("notices of user %s taken by another batcher meanwhile", user.id)
        return

    if items:
        items.sort(key=lambda i: i.created_at)
        key = f"notify:{user.id}:{max(n.id for n in notices)}"
        with in_language_of(user):
            subject = ngettext("%(num)d new notice on %(site)s",
                               "%(num)d new notices on %(site)s", len(items),
                               site=current_app.config["FORUM_SITE_NAME"])
            email = render_email(user, "notifications", subject, services.SCOPE_NOTIFICATIONS,
                                 items=items, notifications_url=services.absolute_url(
                                     "notifications.inbox"))
        queue_email("notifications", user, email.subject, email.text, email.html,
                    dedupe_key=key, headers=email.headers)
        user.last_notification_email_at = now
        report.emails += 1
        report.notices += len(items)
        report.users.append(user.id)
    report.skipped += len(notices) - len(items)
    db.session.commit()


def _by_id(model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(db.select(model).where(model.id.in_(ids)))}


def _notice_item(notice: Notification, post: Post | None,
                 message: ChatMessage | None) -> Item | None:
    who = notice.actor.name if notice.actor else _("someone")
    group_name = notice.group.name if notice.group else ""
    url = services.absolute_url("notifications.open_notification", notification_id=notice.id)
    thread = notice.thread
    if notice.kind in ("reply", "mention", "new_thread"):
        if thread is None or post is None or not post.visible:
            return None  # deleted or hidden meanwhile: nothing to tell
        if notice.kind == "mention":
            title = _("%(name)s mentioned you in “%(thread)s”", name=who, thread=thread.title)
        elif notice.kind == "new_thread":
            title = _("%(name)s started “%(thread)s”", name=who, thread=thread.title)
        else:
            title = _("%(name)s replied in “%(thread)s”", name=who, thread=thread.title)
        return Item(notice.created_at, title, group_name, url, excerpt(post.body))
    if notice.kind == MENTION:
        if message is None or message.removed_at is not None:
            return None
        return Item(notice.created_at, _("%(name)s mentioned you in the chat of %(group)s",
                                         name=who, group=group_name),
                    group_name, url, excerpt(message.body))
    if notice.kind == "new_report":  # to moderators; opening it leads to the report
        if notice.post_id and thread is not None:
            title = _("%(name)s reported a post in “%(thread)s”", name=who, thread=thread.title)
        else:
            title = _("%(name)s reported a message in the chat of %(group)s", name=who,
                      group=group_name)
        return Item(notice.created_at, title, group_name, url)
    if notice.kind == "report_outcome":  # `text` is the resolution (moderation.reports)
        return Item(notice.created_at, _report_outcome_title(notice), group_name, url)
    if notice.kind == "warning":  # `text` is the moderators' note to the author
        if notice.post_id and thread is not None:
            title = _("A private notice from the moderators about your post in “%(thread)s”",
                      thread=thread.title)
        elif notice.chat_message_id:
            title = _("A private notice from the moderators about your message in the chat "
                      "of %(group)s", group=group_name)
        else:
            title = _("A private notice from the moderators")
        return Item(notice.created_at, title, group_name, url, excerpt(notice.text, 1000))
    if notice.kind == REMINDER_KIND:  # `text` is the review's id (forum.reviews)
        review = reminded_review(notice)
        if review is None:
            return None
        return Item(notice.created_at, _("Your organisation's opinion is asked on “%(title)s” "
                                         "until %(date)s", title=review.material.title,
                                         date=format_date(review.deadline, "long")),
                    group_name, url, review.question)
    if notice.kind == library.CONTACT_KIND:  # `text` is the conversation's id (forum.library)
        conversation = library.contacted_conversation(notice)
        if conversation is None:
            return None
        return Item(notice.created_at, _("%(name)s wrote to you about the good practice "
                                         "“%(title)s”", name=who,
                                         title=conversation.material.title), "", url)
    if notice.kind == polls.REMINDER_KIND:  # `text` is the poll's id (forum.polls)
        poll = polls.reminded_poll(notice)
        if poll is None or not polls.is_open(poll):
            return None
        return Item(notice.created_at, _("Your vote is awaited on “%(question)s” until %(when)s",
                                         question=poll.question,
                                         when=format_datetime(poll.closes_at, "medium")),
                    group_name, url)
    if notice.kind == attendance.REMINDER_KIND:  # `text` is the session's id (attendance)
        workshop = attendance.reminded_workshop(notice)
        if workshop is None or workshop.cancelled_at is not None:
            return None
        return Item(notice.created_at, _("Session %(number)d, “%(theme)s”, starts tomorrow "
                                         "(%(date)s)", number=workshop.number,
                                         theme=workshop.theme,
                                         date=format_date(workshop.day1, "long")),
                    group_name, url, workshop.place)
    if notice.kind == "erasure_request":  # to administrators (forum.privacy.erasure)
        return Item(notice.created_at, _("Someone asked for their account to be deleted: "
                                         "an administrator needs to confirm it"), "", url)
    return Item(notice.created_at, _("A notice from %(site)s",
                                     site=current_app.config["FORUM_SITE_NAME"]),
                group_name, url, excerpt(notice.text, 1000))


def _report_outcome_title(notice: Notification) -> str:
    """The same sentences as the notifications page (templates/discussions/notifications.html)."""
    post = notice.post_id and notice.thread is not None
    title = notice.thread.title if post else ""
    if notice.text == "hidden":
        return (_("Your report about a post in “%(thread)s”: the moderators hid the post.",
                  thread=title) if post else
                _("Your report about a chat message: the moderators removed the message."))
    if notice.text == "edited":
        return (_("Your report about a post in “%(thread)s”: the moderators edited the post.",
                  thread=title) if post else
                _("Your report about a chat message: the moderators edited the message."))
    if notice.text == "warned":
        return (_("Your report about a post in “%(thread)s”: the moderators warned its author.",
                  thread=title) if post else
                _("Your report about a chat message: the moderators warned its author."))
    return (_("Your report about a post in “%(thread)s”: the moderators looked at it and left "
              "it as it is.", thread=title) if post else
            _("Your report about a chat message: the moderators looked at it and left it as "
              "it is."))
