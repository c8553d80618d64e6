"""Cut-offs on their way to the serving process.

Removing a member or deactivating an account ends the person's sockets. The web process does
that at once (forum.realtime.server.disconnect_after_commit). A command-line process (`flask
forum remove-member`, `deactivate-user`) has no sockets and, without Redis, no channel to the
process that has them: the cut-off is written here in the same transaction as the change, and
each serving process without a message queue reads the new rows twice a second.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.timeutil import UTCDateTime, utcnow


class SocketCutoff(db.Model):
    __tablename__ = "socket_cutoff"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the row must outlive the erasure of the account it cuts off. Rows live
    # minutes (forum.realtime.server.CUTOFF_KEEP_SECONDS) and hold nothing else about anyone.
    user_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(32))  # the process that wrote it (acts at once)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
