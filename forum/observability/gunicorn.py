"""gunicorn's own logs in the forum's JSON lines (FORUM_LOG_FORMAT=json).

In deploy/gunicorn.conf.py: `logger_class = "forum.observability.gunicorn.Logger"`. With
FORUM_LOG_FORMAT=json, gunicorn's error log uses the forum's JSON formatter and every access-log
line is one JSON object: message ("GET /path HTTP/1.1 200"), remote_addr, method, path, status,
bytes, duration_ms, referer, user_agent, request_id (the X-Request-ID the app answered) and
user_id (the signed-in person, when the app knew it). In text mode gunicorn logs as configured
(access_log_format) and this class changes nothing.

Imported by gunicorn's master before the gevent worker patches the standard library: keep the
imports light (no Flask extensions here).
"""

from __future__ import annotations

import os
import traceback

from gunicorn.glogging import Logger as GunicornLogger

from forum.observability.logs import make_formatter


def _log_format() -> str:
    return os.environ.get("FORUM_LOG_FORMAT", "text").strip().lower()


class Logger(GunicornLogger):
    def setup(self, cfg):
        super().setup(cfg)
        self.forum_json = _log_format() == "json"
        if not self.forum_json:
            return
        formatter = make_formatter("json")
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time):
        if not getattr(self, "forum_json", False):
            return super().access(resp, req, environ, request_time)
        if not self.access_log_enabled:
            return
        try:
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            headers = {name.lower(): value for name, value in resp.headers}
            method, path = environ.get("REQUEST_METHOD", "-"), environ.get("RAW_URI", "-")
            milliseconds = request_time.seconds * 1000 + request_time.microseconds / 1000
            notes = environ.get("forum.log") or {}  # filled by the app (forum.observability)
            self.access_log.info(
                "%s %s %s %s", method, path, environ.get("SERVER_PROTOCOL", "-"), status,
                extra={
                    "remote_addr": environ.get("REMOTE_ADDR"),
                    "method": method,
                    "path": path,
                    "status": int(status) if str(status).isdigit() else status,
                    "bytes": getattr(resp, "sent", None),
                    "duration_ms": round(milliseconds, 1),
                    "referer": environ.get("HTTP_REFERER"),
                    "user_agent": environ.get("HTTP_USER_AGENT"),
                    "request_id": headers.get("x-request-id") or notes.get("request_id"),
                    "user_id": notes.get("user_id"),
                })
        except Exception:
            self.error(traceback.format_exc())
