"""Who came and who went, announced to a group's chat in short batches.

One `presence_changed` event per arrival, to everyone in the room, costs the room's size in
deliveries for every arrival: a workshop of 500 opening the chat together meant about 125,000
events. Instead each process notes which people's presence changed in which group and, once
per window (`FORUM_CHAT_PRESENCE_SECONDS`, 1 s by default), sends each group one event that
lists all of them.

A batch says where each of its people stands when it is sent, read from the presence store
(shared through Redis across processes): present → in `joined`, absent → in `left`, never in
both. So a person who leaves and comes back within a window is announced as present, one
who comes and goes as absent (harmless for those who never saw them, right for anyone who
joined in between and got them in the full list). Whatever a batch misses because it changed
while the batch was being read is in the next one, so every client ends at the store's state.

The person who joins is not kept waiting: the `join` acknowledgement carries the full list
at once. With the window set to 0 every change is announced at once, one event each (the
test-suite's setting).
"""

from __future__ import annotations

import logging
import threading

from forum.chat.rooms import NAMESPACE, group_room

log = logging.getLogger(__name__)

_EXTENSION = "forum_chat_presence"
# Set when the process is shutting down (deploy/gunicorn.conf.py closes every connection):
# from then on each change is announced at once, as with a window of 0. A batch task sleeping
# through the shutdown delayed the close of the other connections, and people on other
# processes must still learn at once who went.
_AT_ONCE = threading.Event()


def announce_at_once() -> None:
    """Every later change of any batcher in this process is announced at once."""
    _AT_ONCE.set()


class PresenceBatcher:
    """Per process and app: the groups whose presence changed since the last batch."""

    def __init__(self, server, presence, group_slugs: dict[int, str], window: float) -> None:
        self.server = server  # the app's python-socketio server
        self.presence = presence  # realtime.presence.MemoryPresence | RedisPresence
        self.group_slugs = group_slugs
        self.window = window
        self._lock = threading.Lock()
        self._pending: dict[int, set[int]] = {}  # group id → ids of people who came or went
        self._scheduled = False

    def joined(self, group_id: int, person: dict) -> None:
        if self.window <= 0 or _AT_ONCE.is_set():
            self._emit(group_id, [person], [])
        else:
            self._note(group_id, person["id"])

    def left(self, group_id: int, user_id: int) -> None:
        if self.window <= 0 or _AT_ONCE.is_set():
            self._emit(group_id, [], [user_id])
        else:
            self._note(group_id, user_id)

    def _note(self, group_id: int, user_id: int) -> None:
        with self._lock:
            self._pending.setdefault(group_id, set()).add(user_id)
            if self._scheduled:
                return
            self._scheduled = True
        self.server.start_background_task(self._flush_later)

    def _flush_later(self) -> None:
        self.server.sleep(self.window)
        try:
            self.flush()
        except Exception:  # Redis away for a moment: these changes are lost, later ones not
            log.exception("announcing chat presence failed")

    def flush(self) -> None:
        """Send every group with changes one event (the background task calls this)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._scheduled = False
        for group_id, user_ids in sorted(pending.items()):
            here = self.presence.present(group_id)  # sorted by name
            here_ids = {person["id"] for person in here}
            self._emit(group_id, [p for p in here if p["id"] in user_ids],
                       sorted(user_ids - here_ids))

    def _emit(self, group_id: int, joined: list[dict], left: list[int]) -> None:
        self.server.emit("presence_changed", {
            "group": self.group_slugs.get(group_id), "joined": joined, "left": left,
        }, to=group_room(group_id), namespace=NAMESPACE)


def batcher(app, state) -> PresenceBatcher:
    """This app's batcher (made at its first use). state: forum.realtime.server.state(app)."""
    found = app.extensions.get(_EXTENSION)
    if found is None:
        found = app.extensions.setdefault(_EXTENSION, PresenceBatcher(
            state.server, state.presence, state.group_slugs,
            app.config.get("FORUM_CHAT_PRESENCE_SECONDS", 0)))
    return found
