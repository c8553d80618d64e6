"""What people do with the forum, end to end in Chromium, asserting what they see.

The member persona has chosen Polish in its profile: texts on its pages are looked up through
the app's own catalogue (live_server.text), so the journeys hold whether or not the Polish
translation of a string exists yet.
"""

from __future__ import annotations

import re

import pytest

from forum.demo import ADMIN_EMAIL, MEMBER_EMAIL, MODERATOR_EMAIL
from tests.browser.conftest import (
    ROOT,
    assert_accessible,
    expect,
    open_header_menu,
    sign_in,
    sign_out,
    submit,
)

POLISH_CATALOGUE = ROOT / "forum" / "translations" / "pl" / "LC_MESSAGES" / "messages.mo"


def heading(page):
    return page.get_by_role("heading", level=1)


def group_id(live_server, slug: str) -> int:
    from forum.extensions import db
    from forum.groups.models import Group

    with live_server.app.app_context():
        return db.session.scalar(db.select(Group.id).where(Group.slug == slug))


# 1 -------------------------------------------------------------------------------------------


def test_member_sees_own_groups_opens_one_and_signs_out(page, live_server):
    sign_in(page, live_server, MEMBER_EMAIL)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(heading(page)).to_have_text(live_server.text(page, "My groups"))
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Miasta", exact=True)).to_be_visible()
    expect(main.get_by_role("link", name="Gminy wiejskie i miejsko-wiejskie")).to_be_visible()
    expect(main.get_by_role("link", name="Powiaty")).to_have_count(0)
    expect(main).not_to_contain_text("Powiaty")

    main.get_by_role("link", name="Miasta", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/g/miasta/")
    expect(heading(page)).to_have_text("Miasta")

    sign_out(page, live_server)
    expect(page).to_have_url(f"{live_server.url}/login")
    expect(heading(page)).to_have_text(live_server.text(page, "Sign in"))
    expect(page.get_by_role("status")).to_have_text(live_server.text(page, "You have signed out."))

    page.goto("/g/miasta/")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)g(/|%2F)miasta"))
    expect(heading(page)).to_have_text(live_server.text(page, "Sign in"))
    expect(page.get_by_role("main")).not_to_contain_text("Grupa Wymiany Doświadczeń miast")


# 2 -------------------------------------------------------------------------------------------


def test_wrong_password_keeps_the_address_and_says_what_went_wrong(page, live_server):
    page.goto("/login")
    email = page.get_by_label("E-mail address", exact=True)
    password = page.get_by_label("Password", exact=True)
    email.fill(MODERATOR_EMAIL)
    password.fill("not-the-password-2026")
    submit(page, page.get_by_role("button", name="Sign in", exact=True))

    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Wrong e-mail address or password.")
    expect(heading(page)).to_have_text("Sign in")
    expect(email).to_have_value(MODERATOR_EMAIL)
    expect(password).to_have_value("")
    # Still signed out: the header offers to sign in, not to sign out.
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_have_count(0)


# 3 -------------------------------------------------------------------------------------------


def test_language_switch_on_the_sign_in_page(page, live_server):
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_label("Language", exact=True).select_option(label="Polski")
    submit(page, page.get_by_role("button", name="Change", exact=True))

    expect(page).to_have_url(f"{live_server.url}/login")
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    polish_heading = live_server.gettext("pl", "Sign in")
    expect(heading(page)).to_have_text(polish_heading)
    if POLISH_CATALOGUE.exists():
        assert polish_heading != "Sign in", "the Polish catalogue does not translate 'Sign in'"
        expect(heading(page)).not_to_have_text("Sign in")

    page.get_by_label(live_server.gettext("pl", "Language"), exact=True).select_option(
        label="English"
    )
    submit(page, page.get_by_role("button", name=live_server.gettext("pl", "Change"), exact=True))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading(page)).to_have_text("Sign in")


# 4 -------------------------------------------------------------------------------------------


def test_guessing_the_address_of_someone_elses_group_shows_not_found(page, live_server):
    sign_in(page, live_server, MEMBER_EMAIL)
    expect(heading(page)).to_have_text(live_server.text(page, "My groups"))

    response = page.goto("/g/powiaty/")
    assert response is not None and response.status == 404
    expect(heading(page)).to_have_text(live_server.text(page, "Page not found"))
    expect(page.locator("body")).not_to_contain_text("Powiaty")

    # The same answer as for a group that does not exist at all.
    response = page.goto("/g/no-such-group/")
    assert response is not None and response.status == 404
    expect(heading(page)).to_have_text(live_server.text(page, "Page not found"))


# 5 -------------------------------------------------------------------------------------------

RESET_EMAIL = "reset@example.org"
RESET_OLD_PASSWORD = "Wiosna-w-Lublinie-2026"
RESET_NEW_PASSWORD = "Kasztany pod Zamkiem jesienią"


@pytest.fixture
def reset_account(live_server):
    from forum.accounts.services import create_user, find_user_by_email

    with live_server.app.app_context():
        if find_user_by_email(RESET_EMAIL) is None:
            create_user(None, email=RESET_EMAIL, name="Reset Person",
                        password=RESET_OLD_PASSWORD)
    return RESET_EMAIL


def test_forgotten_password_is_reset_through_the_mailed_link(page, live_server, reset_account):
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(heading(page)).to_have_text("Forgot your password?")

    mails_before = len(live_server.smtp.messages)
    page.get_by_label("E-mail address", exact=True).fill(reset_account)
    submit(page, page.get_by_role("button", name="Send the link"))
    expect(page).to_have_url(f"{live_server.url}/login")
    expect(page.get_by_role("status")).to_contain_text("we have sent it a link")

    message = live_server.mail_to(reset_account, since=mails_before)
    link = live_server.link_in(message, "/password/reset/")

    page.goto(link)
    expect(heading(page)).to_have_text("Choose a new password")
    page.get_by_label("New password", exact=True).fill(RESET_NEW_PASSWORD)
    page.get_by_label("New password again", exact=True).fill(RESET_NEW_PASSWORD)
    submit(page, page.get_by_role("button", name="Save the password"))
    expect(page.get_by_role("status")).to_have_text("Your password has been changed.")
    expect(heading(page)).to_have_text("My groups")

    # The link was for one use only.
    sign_out(page, live_server)
    page.goto(link)
    expect(page.get_by_role("alert")).to_have_text(
        "This link has already been used. Ask for a new one."
    )

    # The old password no longer works, the new one does.
    sign_in(page, live_server, reset_account, RESET_OLD_PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail address or password.")
    sign_in(page, live_server, reset_account, RESET_NEW_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")
    expect(heading(page)).to_have_text("My groups")
    open_header_menu(page, live_server)
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()


# 6 -------------------------------------------------------------------------------------------

INVITED_EMAIL = "newperson@example.org"


def test_invited_person_creates_an_account_and_joins_the_group(page, live_server):
    sign_in(page, live_server, ADMIN_EMAIL)
    open_header_menu(page, live_server)
    page.get_by_role("banner").get_by_role("link", name="Administration").click()
    expect(heading(page)).to_have_text("Administration")
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Groups", exact=True
    ).click()
    expect(heading(page)).to_have_text("Groups")
    page.get_by_role("main").get_by_role("link", name="Powiaty", exact=True).click()
    expect(heading(page)).to_have_text("Powiaty")

    invite = page.get_by_role("region", name="Invite by e-mail")
    invite.get_by_label("E-mail address", exact=True).fill(INVITED_EMAIL)
    invite.get_by_label("Role", exact=True).select_option(label="member")
    mails_before = len(live_server.smtp.messages)
    submit(page, invite.get_by_role("button", name="Send invitation"))
    expect(page.get_by_role("status")).to_have_text(f"Invitation sent to {INVITED_EMAIL}.")
    expect(page.get_by_role("region", name="Invite by e-mail")).to_contain_text(INVITED_EMAIL)

    message = live_server.mail_to(INVITED_EMAIL, since=mails_before)
    assert "Powiaty" in message["Subject"]
    link = live_server.link_in(message, "/invitations/")
    sign_out(page, live_server)

    page.goto(link)
    expect(heading(page)).to_have_text("Invitation to Powiaty")
    page.get_by_label("Full name", exact=True).fill("Nowa Osoba")
    page.get_by_label("Password", exact=True).fill("Jesienne liście w Puławach")
    page.get_by_label("Password again", exact=True).fill("Jesienne liście w Puławach")
    submit(page, page.get_by_role("button", name="Create account and join"))

    expect(page).to_have_url(f"{live_server.url}/g/powiaty/")
    expect(heading(page)).to_have_text("Powiaty")
    expect(page.get_by_role("status")).to_have_text("Welcome to Powiaty.")
    expect(page.get_by_role("main")).to_contain_text("your role: member")

    # The invitation is spent: opening the link again does not offer a second account.
    sign_out(page, live_server)
    page.goto(link)
    expect(page.get_by_role("alert")).to_have_text(
        "This invitation has already been used. Sign in instead."
    )


# 7 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        (None, "/login"),
        (None, "/password/forgot"),
        (MEMBER_EMAIL, "/"),
        (MEMBER_EMAIL, "/g/miasta/"),
        (MEMBER_EMAIL, "/g/miasta/members"),
        (MEMBER_EMAIL, "/profile"),
        (MEMBER_EMAIL, "/g/powiaty/"),  # the 404 page
        (ADMIN_EMAIL, "/admin/groups/{powiaty}"),
    ],
)
def test_pages_pass_axe(page, live_server, persona, path):
    if persona:
        sign_in(page, live_server, persona)
        # Signed in: the header's menu holds the sign-out form.
        expect(page.get_by_role("banner").locator(
            "details[data-menu] form[action$='/logout']")).to_have_count(1)
    page.goto(path.format(powiaty=group_id(live_server, "powiaty")))
    assert_accessible(page)


def test_sign_in_page_fits_a_phone_screen(new_context, live_server):
    phone = new_context(viewport={"width": 375, "height": 740}).new_page()
    phone.goto("/login")
    expect(heading(phone)).to_have_text("Sign in")
    width = phone.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 375, f"the sign-in page scrolls sideways on a phone ({width}px > 375px)"


# 8 -------------------------------------------------------------------------------------------


def test_signing_in_and_opening_a_group_work_without_javascript(new_context, live_server):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, live_server, MEMBER_EMAIL)
    expect(heading(page)).to_have_text(live_server.text(page, "My groups"))
    page.get_by_role("main").get_by_role("link", name="Miasta", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/g/miasta/")
    expect(heading(page)).to_have_text("Miasta")
    sign_out(page, live_server)
    expect(heading(page)).to_have_text(live_server.text(page, "Sign in"))


# 9 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["pl", "ca", "en"])
def test_the_header_is_compact_on_a_phone_and_one_row_on_a_laptop(new_context, live_server,
                                                                 locale):
    """The administrator has the most in the header. On a phone: two short rows (name and
    menu, then the three everyday links), and no sideways scrolling; at 1366 px one row."""
    for width, height, most in ((390, 844, 110), (1366, 800, 70)):
        page = new_context(viewport={"width": width, "height": height}).new_page()
        sign_in(page, live_server, ADMIN_EMAIL)
        open_header_menu(page, live_server)
        page.get_by_role("banner").get_by_label(
            live_server.text(page, "Language"), exact=True).select_option(locale)
        submit(page, page.get_by_role("banner").get_by_role(
            "button", name=live_server.text(page, "Change"), exact=True))
        page.goto("/g/miasta/")
        expect(page.locator("html")).to_have_attribute("lang", locale)
        header = page.get_by_role("banner").bounding_box()
        assert header["height"] <= most, (width, locale, header)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
        # A thread is on the first screen of the group's page.
        first = page.locator(".thread-list .thread-title").first.bounding_box()
        assert first["y"] + first["height"] <= height, (width, locale, first)
        # The menu opens without JavaScript's help (a <details>), closes on Escape.
        menu = page.get_by_role("banner").locator("details[data-menu]")
        open_header_menu(page, live_server)
        expect(page.get_by_role("banner").get_by_role(
            "link", name=live_server.text(page, "Administration"))).to_be_visible()
        page.keyboard.press("Escape")
        expect(menu).not_to_have_attribute("open", "")
        assert_accessible(page)
    # Back to English for the other tests.
    open_header_menu(page, live_server)
    page.get_by_role("banner").get_by_label(
        live_server.text(page, "Language"), exact=True).select_option("en")
    submit(page, page.get_by_role("banner").get_by_role(
        "button", name=live_server.text(page, "Change"), exact=True))
