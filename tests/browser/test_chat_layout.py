"""The chat reads like a chat: live messages get the same day dividers and groups as the page
the server renders, each message has one actions menu (Report works from it), the check boxes
come only with "Select messages", and the input stays in view. At 390×844 (a touch phone) and
1366×800, on the chat server as it runs in production (see test_chat.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.browser.conftest import TIMEOUT_MS, assert_accessible, expect
from tests.chat.live import PASSWORD, ROOT, chat_server, prepare_database

SHOTS = os.environ.get("FORUM_TEST_SHOTS", "")  # a folder to keep screenshots in, if set

_SEED = """
import sys
from datetime import timedelta
from forum import create_app
from forum.config import testing_overrides
from forum.extensions import db
from forum.chat.models import ChatMessage
from forum.groups.models import Group
from forum.timeutil import utcnow
url, slug, author, text = sys.argv[1:5]
app = create_app({**testing_overrides(url), "SECRET_KEY": "x" * 32})
with app.app_context():
    group = db.session.scalar(db.select(Group).where(Group.slug == slug))
    db.session.add(ChatMessage(group_id=group.id, author_id=int(author), body=text,
                               body_html="<p>" + text + "</p>", client_id="seed-yesterday",
                               created_at=utcnow() - timedelta(days=1)))
    db.session.commit()
"""

# The list as a reader sees it: "day:<label>", "head:<text>" or "cont:<text>" per item.
_STRUCTURE = """() => Array.from(document.querySelectorAll('[data-chat-list] > li')).map(li =>
  li.classList.contains('chat-day') ? 'day:' + li.querySelector('.chat-day-label').textContent
  : (li.classList.contains('is-continued') ? 'cont:' : 'head:')
    + li.querySelector('.chat-body, .chat-placeholder, .chat-notice').textContent.trim())"""


@pytest.fixture(scope="module")
def chat_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chat-layout")
    database = f"sqlite:///{tmp / 'forum.db'}"
    people = prepare_database(database)
    subprocess.run([sys.executable, "-c", _SEED, database, people["group"],
                    str(people["member"]["id"]), "Wczorajsza wiadomość"],
                   cwd=ROOT, env={**os.environ, "FORUM_ENV": "testing"}, check=True,
                   capture_output=True, timeout=120)
    with chat_server(database, tmp) as url:
        yield url, people


def _open(browser, url: str, email: str, slug: str, viewport: dict):
    phone = viewport["width"] < 600
    context = browser.new_context(base_url=url, locale="en-US", viewport=viewport,
                                  is_mobile=phone, has_touch=phone)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(f"/g/{slug}/chat")
    expect(page.locator("[data-chat-status]")).to_have_text(re.compile("^Connected"))
    return context, page


def _say(page, text: str) -> None:
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")
    page.wait_for_function("() => !document.querySelector('[data-chat-list] > li.is-pending')")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"))


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 800},
                                      {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_live_messages_are_grouped_and_divided_as_the_page_is(browser, chat_site, viewport):
    url, people = chat_site
    slug = people["group"]
    size = f"{viewport['width']}"
    contexts = []
    try:
        anna_context, anna = _open(browser, url, people["member"]["email"], slug, viewport)
        contexts.append(anna_context)
        marta_context, marta = _open(browser, url, people["moderator"]["email"], slug, viewport)
        contexts.append(marta_context)
        before = anna.evaluate(_STRUCTURE)
        assert before[:2] == ["day:Yesterday", "head:Wczorajsza wiadomość"], before

        _say(marta, f"Start {size}")      # a new day under yesterday's message: a divider
        _say(anna, f"Pierwsza {size}")    # someone else: a new group
        _say(anna, f"Druga {size}")      # the same person a moment later: grouped
        _say(marta, f"Odpowiedź {size}")  # someone else: a new group
        _say(anna, f"Czwarta {size}")     # back to Anna: a new group again
        new = [f"head:Start {size}", f"head:Pierwsza {size}", f"cont:Druga {size}",
               f"head:Odpowiedź {size}", f"head:Czwarta {size}"]
        for page in (anna, marta):
            expect(page.locator("[data-chat-list] > li.chat-message").filter(
                has_text=f"Czwarta {size}")).to_have_count(1)
            live = page.evaluate(_STRUCTURE)
            assert live[-len(new):] == new, live
            # One divider per day: today's right after yesterday's message.
            assert live[:3] == ["day:Yesterday", "head:Wczorajsza wiadomość", "day:Today"], live
            assert live.count("day:Today") == 1 and live.count("day:Yesterday") == 1, live
        _shot(anna, f"chat-live-{size}")
        live = anna.evaluate(_STRUCTURE)
        anna.reload()
        expect(anna.locator("[data-chat-status]")).to_have_text(re.compile("^Connected"))
        assert anna.evaluate(_STRUCTURE) == live  # the server renders the same

        # The input is in view without scrolling, with the newest message above it.
        box = anna.get_by_label("Message", exact=True).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
        expect(anna.locator("[data-chat-list] > li.chat-message").last).to_be_in_viewport()

        # A continued message shows only its text; its time appears on hover or focus.
        second = anna.locator("[data-chat-list] > li.chat-message").filter(
            has_text=f"Druga {size}")
        expect(second.locator(".chat-author")).to_have_css("position", "absolute")
        expect(second.locator(".chat-avatar")).to_have_css("visibility", "hidden")
        expect(second.locator("time")).to_have_attribute("title", re.compile(r"\d{4}"))

        # Each message has one menu: on a phone its button is always shown; with a mouse it
        # appears on hover.
        reply = anna.locator("[data-chat-list] > li.chat-message").filter(
            has_text=f"Odpowiedź {size}")
        button = reply.locator(".chat-menu > summary")
        expect(reply.locator(".chat-menu")).to_have_count(1)
        expect(reply.locator(".chat-select")).to_be_hidden()
        if viewport["width"] < 600:
            expect(button).to_have_css("opacity", "1")
            button.tap()
        else:
            anna.mouse.move(0, 0)
            expect(button).to_have_css("opacity", "0")
            reply.hover()
            expect(button).to_have_css("opacity", "1")
            button.click()
        menu = reply.locator(".chat-menu-panel")
        expect(menu).to_be_visible()
        expect(menu.get_by_role("link", name="Report")).to_be_visible()
        expect(menu.locator("[data-chat-remove]")).to_have_count(0)
        _shot(anna, f"chat-menu-{size}")
        assert_accessible(anna)
        # Escape closes it and gives the focus back to its button.
        anna.keyboard.press("Escape") if viewport["width"] >= 600 else button.tap()
        expect(menu).to_be_hidden()

        # "Select for a thread" from the menu: the check boxes appear, this one ticked.
        button.click()
        menu.get_by_role("link", name="Select for a thread").click()
        expect(reply.locator(".chat-select")).to_be_checked()
        expect(anna.locator(".chat-select").first).to_be_visible()
        expect(anna.get_by_role("link", name="Stop selecting")).to_be_visible()
        expect(anna.get_by_label("Title of the new thread", exact=True)).to_be_visible()
        anna.get_by_role("link", name="Stop selecting").click()
        expect(reply.locator(".chat-select")).to_be_hidden()

        # Report from the menu.
        button.click()
        with anna.expect_navigation():
            menu.get_by_role("link", name="Report").click()
        assert "/report" in anna.url
        anna.get_by_label("Personal data", exact=True).check()
        with anna.expect_navigation():
            anna.get_by_role("button", name="Send the report").click()
        expect(anna.locator(".flash-success")).to_contain_text("the moderators will look at it")

        # The moderator's menu holds the moderator's tools too.
        theirs = marta.locator("[data-chat-list] > li.chat-message").filter(
            has_text=f"Pierwsza {size}")
        theirs.locator(".chat-menu > summary").click()
        expect(theirs.locator("[data-chat-remove] .confirm > summary")).to_have_text(
            "Remove the message")
        expect(theirs.get_by_label(re.compile("^Mute"))).to_be_visible()
        _shot(marta, f"chat-moderator-menu-{size}")
        assert_accessible(marta)
    finally:
        for context in contexts:
            context.close()


def test_an_author_edits_and_deletes_a_message_and_the_other_sees_it_live(browser, chat_site):
    url, people = chat_site
    slug = people["group"]
    viewport = {"width": 1366, "height": 800}
    contexts = []
    try:
        anna_context, anna = _open(browser, url, people["member"]["email"], slug, viewport)
        contexts.append(anna_context)
        marta_context, marta = _open(browser, url, people["moderator"]["email"], slug, viewport)
        contexts.append(marta_context)
        _say(anna, "Literówka w wiadomośći")
        mine = anna.locator("[data-chat-list] > li.chat-message").filter(
            has_text="Literówka w wiadomośći")
        message_id = mine.get_attribute("data-id")
        mine = anna.locator(f"#message-{message_id}")
        theirs = marta.locator(f"#message-{message_id}")
        expect(theirs).to_contain_text("Literówka")
        # Marta's menu on Anna's message has no Edit or Delete.
        theirs.locator(".chat-menu > summary").click()
        expect(theirs.get_by_role("link", name="Edit")).to_have_count(0)
        marta.keyboard.press("Escape")

        mine.locator(".chat-menu > summary").click()
        mine.get_by_role("link", name="Edit").click()
        box = mine.get_by_role("textbox", name="Message")
        expect(box).to_be_focused()
        expect(box).to_have_value("Literówka w wiadomośći")
        _shot(anna, "chat-edit-in-place")
        assert_accessible(anna)
        box.fill("Poprawiona **wiadomość**")
        box.press("Enter")
        expect(theirs.locator(".chat-body strong")).to_have_text("wiadomość")
        expect(theirs.locator(".chat-edited")).to_be_visible()
        expect(mine.locator(".chat-body")).to_have_text("Poprawiona wiadomość")
        expect(mine.locator("form.chat-edit-form")).to_have_count(0)

        mine.locator(".chat-menu > summary").click()
        mine.locator(".confirm > summary").click()
        mine.get_by_role("button", name="Yes, delete the message").click()
        expect(theirs).to_contain_text("Deleted by its author.")
        expect(mine).to_contain_text("Deleted by its author.")
        expect(theirs.locator(".chat-menu")).to_have_count(0)
    finally:
        for context in contexts:
            context.close()
