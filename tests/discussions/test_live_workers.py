"""Threads read live across two gunicorn gevent workers sharing a real redis-server: a reply
through one worker reaches a follower on the other, and a sign-out there cuts it off."""

from __future__ import annotations

import re
import time

from tests.chat.live import LiveSocket, chat_server, prepare_database, sign_in


def _token(http, url: str) -> str:
    page = http.get(url, timeout=10)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)


class Follower(LiveSocket):
    """A python-socketio client on /threads that keeps what it receives."""

    NAMESPACE = "/threads"
    EVENTS = ("post_created", "post_changed", "session_ended")

    def follow(self, slug: str, thread_id: int) -> dict:
        return self.call("follow_thread", {"slug": slug, "thread_id": thread_id})


def test_a_reply_on_one_worker_reaches_a_follower_on_the_other(tmp_path, redis_url):
    database = f"sqlite:///{tmp_path / 'forum.db'}"
    people = prepare_database(database)
    slug = people["group"]
    with chat_server(database, tmp_path, redis_url=redis_url, workers_log="-a") as worker_a, \
            chat_server(database, tmp_path, redis_url=redis_url, workers_log="-b") as worker_b:
        author = sign_in(worker_a, people["member"]["email"])
        started = author.post(f"{worker_a}/g/{slug}/t/new", data={
            "csrf_token": _token(author, f"{worker_a}/g/{slug}/t/new"), "title": "Dwa procesy",
            "body": "Pierwszy wpis", "workshop_number": "0"}, allow_redirects=False, timeout=10)
        assert started.status_code == 302, started.text[:500]
        thread_id = int(re.search(r"/t/(\d+)", started.headers["Location"]).group(1))

        reader = Follower(worker_b, people["observer"]["email"]).connect()
        try:
            assert reader.follow(slug, thread_id)["last_number"] == 1
            replied = author.post(f"{worker_a}/g/{slug}/t/{thread_id}/reply", data={
                "csrf_token": _token(author, f"{worker_a}/g/{slug}/t/{thread_id}?page=1"),
                "body": "Przez drugi proces"}, allow_redirects=False, timeout=10)
            assert replied.status_code == 302
            post_id = int(re.search(r"#post-(\d+)$", replied.headers["Location"]).group(1))
            assert reader.wait_for("post_created") == {"thread_id": thread_id,
                                                       "post_id": post_id, "number": 2,
                                                       "page": 1}

            # The reader signs out through worker A: their follower on worker B is cut off.
            http = reader.http
            http.post(f"{worker_a}/logout", data={"csrf_token": _token(http, f"{worker_a}/")},
                      allow_redirects=False, timeout=10)
            assert reader.wait_for("session_ended")["reason"] == "signed_out"
            deadline = time.monotonic() + 5
            while reader.client.connected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not reader.client.connected
        finally:
            reader.close()
            author.close()
