"""On PostgreSQL the main pages make at most 5 round trips each (issue 13, item 3).

Counted inside psycopg, so that what the database is really sent is counted: every statement
(the pool's connection check included) and every BEGIN, COMMIT and ROLLBACK, each one round
trip. A page that only reads runs without a transaction (forum.extensions): a write in a GET
still gets one, which the last tests here check.
"""

import contextlib

import psycopg
import pytest

from forum.discussions import services as discussions
from forum.discussions.models import ThreadRead
from forum.extensions import db
from forum.pages import agenda
from forum.workshops import services as workshops
from tests import factories
from tests.test_query_counts import _grow, _next_page_cursor

ROUND_TRIPS = 5

PAGES = ["/", "/g/{g}/", "/g/{g}/?after={cursor}", "/g/{g}/?unread=1", "/g/{g}/t/{t}?page=1",
         "/g/{g}/t/{t}?page=2", "/g/{g}/materials/", "/g/{g}/chat", "/notifications",
         "/g/{g}/search?q=odpowiedź", "/g/{g}/sessions/{s}"]


@pytest.fixture
def round_trips(database_url, monkeypatch):
    """A list that collects what each round trip sent to PostgreSQL (skips on SQLite)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("round trips are PostgreSQL's (SQLite has none)")
    sent: list[str] = []
    execute, command = psycopg.Cursor.execute, psycopg.Connection._exec_command

    def counted_execute(self, query, *args, **kwargs):
        sent.append(" ".join(str(query).split())[:80])
        return execute(self, query, *args, **kwargs)

    def counted_command(self, text, *args, **kwargs):
        sent.append(text.decode() if isinstance(text, bytes) else str(text))
        return (yield from command(self, text, *args, **kwargs))

    monkeypatch.setattr(psycopg.Cursor, "execute", counted_execute)
    monkeypatch.setattr(psycopg.Connection, "_exec_command", counted_command)
    return sent


@contextlib.contextmanager
def counting(sent: list[str]):
    sent.clear()
    yield sent


def _plan_agenda(app, personas, number):
    """Two agenda items (one with a conclusion post, one whose thread was deleted) and two
    threads brought to the session."""
    with app.app_context():
        group = factories.group(personas.g1.id)
        moderator = factories.user(personas.moderator.id)
        session = workshops.get_workshop_for(moderator, group, number)
        threads = [discussions.start_thread(moderator, group, title=f"Do omówienia {n}",
                                            body="Punkt") for n in range(4)]
        conclusion = discussions.reply(moderator, threads[0], "Wniosek")
        threads[0].conclusion_post_id = conclusion.id
        db.session.commit()
        for thread in threads:
            agenda.mark_for_next_workshop(moderator, thread)
        agenda.add_to_agenda(moderator, session, [threads[0].id, threads[1].id])
        db.session.delete(threads[1])
        db.session.commit()


@pytest.mark.parametrize("page", PAGES)
def test_a_main_page_makes_at_most_five_round_trips(app, personas, login_as, round_trips,
                                                    page):
    client = login_as(personas.member)
    thread_id, material_id, session = _grow(app, personas, threads=3, replies=31)  # 2 pages
    if "/sessions/" in page:  # the live session's agenda and threads brought to it, all shown
        _plan_agenda(app, personas, session)
    url = page.format(g=personas.g1.slug, t=thread_id, s=session,
                      cursor=_next_page_cursor(app, personas))
    client.get(url)  # the first visit writes the read mark: measured below
    with counting(round_trips) as sent:
        response = client.get(url)
    assert response.status_code == 200
    assert len(sent) <= ROUND_TRIPS, "\n".join(sent)
    if "/sessions/" in page:  # everything was shown: the items, the deleted one, the proposals
        body = response.get_data(as_text=True)
        assert all(f"Do omówienia {n}" in body for n in range(4)), body
    assert "BEGIN" not in sent  # a page that only reads opens no transaction


def test_the_first_visit_writes_the_read_mark_in_the_same_budget(app, personas, login_as,
                                                                 round_trips):
    client = login_as(personas.member)
    thread_id, _material, _session = _grow(app, personas, threads=1, replies=3)
    url = f"/g/{personas.g1.slug}/t/{thread_id}?page=1"
    client.get("/notifications")  # the sign-in's first page writes the last-seen time
    with counting(round_trips) as sent:
        assert client.get(url).status_code == 200
    # One INSERT ... ON CONFLICT, atomic by itself: no BEGIN/COMMIT of its own.
    assert len(sent) <= ROUND_TRIPS, "\n".join(sent)
    with app.app_context():
        assert db.session.get(ThreadRead, (personas.member.id, thread_id)).last_read_number == 4


def test_a_draft_comes_with_the_thread_in_the_same_budget(app, personas, login_as, round_trips):
    """The reader's draft of a reply is read in the thread's own statement (issue 14, item
    3): a reader with a draft costs no round trip more than one without."""
    client = login_as(personas.member)
    thread_id, _material, _session = _grow(app, personas, threads=1, replies=31)
    url = f"/g/{personas.g1.slug}/t/{thread_id}?page=1"
    client.get(url)
    with counting(round_trips) as sent:
        assert client.get(url).status_code == 200
    without = len(sent)
    with app.app_context():
        group = factories.group(personas.g1.id)
        member = factories.user(personas.member.id)
        discussions.save_draft(member, group, discussions.get_thread_for(member, group,
                                                                         thread_id),
                               body="Szkic odpowiedzi")
    with counting(round_trips) as sent:
        page = client.get(url).get_data(as_text=True)
    assert "Szkic odpowiedzi</textarea>" in page
    assert len(sent) == without <= ROUND_TRIPS, "\n".join(sent)


def test_a_write_in_a_get_still_runs_in_a_transaction(app, personas, login_as, round_trips):
    """The last-seen time (written by a GET every few minutes) goes through the ORM: the
    session opens a transaction before flushing it and commits it."""
    client = login_as(personas.member)
    with app.app_context():
        user = factories.user(personas.member.id)
        user.last_seen_at = None
        db.session.commit()
    with counting(round_trips) as sent:
        assert client.get("/notifications").status_code == 200
    writes = [i for i, text in enumerate(sent) if text.startswith("UPDATE")]
    assert writes and sent[writes[0] - 1] == "BEGIN" and "COMMIT" in sent[writes[0]:], sent
    with app.app_context():
        assert factories.user(personas.member.id).last_seen_at is not None


def test_the_read_mark_never_goes_back(app, personas, login_as, database_url):
    client = login_as(personas.member)
    thread_id, _material, _session = _grow(app, personas, threads=1, replies=31)
    assert client.get(f"/g/{personas.g1.slug}/t/{thread_id}?page=2").status_code == 200
    assert client.get(f"/g/{personas.g1.slug}/t/{thread_id}?page=1").status_code == 200
    with app.app_context():
        assert db.session.get(ThreadRead, (personas.member.id, thread_id)).last_read_number == 32
        discussions.mark_read(factories.user(personas.member.id),
                              discussions.get_thread_for(factories.user(personas.member.id),
                                                         factories.group(personas.g1.id),
                                                         thread_id), 5)
        db.session.expire_all()
        assert db.session.get(ThreadRead, (personas.member.id, thread_id)).last_read_number == 32
