"""Two members chat in two Chromium pages; one goes offline and comes back.

The chat needs the server the way it runs in production (gunicorn's gevent worker, WebSocket
upgrade), so this journey starts its own server on a temporary database instead of the
threaded live server the other journeys share.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import TIMEOUT_MS, assert_accessible, expect
from tests.chat.live import PASSWORD, chat_server, prepare_database


@pytest.fixture(scope="module")
def chat_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chat-browser")
    database = f"sqlite:///{tmp / 'forum.db'}"
    people = prepare_database(database)
    with chat_server(database, tmp) as url:
        yield url, people


def _open_chat(browser, url: str, email: str, slug: str):
    context = browser.new_context(base_url=url, locale="en-US")
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


def _ids(page) -> list[str]:
    return page.locator("[data-chat-list] > li[data-id]").evaluate_all(
        "items => items.map(item => item.dataset.id)")


def _texts(page) -> list[str]:
    return page.locator("[data-chat-list] > li[data-id] .chat-body").all_inner_texts()


def test_two_members_chat_and_one_comes_back_after_going_offline(browser, chat_site):
    url, people = chat_site
    slug = people["group"]
    contexts = []
    try:
        anna_context, anna = _open_chat(browser, url, people["member"]["email"], slug)
        contexts.append(anna_context)
        marta_context, marta = _open_chat(browser, url, people["moderator"]["email"], slug)
        contexts.append(marta_context)
        assert_accessible(anna)

        presence = anna.locator("[data-chat-present]")
        expect(presence).to_contain_text(people["moderator"]["name"])

        _say(anna, "Dzień dobry, czy widać moją wiadomość?")
        expect(marta.locator("[data-chat-list]")).to_contain_text("czy widać moją wiadomość")
        _say(marta, "Widać! **Witamy**")
        expect(anna.locator("[data-chat-list] strong")).to_have_text("Witamy")

        # Anna's laptop loses the network; Marta goes on, Anna writes while offline.
        anna_context.set_offline(True)
        expect(anna.locator("[data-chat-status]")).to_have_text(re.compile("^Offline"),
                                                                 timeout=30_000)
        for n in range(3):
            _say(marta, f"W czasie przerwy {n}")
        _say(anna, "Napisane bez sieci")
        expect(anna.locator(".chat-message.is-pending")).to_have_count(1)
        expect(anna.locator("[data-chat-list]")).not_to_contain_text("W czasie przerwy 0")

        anna_context.set_offline(False)
        expect(anna.locator("[data-chat-status]")).to_have_text(re.compile("^Connected"),
                                                                 timeout=30_000)
        expect(anna.locator("[data-chat-list]")).to_contain_text("W czasie przerwy 2")
        expect(marta.locator("[data-chat-list]")).to_contain_text("Napisane bez sieci")
        expect(anna.locator(".chat-message.is-pending")).to_have_count(0)

        expected = ["Dzień dobry, czy widać moją wiadomość?", "Widać! Witamy",
                    "W czasie przerwy 0", "W czasie przerwy 1", "W czasie przerwy 2",
                    "Napisane bez sieci"]
        for page in (anna, marta):
            expect(page.locator("[data-chat-list] > li[data-id]")).to_have_count(len(expected))
            ids = _ids(page)
            assert len(set(ids)) == len(ids) and ids == sorted(ids, key=int)
            assert _texts(page) == expected
        assert _ids(anna) == _ids(marta)

        # The moderator removes a message: it disappears for Anna at once, in place.
        first = marta.locator(f"#message-{_ids(marta)[0]}")
        first.locator(".chat-menu > summary").click()
        first.locator("[data-chat-remove] .confirm > summary").click()  # it asks first
        first.get_by_role("button", name="Yes, remove the message").click()
        expect(anna.locator(f"#message-{_ids(anna)[0]}")).to_contain_text(
            "Removed by a moderator.")
        expect(anna.locator("[data-chat-list]")).not_to_contain_text("czy widać moją")
    finally:
        for context in contexts:
            context.close()


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844},
                                      {"width": 1366, "height": 800}])
def test_the_chat_page_ends_at_its_footer_and_its_controls_are_big_enough(browser, chat_site,
                                                                           viewport):
    url, people = chat_site
    context, page = _open_chat(browser, url, people["member"]["email"], people["group"])
    try:
        page.set_viewport_size(viewport)
        for n in range(12):  # enough messages to scroll, each with its hidden labels
            _say(page, f"Wiadomość numer {n}")
        expect(page.locator("[data-chat-list] > li[data-id] .chat-body").last).to_have_text(
            "Wiadomość numer 11", timeout=15_000)
        page.reload()
        expect(page.locator("[data-chat-status]")).to_have_text(re.compile("^Connected"))
        # No blank screens below the footer: the document ends where the footer does.
        height, footer_bottom = page.evaluate("""() => [
            document.documentElement.scrollHeight,
            document.querySelector('body > footer').getBoundingClientRect().bottom + scrollY]""")
        assert abs(height - footer_bottom) <= 2, (height, footer_bottom)
        # Touch targets of at least 24 × 24 px (WCAG 2.2, 2.5.8) on the messages' controls:
        # each message's actions menu, what it holds, and the selection boxes.
        measure = ("els => els.map(el => { const r = el.getBoundingClientRect();"
                   " return [r.width, r.height]; })")
        sizes = page.locator(".chat-menu > summary").evaluate_all(measure)
        assert sizes and all(w >= 24 and h >= 24 for w, h in sizes), sizes
        page.locator(".chat-menu > summary").last.click()
        sizes = page.locator(".chat-menu[open] .chat-menu-panel :is(a, button)").evaluate_all(
            measure)
        assert sizes and all(w >= 24 and h >= 24 for w, h in sizes), sizes
        page.get_by_role("link", name="Select messages").click()
        sizes = page.locator(".chat-select").evaluate_all(measure)
        assert sizes and all(w >= 24 and h >= 24 for w, h in sizes), sizes
    finally:
        context.close()


_PAGE_HEIGHTS = """() => {
  const footer = document.querySelector('.site-footer');
  return {document: document.documentElement.scrollHeight,
          content: footer.getBoundingClientRect().bottom + window.scrollY};
}"""


@pytest.mark.parametrize("width,height", [(1366, 800), (390, 844)])
def test_the_chat_fills_the_window_with_the_input_in_view(browser, chat_site, width, height):
    """Kept last in this file: it adds many messages to the shared chat."""
    url, people = chat_site
    slug = people["group"]
    context, page = _open_chat(browser, url, people["member"]["email"], slug)
    try:
        page.set_viewport_size({"width": width, "height": height})
        while page.locator("[data-chat-list] > li[data-id]").count() < 30:
            _say(page, f"Wiadomość numer {page.locator('[data-chat-list] > li').count()}")
            page.wait_for_function(
                "() => !document.querySelector('[data-chat-list] > li.is-pending')")
        page.reload()
        expect(page.locator("[data-chat-status]")).to_have_text(re.compile("^Connected"))
        page.evaluate("() => window.scrollTo(0, 0)")
        box = page.get_by_label("Message", exact=True)
        area = box.bounding_box()
        assert area["y"] >= 0 and area["y"] + area["height"] <= height
        for line in ("[data-chat-status]", "[data-chat-typing]"):
            top = page.locator(line).bounding_box()["y"]
            assert 0 <= top <= height
        # The messages fill the space: the list is taller than a third of the window.
        assert page.locator("[data-chat-list]").bounding_box()["height"] > height / 3
        if width < 600:
            # On a phone the title keeps to one line and the group's tabs to one row (the
            # current tab scrolled into view), so the messages start high up (about 355 px
            # before; the header, title and tabs took two rows each).
            assert page.locator("[data-chat-list]").bounding_box()["y"] < 290
            tab = page.locator(".group-nav [aria-current]").bounding_box()
            assert tab["x"] >= 0 and tab["x"] + tab["width"] <= width, tab
            assert page.locator(".group-nav li").first.bounding_box()["height"] < 50
        heights = page.evaluate(_PAGE_HEIGHTS)
        assert abs(heights["document"] - heights["content"]) < 1, heights
        assert_accessible(page)
        page.goto(f"/g/{slug}")
        heights = page.evaluate(_PAGE_HEIGHTS)
        assert abs(heights["document"] - heights["content"]) < 1, heights
    finally:
        context.close()
