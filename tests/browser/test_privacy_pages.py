"""The privacy notice, the accessibility statement and their editing in Chromium, checked by
axe; reached from the footer by keyboard."""

from __future__ import annotations

from forum.demo import ADMIN_EMAIL, MEMBER_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, submit


def test_privacy_and_accessibility_pages_are_accessible(new_context, live_server):
    for locale in ("pl-PL", "ca-ES", "en-US"):
        page = new_context(locale=locale).new_page()
        page.goto("/login")
        footer = page.get_by_role("contentinfo")
        footer_link = footer.get_by_role("link", name=live_server.text(page, "Privacy notice"))
        expect(footer_link).to_be_visible()
        with page.expect_navigation():
            footer_link.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            live_server.text(page, "Privacy notice"))
        expect(page.locator("#retention-table")).to_be_visible()
        assert_accessible(page)
        page.goto("/accessibility")
        expect(page.locator("#a11y-podmiot")).to_be_visible()
        assert_accessible(page)


def test_signed_in_privacy_page_and_the_keyboard_path_from_the_footer(page, live_server):
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto("/privacy")
    expect(page.locator("#my-groups-erasure")).to_be_visible()
    assert_accessible(page)
    page.goto("/")
    statement = live_server.text(page, "Accessibility statement")
    link = page.get_by_role("contentinfo").get_by_role("link", name=statement)
    link.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(statement)


def test_site_text_editing_pages_are_accessible(page, live_server):
    sign_in(page, live_server, ADMIN_EMAIL)
    page.goto("/admin/site-texts")
    assert_accessible(page)
    page.goto("/admin/site-texts/accessibility/en")
    assert_accessible(page)
    submit(page, page.get_by_role("button", name="Preview"))
    expect(page.get_by_role("heading", name="Preview", level=2)).to_be_visible()
    assert_accessible(page)
