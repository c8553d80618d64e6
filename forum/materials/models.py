from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.accounts.models import Organisation, User
from forum.extensions import db
from forum.groups.models import Group
from forum.timeutil import UTCDateTime, utcnow
from forum.workshops.models import Workshop


class MaterialKind(StrEnum):
    TRAINING_FOR_REVIEW = "training_for_review"
    DIAGNOSIS_REPORT = "diagnosis_report"
    GOOD_PRACTICE = "good_practice"
    THEMATIC_ANALYSIS = "thematic_analysis"
    PRESENTATION = "presentation"
    MINUTES = "minutes"
    OTHER = "other"


class Material(db.Model):
    """A file (or, for good practice, a structured write-up) shared with a group."""

    __table_args__ = (
        Index("ix_material_group_updated", "group_id", "updated_at", "id"),
        Index("ix_material_workshop", "workshop_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"))
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshop.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default=MaterialKind.OTHER)
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="pl")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    review_until: Mapped[date | None] = mapped_column(Date)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Title, description, a good practice's write-up and the current file's text, folded and
    # with their word forms (forum.searchtext); set by materials.services, read by search.
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)

    group: Mapped[Group] = relationship()
    workshop: Mapped[Workshop | None] = relationship(lazy="joined")
    uploaded_by: Mapped[User | None] = relationship(lazy="joined")
    versions: Mapped[list[MaterialVersion]] = relationship(
        back_populates="material", order_by="MaterialVersion.number.desc()",
        cascade="all, delete-orphan")
    good_practice: Mapped[GoodPractice | None] = relationship(
        back_populates="material", cascade="all, delete-orphan", lazy="joined")

    @property
    def current_version(self) -> MaterialVersion | None:
        return self.versions[0] if self.versions else None


class MaterialVersion(db.Model):
    """One uploaded file of a material; older versions stay downloadable."""

    __table_args__ = (UniqueConstraint("material_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"))
    number: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    mime: Mapped[str] = mapped_column(String(120))
    type_label: Mapped[str] = mapped_column(String(40))
    original_name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(String(500), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The text of a PDF, ODT or DOCX file, read when it was uploaded (materials.extract).
    text: Mapped[str] = mapped_column(Text, default="", deferred=True)

    material: Mapped[Material] = relationship(back_populates="versions")
    uploaded_by: Mapped[User | None] = relationship(lazy="joined")


class GoodPractice(db.Model):
    """The structured write-up of a good-practice material, rendered as a page."""

    material_id: Mapped[int] = mapped_column(
        ForeignKey("material.id", ondelete="CASCADE"), primary_key=True)
    problem: Mapped[str] = mapped_column(Text, default="")
    problem_html: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    actions_html: Mapped[str] = mapped_column(Text, default="")
    results: Mapped[str] = mapped_column(Text, default="")
    results_html: Mapped[str] = mapped_column(Text, default="")
    costs: Mapped[str] = mapped_column(Text, default="")
    costs_html: Mapped[str] = mapped_column(Text, default="")
    contact_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"))

    material: Mapped[Material] = relationship(back_populates="good_practice")
    contact_organisation: Mapped[Organisation | None] = relationship(lazy="joined")
