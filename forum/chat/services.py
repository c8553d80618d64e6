"""Live chat: send, history and catch-up, moderation, "continue as a thread", transcripts.

Plain functions taking the acting person first, one transaction per call, callable from the
Socket.IO handlers and the HTTP views alike. Events reach the group's room only after the
commit (forum.events.after_commit).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_datetime, format_timedelta
from flask_babel import lazy_gettext as _l
from limits import parse
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from forum import observability
from forum.accounts.models import User
from forum.accounts.services import too_long
from forum.audit.services import record_audit
from forum.chat.models import (
    MENTION,
    ChatMessage,
    ChatMessageRevision,
    ChatMute,
    ChatRead,
    ChatSettings,
    MessageKind,
)
from forum.chat.rooms import publish_to_group_after_commit
from forum.discussions import services as discussions
from forum.errors import InvalidInput, NotFound, PermissionDenied, Refused
from forum.extensions import db
from forum.groups.models import Group
from forum.groups.policy import can_moderate_group, can_participate, can_view_group, role_in
from forum.ids import parse_id
from forum.notifications.inbox import forget_unread_count, notify
from forum.notifications.mentions import mentioned_user_ids
from forum.notifications.models import Notification
from forum.realtime import server as realtime
from forum.text import AVATAR_COLOURS, initials, render_markdown
from forum.textdiff import word_diff
from forum.timeutil import utcnow
from forum.workshops.models import Workshop

PAGE_SIZE = 50  # messages shown on opening the chat, and per older page
CATCH_UP_LIMIT = 500  # messages per catch-up answer (the client asks again for more)
PROMOTE_LIMIT = 50
MUTE_MAX_MINUTES = 7 * 24 * 60
SLOW_MODE_MAX_SECONDS = 3600
MUTE_CHOICES = (5, 15, 60, 24 * 60)  # minutes, offered in the forms
SLOW_MODE_CHOICES = (0, 10, 30, 60, 300)  # seconds
# Authors may edit or delete their own messages for this long after sending them.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class ChatError(Refused):
    """A refused chat action with a machine-readable code (for socket acknowledgements);
    without a field it is about the message's body."""

    def __init__(self, code: str, message, field: str = "body", **extra):
        super().__init__(code, message, field=field, **extra)


# --- loading ---------------------------------------------------------------------------------


def _require_view(actor, group: Group) -> None:
    if not can_view_group(actor, group):
        raise NotFound()


def get_message_for(actor, group: Group, message_id: int) -> ChatMessage:
    _require_view(actor, group)
    message = db.session.get(ChatMessage, message_id)
    if message is None or message.group_id != group.id:
        raise NotFound()
    return message


def _live_workshops(group: Group, now: datetime | None = None):
    today = (now or utcnow()).astimezone(ZoneInfo(group.time_zone)).date()
    return (db.select(Workshop)
            .where(Workshop.group_id == group.id, Workshop.cancelled_at.is_(None),
                   Workshop.day1 <= today, Workshop.day2 >= today)
            .order_by(Workshop.day1.desc()).limit(1))


def live_workshop(group: Group, now: datetime | None = None) -> Workshop | None:
    """The group's session that is live today (by the group's calendar), if any."""
    return db.session.scalar(_live_workshops(group, now))


def page_settings(group: Group, now: datetime | None = None) -> tuple[int, Workshop | None]:
    """The chat's slow mode (seconds) and live session, in one query (a second only when
    a session is live)."""
    live = _live_workshops(group, now).with_only_columns(Workshop.id).scalar_subquery()
    seconds, live_id = db.session.execute(db.select(_slow_mode_query(group).scalar_subquery(),
                                                    live)).one()
    return seconds or 0, db.session.get(Workshop, live_id) if live_id else None


# --- what clients receive --------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def person(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.id, "name": user.name,
            "organisation": user.organisation.name if user.organisation else None}


def _author(user: User | None) -> dict | None:
    """A message's author: `person` and the avatar, as the page shows it (initials on one of
    the avatar colours, forum/chat/layout.py)."""
    if user is None:
        return None
    return {**person(user), "initials": initials(user.name), "colour": user.id % AVATAR_COLOURS}


def thread_path(group: Group, thread_id: int) -> str:
    return f"/g/{group.slug}/t/{thread_id}"


def message_payload(message: ChatMessage, group: Group) -> dict:
    """A message as the protocol sends it (`message_created`, join and history answers)."""
    payload = {
        "id": message.id,
        "group": group.slug,
        "kind": message.kind,
        "author": _author(message.author),
        "body_html": "" if message.removed else message.body_html,
        "created_at": iso(message.created_at),
        "client_id": message.client_id,
        "workshop": message.workshop.number if message.workshop else None,
        "removed": message.removed,
        # A moderator's edit: the public note shown with the message ("" when not edited).
        "moderation_note": "" if message.removed else message.moderation_note,
        # The author changed the text (shown as "edited"), or deleted the message.
        "edited": edited_by_author(message),
        "removed_by_author": removed_by_author(message),
    }
    if message.kind == MessageKind.THREAD_NOTICE:
        payload["thread"] = ({"id": message.thread_id, "title": message.thread.title,
                              "url": thread_path(group, message.thread_id)}
                             if message.thread is not None else None)
    return payload


# --- history ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    messages: list[ChatMessage]  # oldest first
    has_more: bool  # older messages exist (before), or more after (catch-up)


def _base(group: Group):
    return db.select(ChatMessage).where(ChatMessage.group_id == group.id)


def history(actor, group: Group, *, before_id: int | None = None,
            limit: int = PAGE_SIZE) -> Page:
    """The newest messages (before `before_id` when given), oldest first."""
    _require_view(actor, group)
    limit = max(1, min(limit, PAGE_SIZE))
    statement = _base(group).order_by(ChatMessage.id.desc()).limit(limit + 1)
    if before_id is not None:
        statement = statement.where(ChatMessage.id < before_id)
    rows = list(db.session.scalars(statement))
    return Page(list(reversed(rows[:limit])), len(rows) > limit)


def catch_up(actor, group: Group, after_id: int, limit: int = CATCH_UP_LIMIT) -> Page:
    """Every message after `after_id` (up to `limit`), oldest first: what a client missed."""
    _require_view(actor, group)
    rows = list(db.session.scalars(
        _base(group).where(ChatMessage.id > after_id).order_by(ChatMessage.id).limit(limit + 1)))
    return Page(rows[:limit], len(rows) > limit)


def last_id_before(when: datetime) -> int:
    """The id of the newest message of any group sent before `when` (0: none): a client that
    asks for "after" it gets everything since (clients de-duplicate by id)."""
    return db.session.scalar(db.select(func.max(ChatMessage.id))
                             .where(ChatMessage.created_at < when)) or 0


# --- sending ---------------------------------------------------------------------------------


def _settings_for_update(group: Group) -> ChatSettings:
    """The group's settings row, locked until commit: messages of a group get ids in the order
    they commit, so a client that saw id N and asks for "after N" misses nothing."""
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" \
        else sqlite_insert
    db.session.execute(insert(ChatSettings).values(group_id=group.id, slow_mode_seconds=0)
                       .on_conflict_do_nothing())
    return db.session.execute(
        db.select(ChatSettings).where(ChatSettings.group_id == group.id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()


def _lock_settings_for_message(group: Group, now: datetime) -> int:
    """Take the group's settings row lock (made if missing) and note the time of its last
    message, in one statement; returns the slow mode in seconds. On PostgreSQL the upsert
    locks the row until commit like `_settings_for_update`; on SQLite the first write takes
    the database's write lock. Either way a group's messages get ids in commit order."""
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" \
        else sqlite_insert
    statement = insert(ChatSettings.__table__).values(
        group_id=group.id, slow_mode_seconds=0, last_message_at=now)
    return db.session.execute(statement.on_conflict_do_update(
        index_elements=[ChatSettings.group_id], set_={"last_message_at": now})
        .returning(ChatSettings.slow_mode_seconds)).scalar_one() or 0


def _slow_mode_query(group: Group):
    return db.select(ChatSettings.slow_mode_seconds).where(ChatSettings.group_id == group.id)


def slow_mode_seconds(group: Group) -> int:
    return db.session.scalar(_slow_mode_query(group)) or 0


def _by_client_id(actor, client_id: str) -> ChatMessage | None:
    # The id alone first (an index lookup, no joined author or session): almost always none.
    found = db.session.scalar(db.select(ChatMessage.id).where(
        ChatMessage.author_id == actor.id, ChatMessage.client_id == client_id))
    return db.session.get(ChatMessage, found) if found is not None else None


def _check_client_id(client_id) -> str:
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise ChatError("bad_request", _l("The message has no valid client id."),
                        field="client_id")
    return client_id


def active_mute(group: Group, user, now: datetime | None = None) -> ChatMute | None:
    return db.session.scalar(db.select(ChatMute).where(
        ChatMute.group_id == group.id, ChatMute.user_id == user.id,
        ChatMute.until > (now or utcnow())))


def _muted_until(group: Group, user, now: datetime) -> datetime | None:
    """When the member's mute in this group ends, if they are muted now (`active_mute`
    without loading the mute and its person)."""
    return db.session.scalar(db.select(ChatMute.until).where(
        ChatMute.group_id == group.id, ChatMute.user_id == user.id, ChatMute.until > now))


def _rate_limiter():
    chat = realtime.state()
    return chat.limiter, parse(current_app.config["FORUM_CHAT_RATE"])


def _take_rate(actor, group: Group) -> None:
    limiter, item = _rate_limiter()
    keys = ("chat", str(group.id), str(actor.id))
    if not limiter.hit(item, *keys):
        reset = limiter.get_window_stats(item, *keys).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        raise ChatError("rate_limited", _l(
            "You are sending messages too fast. Slow down: try again in %(seconds)d s.",
            seconds=wait), retry_after=wait)


def _check_slow_mode(actor, group: Group, seconds: int, now: datetime) -> None:
    if not seconds:
        return
    last = db.session.scalar(db.select(func.max(ChatMessage.created_at)).where(
        ChatMessage.group_id == group.id, ChatMessage.author_id == actor.id,
        ChatMessage.kind == MessageKind.MESSAGE))
    wait = seconds - (now - last).total_seconds() if last is not None else 0
    if wait > 0:
        raise ChatError("slow_mode", _l(
            "Slow mode is on: one message every %(every)d s. Try again in %(seconds)d s.",
            every=seconds, seconds=math.ceil(wait)), retry_after=math.ceil(wait))


def send_message(actor, group: Group, body, client_id) -> ChatMessage:
    """Post a message; the same `client_id` again returns the first message, never a second."""
    return _send(actor, group, body, client_id)[0]


def post_message(actor, group: Group, body, client_id) -> dict:
    """`send_message` for the socket: the stored message as the protocol sends it (the same
    payload that went to the room, not read back from the database after the commit)."""
    message, payload = _send(actor, group, body, client_id)
    return payload if payload is not None else message_payload(message, group)


def _send(actor, group: Group, body, client_id) -> tuple[ChatMessage, dict | None]:
    """The message and, when this call stored it, its payload (None: sent before)."""
    if not can_participate(actor, group):
        _require_view(actor, group)
        raise PermissionDenied()
    client_id = _check_client_id(client_id)
    existing = _by_client_id(actor, client_id)
    if existing is not None:
        if existing.group_id != group.id:
            raise ChatError("bad_request", _l("This client id was used for another message."),
                            field="client_id")
        return existing, None
    if not isinstance(body, str):
        raise ChatError("bad_request", _l("The message has no text."))
    body = body.strip()
    if not body:
        raise ChatError("empty", _l("Write something first."))
    limit = current_app.config["FORUM_CHAT_MAX_LENGTH"]
    if len(body) > limit:
        raise ChatError("too_long", too_long(limit), limit=limit)
    now = utcnow()
    moderator = can_moderate_group(actor, group)
    muted_until = None if moderator else _muted_until(group, actor, now)
    if muted_until is not None:
        remaining = muted_until - now
        raise ChatError("muted", _l(
            "A moderator has muted you in this chat. You can write again in %(time)s.",
            time=format_timedelta(remaining, threshold=1.1, add_direction=False)),
            retry_after=math.ceil(remaining.total_seconds()), until=iso(muted_until))
    slow_mode, workshop = page_settings(group, now)  # one query (two when a session is live)
    if not moderator:
        _check_slow_mode(actor, group, slow_mode, now)
    body_html = render_markdown(body)
    mentioned = [user_id for user_id in mentioned_user_ids(group, body) if user_id != actor.id]
    # Counted before the group's lock is taken: with Redis this waits on the network, and
    # under gevent no other greenlet should wait behind a lock held meanwhile (SQLite).
    _take_rate(actor, group)
    slow_mode = _lock_settings_for_message(group, now)
    if not moderator and slow_mode:
        try:  # again under the lock: two sends at once by one member
            _check_slow_mode(actor, group, slow_mode, now)
        except ChatError:
            db.session.rollback()
            raise
    message = ChatMessage(group_id=group.id, author_id=actor.id, body=body, body_html=body_html,
                          client_id=client_id, workshop=workshop, created_at=now)
    db.session.add(message)
    db.session.flush()
    for user_id in mentioned:
        notify(user_id, MENTION, message, group_id=group.id, actor_id=actor.id, created_at=now)
    payload = message_payload(message, group)
    publish_to_group_after_commit(group.id, "message_created", payload)
    try:
        db.session.commit()
    except IntegrityError:  # the same client id, sent twice at the same moment
        db.session.rollback()
        existing = _by_client_id(actor, client_id)
        if existing is None:
            raise
        return existing, None
    observability.chat_message_created()
    return message, payload


# --- one's own messages: edit and delete for a while ------------------------------------------


def edited_by_author(message: ChatMessage) -> bool:
    return (not message.removed and message.edited_at is not None
            and not message.moderation_note)


def removed_by_author(message: ChatMessage) -> bool:
    return message.removed and message.removed_by_id is not None \
        and message.removed_by_id == message.author_id


def own_change_window(group: Group) -> timedelta:
    """How long after sending authors may change their messages (the group's setting)."""
    return timedelta(minutes=max(group.chat_edit_minutes or 0, 0))


def may_change_own(actor, message: ChatMessage, now: datetime | None = None,
                   group: Group | None = None) -> bool:
    """Whether the actor may still edit or delete this message: their own, a plain message
    not removed, sent less than the group's own_change_window ago (the caller knows the
    actor may write in the group). `group`: the message's group when the caller has it."""
    window = own_change_window(group if group is not None else message.group)
    return (message.author_id is not None and message.author_id == getattr(actor, "id", None)
            and message.kind == MessageKind.MESSAGE and not message.removed
            and not message.moderation_note and window > timedelta(0)
            and (now or utcnow()) - message.created_at <= window)


def _own_for_change(actor, group: Group, message_id: int, now: datetime) -> ChatMessage:
    message = get_message_for(actor, group, message_id)  # NotFound for outsiders
    if not can_participate(actor, group) or message.author_id != actor.id:
        raise PermissionDenied()
    if not may_change_own(actor, message, now, group):
        if not group.chat_edit_minutes:
            raise ChatError("too_late", _l(
                "In this group chat messages cannot be changed once they are sent."))
        raise ChatError("too_late", _l(
            "Messages can be changed only for %(minutes)d minutes after they were sent.",
            minutes=group.chat_edit_minutes))
    return message


def edit_own_message(actor, group: Group, message_id: int, body) -> ChatMessage:
    """The author corrects a recent message; everyone's view changes (`message_edited`)."""
    now = utcnow()
    message = _own_for_change(actor, group, message_id, now)
    if not isinstance(body, str) or not body.strip():
        raise ChatError("empty", _l("Write something first."))
    body = body.strip()
    limit = current_app.config["FORUM_CHAT_MAX_LENGTH"]
    if len(body) > limit:
        raise ChatError("too_long", too_long(limit), limit=limit)
    if body != message.body:
        _mentions_after_edit(actor, group, message, body, now)
        db.session.add(ChatMessageRevision(message_id=message.id, body=message.body,
                                           edited_by_id=actor.id, created_at=now))
        message.body, message.body_html, message.edited_at = body, render_markdown(body), now
        publish_to_group_after_commit(group.id, "message_edited", {
            "id": message.id, "group": group.slug, "body_html": message.body_html,
            "moderation_note": "", "edited_at": iso(now), "edited": True})
        db.session.commit()
    return message


def _mentions_after_edit(actor, group: Group, message: ChatMessage, body: str,
                         now: datetime) -> None:
    """People the edit mentions for the first time are told as on sending (once); people
    whose mention the edit took out lose the notice if they have not read it yet."""
    before = set(mentioned_user_ids(group, message.body or ""))
    after = {user_id for user_id in mentioned_user_ids(group, body) if user_id != actor.id}
    for user_id in sorted(after - before):
        notify(user_id, MENTION, message, group_id=group.id, actor_id=actor.id, created_at=now)
    if before - after:
        db.session.execute(db.delete(Notification).where(
            Notification.kind == MENTION, Notification.chat_message_id == message.id,
            Notification.user_id.in_(before - after), Notification.read_at.is_(None))
            .execution_options(synchronize_session=False))
        forget_unread_count()


@dataclass(frozen=True)
class MessageEdit:
    edited_at: datetime
    before: str
    changes: list  # forum.textdiff pieces: what the edit changed


def message_edits(actor, group: Group, message_id: int) -> tuple[ChatMessage, list[MessageEdit]]:
    """A chat message and its authors' edits, newest first (each with the text before it and
    what it changed), for its author and the group's moderators; NotFound for anyone else."""
    message = get_message_for(actor, group, message_id)  # NotFound for outsiders
    if message.removed or not (message.author_id == actor.id
                               or can_moderate_group(actor, group)):
        raise NotFound()
    edits, after = [], message.body
    for revision in db.session.scalars(db.select(ChatMessageRevision).where(
            ChatMessageRevision.message_id == message.id)
            .order_by(ChatMessageRevision.id.desc())):
        edits.append(MessageEdit(revision.created_at, revision.body,
                                 word_diff(revision.body, after)))
        after = revision.body
    return message, edits


def delete_own_message(actor, group: Group, message_id: int) -> ChatMessage:
    """The author deletes a recent message: "Deleted by its author" for everyone, at once."""
    now = utcnow()
    message = _own_for_change(actor, group, message_id, now)
    message.removed_at, message.removed_by_id = now, actor.id
    db.session.execute(db.delete(Notification).where(
        Notification.kind == MENTION, Notification.chat_message_id == message.id)
        .execution_options(synchronize_session=False))
    publish_to_group_after_commit(group.id, "message_removed", {
        "id": message.id, "group": group.slug, "by_author": True})
    db.session.commit()
    return message


# --- moderation ------------------------------------------------------------------------------


def _require_moderator(actor, group: Group) -> None:
    if not can_moderate_group(actor, group):
        _require_view(actor, group)
        raise PermissionDenied()


def remove_message(actor, group: Group, message_id: int) -> ChatMessage:
    """A moderator removes a message: everyone sees "removed by a moderator" at once."""
    _require_moderator(actor, group)
    message = get_message_for(actor, group, message_id)
    if message.removed:
        return message
    remove_message_in_transaction(actor, group, message)
    db.session.commit()
    return message


def remove_message_in_transaction(actor, group: Group, message: ChatMessage, *,
                                  reason: str = "", details: dict | None = None) -> None:
    """Remove the message and record it in the caller's transaction; the `message_removed`
    event goes out after the commit. No permission check: the caller checks (the moderation
    desk resolves a report with it)."""
    message.removed_at, message.removed_by_id = utcnow(), actor.id
    # Nobody is sent to a message that is gone (a private notice about it stays).
    db.session.execute(db.delete(Notification).where(
        Notification.kind == MENTION, Notification.chat_message_id == message.id)
        .execution_options(synchronize_session=False))
    record_audit(actor, "chat.remove", group=group,
                 target=message.author.name if message.author else "",
                 details={"message_id": message.id, "text": message.body[:200],
                          **(details or {})},
                 subject=message, reason=reason)
    publish_to_group_after_commit(group.id, "message_removed",
                                        {"id": message.id, "group": group.slug})


def _member(group: Group, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or role_in(user, group) is None:
        raise NotFound()
    return user


def mute_member(actor, group: Group, user_id: int, minutes: int) -> ChatMute:
    _require_moderator(actor, group)
    user = _member(group, user_id)
    if not isinstance(minutes, int) or not 1 <= minutes <= MUTE_MAX_MINUTES:
        raise InvalidInput({"minutes": _l("Choose a time from the list.")})
    if can_moderate_group(user, group):
        raise InvalidInput({"": _l("Moderators cannot be muted.")})
    until = utcnow() + timedelta(minutes=minutes)
    mute = db.session.scalar(db.select(ChatMute).where(ChatMute.group_id == group.id,
                                                       ChatMute.user_id == user.id))
    if mute is None:
        mute = ChatMute(group_id=group.id, user_id=user.id)
        db.session.add(mute)
    mute.until, mute.by_id = until, actor.id
    record_audit(actor, "chat.mute", group=group, target=user.name,
                 details={"user_id": user.id, "minutes": minutes}, subject=user)
    db.session.commit()
    return mute


def unmute_member(actor, group: Group, user_id: int) -> None:
    _require_moderator(actor, group)
    user = _member(group, user_id)
    mute = active_mute(group, user)
    if mute is not None:
        mute.until = utcnow()
        record_audit(actor, "chat.unmute", group=group, target=user.name,
                     details={"user_id": user.id}, subject=user)
        db.session.commit()


def list_mutes(actor, group: Group) -> list[ChatMute]:
    _require_moderator(actor, group)
    return list(db.session.scalars(db.select(ChatMute).where(
        ChatMute.group_id == group.id, ChatMute.until > utcnow()).order_by(ChatMute.until)))


def set_slow_mode(actor, group: Group, seconds: int) -> None:
    _require_moderator(actor, group)
    if not isinstance(seconds, int) or not 0 <= seconds <= SLOW_MODE_MAX_SECONDS:
        raise InvalidInput({"seconds": _l("Choose a time from the list.")})
    settings = _settings_for_update(group)
    if settings.slow_mode_seconds == seconds:
        db.session.commit()
        return
    settings.slow_mode_seconds = seconds
    record_audit(actor, "chat.slow_mode", group=group, target=group.slug,
                 details={"seconds": seconds}, subject=group)
    publish_to_group_after_commit(group.id, "slow_mode_changed",
                                        {"group": group.slug, "seconds": seconds})
    db.session.commit()


# --- continue as a thread --------------------------------------------------------------------


def chat_link(group: Group, messages: list[ChatMessage]) -> str:
    """A link to the chat page showing these messages (an older page when needed)."""
    return f"/g/{group.slug}/chat?before_id={messages[-1].id + 1}#message-{messages[0].id}"


def _quote(group: Group, messages: list[ChatMessage]) -> str:
    parts = [str(_l("Continued from [the chat of %(group)s](%(link)s):", group=group.name,
                    link=chat_link(group, messages)))]
    for message in messages:
        author = message.author.name if message.author else str(_l("former member"))
        when = format_datetime(message.created_at, "short")
        quoted = "\n".join(f"> {line}" if line else ">" for line in message.body.splitlines())
        parts.append(f"> **{author}**, {when}:\n>\n{quoted}")
    return "\n\n".join(parts)


def promote_to_thread(actor, group: Group, message_ids, title: str,
                      client_token: str | None = None):
    """Start a thread quoting the chosen messages; the chat gets a notice linking to it.

    `client_token` makes a resent form return the same thread and notice.
    """
    if not can_participate(actor, group):
        _require_view(actor, group)
        raise PermissionDenied()
    parsed = [parse_id(i) for i in message_ids or []]
    if None in parsed:
        raise InvalidInput({"message_ids": _l("Choose messages of this chat.")})
    ids = sorted(set(parsed))
    if not ids:
        raise InvalidInput({"message_ids": _l("Choose at least one message.")})
    if len(ids) > PROMOTE_LIMIT:
        raise InvalidInput({"message_ids": _l("Choose at most %(n)d messages.", n=PROMOTE_LIMIT)})
    messages = list(db.session.scalars(_base(group).where(
        ChatMessage.id.in_(ids), ChatMessage.kind == MessageKind.MESSAGE,
        ChatMessage.removed_at.is_(None)).order_by(ChatMessage.id)))
    if len(messages) != len(ids):
        raise InvalidInput({"message_ids": _l("Choose messages of this chat.")})
    numbers = [m.workshop.number for m in messages if m.workshop is not None]
    token = f"chat:{client_token}" if client_token else None
    thread = discussions.start_thread(
        actor, group, title=title, body=_quote(group, messages),
        workshop_number=numbers[-1] if numbers else None, client_token=token)

    notice_id = f"thread-{thread.id}"
    if _by_client_id(actor, notice_id) is None:
        settings = _settings_for_update(group)
        now = utcnow()
        workshop = live_workshop(group, now)
        notice = ChatMessage(group_id=group.id, author_id=actor.id,
                             kind=MessageKind.THREAD_NOTICE, body=thread.title, body_html="",
                             client_id=notice_id, thread_id=thread.id, created_at=now,
                             workshop_id=workshop.id if workshop else None)
        settings.last_message_at = now
        db.session.add(notice)
        db.session.flush()
        publish_to_group_after_commit(group.id, "message_created",
                                            message_payload(notice, group))
        db.session.commit()
    return thread


# --- how far each member has read ------------------------------------------------------------


def mark_chat_read(actor, group: Group, up_to_id: int) -> None:
    """The actor has seen the group's chat up to message `up_to_id` (a message of this group;
    anything else is ignored). The position only moves forward."""
    _require_view(actor, group)
    if not db.session.scalar(db.select(ChatMessage.id).where(
            ChatMessage.id == up_to_id, ChatMessage.group_id == group.id)):
        return
    where = (ChatRead.user_id == actor.id, ChatRead.group_id == group.id)
    for _attempt in range(2):
        moved = db.session.execute(
            db.update(ChatRead).where(*where, ChatRead.last_read_id < up_to_id)
            .values(last_read_id=up_to_id, updated_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        if moved or db.session.scalar(db.select(ChatRead.last_read_id).where(*where)) \
                is not None:
            db.session.commit()
            return
        try:
            db.session.add(ChatRead(user_id=actor.id, group_id=group.id, last_read_id=up_to_id))
            db.session.commit()
            return
        except IntegrityError:  # another tab of the same person was first: update theirs
            db.session.rollback()


UNREAD_CHAT_CAP = 100  # counted up to this many ("99+"): the count costs the same in a busy chat


def unread_chat_statement(user_id, group_id, joined_at):
    """Messages of others in the group after the member's read position (or, before they ever
    opened the chat, since they joined the group), counted up to UNREAD_CHAT_CAP: a scalar
    subquery for the dashboard's one statement (`group_id`, `joined_at`: its columns). Both
    parts read at most UNREAD_CHAT_CAP rows of the (group_id, id) index, however long the
    chat."""

    def unread(message):
        read_up_to = (db.select(ChatRead.last_read_id)
                      .where(ChatRead.user_id == user_id, ChatRead.group_id == group_id)
                      .correlate_except(ChatRead).scalar_subquery())
        return (message.group_id == group_id,
                message.id > db.func.coalesce(read_up_to, 0),
                db.or_(read_up_to.is_not(None), message.created_at > joined_at),
                db.or_(message.author_id.is_(None), message.author_id != user_id),
                message.removed_at.is_(None))

    counted = db.aliased(ChatMessage)
    last_counted = (db.select(counted.id).where(*unread(counted)).order_by(counted.id)
                    .offset(UNREAD_CHAT_CAP - 1).limit(1)
                    .correlate_except(counted).scalar_subquery())
    return (db.select(db.func.count(ChatMessage.id))
            .where(*unread(ChatMessage),
                   db.or_(last_counted.is_(None), ChatMessage.id <= last_counted))
            .correlate_except(ChatMessage).scalar_subquery())


# --- mentions and transcripts ----------------------------------------------------------------


def mentions_in(actor, group: Group, messages: list[ChatMessage]) -> set[int]:
    """Ids among `messages` that mention the actor; opening the chat marks them read."""
    ids = [m.id for m in messages]
    if not ids:
        return set()
    mine = (Notification.user_id == actor.id, Notification.kind == MENTION,
            Notification.chat_message_id.in_(ids))
    rows = db.session.execute(db.select(Notification.chat_message_id, Notification.read_at)
                              .where(*mine)).all()
    mentioned = {message_id for message_id, _ in rows}
    if any(read_at is None for _, read_at in rows):  # no write when all were read before
        db.session.execute(db.update(Notification).where(*mine, Notification.read_at.is_(None))
                           .values(read_at=utcnow())
                           .execution_options(synchronize_session=False))
        db.session.commit()
        forget_unread_count()
    return mentioned


@dataclass(frozen=True)
class TranscriptDay:
    day: date
    messages: list[ChatMessage]


def transcript(actor, workshop: Workshop) -> list[TranscriptDay]:
    """The chat during a session, by day in the group's time zone (removed ones included as
    placeholders, so the record shows that something was there)."""
    group = workshop.group
    _require_view(actor, group)
    zone = ZoneInfo(group.time_zone)
    days: dict[date, list[ChatMessage]] = {}
    for message in db.session.scalars(db.select(ChatMessage).where(
            ChatMessage.workshop_id == workshop.id).order_by(ChatMessage.id)):
        days.setdefault(message.created_at.astimezone(zone).date(), []).append(message)
    return [TranscriptDay(day, messages) for day, messages in sorted(days.items())]


def message_links(ids: set[int]) -> dict[int, tuple[str, dict]]:
    """Audit-log links (forum.audit.services.register_links) to chat messages still stored."""
    return {message_id: ("chat.index", {"slug": slug})
            for message_id, slug in db.session.execute(
                db.select(ChatMessage.id, Group.slug).join(Group, Group.id == ChatMessage.group_id)
                .where(ChatMessage.id.in_(ids))).all()}


def notification_url(actor, notification) -> str | None:
    """Where a notification about a chat message leads (registered with
    forum.notifications.inbox.register_opener): the chat page at that message."""
    try:
        message = get_message_for(actor, notification.group, notification.chat_message_id)
    except NotFound:
        return None
    return chat_link(notification.group, [message])


def move_thread_notices(source_thread_id: int, target_thread_id: int) -> None:
    """Threads merged (forum.discussions.curation.on_merge): the chat's "continued as a
    thread" notices link to the thread that remains."""
    db.session.execute(db.update(ChatMessage).where(ChatMessage.thread_id == source_thread_id)
                       .values(thread_id=target_thread_id)
                       .execution_options(synchronize_session=False))
