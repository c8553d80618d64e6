"""A moderator splits two posts into a new thread, then merges it back, in Chromium.

Labels are looked up in the app's catalogue for the page's language (the demo moderator reads
Polish), so the journey holds whether or not a translation exists. The threads made here are
deleted afterwards (tests.browser.test_discussions.threads_removed_afterwards).
"""

from __future__ import annotations

import re

from forum.demo import ADMIN_EMAIL, MEMBER_EMAIL, MODERATOR_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, submit
from tests.browser.test_discussions import (  # noqa: F401  (fixture)
    GROUP,
    add_reply,
    button,
    heading,
    labelled,
    posts,
    start_thread,
    threads_removed_afterwards,
)


def _open_tool(page, live_server, summary: str) -> None:
    details = page.locator("details.curation-tool", has=page.get_by_text(
        live_server.text(page, summary), exact=True))
    if details.get_attribute("open") is None:
        details.locator("summary").click()


def test_moderator_splits_two_posts_then_merges_them_back(page, live_server,
                                                          threads_removed_afterwards):  # noqa: F811
    thread = start_thread(live_server, MEMBER_EMAIL, "Świetlice szkolne po lekcjach",
                          "Jak długo są otwarte świetlice?")
    add_reply(live_server, MODERATOR_EMAIL, thread, "Do 17:00 w każdej szkole.")
    moved = [add_reply(live_server, MEMBER_EMAIL, thread, "A co z dowozem dzieci z wiosek?"),
             add_reply(live_server, MODERATOR_EMAIL, thread, "Dowóz to osobny temat: autobus.")]

    sign_in(page, live_server, MODERATOR_EMAIL)
    page.goto(f"{thread.path}?page=1")
    expect(posts(page)).to_have_count(4)
    # No checkboxes on the posts until the moderator selects posts for the split.
    expect(page.locator("[id^=split-post-]")).to_have_count(0)
    _open_tool(page, live_server, "Split posts into a new thread")
    submit(page, page.get_by_role("link", name=live_server.text(page, "Select posts to move")))
    for post_id in moved:
        page.locator(f"#split-post-{post_id}").check()
    labelled(page, live_server, "Title of the new thread").fill("Dowozy dzieci na świetlice")
    submit(page, button(page, live_server, "Split"))

    expect(heading(page)).to_have_text("Dowozy dzieci na świetlice")
    expect(posts(page)).to_have_count(2)
    new_path = re.search(r"/g/[^/]+/t/\d+", page.url).group(0)
    assert new_path != thread.path
    expect(page.locator(".moderation-notices")).to_contain_text(thread.title)

    page.goto(f"{thread.path}?page=1")
    expect(posts(page)).to_have_count(2)
    expect(page.locator(".moderation-notices")).to_contain_text("Dowozy dzieci na świetlice")

    # The thread page with the moderator tools open passes axe.
    _open_tool(page, live_server, "Merge into another thread")
    _open_tool(page, live_server, "Split posts into a new thread")
    assert_accessible(page)

    page.goto(f"{new_path}?page=1")
    _open_tool(page, live_server, "Merge into another thread")
    labelled(page, live_server, "Merge into").select_option(str(thread.id))
    submit(page, button(page, live_server, "Merge"))

    assert page.url.split("?")[0].endswith(thread.path)
    expect(heading(page)).to_have_text(thread.title)
    expect(posts(page)).to_have_count(4)
    ids = [int(i.removeprefix("post-")) for i in posts(page).evaluate_all(
        "items => items.map(item => item.id)")]
    assert ids[2:] == moved  # back in time order

    page.goto(new_path)  # the merged thread's old address leads to the target
    assert page.url.split("?")[0].split("#")[0].endswith(thread.path)
    expect(heading(page)).to_have_text(thread.title)


def test_the_audit_logs_are_filterable_and_accessible(page, new_context, live_server):
    sign_in(page, live_server, MODERATOR_EMAIL)
    page.goto(f"/g/{GROUP}/moderation/audit")
    expect(heading(page)).to_have_text(live_server.text(page, "Audit log"))
    assert_accessible(page)

    admin = new_context().new_page()
    sign_in(admin, live_server, ADMIN_EMAIL)
    admin.goto("/admin/audit")
    labelled(admin, live_server, "Action").select_option("thread.pin")
    submit(admin, button(admin, live_server, "Filter"))
    assert "action=thread.pin" in admin.url
    href = admin.get_by_role("link", name=live_server.text(
        admin, "Download as CSV (these entries)")).get_attribute("href")
    assert href.startswith("/admin/audit.csv?") and "action=thread.pin" in href
    assert_accessible(admin)
