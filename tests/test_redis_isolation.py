"""Two installations on one real redis-server (issue 10, finding 1).

Installation A (say production) and installation B (a restored copy for a drill) each have their
own SQLite database, prepared with the same personas, so their user, group and message ids
coincide; both are served by `gunicorn -k gevent` with the same secret key and the same
FORUM_REDIS_URL, as a careless drill would be. Only the default FORUM_REDIS_PREFIX (derived
from the database URL) tells them apart. Every check that something does NOT cross from B to A
is paired with one showing that it does work inside B, so the test cannot pass by silence.
"""

from __future__ import annotations

import re
import time

import pytest

from forum.config import default_redis_prefix
from tests.chat.live import PASSWORD, ChatBot, chat_server, prepare_database
from tests.discussions.test_live_workers import Follower

SECRET = "chat-test-secret-" + "x" * 32  # what chat_server gives both installations
LIMITS = {
    "FORUM_CHAT_RATE": "3/hour",
    "FORUM_LOGIN_LIMIT_PER_ACCOUNT": "2/15minute",
    "FORUM_LOGIN_LIMIT_PER_ADDRESS": "2/15minute",  # both are reached from 127.0.0.1
    "FORUM_MAIL_FORM_LIMIT": "1/hour",
    "FORUM_MAIL_WORKER": "0",
    "FORUM_SECRET_KEY": SECRET,
}


def _token(http, url: str) -> str:
    page = http.get(url, timeout=10)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)


def _sign_in_status(url: str, email: str, password: str) -> int:
    import requests

    with requests.Session() as http:
        answer = http.post(f"{url}/login", data={
            "email": email, "password": password, "csrf_token": _token(http, f"{url}/login")},
            allow_redirects=False, timeout=10)
        return answer.status_code


def _forgot_status(url: str) -> int:
    import requests

    with requests.Session() as http:
        answer = http.post(f"{url}/password/forgot", data={
            "email": "nobody@example.org",
            "csrf_token": _token(http, f"{url}/password/forgot")},
            allow_redirects=False, timeout=10)
        return answer.status_code


def _wait_disconnected(client, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    return not client.connected


def _ids(people: list[dict]) -> set[int]:
    return {p["id"] for p in people}


def _send(bot: ChatBot, group: str, client_id: str) -> dict:
    return bot.call("send_message", {"group": group, "body": f"wiadomość {client_id}",
                                     "client_id": client_id})


@pytest.fixture
def installations(tmp_path, redis_url):
    """(A, B, people): two served installations on one Redis, and their common personas."""
    database_a = f"sqlite:///{tmp_path / 'a.db'}"
    database_b = f"sqlite:///{tmp_path / 'b.db'}"
    people = prepare_database(database_a)
    assert prepare_database(database_b) == people  # the same ids in both
    with chat_server(database_a, tmp_path, redis_url=redis_url, workers_log="-a",
                     **LIMITS) as url_a, \
            chat_server(database_b, tmp_path, redis_url=redis_url, workers_log="-b",
                        **LIMITS) as url_b:
        yield ({"url": url_a, "prefix": default_redis_prefix(database_a, SECRET)},
               {"url": url_b, "prefix": default_redis_prefix(database_b, SECRET)}, people)


def test_two_installations_on_one_redis_never_meet(installations, redis_url):
    import redis

    a, b, people = installations
    assert a["prefix"] != b["prefix"]
    group = people["group"]
    moderator, member, observer = (people[k]["id"] for k in ("moderator", "member", "observer"))
    bots: list = []
    keys: set[str] = set()  # every key seen in Redis, at two moments
    connection = redis.Redis.from_url(redis_url, decode_responses=True)

    def bot(kind, site, persona):
        made = kind(site["url"], people[persona]["email"]).connect()
        bots.append(made)
        return made

    try:
        member_a = bot(ChatBot, a, "member")
        assert member_a.call("join", {"group": group, "after_id": None})["ok"]
        observer_a = bot(ChatBot, a, "observer")
        follower_a = bot(Follower, a, "observer")  # /threads: the observer's other socket
        moderator_b = bot(ChatBot, b, "moderator")
        member_b = bot(ChatBot, b, "member")
        observer_b = bot(ChatBot, b, "observer")
        follower_b = bot(Follower, b, "observer")

        # Presence: B lists its three people; A, joined afterwards, only its own two.
        for one in (moderator_b, member_b):
            assert one.call("join", {"group": group, "after_id": None})["ok"]
        joined_b = observer_b.call("join", {"group": group, "after_id": None})
        assert _ids(joined_b["present"]) == {moderator, member, observer}
        joined_a = observer_a.call("join", {"group": group, "after_id": None})
        assert _ids(joined_a["present"]) == {member, observer}
        keys.update(connection.scan_iter("*"))  # while everyone is connected

        # Chat: a message in B's group reaches B's client, not A's clients in "the same" group.
        sent = _send(member_b, group, "from-b-1")
        assert sent["ok"], sent
        assert moderator_b.wait_for("message_created",
                                    lambda m: m["client_id"] == "from-b-1")["id"] == \
            sent["message"]["id"]
        # A's own message afterwards: once it has arrived, anything leaked would have too
        # (one channel would carry both, in order).
        assert _send(member_a, group, "from-a-1")["ok"]
        observer_a.wait_for("message_created", lambda m: m["client_id"] == "from-a-1")
        for one in (member_a, observer_a):
            assert [m["client_id"] for m in one.events("message_created")] == ["from-a-1"]

        # Sign-out in B ends B's sockets of that person (chat and /threads), not A's.
        http = observer_b.http
        signed_out = http.post(f"{b['url']}/logout",
                               data={"csrf_token": _token(http, f"{b['url']}/")},
                               allow_redirects=False, timeout=10)
        assert signed_out.status_code == 302
        assert observer_b.wait_for("session_ended")["reason"] == "signed_out"
        assert follower_b.wait_for("session_ended")["reason"] == "signed_out"
        assert _wait_disconnected(observer_b.client)
        assert _wait_disconnected(follower_b.client)
        assert _send(member_a, group, "from-a-2")["ok"]
        observer_a.wait_for("message_created", lambda m: m["client_id"] == "from-a-2")
        time.sleep(0.5)  # a kick sent to the follower's own connection would be here by now
        assert observer_a.client.connected and follower_a.client.connected
        assert observer_a.events("session_ended") == []
        assert [e for kind, e in follower_a.received if kind == "session_ended"] == []
        assert observer_a.call("join", {"group": group, "after_id": None})["ok"]

        # Nobody of B ever showed up in A's presence.
        for one in (member_a, observer_a):
            for change in one.events("presence_changed"):
                assert moderator not in _ids(change.get("joined", []))

        # Chat rate limit (3 an hour per person and group): B's member reaches it, A's does not.
        for n in (2, 3):
            assert _send(member_b, group, f"from-b-{n}")["ok"]
        refused = _send(member_b, group, "from-b-4")
        assert not refused["ok"] and refused["error"] == "rate_limited"
        assert _send(member_a, group, "from-a-3")["ok"]

        # Sign-in throttle: two failures block the account and the address in B only.
        outsider = people["outsider"]["email"]
        for _ in range(2):
            assert _sign_in_status(b["url"], outsider, "wrong-password-123") == 200
        assert _sign_in_status(b["url"], outsider, PASSWORD) == 429
        assert _sign_in_status(a["url"], outsider, PASSWORD) == 302

        # Flask-Limiter's own limit (the password-reset form, once an hour here).
        assert _forgot_status(b["url"]) == 302
        assert _forgot_status(b["url"]) == 429
        assert _forgot_status(a["url"]) == 302

        # Every key and channel either installation made carries its prefix.
        keys.update(connection.scan_iter("*"))
        channels = set(connection.pubsub_channels())
    finally:
        for one in bots:
            one.close()
        connection.close()
    strays = [k for k in keys if not k.startswith((f"{a['prefix']}:", f"{b['prefix']}:"))]
    assert strays == []
    for site in (a, b):
        kinds = {k.split(":")[1] for k in keys if k.startswith(f"{site['prefix']}:")}
        assert kinds == {"chat", "threads", "limits"}, (site["prefix"], kinds)
    assert channels == {f"{a['prefix']}:socketio", f"{b['prefix']}:socketio"}
