"""Entry point for servers: `gunicorn --worker-class gthread --threads 50 -w 1 wsgi:app`.

`python wsgi.py` serves the app with its Socket.IO server on HOST:PORT (127.0.0.1:5000).
"""

import os

from forum import create_app
from forum.extensions import socketio

app = create_app()

if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    socketio.run(
        app, host=host, port=port, debug=False,
        use_reloader=False, allow_unsafe_werkzeug=True,
    )
