"""A named lock for a command-line run (one digest run at a time), kept in the database so it
holds across machines; it expires so that a crashed run cannot block the next one forever."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.notifications.models import JobLock
from forum.timeutil import utcnow


class LockHeld(Exception):
    def __init__(self, name: str, holder: str, since: datetime, expires_at: datetime):
        super().__init__(name)
        self.name, self.holder, self.since, self.expires_at = name, holder, since, expires_at


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(name: str, ttl: timedelta, holder: str | None = None,
            now: datetime | None = None) -> str:
    """Take the lock (commits) and return the holder string; LockHeld when someone holds it
    and it has not expired. An expired lock is taken over."""
    now = now or utcnow()
    holder = holder or default_holder()
    db.session.rollback()  # start clean: the lock must be its own transaction
    try:
        # A plain INSERT, not session.add: an earlier acquire in this session may still have
        # the row's object in the identity map, and adding a second one warns and fails.
        db.session.execute(db.insert(JobLock).values(
            name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
        db.session.commit()
        return holder
    except IntegrityError:
        db.session.rollback()
    current = db.session.get(JobLock, name, populate_existing=True)
    if current is None:  # released between our insert and our read: try once more
        return acquire(name, ttl, holder, now)
    if current.expires_at > now:
        raise LockHeld(name, current.holder, current.acquired_at, current.expires_at)
    # Expired: take it over, but only if nobody else took it over meanwhile.
    taken = db.session.execute(
        db.update(JobLock)
        .where(JobLock.name == name, JobLock.holder == current.holder,
               JobLock.expires_at == current.expires_at)
        .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if taken != 1:
        fresh = db.session.get(JobLock, name, populate_existing=True)
        raise LockHeld(name, fresh.holder if fresh else "?", fresh.acquired_at if fresh else now,
                       fresh.expires_at if fresh else now)
    return holder


def release(name: str, holder: str) -> None:
    db.session.rollback()
    db.session.execute(db.delete(JobLock).where(JobLock.name == name, JobLock.holder == holder)
                       .execution_options(synchronize_session=False))
    db.session.commit()
