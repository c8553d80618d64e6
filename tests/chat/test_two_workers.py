"""Two gunicorn gevent workers (separate processes) sharing a real redis-server: one room,
one presence list, and sign-outs that reach sockets on the other worker."""

from __future__ import annotations

import re
import time

from tests.chat.live import ChatBot, chat_server, prepare_database, run_command, server_settings


def test_two_workers_share_rooms_presence_and_kicks_through_redis(tmp_path, redis_url):
    database = f"sqlite:///{tmp_path / 'forum.db'}"
    people = prepare_database(database)
    group = people["group"]
    with chat_server(database, tmp_path, redis_url=redis_url, workers_log="-a") as worker_a, \
            chat_server(database, tmp_path, redis_url=redis_url, workers_log="-b") as worker_b:
        on_a = ChatBot(worker_a, people["member"]["email"]).connect()
        on_b = ChatBot(worker_b, people["moderator"]["email"]).connect()
        observer_on_b = ChatBot(worker_b, people["observer"]["email"]).connect()
        try:
            assert on_a.call("join", {"group": group, "after_id": None})["ok"]
            joined_b = on_b.call("join", {"group": group, "after_id": None})
            # Presence is shared: the worker B client sees the person connected to worker A.
            assert {p["id"] for p in joined_b["present"]} == {people["member"]["id"],
                                                              people["moderator"]["id"]}
            on_a.wait_for("presence_changed", lambda d: people["moderator"]["id"] in
                          {p["id"] for p in d["joined"]})

            # A message sent through worker A arrives at the client on worker B.
            ack = on_a.call("send_message", {"group": group, "body": "przez dwa procesy",
                                             "client_id": "two-workers-1"})
            assert ack["ok"]
            arrived = on_b.wait_for("message_created", lambda m: m["client_id"] ==
                                    "two-workers-1")
            assert arrived["id"] == ack["message"]["id"]

            # Signing out through worker A ends the same person's socket on worker B.
            observer_on_b.call("join", {"group": group, "after_id": None})
            http = observer_on_b.http
            page = http.get(f"{worker_a}/", timeout=10)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
            http.post(f"{worker_a}/logout", data={"csrf_token": token}, allow_redirects=False,
                      timeout=10)
            assert observer_on_b.wait_for("session_ended")["reason"] == "signed_out"
            deadline = time.monotonic() + 5
            while observer_on_b.client.connected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not observer_on_b.client.connected

            # Leaving on worker A shows on worker B.
            on_a.close()
            on_b.wait_for("presence_changed", lambda d: people["member"]["id"] in d["left"])
        finally:
            for bot in (on_a, on_b, observer_on_b):
                bot.close()


def test_a_removal_from_the_command_line_reaches_the_workers_through_redis(tmp_path, redis_url):
    """Issue 19, with Redis: the command's own Socket.IO server publishes the cut-off through
    the message queue (the serving workers do not poll the database then)."""
    database = f"sqlite:///{tmp_path / 'forum.db'}"
    people = prepare_database(database)
    group, email = people["group"], people["observer"]["email"]
    with chat_server(database, tmp_path, redis_url=redis_url) as worker:
        observer = ChatBot(worker, email).connect()
        try:
            assert observer.call("join", {"group": group, "after_id": None})["ok"]
            run_command(server_settings(database, worker, tmp_path, redis_url),
                        "remove-member", email, group)
            assert observer.wait_for("session_ended", timeout=5)["reason"] == "membership"
            deadline = time.monotonic() + 5
            while observer.client.connected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not observer.client.connected
        finally:
            observer.close()
