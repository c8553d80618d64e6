"""The baseline for the chat benchmark: a bare Socket.IO broadcast server.

No database, no sign-in, no checks, no sanitising: `join` enters the one room, `send_message`
broadcasts the text to it at once. Same protocol shapes as the forum's `/chat` namespace, so
the same load generator drives both. Served like the forum:
`gunicorn --worker-class gevent -w 1 bench.chat_baseline:app`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import socketio

sio = socketio.Server(async_mode="gevent", cors_allowed_origins="*")
app = socketio.WSGIApp(sio)
_ids = itertools.count(1)


@sio.on("join", namespace="/chat")
def join(sid, data):
    sio.enter_room(sid, "room", namespace="/chat")
    return {"ok": True, "messages": [], "present": [], "has_more": False}


@sio.on("send_message", namespace="/chat")
def send_message(sid, data):
    message = {"id": next(_ids), "group": data["group"], "kind": "message", "author": None,
               "body_html": data["body"], "client_id": data["client_id"], "workshop": None,
               "removed": False, "created_at": datetime.now(UTC).isoformat()}
    sio.emit("message_created", message, to="room", namespace="/chat")
    return {"ok": True, "message": message}
