"""Entry point for servers: `gunicorn -k gevent -w 1 wsgi:app` (the gevent worker patches the
standard library itself, before it loads this module).

`python wsgi.py` serves the app with its Socket.IO server on HOST:PORT (127.0.0.1:5000) under
gevent, with the WebSocket transport (simple-websocket). FORUM_ASYNC_MODE=threading serves it
with threads instead (development only: long-lived connections each hold a thread).
"""

import gc
import os

_MODE = os.environ.get(
    "FORUM_ASYNC_MODE",
    "threading" if os.environ.get("FORUM_ENV", "production") == "testing" else "gevent",
)
if __name__ == "__main__" and _MODE == "gevent":
    # First thing, before anything imports socket, ssl, threading or time.
    from gevent import monkey

    monkey.patch_all()

from forum import create_app  # noqa: E402
from forum.config import ConfigError  # noqa: E402
from forum.extensions import socketio  # noqa: E402


def _check_worker(mode: str) -> None:
    """Under gunicorn, FORUM_ASYNC_MODE=gevent needs its gevent worker: with a threaded or sync
    worker nothing ever runs the gevent hub, so the background tasks (the e-mail sent right
    after a commit, the chat's presence batches) would silently never run (issue 18)."""
    import sys

    if mode != "gevent" or "gunicorn" not in sys.modules:
        return
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        raise ConfigError(
            "FORUM_ASYNC_MODE=gevent needs gunicorn's gevent worker (deploy/gunicorn.conf.py, "
            "or -k gevent); with a threaded or sync worker set FORUM_ASYNC_MODE=threading.")


_check_worker(_MODE)
app = create_app()
# What exists now (the app, its modules and templates' code, SQLAlchemy's mappings: some
# 180,000 objects) lives as long as the process. Kept out of the garbage collector's full
# passes, each of which would otherwise stop every socket of the worker for about 100 ms
# (README, Chat benchmark); objects made later are collected as before.
gc.freeze()

if __name__ == "__main__":
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    socketio.run(
        app, host=host, port=port, debug=False,
        use_reloader=False, allow_unsafe_werkzeug=True, log_output=False,
    )
