"""gunicorn settings for one forum process: `gunicorn -c deploy/gunicorn.conf.py -b ADDR wsgi:app`.

One process = one gevent worker (Socket.IO's long-polling needs every request of a client to
reach the process that holds its session, so scale with more processes on more ports, each
behind nginx, not with `-w`). The systemd template `forum@.service` passes the address with
`-b 127.0.0.1:%i`; without `-b` (or GUNICORN_CMD_ARGS="--bind=...") it is 127.0.0.1:8000.

Graceful shutdown: on SIGTERM gunicorn stops accepting connections and waits up to
`graceful_timeout` for open requests, but an open WebSocket or long-poll never ends by itself,
so a stop used to take the whole 30 s and then cut the connections. Here the worker closes
every Engine.IO session right after its listening socket is closed: each client gets a CLOSE
packet, the chat's disconnect handlers run (presence), the browsers reconnect through nginx to
another process, and the worker exits within about two seconds.

How gunicorn 27 stops a gevent worker: the master forwards SIGTERM; the worker's handler only
sets `alive = False`; its main loop notices within a second, closes the listening socket and
waits while any connection is open, up to `graceful_timeout`, then kills them. `worker_exit`
runs only after that wait and `worker_int` only on SIGINT/SIGQUIT, so neither helps: the SIGTERM
handler installed in `post_worker_init` below does the closing.
"""

import os
import signal

# gunicorn's gevent worker, yielding between the requests of a keep-alive connection so that
# every connection gets its turn (forum/serving.py).
worker_class = "forum.serving.FairGeventWorker"
workers = 1  # per process, see above
worker_connections = 2000
bind = ["127.0.0.1:8000"]  # `-b` wins; set here so that a PORT variable never means 0.0.0.0
wsgi_app = "wsgi:app"
proc_name = "forum"

# Longer than the time the worker needs to close its WebSockets (about 2 s), short enough that
# a stop or restart never hangs; systemd's TimeoutStopSec in forum@.service is above it.
graceful_timeout = 10
timeout = 60
# An idle keep-alive connection holds a stopping worker this long (nginx as configured in
# deploy/nginx/forum.conf opens one upstream connection per request, so none stay idle).
keepalive = 2

# Logs go to stdout/stderr, i.e. the journal under systemd. The access log names the request id
# the app returns in X-Request-ID, and the client address nginx passed on.
accesslog = "-"
errorlog = "-"
access_log_format = (
    '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s" '
    'request_id=%({x-request-id}o)s'
)
# FORUM_LOG_FORMAT=json: gunicorn's error and access lines become JSON objects like the app's
# (access: method, path, status, bytes, duration_ms, request_id, user_id …); text: no change.
logger_class = "forum.observability.gunicorn.Logger"

# gunicorn 25+ opens a control socket for `gunicornc`, by default one fixed path per user, so two
# processes of the same user would fight over it. Under systemd (RuntimeDirectory=forum/%i)
# each process gets its own directory; elsewhere there is none.
_runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
if _runtime:
    control_socket = os.path.join(_runtime, "gunicorn.ctl")
else:
    control_socket_disable = True

# Seconds between the SIGTERM and closing the WebSockets: the worker's main loop notices the
# stop within a second and closes the listening socket; after that clients that reconnect are
# refused here and nginx sends them to another process.
CLOSE_DELAY = 1.2


def post_worker_init(worker):
    """Freeze the loaded app's objects out of the garbage collector's way (forum/serving.py)
    and install a SIGTERM handler that also closes the realtime connections (see the top)."""
    from forum.serving import freeze_startup_heap

    worker.log.debug("%d objects of the loaded app frozen for the GC", freeze_startup_heap())
    stop = worker.handle_exit  # sets worker.alive = False; the main loop then drains requests

    def handle_term(sig, frame):
        stop(sig, frame)
        if not getattr(worker, "forum_closing", False):
            worker.forum_closing = True
            import gevent

            gevent.spawn(_close_realtime, worker)  # out of the signal handler: it blocks

    signal.signal(signal.SIGTERM, handle_term)


def _close_realtime(worker):
    import gevent

    gevent.sleep(CLOSE_DELAY)
    from forum.extensions import socketio

    server = getattr(socketio, "server", None)
    if server is None:
        return
    from forum.chat.presence_batch import announce_at_once

    announce_at_once()  # no batch left sleeping while the connections close
    engine = server.eio
    sessions = list(engine.sockets.values())
    worker.log.info("Shutting down: closing %d realtime connection(s)", len(sessions))
    for session in sessions:
        try:
            # wait=False: a long-polling client may not poll again; abort=False sends the CLOSE
            # packet, so the client knows the server went away and reconnects.
            session.close(wait=False, reason=engine.reason.SERVER_DISCONNECT)
        except Exception:
            worker.log.exception("Closing realtime connection %s failed", session.sid)
        engine.sockets.pop(session.sid, None)
