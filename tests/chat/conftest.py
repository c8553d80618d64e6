"""Chat fixtures: Flask-SocketIO test clients signed in as the personas."""

from __future__ import annotations

import pytest

from forum.chat.models import ChatMessage
from forum.extensions import db, socketio
from forum.text import render_markdown
from forum.timeutil import utcnow

NS = "/chat"


def add_messages(group_id: int, author_id: int, count: int, prefix: str = "m") -> list[int]:
    """Chat history written straight to the database (no rate limit); returns the ids."""
    messages = [ChatMessage(group_id=group_id, author_id=author_id, body=f"{prefix}{n}",
                            body_html=render_markdown(f"{prefix}{n}"),
                            client_id=f"{prefix}-{n}", created_at=utcnow())
                for n in range(count)]
    for message in messages:
        db.session.add(message)
        db.session.flush()
    db.session.commit()
    return [m.id for m in messages]


class ChatClient:
    """A Socket.IO test client on the /chat namespace, with its signed-in HTTP client."""

    def __init__(self, client, http):
        self.client = client
        self.http = http

    @property
    def connected(self) -> bool:
        return self.client.is_connected(NS)

    def emit(self, event: str, *args):
        """Send an event and return the server's acknowledgement."""
        return self.client.emit(event, *args, namespace=NS, callback=True)

    def join(self, group: str, after_id=None) -> dict:
        return self.emit("join", {"group": group, "after_id": after_id})

    def send(self, group: str, body: str, client_id: str) -> dict:
        return self.emit("send_message", {"group": group, "body": body, "client_id": client_id})

    def events(self, name: str | None = None) -> list[dict]:
        """Events received since the last call (their first argument), optionally one kind."""
        mine = [p for p in self.client.queue if p["namespace"] == NS]
        self.client.queue = [p for p in self.client.queue if p["namespace"] != NS]
        return [p["args"][0] if p["args"] else None for p in mine
                if name is None or p["name"] == name]

    def names(self) -> list[str]:
        mine = [p for p in self.client.queue if p["namespace"] == NS]
        return [p["name"] for p in mine]


@pytest.fixture
def chat_client(app, login_as):
    """chat_client("member") → a ChatClient connected to /chat as that persona."""
    made = []

    def make(persona, headers=None, http=None):
        http = http or login_as(persona)
        client = socketio.test_client(app, namespace=NS, flask_test_client=http,
                                      headers=headers)
        made.append(client)
        return ChatClient(client, http)

    yield make
    for client in made:
        if client.is_connected(NS):
            client.disconnect(NS)
