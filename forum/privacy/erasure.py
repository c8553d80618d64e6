"""Erasure of an account ("delete my account") and redaction of personal data (issue 11).

Plain functions taking the acting person first; one transaction per public call; each is
recorded in the audit log.

- A person asks (`request_erasure`, with their password) and may withdraw the request
  (`cancel_erasure_request`); the administrators get an in-app notice and an e-mail (through
  the notification e-mails) that does not name the person.
- An administrator erases (`erase_user`): the account stays as an empty shell, so that posts,
  materials and audit entries keep a valid author, and is shown as "former member" in every
  language (`User.name`). Name, e-mail address (replaced by `erased-<id>@invalid`),
  password, position, organisation, settings, sessions, sockets, memberships, watches,
  notifications to the person, e-mails to them, invitations to their address and their data
  exports are erased; the person's name and address are replaced wherever the forum copied
  them into notes and e-mails to others (see `_SCRUBBED`). Their posts and chat messages stay
  anonymised or are removed (text, earlier versions, search text), as each group's
  `erased_posts` setting says.
- The audit log is append-only (forum.audit.services). Erasure and redaction are its
  only documented exceptions, made by a plain SQL UPDATE here: erasure replaces the person's
  name and address inside `target`, `reason`, `before` and `details` (and, where the group
  removes the posts, blanks the earlier text of those posts); a redacting edit blanks the
  earlier text kept by the entries about the same post or message. Each adds one new entry
  (`user.erase`, or the edit's own entry with `{"redacted": true}` and no `before`).
- Not touched: mentions (@handle) and quotes of the person inside other people's posts and
  chat messages, and thread titles; a moderator removes those with a redacting edit.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, Text, cast, func, or_
from werkzeug.security import check_password_hash

from forum.accounts import throttle
from forum.accounts.models import User, new_alternative_id
from forum.audit.models import AuditEntry
from forum.audit.services import record_audit
from forum.chat.models import (
    ChatMention,
    ChatMessage,
    ChatMessageRevision,
    ChatMute,
    ChatRead,
    MessageKind,
)
from forum.chat.rooms import publish_to_group_after_commit
from forum.discussions import live
from forum.discussions.models import Draft, Post, PostRevision, Thread, ThreadRead
from forum.errors import InvalidInput, NotFound
from forum.extensions import db
from forum.groups.models import Group, Invitation, Membership
from forum.groups.policy import can_administer, is_signed_in
from forum.i18n import sorted_by_name
from forum.materials.models import Material, MaterialVersion
from forum.minutes.models import Minutes
from forum.moderation.models import Report, ReportFlag
from forum.notifications.inbox import notify
from forum.notifications.mentions import handle_for
from forum.notifications.models import (
    DigestDelivery,
    GroupWatch,
    Notification,
    OutboxEmail,
    ThreadWatch,
)
from forum.privacy.models import DataExport
from forum.realtime import server as realtime
from forum.searchtext import search_text as index_text
from forum.text import render_markdown
from forum.timeutil import utcnow

log = logging.getLogger(__name__)

ANONYMISE, REMOVE = "anonymise", "remove"
ERASED_POSTS = {
    ANONYMISE: _l("Keep them, anonymised: shown as written by “former member”"),
    REMOVE: _l("Remove them: their text is deleted, a “post removed” placeholder keeps the "
               "replies in order"),
}
NOTICE_KIND = "erasure_request"  # the administrators' notice of a request


def placeholder_email(user_id: int) -> str:
    """What replaces an erased person's address: unique, and no address at all."""
    return f"erased-{user_id}@invalid"


def check_erased_posts(value: str) -> str:
    if value not in ERASED_POSTS:
        raise InvalidInput({"erased_posts": _l("Choose a setting from the list.")})
    return value


# --- the person's request --------------------------------------------------------------------


def request_erasure(actor: User, password: str) -> None:
    """The person asks for their account to be erased; their password confirms it."""
    if not is_signed_in(actor) or actor.anonymised_at is not None:
        raise NotFound()
    if not actor.password_hash or not check_password_hash(actor.password_hash, password or ""):
        raise InvalidInput({"password": _l("The password is not right.")})
    if actor.erasure_requested_at is None:
        actor.erasure_requested_at = utcnow()
        record_audit(actor, "user.erasure_request", subject=actor)
        _tell_administrators(actor)
    db.session.commit()


def cancel_erasure_request(actor: User) -> None:
    """The person withdraws the request; the administrators' notices of it go too."""
    if not is_signed_in(actor):
        raise NotFound()
    if actor.erasure_requested_at is not None:
        actor.erasure_requested_at = None
        db.session.execute(db.delete(Notification).where(
            Notification.kind == NOTICE_KIND, Notification.actor_id == actor.id)
            .execution_options(synchronize_session=False))
        record_audit(actor, "user.erasure_cancel", subject=actor)
    db.session.commit()


def _tell_administrators(person: User) -> None:
    """An in-app notice to each active administrator (e-mailed like other notices; the
    e-mail does not name the person)."""
    admins = db.session.scalars(db.select(User.id).where(
        User.is_admin.is_(True), User.active.is_(True), User.id != person.id))
    for admin_id in admins:
        notify(admin_id, NOTICE_KIND, actor_id=person.id)


def pending_requests(actor: User) -> list[User]:
    """Accounts waiting for erasure, oldest request first (administrators only)."""
    if not can_administer(actor):
        raise NotFound()
    return list(db.session.scalars(db.select(User).where(
        User.erasure_requested_at.is_not(None), User.anonymised_at.is_(None))
        .order_by(User.erasure_requested_at, User.id)))


# --- what an erasure will do -----------------------------------------------------------------


@dataclass
class ErasurePlan:
    """What `erase_user` will do to the person's contributions, per group (for the
    confirmation page)."""

    user: User
    groups: list[tuple[Group, str, int, int]] = field(default_factory=list)
    # (group, its erased_posts setting, the person's posts there, their chat messages there)
    memberships: int = 0
    materials: int = 0


def erasure_plan(actor: User | None, user: User) -> ErasurePlan:
    _check_erasable(actor, user)
    posts = dict(db.session.execute(
        db.select(Thread.group_id, func.count(Post.id)).join(Thread, Thread.id == Post.thread_id)
        .where(Post.author_id == user.id).group_by(Thread.group_id)).all())
    messages = dict(db.session.execute(
        db.select(ChatMessage.group_id, func.count(ChatMessage.id))
        .where(ChatMessage.author_id == user.id, ChatMessage.kind == MessageKind.MESSAGE)
        .group_by(ChatMessage.group_id)).all())
    member_of = set(db.session.scalars(db.select(Membership.group_id).where(
        Membership.user_id == user.id)))
    ids = set(posts) | set(messages) | member_of
    plan = ErasurePlan(user=user, memberships=len(member_of))
    if ids:
        for group in db.session.scalars(db.select(Group).where(Group.id.in_(ids))
                                        .order_by(Group.name)):
            plan.groups.append((group, group.erased_posts, posts.get(group.id, 0),
                                messages.get(group.id, 0)))
        plan.groups = sorted_by_name(plan.groups, name=lambda row: row[0].name)
    plan.materials = db.session.scalar(db.select(func.count(Material.id)).where(
        Material.uploaded_by_id == user.id)) or 0
    return plan


def _check_erasable(actor: User | None, user: User) -> None:
    """`actor` None: the operator's command line (flask forum erase-user)."""
    if actor is not None and not can_administer(actor):
        raise NotFound()
    if user.anonymised_at is not None:
        raise InvalidInput({"": _l("This account has already been erased.")})
    if actor is not None and user.id == actor.id:
        raise InvalidInput({"": _l("You cannot erase your own account: ask another "
                                   "administrator.")})


# --- erasing ---------------------------------------------------------------------------------


@dataclass
class ErasureReport:
    posts_kept: int = 0
    posts_removed: int = 0
    messages_kept: int = 0
    messages_removed: int = 0
    memberships: int = 0
    notifications: int = 0
    emails: int = 0
    invitations: int = 0
    exports: int = 0
    registrations: int = 0
    certificates: int = 0
    evaluations: int = 0  # that she answered a questionnaire (the answers are anonymous)
    check_ins_kept: int = 0  # counted in the programme's report, under the anonymous shell
    amendments: int = 0  # amendments to minutes whose text was emptied
    scrubbed: int = 0  # notes, e-mails to others and audit entries where the name was replaced

    def as_details(self) -> dict:
        return dict(self.__dict__)


def erase_user(actor: User | None, user: User) -> ErasureReport:
    """Erase the account (administrators only, not their own; None: the operator's command
    line). One transaction; the chat sockets are cut and the sign-in throttle forgets the
    address once it commits."""
    _check_erasable(actor, user)
    # Two administrators at the same moment: the second waits for the row (PostgreSQL) and
    # then finds the account erased.
    db.session.execute(db.select(User.id).where(User.id == user.id).with_for_update())
    db.session.refresh(user)
    _check_erasable(actor, user)
    report = ErasureReport()
    old_email, old_name = user.email, user.stored_name
    scrub = _Scrubber(old_name, old_email, user.id)
    removed_posts, removed_messages = _contributions(actor, user, report, scrub)
    _personal_rows(user, old_email, report)
    _decision_texts(user, scrub)
    _attendance(user, report)
    export_keys = _exports(user, report)
    report.scrubbed += _scrub_notes(scrub)
    _anonymise_account(user)
    report.scrubbed += _scrub_audit(scrub, removed_posts, removed_messages)
    record_audit(actor, "user.erase", subject=user, details=report.as_details())
    realtime.disconnect_after_commit(user.id, "signed_out")
    db.session.commit()
    _after_erasure(user.id, old_email, export_keys)  # once committed
    log.info("account %s erased by %s", user.id, actor.id if actor else "the command line")
    return report


def _decision_texts(user: User, scrub: _Scrubber) -> None:
    """Ballots stay (a poll's result is counted from them), their reasons go; messages to
    and from a practice's contact person (private, not a group's record) lose their text;
    notes on adoptions and recommendation steps keep their words, not the person's name."""
    from forum.library.models import PracticeAdoption, PracticeMessage
    from forum.polls.models import Ballot
    from forum.recommendations.models import RecommendationStep

    db.session.execute(db.update(Ballot).where(Ballot.cast_by_id == user.id).values(reason="")
                       .execution_options(synchronize_session=False))
    db.session.execute(db.update(PracticeMessage).where(PracticeMessage.author_id == user.id)
                       .values(body="", body_html="")
                       .execution_options(synchronize_session=False))
    for model in (PracticeAdoption, RecommendationStep):
        for row in db.session.scalars(db.select(model).where(
                (model.recorded_by_id == user.id), scrub.matches(model.note))):
            row.note = scrub(row.note)


def _attendance(user: User, report: ErasureReport) -> None:
    """Issue 17. Registrations, certificates and the record that she answered a session's
    questionnaire go (the answers themselves were never linked to her and stay). Check-ins
    stay, attached to the anonymous shell like her kept ballots, so that the programme's
    report keeps its counts of people, organisations and hours; nothing in them names her
    (the organisation snapshot is the organisation's, as in the report). Her amendments to
    minutes lose their text, like her other private texts; what a moderator took into the
    minutes is the group's record (her name in it is replaced, `_SCRUBBED`)."""
    from forum.attendance.models import Certificate, CheckIn, Registration
    from forum.evaluation.models import EvaluationSubmission
    from forum.minutes.models import MinutesAmendment

    def delete(model) -> int:
        return db.session.execute(db.delete(model).where(model.user_id == user.id)
                                  .execution_options(synchronize_session=False)).rowcount

    report.registrations = delete(Registration)
    report.certificates = delete(Certificate)
    report.evaluations = delete(EvaluationSubmission)
    report.check_ins_kept = db.session.scalar(db.select(func.count(CheckIn.id)).where(
        CheckIn.user_id == user.id)) or 0
    report.amendments = db.session.execute(
        db.update(MinutesAmendment).where(MinutesAmendment.author_id == user.id)
        .values(text="", text_html="").execution_options(synchronize_session=False)).rowcount


def _after_erasure(user_id: int, old_email: str, export_keys: list[str]) -> None:
    """Outside the database: the sign-in throttle's counters for the address, the chat
    presence entry (it keeps the name), the data-export files."""
    try:
        throttle.clear_account(old_email)
    except Exception:
        log.exception("erasure of %s: the sign-in throttle could not be cleared", user_id)
    try:
        presence = realtime.state().presence
        if hasattr(presence, "forget"):
            presence.forget(user_id)
    except Exception:
        log.exception("erasure of %s: the chat presence could not be cleared", user_id)
    if export_keys:
        try:
            from forum.privacy import export

            for key in export_keys:
                export._delete_if_unused(key)
        except Exception:  # check-storage lists files no row refers to
            log.exception("erasure of %s: a data-export file could not be deleted", user_id)
        finally:
            db.session.rollback()  # the reads above: no transaction left open


def _contributions(actor: User | None, user: User, report: ErasureReport,
                   scrub: _Scrubber) -> tuple[set, set]:
    """Posts and chat messages: kept (anonymised: their own name and address in them
    replaced too) or removed, per group setting."""
    now = utcnow()
    removed_posts: set[int] = set()
    rows = db.session.execute(
        db.select(Post, Group.erased_posts).join(Thread, Thread.id == Post.thread_id)
        .join(Group, Group.id == Thread.group_id).where(Post.author_id == user.id)
        .order_by(Post.id)).all()
    kept_posts: list[int] = []
    for post, setting in rows:
        if setting != REMOVE:
            _scrub_content(post, scrub)
            kept_posts.append(post.id)
            report.posts_kept += 1
            continue
        if post.deleted_at is None:
            if post.number > 1 and post.hidden_at is None:
                post.thread.reply_count -= 1
            post.deleted_at = now
            live.post_changed_after_commit(post)
        post.body = post.body_html = post.search_text = ""
        post.moderation_note = post.hidden_reason = ""
        removed_posts.add(post.id)
        report.posts_removed += 1
    if kept_posts:  # their own name and address inside the earlier versions too
        for revision in db.session.scalars(db.select(PostRevision).where(
                PostRevision.post_id.in_(kept_posts), scrub.matches(PostRevision.body))):
            revision.body = scrub(revision.body)
    if removed_posts:
        db.session.execute(db.delete(PostRevision).where(PostRevision.post_id.in_(removed_posts))
                           .execution_options(synchronize_session=False))
    removed_messages: set[int] = set()
    rows = db.session.execute(
        db.select(ChatMessage, Group).join(Group, Group.id == ChatMessage.group_id)
        .where(ChatMessage.author_id == user.id, ChatMessage.kind == MessageKind.MESSAGE)
        .order_by(ChatMessage.id)).all()
    for message, group in rows:
        if group.erased_posts != REMOVE:
            _scrub_content(message, scrub)
            report.messages_kept += 1
            continue
        if message.removed_at is None:
            message.removed_at = now
            message.removed_by_id = actor.id if actor is not None else None
            publish_to_group_after_commit(group.id, "message_removed",
                                                {"id": message.id, "group": group.slug})
        message.body = message.body_html = message.moderation_note = ""
        removed_messages.add(message.id)
        report.messages_removed += 1
    # The earlier texts of her chat messages: removed with the messages, scrubbed of her name
    # and address where the messages stay.
    if removed_messages:
        db.session.execute(db.delete(ChatMessageRevision).where(
            ChatMessageRevision.message_id.in_(removed_messages))
            .execution_options(synchronize_session=False))
    kept_messages = [message.id for message, group in rows if message.id not in removed_messages]
    if kept_messages:
        for revision in db.session.scalars(db.select(ChatMessageRevision).where(
                ChatMessageRevision.message_id.in_(kept_messages),
                scrub.matches(ChatMessageRevision.body))):
            revision.body = scrub(revision.body)
    return removed_posts, removed_messages


def _scrub_content(item, scrub: _Scrubber) -> None:
    """A kept post or chat message: the person's own name, @handle and address replaced."""
    body = scrub(item.body)
    if body == item.body:
        return
    item.body, item.body_html = body, render_markdown(body)
    if isinstance(item, Post):
        item.search_text = index_text(item.thread.title if item.number == 1 else "", body)


def _personal_rows(user: User, old_email: str, report: ErasureReport) -> None:
    """Rows that exist only for the person: gone. Invitations to their address: the address
    is replaced (the group's record of invitations stays)."""
    def delete(model, *where) -> int:
        return db.session.execute(db.delete(model).where(*where)
                                  .execution_options(synchronize_session=False)).rowcount

    report.memberships = delete(Membership, Membership.user_id == user.id)
    for model in (ThreadWatch, GroupWatch, ThreadRead, ChatRead, Draft, ChatMute,
                  DigestDelivery):
        delete(model, model.user_id == user.id)
    delete(ChatMention, ChatMention.user_id == user.id)  # the pre-0009 table, one release
    report.notifications = delete(Notification, Notification.user_id == user.id)
    report.notifications += delete(Notification, Notification.kind == NOTICE_KIND,
                                   Notification.actor_id == user.id)
    report.emails = delete(OutboxEmail, or_(OutboxEmail.user_id == user.id,
                                            func.lower(OutboxEmail.to_address) == old_email))
    report.invitations = db.session.execute(
        db.update(Invitation).where(or_(func.lower(Invitation.email) == old_email,
                                        Invitation.accepted_by_id == user.id))
        .values(email=placeholder_email(user.id))
        .execution_options(synchronize_session=False)).rowcount


def _exports(user: User, report: ErasureReport) -> list[str]:
    keys = [key for key in db.session.scalars(db.select(DataExport.storage_key).where(
        DataExport.user_id == user.id)) if key]
    report.exports = db.session.execute(
        db.delete(DataExport).where(DataExport.user_id == user.id)
        .execution_options(synchronize_session=False)).rowcount
    return keys


def _anonymise_account(user: User) -> None:
    user.stored_name = ""
    user.email = placeholder_email(user.id)
    user.password_hash = "!erased"  # no password matches it
    user.position = ""
    user.organisation = None
    user.locale = user.time_zone = ""
    user.active = False
    user.is_admin = False
    user.alternative_id = new_alternative_id()  # every session and remember cookie ends
    user.calendar_salt = secrets.token_hex(8)  # the private calendar address stops working
    user.last_seen_at = None
    user.email_notifications = "none"
    user.email_digest = False
    user.last_notification_email_at = None
    user.erasure_requested_at = None
    user.anonymised_at = utcnow()


# --- replacing the person's name and address where the forum copied them -----------------


class _Scrubber:
    """Finds and replaces the person's full name, @handle and e-mail address (any case)."""

    def __init__(self, name: str, email: str, user_id: int):
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            erased_name = gettext("former member")
        handle = handle_for(name) if name else ""
        pairs = [(email, placeholder_email(user_id)), (name, erased_name)]
        if len(handle) >= 3 and handle != email:
            pairs.append((handle, erased_name))
        self.pairs = [(old, new) for old, new in pairs if old and old.strip()]
        # Whole words only: the name "Ala" is not replaced inside "Alan" or "Alabama".
        self.pattern = re.compile(r"(?<!\w)(?:" + "|".join(
            re.escape(old) for old, _ in sorted(self.pairs, key=lambda p: -len(p[0])))
            + r")(?!\w)", re.IGNORECASE)
        self.replacement = {old.casefold(): new for old, new in self.pairs}

    @property
    def needles(self) -> list[str]:
        """What a SQL LIKE looks for (also as json.dumps escapes it, for JSON columns)."""
        found = []
        for old, _new in self.pairs:
            for variant in (old, old.lower(), json.dumps(old)[1:-1], json.dumps(old.lower())[1:-1]):
                if variant not in found:
                    found.append(variant)
        return found

    def matches(self, column):
        text = cast(column, Text) if not isinstance(column.type, String | Text) else column
        return or_(*(text.contains(n, autoescape=True) for n in self.needles),
                   *(func.lower(text).contains(n.lower(), autoescape=True)
                     for n in self.needles))

    def __call__(self, value):
        if isinstance(value, str):
            return self.pattern.sub(lambda m: self.replacement[m.group(0).casefold()], value)
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        return value


# Columns where the forum writes someone's name or address into a note, notice or e-mail to
# somebody else (not people's own posts and messages, which are content).
_SCRUBBED = (
    (Notification, ("text",)),
    (ReportFlag, ("text",)),
    (Report, ("resolution_note",)),
    (Post, ("hidden_reason", "moderation_note")),
    (ChatMessage, ("moderation_note",)),
    (OutboxEmail, ("subject", "body_text", "body_html", "headers")),
    (MaterialVersion, ("original_name", "note")),  # "CV Anna Nowak.pdf"
    (Minutes, ("body", "body_html")),  # "Anna Nowak presented …" in a session's minutes
)


def _scrub_notes(scrub: _Scrubber) -> int:
    changed = 0
    for model, names in _SCRUBBED:
        columns = [getattr(model, name) for name in names]
        for row in db.session.scalars(db.select(model).where(
                or_(*(scrub.matches(c) for c in columns)))):
            for name in names:
                value = scrub(getattr(row, name))
                length = getattr(getattr(model, name).type, "length", None)
                setattr(row, name, value[:length] if length else value)
            changed += 1
    return changed


def _scrub_audit(scrub: _Scrubber, removed_posts: set[int], removed_messages: set[int]) -> int:
    """The documented exception to the append-only audit log (a plain SQL UPDATE, which the
    ORM guard does not see): the person's name and address are replaced; the earlier text
    of posts and messages that the group removes is blanked."""
    table = AuditEntry.__table__
    c = table.c
    about_removed = or_(
        (c.subject_type == "post") & c.subject_id.in_(removed_posts or {0}),
        (c.subject_type == "chat_message") & c.subject_id.in_(removed_messages or {0}))
    rows = db.session.execute(db.select(c.id, c.target, c.reason, c.before, c.details,
                                        about_removed.label("removed")).where(or_(
        *(scrub.matches(column) for column in (c.target, c.reason, c.before, c.details)),
        about_removed))).all()
    connection = db.session.connection()
    for row in rows:
        details = scrub(row.details or {})
        before = scrub(row.before or "")
        if row.removed:
            before = ""
            if isinstance(details, dict) and "text" in details:
                details = {**details, "text": ""}
        connection.execute(table.update().where(c.id == row.id).values(
            target=scrub(row.target or "")[:200], reason=scrub(row.reason or ""),
            before=before, details=details))
    for entry in [o for o in db.session.identity_map.values() if isinstance(o, AuditEntry)]:
        db.session.expire(entry)  # loaded before the UPDATE: read again when used
    return len(rows)
