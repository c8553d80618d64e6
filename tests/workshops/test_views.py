from datetime import date, timedelta

import icalendar

from forum.workshops import services
from tests import factories


def _create(app, personas, **overrides):
    with app.app_context():
        moderator = factories.user(personas.moderator.id)
        group = factories.group(personas.g1.id)
        values = {"number": 1, "theme": "Edukacja włączająca",
                  "day1": services.group_today(group) + timedelta(days=10),
                  "place": "Lublin, Szkoła Podstawowa nr 24"}
        values.update(overrides)
        return services.create_workshop(moderator, group, services.WorkshopInput(**values)).id


def test_moderator_creates_a_session_through_the_form(personas, login_as):
    moderator = login_as(personas.moderator)
    url = f"/g/{personas.g1.slug}/sessions/new"
    page = moderator.get(url).get_data(as_text=True)
    assert 'value="1"' in page  # the next free number is proposed
    response = moderator.post(url, data={
        "number": "1", "theme": "Zarządzanie usługami edukacyjnymi", "day1": "2027-01-11",
        "day2": "", "host_organisation_id": str(personas.organisation_id), "place": "Lublin",
        "description": "Dzień 1: **wizyta** w szkole.", "agenda_day1": "- 10:00 powitanie",
        "agenda_day2": ""})
    assert response.headers["Location"] == f"/g/{personas.g1.slug}/sessions/1"
    page = moderator.get(response.headers["Location"]).get_data(as_text=True)
    assert "Zarządzanie usługami edukacyjnymi" in page and "<strong>wizyta</strong>" in page
    assert "Miasto Lublin" in page and "Tuesday, January 12, 2027" in page


def test_session_form_errors_keep_what_was_typed(personas, login_as):
    moderator = login_as(personas.moderator)
    page = moderator.post(f"/g/{personas.g1.slug}/sessions/new", data={
        "number": "1", "theme": "Kultura", "day1": "2027-01-11", "day2": "2027-01-09",
        "host_organisation_id": "0", "place": "Zamość", "description": "opis"}).get_data(
        as_text=True)
    assert "Day 2 cannot be before day 1." in page
    assert 'value="Zamość"' in page and 'value="Kultura"' in page
    page = moderator.post(f"/g/{personas.g1.slug}/sessions/new", data={
        "number": "x", "theme": "", "day1": "not a date"}).get_data(as_text=True)
    assert "Not a valid date value." in page or "Enter the date of day 1." in page


def test_members_see_sessions_but_cannot_change_them(app, personas, login_as):
    _create(app, personas)
    member = login_as(personas.member)
    page = member.get(f"/g/{personas.g1.slug}/sessions/1").get_data(as_text=True)
    assert "Edukacja włączająca" in page and "Edit session" not in page
    assert member.get(f"/g/{personas.g1.slug}/sessions/new").status_code == 403
    assert member.get(f"/g/{personas.g1.slug}/sessions/1/edit").status_code == 403
    assert member.post(f"/g/{personas.g1.slug}/sessions/1/cancel",
                       data={"cancelled": "1"}).status_code == 403


def test_outsiders_get_404_for_every_session_url(app, personas, login_as):
    _create(app, personas)
    outsider = login_as(personas.outsider)
    slug = personas.g1.slug
    for url in (f"/g/{slug}/sessions/", f"/g/{slug}/sessions/1", f"/g/{slug}/sessions/new",
                f"/g/{slug}/sessions/1/edit", f"/g/{slug}/sessions.ics"):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/g/{slug}/sessions/1/cancel").status_code == 404


def test_group_page_shows_the_live_session_and_the_next_countdown(app, personas, login_as):
    with app.app_context():
        today = services.group_today(factories.group(personas.g1.id))
    _create(app, personas, number=2, theme="Sesja trwa", day1=today - timedelta(days=1))
    _create(app, personas, number=3, theme="Następna sesja", day1=today + timedelta(days=5))
    page = login_as(personas.member).get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert "Live now" in page and "Sesja trwa" in page
    # While a session is live it takes the highlight; the countdown waits.
    assert "Next session" not in page


def test_next_session_countdown(app, personas, login_as):
    with app.app_context():
        today = services.group_today(factories.group(personas.g1.id))
    _create(app, personas, number=3, theme="Następna sesja", day1=today + timedelta(days=5))
    page = login_as(personas.member).get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert "Next session" in page and "in 5 days" in page


def test_cancel_and_reinstate(app, personas, login_as):
    _create(app, personas)
    moderator = login_as(personas.moderator)
    moderator.post(f"/g/{personas.g1.slug}/sessions/1/cancel", data={"cancelled": "1"})
    assert "cancelled" in moderator.get(f"/g/{personas.g1.slug}/sessions/1").get_data(
        as_text=True)
    moderator.post(f"/g/{personas.g1.slug}/sessions/1/cancel", data={"cancelled": "0"})
    assert "Reinstate session" not in moderator.get(
        f"/g/{personas.g1.slug}/sessions/1").get_data(as_text=True)


def test_calendar_feed_is_a_valid_icalendar_with_stable_uids(app, personas, login_as):
    _create(app, personas, number=1, day1=date(2027, 1, 11))
    _create(app, personas, number=2, theme="Kultura i kreatywność", day1=date(2027, 3, 8))
    member = login_as(personas.member)
    page = member.get(f"/g/{personas.g1.slug}/sessions/").get_data(as_text=True)
    feed_url = page.split('id="group-feed" type="text" readonly value="')[1].split('"')[0]
    path = feed_url.replace("http://forum.test", "").replace("&amp;", "&")

    anonymous = app.test_client()  # a calendar application: no cookies, only the token
    response = anonymous.get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert [e.decoded("dtstart") for e in events] == [date(2027, 1, 11), date(2027, 3, 8)]
    assert events[0].decoded("dtend") == date(2027, 1, 13)  # two all-day days
    assert "Edukacja włączająca" in str(events[0]["summary"])
    first_uid = str(events[0]["uid"])

    moderator = login_as(personas.moderator)
    moderator.post(f"/g/{personas.g1.slug}/sessions/1/edit", data={
        "number": "4", "theme": "Edukacja włączająca (zmiana)", "day1": "2027-01-18",
        "host_organisation_id": "0"})
    moderator.post(f"/g/{personas.g1.slug}/sessions/2/cancel", data={"cancelled": "1"})
    calendar = icalendar.Calendar.from_ical(anonymous.get(path).data)
    by_uid = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert by_uid[first_uid].decoded("dtstart") == date(2027, 1, 18)
    assert int(by_uid[first_uid]["sequence"]) == 1
    assert {str(e["status"]) for e in by_uid.values()} == {"CONFIRMED", "CANCELLED"}


def test_calendar_feeds_refuse_bad_tokens_and_closed_groups(app, personas, login_as):
    _create(app, personas)
    anonymous = app.test_client()
    slug = personas.g1.slug
    assert anonymous.get(f"/g/{slug}/sessions.ics").status_code == 404
    assert anonymous.get(f"/g/{slug}/sessions.ics?token=1.forged").status_code == 404
    with app.app_context():
        outsider_token = services.calendar_token(factories.user(personas.outsider.id))
        member_token = services.calendar_token(factories.user(personas.member.id))
    assert anonymous.get(f"/g/{slug}/sessions.ics?token={outsider_token}").status_code == 404
    everything = anonymous.get(f"/calendar.ics?token={member_token}")
    assert b"Edukacja" in everything.data
    nothing = anonymous.get(f"/calendar.ics?token={outsider_token}")
    assert b"Edukacja" not in nothing.data and nothing.status_code == 200


def test_resetting_the_calendar_address(app, personas, login_as):
    with app.app_context():
        old = services.calendar_token(factories.user(personas.member.id))
    member = login_as(personas.member)
    member.post("/calendar/reset", data={"next": f"/g/{personas.g1.slug}/sessions/"})
    assert app.test_client().get(f"/calendar.ics?token={old}").status_code == 404


def test_calendar_addresses_come_with_a_one_click_subscription(app, personas, login_as):
    """Each private address has a webcal:// link (the calendar application opens with the
    subscription ready) and a copy button that stays hidden without JavaScript."""
    member = login_as(personas.member)
    page = member.get(f"/g/{personas.g1.slug}/sessions/").get_data(as_text=True)
    for field in ("group-feed", "all-feed"):
        address = page.split(f'id="{field}" type="text" readonly value="')[1].split('"')[0]
        assert address.startswith(app.config["FORUM_BASE_URL"] + "/")
        webcal = "webcal://" + address.split("://", 1)[1]
        assert f'href="{webcal}"' in page
        assert f'data-copy="{field}" hidden>' in page
    assert "js/copy.js" in page


def test_a_live_session_comes_first_on_the_group_page_with_the_way_into_the_chat(
        app, personas, login_as):
    with app.app_context():
        today = services.group_today(factories.group(personas.g1.id))
    _create(app, personas, number=2, theme="Sesja trwa", day1=today)
    member = login_as(personas.member)
    page = member.get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    banner = page.split('<section class="live-banner"', 1)[1].split("</section>", 1)[0]
    assert "Sesja trwa" in banner
    assert f'href="/g/{personas.g1.slug}/chat"' in banner and "Join the chat" in banner
    # Above the threads, and said once on the page (the sessions list does not repeat it).
    assert page.index("live-banner") < page.index('id="threads-heading"')
    assert page.count("Live now") == 1
    # The filters are folded away until one is used.
    assert '<details class="list-tools">' in page
    filtered = member.get(f"/g/{personas.g1.slug}/?unread=1").get_data(as_text=True)
    assert '<details class="list-tools" open>' in filtered


def test_no_live_banner_between_sessions(app, personas, login_as):
    with app.app_context():
        today = services.group_today(factories.group(personas.g1.id))
    _create(app, personas, number=3, theme="Następna sesja", day1=today + timedelta(days=5))
    page = login_as(personas.member).get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert "live-banner" not in page and "Join the chat" not in page
