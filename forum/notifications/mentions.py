"""@mentions: each member's @handle, who a text mentions, and autocomplete suggestions.
Used by the forum's posts and by the chat alike."""

from __future__ import annotations

import re
from functools import lru_cache

from forum.accounts.models import User
from forum.errors import NotFound
from forum.extensions import db
from forum.groups.models import Group, Membership
from forum.groups.policy import can_view_group
from forum.text import fold

_MENTION = re.compile(r"(?<![\w@/])@([a-z0-9][a-z0-9._-]*[a-z0-9]|[a-z0-9])", re.IGNORECASE)


@lru_cache(maxsize=8192)
def handle_for(name: str) -> str:
    """The @handle of a person: their name folded to ASCII, words joined by dots (kept per
    name: a mention in a room of hundreds would otherwise fold every member's name again)."""
    return ".".join(re.findall(r"[a-z0-9]+", fold(name)))


def group_handles(group: Group) -> dict[str, User]:
    members = db.session.scalars(
        db.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == group.id, User.active.is_(True)))
    return {handle_for(user.name): user for user in members}


def mentioned_users(group: Group, body: str) -> list[User]:
    """Members of the group mentioned in the text; other @words mean nothing."""
    names = {m.lower() for m in _MENTION.findall(_strip_code(body))}
    if not names:
        return []
    handles = group_handles(group)
    return [handles[name] for name in sorted(names) if name in handles]


def mention_links(group: Group, body: str) -> dict[str, str]:
    """@handle → the mentioned member's row in the group's member list, for the handles of
    members that the text mentions (no query for a text without an @)."""
    return {handle_for(user.name): f"/g/{group.slug}/members#member-{user.id}"
            for user in mentioned_users(group, body)}


def mentioned_user_ids(group: Group, body: str) -> list[int]:
    """`mentioned_users` as ids, reading only the members' ids and names (no user objects):
    what sending a chat message needs."""
    names = {m.lower() for m in _MENTION.findall(_strip_code(body))}
    if not names:
        return []
    handles = {handle_for(name): user_id for user_id, name in db.session.execute(
        db.select(User.id, User.name).join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == group.id, User.active.is_(True)))}
    return [handles[name] for name in sorted(names) if name in handles]


def _strip_code(body: str) -> str:
    return re.sub(r"```.*?```|`[^`]*`", " ", body, flags=re.DOTALL)


def mention_suggestions(actor, group: Group, prefix: str, limit: int = 8) -> list[dict]:
    """Members whose @handle or name starts with the typed text (for autocomplete)."""
    if not can_view_group(actor, group):
        raise NotFound()
    typed = fold(prefix.strip().lstrip("@"))
    found = []
    for handle, user in sorted(group_handles(group).items()):
        words = [handle, *fold(user.name).split()]
        if not typed or any(word.startswith(typed) for word in words):
            found.append({"handle": handle, "name": user.name,
                          "organisation": user.organisation.name if user.organisation else ""})
        if len(found) == limit:
            break
    return found
