"""When the message queue comes back after an outage (forum.realtime.server
ResyncingRedisManager calls the resume hooks), every chat socket of the worker is told to fetch
the messages after the last one sent before the outage, and every thread follower to follow
again (issue 18, finding 1)."""

import time

from forum.extensions import db
from forum.realtime.server import _queue_resumed
from tests import factories


def test_the_queue_coming_back_tells_chat_and_thread_sockets_to_resync(
        app, personas, chat_client, follower):
    with app.app_context():
        member = db.session.get(factories.User, personas.member.id)
        group = db.session.get(factories.Group, personas.g1.id)
        thread = factories.make_thread(member, group)
        thread_id = thread.id
    chat, reader = chat_client(personas.member), follower(personas.moderator)
    chat.join(personas.g1.slug)
    first = chat.emit("send_message", {"group": personas.g1.slug, "body": "przed awarią",
                                       "client_id": "before-1"})["message"]["id"]
    assert reader.follow(personas.g1.slug, thread_id)["ok"]
    chat.events()
    reader.events()

    # Lost 10 s ago: the message sent since then is after the resync's starting point.
    _queue_resumed(app, time.time() - 10)
    [resync] = chat.events("resync")
    assert resync["after_id"] < first
    assert reader.events("resync") == [{}]
