"""Authors edit and delete their own chat messages for a while (the group setting
`chat_edit_minutes`): the service's rules, the page without JavaScript, and everyone's view
changing over the socket."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from forum.chat import services as chat
from forum.chat.models import ChatMessage
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db


def _age(message_id: int, minutes: int) -> None:
    message = db.session.get(ChatMessage, message_id)
    message.created_at = message.created_at - timedelta(minutes=minutes)
    db.session.commit()


def test_the_author_edits_a_recent_message_and_everyone_sees_edited(people):
    message = chat.send_message(people["member"], people["g1"], "literówka", "own-1")
    edited = chat.edit_own_message(people["member"], people["g1"], message.id, " **poprawione** ")
    assert edited.body == "**poprawione**" and "<strong>poprawione</strong>" in edited.body_html
    payload = chat.message_payload(edited, people["g1"])
    assert payload["edited"] is True and payload["moderation_note"] == ""
    with pytest.raises(InvalidInput):
        chat.edit_own_message(people["member"], people["g1"], message.id, "   ")


def test_only_the_author_and_only_for_a_while(people):
    message = chat.send_message(people["member"], people["g1"], "moja", "own-2")
    with pytest.raises(PermissionDenied):  # a moderator edits at the desk, not here
        chat.edit_own_message(people["moderator"], people["g1"], message.id, "cudza")
    with pytest.raises(PermissionDenied):
        chat.delete_own_message(people["moderator"], people["g1"], message.id)
    with pytest.raises(NotFound):
        chat.edit_own_message(people["outsider"], people["g1"], message.id, "x")
    _age(message.id, 16)
    with pytest.raises(InvalidInput) as refused:
        chat.edit_own_message(people["member"], people["g1"], message.id, "za późno")
    assert refused.value.code == "too_late"
    with pytest.raises(InvalidInput):
        chat.delete_own_message(people["member"], people["g1"], message.id)
    assert db.session.get(ChatMessage, message.id).body == "moja"


def test_the_author_deletes_a_recent_message(people):
    message = chat.send_message(people["member"], people["g1"], "pomyłka", "own-3")
    chat.delete_own_message(people["member"], people["g1"], message.id)
    payload = chat.message_payload(db.session.get(ChatMessage, message.id), people["g1"])
    assert payload["removed"] is True and payload["removed_by_author"] is True
    assert payload["body_html"] == ""
    with pytest.raises(InvalidInput):  # gone: nothing more to change
        chat.edit_own_message(people["member"], people["g1"], message.id, "x")


def test_without_javascript_edit_page_and_delete_form(app, personas, login_as, chat_client):
    slug = personas.g1.slug
    client = login_as(personas.member)
    sender = chat_client(personas.member)
    message_id = sender.send(slug, "Bez skryptu", "own-4")["message"]["id"]
    page = client.get(f"/g/{slug}/chat").get_data(as_text=True)
    item = re.search(rf'id="message-{message_id}".*?</li>', page, re.S).group(0)
    assert f"/chat/messages/{message_id}/edit" in item
    assert f"/chat/messages/{message_id}/delete" in item and "Delete this message?" in item
    # Others see neither.
    other = login_as(personas.moderator).get(f"/g/{slug}/chat").get_data(as_text=True)
    assert f"/chat/messages/{message_id}/edit" not in other
    assert login_as(personas.moderator).get(
        f"/g/{slug}/chat/messages/{message_id}/edit").status_code == 403

    client = login_as(personas.member)
    form = client.get(f"/g/{slug}/chat/messages/{message_id}/edit").get_data(as_text=True)
    assert "Bez skryptu</textarea>" in form
    saved = client.post(f"/g/{slug}/chat/messages/{message_id}/edit",
                        data={"body": "Bez skryptu, poprawione"})
    assert saved.status_code == 302 and saved.location.endswith(f"#message-{message_id}")
    page = client.get(f"/g/{slug}/chat").get_data(as_text=True)
    item = re.search(rf'id="message-{message_id}".*?</li>', page, re.S).group(0)
    assert "Bez skryptu, poprawione" in item and ">edited</a>)" in item  # a link to its history

    deleted = client.post(f"/g/{slug}/chat/messages/{message_id}/delete")
    assert deleted.status_code == 302
    page = client.get(f"/g/{slug}/chat").get_data(as_text=True)
    assert "Deleted by its author." in page and "Bez skryptu, poprawione" not in page


def test_too_late_is_said_on_the_edit_page(app, personas, login_as, chat_client):
    slug = personas.g1.slug
    message_id = chat_client(personas.member).send(slug, "stara", "own-5")["message"]["id"]
    with app.app_context():
        _age(message_id, 30)
    client = login_as(personas.member)
    page = client.get(f"/g/{slug}/chat/messages/{message_id}/edit")
    assert page.status_code == 200  # a page that says why, with the way back
    assert "only for 15 minutes" in page.get_data(as_text=True)
    assert "Back to the chat" in page.get_data(as_text=True)
    assert "<textarea" not in page.get_data(as_text=True)
    assert f"/chat/messages/{message_id}/edit" not in client.get(
        f"/g/{slug}/chat").get_data(as_text=True)
    refused = client.post(f"/g/{slug}/chat/messages/{message_id}/edit",
                          data={"body": "nowa"}, headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "15 minutes" in refused.get_json()["message"]


def test_everyone_sees_the_edit_and_the_deletion_live(personas, chat_client):
    slug = personas.g1.slug
    author, reader = chat_client(personas.member), chat_client(personas.moderator)
    author.join(slug)
    reader.join(slug)
    message_id = author.send(slug, "na żywo", "own-6")["message"]["id"]
    reader.events()
    answer = author.http.post(f"/g/{slug}/chat/messages/{message_id}/edit",
                              data={"body": "na żywo, poprawione"},
                              headers={"Accept": "application/json"})
    assert answer.get_json() == {"ok": True}
    [edit] = reader.events("message_edited")
    assert edit["id"] == message_id and edit["edited"] is True and edit["moderation_note"] == ""
    assert "poprawione" in edit["body_html"]
    author.http.post(f"/g/{slug}/chat/messages/{message_id}/delete",
                     headers={"Accept": "application/json"})
    assert reader.events("message_removed") == [
        {"id": message_id, "group": slug, "by_author": True}]
    replay = reader.join(slug)["messages"]
    assert replay[-1]["removed_by_author"] is True and replay[-1]["body_html"] == ""


# --- the group's setting -------------------------------------------------------------------------


def test_the_window_is_the_groups_setting(people):
    group = people["g1"]
    group.chat_edit_minutes = 60
    db.session.commit()
    message = chat.send_message(people["member"], group, "długie okno", "own-w1")
    _age(message.id, 45)  # past the default 15 minutes, within the group's hour
    assert chat.edit_own_message(people["member"], group, message.id, "poprawka").body == \
        "poprawka"
    _age(message.id, 20)
    with pytest.raises(InvalidInput) as refused:
        chat.delete_own_message(people["member"], group, message.id)
    assert "60 minutes" in str(refused.value.errors)


def test_a_group_may_forbid_changes_altogether(people):
    group = people["g1"]
    group.chat_edit_minutes = 0
    db.session.commit()
    message = chat.send_message(people["member"], group, "na zawsze", "own-w2")
    assert not chat.may_change_own(people["member"], message, group=group)
    with pytest.raises(InvalidInput) as refused:
        chat.edit_own_message(people["member"], group, message.id, "zmiana")
    assert "cannot be changed once they are sent" in str(refused.value.errors)
    with pytest.raises(InvalidInput):
        chat.delete_own_message(people["member"], group, message.id)


def test_the_administrator_sets_the_window_and_the_chat_follows(app, personas, login_as,
                                                                chat_client):
    admin = login_as(personas.admin)
    base = {"name": "Gminy", "slug": personas.g1.slug, "description": "", "kind": "rural",
            "time_zone": "Europe/Warsaw"}
    page = admin.get(f"/admin/groups/{personas.g1.id}").get_data(as_text=True)
    assert 'name="chat_edit_minutes"' in page and 'value="15"' in page
    refused = admin.post(f"/admin/groups/{personas.g1.id}", data={**base,
                                                                   "chat_edit_minutes": "2000"})
    refused_page = refused.get_data(as_text=True)
    assert "Number must be between 0 and 1440" in refused_page
    assert 'value="2000"' in refused_page  # what was typed stays
    assert admin.post(f"/admin/groups/{personas.g1.id}",
                      data={**base, "chat_edit_minutes": "0"}).status_code == 302
    slug = personas.g1.slug
    message_id = chat_client(personas.member).send(slug, "bez zmian", "own-w3")["message"]["id"]
    member = login_as(personas.member)
    chat_page = member.get(f"/g/{slug}/chat").get_data(as_text=True)
    assert 'data-edit-minutes="0"' in chat_page
    assert f"/chat/messages/{message_id}/edit" not in chat_page
    edit_page = member.get(f"/g/{slug}/chat/messages/{message_id}/edit").get_data(as_text=True)
    assert "cannot be changed once they are sent" in edit_page and "<textarea" not in edit_page
    # Left empty, the setting stays as it is.
    admin.post(f"/admin/groups/{personas.g1.id}", data={**base, "chat_edit_minutes": ""})
    assert 'data-edit-minutes="0"' in member.get(f"/g/{slug}/chat").get_data(as_text=True)


def test_an_edit_tells_the_people_it_mentions_for_the_first_time_only(people):
    from forum.chat.models import MENTION
    from forum.notifications.models import Notification

    def mentioned(message_id):
        return sorted(db.session.scalars(db.select(Notification.user_id).where(
            Notification.kind == MENTION, Notification.chat_message_id == message_id)))

    # The moderator mentions Jan, then edits: Jan is not told twice, Olga (the observer, a
    # member of the group) is told now.
    message = chat.send_message(people["moderator"], people["g1"], "@jan.kowalski zobacz", "e-1")
    assert mentioned(message.id) == [people["member"].id]
    chat.edit_own_message(people["moderator"], people["g1"], message.id,
                          "@jan.kowalski i @olga.obserwator zobaczcie")
    assert mentioned(message.id) == sorted([people["member"].id, people["observer"].id])
    # An edit that takes Jan's mention out takes his unread notice away, and tells nobody new.
    chat.edit_own_message(people["moderator"], people["g1"], message.id, "@olga.obserwator")
    assert mentioned(message.id) == [people["observer"].id]


def test_an_authors_edits_are_kept_for_the_author_and_the_moderators(app, login_as, personas):
    from tests import factories

    with app.app_context():
        member, g1 = factories.user(personas.member.id), factories.group(personas.g1.id)
        message_id = chat.send_message(member, g1, "Spotkanie we wtorek", "h-1").id
        chat.edit_own_message(member, g1, message_id, "Spotkanie w środę")
        chat.edit_own_message(member, g1, message_id, "Spotkanie w czwartek")
        _shown, edits = chat.message_edits(member, g1, message_id)
        assert [edit.before for edit in edits] == ["Spotkanie w środę", "Spotkanie we wtorek"]
        assert any(piece.kind == "added" and "czwartek" in piece.text
                   for piece in edits[0].changes)
    url = f"/g/{personas.g1.slug}/chat/messages/{message_id}/history"
    for persona in (personas.member, personas.moderator):
        page = login_as(persona).get(url)
        assert page.status_code == 200, persona
        text = page.get_data(as_text=True)
        assert "Spotkanie we wtorek" in text and "<ins>" in text
    # Another member sees "edited" only; an outsider learns nothing.
    assert login_as(personas.observer).get(url).status_code == 404
    assert login_as(personas.outsider).get(url).status_code == 404
    chat_page = login_as(personas.member).get(f"/g/{personas.g1.slug}/chat").get_data(
        as_text=True)
    assert f'href="{url}"' in chat_page
    assert f'href="{url}"' not in login_as(personas.observer).get(
        f"/g/{personas.g1.slug}/chat").get_data(as_text=True)
