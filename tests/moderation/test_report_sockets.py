"""A moderator's decision on a reported chat message reaches everyone in the chat at once."""

from __future__ import annotations


def _reported(member, observer, personas, body: str, client_id: str) -> int:
    """The member sends a message over the socket and the observer reports it (no JS)."""
    message_id = member.send(personas.g1.slug, body, client_id)["message"]["id"]
    response = observer.http.post(
        f"/g/{personas.g1.slug}/chat/messages/{message_id}/report",
        data={"reason": "personal_data"})
    assert response.status_code == 302
    return message_id


def _report_id(moderator, personas) -> int:
    import re

    desk = moderator.http.get(f"/g/{personas.g1.slug}/moderation").get_data(as_text=True)
    return int(re.search(r"/moderation/reports/(\d+)", desk).group(1))


def test_an_edit_of_a_reported_message_is_broadcast(personas, chat_client):
    member, observer = chat_client(personas.member), chat_client(personas.observer)
    moderator = chat_client(personas.moderator)
    member.join(personas.g1.slug)
    observer.join(personas.g1.slug)
    message_id = _reported(member, observer, personas, "Dzwońcie: 600 100 200", "edit-1")
    member.events()
    observer.events()
    response = moderator.http.post(
        f"/g/{personas.g1.slug}/moderation/reports/{_report_id(moderator, personas)}",
        data={"action": "edit", "note": "Usunięto numer telefonu", "new_body": "Dzwońcie"})
    assert response.status_code == 302
    for client in (member, observer):
        [event] = client.events("message_edited")
        assert event["id"] == message_id and event["group"] == personas.g1.slug
        assert event["body_html"].strip() == "<p>Dzwońcie</p>"
        assert event["moderation_note"] == "Usunięto numer telefonu"
    replay = member.join(personas.g1.slug)["messages"]
    edited = next(m for m in replay if m["id"] == message_id)
    assert (edited["body_html"].strip(), edited["moderation_note"]) == ("<p>Dzwońcie</p>",
                                                                "Usunięto numer telefonu")


def test_a_removal_of_a_reported_message_is_broadcast(personas, chat_client):
    member, observer = chat_client(personas.member), chat_client(personas.observer)
    moderator = chat_client(personas.moderator)
    member.join(personas.g1.slug)
    message_id = _reported(member, observer, personas, "obraźliwe", "hide-1")
    member.events()
    response = moderator.http.post(
        f"/g/{personas.g1.slug}/moderation/reports/{_report_id(moderator, personas)}",
        data={"action": "hide", "note": "Obraźliwe"})
    assert response.status_code == 302
    assert member.events("message_removed") == [{"id": message_id, "group": personas.g1.slug}]


def test_a_failed_resolution_broadcasts_nothing(personas, chat_client):
    member, observer = chat_client(personas.member), chat_client(personas.observer)
    moderator = chat_client(personas.moderator)
    member.join(personas.g1.slug)
    _reported(member, observer, personas, "tekst", "fail-1")
    member.events()
    response = moderator.http.post(
        f"/g/{personas.g1.slug}/moderation/reports/{_report_id(moderator, personas)}",
        data={"action": "edit", "note": "", "new_body": "inny"})
    assert response.status_code == 400
    assert member.events() == []
