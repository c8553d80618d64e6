"""Work that must happen only after the current transaction commits.

Services call `after_commit(fn)` to queue an e-mail or a Socket.IO event; the callbacks run once
the database commit succeeds and are dropped on rollback, so nothing is announced that did not
happen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_KEY = "forum_after_commit"
_UNDO_KEY = "forum_after_rollback"


def after_commit(callback: Callable[[], None]) -> None:
    from forum.extensions import db

    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any query still drops the callback
    session.info.setdefault(_KEY, []).append(callback)


def after_rollback(callback: Callable[[], None]) -> None:
    """Undo something done outside the database (a file moved into storage) if the current
    transaction rolls back instead of committing; dropped once it commits."""
    from forum.extensions import db

    session = db.session()
    if not session.in_transaction():
        session.begin()
    session.info.setdefault(_UNDO_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_callbacks(session: Session) -> None:
    session.info.pop(_UNDO_KEY, None)
    callbacks = session.info.pop(_KEY, [])
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one failed notification must not hide the others
            log.exception("after-commit callback failed")


@event.listens_for(Session, "after_soft_rollback")
def _drop_callbacks(session: Session, previous_transaction) -> None:
    session.info.pop(_KEY, None)
    for callback in session.info.pop(_UNDO_KEY, []):
        try:
            callback()
        except Exception:
            log.exception("after-rollback callback failed")
