"""Threads read live: the `/threads` namespace and the post fragment, per entry point."""

from __future__ import annotations

import re

import pytest

from forum.accounts import services as accounts
from forum.discussions import live, services
from forum.extensions import db
from forum.groups import services as groups
from forum.realtime import server as realtime
from tests import factories


@pytest.fixture
def thread(app, personas):
    """A thread of g1 started by the member: (id, first post id)."""
    with app.app_context():
        made = factories.make_thread(factories.user(personas.member.id),
                                     factories.group(personas.g1.id))
        return made.id, services.post_id_at(made, 1)


def _reply(http, slug, thread_id, body="Odpowiedź"):
    return http.post(f"/g/{slug}/t/{thread_id}/reply", data={"body": body})


def _post_id(response) -> int:
    return int(re.search(r"#post-(\d+)$", response.headers["Location"]).group(1))


# --- following -------------------------------------------------------------------------------


def test_a_follower_is_told_of_a_reply_made_through_the_html_form(personas, follower, login_as,
                                                                 thread):
    thread_id, _first = thread
    reader = follower(personas.member)
    ack = reader.follow(personas.g1.slug, thread_id)
    assert ack == {"ok": True, "thread_id": thread_id, "last_number": 1, "page": 1,
                   "per_page": services.POSTS_PER_PAGE}
    response = _reply(login_as(personas.moderator), personas.g1.slug, thread_id)
    assert response.status_code == 302
    assert reader.events() == [{"thread_id": thread_id, "post_id": _post_id(response),
                                "number": 2, "page": 1}]


def test_the_event_names_the_page_the_post_lands_on(app, personas, follower, login_as, thread):
    thread_id, _first = thread
    with app.app_context():
        for n in range(services.POSTS_PER_PAGE - 1):  # fill page 1 (30 posts)
            services.reply(factories.user(personas.member.id),
                           db.session.get(services.Thread, thread_id), f"wpis {n}")
    reader = follower(personas.observer)
    reader.follow(personas.g1.slug, thread_id)
    _reply(login_as(personas.moderator), personas.g1.slug, thread_id)
    [event] = reader.events("post_created")
    assert (event["number"], event["page"]) == (services.POSTS_PER_PAGE + 1, 2)


def test_a_failed_reply_announces_nothing(personas, follower, login_as, thread):
    thread_id, _first = thread
    reader = follower(personas.member)
    reader.follow(personas.g1.slug, thread_id)
    moderator = login_as(personas.moderator)
    assert _reply(moderator, personas.g1.slug, thread_id, body="   ").status_code == 400
    observer = login_as(personas.observer)  # observers may not post: 403
    assert _reply(observer, personas.g1.slug, thread_id).status_code == 403
    assert reader.events() == []


def test_a_rolled_back_reply_is_never_broadcast(app, personas, follower, thread, monkeypatch):
    """The event is queued, then the transaction fails before its commit: nothing is sent."""
    thread_id, _first = thread
    reader = follower(personas.member)
    reader.follow(personas.g1.slug, thread_id)
    queue = live.post_created_after_commit
    queued = []

    def queue_then_fail(post):
        queue(post)
        queued.append(post.number)
        raise RuntimeError("the database went away before the commit")

    with app.app_context():
        monkeypatch.setattr(live, "post_created_after_commit", queue_then_fail)
        with pytest.raises(RuntimeError):
            services.reply(factories.user(personas.moderator.id),
                           db.session.get(services.Thread, thread_id), "Nie dojdzie")
        db.session.rollback()
        monkeypatch.undo()
        assert queued == [2]
        assert db.session.get(services.Thread, thread_id).last_number == 1
        assert reader.events() == []
        # The next reply commits and is announced (with the number the failed one did not keep).
        services.reply(factories.user(personas.moderator.id),
                       db.session.get(services.Thread, thread_id), "Dojdzie")
    assert [e["number"] for e in reader.events("post_created")] == [2]


def test_an_outsider_is_refused_exactly_like_a_missing_thread(personas, follower, login_as,
                                                             thread):
    thread_id, _first = thread
    outsider = follower(personas.outsider)
    refused = outsider.follow(personas.g1.slug, thread_id)
    assert refused["ok"] is False and refused["error"] == "not_found"
    assert outsider.follow(personas.g1.slug, thread_id + 1000) == refused
    assert outsider.follow("no-such-group", thread_id) == refused
    # A thread of a group they belong to, asked for under another group's address.
    assert follower(personas.member).follow(personas.g2.slug, thread_id) == refused
    _reply(login_as(personas.moderator), personas.g1.slug, thread_id)
    assert outsider.events() == []


def test_an_observer_may_follow(personas, follower, login_as, thread):
    thread_id, _first = thread
    observer = follower(personas.observer)
    assert observer.follow(personas.g1.slug, thread_id)["ok"] is True
    _reply(login_as(personas.member), personas.g1.slug, thread_id)
    assert [e["number"] for e in observer.events("post_created")] == [2]


def test_anonymous_and_foreign_connections_are_refused(app, personas, follower):
    assert not follower(None).connected
    http = follower(personas.member).http
    assert not follower(None, http=http, headers={"Origin": "https://evil.example"}).connected
    assert follower(None, http=http, headers={"Origin": "http://forum.test"}).connected


BAD = [None, "x", {"slug": "miasta-testowe"}, {"thread_id": 1},
       {"slug": "", "thread_id": 1}, {"slug": "miasta-testowe", "thread_id": "1"},
       {"slug": "miasta-testowe", "thread_id": True}, {"slug": "miasta-testowe", "thread_id": -3},
       {"slug": ["x"], "thread_id": 1}]


def test_wrong_fields_get_a_bad_request_answer(personas, follower):
    reader = follower(personas.member)
    for data in BAD:
        ack = reader.emit("follow_thread", data)
        assert ack["ok"] is False and ack["error"] == "bad_request" and ack["message"], data
    assert reader.connected


def test_one_connection_follows_a_bounded_number_of_threads(app, personas, follower):
    with app.app_context():
        member, group = factories.user(personas.member.id), factories.group(personas.g1.id)
        ids = [factories.make_thread(member, group, f"W {n}", "x").id
               for n in range(live.MAX_FOLLOWS + 1)]
    reader = follower(personas.member)
    for thread_id in ids[:-1]:
        assert reader.follow(personas.g1.slug, thread_id)["ok"]
    assert reader.follow(personas.g1.slug, ids[0])["ok"]  # again: not one more
    assert reader.follow(personas.g1.slug, ids[-1])["error"] == "too_many"


def test_followers_are_not_chat_presence(app, personas, follower, chat_client, thread):
    thread_id, _first = thread
    reader = follower(personas.member)
    assert reader.follow(personas.g1.slug, thread_id)["ok"]
    chat = chat_client(personas.moderator)
    ack = chat.join(personas.g1.slug)
    assert [p["id"] for p in ack["present"]] == [personas.moderator.id]
    with app.app_context():
        assert realtime.state().presence.sids_of(personas.member.id) == set()
        assert realtime.state().presence.present(personas.g1.id) == [ack["me"]]
    chat.disconnect()


def test_the_follow_ends_with_the_connection(app, personas, follower, login_as, thread):
    thread_id, _first = thread
    reader = follower(personas.member)
    reader.follow(personas.g1.slug, thread_id)
    reader.disconnect()
    with app.app_context():
        assert live.state().connections.sids_of(personas.member.id) == set()
        assert live.state().follows == {}
    _reply(login_as(personas.moderator), personas.g1.slug, thread_id)
    assert reader.client.queue == []


# --- the socket's session is a snapshot: changes reach it at once ----------------------------


def _assert_cut_off(reader, reason):
    assert not reader.connected
    ended = [p["args"][0] for p in reader.client.queue if p["name"] == "session_ended"]
    assert ended == [{"reason": reason}]


def test_a_removed_member_stops_receiving(app, personas, follower, login_as, thread):
    thread_id, _first = thread
    reader = follower(personas.member)
    reader.follow(personas.g1.slug, thread_id)
    with app.app_context():
        groups.remove_member(factories.user(personas.admin.id), factories.group(personas.g1.id),
                             factories.user(personas.member.id))
    _assert_cut_off(reader, "membership")
    reader.client.queue.clear()
    _reply(login_as(personas.moderator), personas.g1.slug, thread_id)
    assert reader.client.queue == []
    # Connecting again works (still signed in); following the thread does not.
    again = follower(personas.member, http=reader.http)
    assert again.follow(personas.g1.slug, thread_id)["error"] == "not_found"
    _reply(login_as(personas.moderator), personas.g1.slug, thread_id, body="Jeszcze raz")
    assert again.events() == []


def test_a_role_change_cuts_followers_off_and_they_follow_again(app, personas, follower,
                                                                 login_as, thread):
    thread_id, _first = thread
    reader = follower(personas.member)
    reader.follow(personas.g1.slug, thread_id)
    with app.app_context():
        groups.set_role(factories.user(personas.admin.id), factories.group(personas.g1.id),
                        factories.user(personas.member.id), "observer")
    _assert_cut_off(reader, "membership")
    again = follower(personas.member, http=reader.http)
    assert again.follow(personas.g1.slug, thread_id)["ok"] is True


def test_deactivation_and_sign_out_cut_followers_off(app, personas, follower, thread):
    thread_id, _first = thread
    member, moderator = follower(personas.member), follower(personas.moderator)
    member.follow(personas.g1.slug, thread_id)
    moderator.follow(personas.g1.slug, thread_id)
    with app.app_context():
        accounts.set_user_active(factories.user(personas.admin.id),
                                 factories.user(personas.member.id), False)
    _assert_cut_off(member, "signed_out")
    moderator.http.post("/logout")
    _assert_cut_off(moderator, "signed_out")


def test_every_follow_reads_the_session_again(app, personas, follower, thread):
    """A session ended without a kick (a rotated alternative id) is seen by the next event."""
    thread_id, _first = thread
    reader = follower(personas.member)
    with app.app_context():
        factories.user(personas.member.id).alternative_id = "rotated-elsewhere"
        db.session.commit()
    ack = reader.follow(personas.g1.slug, thread_id)
    assert ack["error"] == "session_ended"
    assert not reader.connected


# --- post_changed ----------------------------------------------------------------------------


def test_edits_hides_and_removals_are_announced_without_content(personas, follower, login_as,
                                                                thread):
    thread_id, first = thread
    reader = follower(personas.observer)
    reader.follow(personas.g1.slug, thread_id)
    slug = personas.g1.slug
    member, moderator = login_as(personas.member), login_as(personas.moderator)
    changed = {"thread_id": thread_id, "post_id": first, "number": 1, "page": 1}
    assert member.post(f"/g/{slug}/p/{first}/edit", data={"body": "Poprawione"}).status_code \
        == 302
    assert reader.events() == [changed]
    moderator.post(f"/g/{slug}/p/{first}/hide", data={"reason": "Dane osobowe"})
    moderator.post(f"/g/{slug}/p/{first}/hide", data={"unhide": "1"})
    assert reader.events() == [changed, changed]
    second = _post_id(_reply(moderator, slug, thread_id))
    reader.events()
    member.post(f"/g/{slug}/p/{first}/hide", data={"reason": "nie moderator"})  # 403
    moderator.post(f"/g/{slug}/p/{second}/delete")
    assert reader.events() == [{"thread_id": thread_id, "post_id": second, "number": 2,
                                "page": 1}]


# --- the fragment ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona, status", [
    ("admin", 200), ("moderator", 200), ("member", 200), ("observer", 200),
    ("outsider", 404), (None, 302),
])
def test_the_fragment_per_persona(personas, login_as, thread, persona, status):
    thread_id, first = thread
    http = login_as(getattr(personas, persona) if persona else None)
    response = http.get(f"/g/{personas.g1.slug}/t/{thread_id}/posts/1/fragment")
    assert response.status_code == status
    if status == 200:
        page = response.get_data(as_text=True)
        assert len(re.findall(r'<li class="post[ "]', page)) == 1 and f'id="post-{first}"' in page
        assert "Jak organizujecie dowozy?" in page
        assert response.headers["Cache-Control"] == "no-store"
    elif persona is None:
        assert "/login" in response.headers["Location"]


def test_the_fragment_of_a_missing_post_or_thread_is_404(personas, login_as, thread):
    thread_id, _first = thread
    member = login_as(personas.member)
    slug = personas.g1.slug
    assert member.get(f"/g/{slug}/t/{thread_id}/posts/2/fragment").status_code == 404
    assert member.get(f"/g/{slug}/t/{thread_id + 1000}/posts/1/fragment").status_code == 404
    assert member.get(f"/g/{personas.g2.slug}/t/{thread_id}/posts/1/fragment").status_code \
        == 404


def test_the_fragment_shows_each_reader_what_they_may_see(personas, login_as, thread):
    thread_id, first = thread
    slug = personas.g1.slug
    moderator, observer = login_as(personas.moderator), login_as(personas.observer)
    second = _post_id(_reply(moderator, slug, thread_id, body="Mój **numer** telefonu"))
    moderator.post(f"/g/{slug}/p/{second}/hide", data={"reason": "Dane osobowe"})
    url = f"/g/{slug}/t/{thread_id}/posts/2/fragment"
    seen_by_observer = observer.get(url).get_data(as_text=True)
    assert f'id="post-{second}"' in seen_by_observer
    assert "numer</strong>" not in seen_by_observer
    assert "This post was hidden by a moderator." in seen_by_observer
    assert "<strong>numer</strong>" in moderator.get(url).get_data(as_text=True)


def test_the_fragment_does_not_move_the_read_mark(app, personas, login_as, thread):
    thread_id, _first = thread
    member, moderator = login_as(personas.member), login_as(personas.moderator)
    _reply(moderator, personas.g1.slug, thread_id)
    assert member.get(f"/g/{personas.g1.slug}/t/{thread_id}/posts/2/fragment").status_code \
        == 200
    with app.app_context():
        thread_row = db.session.get(services.Thread, thread_id)
        assert services.last_read_number(factories.user(personas.member.id), thread_row) == 1


def test_the_thread_page_loads_the_live_client(personas, login_as, thread):
    thread_id, _first = thread
    page = login_as(personas.member).get(f"/g/{personas.g1.slug}/t/{thread_id}?page=1")
    html = page.get_data(as_text=True)
    assert 'src="/static/js/thread_live.js"' in html
    assert (f'data-fragment-url="/g/{personas.g1.slug}/t/{thread_id}/posts/0/fragment"'
            in html)
    assert 'data-last-number="1"' in html and 'data-page="1"' in html


def test_a_socket_gone_before_its_event_is_handled_is_refused_not_an_error(app):
    """The browser left the page while its follow_thread (or the chat's join) was on its
    way: entering the room is refused with "disconnected", nothing is logged as a failure."""
    from forum.errors import Refused

    with app.test_request_context():
        with pytest.raises(Refused) as refused:
            realtime.enter_room("no-such-sid", live.thread_room(1), namespace="/threads")
    assert refused.value.ack()["error"] == "disconnected"
