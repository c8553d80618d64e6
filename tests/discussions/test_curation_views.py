"""Curating threads over HTTP: who may, redirects from merged threads, failed forms."""

import re

import pytest

from forum.discussions import curation
from forum.discussions.models import Post, Thread
from forum.extensions import db
from tests import factories

PERSONAS = ["anonymous", "outsider", "observer", "member", "moderator", "admin"]


def _expected(persona: str, ok: int = 302) -> int:
    return {"anonymous": 302, "outsider": 404, "observer": 403, "member": 403}.get(persona, ok)


@pytest.fixture
def threads(app, personas):
    """Two threads of g1 by the member, one with three posts."""
    with app.app_context():
        people = factories.people_of(personas)
        member, moderator, group = people["member"], people["moderator"], people["g1"]
        a = factories.make_thread(member, group, "Dowozy", "pierwszy")
        second = factories.make_post(moderator, a, "drugi")
        third = factories.make_post(member, a, "trzeci")
        b = factories.make_thread(member, group, "Stołówki", "obiady")
        return {"a": a.id, "b": b.id, "second": second.id, "third": third.id}


def _url(personas, thread_id, tail=""):
    return f"/g/{personas.g1.slug}/t/{thread_id}{tail}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_curation_forms_answer_each_persona(app, personas, login_as, threads, persona):
    client = login_as(None if persona == "anonymous" else getattr(personas, persona))
    a = threads["a"]
    calls = [
        ("/rename", {"rename-title": "Nowy tytuł"}),
        ("/close", {"close-summary": "Ustalone."}),
        ("/reopen", {}),
        ("/conclusion", {"post_id": str(threads["third"])}),
        ("/split", {"split-title": "Odnoga", "split-workshop_number": "0",
                    "post_ids": [str(threads["second"])]}),
        ("/merge", {"merge-target_id": str(threads["b"]), "merge-target": ""}),
    ]
    for tail, data in calls:
        response = client.post(_url(personas, a, tail), data=data)
        assert response.status_code == _expected(persona), (tail, response.status_code)
        if persona == "anonymous":
            assert "/login" in response.headers["Location"]


def test_moderator_sees_the_tools_and_members_do_not(personas, login_as, threads):
    page = login_as(personas.moderator).get(_url(personas, threads["a"], "?page=1")).get_data(
        as_text=True)
    for text in ("Rename the thread", "Close with a summary", "Merge into another thread",
                 "Split posts into a new thread", "Mark as the conclusion",
                 "Select posts to move"):
        assert text in page
    assert f'<option value="{threads["b"]}">Stołówki</option>' in page
    # The posts carry no split checkbox until the moderator chooses to select posts.
    assert "split-post-" not in page and 'id="split-form"' not in page
    selecting = login_as(personas.moderator).get(_url(
        personas, threads["a"], "?page=1&select=split")).get_data(as_text=True)
    assert f'id="split-post-{threads["second"]}"' in selecting
    assert 'id="split-form"' in selecting and "Stop selecting" in selecting
    page = login_as(personas.member).get(_url(personas, threads["a"], "?page=1")).get_data(
        as_text=True)
    for text in ("Rename the thread", "Merge into another thread", "split-post-",
                 "Mark as the conclusion"):
        assert text not in page


def test_close_shows_the_summary_and_the_notice_to_members(personas, login_as, threads):
    moderator = login_as(personas.moderator)
    response = moderator.post(_url(personas, threads["a"], "/close"),
                              data={"close-summary": "Ustalono **dwa** kursy."})
    assert response.status_code == 302
    member = login_as(personas.member)
    page = member.get(_url(personas, threads["a"], "?page=1")).get_data(as_text=True)
    assert "Closed by Marta Moderator" in page and "<strong>dwa</strong>" in page
    assert "Moderation notices" in page and "Closed with a summary." in page
    assert "This thread is closed: no new replies can be added." in page
    assert f'action="/g/miasta-testowe/t/{threads["a"]}/reply' not in page
    listing = member.get(f"/g/{personas.g1.slug}/").get_data(as_text=True)
    assert 'badge-closed' in listing
    response = member.post(_url(personas, threads["a"], "/reply"), data={"body": "a jednak"})
    assert response.status_code == 400


def test_rename_shows_from_and_to(personas, login_as, threads):
    moderator = login_as(personas.moderator)
    moderator.post(_url(personas, threads["a"], "/rename"),
                   data={"rename-title": "Dowozy i transport", "rename-reason": "dokładniej"})
    page = login_as(personas.member).get(_url(personas, threads["a"], "?page=1")).get_data(
        as_text=True)
    assert "<h1>Dowozy i transport</h1>" in page
    assert "Renamed from “Dowozy” to “Dowozy i transport”." in page
    assert "dokładniej" in page


@pytest.mark.parametrize("tail,data,message,kept", [
    ("/rename", {"rename-title": "", "rename-reason": "mój powód"}, "Enter a title.",
     "mój powód"),
    ("/close", {"close-summary": "   "}, "Write a short summary", None),
    ("/split", {"split-title": "Mój tytuł odnogi", "split-workshop_number": "0"},
     "Choose at least one post", "Mój tytuł odnogi"),
    ("/merge", {"merge-target_id": "0", "merge-target": "", "merge-reason": "bo tak"},
     "Choose the thread to merge this one into.", "bo tak"),
    ("/merge", {"merge-target_id": "0", "merge-target": "999999"},
     "No thread with this number or link was found.", "999999"),
])
def test_failed_forms_keep_what_was_typed(personas, login_as, threads, tail, data, message,
                                          kept):
    moderator = login_as(personas.moderator)
    response = moderator.post(_url(personas, threads["a"], tail), data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    if kept:
        assert kept in page
    assert re.search(r'<details class="curation-tool"[^>]* open>', page)


def test_merge_into_itself_by_link_is_refused_clearly(personas, login_as, threads):
    moderator = login_as(personas.moderator)
    url = _url(personas, threads["a"])
    response = moderator.post(url + "/merge", data={"merge-target_id": "0",
                                                    "merge-target": "http://forum.test" + url})
    assert response.status_code == 400
    assert "A thread cannot be merged into itself." in response.get_data(as_text=True)


def test_split_keeps_the_ticked_posts_ticked_when_the_title_is_missing(personas, login_as,
                                                                      threads):
    moderator = login_as(personas.moderator)
    response = moderator.post(_url(personas, threads["a"], "/split"), data={
        "split-title": "", "split-workshop_number": "0", "post_ids": [str(threads["second"])]})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(rf'id="split-post-{threads["second"]}"[^>]*checked', page)
    assert "Enter a title." in page


def test_split_then_merge_back_with_redirects(app, personas, login_as, threads):
    moderator = login_as(personas.moderator)
    a = threads["a"]
    response = moderator.post(_url(personas, a, "/split"), data={
        "split-title": "Odnoga", "split-workshop_number": "0",
        "post_ids": [str(threads["second"]), str(threads["third"])]})
    assert response.status_code == 302
    new_id = int(re.search(r"/t/(\d+)", response.headers["Location"]).group(1))
    page = moderator.get(_url(personas, a, "?page=1")).get_data(as_text=True)
    assert "2 posts were moved to a new thread" in page
    page = moderator.get(_url(personas, new_id, "?page=1")).get_data(as_text=True)
    assert "Split from the thread" in page and "drugi" in page and "trzeci" in page

    response = moderator.post(_url(personas, new_id, "/merge"),
                              data={"merge-target_id": "0", "merge-target": str(a)})
    assert response.status_code == 302 and response.headers["Location"].startswith(
        _url(personas, a))
    member = login_as(personas.member)
    response = member.get(_url(personas, new_id))
    assert response.status_code == 301
    assert response.headers["Location"].endswith(_url(personas, a))
    # Old post links go by post id: still right after the posts moved twice.
    response = member.get(f"/g/{personas.g1.slug}/p/{threads['third']}")
    assert response.status_code == 302
    assert f"/t/{a}?page=1#post-{threads['third']}" in response.headers["Location"]
    outsider = login_as(personas.outsider)
    assert outsider.get(_url(personas, new_id)).status_code == 404
    with app.app_context():
        thread = db.session.get(Thread, a)
        assert (thread.last_number, thread.reply_count) == (3, 2)
        numbers = list(db.session.scalars(db.select(Post.number).where(
            Post.thread_id == a).order_by(Post.number)))
        assert numbers == [1, 2, 3]
        assert curation.resolve_merged(factories.user(personas.member.id),
                                       db.session.get(Thread, new_id)).id == a


def test_a_reply_sent_to_a_merged_thread_lands_in_the_target(app, personas, login_as,
                                                            threads):
    moderator = login_as(personas.moderator)
    moderator.post(_url(personas, threads["b"], "/merge"),
                   data={"merge-target_id": str(threads["a"]), "merge-target": ""})
    response = login_as(personas.member).post(_url(personas, threads["b"], "/reply"),
                                              data={"body": "spóźniona odpowiedź"})
    assert response.status_code == 302
    assert f"/t/{threads['a']}" in response.headers["Location"]


def test_conclusion_is_shown_at_the_top(personas, login_as, threads):
    moderator = login_as(personas.moderator)
    response = moderator.post(_url(personas, threads["a"], "/conclusion"),
                              data={"post_id": str(threads["third"])})
    assert response.status_code == 302
    page = login_as(personas.member).get(_url(personas, threads["a"], "?page=1")).get_data(
        as_text=True)
    top = page.split('<ol class="posts"')[0]
    assert "Conclusion" in top and "trzeci" in top
    assert f'/g/{personas.g1.slug}/p/{threads["third"]}' in top
    response = moderator.post(_url(personas, threads["a"], "/conclusion"),
                              data={"post_id": "999999999"})  # not a post of the thread
    assert response.status_code == 400
    moderator.post(_url(personas, threads["a"], "/conclusion"), data={})
    page = login_as(personas.member).get(_url(personas, threads["a"], "?page=1")).get_data(
        as_text=True)
    assert 'id="thread-conclusion-heading"' not in page
