"""Every name this installation gives Redis starts with its FORUM_REDIS_PREFIX.

Redis publish/subscribe ignores database numbers, and rooms, presence and rate-limit keys are
named by numeric ids that coincide between installations (user 3 of production and user 3 of
a restored copy). So two installations sharing one Redis server are kept apart by names only:

- `<prefix>:socketio`          the Socket.IO channel between processes (forum.realtime.server)
- `<prefix>:chat:…`            who is in which group's chat, each person's connections
- `<prefix>:threads:…`         the connections following threads live (forum.discussions.live)
- `<prefix>:limits:…`          rate-limit counters: sign-in failures, chat messages and
                               Flask-Limiter's per-view limits

The prefix defaults to one derived from the database URL and the secret key
(forum.config.default_redis_prefix), so the processes of one installation share it and
another installation gets its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from limits.storage import Storage, storage_from_string

from forum.config import default_redis_prefix


def redis_name(config: Mapping, *parts: str) -> str:
    """`<FORUM_REDIS_PREFIX>:<part>:<part>…`"""
    return ":".join((config["FORUM_REDIS_PREFIX"], *parts))


def follow_overrides(app, overrides: Mapping) -> None:
    """`create_app(config)` may replace the database URL or the secret key that `load_config`
    read from the environment (tests, scripts): the default prefix follows the values the app
    really uses, unless FORUM_REDIS_PREFIX was given (environment or overrides)."""
    if overrides.get("FORUM_REDIS_PREFIX") or os.environ.get("FORUM_REDIS_PREFIX"):
        return
    app.config["FORUM_REDIS_PREFIX"] = default_redis_prefix(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SECRET_KEY"])


def _is_redis(uri: str) -> bool:
    scheme = uri.split("://", 1)[0].lower()
    return "redis" in scheme or "valkey" in scheme


def limits_options(config: Mapping) -> dict:
    """Options for a `limits` storage at RATELIMIT_STORAGE_URI: the key prefix with Redis
    (the `limits` library would otherwise name every key `LIMITS:…`)."""
    if _is_redis(config.get("RATELIMIT_STORAGE_URI") or ""):
        return {"key_prefix": redis_name(config, "limits")}
    return {}


def limits_storage(config: Mapping) -> Storage:
    """A counter storage for this app's own rate limits (sign-in throttle, chat)."""
    uri = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    return storage_from_string(uri, **limits_options(config))


def configure_flask_limiter(app) -> None:
    """Call before `limiter.init_app(app)`: Flask-Limiter passes RATELIMIT_STORAGE_OPTIONS to
    its storage, so its keys carry the prefix too."""
    options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    options.update(limits_options(app.config))
    app.config["RATELIMIT_STORAGE_OPTIONS"] = options
