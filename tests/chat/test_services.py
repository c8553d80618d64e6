"""Chat services: one test per rule, called directly (as the HTTP views and sockets do)."""

from datetime import timedelta

import pytest

from forum.audit.models import AuditEntry
from forum.chat import services as chat
from forum.chat.models import MENTION, ChatMessage, MessageKind
from forum.discussions.models import Post, Thread
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.notifications import inbox
from forum.notifications.models import Notification
from forum.workshops import services as workshops
from tests import factories
from tests.factories import add_messages


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def test_a_message_is_stored_sanitised_and_ids_grow(people):
    first = chat.send_message(people["member"], people["g1"],
                              "  *Hej* <img src=x onerror=alert(1)> [a](javascript:x)  ", "a")
    second = chat.send_message(people["moderator"], people["g1"], "druga", "b")
    assert first.body == "*Hej* <img src=x onerror=alert(1)> [a](javascript:x)"
    assert "<em>Hej</em>" in first.body_html
    assert "<img" not in first.body_html and 'href="javascript' not in first.body_html
    assert second.id > first.id


def test_sending_twice_with_one_client_id_returns_the_first_message(people):
    first = chat.send_message(people["member"], people["g1"], "raz", "same")
    assert chat.send_message(people["member"], people["g1"], "dwa", "same").id == first.id
    # Another person may use the same client id: ids are unique per author.
    assert chat.send_message(people["moderator"], people["g1"], "raz", "same").id != first.id
    chat.send_message(people["admin"], people["g1"], "raz", "admin-1")
    with pytest.raises(InvalidInput):  # and not for another group
        chat.send_message(people["admin"], people["g2"], "raz", "admin-1")


def test_who_may_send(people):
    with pytest.raises(NotFound):
        chat.send_message(people["outsider"], people["g1"], "hi", "o")
    with pytest.raises(PermissionDenied):
        chat.send_message(people["observer"], people["g1"], "hi", "o")
    assert chat.send_message(people["admin"], people["g1"], "hi", "a")


def test_mentions_of_members_are_recorded(people):
    message = chat.send_message(people["moderator"], people["g1"],
                                "@jan.kowalski zobacz, @olek.obcy nie jest w grupie", "m")
    [mention] = db.session.scalars(db.select(Notification).where(
        Notification.chat_message_id == message.id)).all()
    assert (mention.kind, mention.user_id, mention.actor_id, mention.group_id) == (
        MENTION, people["member"].id, people["moderator"].id, people["g1"].id)
    assert inbox.unread_notification_count(people["member"]) == 1
    assert chat.mentions_in(people["member"], people["g1"], [message]) == {message.id}
    assert inbox.unread_notification_count(people["member"]) == 0
    assert chat.mentions_in(people["moderator"], people["g1"], [message]) == set()


def test_removing_a_message_takes_its_mentions_away_but_not_a_warning(people):
    message = chat.send_message(people["member"], people["g1"], "@marta.moderator hej", "m")
    inbox.notify(people["member"].id, "warning", message, group_id=people["g1"].id,
                 text="Proszę o spokój")
    db.session.commit()
    chat.remove_message(people["moderator"], people["g1"], message.id)
    kinds = db.session.scalars(db.select(Notification.kind).where(
        Notification.chat_message_id == message.id)).all()
    assert kinds == ["warning"]


def test_history_pages_go_back_by_id(people):
    ids = add_messages(people["g1"].id, people["member"].id, 120)
    add_messages(people["g2"].id, people["outsider"].id, 3, prefix="other")
    page = chat.history(people["member"], people["g1"])
    assert [m.id for m in page.messages] == ids[-50:] and page.has_more
    older = chat.history(people["member"], people["g1"], before_id=page.messages[0].id)
    assert [m.id for m in older.messages] == ids[-100:-50] and older.has_more
    oldest = chat.history(people["member"], people["g1"], before_id=older.messages[0].id)
    assert [m.id for m in oldest.messages] == ids[:20] and not oldest.has_more
    with pytest.raises(NotFound):
        chat.history(people["outsider"], people["g1"])


def test_catch_up_returns_everything_after_an_id_in_slices(people):
    ids = add_messages(people["g1"].id, people["member"].id, 30)
    page = chat.catch_up(people["member"], people["g1"], ids[4], limit=20)
    assert [m.id for m in page.messages] == ids[5:25] and page.has_more
    page = chat.catch_up(people["member"], people["g1"], ids[24], limit=20)
    assert [m.id for m in page.messages] == ids[25:] and not page.has_more


def test_messages_are_tagged_with_the_live_session(people):
    group = people["g1"]
    factories.make_workshop(people["moderator"], group, 1, days_from_today=-1,
                            theme="Wczoraj i dziś")
    factories.make_workshop(people["moderator"], group, 2, days_from_today=7, theme="Za tydzień")
    message = chat.send_message(people["member"], group, "na sesji", "live")
    assert message.workshop.number == 1
    assert chat.message_payload(message, group)["workshop"] == 1


def test_moderators_remove_messages_and_it_is_audited(people):
    message = chat.send_message(people["member"], people["g1"], "nie na temat", "x")
    with pytest.raises(PermissionDenied):
        chat.remove_message(people["member"], people["g1"], message.id)
    with pytest.raises(NotFound):
        chat.remove_message(people["moderator"], people["g2"], message.id)
    chat.remove_message(people["moderator"], people["g1"], message.id)
    assert message.removed and message.removed_by_id == people["moderator"].id
    payload = chat.message_payload(message, people["g1"])
    assert payload["removed"] and payload["body_html"] == ""
    [entry] = _audit("chat.remove")
    assert entry.details["message_id"] == message.id and entry.group_id == people["g1"].id


def test_muting_is_for_moderators_on_members_and_audited(people):
    with pytest.raises(PermissionDenied):
        chat.mute_member(people["member"], people["g1"], people["observer"].id, 5)
    with pytest.raises(NotFound):
        chat.mute_member(people["moderator"], people["g1"], people["outsider"].id, 5)
    with pytest.raises(InvalidInput):
        chat.mute_member(people["moderator"], people["g1"], people["member"].id, 0)
    with pytest.raises(InvalidInput):
        chat.mute_member(people["admin"], people["g1"], people["moderator"].id, 5)
    chat.mute_member(people["moderator"], people["g1"], people["member"].id, 60)
    with pytest.raises(chat.ChatError) as refused:
        chat.send_message(people["member"], people["g1"], "hello", "m1")
    assert refused.value.code == "muted" and 59 * 60 < refused.value.extra["retry_after"] <= 3600
    assert [m.user_id for m in chat.list_mutes(people["moderator"], people["g1"])] == [
        people["member"].id]
    chat.unmute_member(people["moderator"], people["g1"], people["member"].id)
    assert chat.send_message(people["member"], people["g1"], "hello", "m1")
    assert [len(_audit(a)) for a in ("chat.mute", "chat.unmute")] == [1, 1]


def test_slow_mode_is_set_by_moderators_and_audited(people):
    with pytest.raises(PermissionDenied):
        chat.set_slow_mode(people["member"], people["g1"], 10)
    with pytest.raises(InvalidInput):
        chat.set_slow_mode(people["moderator"], people["g1"], 3601)
    chat.set_slow_mode(people["moderator"], people["g1"], 10)
    assert chat.slow_mode_seconds(people["g1"]) == 10
    chat.send_message(people["member"], people["g1"], "one", "s1")
    with pytest.raises(chat.ChatError) as refused:
        chat.send_message(people["member"], people["g1"], "two", "s2")
    assert refused.value.code == "slow_mode"
    chat.set_slow_mode(people["moderator"], people["g1"], 0)
    assert chat.send_message(people["member"], people["g1"], "two", "s2")
    assert len(_audit("chat.slow_mode")) == 2


def test_continue_as_a_thread_quotes_the_messages_and_leaves_a_notice(people):
    group = people["g1"]
    factories.make_workshop(people["moderator"], group, 3, theme="Sesja")
    first = chat.send_message(people["member"], group, "Jak liczycie koszty dowozów?", "q1")
    chat.send_message(people["moderator"], group, "poza tematem", "q2")
    second = chat.send_message(people["moderator"], group, "Od kilometra\n\ni od ucznia.", "q3")
    thread = chat.promote_to_thread(people["member"], group, [second.id, first.id],
                                    "Koszty dowozów", client_token="tok-1")
    assert thread.title == "Koszty dowozów" and thread.workshop.number == 3
    opening = db.session.scalar(db.select(Post).where(Post.thread_id == thread.id))
    assert "**Jan Kowalski**" in opening.body and "**Marta Moderator**" in opening.body
    assert "> Jak liczycie koszty dowozów?" in opening.body
    assert "> Od kilometra\n>\n> i od ucznia." in opening.body
    assert "poza tematem" not in opening.body
    assert f"/g/{group.slug}/chat?before_id={second.id + 1}#message-{first.id}" in opening.body
    notice = db.session.scalar(db.select(ChatMessage).where(
        ChatMessage.kind == MessageKind.THREAD_NOTICE))
    assert notice.thread_id == thread.id and notice.id > second.id
    payload = chat.message_payload(notice, group)
    assert payload["thread"] == {"id": thread.id, "title": "Koszty dowozów",
                                 "url": f"/g/{group.slug}/t/{thread.id}"}
    # The same form sent again makes nothing new.
    again = chat.promote_to_thread(people["member"], group, [first.id], "Koszty dowozów",
                                   client_token="tok-1")
    assert again.id == thread.id
    assert db.session.scalar(db.select(db.func.count(Thread.id))) == 1
    assert db.session.scalar(db.select(db.func.count(ChatMessage.id)).where(
        ChatMessage.kind == MessageKind.THREAD_NOTICE)) == 1


def test_continue_as_a_thread_takes_only_this_groups_visible_messages(people):
    mine = chat.send_message(people["member"], people["g1"], "tu", "p1")
    other = chat.send_message(people["outsider"], people["g2"], "tam", "p2")
    removed = chat.send_message(people["member"], people["g1"], "usunięta", "p3")
    chat.remove_message(people["moderator"], people["g1"], removed.id)
    for ids in ([], [other.id], [mine.id, removed.id], ["x"], list(range(1, 60))):
        with pytest.raises(InvalidInput):
            chat.promote_to_thread(people["member"], people["g1"], ids, "Tytuł")
    with pytest.raises(InvalidInput):  # a title is needed (the thread's own rule)
        chat.promote_to_thread(people["member"], people["g1"], [mine.id], " ")
    with pytest.raises(PermissionDenied):
        chat.promote_to_thread(people["observer"], people["g1"], [mine.id], "Tytuł")


def test_the_transcript_of_a_session_is_grouped_by_day(people):
    group = people["g1"]
    today = workshops.group_today(group)
    workshop = factories.make_workshop(people["moderator"], group, 5, days_from_today=-1,
                                       theme="Dwa dni")
    first = chat.send_message(people["member"], group, "dziś", "t1")
    first.created_at = first.created_at - timedelta(days=1)  # as if sent yesterday
    db.session.commit()
    chat.send_message(people["moderator"], group, "też dziś", "t2")
    add_messages(group.id, people["member"].id, 2, prefix="poza sesją")
    days = chat.transcript(people["observer"], workshop)
    assert [d.day for d in days] == [today - timedelta(days=1), today]
    assert [[m.body for m in d.messages] for d in days] == [["dziś"], ["też dziś"]]
    with pytest.raises(NotFound):
        chat.transcript(people["outsider"], workshop)
