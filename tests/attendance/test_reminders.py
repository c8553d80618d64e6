from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from forum.attendance import services
from forum.extensions import db
from forum.mailings.batcher import run_batcher
from forum.notifications import inbox
from forum.notifications.models import Notification
from forum.notifications.outbox import deliver_all
from forum.workshops.services import group_today
from tests import factories
from tests.notifications.conftest import parts


def _noon(group, day):
    return datetime.combine(day, time(12), ZoneInfo(group.time_zone)).astimezone(
        ZoneInfo("UTC"))


def _reminders():
    return list(db.session.scalars(db.select(Notification).where(
        Notification.kind == services.REMINDER_KIND)))


def test_a_reminder_the_day_before_day_one_once(people, group):
    session = factories.make_workshop(people["moderator"], group, days_from_today=3)
    services.register(people["member"], group, session, day1=False, day2=True)
    services.register(people["moderator"], group, session, day1=True, day2=True)
    today = group_today(group)
    assert services.send_due_reminders(_noon(group, today)) == 0  # three days before
    day_before = _noon(group, today + timedelta(days=2))
    assert services.send_due_reminders(day_before) == 2
    assert services.send_due_reminders(day_before) == 0  # once
    assert services.send_due_reminders(_noon(group, today + timedelta(days=3))) == 0
    assert {n.user_id for n in _reminders()} == {people["member"].id, people["moderator"].id}
    assert {n.text for n in _reminders()} == {str(session.id)}


def test_no_reminder_for_a_cancelled_session(people, group):
    session = factories.make_workshop(people["moderator"], group, days_from_today=1)
    services.register(people["member"], group, session, day1=True, day2=True)
    from forum.workshops import services as workshops
    workshops.set_cancelled(people["moderator"], session, True)
    assert services.send_due_reminders(_noon(group, group_today(group))) == 0


def test_the_reminder_is_mailed_in_the_persons_language_and_opens_the_page(
        app, people, group, smtp):
    people["member"].locale = "pl"
    db.session.commit()
    session = factories.make_workshop(people["moderator"], group, days_from_today=1,
                                      theme="Cyfryzacja", place="Lublin")
    services.register(people["member"], group, session, day1=True, day2=True)
    assert services.send_due_reminders() == 1
    run_batcher()
    deliver_all()
    text = parts(smtp.wait_for(1)[0])[0]
    assert "Sesja 1, „Cyfryzacja”, zaczyna się jutro" in text
    notice = _reminders()[0]
    with app.test_request_context():
        assert inbox.target_url(people["member"], notice) == \
            f"/g/{group.slug}/sessions/1/attendance"
        assert inbox.target_url(people["outsider"], notice) is None


def test_the_inbox_shows_the_reminder(app, people, group, personas, login_as):
    session = factories.make_workshop(people["moderator"], group, days_from_today=1)
    services.register(people["member"], group, session, day1=True, day2=True)
    services.send_due_reminders()
    page = login_as(personas.member).get("/notifications").get_data(as_text=True)
    assert "you registered for starts tomorrow" in page
