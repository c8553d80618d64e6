"""Notification e-mails: one per person per interval, in their language, with working links."""

from __future__ import annotations

from datetime import timedelta

from forum.chat import services as chat
from forum.chat.models import MENTION
from forum.discussions import services as discussions
from forum.discussions.models import Post
from forum.extensions import db
from forum.groups.models import Membership
from forum.mailings.batcher import run_batcher
from forum.notifications import inbox
from forum.notifications.models import Notification, OutboxEmail
from forum.notifications.outbox import deliver_all
from forum.timeutil import utcnow
from tests.conftest import login
from tests.notifications.conftest import link_to, parts


def _send(now=None):
    """One round of the mail worker: batch, then send."""
    report = run_batcher(now)
    deliver_all()
    return report


def _thread_of(people, group, title="Dowozy uczniów"):
    """The member's thread (the member watches it), so replies notify the member."""
    return discussions.start_thread(people["member"], group, title=title,
                                    body="Jak organizujecie dowozy do szkół?")


def _first_post_id(thread) -> int:
    return db.session.scalar(db.select(Post.id).where(Post.thread_id == thread.id,
                                                      Post.number == 1))


def _unmailed(user) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.emailed_at.is_(None)))


def test_a_reply_becomes_one_email_with_working_links(app, people, group, smtp):
    thread = _thread_of(people, group)
    discussions.reply(people["moderator"], thread, "U nas gmina ma **własny** autobus.")
    report = _send()
    assert report.emails == 1
    [message] = smtp.wait_for(1)
    assert message["To"] == people["member"].email
    assert message["Subject"] == "1 new notice on Forum Współpracy"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(message)
    assert "Marta Moderator replied in “Dowozy uczniów”" in text
    assert "U nas gmina ma **własny** autobus." in text  # an excerpt of the post
    assert "Marta Moderator replied in “Dowozy uczniów”" in html
    assert "<strong>" not in html  # user text is escaped in the HTML part
    # The link opens the post for the person signed in.
    client = app.test_client()
    login(client, people["member"].email)
    response = client.get(link_to(text, "/notifications/"), follow_redirects=True)
    assert response.status_code == 200
    assert "U nas gmina ma" in response.get_data(as_text=True)
    assert response.request.path == f"/g/{group.slug}/t/{thread.id}"
    # The unsubscribe link works without a session: POST turns notification e-mails off.
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe in text and unsubscribe in html
    # As sent: one plain line that mail programs read, not RFC 2047 words split over lines.
    raw = dict(message.raw_items())["List-Unsubscribe"]
    assert raw.strip() == f"<{unsubscribe}>" and "=?" not in raw, raw
    anonymous = app.test_client()
    response = anonymous.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    assert people["member"].email_notifications == "none"
    assert "/profile/email" in link_to(text, "/profile/email")


def test_a_mention_and_a_new_thread_are_told(people, group, smtp):
    inbox.set_group_watch(people["observer"], group, inbox.WATCHING)
    discussions.start_thread(people["moderator"], group, title="Kultura w szkole",
                             body="Co sądzi @jan.kowalski o teatrze?")
    _send()
    messages = {m["To"]: parts(m)[0] for m in smtp.wait_for(2)}
    assert "Marta Moderator mentioned you in “Kultura w szkole”" in messages[
        people["member"].email]
    assert "Marta Moderator started “Kultura w szkole”" in messages[people["observer"].email]


def test_three_replies_make_one_email_and_the_next_waits_for_the_interval(people, group,
                                                                          smtp):
    thread = _thread_of(people, group)
    for n in range(3):
        discussions.reply(people["moderator"], thread, f"Odpowiedź numer {n}")
    now = utcnow()
    assert _send(now).emails == 1
    [message] = smtp.wait_for(1)
    assert message["Subject"] == "3 new notices on Forum Współpracy"
    text = parts(message)[0]
    assert all(f"Odpowiedź numer {n}" in text for n in range(3))

    discussions.reply(people["moderator"], thread, "Czwarta odpowiedź")
    report = _send(now + timedelta(minutes=5))
    assert (report.emails, report.waiting) == (0, 1)
    assert _unmailed(people["member"]) == 1  # kept for the next e-mail
    assert _send(now + timedelta(minutes=11)).emails == 1
    assert len(smtp.wait_for(2)) == 2
    assert "Czwarta odpowiedź" in parts(smtp.messages[1])[0]
    assert "Odpowiedź numer" not in parts(smtp.messages[1])[0]
    assert _send(now + timedelta(minutes=30)).emails == 0


def test_what_was_read_in_the_app_is_not_mailed(people, group, smtp):
    thread = _thread_of(people, group)
    discussions.reply(people["moderator"], thread, "Pierwsza")
    inbox.mark_notifications_read(people["member"])
    report = _send()
    assert (report.emails, report.skipped) == (0, 1)
    assert _unmailed(people["member"]) == 0
    assert smtp.messages == []


def test_none_marks_without_sending(people, group, smtp):
    people["member"].email_notifications = "none"
    db.session.commit()
    discussions.reply(people["moderator"], _thread_of(people, group), "Pierwsza")
    assert _send().emails == 0
    assert _unmailed(people["member"]) == 0 and smtp.messages == []


def test_daily_and_weekly_summaries(people, group, smtp):
    member, observer = people["member"], people["observer"]
    member.email_notifications = "daily"
    observer.email_notifications = "weekly"
    now = utcnow()
    member.last_notification_email_at = observer.last_notification_email_at = now
    db.session.commit()
    inbox.set_group_watch(observer, group, inbox.WATCHING)
    thread = _thread_of(people, group)  # the observer hears of the new thread
    discussions.reply(people["moderator"], thread, "Odpowiedź")
    assert _send(now + timedelta(hours=12)).emails == 0
    assert _send(now + timedelta(hours=24)).emails == 1  # the daily one
    assert [m["To"] for m in smtp.wait_for(1)] == [member.email]
    assert _send(now + timedelta(days=6)).emails == 0
    assert _send(now + timedelta(days=7)).emails == 1  # the weekly one
    assert [m["To"] for m in smtp.wait_for(2)] == [member.email, observer.email]


def test_old_notices_inactive_people_and_former_members_get_nothing(people, group, smtp):
    thread = _thread_of(people, group)
    discussions.reply(people["moderator"], thread, "Stara odpowiedź")
    db.session.execute(db.update(Notification).values(created_at=utcnow() - timedelta(days=9)))
    db.session.commit()
    assert _send().emails == 0
    # A former member: the notice is about a group they left.
    discussions.reply(people["moderator"], thread, "Nowa odpowiedź")
    db.session.execute(db.delete(Membership).where(Membership.user_id == people["member"].id))
    db.session.commit()
    assert _send().emails == 0
    # An inactive account.
    inactive = people["inactive"]
    db.session.add(Notification(user_id=inactive.id, kind="reply", group_id=group.id,
                                thread_id=thread.id, post_id=_first_post_id(thread)))
    db.session.commit()
    assert _send().emails == 0
    assert smtp.messages == []
    assert db.session.scalar(db.select(db.func.count()).select_from(Notification).where(
        Notification.emailed_at.is_(None))) == 0


def test_a_chat_mention_is_mailed_with_a_link_to_the_message(app, people, group, smtp):
    message = chat.send_message(people["moderator"], group, "Czy @jan.kowalski dołączy?",
                                "client-1")
    mention = _mention_of(people["member"], message)
    assert mention.actor_id == people["moderator"].id and mention.group_id == group.id
    _send()
    [mail] = smtp.wait_for(1)
    text = parts(mail)[0]
    assert "Marta Moderator mentioned you in the chat of Miasta testowe" in text
    url = link_to(text, f"/notifications/{mention.id}")
    client = app.test_client()
    login(client, people["member"].email)
    opened = client.get(url)
    assert opened.status_code == 302 and "/chat" in opened.location
    page = client.get(opened.location).get_data(as_text=True)
    assert f'id="message-{message.id}"' in page
    db.session.expire_all()
    assert _mention_of(people["member"], message).emailed_at
    assert _mention_of(people["member"], message).read_at  # opened from the e-mail


def _mention_of(user, message) -> Notification:
    return db.session.scalars(db.select(Notification).where(
        Notification.user_id == user.id, Notification.kind == MENTION,
        Notification.chat_message_id == message.id)).one()


def test_a_mention_in_a_message_removed_meanwhile_is_not_mailed(people, group, smtp):
    message = chat.send_message(people["moderator"], group, "@jan.kowalski pomyłka", "c-1")
    chat.remove_message(people["moderator"], group, message.id)
    assert db.session.scalar(db.select(db.func.count()).select_from(Notification).where(
        Notification.kind == MENTION)) == 0
    assert _send().emails == 0
    assert smtp.messages == []


def test_moderators_notices_are_mailed(people, group, smtp):
    thread = _thread_of(people, group)
    post_id = _first_post_id(thread)
    db.session.add_all([
        Notification(user_id=people["member"].id, kind="warning", group_id=group.id,
                     thread_id=thread.id, post_id=post_id, actor_id=people["moderator"].id,
                     text="Prosimy nie podawać numerów telefonów."),
        Notification(user_id=people["member"].id, kind="report_outcome", group_id=group.id,
                     thread_id=thread.id, post_id=post_id, actor_id=people["moderator"].id,
                     text="hidden"),
    ])
    db.session.commit()
    _send()
    text = parts(smtp.wait_for(1)[0])[0]
    assert "A private notice from the moderators about your post in “Dowozy uczniów”" in text
    assert "Prosimy nie podawać numerów telefonów." in text
    assert "Your report about a post in “Dowozy uczniów”: the moderators hid the post." in text


def test_the_email_is_in_the_persons_language(people, group, smtp):
    people["member"].locale = "pl"
    db.session.commit()
    discussions.reply(people["moderator"], _thread_of(people, group), "Odpowiedź")
    _send()
    message = smtp.wait_for(1)[0]
    text = parts(message)[0]
    assert "Marta Moderator — odpowiedź w wątku „Dowozy uczniów”" in text
    assert "replied in" not in text


def test_batching_twice_queues_one_email(people, group, smtp):
    discussions.reply(people["moderator"], _thread_of(people, group), "Odpowiedź")
    now = utcnow()
    assert run_batcher(now).emails == 1
    # A second batcher that read the same notices before the first committed gives way.
    db.session.execute(db.update(Notification).values(emailed_at=None))
    db.session.commit()
    people["member"].last_notification_email_at = None
    db.session.commit()
    run_batcher(now)  # same notices → same dedupe key → no second row
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxEmail)) == 1
    deliver_all()
    assert len(smtp.wait_for(1)) == 1


def test_user_text_is_escaped_in_the_html_part(people, group, smtp):
    thread = discussions.start_thread(people["member"], group, title="<b>Tytuł</b> & co",
                                      body="Pytanie")
    discussions.reply(people["moderator"], thread, "<script>alert(1)</script> odpowiedź")
    _send()
    text, html = parts(smtp.wait_for(1)[0])
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Tytuł&lt;/b&gt; &amp; co" in html
    assert "“<b>Tytuł</b> & co”" in text  # plain text stays readable


def test_a_new_report_is_mailed_to_the_groups_moderators(people, group, smtp):
    from forum.moderation import reports

    thread = _thread_of(people, group)
    reply = discussions.reply(people["member"], thread, "Mój numer: 600 100 200")
    reports.report_post(people["observer"], reply, "personal_data")
    _send()
    [message] = smtp.wait_for(1)
    assert message["To"] == people["moderator"].email
    text = parts(message)[0]
    assert "reported a post in “Dowozy uczniów”" in text
