"""The search page over HTTP: a GET form (no JavaScript needed) with a count, kinds with
their counts, highlighted titles, filters by kind, group, session and author, pages."""

import re

import pytest

from forum.chat.models import ChatMessage
from forum.extensions import db
from forum.materials import services as materials
from forum.text import render_markdown
from forum.timeutil import utcnow
from tests import factories


@pytest.fixture
def content(app, personas):
    """In g1: a thread, two chat messages (one by the moderator in session 1), a file and a
    good practice, all about "kanalizacja"; in g2 a thread about it too."""
    with app.app_context():
        people = factories.people_of(personas)
        g1 = people["g1"]
        workshop = factories.make_workshop(people["moderator"], g1, 1, theme="Woda i ścieki")
        thread = factories.make_thread(people["member"], g1, "Kanalizacja deszczowa",
                                       "Pytanie o rury.")
        for n, (author, session) in enumerate([("member", None), ("moderator", workshop)]):
            db.session.add(ChatMessage(
                group_id=g1.id, author_id=people[author].id, body=f"Kanalizacja, uwaga {n}",
                body_html=render_markdown("x"), client_id=f"v-{n}", created_at=utcnow(),
                workshop_id=session.id if session else None))
        db.session.commit()
        factories.make_material(people["member"], g1, title="Plan kanalizacji")
        factories.make_material(people["member"], g1, None, title="Retencja",
                                kind="good_practice", practice=materials.GoodPracticeInput(
                                    problem="Kanalizacja nie nadążała.", actions="Zbiorniki."))
        factories.make_thread(people["outsider"], people["g2"], "Kanalizacja w powiecie",
                              "Tajne.")
        return {"thread": thread.id, "workshop": workshop.id}


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_page_counts_results_by_kind_and_marks_titles(personas, login_as, content):
    page = _text(login_as(personas.member).get("/search?q=kanalizacja"))
    assert '<p class="search-count" role="status">5 results</p>' in page
    kinds = re.findall(r'<a href="[^"]*"[^>]*>([^<]+) <span class="count">(\d+)</span>', page)
    assert kinds == [("Everything", "5"), ("Posts", "1"), ("Chat", "2"), ("Materials", "1"),
                     ("Good practices", "1")]
    assert '<a href="/g/miasta-testowe/p/' in page
    assert "<mark>Kanalizacja</mark> deszczowa</a>" in page
    assert "Plan <mark>kanalizacji</mark></a>" in page
    assert "/g/miasta-testowe/chat?before_id=" in page and "#message-" in page
    assert "/g/miasta-testowe/materials/" in page
    assert "Kanalizacja w powiecie" not in page  # the other group's thread


def test_filters_are_a_get_form_that_works_without_javascript(personas, login_as, content):
    member = login_as(personas.member)
    page = _text(member.get("/search?q=kanalizacja"))
    form = re.search(r'<form method="get" action="/search" role="search".*?</form>', page, re.S)
    assert form and "<details" in form.group(0)
    assert "<script" not in page.split("<main")[-1].split("</main>")[0]  # the page's own: none
    for name in ("q", "kind", "group"):
        assert f'name="{name}"' in form.group(0)
    assert 'name="session"' not in form.group(0)  # sessions and authors come with a group
    with_group = _text(member.get("/search?q=kanalizacja&group=miasta-testowe"))
    assert 'name="session"' in with_group and 'name="author"' in with_group
    assert ">Session 1: Woda i ścieki</option>" in with_group
    assert 'value="miasta-testowe" selected' in with_group
    assert "powiaty-testowe" not in with_group  # not a group of the member


def test_each_filter_narrows_the_results(personas, login_as, content):
    member = login_as(personas.member)
    chat_only = _text(member.get("/search?q=kanalizacja&kind=chat"))
    assert "2 results" in chat_only and chat_only.count('class="search-hit search-hit-chat"') == 2
    assert 'class="search-hit search-hit-post"' not in chat_only
    in_session = _text(member.get(f"/search?q=kanalizacja&group={personas.g1.slug}&session=1"))
    assert "1 result<" in in_session and "uwaga 1" in in_session
    by_moderator = _text(member.get(
        f"/search?q=kanalizacja&group={personas.g1.slug}&author={personas.moderator.id}"))
    assert "1 result<" in by_moderator and "uwaga 1" in by_moderator
    practices = _text(member.get(f"/g/{personas.g1.slug}/search?q=kanalizacja&kind=practice"))
    assert "1 result<" in practices and "<mark>Kanalizacja</mark> nie nadążała" in practices


def test_outsiders_learn_nothing_about_a_group(personas, login_as, content):
    outsider = login_as(personas.outsider)
    page = _text(outsider.get("/search?q=kanalizacja"))
    assert "1 result<" in page and "Kanalizacja deszczowa" not in page
    assert outsider.get(f"/search?q=kanalizacja&group={personas.g1.slug}").status_code == 404
    assert outsider.get("/search?q=x&group=no-such-group").status_code == 404
    assert outsider.get(f"/g/{personas.g1.slug}/search?q=kanalizacja").status_code == 404
    observer = _text(login_as(personas.observer).get("/search?q=kanalizacja"))
    assert "5 results" in observer
    assert login_as(None).get("/search?q=kanalizacja").status_code == 302


def test_pages_keep_the_filters(personas, login_as, app):
    with app.app_context():
        people = factories.people_of(personas)
        for n in range(23):
            db.session.add(ChatMessage(group_id=people["g1"].id, author_id=people["member"].id,
                                       body=f"Ankieta numer {n}", body_html="x",
                                       client_id=f"p-{n}", created_at=utcnow()))
        db.session.commit()
    member = login_as(personas.member)
    first = _text(member.get("/search?q=ankieta&kind=chat"))
    assert "23 results" in first and first.count('class="search-hit ') == 20
    assert 'href="/search?q=ankieta&amp;kind=chat&amp;page=2" rel="next"' in first
    second = _text(member.get("/search?q=ankieta&kind=chat&page=2"))
    assert second.count('class="search-hit ') == 3 and 'rel="prev"' in second
    assert 'rel="next"' not in second
    assert _text(member.get("/search?q=ankieta&page=999")).count('class="search-hit ') == 0
