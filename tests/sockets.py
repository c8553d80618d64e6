"""Socket.IO test clients for both namespaces, `/chat` and `/threads`.

`connect(app, http, namespace)` opens Flask-SocketIO's test client with the session of the
Flask test client `http` (as a browser shares its cookie). The `socket_client` fixture in
tests/conftest.py signs a persona in first and disconnects everything at the end; `chat_client`
and `follower` are that fixture on one namespace.
"""

from __future__ import annotations

from forum.extensions import socketio

CHAT = "/chat"
THREADS = "/threads"


class SocketClient:
    """A Flask-SocketIO test client on one namespace, with its signed-in HTTP client."""

    def __init__(self, client, http, namespace: str):
        self.client = client
        self.http = http
        self.namespace = namespace

    @property
    def connected(self) -> bool:
        return self.client.is_connected(self.namespace)

    def emit(self, event: str, *args):
        """Send an event and return the server's acknowledgement."""
        return self.client.emit(event, *args, namespace=self.namespace, callback=True)

    def events(self, name: str | None = None) -> list:
        """Events received since the last call (their first argument), optionally one kind."""
        mine = [p for p in self.client.queue if p["namespace"] == self.namespace]
        self.client.queue = [p for p in self.client.queue if p["namespace"] != self.namespace]
        return [p["args"][0] if p["args"] else None for p in mine
                if name is None or p["name"] == name]

    def names(self) -> list[str]:
        """The names of the events waiting (without taking them)."""
        return [p["name"] for p in self.client.queue if p["namespace"] == self.namespace]

    def disconnect(self) -> None:
        if self.connected:
            self.client.disconnect(namespace=self.namespace)

    # --- /chat ---------------------------------------------------------------------------------

    def join(self, group: str, after_id=None) -> dict:
        return self.emit("join", {"group": group, "after_id": after_id})

    def send(self, group: str, body: str, client_id: str) -> dict:
        return self.emit("send_message", {"group": group, "body": body, "client_id": client_id})

    # --- /threads ------------------------------------------------------------------------------

    def follow(self, slug: str, thread_id: int) -> dict:
        return self.emit("follow_thread", {"slug": slug, "thread_id": thread_id})


def connect(app, http, namespace: str = CHAT, headers: dict | None = None) -> SocketClient:
    """A socket on `namespace` of `app` with the session of the test client `http`."""
    client = socketio.test_client(app, namespace=namespace, flask_test_client=http,
                                  headers=headers)
    return SocketClient(client, http, namespace)
