"""The /chat namespace through Flask-SocketIO's test client: one test per rule of the protocol."""

from datetime import timedelta

import pytest

from forum.accounts import services as accounts
from forum.chat import services as chat
from forum.chat.models import ChatMessage
from forum.extensions import db, socketio
from forum.groups import services as groups
from forum.groups.models import Membership
from forum.workshops import services as workshops
from tests import factories, sockets
from tests.conftest import login
from tests.factories import add_messages

# --- the default namespace (unchanged) -------------------------------------------------------


def test_anonymous_sockets_are_refused(app):
    client = socketio.test_client(app, flask_test_client=app.test_client())
    assert not client.is_connected()


def test_signed_in_users_connect(app, personas):
    http = app.test_client()
    login(http, "member@example.org")
    client = socketio.test_client(app, flask_test_client=http)
    assert client.is_connected()
    client.disconnect()


def test_a_signed_out_session_cannot_connect(app, personas):
    http = app.test_client()
    login(http, "member@example.org")
    http.post("/logout")
    assert not socketio.test_client(app, flask_test_client=http).is_connected()


# --- connecting to /chat ---------------------------------------------------------------------


def test_anonymous_chat_connections_are_refused(chat_client):
    assert not chat_client(None).connected


FOREIGN = [
    {"Origin": "https://evil.example"},
    {"Origin": "http://forum.test.evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/140"},  # a browser without Origin
]
OWN = [
    {"Origin": "http://forum.test"},  # FORUM_BASE_URL
    {"Origin": "http://localhost"},  # the host the request was addressed to
    {"Sec-Fetch-Site": "same-origin", "User-Agent": "Mozilla/5.0 Chrome/140"},
    {},  # not a browser (python-socketio, scripts): the session cookie decides
]


def test_only_the_own_origin_may_connect(chat_client, personas):
    http = chat_client(personas.member).http
    for headers in FOREIGN:
        assert not chat_client(None, headers=headers, http=http).connected, headers
    for headers in OWN:
        assert chat_client(None, headers=headers, http=http).connected, headers


def test_production_trusts_only_the_origin_of_its_base_url(app, chat_client, personas):
    """Issue 19: a page served from an address that is not FORUM_BASE_URL (the old default
    http://127.0.0.1:5000, or a DNS-rebinding name sent as Host) opens no socket."""
    http = chat_client(personas.member).http
    app.config["FORUM_ENV"] = "production"
    try:
        assert chat_client(None, headers={"Origin": "http://forum.test"}, http=http).connected
        for origin in ("http://localhost", "http://127.0.0.1:5000"):
            assert not chat_client(None, headers={"Origin": origin}, http=http).connected, origin
    finally:
        app.config["FORUM_ENV"] = "testing"


# --- join ------------------------------------------------------------------------------------


def _send(ctx_app, persona, group_id, body, client_id=None):
    with ctx_app.app_context():
        message = chat.send_message(factories.user(persona.id), factories.group(group_id),
                                    body, client_id or f"seed-{body}")
        return message.id


def test_join_answers_the_last_50_messages_oldest_first_and_who_is_here(app, personas,
                                                                        chat_client):
    with app.app_context():
        ids = add_messages(personas.g1.id, personas.member.id, 55)
    moderator = chat_client(personas.moderator)
    ack = chat_client(personas.member).join(personas.g1.slug)
    assert ack["ok"] and ack["group"] == personas.g1.slug
    assert [m["id"] for m in ack["messages"]] == ids[-50:]
    assert ack["has_more"] is True
    assert [p["id"] for p in ack["present"]] == [personas.member.id]
    assert ack["can_send"] is True and ack["can_moderate"] is False
    assert moderator.join(personas.g1.slug)["can_moderate"] is True


def test_join_with_after_id_replays_only_what_was_missed(app, personas, chat_client):
    first = _send(app, personas.member, personas.g1.id, "one")
    second = _send(app, personas.member, personas.g1.id, "two")
    third = _send(app, personas.member, personas.g1.id, "three")
    ack = chat_client(personas.moderator).join(personas.g1.slug, after_id=first)
    assert [m["id"] for m in ack["messages"]] == [second, third]
    assert ack["has_more"] is False
    assert chat_client(personas.moderator).join(personas.g1.slug, after_id=third)[
        "messages"] == []


def test_a_non_member_join_gets_an_error_and_nothing_else(app, personas, chat_client):
    outsider = chat_client(personas.outsider)
    member = chat_client(personas.member)
    member.join(personas.g1.slug)
    ack = outsider.join(personas.g1.slug)
    assert ack == {"ok": False, "error": "not_found", "message": ack["message"]}
    assert outsider.join("no-such-group")["error"] == "not_found"
    member.events()
    member.send(personas.g1.slug, "only for the group", "c-1")
    assert outsider.events() == []
    assert outsider.send(personas.g1.slug, "let me in", "c-2")["error"] == "not_found"
    assert member.events("message_created") and member.events() == []


def test_presence_counts_each_person_once_however_many_tabs(personas, chat_client):
    watcher = chat_client(personas.moderator)
    watcher.join(personas.g1.slug)
    watcher.events()
    tab1, tab2 = chat_client(personas.member), chat_client(personas.member)
    tab1.join(personas.g1.slug)
    jan = {"id": personas.member.id, "name": "Jan Kowalski", "organisation": "Miasto Lublin"}
    assert watcher.events("presence_changed") == [
        {"group": personas.g1.slug, "joined": [jan], "left": []}]
    ack = tab2.join(personas.g1.slug)
    assert [p["id"] for p in ack["present"]] == [personas.member.id, personas.moderator.id]
    assert watcher.events("presence_changed") == []  # the second tab changes nothing
    tab1.disconnect()
    assert watcher.events("presence_changed") == []  # still here in the other tab
    assert tab2.emit("leave", {"group": personas.g1.slug}) == {"ok": True}
    assert watcher.events("presence_changed") == [
        {"group": personas.g1.slug, "joined": [], "left": [personas.member.id]}]
    assert [p["id"] for p in watcher.join(personas.g1.slug)["present"]] == [
        personas.moderator.id]


# --- send_message ----------------------------------------------------------------------------


def test_send_acknowledges_and_broadcasts_to_the_room_after_commit(app, personas, chat_client):
    sender, other = chat_client(personas.member), chat_client(personas.moderator)
    sender.join(personas.g1.slug)
    other.join(personas.g1.slug)
    other.events()
    ack = sender.send(personas.g1.slug, "Witam **wszystkich** <script>alert(1)</script>",
                      "7a1f4c2e-0000-4000-8000-000000000001")
    assert ack["ok"]
    message = ack["message"]
    assert message["author"] == {"id": personas.member.id, "name": "Jan Kowalski",
                                 "organisation": "Miasto Lublin", "initials": "JK",
                                 "colour": personas.member.id % 8}
    assert "<strong>wszystkich</strong>" in message["body_html"]
    assert "<script>" not in message["body_html"]
    assert message["created_at"].endswith("Z") and message["workshop"] is None
    assert message["client_id"] == "7a1f4c2e-0000-4000-8000-000000000001"
    assert other.events("message_created") == [message]
    assert sender.events("message_created") == [message]  # every tab of the sender too
    with app.app_context():
        assert db.session.get(ChatMessage, message["id"]) is not None


def test_the_same_client_id_never_makes_a_second_message(app, personas, chat_client):
    sender, other = chat_client(personas.member), chat_client(personas.moderator)
    other.join(personas.g1.slug)
    other.events()
    first = sender.send(personas.g1.slug, "raz", "same-id")
    again = sender.send(personas.g1.slug, "raz", "same-id")
    assert first == again
    assert len(other.events("message_created")) == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ChatMessage.id))) == 1


def test_a_message_longer_than_the_limit_is_refused_with_a_clear_error(personas, chat_client):
    sender, other = chat_client(personas.member), chat_client(personas.moderator)
    other.join(personas.g1.slug)
    other.events()
    ack = sender.send(personas.g1.slug, "x" * 4001, "long")
    assert ack["ok"] is False and ack["error"] == "too_long"
    assert "4000" in ack["message"]
    assert sender.send(personas.g1.slug, "   ", "empty")["error"] == "empty"
    assert sender.send(personas.g1.slug, "x" * 4000, "long-enough")["ok"]
    assert len(other.events("message_created")) == 1


def test_the_rate_limit_says_slow_down_and_keeps_what_was_accepted(make_app, personas, smtp):
    app = make_app(FORUM_CHAT_RATE="3/minute")
    http = app.test_client()
    login(http, personas.member.email)
    client = sockets.connect(app, http)
    acks = [client.send(personas.g1.slug, f"m{n}", f"rate-{n}") for n in range(4)]
    assert [a["ok"] for a in acks] == [True, True, True, False]
    assert acks[3]["error"] == "rate_limited"
    assert "too fast" in acks[3]["message"] and 0 < acks[3]["retry_after"] <= 60
    # A retry of an accepted message is not a new message: no limit applies to it.
    assert client.send(personas.g1.slug, "m0", "rate-0")["ok"]
    client.disconnect()


def test_slow_mode_allows_one_message_per_interval(app, personas, chat_client):
    with app.app_context():
        chat.set_slow_mode(factories.user(personas.moderator.id),
                           factories.group(personas.g1.id), 30)
    member, moderator = chat_client(personas.member), chat_client(personas.moderator)
    assert member.send(personas.g1.slug, "first", "slow-1")["ok"]
    ack = member.send(personas.g1.slug, "second", "slow-2")
    assert ack["error"] == "slow_mode" and 25 <= ack["retry_after"] <= 30
    assert "30" in ack["message"]
    assert moderator.send(personas.g1.slug, "moderators are not slowed", "slow-3")["ok"]
    assert moderator.send(personas.g1.slug, "at all", "slow-4")["ok"]


def test_a_muted_member_is_told_the_remaining_time(app, personas, chat_client):
    with app.app_context():
        chat.mute_member(factories.user(personas.moderator.id), factories.group(personas.g1.id),
                         personas.member.id, 15)
    member = chat_client(personas.member)
    ack = member.send(personas.g1.slug, "hello?", "muted-1")
    assert ack["error"] == "muted"
    assert 14 * 60 < ack["retry_after"] <= 15 * 60
    assert "15 minutes" in ack["message"]
    assert member.join(personas.g1.slug)["ok"]  # reading goes on


def test_observers_read_but_cannot_send(personas, chat_client):
    observer = chat_client(personas.observer)
    ack = observer.join(personas.g1.slug)
    assert ack["ok"] and ack["can_send"] is False
    assert observer.send(personas.g1.slug, "hi", "obs-1")["error"] == "forbidden"
    assert observer.emit("typing", {"group": personas.g1.slug})["error"] == "forbidden"


def test_messages_during_a_live_session_carry_its_number(app, personas, chat_client):
    with app.app_context():
        group = factories.group(personas.g1.id)
        workshops.create_workshop(factories.user(personas.moderator.id), group,
                                  workshops.WorkshopInput(number=4, theme="Sesja na żywo",
                                                          day1=workshops.group_today(group)))
    ack = chat_client(personas.member).send(personas.g1.slug, "na sesji", "live-1")
    assert ack["message"]["workshop"] == 4


# --- moderation, typing ----------------------------------------------------------------------


def test_a_removed_message_disappears_for_everyone(app, personas, chat_client):
    member, moderator = chat_client(personas.member), chat_client(personas.moderator)
    member.join(personas.g1.slug)
    message_id = member.send(personas.g1.slug, "nie na temat", "rm-1")["message"]["id"]
    member.events()
    moderator.http.post(f"/g/{personas.g1.slug}/chat/messages/{message_id}/remove")
    assert member.events("message_removed") == [{"id": message_id, "group": personas.g1.slug}]
    replay = member.join(personas.g1.slug)["messages"]
    assert replay[-1]["removed"] is True and replay[-1]["body_html"] == ""


def test_typing_reaches_the_others_only(personas, chat_client):
    member, moderator = chat_client(personas.member), chat_client(personas.moderator)
    member.join(personas.g1.slug)
    moderator.join(personas.g1.slug)
    member.events()
    moderator.events()
    assert member.emit("typing", {"group": personas.g1.slug}) == {"ok": True}
    assert moderator.events("typing") == [{"group": personas.g1.slug,
                                           "user": {"id": personas.member.id,
                                                    "name": "Jan Kowalski"}}]
    assert member.events("typing") == []


def test_typing_says_it_reached_nobody_while_the_message_queue_is_lost(app, personas,
                                                                       chat_client):
    from forum.realtime import server as realtime

    member, moderator = chat_client(personas.member), chat_client(personas.moderator)
    member.join(personas.g1.slug)
    moderator.join(personas.g1.slug)
    moderator.events()
    manager = realtime.state(app).server.manager
    manager.lost_at = 1.0  # as ResyncingRedisManager marks an outage
    try:
        answer = member.emit("typing", {"group": personas.g1.slug})
    finally:
        del manager.lost_at
    assert answer["ok"] is False and answer["error"] == "unavailable"
    assert "interrupted" in answer["message"]
    assert moderator.events("typing") == []
    assert member.emit("typing", {"group": personas.g1.slug}) == {"ok": True}


# --- bad input -------------------------------------------------------------------------------


BAD = [
    ("join", ()),
    ("join", ("miasta-testowe",)),
    ("join", ([1, 2],)),
    ("join", ({},)),
    ("join", ({"group": 5},)),
    ("join", ({"group": ""},)),
    ("join", ({"group": "miasta-testowe", "after_id": "12"},)),
    ("join", ({"group": "miasta-testowe", "after_id": -1},)),
    ("join", ({"group": "miasta-testowe", "after_id": True},)),
    ("send_message", ({"group": "miasta-testowe", "body": 5, "client_id": "x"},)),
    ("send_message", ({"group": "miasta-testowe", "body": "hi"},)),
    ("send_message", ({"group": "miasta-testowe", "body": "hi", "client_id": 7},)),
    ("send_message", ({"group": "miasta-testowe", "body": "hi", "client_id": "a b"},)),
    ("send_message", ({"group": "miasta-testowe", "body": "hi", "client_id": "x" * 65},)),
    ("send_message", ({"group": ["miasta-testowe"], "body": "hi", "client_id": "x"},)),
    ("typing", (None,)),
    ("leave", ({"group": None},)),
]


def test_wrong_or_missing_fields_get_a_bad_request_answer(personas, chat_client):
    client = chat_client(personas.member)
    for event, args in BAD:
        ack = client.emit(event, *args)
        assert ack["ok"] is False and ack["error"] == "bad_request" and ack["message"], args
        assert client.connected
    assert client.events("message_created") == []


# --- the socket's session is a snapshot: changes reach it at once ----------------------------


def _assert_cut_off(client, reason):
    assert not client.connected
    ended = [p["args"][0] for p in client.client.queue if p["name"] == "session_ended"]
    assert ended == [{"reason": reason}]


def test_removal_from_the_group_cuts_the_socket_off_at_once(app, personas, chat_client):
    member, moderator = chat_client(personas.member), chat_client(personas.moderator)
    member.join(personas.g1.slug)
    with app.app_context():
        groups.remove_member(factories.user(personas.admin.id), factories.group(personas.g1.id),
                             factories.user(personas.member.id))
    _assert_cut_off(member, "membership")
    # Reconnecting works (the person is still signed in), joining the group does not.
    again = chat_client(personas.member, http=member.http)
    assert again.join(personas.g1.slug)["error"] == "not_found"
    moderator.send(personas.g1.slug, "after the removal", "after-1")
    assert again.events("message_created") == []


def test_a_role_change_makes_open_sockets_join_again(app, personas, chat_client):
    member = chat_client(personas.member)
    assert member.join(personas.g1.slug)["can_send"]
    with app.app_context():
        groups.set_role(factories.user(personas.admin.id), factories.group(personas.g1.id),
                        factories.user(personas.member.id), "observer")
    _assert_cut_off(member, "membership")
    again = chat_client(personas.member, http=member.http)
    assert again.join(personas.g1.slug)["can_send"] is False


def test_logout_cuts_the_socket_off_at_once(personas, chat_client):
    member = chat_client(personas.member)
    member.join(personas.g1.slug)
    member.http.post("/logout")
    _assert_cut_off(member, "signed_out")


def test_signing_out_elsewhere_cuts_every_socket_off(app, personas, chat_client, login_as):
    laptop, phone = chat_client(personas.member), chat_client(personas.member)
    login_as(personas.member).post("/logout")  # a third device signs out everywhere
    _assert_cut_off(laptop, "signed_out")
    _assert_cut_off(phone, "signed_out")


def test_deactivation_cuts_the_socket_off_at_once(app, personas, chat_client):
    member = chat_client(personas.member)
    with app.app_context():
        accounts.set_user_active(factories.user(personas.admin.id),
                                 factories.user(personas.member.id), False)
    _assert_cut_off(member, "signed_out")


def test_every_event_checks_the_membership_again(app, personas, chat_client):
    """Even a change that announces nothing (a row deleted by hand) is seen by the next
    event: membership is read from the database on each one."""
    member = chat_client(personas.member)
    assert member.join(personas.g1.slug)["ok"]
    with app.app_context():
        db.session.execute(db.delete(Membership).where(Membership.user_id == personas.member.id,
                                                       Membership.group_id == personas.g1.id))
        db.session.commit()
    assert member.send(personas.g1.slug, "still here?", "gone-1")["error"] == "not_found"


def test_every_event_checks_the_session_again(app, personas, chat_client):
    member = chat_client(personas.member)
    with app.app_context():
        user = factories.user(personas.member.id)
        user.alternative_id = "rotated-by-hand"
        db.session.commit()
    ack = member.send(personas.g1.slug, "still signed in?", "gone-2")
    assert ack is None or ack["error"] == "session_ended"
    _assert_cut_off(member, "signed_out")


def test_a_rolled_back_change_announces_nothing(app, personas, chat_client):
    member = chat_client(personas.member)
    member.join(personas.g1.slug)
    member.events()
    with app.app_context():
        group, user = factories.group(personas.g1.id), factories.user(personas.member.id)
        chat.publish_to_group_after_commit(group.id, "message_created", {"id": -1})
        db.session.rollback()
        chat.send_message(user, group, "committed", "rb-1")
    assert [m["client_id"] for m in member.events("message_created")] == ["rb-1"]


def test_mutes_expire(app, personas, chat_client):
    with app.app_context():
        mute = chat.mute_member(factories.user(personas.moderator.id),
                                factories.group(personas.g1.id), personas.member.id, 5)
        mute.until = mute.until - timedelta(minutes=6)
        db.session.commit()
    assert chat_client(personas.member).send(personas.g1.slug, "back", "exp-1")["ok"]


def test_a_browser_leaving_during_the_websocket_upgrade_is_not_a_server_error():
    from forum.realtime.server import QuietWebSocketDeparture

    def engineio(error):
        def app(environ, start_response):
            raise error
        return app

    upgrade = {"HTTP_UPGRADE": "websocket", "gunicorn.socket": object()}
    with pytest.raises(StopIteration):  # how gunicorn ends a hijacked connection quietly
        QuietWebSocketDeparture(engineio(OSError()))(upgrade, None)
    with pytest.raises(ConnectionResetError):  # a real socket error still surfaces
        QuietWebSocketDeparture(engineio(ConnectionResetError(104, "reset")))(upgrade, None)
    with pytest.raises(OSError):  # not a WebSocket upgrade: untouched
        QuietWebSocketDeparture(engineio(OSError()))({"gunicorn.socket": object()}, None)


# --- a budget of events per socket (issue 18, finding 7) ---------------------------------------


def test_the_event_budget_refills_with_time():
    from forum.realtime import handlers

    sid = "budget-test"
    try:
        granted = [handlers.spend_event(sid, now=100.0) for _ in range(int(handlers.EVENT_BURST)
                                                                       + 5)]
        assert granted.count(True) == handlers.EVENT_BURST and granted[-1] is False
        assert handlers.refusals(sid) == 5
        # A second later, EVENT_RATE more.
        later = [handlers.spend_event(sid, now=101.0) for _ in range(int(handlers.EVENT_RATE)
                                                                     + 1)]
        assert later.count(True) == handlers.EVENT_RATE and later[-1] is False
    finally:
        handlers.forget_socket(sid)


def test_a_flooding_socket_is_refused_then_cut_off_and_others_are_not(personas, chat_client,
                                                                      monkeypatch):
    from forum.realtime import handlers

    # The flood arrives within one instant (a busy test machine must not refill the budget).
    monkeypatch.setattr(handlers, "monotonic", lambda: 1000.0)
    flooder, other = chat_client(personas.member), chat_client(personas.moderator)
    answers = [flooder.emit("typing", {"group": personas.g1.slug})
               for _ in range(int(handlers.EVENT_BURST) + 10)]
    assert answers[-1]["error"] == "rate_limited"
    assert other.join(personas.g1.slug)["ok"]  # another socket has its own budget
    for _ in range(handlers.EVENT_CUTOFF + 5):
        if not flooder.connected:
            break
        flooder.emit("typing", {"group": personas.g1.slug})
    assert not flooder.connected
    assert other.connected


def test_read_up_to_moves_the_members_read_position(app, personas, chat_client):
    from forum.chat.models import ChatRead

    member = chat_client(personas.member)
    member.join(personas.g1.slug)
    with app.app_context():
        [message_id] = factories.add_messages(personas.g1.id, personas.moderator.id, 1)
    assert member.emit("read_up_to", {"group": personas.g1.slug,
                                      "message_id": message_id}) == {"ok": True}
    for bad in ("7", None, 10**30, True):
        answer = member.emit("read_up_to", {"group": personas.g1.slug, "message_id": bad})
        assert answer["error"] == "bad_request", bad
    outsider = chat_client(personas.outsider)
    assert outsider.emit("read_up_to", {"group": personas.g1.slug,
                                        "message_id": message_id})["error"] == "not_found"
    with app.app_context():
        assert db.session.scalars(db.select(ChatRead.user_id)).all() == [personas.member.id]
