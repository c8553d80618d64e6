"""Two members read the same thread in two Chromium pages; B replies, A sees it appear.

Socket.IO needs the server the way it runs in production (gunicorn's gevent worker), so this
journey starts its own server on a temporary database, like tests/browser/test_chat.py.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import TIMEOUT_MS, assert_accessible, expect
from tests.chat.live import PASSWORD, chat_server, prepare_database


@pytest.fixture(scope="module")
def live_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live-thread-browser")
    database = f"sqlite:///{tmp / 'forum.db'}"
    people = prepare_database(database)
    with chat_server(database, tmp) as url:
        yield url, people


def _signed_in(browser, url: str, email: str):
    context = browser.new_context(base_url=url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()
    return context, page


def _following(page) -> None:
    expect(page.locator("[data-thread-live]")).to_have_attribute("data-state", "following")


def test_a_reply_appears_for_the_other_reader_without_reloading(browser, live_site):
    url, people = live_site
    slug = people["group"]
    contexts = []
    try:
        anna_context, anna = _signed_in(browser, url, people["member"]["email"])
        contexts.append(anna_context)
        marta_context, marta = _signed_in(browser, url, people["moderator"]["email"])
        contexts.append(marta_context)

        # A starts a thread and stays on it; B opens it.
        anna.goto(f"/g/{slug}/t/new")
        anna.get_by_role("textbox", name="Title", exact=True).fill("Dowozy po nowym rozkładzie")
        anna.get_by_role("textbox", name="First post", exact=True).fill("Jak to u Was działa?")
        with anna.expect_navigation():
            anna.get_by_role("button", name="Start the thread", exact=True).click()
        thread_url = re.sub(r"[?#].*$", "", anna.url)
        _following(anna)
        anna.evaluate("window.notReloaded = true")
        marta.goto(thread_url)
        _following(marta)

        # B replies through the plain form (a full page load for B).
        marta.get_by_role("textbox", name="Your reply", exact=True).fill(
            "U nas **autobus** jeździ dwa razy.")
        with marta.expect_navigation():
            marta.get_by_role("button", name="Post the reply", exact=True).click()

        # A sees it appear in place, in the page's own markup, announced politely.
        posts = anna.locator("ol.posts > li.post")
        expect(posts).to_have_count(2)
        expect(posts.nth(1).locator(".post-body strong")).to_have_text("autobus")
        expect(posts.nth(1).locator(".post-author")).to_have_text(people["moderator"]["name"])
        expect(anna.locator("[role=status][aria-live=polite]")).to_have_text(
            f"New reply from {people['moderator']['name']}")
        assert anna.evaluate("window.notReloaded") is True
        assert_accessible(anna)

        # A hidden post turns into the placeholder for A, without a reload either.
        second = posts.nth(1)
        marta.locator("ol.posts > li.post").nth(1).locator(
            "details.moderate-post > summary").click()
        marta.get_by_label("Reason (the author sees it)").last.fill("Poza tematem")
        with marta.expect_navigation():
            marta.get_by_role("button", name="Hide the post", exact=True).last.click()
        expect(second.locator(".post-placeholder")).to_have_text(
            "This post was hidden by a moderator.")
        assert anna.evaluate("window.notReloaded") is True
    finally:
        for context in contexts:
            context.close()


def test_a_reader_on_an_earlier_page_is_offered_the_last_page(browser, live_site):
    from tests.chat.live import sign_in

    url, people = live_site
    slug = people["group"]
    # A thread whose first page is full, written over HTTP (the forms, CSRF and all).
    author = sign_in(url, people["member"]["email"])

    def token(path):
        page = author.get(f"{url}{path}", timeout=10).text
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    started = author.post(f"{url}/g/{slug}/t/new", data={
        "csrf_token": token(f"/g/{slug}/t/new"), "title": "Długi wątek", "body": "Wpis 1",
        "workshop_number": "0"}, allow_redirects=False, timeout=10)
    thread_path = re.search(r"/g/[^?#]+/t/\d+", started.headers["Location"]).group(0)
    csrf = token(f"{thread_path}?page=1")
    for n in range(2, 31):
        answer = author.post(f"{url}{thread_path}/reply", data={
            "csrf_token": csrf, "body": f"Wpis {n}"}, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[:300]
    author.close()

    contexts = []
    try:
        anna_context, anna = _signed_in(browser, url, people["member"]["email"])
        contexts.append(anna_context)
        marta_context, marta = _signed_in(browser, url, people["moderator"]["email"])
        contexts.append(marta_context)
        anna.goto(f"{thread_path}?page=1")
        _following(anna)
        marta.goto(f"{thread_path}?page=1")
        marta.get_by_role("textbox", name="Your reply", exact=True).fill("Wpis 31, strona 2")
        with marta.expect_navigation():
            marta.get_by_role("button", name="Post the reply", exact=True).click()
        assert "page=2" in marta.url

        link = anna.get_by_role("link", name="New replies — go to the last page")
        expect(link).to_be_visible()
        expect(anna.locator("ol.posts > li.post")).to_have_count(30)
        assert_accessible(anna)
        with anna.expect_navigation():
            link.click()
        expect(anna.locator("ol.posts > li.post")).to_have_count(1)
        expect(anna.locator("ol.posts")).to_contain_text("Wpis 31, strona 2")
    finally:
        for context in contexts:
            context.close()
