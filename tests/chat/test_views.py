"""The chat over plain HTTP: the page without JavaScript, its forms, JSON pages, 404s."""

import re
from datetime import timedelta

import pytest

from forum.chat import services as chat
from forum.chat.models import ChatMessage
from forum.discussions.models import Thread
from forum.extensions import db
from forum.workshops import services as workshops
from tests import factories
from tests.factories import add_messages

READERS = ["observer", "member", "moderator", "admin"]


def _client_id(html: str) -> str:
    return re.search(r'name="client_id" type="hidden" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("persona", ["anonymous", "outsider", *READERS])
def test_who_sees_the_chat_page_and_its_json(app, personas, login_as, persona):
    client = login_as(None if persona == "anonymous" else getattr(personas, persona))
    expected = {"anonymous": 302, "outsider": 404}.get(persona, 200)
    slug = personas.g1.slug
    assert client.get(f"/g/{slug}/chat").status_code == expected
    assert client.get(f"/g/{slug}/chat/messages").status_code == expected
    assert client.get(f"/g/{slug}/chat/messages?before_id=5").status_code == expected
    if persona != "anonymous":
        assert client.get("/g/no-such-group/chat").status_code == 404


@pytest.mark.parametrize("url", ["/chat/messages", "/chat/messages/1/remove", "/chat/mute",
                                 "/chat/mute/3/lift", "/chat/slow-mode", "/chat/thread"])
def test_forms_are_404_for_outsiders(personas, login_as, url):
    assert login_as(personas.outsider).post(f"/g/{personas.g1.slug}{url}").status_code == 404


def test_the_page_without_javascript_shows_recent_messages_and_a_form(app, personas, login_as):
    with app.app_context():
        add_messages(personas.g1.id, personas.member.id, 60, prefix="wiadomość ")
    page = login_as(personas.observer).get(f"/g/{personas.g1.slug}/chat").get_data(as_text=True)
    assert "wiadomość 59" in page and "wiadomość 10" in page and "wiadomość 9<" not in page
    assert "Show older messages" in page and "before_id=" in page
    assert "as an observer" in page and 'name="body"' not in page
    member_page = login_as(personas.member).get(f"/g/{personas.g1.slug}/chat")
    html = member_page.get_data(as_text=True)
    assert 'name="body"' in html and 'id="promote-form"' in html
    assert 'src="/static/js/chat.js"' in html and "<script>" not in html
    assert 'aria-live="polite"' in html


def test_older_pages_as_html_and_json(app, personas, login_as):
    with app.app_context():
        ids = add_messages(personas.g1.id, personas.member.id, 70)
    client = login_as(personas.member)
    older = client.get(f"/g/{personas.g1.slug}/chat?before_id={ids[20]}").get_data(as_text=True)
    assert f'id="message-{ids[19]}"' in older and f'id="message-{ids[20]}"' not in older
    assert "Back to the latest messages" in older
    data = client.get(f"/g/{personas.g1.slug}/chat/messages?before_id={ids[60]}").get_json()
    assert [m["id"] for m in data["messages"]] == ids[10:60] and data["has_more"] is True
    data = client.get(f"/g/{personas.g1.slug}/chat/messages?before_id={ids[10]}").get_json()
    assert [m["id"] for m in data["messages"]] == ids[:10] and data["has_more"] is False
    data = client.get(f"/g/{personas.g1.slug}/chat/messages?after_id={ids[65]}").get_json()
    assert [m["id"] for m in data["messages"]] == ids[66:]


def test_posting_with_the_plain_form_is_idempotent(app, personas, login_as):
    client = login_as(personas.member)
    url = f"/g/{personas.g1.slug}/chat"
    client_id = _client_id(client.get(url).get_data(as_text=True))
    form = {"body": "Bez **JavaScriptu**", "client_id": client_id}
    first = client.post(f"{url}/messages", data=form)
    assert first.status_code == 302 and "#message-" in first.location
    assert client.post(f"{url}/messages", data=form).location == first.location  # resent
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ChatMessage.id))) == 1
    assert "<strong>JavaScriptu</strong>" in client.get(url).get_data(as_text=True)


def test_the_plain_form_shows_errors_and_keeps_the_text(personas, login_as):
    client = login_as(personas.member)
    response = client.post(f"/g/{personas.g1.slug}/chat/messages",
                           data={"body": "x" * 4001, "client_id": "form-1"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Use at most 4000 characters." in html and "x" * 4001 in html
    observer = login_as(personas.observer)
    assert observer.post(f"/g/{personas.g1.slug}/chat/messages",
                         data={"body": "hi", "client_id": "obs"}).status_code == 403


def test_moderators_remove_mute_and_slow_down_with_forms(app, personas, login_as):
    with app.app_context():
        message = chat.send_message(factories.user(personas.member.id),
                                    factories.group(personas.g1.id), "spam", "spam-1")
        message_id = message.id
    slug = personas.g1.slug
    member, moderator = login_as(personas.member), login_as(personas.moderator)
    assert member.post(f"/g/{slug}/chat/messages/{message_id}/remove").status_code == 403
    assert member.post(f"/g/{slug}/chat/slow-mode", data={"seconds": 30}).status_code == 403
    assert moderator.post(f"/g/{slug}/chat/messages/999/remove").status_code == 404
    answer = moderator.post(f"/g/{slug}/chat/messages/{message_id}/remove",
                            headers={"Accept": "application/json"})
    assert answer.get_json()["ok"] is True
    assert "Removed by a moderator." in member.get(f"/g/{slug}/chat").get_data(as_text=True)

    response = moderator.post(f"/g/{slug}/chat/mute",
                              data={"user_id": personas.member.id, "minutes": 15})
    assert response.status_code == 302
    page = moderator.get(f"/g/{slug}/chat").get_data(as_text=True)
    assert "cannot write in the chat until" in page and "Jan Kowalski, until" in page
    refused = moderator.post(f"/g/{slug}/chat/mute",
                             data={"user_id": personas.moderator.id, "minutes": 15},
                             follow_redirects=True)
    assert "Moderators cannot be muted." in refused.get_data(as_text=True)
    moderator.post(f"/g/{slug}/chat/mute/{personas.member.id}/lift")
    assert "Nobody is muted." in moderator.get(f"/g/{slug}/chat").get_data(as_text=True)

    moderator.post(f"/g/{slug}/chat/slow-mode", data={"seconds": 30})
    with app.app_context():
        assert chat.slow_mode_seconds(factories.group(personas.g1.id)) == 30
    assert moderator.post(f"/g/{slug}/chat/slow-mode",
                          data={"seconds": 7}).status_code == 302  # not a choice: refused
    with app.app_context():
        assert chat.slow_mode_seconds(factories.group(personas.g1.id)) == 30


def test_continue_as_a_thread_with_checkboxes(app, personas, login_as):
    with app.app_context():
        ids = add_messages(personas.g1.id, personas.member.id, 3, prefix="temat ")
    client = login_as(personas.member)
    url = f"/g/{personas.g1.slug}/chat"
    page = client.get(url).get_data(as_text=True)
    assert f'name="message_ids" value="{ids[0]}" form="promote-form"' in page
    missing = client.post(f"{url}/thread", data={"title": "Wątek", "client_token": "t"})
    assert missing.status_code == 400
    assert "Choose at least one message." in missing.get_data(as_text=True)
    response = client.post(f"{url}/thread", data={"title": "Dalej o temacie",
                                                   "message_ids": [ids[0], ids[2]],
                                                   "client_token": "t"})
    assert response.status_code == 302 and "/t/" in response.location
    with app.app_context():
        thread = db.session.scalar(db.select(Thread))
        assert thread.title == "Dalej o temacie"
    page = client.get(url).get_data(as_text=True)
    assert "continued this conversation as a thread:" in page and "Dalej o temacie" in page
    assert login_as(personas.observer).post(f"{url}/thread", data={
        "title": "x", "message_ids": [ids[0]]}).status_code == 403


def test_the_session_page_has_the_chat_while_live_and_its_transcript_after(app, personas,
                                                                          login_as):
    with app.app_context():
        group, moderator = factories.group(personas.g1.id), factories.user(personas.moderator.id)
        today = workshops.group_today(group)
        workshops.create_workshop(moderator, group, workshops.WorkshopInput(
            number=1, theme="Minęła", day1=today - timedelta(days=10)))
        workshops.create_workshop(moderator, group, workshops.WorkshopInput(
            number=2, theme="Dziś", day1=today))
        past = chat.send_message(moderator, group, "z poprzedniej sesji", "past")
        past.workshop_id = workshops.get_workshop_for(moderator, group, 1).id
        past.created_at = past.created_at - timedelta(days=10)
        db.session.commit()
    client = login_as(personas.member)
    live = client.get(f"/g/{personas.g1.slug}/sessions/2").get_data(as_text=True)
    assert "Live chat" in live and "data-chat" in live and 'src="/static/js/chat.js"' in live
    concluded = client.get(f"/g/{personas.g1.slug}/sessions/1").get_data(as_text=True)
    assert "Chat during the session" in concluded and "z poprzedniej sesji" in concluded
    assert "Day 1" in concluded and "data-chat " not in concluded


def test_chat_mentions_reach_the_notifications_page(personas, login_as):
    moderator = login_as(personas.moderator)
    moderator.post(f"/g/{personas.g1.slug}/chat/messages",
                   data={"body": "Czy @jan.kowalski ma kwestionariusz?"})
    member = login_as(personas.member)
    assert 'class="count-badge">1<' in member.get("/").get_data(as_text=True)
    page = member.get("/notifications").get_data(as_text=True)
    assert "mentioned you in the chat of Miasta testowe" in page
    member.get(f"/g/{personas.g1.slug}/chat")  # seeing the message marks the mention read
    assert 'class="count-badge"' not in member.get("/").get_data(as_text=True)
