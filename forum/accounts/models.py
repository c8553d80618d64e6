from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_babel import gettext
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.timeutil import UTCDateTime, utcnow


class OrganisationKind(StrEnum):
    RURAL_COMMUNE = "rural_commune"
    URBAN_RURAL_COMMUNE = "urban_rural_commune"
    CITY = "city"
    COUNTY = "county"
    SCHOOL = "school"
    PARTNER = "partner"


def new_alternative_id() -> str:
    return secrets.token_urlsafe(24)


class Organisation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Organisation {self.name!r}>"


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased: the unique index makes e-mail unique case-insensitively.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256), default="")
    # The column "name"; read and write it as `name` (below), which shows an erased account
    # as "former member" in the reader's language wherever a name is shown.
    stored_name: Mapped[str] = mapped_column("name", String(120))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[str] = mapped_column(String(120), default="")
    locale: Mapped[str] = mapped_column(String(8), default="")  # "" = follow the browser
    time_zone: Mapped[str] = mapped_column(String(64), default="")  # "" = site default
    active: Mapped[bool] = mapped_column(default=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    # What Flask-Login keeps in the session and remember cookie. Rotating it ends every
    # session of the user (logout everywhere, password change, deactivation).
    alternative_id: Mapped[str] = mapped_column(
        String(64), unique=True, default=new_alternative_id
    )
    # Rotating it changes the private calendar-feed address (see workshops.calendar).
    calendar_salt: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(8))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # E-mail about notifications: every | daily | weekly | none (see forum.notifications).
    email_notifications: Mapped[str] = mapped_column(String(16), default="every")
    # The "since the last session" digest of each group (flask forum send-digests).
    email_digest: Mapped[bool] = mapped_column(default=True)
    last_notification_email_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Data rights (forum.privacy.erasure): the person asked to delete the account; an
    # administrator erased it (name and e-mail replaced, shown as "Former member").
    erasure_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")

    @hybrid_property
    def name(self) -> str:
        if self.anonymised_at is not None:  # erased (forum.privacy.erasure): nothing stored
            return gettext("former member")
        return self.stored_name

    @name.inplace.setter
    def _name_setter(self, value: str) -> None:
        self.stored_name = value

    @name.inplace.expression
    @classmethod
    def _name_expression(cls):
        return cls.stored_name

    def get_id(self) -> str:
        return self.alternative_id

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.email!r}>"
