from forum.attendance import services
from forum.attendance.models import CheckIn, Registration
from forum.extensions import db
from tests import factories


def _session(app, personas, days_from_today=0, number=1):
    with app.app_context():
        people = factories.people_of(personas)
        w = factories.make_workshop(people["moderator"], people["g1"], number,
                                    days_from_today=days_from_today)
        return w.number, services.day_code(w, 1) if days_from_today == 0 else None


def url(personas, number, tail="attendance"):
    return f"/g/{personas.g1.slug}/sessions/{number}/{tail}"


def test_non_member_gets_404_everywhere(app, personas, login_as):
    number, _code = _session(app, personas)
    outsider = login_as(personas.outsider)
    for tail in ("attendance", "check-in", "check-in-code"):
        assert outsider.get(url(personas, number, tail)).status_code == 404
    assert outsider.post(url(personas, number), data={"day1": "y"}).status_code == 404


def test_member_registers_changes_and_cancels(app, personas, login_as):
    number, _code = _session(app, personas, 3)
    member = login_as(personas.member)
    page = member.get(url(personas, number))
    assert page.status_code == 200 and "Register" in page.get_data(as_text=True)
    response = member.post(url(personas, number), data={"day2": "y", "action": "register"})
    assert response.status_code == 302
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        assert (registration.day1, registration.day2) == (False, True)
    assert "registered for day 2" in member.get(url(personas, number)).get_data(as_text=True)
    member.post(url(personas, number), data={"action": "cancel"})
    with app.app_context():
        assert db.session.scalar(db.select(Registration)) is None


def test_no_day_keeps_the_form_and_says_why(app, personas, login_as):
    number, _code = _session(app, personas, 3)
    response = login_as(personas.member).post(url(personas, number), data={"action": "register"})
    assert response.status_code == 400
    assert "Choose day 1, day 2 or both." in response.get_data(as_text=True)


def test_full_organisation_is_told(app, personas, login_as):
    number, _code = _session(app, personas, 3)
    with app.app_context():
        factories.group(personas.g1.id).registration_cap = 1
        db.session.commit()
    login_as(personas.moderator).post(url(personas, number),
                                      data={"day1": "y", "action": "register"})
    response = login_as(personas.member).post(url(personas, number),
                                              data={"day1": "y", "action": "register"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "places for this session are taken" in page
    assert 'name="day1" type="checkbox" value="y" checked' in page or "checked" in page


def test_observer_is_refused(app, personas, login_as):
    number, _code = _session(app, personas, 3)
    observer = login_as(personas.observer)
    assert "Observers of the group do not register" in observer.get(
        url(personas, number)).get_data(as_text=True)
    assert observer.post(url(personas, number), data={"day1": "y"}).status_code == 403


def test_moderator_parts_are_refused_to_members(app, personas, login_as):
    number, _code = _session(app, personas)
    member = login_as(personas.member)
    assert member.get(url(personas, number, "check-in-code")).status_code == 403
    assert member.post(url(personas, number, "attendance/list"),
                       data={"user": personas.member.id}).status_code == 403
    assert "Attendance list" not in member.get(url(personas, number)).get_data(as_text=True)


def test_code_journey(app, personas, login_as):
    number, code = _session(app, personas)
    moderator = login_as(personas.moderator)
    shown = moderator.get(url(personas, number, "check-in-code")).get_data(as_text=True)
    assert code in shown and "<svg" in shown
    assert f"/check-in?code={code}" in shown
    member = login_as(personas.member)
    confirm = member.get(url(personas, number, f"check-in?code={code}"))
    assert f'value="{code}"' in confirm.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(CheckIn)) is None  # a GET changes nothing
    wrong = member.post(url(personas, number, "check-in"), data={"code": "AAAAAA"})
    assert wrong.status_code == 400
    assert "not today's code" in wrong.get_data(as_text=True)
    assert 'value="AAAAAA"' in wrong.get_data(as_text=True)
    done = member.post(url(personas, number, "check-in"), data={"code": code},
                       follow_redirects=True)
    assert "You are checked in" in done.get_data(as_text=True)
    assert "You checked in on day 1 at" in done.get_data(as_text=True)
    again = member.post(url(personas, number, "check-in"), data={"code": code},
                        follow_redirects=True)
    assert "You are already checked in" in again.get_data(as_text=True)
    listing = moderator.get(url(personas, number)).get_data(as_text=True)
    assert "Jan Kowalski" in listing and "checked in" in listing


def test_moderator_ticks_off_and_corrects(app, personas, login_as):
    number, _code = _session(app, personas)
    moderator = login_as(personas.moderator)
    response = moderator.post(url(personas, number, "attendance/list"),
                              data={"user": personas.member.id})
    assert response.status_code == 302
    moderator.post(url(personas, number, "attendance/list"),
                   data={"user": personas.member.id, "action": "correct", "day": 2,
                         "present": "1"})
    with app.app_context():
        assert sorted((c.day, c.method) for c in db.session.scalars(db.select(CheckIn))) == [
            (1, "list"), (2, "correction")]


def test_wrong_codes_are_rate_limited(app, personas, login_as):
    number, code = _session(app, personas)
    member = login_as(personas.member)
    for _ in range(10):
        assert member.post(url(personas, number, "check-in"),
                           data={"code": "AAAAAA"}).status_code == 400
    assert member.post(url(personas, number, "check-in"),
                       data={"code": code}).status_code == 429


def test_observer_cannot_check_in(app, personas, login_as):
    number, code = _session(app, personas)
    observer = login_as(personas.observer)
    assert observer.get(url(personas, number, f"check-in?code={code}")).status_code == 403
    assert observer.post(url(personas, number, "check-in"),
                         data={"code": code}).status_code == 403


def test_certificate_links_after_the_days(app, personas, login_as):
    number, _code = _session(app, personas, -5)
    with app.app_context():
        people = factories.people_of(personas)
        workshop = db.session.scalar(db.select(services.Workshop))
        services.correct(people["moderator"], people["g1"], workshop, people["member"].id, 1,
                         True)
    member_page = login_as(personas.member).get(url(personas, number)).get_data(as_text=True)
    assert f'href="/g/{personas.g1.slug}/sessions/{number}/certificate.pdf"' in member_page
    assert "certificates.zip" not in member_page
    assert "Registration is closed" in member_page
    observer_page = login_as(personas.observer).get(url(personas, number)).get_data(
        as_text=True)
    assert "certificate.pdf" not in observer_page
    for persona in (personas.moderator, personas.admin):
        page = login_as(persona).get(url(personas, number)).get_data(as_text=True)
        assert f'href="/g/{personas.g1.slug}/sessions/{number}/certificates.zip"' in page
