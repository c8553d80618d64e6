"""Decisions end to end in Chromium: a moderator proposes in a thread (one vote per
organisation), two organisations vote (the first sees the second's vote arrive live), the
moderator closes the proposal, makes it a recommendation and records that it was sent to the
training centre. Then the library and the tournament pages. axe on every new page.

The demo personas use Polish: labels are looked up in the app's catalogue. What the test
made is deleted afterwards."""

from __future__ import annotations

import re

import pytest

from forum.demo import MEMBER_EMAIL, MODERATOR_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, submit

GROUP = "miasta"
QUESTION = "Rekomendujemy wspólne szkolenia dla dyrektorów szkół"


def _setup(live_server):
    from forum.accounts.models import Organisation, User
    from forum.discussions.models import Thread
    from forum.extensions import db
    from forum.groups.models import Group, Membership

    with live_server.app.app_context():
        group = db.session.scalar(db.select(Group).where(Group.slug == GROUP))
        thread = db.session.scalar(db.select(Thread).where(Thread.group_id == group.id)
                                   .order_by(Thread.id))
        colleague = db.session.scalar(
            db.select(User).join(Organisation).join(Membership, Membership.user_id == User.id)
            .where(Organisation.name == "Miasto Chełm", Membership.group_id == group.id))
        return thread.id, colleague.email


@pytest.fixture
def cleanup(live_server):
    yield
    from forum.extensions import db
    from forum.polls.models import Poll
    from forum.recommendations.models import Recommendation

    with live_server.app.app_context():
        poll = db.session.scalar(db.select(Poll).where(Poll.question == QUESTION))
        db.session.execute(db.delete(Recommendation).where(Recommendation.title == QUESTION))
        if poll is not None:
            from forum.discussions.models import Thread

            db.session.execute(db.update(Thread).where(Thread.id == poll.thread_id)
                               .values(poll_count=Thread.poll_count - 1))
            db.session.delete(poll)
        db.session.commit()


def _vote(page, live_server, position: str, reason: str) -> None:
    t = live_server.text
    page.get_by_role("radio", name=t(page, position), exact=True).check()
    page.get_by_label(t(page, "Reason (say why, especially when you disagree or block)"),
                      exact=True).fill(reason)
    submit(page, page.get_by_role("button", name=t(page, "Vote"), exact=True))


def test_propose_vote_close_recommend(new_context, live_server, cleanup):
    thread_id, colleague_email = _setup(live_server)
    t = live_server.text

    moderator = new_context(viewport={"width": 1366, "height": 800}).new_page()
    sign_in(moderator, live_server, MODERATOR_EMAIL)
    moderator.goto(f"/g/{GROUP}/t/{thread_id}")
    moderator.get_by_role("link", name=t(moderator, "Start a poll or a proposal in this "
                                                    "thread")).click()
    assert_accessible(moderator)
    moderator.get_by_label(t(moderator, "Question or proposal"), exact=True).fill(QUESTION)
    moderator.get_by_label(t(moderator, "One vote per organisation (any of its members casts "
                                        "or changes it)"), exact=True).check()
    submit(moderator, moderator.get_by_role("button", name=t(moderator, "Open the poll")))
    poll_url = moderator.url
    assert re.search(r"/polls/\d+$", poll_url)
    assert_accessible(moderator)

    member = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(member, live_server, MEMBER_EMAIL)
    member.goto(poll_url)
    assert_accessible(member)
    _vote(member, live_server, "Agree", "Dyrektorzy o to proszą.")
    results = member.locator("[data-poll-results]")
    expect(results).to_contain_text(t(member, "Agreed: more agree than disagree, and no "
                                              "block."))
    expect(member.locator("[data-poll-live]")).to_have_attribute("data-state", "following")

    colleague = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(colleague, live_server, colleague_email)
    colleague.goto(poll_url)
    _vote(colleague, live_server, "Abstain", "Nie mamy zdania.")
    # The member's page hears of the second organisation's vote without a reload.
    expect(member.locator("[data-poll-results]")).to_contain_text("Nie mamy zdania.",
                                                                  timeout=10_000)

    moderator.goto(poll_url)
    moderator.get_by_text(t(moderator, "Close now"), exact=True).click()
    submit(moderator, moderator.get_by_role("button", name=t(moderator, "Close the poll")))
    expect(moderator.get_by_role("heading", name=t(moderator, "Final results"))).to_be_visible()
    moderator.get_by_role("link", name=t(moderator, "Make it a recommendation")).click()
    assert_accessible(moderator)
    expect(moderator.get_by_label(t(moderator, "Title"), exact=True)).to_have_value(QUESTION)
    submit(moderator, moderator.get_by_role("button", name=t(moderator, "Add to the register")))
    assert_accessible(moderator)
    moderator.get_by_label(t(moderator, "New status"), exact=True).select_option("sent")
    moderator.get_by_label(t(moderator, "Note"), exact=True).fill("Wysłane do dyrektora ośrodka")
    submit(moderator, moderator.get_by_role("button", name=t(moderator, "Record the step")))
    expect(moderator.get_by_text("Wysłane do dyrektora ośrodka")).to_be_visible()
    moderator.get_by_role("link", name=t(moderator, "Recommendations"), exact=True).first.click()
    expect(moderator.get_by_role("link", name=re.compile(QUESTION))).to_be_visible()
    assert_accessible(moderator)


def test_library_and_tournament_pages(new_context, live_server):
    t = live_server.text
    member = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(member, live_server, MEMBER_EMAIL)
    member.goto("/library/")
    assert_accessible(member)
    member.locator(".library-card a").first.click()
    assert_accessible(member)
    expect(member.get_by_role("heading", name=t(member, "Organisations that adopted it"))
           ).to_be_visible()
    member.goto("/tournaments/")
    assert_accessible(member)
    member.locator("main a[href^='/tournaments/']").first.click()
    assert_accessible(member)
    expect(member.get_by_role("heading", name=t(member, "Ranking"))).to_be_visible()
    member.goto("/library/messages/")
    assert_accessible(member)
    member.goto(f"/g/{GROUP}/polls/")
    assert_accessible(member)
    member.goto("/recommendations/")
    assert_accessible(member)
    member.goto("/library/")
    member.locator(".library-card a").first.click()
    member.get_by_role("link", name=t(member, "Edit tags and contact person")).click()
    assert_accessible(member)
    expect(member.get_by_label(t(member, "Themes (separated by commas)"), exact=True)
           ).not_to_have_value("")

    admin = new_context(viewport={"width": 1366, "height": 800}).new_page()
    sign_in(admin, live_server, "admin@example.org")
    admin.goto("/tournaments/new")
    assert_accessible(admin)
