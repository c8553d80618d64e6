"""The dashboard on a phone: the live session and the way into its chat on the first screen;
the member table stacked instead of clipped."""

from tests.browser.conftest import assert_accessible, sign_in


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate(
        "document.documentElement.clientWidth")


def test_the_live_session_and_join_the_chat_are_on_the_first_phone_screen(new_context,
                                                                          live_server):
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, live_server, "member@example.org")
    page.goto(f"{live_server.url}/")
    live = page.locator(".dashboard-card.is-live").first
    assert live.is_visible()
    join = live.get_by_role("link", name=live_server.text(page, "Join the chat"), exact=True)
    box = join.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844, box  # no scrolling needed
    assert box["width"] <= 390 and box["height"] >= 24
    unread = page.locator(".dashboard-unread a").first
    assert unread.is_visible()
    _no_sideways_scroll(page)
    assert_accessible(page)
    with page.expect_navigation():
        join.click()
    assert page.url.endswith("/chat")


def test_the_member_table_is_stacked_on_a_phone(new_context, live_server):
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, live_server, "moderator@example.org")
    page.goto(f"{live_server.url}/g/miasta/members")
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")  # nothing clipped
    assert page.get_by_text("member@example.org").first.is_visible()
    _no_sideways_scroll(page)
    assert_accessible(page)
