"""The poll pages through Flask's test client, and `follow_poll` / `poll_changed` on the
`/threads` namespace."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest

from forum.extensions import db
from forum.polls.models import Ballot, Poll
from forum.timeutil import utcnow
from tests import factories
from tests.polls.helpers import start


@pytest.fixture
def world(app, personas):
    with app.app_context():
        people = factories.people_of(personas)
        group = people["g1"]
        thread = factories.make_thread(people["member"], group, "Dowozy")
        poll = start(people, group, "ranked", thread=thread)
        return SimpleNamespace(slug=group.slug, thread_id=thread.id, poll_id=poll.id,
                               options={o.label: o.id for o in poll.options})


def _start_form(**fields):
    closes = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    return {"kind": "single", "question": "Gdzie spotkanie?", "options": "Lublin\nKraków",
            "closes_at": closes, "points": "10", "max_choices": "0", **fields}


def test_a_member_starts_a_poll_from_the_thread_and_it_shows_there(world, login_as, personas):
    member = login_as(personas.member)
    page = member.get(f"/g/{world.slug}/t/{world.thread_id}").get_data(as_text=True)
    assert f"/g/{world.slug}/polls/new?thread={world.thread_id}" in page
    assert f'id="poll-card-{world.poll_id}"' in page
    response = member.post(f"/g/{world.slug}/polls/new",
                           data=_start_form(thread=str(world.thread_id)))
    assert response.status_code == 302
    page = member.get(f"/g/{world.slug}/t/{world.thread_id}").get_data(as_text=True)
    assert "Gdzie spotkanie?" in page


def test_a_failed_start_keeps_what_was_typed(world, login_as, personas):
    member = login_as(personas.member)
    response = member.post(f"/g/{world.slug}/polls/new",
                           data=_start_form(options="Tylko jedna\n", details="Ważne tło"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Give at least two options" in page
    assert "Gdzie spotkanie?" in page and "Ważne tło" in page and "Tylko jedna" in page


def test_vote_change_and_see_the_rounds_without_javascript(app, world, login_as, personas):
    member = login_as(personas.member)
    url = f"/g/{world.slug}/polls/{world.poll_id}"
    form = {f"rank-{world.options['Beta']}": "1", f"rank-{world.options['Alfa']}": "2",
            "revision": "0"}
    assert member.post(url + "/vote", data=form).status_code == 302
    page = member.get(url).get_data(as_text=True)
    assert "Round 1" in page and "Winner:" in page
    assert 'name="revision" value="1"' in page
    assert re.search(rf'name="rank-{world.options["Beta"]}" value="1"', page)
    form = {f"rank-{world.options['Gama']}": "1", "revision": "1"}
    assert member.post(url + "/vote", data=form).status_code == 302
    with app.app_context():
        [ballot] = db.session.scalars(db.select(Ballot)).all()
        assert ballot.as_mapping() == {world.options["Gama"]: 1}


def test_a_malformed_ranked_ballot_is_refused_and_kept(world, login_as, personas):
    member = login_as(personas.member)
    url = f"/g/{world.slug}/polls/{world.poll_id}"
    form = {f"rank-{world.options['Alfa']}": "1", f"rank-{world.options['Beta']}": "1",
            "reason": "Moje uzasadnienie"}
    response = member.post(url + "/vote", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "different place" in page and "Moje uzasadnienie" in page
    response = member.post(url + "/vote", data={f"rank-{world.options['Alfa']}": "first"})
    assert response.status_code == 400 and "whole numbers" in response.get_data(as_text=True)


def test_a_ballot_after_closing_gets_a_clear_error(app, world, login_as, personas):
    with app.app_context():
        db.session.execute(db.update(Poll).values(closes_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    member = login_as(personas.member)
    url = f"/g/{world.slug}/polls/{world.poll_id}"
    response = member.post(url + "/vote", data={f"rank-{world.options['Alfa']}": "1"})
    assert response.status_code == 400
    assert "This poll has closed" in response.get_data(as_text=True)
    assert "Final results" in member.get(url).get_data(as_text=True)


@pytest.mark.parametrize("who, status", [("outsider", 404), ("observer", 200), (None, 302)])
def test_who_sees_a_poll(world, login_as, personas, who, status):
    client = login_as(getattr(personas, who) if who else None)
    for path in ("", "/results", "/card"):
        assert client.get(f"/g/{world.slug}/polls/{world.poll_id}{path}").status_code == status
    assert client.get(f"/g/{world.slug}/polls/").status_code == status


def test_observers_cannot_vote_and_outsiders_learn_nothing(world, login_as, personas):
    url = f"/g/{world.slug}/polls/{world.poll_id}"
    form = {f"rank-{world.options['Alfa']}": "1"}
    assert login_as(personas.observer).post(url + "/vote", data=form).status_code == 403
    assert login_as(personas.outsider).post(url + "/vote", data=form).status_code == 404
    assert login_as(personas.outsider).post(url + "/close").status_code == 404
    assert login_as(personas.observer).post(url + "/close").status_code == 403


def test_the_starter_closes_early(app, world, login_as, personas):
    member = login_as(personas.member)
    url = f"/g/{world.slug}/polls/{world.poll_id}"
    assert member.post(url + "/close").status_code == 302
    page = member.get(url).get_data(as_text=True)
    assert "Final results" in page and 'action="' + url + '/vote"' not in page


def test_dashboard_lists_polls_waiting_for_my_vote(world, login_as, personas):
    member = login_as(personas.member)
    page = member.get("/").get_data(as_text=True)
    assert "Waiting for your vote" in page and f"/polls/{world.poll_id}" in page
    member.post(f"/g/{world.slug}/polls/{world.poll_id}/vote",
                data={f"rank-{world.options['Alfa']}": "1"})
    assert "Waiting for your vote" not in member.get("/").get_data(as_text=True)


def test_a_ballot_is_announced_to_the_poll_and_thread_followers(world, login_as, personas,
                                                                follower):
    poll_reader = follower(personas.observer)
    ack = poll_reader.emit("follow_poll", {"slug": world.slug, "poll_id": world.poll_id})
    assert ack == {"ok": True, "poll_id": world.poll_id, "revision": 0}
    thread_reader = follower(personas.moderator)
    thread_reader.follow(world.slug, world.thread_id)
    login_as(personas.member).post(f"/g/{world.slug}/polls/{world.poll_id}/vote",
                                   data={f"rank-{world.options['Alfa']}": "1"})
    expected = {"poll_id": world.poll_id, "thread_id": world.thread_id}
    assert poll_reader.events("poll_changed") == [expected]
    assert thread_reader.events("poll_changed") == [expected]
    # A refused ballot announces nothing.
    login_as(personas.member).post(f"/g/{world.slug}/polls/{world.poll_id}/vote",
                                   data={f"rank-{world.options['Alfa']}": "2"})
    assert poll_reader.events("poll_changed") == []


def test_an_outsider_cannot_follow_a_poll(world, personas, follower):
    outsider = follower(personas.outsider)
    ack = outsider.emit("follow_poll", {"slug": world.slug, "poll_id": world.poll_id})
    assert ack["ok"] is False and ack["error"] == "not_found"
    ack = outsider.emit("follow_poll", {"slug": world.slug, "poll_id": "x"})
    assert ack["ok"] is False and ack["error"] == "bad_request"




def test_a_poll_started_from_the_chat_is_announced_there(app, world, login_as, personas):
    member = login_as(personas.member)
    page = member.get(f"/g/{world.slug}/chat").get_data(as_text=True)
    assert f"/g/{world.slug}/polls/new?from=chat" in page
    form = _start_form(question="Przerwa [teraz] czy za 10 minut?", **{"from": "chat"})
    response = member.post(f"/g/{world.slug}/polls/new", data=form)
    assert response.status_code == 302
    poll_url = response.headers["Location"]
    from forum.chat.models import ChatMessage

    with app.app_context():
        [message] = db.session.scalars(db.select(ChatMessage)).all()
        assert f'href="{poll_url}"' in message.body_html
        assert "Przerwa [teraz] czy za 10 minut?" in message.body_html
