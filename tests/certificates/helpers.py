"""A concluded session with two attendees (one of them on day 1 only), for the certificate tests."""

from __future__ import annotations

import io
from datetime import time
from types import SimpleNamespace

from pypdf import PdfReader

from forum.attendance.models import CheckIn, Registration
from forum.extensions import db
from tests import factories

NAME = "Łucja Żółć"
ORGANISATION = "Gmina Zażółć Gęślą"
THEME = "Zarządzanie kryzysowe"
PLACE = "Lublin, Ratusz"


def check_in(workshop, user, *days: int) -> None:
    db.session.add(Registration(workshop_id=workshop.id, user_id=user.id,
                                organisation_id=user.organisation_id))
    for day in days:
        db.session.add(CheckIn(workshop_id=workshop.id, user_id=user.id, day=day,
                               organisation_id=user.organisation_id))
    db.session.commit()


def make_world(people, *, days_from_today: int = -10) -> SimpleNamespace:
    """Session 1 of g1 (over: 10 days ago): Łucja (Polish) came on day 1 (8 hours), the member
    Jan Kowalski (English) on both days (8 + 4.5 hours); the moderator and observer did not."""
    group = people["g1"]
    organisation = factories.make_organisation(name=ORGANISATION)
    lucja = factories.make_user(name=NAME, email="lucja@example.org", locale="pl",
                                organisation=organisation)
    factories.add_member(lucja, group)
    workshop = factories.make_workshop(people["moderator"], group, 1, theme=THEME, place=PLACE,
                                       days_from_today=days_from_today)
    workshop.day1_starts, workshop.day1_ends = time(9), time(17)
    workshop.day2_starts, workshop.day2_ends = time(9), time(13, 30)
    db.session.commit()
    check_in(workshop, lucja, 1)
    check_in(workshop, people["member"], 1, 2)
    return SimpleNamespace(group=group, workshop=workshop, lucja=lucja, slug=group.slug,
                           number=workshop.number, day1=workshop.day1, day2=workshop.day2,
                           workshop_id=workshop.id, lucja_id=lucja.id)


def pdf_text(data: bytes) -> str:
    """The text of the PDF, each run of white space as one space."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())
