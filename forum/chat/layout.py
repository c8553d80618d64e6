"""How a list of chat messages reads: a divider where the day changes, and consecutive
messages of one person grouped under one name, avatar and time.

The same rules run in the browser for live messages (static/js/chat/rendering.js, `relayout`),
so a page built by the server and one grown by the socket look the same. No queries here: the
messages come with their author and session already loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from forum.chat.models import ChatMessage, MessageKind
from forum.text import AVATAR_COLOURS, initials

# A message continues its author's group when it follows within this time (and on the same
# day, in the same session). static/js/chat/rendering.js: GROUP_GAP_MS.
GROUP_GAP = timedelta(minutes=5)


@dataclass(frozen=True)
class ChatTime:
    short: str  # "20:27" (the day is said by the divider above)
    full: str   # the whole date and time, for hover (title)
    iso: str    # machine-readable, for <time datetime>
    day: date   # in the reader's time zone
    at: str     # the moment in UTC to the millisecond, as the protocol sends it (data-at)


@dataclass(frozen=True)
class Divider:
    day: date
    label: str           # "Today", "Yesterday", "3 December 2026"
    session: int | None  # the session of the day's first message, said once at the divider


@dataclass(frozen=True)
class MessageRow:
    message: ChatMessage
    time: ChatTime
    divider: Divider | None  # a day divider goes right before this message
    head: bool               # shows name, avatar and time; False: only the text
    shows_session: bool      # its session differs from the one its day divider names
    initials: str            # the author's avatar (as on the thread page)
    colour: int


def _local(moment: datetime, zone) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)


@lru_cache(maxsize=4096)
def chat_time(moment: datetime, zone, locale) -> ChatTime:
    from babel.dates import format_date, format_time
    from flask_babel import gettext

    local = _local(moment, zone)
    short = format_time(local, "short", locale=locale)
    full = gettext("%(date)s, %(time)s", date=format_date(local, "full", locale=locale),
                   time=short)
    at = _local(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return ChatTime(short, full, local.isoformat(timespec="minutes"), local.date(), at)


def day_label(day: date, today: date, locale) -> str:
    from babel.dates import format_date
    from flask_babel import gettext

    if day == today:
        return gettext("Today")
    if (today - day).days == 1:
        return gettext("Yesterday")
    return format_date(day, "long", locale=locale)


def avatar_colour(user_id: int | None) -> int:
    """The avatar's background (.avatar-0 … .avatar-7), as on the thread page."""
    return (user_id or 0) % AVATAR_COLOURS


def _session(message: ChatMessage) -> int | None:
    return message.workshop.number if message.workshop is not None else None


def continues(previous: ChatMessage | None, message: ChatMessage, previous_day: date | None,
              day: date) -> bool:
    """Whether `message` joins the group of `previous` (the message right before it)."""
    return (previous is not None and previous_day == day
            and previous.kind == MessageKind.MESSAGE and message.kind == MessageKind.MESSAGE
            and message.author_id is not None and previous.author_id == message.author_id
            and _session(previous) == _session(message)
            and timedelta(0) <= message.created_at - previous.created_at <= GROUP_GAP)


def rows(messages: list[ChatMessage], zone, locale, today: date, *,
         dividers: bool = True) -> list[MessageRow]:
    """The messages (oldest first) with their dividers and groups. Without `dividers` (the
    session's transcript, which has a heading per day) no divider is made and no session
    badge shown, but a new day still starts a new group."""
    result: list[MessageRow] = []
    previous: ChatMessage | None = None
    previous_day: date | None = None
    day_session: int | None = None
    for message in messages:
        time = chat_time(message.created_at, zone, locale)
        divider = None
        if dividers and time.day != previous_day:
            day_session = _session(message)
            divider = Divider(time.day, day_label(time.day, today, locale), day_session)
        head = not continues(previous, message, previous_day, time.day)
        shows = dividers and _session(message) is not None and _session(message) != day_session
        author = message.author
        result.append(MessageRow(message, time, divider, head, shows,
                                 initials(author.name) if author else "?",
                                 avatar_colour(message.author_id)))
        previous, previous_day = message, time.day
    return result
