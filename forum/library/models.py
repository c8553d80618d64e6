"""The good-practice library across groups (issue 16): a group's good-practice write-up
(forum.materials.GoodPractice) is tagged, proposed for publication and published by a
moderator; once published every group of the programme reads it (its discussion stays in its
group), writes to its contact person through the forum, and records that it adopted it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import Organisation, User
from forum.extensions import db
from forum.materials.models import Material
from forum.timeutil import UTCDateTime, utcnow


class ListingStatus(StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"  # proposed for publication, waiting for a moderator
    PUBLISHED = "published"


class TagKind(StrEnum):
    THEME = "theme"
    LG_TYPE = "lg_type"  # the type of local government (forum.accounts.OrganisationKind)
    REGION = "region"


class PracticeListing(db.Model):
    """A good practice's place in the library. No row: a draft nobody has proposed."""

    __table_args__ = (Index("ix_practice_listing_status", "status", "published_at"),)

    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"),
                                             primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=ListingStatus.DRAFT)
    contact_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id",
                                                                  ondelete="SET NULL"))
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id",
                                                                   ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A moderator's note when a proposal goes back to draft.
    review_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    material: Mapped[Material] = relationship()
    contact_user: Mapped[User | None] = relationship(foreign_keys=[contact_user_id])
    tags: Mapped[list[PracticeTag]] = relationship(
        order_by="(PracticeTag.kind, PracticeTag.value)", cascade="all, delete-orphan",
        lazy="selectin")


class PracticeTag(db.Model):
    __table_args__ = (UniqueConstraint("material_id", "kind", "value"),
                      Index("ix_practice_tag_value", "kind", "value"))

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(
        ForeignKey("practice_listing.material_id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(80))


class PracticeAdoption(db.Model):
    """"We adopted this": an organisation took the practice up."""

    __table_args__ = (UniqueConstraint("material_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"),
                                             index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id",
                                                                  ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    recorded_by: Mapped[User | None] = relationship()


class PracticeConversation(db.Model):
    """Someone writing to a practice's contact person through the forum (neither sees the
    other's e-mail address)."""

    __table_args__ = (UniqueConstraint("material_id", "requester_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                              index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                            index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    material: Mapped[Material] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    contact: Mapped[User] = relationship(foreign_keys=[contact_id])
    messages: Mapped[list[PracticeMessage]] = relationship(
        order_by="PracticeMessage.id", cascade="all, delete-orphan")


class PracticeMessage(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("practice_conversation.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
