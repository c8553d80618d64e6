"""The installation's Redis prefix: how it is chosen, and that every name the app gives Redis
carries it (one app in this process on a real redis-server). Two installations side by side,
served by gunicorn: tests/test_redis_isolation.py."""

from __future__ import annotations

import re

import pytest

from forum.config import load_config
from tests import factories


def _prefix(tmp_path, **env) -> str:
    env = {"FORUM_ENV": "testing", "FORUM_SECRET_KEY": "k" * 40,
           "FORUM_DATABASE_URL": "postgresql+psycopg://forum@db/forum", **env}
    return load_config(str(tmp_path), env)["FORUM_REDIS_PREFIX"]


def test_the_default_prefix_is_stable_for_one_installation(tmp_path):
    first = _prefix(tmp_path)
    assert first == _prefix(tmp_path)  # another process of the same installation
    assert re.fullmatch(r"forum-[0-9a-f]{12}", first)


def test_the_default_prefix_differs_with_the_database_url(tmp_path):
    assert _prefix(tmp_path) != _prefix(
        tmp_path, FORUM_DATABASE_URL="postgresql+psycopg://forum@db/forum_staging")


def test_the_default_prefix_differs_with_the_secret_key(tmp_path):
    assert _prefix(tmp_path) != _prefix(tmp_path, FORUM_SECRET_KEY="s" * 40)


def test_forum_redis_prefix_overrides_the_default(tmp_path):
    assert _prefix(tmp_path, FORUM_REDIS_PREFIX="forum-drill") == "forum-drill"
    assert _prefix(tmp_path, FORUM_REDIS_PREFIX="") == _prefix(tmp_path)  # empty: the default


def test_the_prefix_follows_the_database_and_secret_an_app_is_given(make_app):
    from forum.config import default_redis_prefix

    first, second = make_app(), make_app()  # two processes of one installation
    assert first.config["FORUM_REDIS_PREFIX"] == second.config["FORUM_REDIS_PREFIX"] == \
        default_redis_prefix(first.config["SQLALCHEMY_DATABASE_URI"], first.config["SECRET_KEY"])
    assert make_app(SECRET_KEY="o" * 40).config["FORUM_REDIS_PREFIX"] != \
        first.config["FORUM_REDIS_PREFIX"]
    assert make_app(FORUM_REDIS_PREFIX="forum-drill").config["FORUM_REDIS_PREFIX"] == \
        "forum-drill"


def test_every_redis_name_the_app_uses_carries_the_prefix(make_app, redis_url, personas):
    import redis

    from forum.accounts import throttle
    from forum.chat import services as chat
    from forum.discussions import live
    from forum.realtime import server as realtime

    app = make_app(FORUM_REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=redis_url,
                   SOCKETIO_MESSAGE_QUEUE=redis_url, FORUM_REDIS_PREFIX="inst-a")
    assert realtime.state(app).server.manager.channel == "inst-a:socketio"
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    listener = connection.pubsub()
    listener.psubscribe("*")
    listener.get_message(timeout=5)  # the subscription's confirmation
    try:
        with app.app_context():
            member = factories.user(personas.member.id)
            group = factories.group(personas.g1.id)
            throttle.record_failure("nobody@example.org", "192.0.2.7")  # sign-in throttle
            chat.send_message(member, group, "z prefiksem", "prefix-1")  # chat rate, emit
            presence = realtime.state().presence  # chat presence
            presence.connect(member.id, "sid-chat", member.alternative_id)
            presence.join(group.id, chat.person(member), "sid-chat")
            live.connected(member.id, "sid-threads", member.alternative_id)  # /threads
        client = app.test_client()  # Flask-Limiter's own limit on the reset form
        client.post("/password/forgot", data={"email": "nobody@example.org"})

        published = listener.get_message(timeout=5)
        assert published is not None and published["type"] == "pmessage"
        assert published["channel"] == "inst-a:socketio"

        keys = sorted(connection.scan_iter("*"))
        assert keys, "nothing was written to Redis"
        assert [k for k in keys if not k.startswith("inst-a:")] == []
        kinds = {k.split(":")[1] for k in keys}
        assert kinds == {"limits", "chat", "threads"}
        limits = " ".join(k for k in keys if k.startswith("inst-a:limits:"))
        for namespace in ("login-account", "login-address", "chat", "LIMITER"):
            assert namespace in limits, f"no {namespace} counter in {limits}"
    finally:
        listener.close()
        connection.close()


@pytest.mark.parametrize("uri", ["memory://", ""])
def test_without_redis_the_rate_limits_stay_in_memory(uri):
    from limits.storage import MemoryStorage

    from forum.redis_names import limits_options, limits_storage

    config = {"FORUM_REDIS_PREFIX": "inst-a", "RATELIMIT_STORAGE_URI": uri}
    assert limits_options(config) == {}
    assert isinstance(limits_storage(config), MemoryStorage)
