import threading
from datetime import timedelta

import pytest

from forum.attendance import services
from forum.attendance.models import CheckIn, Registration
from forum.audit.models import AuditEntry
from forum.errors import InvalidInput, PermissionDenied
from forum.extensions import db
from forum.groups.models import Role
from forum.timeutil import utcnow
from tests import factories


def workshop(people, days_from_today=3, **fields):
    return factories.make_workshop(people["moderator"], people["g1"],
                                   days_from_today=days_from_today, **fields)


def colleague(people, email, organisation=None):
    user = factories.make_user(email=email, name=email.split("@")[0].title(),
                               organisation=organisation or people["member"].organisation)
    factories.add_member(user, people["g1"], Role.MEMBER)
    return user


def test_register_change_and_cancel(people):
    session = workshop(people)
    registration = services.register(people["member"], people["g1"], session, day1=True,
                                     day2=False)
    assert (registration.day1, registration.day2) == (True, False)
    services.register(people["member"], people["g1"], session, day1=False, day2=True)
    registration = services.registration_of(people["member"], session)
    assert (registration.day1, registration.day2) == (False, True)
    assert registration.organisation_id == people["member"].organisation_id
    with pytest.raises(InvalidInput):
        services.register(people["member"], people["g1"], session, day1=False, day2=False)
    assert services.cancel_registration(people["member"], people["g1"], session)
    assert services.registration_of(people["member"], session) is None


def test_observer_cannot_register(people):
    session = workshop(people)
    with pytest.raises(PermissionDenied):
        services.register(people["observer"], people["g1"], session, day1=True, day2=True)


def test_closed_for_cancelled_and_past_sessions(people):
    past = workshop(people, days_from_today=-10)
    with pytest.raises(InvalidInput):
        services.register(people["member"], people["g1"], past, day1=True, day2=True)
    cancelled = workshop(people, 2, number=2)
    cancelled.cancelled_at = utcnow()
    db.session.commit()
    with pytest.raises(InvalidInput):
        services.register(people["member"], people["g1"], cancelled, day1=True, day2=True)


def test_cap_per_organisation(people):
    group = people["g1"]
    group.registration_cap = 1
    db.session.commit()
    session = workshop(people)
    services.register(people["member"], group, session, day1=True, day2=True)
    other = colleague(people, "druga@example.org")
    with pytest.raises(InvalidInput) as error:
        services.register(other, group, session, day1=True, day2=True)
    assert "taken" in str(error.value.errors[""])
    # Changing one's own days is not counted twice.
    services.register(people["member"], group, session, day1=True, day2=False)
    # People without an organisation are not capped.
    lone1 = colleague(people, "sam1@example.org")
    lone1.organisation_id = None
    lone2 = colleague(people, "sam2@example.org")
    lone2.organisation_id = None
    db.session.commit()
    services.register(lone1, group, session, day1=True, day2=True)
    services.register(lone2, group, session, day1=True, day2=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 3


def test_cap_holds_under_a_race(app, people):
    group = people["g1"]
    group.registration_cap = 2
    db.session.commit()
    session = workshop(people)
    ids = [colleague(people, f"r{i}@example.org").id for i in range(5)]
    group_id, workshop_id = group.id, session.id
    db.session.remove()
    barrier = threading.Barrier(len(ids))
    outcomes = []

    def attempt(user_id):
        with app.app_context():
            from forum.groups.models import Group
            from forum.workshops.models import Workshop
            user = factories.user(user_id)
            g = db.session.get(Group, group_id)
            w = db.session.get(Workshop, workshop_id)
            barrier.wait()
            try:
                services.register(user, g, w, day1=True, day2=True)
                outcomes.append("ok")
            except InvalidInput:
                outcomes.append("full")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 2
    assert db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 2


def test_code_is_stable_short_and_unambiguous(people):
    session = workshop(people)
    code = services.day_code(session, 1)
    assert len(code) == 6 and set(code) <= set(services.CODE_ALPHABET)
    assert code == services.day_code(session, 1) != services.day_code(session, 2)
    assert not set("01OIL") & set(services.CODE_ALPHABET)


def test_check_in_with_code_only_today_and_once(people):
    group = people["g1"]
    today = workshop(people, 0)
    code = services.day_code(today, 1)
    with pytest.raises(InvalidInput) as error:
        services.check_in_with_code(people["member"], group, today, "ABCDEF")
    assert "not today's code" in str(error.value.errors["code"])
    checkin, new = services.check_in_with_code(people["member"], group, today, code.lower())
    assert new and checkin.day == 1 and checkin.method == "code"
    assert checkin.organisation_id == people["member"].organisation_id
    _again, new = services.check_in_with_code(people["member"], group, today, code)
    assert not new
    assert db.session.scalar(db.select(db.func.count()).select_from(CheckIn)) == 1
    later = workshop(people, 5, number=2)
    with pytest.raises(InvalidInput) as error:
        services.check_in_with_code(people["member"], group, later,
                                    services.day_code(later, 1))
    assert "only on the session's days" in str(error.value.errors["code"])
    with pytest.raises(PermissionDenied):
        services.check_in_with_code(people["observer"], group, today, code)


def test_day_two_in_the_groups_time_zone(people):
    session = workshop(people, -1)  # day 2 is today
    assert services.today_day(session) == 2
    assert services.today_day(session, utcnow() - timedelta(days=1)) == 1


def test_tick_off_only_on_the_day_and_by_moderators(people):
    group = people["g1"]
    session = workshop(people, 0)
    with pytest.raises(PermissionDenied):
        services.tick_off(people["member"], group, session, people["member"].id)
    checkin, new = services.tick_off(people["moderator"], group, session, people["member"].id)
    assert new and checkin.method == "list" and checkin.recorded_by_id == people["moderator"].id
    later = workshop(people, 4, number=2)
    with pytest.raises(InvalidInput):
        services.tick_off(people["moderator"], group, later, people["member"].id)


def test_correction_is_audited(people):
    group = people["g1"]
    session = workshop(people, -10)
    assert services.correct(people["moderator"], group, session, people["member"].id, 2, True)
    checkin = db.session.scalar(db.select(CheckIn))
    assert (checkin.day, checkin.method) == (2, "correction")
    assert not services.correct(people["moderator"], group, session, people["member"].id, 2,
                                True)
    assert services.correct(people["moderator"], group, session, people["member"].id, 2, False)
    entries = list(db.session.scalars(db.select(AuditEntry)
                                      .where(AuditEntry.action == "attendance.correct")
                                      .order_by(AuditEntry.id)))
    assert [(e.details["before"], e.details["after"]) for e in entries] == [
        ("absent", "present"), ("present", "absent")]
    assert db.session.scalar(db.select(db.func.count()).select_from(CheckIn)) == 0
    with pytest.raises(PermissionDenied):
        services.correct(people["member"], group, session, people["member"].id, 1, True)


def test_list_by_organisation(people):
    group = people["g1"]
    session = workshop(people, 0)
    services.register(people["member"], group, session, day1=True, day2=False)
    services.tick_off(people["moderator"], group, session, people["member"].id)
    listing = services.attendance_list(people["moderator"], group, session)
    assert listing.registered == 1 and listing.registered_day == {1: 1, 2: 0}
    assert listing.checked_day == {1: 1, 2: 0}
    assert [b.name for b in listing.blocks] == ["Miasto Lublin"]
    assert 1 in listing.blocks[0].people[0].checked
