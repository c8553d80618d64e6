"""Presence announced in short batches (forum.chat.presence_batch): one `presence_changed`
per group and window, listing everyone who came or went, each by where they stand when it
is sent; the joiner's own full list is never delayed."""

import time

from forum.chat.presence_batch import batcher
from forum.realtime import server as realtime


def _batched(app, seconds: float):
    """Switch `app` to batches of `seconds` (before its first chat event) → its batcher."""
    app.config["FORUM_CHAT_PRESENCE_SECONDS"] = seconds
    return batcher(app, realtime.state(app))


def _person(ack: dict, user_id: int) -> dict:
    return next(p for p in ack["present"] if p["id"] == user_id)


def test_several_joins_within_a_window_make_one_event_listing_them_all(app, personas,
                                                                        chat_client):
    announcer = _batched(app, 60)  # the test sends the batch itself
    slug = personas.g1.slug
    watcher = chat_client(personas.moderator)
    watcher.join(slug)
    announcer.flush()
    watcher.events()

    chat_client(personas.member).join(slug)
    ack = chat_client(personas.observer).join(slug)
    # The joiner has everyone at once, the batch not yet sent.
    assert [p["id"] for p in ack["present"]] == [
        personas.member.id, personas.moderator.id, personas.observer.id]
    assert watcher.events("presence_changed") == []

    announcer.flush()
    assert watcher.events("presence_changed") == [{
        "group": slug,
        "joined": [_person(ack, personas.member.id), _person(ack, personas.observer.id)],
        "left": [],
    }]
    announcer.flush()  # nothing new: nothing sent
    assert watcher.events("presence_changed") == []


def test_leaving_and_coming_back_within_a_window_nets_out(app, personas, chat_client):
    announcer = _batched(app, 60)
    slug = personas.g1.slug
    watcher = chat_client(personas.moderator)
    watcher.join(slug)
    first_tab = chat_client(personas.member)
    ack = first_tab.join(slug)
    announcer.flush()
    watcher.events()
    jan = _person(ack, personas.member.id)

    assert first_tab.emit("leave", {"group": slug}) == {"ok": True}  # Jan goes …
    chat_client(personas.member).join(slug)  # … and comes back in another tab
    passer_by = chat_client(personas.observer)
    passer_by.join(slug)  # Olga comes …
    passer_by.disconnect()  # … and goes
    announcer.flush()
    # One event: Jan is here (not also in "left"), Olga is not (not also in "joined").
    assert watcher.events("presence_changed") == [
        {"group": slug, "joined": [jan], "left": [personas.observer.id]}]
    assert [p["id"] for p in watcher.join(slug)["present"]] == [
        personas.member.id, personas.moderator.id]


def test_a_batch_is_sent_by_itself_after_the_window(app, personas, chat_client):
    _batched(app, 0.05)
    slug = personas.g1.slug
    watcher = chat_client(personas.moderator)
    watcher.join(slug)
    ack = chat_client(personas.member).join(slug)
    jan = _person(ack, personas.member.id)
    seen: list = []
    deadline = time.monotonic() + 5
    while jan not in [p for event in seen for p in event["joined"]]:
        assert time.monotonic() < deadline, seen
        time.sleep(0.02)
        seen += watcher.events("presence_changed")
    time.sleep(0.2)
    seen += watcher.events("presence_changed")
    # The watcher's own arrival and Jan's: one or two batches, each person once.
    assert sorted(p["id"] for event in seen for p in event["joined"]) == sorted(
        [personas.member.id, personas.moderator.id])
    assert all(event["left"] == [] for event in seen)


def test_without_a_window_every_change_is_announced_at_once(app, personas, chat_client):
    assert app.config["FORUM_CHAT_PRESENCE_SECONDS"] == 0  # the test-suite's default
    watcher = chat_client(personas.moderator)
    watcher.join(personas.g1.slug)
    watcher.events()
    chat_client(personas.member).join(personas.g1.slug)
    assert [e["joined"][0]["id"] for e in watcher.events("presence_changed")] == [
        personas.member.id]


def test_a_process_shutting_down_announces_each_change_at_once(app, personas, chat_client,
                                                                monkeypatch):
    import threading

    from forum.chat import presence_batch

    monkeypatch.setattr(presence_batch, "_AT_ONCE", threading.Event())
    _batched(app, 60)
    slug = personas.g1.slug
    watcher = chat_client(personas.moderator)
    watcher.join(slug)
    watcher.events()
    presence_batch.announce_at_once()
    ack = chat_client(personas.member).join(slug)
    assert watcher.events("presence_changed") == [{
        "group": slug, "joined": [_person(ack, personas.member.id)], "left": []}]
