"""Pages run a fixed number of queries, whatever the amount of data (no N+1)."""

import contextlib
import io

import pytest
from sqlalchemy import event

from forum.discussions import services as discussions
from forum.extensions import db
from forum.materials import services as materials
from forum.workshops import services as workshops
from tests import factories
from tests.materials import samples


@contextlib.contextmanager
def count_queries(app):
    statements = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _grow(app, personas, threads: int, replies: int):
    """Add threads (each with replies), sessions and materials to g1."""
    with app.app_context():
        group = factories.group(personas.g1.id)
        member = factories.user(personas.member.id)
        moderator = factories.user(personas.moderator.id)
        others = [factories.make_user() for _ in range(3)]
        for person in others:
            factories.add_member(person, group)
        start = len(workshops.list_workshops(moderator, group)) + 1
        for n in range(start, start + 2):
            workshops.create_workshop(moderator, group, workshops.WorkshopInput(
                number=n, theme=f"Sesja {n}", day1=workshops.group_today(group)))
        material = materials.share_material(
            member, group, materials.MaterialInput(title="M", kind="minutes",
                                                   workshop_number=start),
            materials.Upload(io.BytesIO(samples.PDF), "m.pdf"))
        last = None
        for n in range(threads):
            last = discussions.start_thread(others[n % 3], group, title=f"Wątek {n}",
                                            body="treść @jan.kowalski", workshop_number=start,
                                            material_ids=[material.id])
            for r in range(replies):
                post = discussions.reply(others[r % 3], last, f"odpowiedź {r}")
                discussions.toggle_reaction(member, post, "useful")
        return last.id, material.id, start


PAGES = ["/", "/g/{g}/", "/g/{g}/?unread=1", "/g/{g}/t/{t}?page=1", "/g/{g}/sessions/",
         "/g/{g}/sessions/{s}", "/g/{g}/materials/", "/g/{g}/materials/{m}", "/notifications",
         "/g/{g}/members"]


@pytest.mark.parametrize("page", PAGES)
def test_queries_per_page_do_not_grow_with_the_data(app, personas, login_as, page):
    client = login_as(personas.member)
    thread_id, material_id, session = _grow(app, personas, threads=1, replies=1)
    url = page.format(g=personas.g1.slug, t=thread_id, m=material_id, s=session)
    client.get(url)  # warm-up: first-visit writes (read marks) are not what we measure
    with count_queries(app) as small:
        assert client.get(url).status_code == 200
    thread_id, material_id, session = _grow(app, personas, threads=4, replies=4)
    url = page.format(g=personas.g1.slug, t=thread_id, m=material_id, s=session)
    client.get(url)
    with count_queries(app) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small), "\n".join(large)
    assert len(large) <= 25, "\n".join(large)


# The pages members open most (issue 13): the group's thread list (first page, next page, the
# unread filter) and the dashboard each have a fixed budget of queries. Going over it fails,
# and so does a count that changes with the amount of data. What the budgets are made of:
#   every signed-in page: the user with their roles and unread notification count (one query);
#   a group's page: the group;
#   the thread list: the threads (pinned ones and the page in one statement, with their
#   materials and the reader's watch level as columns), the member count with the moderators,
#   the sessions (timeline);
#   the dashboard: the reader's groups with roles, member counts, unread threads and unread
#   chat mentions (one statement), the sessions that may be live or next (one more) and the
#   open polls still waiting for the reader's vote (one more).
QUERY_BUDGETS = {
    "/": 4,
    "/g/{g}/": 5,
    "/g/{g}/?after={cursor}": 5,
    "/g/{g}/?unread=1": 5,
}


def _next_page_cursor(app, personas) -> str:
    """A cursor past the newest thread, as the "Older threads" link carries."""
    with app.app_context():
        return discussions.list_threads(factories.user(personas.member.id),
                                        factories.group(personas.g1.id), limit=1).next_cursor


@pytest.mark.parametrize("page", QUERY_BUDGETS)
def test_thread_list_and_dashboard_stay_within_their_query_budget(app, personas, login_as,
                                                                  page):
    client = login_as(personas.member)
    counts = []
    for threads, replies in ((2, 1), (6, 3)):
        _grow(app, personas, threads=threads, replies=replies)
        with app.app_context():  # a pinned thread, and one the reader has read
            group, moderator = factories.group(personas.g1.id), factories.user(
                personas.moderator.id)
            pinned = discussions.start_thread(moderator, group, title="Ważne", body="treść")
            discussions.set_pinned(moderator, pinned, True)
            discussions.read_thread(factories.user(personas.member.id), pinned, 1)
        url = page.format(g=personas.g1.slug, cursor=_next_page_cursor(app, personas))
        client.get(url)  # warm-up
        with count_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200
        if "after=" in page:
            assert "Ważne" not in response.get_data(as_text=True)  # pinned: first page only
        elif page == "/g/{g}/":
            assert "Ważne" in response.get_data(as_text=True)
        elif page == "/":  # the dashboard: the live session and unread threads, in budget
            assert "Join the chat" in response.get_data(as_text=True)
            assert "threads with unread posts" in response.get_data(as_text=True)
        assert len(statements) <= QUERY_BUDGETS[page], "\n".join(statements)
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{counts}: the count grows with the data"
