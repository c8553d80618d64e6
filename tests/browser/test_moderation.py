"""Reports and the moderation desk, end to end in Chromium.

Jan Kowalski (a member of Miasta) reports a post written by another member; Marta
Moderatorska opens the desk, hides the post with a note; Jan finds the outcome among his
notifications. The thread (with its post, report and notifications, which cascade) is deleted
afterwards.
"""

from __future__ import annotations

import re

import pytest

from forum.demo import MEMBER_EMAIL, MODERATOR_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, submit
from tests.browser.test_discussions import (  # noqa: F401  (fixtures)
    GROUP,
    MadeThread,
    _group,
    _user,
    button,
    heading,
    post_item,
    threads_removed_afterwards,
)

TITLE = "Karta rowerowa w klasach czwartych"
REPORTED = "Proszę dzwonić do pani dyrektor prywatnie: 600 100 200"
NOTE = "Dane osobowe: prywatny numer telefonu"


def _other_member_email() -> str:
    """A member of Miasta from the demo data other than Jan Kowalski."""
    from forum.extensions import db
    from forum.groups.models import Membership, Role

    group = _group()
    members = db.session.scalars(db.select(Membership).where(
        Membership.group_id == group.id, Membership.role == Role.MEMBER))
    return next(m.user.email for m in members if m.user.email != MEMBER_EMAIL)


@pytest.fixture
def reported_thread(live_server, threads_removed_afterwards):  # noqa: F811
    """A thread by the moderator with a reply by another member (the one to report)."""
    from forum.discussions import services

    with live_server.app.app_context():
        thread = services.start_thread(_user(MODERATOR_EMAIL), _group(), title=TITLE,
                                       body="Jak przygotowujecie uczniów do karty rowerowej?")
        author = _user(_other_member_email())
        post = services.reply(author, thread, REPORTED)
        return MadeThread(thread.id, thread.title, services.post_id_at(thread, 1)), post.id


def test_a_report_is_resolved_at_the_desk_and_the_reporter_told(new_context, live_server,
                                                                 reported_thread):
    thread, post_id = reported_thread

    # Jan reports the post.
    member = new_context().new_page()
    sign_in(member, live_server, MEMBER_EMAIL)
    member.goto(f"{thread.path}?page=1")
    post_item(member, post_id).get_by_role(
        "link", name=re.compile("^" + re.escape(live_server.text(member, "Report")))).click()
    expect(heading(member)).to_have_text(live_server.text(member, "Report a post"))
    expect(member.locator(".report-excerpt")).to_contain_text(REPORTED)
    assert_accessible(member)
    # Without a reason the form comes back with what was typed.
    text = member.get_by_role("textbox", name=live_server.text(member, "What is wrong?"))
    text.fill("Prywatny numer telefonu")
    submit(member, button(member, live_server, "Send the report"))
    expect(member.locator(".field-error")).to_contain_text(
        live_server.text(member, "Choose a reason from the list."))
    expect(text).to_have_value("Prywatny numer telefonu")
    member.get_by_label(live_server.text(member, "Personal data"), exact=True).check()
    submit(member, button(member, live_server, "Send the report"))
    expect(member).to_have_url(re.compile(rf"{re.escape(thread.path)}\?page=\d+#post-{post_id}$"))
    expect(member.locator(".flash-success")).to_contain_text(
        live_server.text(member, "Thank you, the moderators will look at it."))

    # Marta opens the desk from the group navigation and hides the post.
    moderator = new_context().new_page()
    sign_in(moderator, live_server, MODERATOR_EMAIL)
    moderator.goto(f"/g/{GROUP}/")
    nav = moderator.get_by_role("navigation", name=live_server.text(moderator, "Group"))
    nav.get_by_role("link", name=re.compile(
        "^" + re.escape(live_server.text(moderator, "Moderation")))).click()
    expect(moderator).to_have_url(f"{live_server.url}/g/{GROUP}/moderation")
    case = moderator.locator(".report-case").filter(has_text=REPORTED)
    expect(case).to_have_count(1)
    expect(case).to_contain_text("Jan Kowalski")
    expect(case).to_contain_text(live_server.text(moderator, "Personal data"))
    expect(case).to_contain_text("Prywatny numer telefonu")
    assert_accessible(moderator)

    case.get_by_role("link", name=re.compile(
        "^" + re.escape(live_server.text(moderator, "Handle this report")))).click()
    expect(moderator.locator(".report-focus")).to_contain_text(REPORTED)
    assert_accessible(moderator)
    moderator.get_by_label(live_server.text(moderator, "Hide the post"), exact=True).check()
    moderator.get_by_role("textbox", name=live_server.text(moderator, "Note"),
                          exact=True).fill(NOTE)
    submit(moderator, button(moderator, live_server, "Resolve the report"))
    expect(moderator).to_have_url(f"{live_server.url}/g/{GROUP}/moderation")
    expect(moderator.locator(".flash-success")).to_be_visible()
    expect(moderator.locator(".report-case").filter(has_text=REPORTED)).to_have_count(0)

    # Jan is told; the post now shows the placeholder.
    member.goto("/notifications")
    outcome = member.get_by_role("button", name=live_server.text(  # unread: opens by a POST
        member, "Your report about a post in “%(thread)s”: the moderators hid the post.",
        thread=TITLE))
    expect(outcome).to_have_count(1)
    assert_accessible(member)
    submit(member, outcome)
    item = post_item(member, post_id)
    expect(item).to_contain_text(live_server.text(member, "This post was hidden by a moderator."))
    expect(item).not_to_contain_text(REPORTED)


@pytest.mark.parametrize("email,path", [
    ("admin@example.org", "/moderation"),
    ("admin@example.org", "/moderation?status=resolved"),
    (MODERATOR_EMAIL, f"/g/{GROUP}/moderation?status=resolved"),
])
def test_desk_pages_pass_axe(page, live_server, email, path):
    sign_in(page, live_server, email)
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response)
    assert_accessible(page)


# --- the live chat: a reported message edited at the desk changes on every open page ---------


@pytest.fixture(scope="module")
def chat_site(tmp_path_factory):
    """The chat as it runs in production (gunicorn, gevent, WebSocket): see test_chat.py."""
    from tests.chat.live import chat_server, prepare_database

    tmp = tmp_path_factory.mktemp("moderation-chat")
    database = f"sqlite:///{tmp / 'forum.db'}"
    people = prepare_database(database)
    with chat_server(database, tmp) as url:
        yield url, people


def test_a_reported_chat_message_edited_at_the_desk_changes_live(browser, chat_site):
    from tests.browser.test_chat import _open_chat, _say

    url, people = chat_site
    slug = people["group"]
    contexts = []
    try:
        member_context, member = _open_chat(browser, url, people["member"]["email"], slug)
        contexts.append(member_context)
        moderator_context, moderator = _open_chat(browser, url, people["moderator"]["email"],
                                                  slug)
        contexts.append(moderator_context)
        _say(member, "Mój prywatny numer: 600 100 200")
        message = moderator.locator("[data-chat-list] > li[data-id]").filter(
            has_text="600 100 200")
        expect(message).to_have_count(1)
        message_id = message.get_attribute("data-id")
        # The message the script added has its own Report link (in its actions menu); the
        # author's copy has none.
        mine = member.locator(f"#message-{message_id}")
        expect(mine.locator(".chat-report")).to_have_count(0)
        message.locator(".chat-menu > summary").click()
        with moderator.expect_navigation():
            message.get_by_role("link", name=re.compile("^Report")).click()
        expect(moderator).to_have_url(f"{url}/g/{slug}/chat/messages/{message_id}/report")
        moderator.get_by_label("Personal data", exact=True).check()
        with moderator.expect_navigation():
            moderator.get_by_role("button", name="Send the report").click()
        expect(moderator.locator(f"#message-{message_id}")).to_be_visible()

        moderator.goto(f"/g/{slug}/moderation")
        with moderator.expect_navigation():
            moderator.get_by_role("link", name=re.compile("^Handle this report")).click()
        moderator.get_by_label("Edit the message (with a public note)", exact=True).check()
        moderator.get_by_role("textbox", name="Note", exact=True).fill("Usunięto numer")
        moderator.get_by_role("textbox", name="New text (for “edit”)").fill(
            "Mój prywatny numer: [usunięty]")
        with moderator.expect_navigation():
            moderator.get_by_role("button", name="Resolve the report").click()

        # The member's open chat shows the new text and the public note, without reloading.
        expect(mine.locator(".chat-body")).to_have_text("Mój prywatny numer: [usunięty]")
        expect(mine.locator(".chat-note")).to_have_text("Edited by a moderator: Usunięto numer")
        assert_accessible(member)
    finally:
        for context in contexts:
            context.close()
