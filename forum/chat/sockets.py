"""Socket.IO entry points. Only signed-in, active users may connect; the chat issue adds rooms."""

from __future__ import annotations

from flask_login import current_user

from forum.extensions import socketio


@socketio.on("connect")
def on_connect(auth=None):
    # The socket's session is a snapshot of the Flask session taken here, at connect time.
    if not current_user.is_authenticated:
        return False
    return True
