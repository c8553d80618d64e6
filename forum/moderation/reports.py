"""Reports: members flag a post or chat message, moderators resolve them at the desk.

Plain functions taking the acting person first, one transaction per public call.

- Repeated reports of one item by different members are merged into its one open `Report`
  (a new `ReportFlag` each, `flag_count` and `last_flagged_at` kept up to date). Once a report
  is resolved, a new report of the same item opens a new case.
- The open queue is shown oldest case first (by id, a stable keyset order: a case does not
  move between pages when someone flags it again; the flag count is shown on each case).
  Resolved reports are listed newest case first.
- Resolving is one transaction: the action on the item (hide/remove, edit with a public note,
  dismiss, warn the author), one audit entry for it (with `{"report_id": …}` in its details),
  the report's resolution, and one `report_outcome` notification per reporter. A
  `report_outcome` notification keeps the resolution key (hidden | edited | dismissed |
  warned) in its `text`; the sentence is built in the reader's language when it is shown.
  A `warning` notification keeps the moderator's message to the author in its `text`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.accounts.services import too_long
from forum.audit.services import blank_earlier_audit_text, record_audit
from forum.chat import services as chat
from forum.chat.models import ChatMessage, ChatMessageRevision, MessageKind
from forum.chat.rooms import publish_to_group_after_commit
from forum.discussions import live
from forum.discussions import services as discussions
from forum.discussions.models import Post, PostRevision, Thread
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group, Membership, Role
from forum.groups.policy import can_handle_reports, can_report, can_view_group, is_admin
from forum.ids import parse_id
from forum.moderation.models import (
    Report,
    ReportFlag,
    ReportReason,
    ReportResolution,
    ReportStatus,
)
from forum.notifications.inbox import notify
from forum.searchtext import search_text as index_text
from forum.text import render_markdown
from forum.timeutil import utcnow

TEXT_MAX = 1000  # what a reporter may write
NOTE_MAX = 500  # a moderator's note (shown publicly on an edited item, or as the reason)
PAGE_SIZE = 30
EARLIER_SHOWN = 5  # earlier reports on the same author shown with a report

REASONS = {
    ReportReason.OFF_TOPIC: _l("Off-topic"),
    ReportReason.PERSONAL_DATA: _l("Personal data"),
    ReportReason.OFFENSIVE: _l("Offensive or disrespectful"),
    ReportReason.OTHER: _l("Something else"),
}

HIDE, EDIT, DISMISS, WARN = "hide", "edit", "dismiss", "warn"
ACTIONS = (HIDE, EDIT, DISMISS, WARN)
RESOLUTION_OF = {HIDE: ReportResolution.HIDDEN, EDIT: ReportResolution.EDITED,
                 DISMISS: ReportResolution.DISMISSED, WARN: ReportResolution.WARNED}
NOTE_REQUIRED = {
    HIDE: _l("Say why the content is hidden; its author will see it."),
    EDIT: _l("Write the note shown with the edited text (e.g. “personal data removed”)."),
    WARN: _l("Write the message the author will receive."),
}


# --- reporting -------------------------------------------------------------------------------


def _check_flag(reason: str, text: str) -> str:
    errors = {}
    text = (text or "").strip()
    if reason not in ReportReason.ALL:
        errors["reason"] = _l("Choose a reason from the list.")
    elif reason == ReportReason.OTHER and not text:
        errors["text"] = _l("Say what is wrong: it is needed when the reason is “something "
                            "else”.")
    if len(text) > TEXT_MAX:
        errors["text"] = too_long(TEXT_MAX)
    if errors:
        raise InvalidInput(errors)
    return text


def check_post_reportable(actor, post: Post) -> None:
    """Raise NotFound or InvalidInput when the actor may not report the post (and why)."""
    group = post.thread.group
    if not can_view_group(actor, group) or not can_report(actor, group):
        raise NotFound()
    if post.deleted_at is not None or post.hidden_at is not None:
        raise InvalidInput({"": _l("This post was removed or hidden: there is nothing left "
                                   "to report.")})
    if post.author_id == actor.id:
        raise InvalidInput({"": _l("You cannot report your own post. You can edit or delete "
                                   "it instead.")})
    if _my_open_flag(actor, Report.post_id == post.id):
        raise InvalidInput({"": _l("You have already reported this post; the moderators will "
                                   "look at it.")})


def check_message_reportable(actor, message: ChatMessage) -> None:
    """Raise NotFound or InvalidInput when the actor may not report the chat message."""
    group = message.group
    if not can_view_group(actor, group) or not can_report(actor, group):
        raise NotFound()
    if message.removed or message.kind != MessageKind.MESSAGE:
        raise InvalidInput({"": _l("This message was removed: there is nothing left to "
                                   "report.")})
    if message.author_id == actor.id:
        raise InvalidInput({"": _l("You cannot report your own message.")})
    if _my_open_flag(actor, Report.chat_message_id == message.id):
        raise InvalidInput({"": _l("You have already reported this message; the moderators "
                                   "will look at it.")})


def _my_open_flag(actor, item_clause) -> bool:
    return db.session.scalar(
        db.select(ReportFlag.id).join(Report, Report.id == ReportFlag.report_id)
        .where(item_clause, Report.status == ReportStatus.OPEN,
               ReportFlag.reporter_id == actor.id).limit(1)) is not None


def _lock(model, item_id: int) -> None:
    """Lock the reported item's row until commit (PostgreSQL), so that two members reporting
    it at the same moment share one open report instead of opening two."""
    db.session.execute(db.select(model.id).where(model.id == item_id).with_for_update())


def _flag(actor, *, group: Group, item_clause, new_report: dict, reason: str,
          text: str, already) -> Report:
    report = db.session.scalar(db.select(Report).where(item_clause,
                                                       Report.status == ReportStatus.OPEN))
    now = utcnow()
    if report is None:
        report = Report(group_id=group.id, status=ReportStatus.OPEN, flag_count=0,
                        created_at=now, **new_report)
        db.session.add(report)
        db.session.flush()
        _tell_moderators(actor, group, report)
    report.flag_count = (report.flag_count or 0) + 1
    report.last_flagged_at = now
    report.flags.append(ReportFlag(reporter_id=actor.id, reason=reason, text=text,
                                   created_at=now))
    try:
        db.session.commit()
    except IntegrityError:  # the same person, twice at the same moment
        db.session.rollback()
        raise InvalidInput({"": already}) from None
    return report


def _tell_moderators(reporter, group: Group, report: Report) -> None:
    """A new case (not a further report of an open one): a notice to each moderator of the
    group (e-mailed like other notices), except the reporter and the reported author."""
    thread_id = db.session.scalar(db.select(Post.thread_id).where(Post.id == report.post_id)) \
        if report.post_id else None
    moderators = db.session.scalars(
        db.select(Membership.user_id).join(User, User.id == Membership.user_id)
        .where(Membership.group_id == group.id, Membership.role == Role.MODERATOR,
               User.active.is_(True)))
    for user_id in moderators:
        if user_id in (reporter.id, report.content_author_id):
            continue
        notify(user_id, "new_report", report, group_id=group.id, thread_id=thread_id,
               post_id=report.post_id, chat_message_id=report.chat_message_id,
               actor_id=reporter.id)


def report_post(actor, post: Post, reason: str, text: str = "") -> Report:
    """Report a post to the group's moderators (merged into its open report, if any)."""
    check_post_reportable(actor, post)
    text = _check_flag(reason, text)
    _lock(Post, post.id)
    check_post_reportable(actor, post)  # again, under the lock
    return _flag(actor, group=post.thread.group, item_clause=Report.post_id == post.id,
                 new_report={"post_id": post.id, "content_author_id": post.author_id},
                 reason=reason, text=text,
                 already=_l("You have already reported this post; the moderators will look "
                            "at it."))


def report_chat_message(actor, message: ChatMessage, reason: str, text: str = "") -> Report:
    """Report a chat message to the group's moderators (merged as for posts)."""
    check_message_reportable(actor, message)
    text = _check_flag(reason, text)
    _lock(ChatMessage, message.id)
    check_message_reportable(actor, message)
    return _flag(actor, group=message.group,
                 item_clause=Report.chat_message_id == message.id,
                 new_report={"chat_message_id": message.id,
                             "content_author_id": message.author_id},
                 reason=reason, text=text,
                 already=_l("You have already reported this message; the moderators will "
                            "look at it."))


# --- the queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportPage:
    reports: list[Report]
    next_cursor: str | None
    earlier: dict[tuple[int, int], int]  # (group id, author id) → reports on them in all


def _with_items(statement):
    return statement.options(joinedload(Report.post).joinedload(Post.thread),
                             joinedload(Report.chat_message))


def list_reports(actor, *, group: Group | None = None, status: str = ReportStatus.OPEN,
                 cursor: str | None = None, limit: int = PAGE_SIZE) -> ReportPage:
    """A group's reports for its moderators, or every group's for administrators (group None).

    Open reports oldest first, resolved ones newest first; keyset-paginated by id (`cursor`).
    """
    if group is None:
        if not is_admin(actor):
            raise NotFound()
    else:
        _require_handler(actor, group)
    if status not in (ReportStatus.OPEN, ReportStatus.RESOLVED):
        status = ReportStatus.OPEN
    statement = _with_items(db.select(Report).where(Report.status == status))
    if group is not None:
        statement = statement.where(Report.group_id == group.id)
    after = parse_id(cursor)
    if status == ReportStatus.OPEN:
        statement = statement.order_by(Report.id)
        if after is not None:
            statement = statement.where(Report.id > after)
    else:
        statement = statement.order_by(Report.id.desc())
        if after is not None:
            statement = statement.where(Report.id < after)
    reports = list(db.session.scalars(statement.limit(limit + 1)).unique())
    next_cursor = str(reports[limit - 1].id) if len(reports) > limit else None
    reports = reports[:limit]
    return ReportPage(reports, next_cursor, _counts_per_author(reports))


def _counts_per_author(reports: list[Report]) -> dict[tuple[int, int], int]:
    authors = {r.content_author_id for r in reports if r.content_author_id is not None}
    groups = {r.group_id for r in reports}
    if not authors:
        return {}
    rows = db.session.execute(
        db.select(Report.group_id, Report.content_author_id, func.count())
        .where(Report.content_author_id.in_(authors), Report.group_id.in_(groups))
        .group_by(Report.group_id, Report.content_author_id))
    return {(group_id, author_id): count for group_id, author_id, count in rows}


def open_report_count(actor, group: Group) -> int | None:
    """Open reports of the group for its moderators (None for people who cannot see them)."""
    if not can_handle_reports(actor, group):
        return None
    return db.session.scalar(db.select(func.count()).select_from(Report).where(
        Report.group_id == group.id, Report.status == ReportStatus.OPEN)) or 0


def _require_handler(actor, group: Group) -> None:
    if not can_view_group(actor, group):
        raise NotFound()
    if not can_handle_reports(actor, group):
        raise PermissionDenied()


def get_report_for(actor, group: Group, report_id: int) -> Report:
    """The report if the actor handles the group's reports; NotFound for missing and
    forbidden alike."""
    if not can_handle_reports(actor, group):
        raise NotFound()
    report = db.session.scalar(_with_items(db.select(Report).where(Report.id == report_id)))
    if report is None or report.group_id != group.id:
        raise NotFound()
    return report


@dataclass(frozen=True)
class ReportContext:
    report: Report
    thread: Thread | None  # for a post
    before: list  # the posts (or chat messages) just before the item, oldest first
    after: list  # and just after it
    earlier_count: int  # other reports on the same author in this group
    earlier: list[Report]  # the last few of them, newest first


def report_context(actor, report: Report, around: int = 2) -> ReportContext:
    """What a moderator needs to judge a report: the item's neighbours and the author's
    earlier reports in the group."""
    _require_handler(actor, report.group)
    thread = None
    before: list = []
    after: list = []
    if report.post is not None:
        post = report.post
        thread = post.thread
        near = list(db.session.scalars(db.select(Post).where(
            Post.thread_id == post.thread_id,
            Post.number.between(post.number - around, post.number + around),
            Post.id != post.id).order_by(Post.number)))
        before = [p for p in near if p.number < post.number]
        after = [p for p in near if p.number > post.number]
    elif report.chat_message is not None:
        message = report.chat_message
        base = db.select(ChatMessage).where(ChatMessage.group_id == message.group_id)
        before = list(reversed(list(db.session.scalars(
            base.where(ChatMessage.id < message.id).order_by(ChatMessage.id.desc())
            .limit(around)))))
        after = list(db.session.scalars(
            base.where(ChatMessage.id > message.id).order_by(ChatMessage.id).limit(around)))
    earlier_count, earlier = 0, []
    if report.content_author_id is not None:
        others = db.select(Report).where(Report.group_id == report.group_id,
                                         Report.content_author_id == report.content_author_id,
                                         Report.id != report.id)
        earlier_count = db.session.scalar(
            db.select(func.count()).select_from(others.subquery())) or 0
        earlier = list(db.session.scalars(_with_items(others).order_by(Report.id.desc())
                                          .limit(EARLIER_SHOWN)).unique())
    return ReportContext(report, thread, before, after, earlier_count, earlier)


# --- resolving -------------------------------------------------------------------------------


def _item_gone(report: Report) -> bool:
    if report.post is not None:
        return report.post.deleted_at is not None
    return report.chat_message is None or report.chat_message.removed


def _check_resolution(report: Report, action: str, note: str, new_body: str | None) -> None:
    if action not in ACTIONS:
        raise InvalidInput({"action": _l("Choose what to do about the report.")})
    errors = {}
    if action in NOTE_REQUIRED and not note:
        errors["note"] = NOTE_REQUIRED[action]
    elif len(note) > NOTE_MAX:
        errors["note"] = too_long(NOTE_MAX)
    if action == EDIT:
        body = (new_body or "").strip()
        limit = (discussions.BODY_MAX if report.post is not None
                 else current_app.config["FORUM_CHAT_MAX_LENGTH"])
        current = report.post.body if report.post is not None else (
            report.chat_message.body if report.chat_message is not None else "")
        if _item_gone(report):
            errors["action"] = _l("The content was removed: it can no longer be edited.")
        elif not body:
            errors["new_body"] = _l("Write the new text, or choose another action.")
        elif len(body) > limit:
            errors["new_body"] = too_long(limit)
        elif body == current.strip():
            errors["new_body"] = _l("The text is unchanged: change it, or choose another "
                                    "action.")
    if action == WARN and report.content_author_id is None:
        errors["action"] = _l("The author's account no longer exists: there is nobody to "
                              "warn.")
    if errors:
        raise InvalidInput(errors)


def _edit_post(actor, post: Post, body: str, note: str, details: dict,
               redact: bool = False) -> None:
    before = post.body
    if redact:  # personal data removed: no earlier text is kept anywhere (forum.privacy)
        before, details = "", {**details, "redacted": True}
        db.session.execute(db.delete(PostRevision).where(PostRevision.post_id == post.id))
        blank_earlier_audit_text("post", post.id)
    else:
        db.session.add(PostRevision(post_id=post.id, body=before, edited_by_id=actor.id))
    post.body, post.body_html = body, render_markdown(body)
    post.search_text = index_text(post.thread.title if post.number == 1 else "", body)
    post.edited_at = utcnow()
    post.moderation_note = note
    record_audit(actor, "post.edit", group=post.thread.group, target=post.thread.title,
                 details={"post_id": post.id, **details}, subject=post, reason=note,
                 before=before)
    live.post_changed_after_commit(post)  # readers of the thread see the new text


def _edit_message(actor, group: Group, message: ChatMessage, body: str, note: str,
                  details: dict, redact: bool = False) -> None:
    before = message.body
    if redact:  # personal data removed: no earlier text is kept anywhere (forum.privacy)
        before, details = "", {**details, "redacted": True}
        blank_earlier_audit_text("chat_message", message.id)
        db.session.execute(db.delete(ChatMessageRevision).where(
            ChatMessageRevision.message_id == message.id))  # the author's earlier texts too
    message.body, message.body_html = body, render_markdown(body)
    message.edited_at = utcnow()
    message.moderation_note = note
    record_audit(actor, "chat.edit", group=group,
                 target=message.author.name if message.author else "",
                 details={"message_id": message.id, **details}, subject=message, reason=note,
                 before=before)
    publish_to_group_after_commit(group.id, "message_edited", {
        "id": message.id, "group": group.slug, "body_html": message.body_html,
        "moderation_note": note, "edited_at": chat.iso(message.edited_at)})


def _item_ids(report: Report) -> dict:
    if report.post is not None:
        return {"thread_id": report.post.thread_id, "post_id": report.post_id}
    return {"chat_message_id": report.chat_message_id}


def _target(report: Report) -> str:
    if report.post is not None:
        return report.post.thread.title
    author = report.content_author
    return author.name if author else ""


def resolve_report(actor, report: Report, action: str, *, note: str = "",
                   new_body: str | None = None, redact: bool = False) -> Report:
    """Hide (or remove), edit, dismiss or warn: one transaction with its audit entry and the
    reporters' notices. `redact` (with "edit"): the edit removes personal data, so the audit
    entry is a redaction entry (no earlier text, `{"redacted": true}`) and the earlier texts
    (revisions, earlier entries' `before`) are deleted."""
    group = report.group
    _require_handler(actor, group)
    # Read the status again under a row lock: two moderators may resolve at the same moment.
    status = db.session.scalar(db.select(Report.status).where(Report.id == report.id)
                               .with_for_update())
    if status != ReportStatus.OPEN or report.status != ReportStatus.OPEN:
        raise InvalidInput({"": _l("This report was already resolved.")})
    note = (note or "").strip()
    _check_resolution(report, action, note, new_body)
    details = {"report_id": report.id}
    post, message = report.post, report.chat_message
    if action == HIDE:
        if post is not None:
            discussions.hide_post_in_transaction(actor, post, note, details=details)
        else:
            chat.remove_message_in_transaction(actor, group, message, reason=note,
                                               details=details)
    elif action == EDIT:
        body = (new_body or "").strip()
        if post is not None:
            _edit_post(actor, post, body, note, details, redact)
        else:
            _edit_message(actor, group, message, body, note, details, redact)
    elif action == DISMISS:
        record_audit(actor, "report.dismiss", group=group, target=_target(report),
                     details={**details, **_item_ids(report)}, subject=report, reason=note)
    else:
        author = db.session.get(User, report.content_author_id)
        notify(author.id, "warning", group_id=group.id, actor_id=actor.id, text=note,
               **_item_ids(report))
        record_audit(actor, "user.warn", group=group, target=author.name,
                     details={**details, **_item_ids(report)}, subject=author, reason=note)
    report.status = ReportStatus.RESOLVED
    report.resolution = RESOLUTION_OF[action]
    report.resolution_note = note
    report.resolved_by_id = actor.id
    report.resolved_at = utcnow()
    for reporter_id in {f.reporter_id for f in report.flags if f.reporter_id is not None}:
        if reporter_id != actor.id:
            notify(reporter_id, "report_outcome", group_id=group.id, actor_id=actor.id,
                   text=report.resolution, **_item_ids(report))
    db.session.commit()
    return report


def report_links(ids: set[int]) -> dict[int, tuple[str, dict]]:
    """Audit-log links (forum.audit.services.register_links) to reports."""
    return {report_id: ("moderation.report", {"slug": slug, "report_id": report_id})
            for report_id, slug in db.session.execute(
                db.select(Report.id, Group.slug).join(Group, Group.id == Report.group_id)
                .where(Report.id.in_(ids))).all()}
