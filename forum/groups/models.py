from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import User
from forum.extensions import db
from forum.timeutil import UTCDateTime, utcnow


class Role(StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    OBSERVER = "observer"


class GroupKind(StrEnum):
    RURAL = "rural"  # rural and urban-rural communes
    CITIES = "cities"
    COUNTIES = "counties"
    SCHOOLS = "schools"
    OTHER = "other"


class Group(db.Model):
    __tablename__ = "exchange_group"  # "group" is an SQL keyword

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(32), default=GroupKind.OTHER)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Warsaw")
    # Whether members (not only moderators) may upload materials.
    members_can_upload: Mapped[bool] = mapped_column(default=True)
    # What happens to the posts and chat messages of an erased person:
    # "anonymise" keeps them under "Former member", "remove" deletes their text.
    erased_posts: Mapped[str] = mapped_column(
        String(16), default="anonymise", server_default="anonymise"
    )
    # For how many minutes after sending authors may edit or delete their own chat messages
    # (0: not at all).
    chat_edit_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    # At most this many people of one organisation may register for a session (None: no cap).
    registration_cap: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Group {self.slug!r}>"


class Membership(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_group.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    group: Mapped[Group] = relationship()


class Invitation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a hash of the token is stored: a copy of the database does not open invitations.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_group.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[Group] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at
