"""The session form's day times and the group's registration cap (issue 17)."""

from datetime import time

import pytest

from forum.errors import InvalidInput
from forum.extensions import db
from forum.workshops import services as workshops
from forum.workshops.models import Workshop
from tests import factories


def test_day_times_both_or_neither_and_end_after_start(people):
    session = factories.make_workshop(people["moderator"], people["g1"], days_from_today=5)
    base = dict(number=1, theme="Sesja", day1=session.day1)
    with pytest.raises(InvalidInput) as error:
        workshops.update_workshop(people["moderator"], session, workshops.WorkshopInput(
            **base, times=(time(9), None, None, None)))
    assert "day1_ends" in error.value.errors
    db.session.rollback()
    with pytest.raises(InvalidInput) as error:
        workshops.update_workshop(people["moderator"], session, workshops.WorkshopInput(
            **base, times=(time(9), time(17), time(12), time(11))))
    assert "day2_ends" in error.value.errors
    db.session.rollback()
    workshops.update_workshop(people["moderator"], session, workshops.WorkshopInput(
        **base, times=(time(9), time(17), None, None)))
    session = db.session.get(Workshop, session.id)
    assert (session.day1_starts, session.day1_ends, session.day2_starts) == (
        time(9), time(17), None)
    # Callers that do not speak of times leave them as they are.
    workshops.update_workshop(people["moderator"], session, workshops.WorkshopInput(**base))
    assert db.session.get(Workshop, session.id).day1_ends == time(17)


def test_session_form_times_keep_input_and_show_on_the_page(app, personas, login_as):
    with app.app_context():
        people = factories.people_of(personas)
        day1 = factories.make_workshop(people["moderator"], people["g1"],
                                       days_from_today=5).day1.isoformat()
    moderator = login_as(personas.moderator)
    edit = f"/g/{personas.g1.slug}/sessions/1/edit"
    data = {"number": "1", "theme": "Sesja", "day1": day1, "host_organisation_id": "0"}
    refused = moderator.post(edit, data={**data, "day1_starts": "09:00"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Enter both the start and the end time of the day, or neither." in page
    assert 'value="09:00"' in page
    refused = moderator.post(edit, data={**data, "day1_starts": "09:00", "day1_ends": "08:00"})
    assert "The day must end after it starts." in refused.get_data(as_text=True)
    assert moderator.post(edit, data={**data, "day1_starts": "09:00", "day1_ends": "16:30",
                                      "day2_starts": "09:30", "day2_ends": "13:00"}
                          ).status_code == 302
    detail = moderator.get(f"/g/{personas.g1.slug}/sessions/1").get_data(as_text=True)
    assert "09:00–16:30" in detail and "09:30–13:00" in detail
    assert 'value="16:30"' in moderator.get(edit).get_data(as_text=True)


def test_the_administrator_sets_the_registration_cap(app, personas, login_as):
    admin = login_as(personas.admin)
    url = f"/admin/groups/{personas.g1.id}"
    base = {"name": "Gminy", "slug": personas.g1.slug, "description": "", "kind": "rural",
            "time_zone": "Europe/Warsaw", "erased_posts": "anonymise"}
    assert 'name="registration_cap"' in admin.get(url).get_data(as_text=True)
    refused = admin.post(url, data={**base, "registration_cap": "0"})
    assert "Enter a number from 1 to 1000." in refused.get_data(as_text=True)
    assert 'value="0"' in refused.get_data(as_text=True)
    assert admin.post(url, data={**base, "registration_cap": "3"}).status_code == 302
    with app.app_context():
        assert factories.group(personas.g1.id).registration_cap == 3
    assert admin.post(url, data={**base, "registration_cap": ""}).status_code == 302
    with app.app_context():
        assert factories.group(personas.g1.id).registration_cap is None
