"""Who is in a group's chat now: each person once, however many tabs, across all workers.

A connection (Socket.IO sid) that joined a group counts its person as present. With Redis
(FORUM_REDIS_URL) every worker writes its connections to shared keys that expire unless the
worker refreshes them, so a crashed worker's connections disappear by themselves; without
Redis one process keeps them in memory. Nothing here touches the database: presence is
updated from disconnect handlers, which may run inside another request's commit hook.

The store also knows the connections of each person (across workers with Redis), so that
signing out or a removal from a group can disconnect all of them.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

TTL_SECONDS = 90  # a Redis entry lives this long unless its worker refreshes it
REFRESH_SECONDS = 30
CHECK_SECONDS = 2  # how often a worker checks that Redis still has its entries


@dataclass
class _Local:
    """This worker's connections: sid → person (and their alternative id at connect time)
    and the groups the sid joined."""

    user_id: int
    alternative_id: str = ""
    groups: set[int] = field(default_factory=set)
    person: dict | None = None  # name and organisation, as shown in the presence list


class _LocalConnections:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_sid: dict[str, _Local] = {}

    def connect(self, user_id: int, sid: str, alternative_id: str) -> None:
        with self.lock:
            self.by_sid[sid] = _Local(user_id, alternative_id)

    def who(self, sid: str) -> tuple[int, str] | None:
        with self.lock:
            local = self.by_sid.get(sid)
            return (local.user_id, local.alternative_id) if local else None

    def joined(self, sid: str, group_id: int, person: dict | None = None) -> None:
        with self.lock:
            if sid in self.by_sid:
                self.by_sid[sid].groups.add(group_id)
                if person is not None:
                    self.by_sid[sid].person = person

    def left(self, sid: str, group_id: int) -> None:
        with self.lock:
            if sid in self.by_sid:
                self.by_sid[sid].groups.discard(group_id)

    def groups_of(self, sid: str) -> set[int]:
        with self.lock:
            local = self.by_sid.get(sid)
            return set(local.groups) if local else set()

    def has_joined(self, sid: str, group_id: int) -> bool:
        with self.lock:
            local = self.by_sid.get(sid)
            return bool(local and group_id in local.groups)

    def forget(self, sid: str) -> _Local | None:
        with self.lock:
            return self.by_sid.pop(sid, None)

    def snapshot(self) -> list[tuple[str, _Local]]:
        with self.lock:
            return [(sid, _Local(local.user_id, local.alternative_id, set(local.groups),
                                 local.person))
                    for sid, local in self.by_sid.items()]


class MemoryPresence:
    """One process: everything in dictionaries."""

    def __init__(self) -> None:
        self.local = _LocalConnections()
        self._lock = threading.Lock()
        self._groups: dict[int, dict[int, set[str]]] = {}  # group → person → sids
        self._people: dict[int, dict] = {}
        self._sids: dict[int, set[str]] = {}  # person → every connected sid

    def connect(self, user_id: int, sid: str, alternative_id: str = "") -> None:
        self.local.connect(user_id, sid, alternative_id)
        with self._lock:
            self._sids.setdefault(user_id, set()).add(sid)

    def sids_of(self, user_id: int) -> set[str]:
        with self._lock:
            return set(self._sids.get(user_id, ()))

    def join(self, group_id: int, person: dict, sid: str) -> bool:
        """Add the connection; True when the person was not present before."""
        self.local.joined(sid, group_id)
        with self._lock:
            people = self._groups.setdefault(group_id, {})
            new = person["id"] not in people
            people.setdefault(person["id"], set()).add(sid)
            self._people[person["id"]] = person
            return new

    def leave(self, group_id: int, user_id: int, sid: str) -> bool:
        """Remove the connection; True when it was the person's last one in the group."""
        self.local.left(sid, group_id)
        return self._leave_quietly(group_id, user_id, sid)

    def disconnect(self, sid: str) -> tuple[int | None, list[int]]:
        """Forget the connection; returns its person and the groups they are no longer in."""
        local = self.local.forget(sid)
        if local is None:
            return None, []
        gone = [g for g in sorted(local.groups) if self._leave_quietly(g, local.user_id, sid)]
        with self._lock:
            sids = self._sids.get(local.user_id)
            if sids is not None:
                sids.discard(sid)
                if not sids:
                    del self._sids[local.user_id]
        return local.user_id, gone

    def _leave_quietly(self, group_id: int, user_id: int, sid: str) -> bool:
        with self._lock:
            people = self._groups.get(group_id, {})
            sids = people.get(user_id)
            if not sids or sid not in sids:
                return False
            sids.discard(sid)
            if sids:
                return False
            del people[user_id]
            return True

    def present(self, group_id: int) -> list[dict]:
        with self._lock:
            ids = list(self._groups.get(group_id, {}))
            people = [self._people[i] for i in ids if i in self._people]
        return sorted(people, key=lambda p: (p["name"].lower(), p["id"]))

    def refresh(self) -> None:
        pass

    def needs_refresh(self) -> bool:
        return False

    def lost_data(self) -> bool:
        return False


class RedisPresence:
    """Several workers: sorted sets in Redis whose entries expire unless refreshed."""

    def __init__(self, url: str, prefix: str) -> None:
        """prefix: the start of every key, `<FORUM_REDIS_PREFIX>:chat` (forum.redis_names)."""
        import redis

        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self.local = _LocalConnections()
        # This worker's mark in Redis, written by every refresh: when it is missing, Redis
        # lost its data (a restart without persistence, a flush) and the worker writes all of
        # its connections again (issue 18, finding 2).
        self._alive_key = f"{prefix}:alive:{secrets.token_hex(8)}"

    def _group_key(self, group_id: int) -> str:
        return f"{self.prefix}:presence:{group_id}"

    def _sids_key(self, user_id: int) -> str:
        return f"{self.prefix}:sids:{user_id}"

    def _people_key(self) -> str:
        return f"{self.prefix}:people"

    def _unreachable(self, what: str, error: Exception) -> None:
        """Redis cannot be reached: the chat goes on within this process (issue 18, finding
        5); the refresher writes this worker's sockets again once Redis answers."""
        log.warning("chat presence: Redis unreachable while %s (%s); this process only",
                    what, error)

    def connect(self, user_id: int, sid: str, alternative_id: str = "") -> None:
        self.local.connect(user_id, sid, alternative_id)
        key = self._sids_key(user_id)
        try:
            with self.redis.pipeline() as pipe:
                pipe.sadd(key, sid)
                pipe.expire(key, 86400)
                pipe.execute()
        except Exception as error:
            self._unreachable("connecting", error)

    def sids_of(self, user_id: int) -> set[str]:
        local = {sid for sid, entry in self.local.snapshot() if entry.user_id == user_id}
        try:
            return set(self.redis.smembers(self._sids_key(user_id))) | local
        except Exception as error:
            self._unreachable("listing a person's sockets", error)
            return local

    def _people_in(self, group_id: int) -> set[int]:
        key = self._group_key(group_id)
        with self.redis.pipeline() as pipe:
            pipe.zremrangebyscore(key, "-inf", time.time())
            pipe.zrange(key, 0, -1)
            _, members = pipe.execute()
        return {int(member.split(":", 1)[0]) for member in members}

    def _local_people(self, group_id: int) -> dict[int, dict]:
        return {entry.user_id: entry.person for _, entry in self.local.snapshot()
                if group_id in entry.groups and entry.person is not None}

    def join(self, group_id: int, person: dict, sid: str) -> bool:
        self.local.joined(sid, group_id, person)
        try:
            before = self._people_in(group_id)
            with self.redis.pipeline() as pipe:
                pipe.hset(self._people_key(), str(person["id"]), json.dumps(person))
                pipe.zadd(self._group_key(group_id), {f"{person['id']}:{sid}": time.time()
                                                      + TTL_SECONDS})
                pipe.execute()
        except Exception as error:
            self._unreachable("joining", error)
            return False
        return person["id"] not in before

    def leave(self, group_id: int, user_id: int, sid: str) -> bool:
        self.local.left(sid, group_id)
        return self._leave_quietly(group_id, user_id, sid)

    def _leave_quietly(self, group_id: int, user_id: int, sid: str) -> bool:
        try:
            removed = self.redis.zrem(self._group_key(group_id), f"{user_id}:{sid}")
            return bool(removed) and user_id not in self._people_in(group_id)
        except Exception as error:
            self._unreachable("leaving", error)
            return False

    def disconnect(self, sid: str) -> tuple[int | None, list[int]]:
        local = self.local.forget(sid)
        if local is None:
            return None, []
        gone = [g for g in sorted(local.groups) if self._leave_quietly(g, local.user_id, sid)]
        try:
            self.redis.srem(self._sids_key(local.user_id), sid)
        except Exception as error:
            self._unreachable("disconnecting", error)
        return local.user_id, gone

    def present(self, group_id: int) -> list[dict]:
        try:
            ids = sorted(self._people_in(group_id))
            rows = self.redis.hmget(self._people_key(), [str(i) for i in ids]) if ids else []
            people = [json.loads(row) for row in rows if row]
        except Exception as error:
            self._unreachable("listing who is present", error)
            people = list(self._local_people(group_id).values())
        return sorted(people, key=lambda p: (p["name"].lower(), p["id"]))

    def forget(self, user_id: int) -> None:
        """Drop the person's entry (name, organisation): their account was erased."""
        self.redis.hdel(self._people_key(), str(user_id))

    def needs_refresh(self) -> bool:
        return True

    def lost_data(self) -> bool:
        """True when this worker's mark is gone from Redis: its entries must be written again."""
        return not self.redis.exists(self._alive_key)

    def refresh(self) -> None:
        """Write this worker's connections again and extend them (called every
        REFRESH_SECONDS, and at once when `lost_data()`): the groups each socket joined, the
        person's socket list that sign-out and removals use to cut sockets off, and the
        person's entry of the presence list. Writing (not only extending) rebuilds all of it
        after Redis lost its data."""
        expires = time.time() + TTL_SECONDS
        snapshot = self.local.snapshot()
        with self.redis.pipeline() as pipe:
            for sid, local in snapshot:
                sids_key = self._sids_key(local.user_id)
                pipe.sadd(sids_key, sid)
                pipe.expire(sids_key, 86400)
                if local.person is not None:
                    pipe.hsetnx(self._people_key(), str(local.user_id), json.dumps(local.person))
                for group_id in local.groups:
                    pipe.zadd(self._group_key(group_id), {f"{local.user_id}:{sid}": expires})
            pipe.set(self._alive_key, "1", ex=TTL_SECONDS)
            pipe.execute()
        # A socket that went away while the pipeline was built must not stay written.
        for sid, local in snapshot:
            if self.local.who(sid) is None:
                with self.redis.pipeline() as pipe:
                    pipe.srem(self._sids_key(local.user_id), sid)
                    for group_id in local.groups:
                        pipe.zrem(self._group_key(group_id), f"{local.user_id}:{sid}")
                    pipe.execute()


def make_presence(redis_url: str | None, prefix: str):
    return RedisPresence(redis_url, prefix) if redis_url else MemoryPresence()
