"""Stopping a forum process (SIGTERM, what `systemctl stop forum@PORT` sends) with chat clients
connected: deploy/gunicorn.conf.py closes their Engine.IO sessions, so the clients are told the
server went away (and reconnect elsewhere) and the process exits in seconds, not after gunicorn's
graceful timeout."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from tests.chat.live import ChatBot, prepare_database
from tests.deploy_live import forum_process, server_errors

SERVER_DISCONNECT = "server disconnect"  # engineio.Client.reason.SERVER_DISCONNECT


class Watched(ChatBot):
    """A ChatBot that records when and why its connection ended."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ended = threading.Event()
        self.reasons: list[str] = []

        def disconnected(reason=None):
            self.reasons.append(reason)
            self.ended.set()

        self.client.on("disconnect", disconnected, namespace="/chat")


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = tmp_path_factory.mktemp("graceful") / "forum.db"
    url = f"sqlite:///{path}"
    return url, prepare_database(url)


def test_sigterm_closes_websockets_and_long_polls_and_exits_quickly(database, tmp_path):
    url, people = database
    with forum_process(url, tmp_path) as server:
        on_websocket = Watched(server.url, people["member"]["email"],
                               transports=["websocket"]).connect()
        on_polling = Watched(server.url, people["moderator"]["email"],
                             transports=["polling"]).connect()
        try:
            for bot in (on_websocket, on_polling):
                assert bot.call("join", {"group": people["group"], "after_id": None})["ok"]
            assert on_websocket.client.transport() == "websocket"
            assert on_polling.client.transport() == "polling"
            # The arrivals are announced in a batch (FORUM_CHAT_PRESENCE_SECONDS): stop the
            # process once it is sent, with the connections idle. (A long poll answered after
            # the SIGTERM makes the client poll again, and a process that no longer listens
            # refuses that: "transport error" instead of being told; it reconnects anyway.)
            for bot in (on_websocket, on_polling):
                bot.wait_for("presence_changed")
            time.sleep(0.3)  # the polling client's next long poll is waiting at the server

            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            server.process.wait(timeout=15)
            took = time.monotonic() - started

            # Both clients were told by the server (an Engine.IO CLOSE packet), rather than
            # finding a dead connection: browsers then reconnect, through nginx, elsewhere.
            for bot in (on_websocket, on_polling):
                assert bot.ended.wait(5), "the client never saw the connection end"
                assert bot.reasons[0] == SERVER_DISCONNECT, (
                    bot.reasons, "websocket" if bot is on_websocket else "polling")
        finally:
            for bot in (on_websocket, on_polling):
                bot.close()
        log = server.log()
        assert "closing 2 realtime connection(s)" in log, log[-3000:]
        assert "graceful timeout" not in log.lower(), log[-3000:]
        assert server.process.returncode == 0, log[-3000:]
        assert not server_errors(log), log[-3000:]
        # gunicorn's graceful_timeout is 10 s; closing the sessions takes about 2 s.
        assert took < 8, f"stopping took {took:.1f}s:\n{log[-3000:]}"


def test_an_idle_process_stops_at_once_and_logs_requests_with_their_id(database, tmp_path):
    url, _ = database
    home, runtime = tmp_path / "home", tmp_path / "xdg"
    home.mkdir()
    runtime.mkdir()
    with forum_process(url, tmp_path, HOME=str(home), XDG_RUNTIME_DIR=str(runtime)) as server:
        import requests

        answer = requests.get(f"{server.url}/healthz?probe=access-log", timeout=5)
        request_id = answer.headers.get("X-Request-ID", "")
        # Outside systemd, no control socket at gunicorn's default, shared places.
        assert list(home.rglob("*")) == [] and list(runtime.rglob("*")) == []
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=15)
        log = server.log()
    line = next((line for line in log.splitlines() if "probe=access-log" in line), None)
    assert line is not None, f"no access log line:\n{log[-3000:]}"
    assert '"GET /healthz?probe=access-log HTTP/1.1" 200' in line
    # The request id the app sent back (once the request-id middleware is in) is in the line.
    assert line.endswith(f"request_id={request_id or '-'}"), line
    assert "closing 0 realtime connection(s)" in log
    assert server.process.returncode == 0


def test_two_processes_of_one_user_keep_their_own_control_sockets(database, tmp_path):
    url, _ = database
    first, second = tmp_path / "run-8001", tmp_path / "run-8002"
    first.mkdir()
    second.mkdir()
    with forum_process(url, tmp_path, RUNTIME_DIRECTORY=str(first)), \
            forum_process(url, tmp_path, RUNTIME_DIRECTORY=str(second)):
        assert (first / "gunicorn.ctl").is_socket()
        assert (second / "gunicorn.ctl").is_socket()
