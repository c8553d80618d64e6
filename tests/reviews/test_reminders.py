from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from forum.extensions import db
from forum.mailings.batcher import run_batcher
from forum.notifications import inbox
from forum.notifications.models import Notification
from forum.notifications.outbox import deliver_all
from forum.reviews import services
from forum.workshops.services import group_today
from tests.notifications.conftest import parts
from tests.reviews.helpers import open_review, second_organisation


def _noon(group, day):
    return datetime.combine(day, time(12), ZoneInfo(group.time_zone)).astimezone(
        ZoneInfo("UTC"))


def _reminded(review_id) -> set[int]:
    return set(db.session.scalars(db.select(Notification.user_id).where(
        Notification.kind == services.REMINDER_KIND, Notification.text == str(review_id))))


def test_automatic_reminders_three_days_before_and_on_the_last_day_once_each(people, group):
    organisation, other = second_organisation(group)
    review = open_review(people, group, days=5)
    db.session.execute(db.delete(Notification))
    db.session.commit()
    today = group_today(group)
    assert services.send_due_reminders(_noon(group, today)) == 0  # 5 days before
    services.save_answer(other, group, review, [services.OpinionInput(
        review.sections[0].id, "agree")], revision=0, submit=True)
    three_before = _noon(group, today + timedelta(days=2))
    assert services.send_due_reminders(three_before) == 2  # member and moderator of Lublin
    assert services.send_due_reminders(three_before) == 0  # once
    assert _reminded(review.id) == {people["member"].id, people["moderator"].id}
    db.session.execute(db.delete(Notification))
    db.session.commit()
    assert services.send_due_reminders(_noon(group, review.deadline)) == 2
    assert services.send_due_reminders(_noon(group, review.deadline)) == 0


def test_a_reminder_is_mailed_in_the_persons_language_and_opens_the_review(
        app, people, group, smtp):
    people["member"].locale = "pl"
    db.session.commit()
    review = open_review(people, group)  # opening notifies the member
    run_batcher()
    deliver_all()
    text = parts(smtp.wait_for(1)[0])[0]
    assert "Twoja organizacja jest proszona o opinię o „Program szkoleń”" in text
    notice = db.session.scalar(db.select(Notification).where(
        Notification.user_id == people["member"].id))
    with app.test_request_context():
        assert inbox.target_url(people["member"], notice) == \
            f"/g/{group.slug}/reviews/{review.id}"
        assert inbox.target_url(people["outsider"], notice) is None


def test_an_extended_deadline_gets_its_own_reminders(people, group):
    second_organisation(group)
    review = open_review(people, group, days=3)
    today = group_today(group)
    assert services.send_due_reminders(_noon(group, today)) == 3  # three days before
    services.extend_deadline(people["moderator"], group, review, today + timedelta(days=10))
    db.session.execute(db.delete(Notification))
    db.session.commit()
    assert services.send_due_reminders(_noon(group, today + timedelta(days=2))) == 0
    assert services.send_due_reminders(_noon(group, today + timedelta(days=7))) == 3
    assert services.send_due_reminders(_noon(group, today + timedelta(days=10))) == 3
