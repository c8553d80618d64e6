"""forum.certificates.services: who gets a certificate, from when, its number, its content."""

import io
import threading
import zipfile
from datetime import time, timedelta

import pytest
from babel.dates import format_date

from forum.attendance.models import Certificate
from forum.certificates import services
from forum.errors import NotFound, PermissionDenied
from forum.extensions import db
from forum.timeutil import utcnow
from tests import factories
from tests.certificates.helpers import NAME, ORGANISATION, PLACE, THEME, make_world, pdf_text


@pytest.fixture
def world(people):
    return make_world(people)


def _count() -> int:
    return db.session.scalar(db.select(db.func.count(Certificate.id)))


def test_only_the_days_checked_in_count_with_their_hours(people, world):
    lucja = services.own_certificate(world.lucja, world.group, world.workshop)
    assert (lucja.days, lucja.hours) == ([1], 8.0)
    member = services.own_certificate(people["member"], world.group, world.workshop)
    assert (member.days, member.hours) == ([1, 2], 12.5)


def test_the_number_is_issued_once_and_unique(people, world):
    first = services.own_certificate(world.lucja, world.group, world.workshop).certificate
    again = services.own_certificate(world.lucja, world.group, world.workshop).certificate
    other = services.own_certificate(people["member"], world.group, world.workshop).certificate
    assert first.id == again.id and first.serial == again.serial
    assert first.serial != other.serial and first.issued_at is not None
    assert _count() == 2


def test_a_second_first_issue_at_the_same_moment_keeps_the_first_row(world, monkeypatch):
    """The second of two first downloads did not see the first one's row: its insert fails on
    the unique pair and it returns the row the first one committed."""
    first = services.issue(world.workshop, world.lucja_id)
    real = services._existing
    calls = []

    def not_seen_yet(workshop_id, user_id):
        calls.append(1)
        return None if len(calls) == 1 else real(workshop_id, user_id)

    monkeypatch.setattr(services, "_existing", not_seen_yet)
    second = services.issue(world.workshop, world.lucja_id)
    assert second.id == first.id and second.serial == first.serial
    assert _count() == 1


def test_two_simultaneous_first_downloads_give_one_row(app, world):
    barrier = threading.Barrier(2)
    serials, errors = [], []

    def download():
        try:
            with app.app_context():
                from forum.workshops.models import Workshop

                workshop = db.session.get(Workshop, world.workshop_id)
                barrier.wait(timeout=10)
                serials.append(services.issue(workshop, world.lucja_id).serial)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert len(serials) == 2 and serials[0] == serials[1]
    db.session.expire_all()
    assert _count() == 1


def test_members_who_did_not_attend_and_outsiders_get_nothing(people, world):
    for key in ("moderator", "observer", "admin", "outsider"):
        with pytest.raises(NotFound):
            services.own_certificate(people[key], world.group, world.workshop)
    assert _count() == 0


def test_not_before_the_last_attended_day_is_over(people):
    world = make_world(people, days_from_today=0)
    # Łucja came on day 1 only: hers is due at day 1's end; the member's at day 2's end.
    lucja_due = services.available_at(world.workshop, [1])
    member_due = services.available_at(world.workshop, [1, 2])
    assert member_due - lucja_due == timedelta(days=1, hours=-3, minutes=-30)
    with pytest.raises(services.NotYetAvailable) as refused:
        services.own_certificate(world.lucja, world.group, world.workshop,
                                 now=lucja_due - timedelta(minutes=1))
    assert refused.value.available_at == lucja_due
    assert services.own_certificate(world.lucja, world.group, world.workshop,
                                    now=lucja_due).days == [1]
    with pytest.raises(services.NotYetAvailable):
        services.own_certificate(people["member"], world.group, world.workshop, now=lucja_due)
    assert _count() == 1


def test_readiness_for_links_on_other_pages(people):
    world = make_world(people, days_from_today=0)
    assert services.readiness(world.lucja, world.workshop) == services.available_at(
        world.workshop, [1])
    assert services.readiness(people["moderator"], world.workshop) is None
    world.workshop.cancelled_at = utcnow()
    db.session.commit()
    assert services.readiness(world.lucja, world.workshop) is None


def test_without_end_times_the_day_is_over_at_midnight_in_the_group(people):
    world = make_world(people, days_from_today=0)
    world.workshop.day1_ends = None
    db.session.commit()
    due = services.available_at(world.workshop, [1])
    local = due.astimezone(services.ZoneInfo(world.group.time_zone))
    assert (local.date(), local.time()) == (world.day1 + timedelta(days=1), time())


def test_the_pdf_says_who_what_when_where_in_the_persons_language(world):
    data = services.own_certificate(world.lucja, world.group, world.workshop)
    text = pdf_text(services.pdf_in_language_of(data))
    for expected in (NAME, ORGANISATION, world.group.name, f"Sesja 1: {THEME}", PLACE,
                     "Zaświadczenie o uczestnictwie", format_date(world.day1, "long", "pl"),
                     data.certificate.serial, "Liczba godzin", "8"):
        assert expected in text, expected
    assert format_date(world.day2, "long", "pl") not in text  # she was not there on day 2


def test_a_missing_font_is_named(app, world):
    app.config["FORUM_CERTIFICATE_FONT_DIR"] = "/nonexistent/fonts"
    data = services.own_certificate(world.lucja, world.group, world.workshop)
    with pytest.raises(services.FontMissing, match="FORUM_CERTIFICATE_FONT_DIR") as missing:
        services.pdf_in_language_of(data)
    assert "/nonexistent/fonts/DejaVuSans.ttf" in str(missing.value)


def test_the_zip_holds_one_readable_pdf_per_attendee_and_issues_them(people, world):
    twin = factories.make_user(name=NAME, email="lucja2@example.org")
    factories.add_member(twin, world.group)
    from tests.certificates.helpers import check_in

    check_in(world.workshop, twin, 2)
    out = io.BytesIO()
    count = services.write_session_zip(people["moderator"], world.group, world.workshop, out)
    assert count == 3 and _count() == 3
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert sorted(names) == ["Jan-Kowalski.pdf", "Lucja-Zolc-2.pdf", "Lucja-Zolc.pdf"]
        texts = {name: pdf_text(archive.read(name)) for name in names}
    assert "Jan Kowalski" in texts["Jan-Kowalski.pdf"]
    assert "Session 1: " + THEME in texts["Jan-Kowalski.pdf"]  # in his language (English)
    assert NAME in texts["Lucja-Zolc.pdf"] and NAME in texts["Lucja-Zolc-2.pdf"]


def test_the_zip_holds_those_whose_last_attended_day_is_over(people):
    world = make_world(people, days_from_today=0)
    moderator = people["moderator"]
    lucja_due = services.available_at(world.workshop, [1])
    out = io.BytesIO()
    assert services.write_session_zip(moderator, world.group, world.workshop, out,
                                      now=lucja_due - timedelta(seconds=1)) == 0
    assert _count() == 0
    out = io.BytesIO()
    assert services.write_session_zip(moderator, world.group, world.workshop, out,
                                      now=lucja_due) == 1
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["Lucja-Zolc.pdf"]
    world.workshop.cancelled_at = utcnow()
    db.session.commit()
    with pytest.raises(NotFound):
        services.write_session_zip(moderator, world.group, world.workshop, io.BytesIO())


def test_only_moderators_and_administrators_get_the_zip(people, world):
    with pytest.raises(PermissionDenied):
        services.write_session_zip(people["member"], world.group, world.workshop, io.BytesIO())
    with pytest.raises(NotFound):
        services.write_session_zip(people["outsider"], world.group, world.workshop,
                                   io.BytesIO())
    assert services.write_session_zip(people["admin"], world.group, world.workshop,
                                      io.BytesIO()) == 2


def test_counts_and_a_persons_certificates(people, world):
    other = factories.make_workshop(people["moderator"], world.group, 2, days_from_today=-3)
    assert services.issued_count([world.workshop_id, other.id]) == {world.workshop_id: 0,
                                                                    other.id: 0}
    assert services.certificates_of(world.lucja) == []
    serial = services.own_certificate(world.lucja, world.group,
                                      world.workshop).certificate.serial
    services.own_certificate(people["member"], world.group, world.workshop)
    assert services.issued_count([world.workshop_id, other.id]) == {world.workshop_id: 2,
                                                                    other.id: 0}
    assert services.issued_count([]) == {}
    [mine] = services.certificates_of(world.lucja)
    assert mine["serial"] == serial and mine["session"] == 1 and mine["theme"] == THEME
    assert mine["days"] == [world.day1.isoformat()] and mine["group"] == world.group.name


def test_safe_file_stems():
    assert services.safe_file_stem("Łucja Żółć") == "Lucja-Zolc"
    assert services.safe_file_stem("../../etc/passwd") == "etc-passwd"
    assert services.safe_file_stem("山田", "person-7") == "person-7"
