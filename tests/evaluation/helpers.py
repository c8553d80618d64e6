"""Test data for the evaluation: a session whose evaluation is open and people who attended."""

from __future__ import annotations

from forum.attendance.models import CheckIn
from forum.extensions import db
from forum.groups.models import Role
from tests import factories


def check_in(workshop, user, day: int = 1) -> None:
    db.session.add(CheckIn(workshop_id=workshop.id, user_id=user.id, day=day,
                           organisation_id=user.organisation_id))
    db.session.commit()


def attendees(group, workshop, count: int, prefix: str = "Uczestnik") -> list:
    """`count` new members of `group`, each checked in at `workshop` on day 1."""
    people = []
    for n in range(count):
        user = factories.make_user(name=f"{prefix} {n + 1}")
        factories.add_member(user, group, Role.MEMBER)
        check_in(workshop, user)
        people.append(user)
    return people


def open_session(moderator, group, number: int = 1, *, days_from_today: int = -1, **fields):
    """A session whose day 2 is today (days_from_today=-1): its evaluation is open."""
    return factories.make_workshop(moderator, group, number, days_from_today=days_from_today,
                                   **fields)
