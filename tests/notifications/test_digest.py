"""The digest "since session n": content, the web page per persona, the cron command."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from forum.discussions import services as discussions
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.mailings import digest
from forum.materials.models import Material
from forum.notifications.models import DigestDelivery, JobLock, OutboxEmail
from forum.timeutil import utcnow
from forum.workshops.models import Workshop
from forum.workshops.services import group_today
from tests import factories
from tests.conftest import login
from tests.notifications.conftest import link_to, parts


@pytest.fixture
def story(people, group, personas):
    """Session 1 ended 19 days ago, session 2 comes in a month; what happened in between."""
    today = group_today(group)
    ended = Workshop(group_id=group.id, number=1, theme="Edukacja włączająca",
                     day1=today - timedelta(days=20), day2=today - timedelta(days=19))
    upcoming = Workshop(group_id=group.id, number=2, theme="Usługi edukacyjne",
                        day1=today + timedelta(days=30), day2=today + timedelta(days=31),
                        place="Lublin, Ratusz", host_organisation_id=personas.organisation_id)
    db.session.add_all([ended, upcoming])
    db.session.commit()
    member, moderator = people["member"], people["moderator"]
    old = discussions.start_thread(member, group, title="Wątek z sesji", body="Z sesji 1")
    before = digest.workshop_end(group, ended) - timedelta(days=3)
    db.session.execute(db.update(Thread).where(Thread.id == old.id).values(created_at=before))
    db.session.execute(db.update(Post).where(Post.thread_id == old.id)
                       .values(created_at=before))
    db.session.commit()
    busy = discussions.start_thread(moderator, group, title="Dowozy uczniów", body="Pytanie")
    quiet = discussions.start_thread(member, group, title="Stołówki szkolne", body="Jak?")
    for n in range(3):
        discussions.reply(member if n % 2 else moderator, busy, f"Odpowiedź {n}")
    discussions.reply(moderator, old, "Wracam do tematu z sesji")
    db.session.add_all([
        Material(group_id=group.id, title="Diagnoza potrzeb", kind="diagnosis_report"),
        Material(group_id=group.id, title="Skasowany", deleted_at=utcnow()),
        Material(group_id=group.id, title="Program szkolenia", kind="training_for_review",
                 review_until=today + timedelta(days=5),
                 created_at=before, updated_at=before),
        Material(group_id=group.id, title="Zamknięta recenzja",
                 review_until=today - timedelta(days=1), created_at=before),
    ])
    db.session.commit()
    return {"ended": ended, "upcoming": upcoming, "old": old, "busy": busy, "quiet": quiet,
            "today": today}


def test_what_happened_since_a_session(people, group, story):
    since = digest.build_since(people["member"], group, 1)
    assert since.ended
    assert [t.title for t in since.new_threads] == ["Stołówki szkolne", "Dowozy uczniów"]
    assert since.new_thread_count == 2
    # By posts since the session (ties: the newer thread first); the old thread counts too.
    assert [(t.title, n) for t, n in since.active_threads] == [
        ("Dowozy uczniów", 4), ("Stołówki szkolne", 1), ("Wątek z sesji", 1)]
    assert since.post_count == 6
    assert [m.title for m in since.new_materials] == ["Diagnoza potrzeb"]
    assert [(m.title, m.review_until) for m in since.open_reviews] == [
        ("Program szkolenia", story["today"] + timedelta(days=5))]
    assert since.next_workshop.number == 2 and since.next_workshop.place == "Lublin, Ratusz"


def test_the_session_ends_at_midnight_in_the_groups_time_zone(group):
    workshop = Workshop(group_id=group.id, number=1, theme="x", day1=date(2026, 1, 11),
                        day2=date(2026, 1, 12))
    assert digest.workshop_end(group, workshop).isoformat() == "2026-01-12T23:00:00+00:00"


def test_since_page(login_as, personas, story, group):
    page = login_as(personas.member).get(f"/g/{group.slug}/since/1").get_data(as_text=True)
    assert "What happened since session 1" in page
    for text in ("Dowozy uczniów", "Stołówki szkolne", "Diagnoza potrzeb", "Program szkolenia",
                 "Lublin, Ratusz", "Miasto Lublin", "4 new posts"):
        assert text in page, text
    assert "Skasowany" not in page and "Zamknięta recenzja" not in page
    assert f'href="/g/{group.slug}/t/{story["busy"].id}"' in page


@pytest.mark.parametrize("persona, status", [
    ("admin", 200), ("moderator", 200), ("member", 200), ("observer", 200),
    ("outsider", 404), (None, 302)])
def test_since_page_per_persona(login_as, personas, story, group, persona, status):
    client = login_as(getattr(personas, persona) if persona else None)
    assert client.get(f"/g/{group.slug}/since/1").status_code == status
    missing = client.get(f"/g/{group.slug}/since/9").status_code
    assert missing == (302 if persona is None else 404)
    assert client.get("/g/no-such-group/since/1").status_code == missing


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["forum", "send-digests", *args])


def test_send_digests_once_per_member_and_week(app, people, group, story, smtp):
    people["observer"].email_digest = False
    db.session.commit()
    result = _run(app)
    assert result.exit_code == 0, result.output
    assert "2 digest(s) queued; 0 skipped" in result.output
    assert "powiaty-testowe: no concluded session yet" in result.output
    assert "2 e-mail(s) sent" in result.output
    messages = smtp.wait_for(2)
    assert sorted(m["To"] for m in messages) == [people["member"].email,
                                                 people["moderator"].email]
    # Twice the same week: nothing new is sent.
    again = _run(app)
    assert again.exit_code == 0, again.output
    assert "0 digest(s) queued; 2 skipped (2 already sent this week" in again.output
    assert len(smtp.messages) == 2
    assert db.session.scalar(db.select(db.func.count()).select_from(DigestDelivery)) == 2

    message = next(m for m in messages if m["To"] == people["member"].email)
    assert message["Subject"] == "What happened in Miasta testowe since session 1"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(message)
    for part in (text, html):
        for expected in ("Dowozy uczniów", "Stołówki szkolne", "Diagnoza potrzeb",
                         "Program szkolenia", "Lublin, Ratusz", "Usługi edukacyjne"):
            assert expected in part, expected
    assert "Skasowany" not in text
    client = app.test_client()
    login(client, people["member"].email)
    page = client.get(link_to(text, "/since/1"))
    assert page.status_code == 200 and "Dowozy uczniów" in page.get_data(as_text=True)
    thread_page = client.get(link_to(text, f"/t/{story['busy'].id}"), follow_redirects=True)
    assert thread_page.status_code == 200 and "Odpowiedź 2" in thread_page.get_data(
        as_text=True)
    # The digest's own unsubscribe link turns off the digest only.
    anonymous = app.test_client()
    anonymous.post(message["List-Unsubscribe"].strip("<>"),
                   data={"List-Unsubscribe": "One-Click"})
    db.session.expire_all()
    assert (people["member"].email_digest, people["member"].email_notifications) == (
        False, "every")


def test_next_week_only_if_something_happened(people, group, story, smtp):
    now = utcnow()
    first = digest.queue_digests([group], now=now)
    assert first.queued == 3  # moderator, member, observer; not the inactive account
    quiet_week = digest.queue_digests([group], now=now + timedelta(days=7))
    assert (quiet_week.queued, quiet_week.nothing_new) == (0, 3)
    discussions.reply(people["member"], story["quiet"], "Coś nowego")
    db.session.execute(db.update(Post).where(Post.body == "Coś nowego")
                       .values(created_at=now + timedelta(days=7, hours=1)))
    db.session.commit()
    next_week = digest.queue_digests([group], now=now + timedelta(days=7, hours=2))
    assert next_week.queued == 3


def test_nothing_since_the_session_sends_nothing(people, group, smtp):
    today = group_today(group)
    db.session.add(Workshop(group_id=group.id, number=1, theme="x",
                            day1=today - timedelta(days=3), day2=today - timedelta(days=2)))
    db.session.commit()
    report = digest.queue_digests([group])
    assert (report.queued, report.nothing_new) == (0, 3)


def test_dry_run_and_one_group(app, people, group, story, smtp):
    result = _run(app, "--dry-run", "--group", group.slug)
    assert result.exit_code == 0, result.output
    assert "3 digest(s) would be queued" in result.output
    assert "powiaty-testowe" not in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxEmail)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(DigestDelivery)) == 0
    assert _run(app, "--group", "nope").exit_code != 0


def test_a_run_in_progress_blocks_a_second_one(app, people, group, story, smtp):
    now = utcnow()
    db.session.add(JobLock(name="send-digests", holder="other-host:42",
                           acquired_at=now - timedelta(minutes=5),
                           expires_at=now + timedelta(minutes=25)))
    db.session.commit()
    result = _run(app)
    assert result.exit_code == 1
    assert "another digest run is in progress since" in result.output
    assert "other-host:42" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxEmail)) == 0
    assert smtp.messages == []


def test_an_expired_lock_is_taken_over_and_released(app, people, group, story, smtp):
    now = utcnow()
    db.session.add(JobLock(name="send-digests", holder="crashed:1",
                           acquired_at=now - timedelta(hours=2),
                           expires_at=now - timedelta(hours=1, minutes=30)))
    db.session.commit()
    result = _run(app)
    assert result.exit_code == 0, result.output
    assert "3 digest(s) queued" in result.output
    db.session.expire_all()
    assert db.session.get(JobLock, "send-digests") is None  # released after the run


def test_the_lock_is_released_when_the_run_fails(app, people, group, story, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(digest, "queue_digests", broken)
    result = _run(app)
    assert result.exit_code != 0
    db.session.expire_all()
    assert db.session.get(JobLock, "send-digests") is None


def test_digest_skips_people_who_turned_it_off(people, group, story):
    for key in ("member", "moderator", "observer"):
        people[key].email_digest = False
    db.session.commit()
    assert digest.queue_digests([group]).queued == 0
    assert factories.user(people["member"].id).email_digest is False


def test_a_concluded_session_links_to_what_happened_since(login_as, personas, story, group):
    client = login_as(personas.member)
    assert f'href="/g/{group.slug}/since/1"' in client.get(
        f"/g/{group.slug}/sessions/1").get_data(as_text=True)
    assert "/since/2" not in client.get(f"/g/{group.slug}/sessions/2").get_data(as_text=True)


def test_a_digest_sent_during_a_live_session_calls_it_live_not_next(app, people, group, story,
                                                                   smtp, login_as, personas):
    today = story["today"]
    story["upcoming"].day1, story["upcoming"].day2 = today, today + timedelta(days=1)
    db.session.commit()
    content = digest.build_since(people["member"], group, 1)
    assert content.next_workshop.number == 2 and content.next_live
    assert _run(app).exit_code == 0
    message = next(m for m in smtp.wait_for(3) if m["To"] == people["member"].email)
    for part in parts(message):
        assert "Live now" in part and "Next session" not in part
    page = login_as(personas.member).get(f"/g/{group.slug}/since/1").get_data(as_text=True)
    assert "Live now" in page and "Next session" not in page
