"""Workshop sessions and materials, end to end in Chromium, asserting what people see.

The moderator and member personas have chosen Polish in their profiles (and the language switch
would change the profile for everyone after this test). Labels and messages are therefore
looked up in the app's own catalogue for the page's language (live_server.text), and dates are
formatted for it with Babel: the journeys hold whether or not the Polish translation of the
session and material pages exists yet.

The demo data (forum/demo.py) gives Miasta nine sessions, number 5 live today. Tests that add
a session remove it (and what was shared for it) afterwards, so the others can count on nine.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import partial
from urllib.parse import unquote

import pytest
from babel.dates import format_date

from forum.demo import ADMIN_EMAIL, MEMBER_EMAIL, MODERATOR_EMAIL, THEMES
from forum.demo_files import make_pdf
from tests.browser.conftest import assert_accessible, expect, sign_in, submit

GROUP = "miasta"
DEMO_SESSIONS = len(THEMES)  # nine
LIVE_NUMBER = 5  # forum.demo.SCHEDULES["cities"]: session 5 of Miasta starts today
POLISH_FILE_NAME = "Prezentacja – Łódź.pdf"
REFUSED_MESSAGE = ("This kind of file is not accepted. Upload PDF, Office or OpenDocument "
                   "files, images, text, CSV or ZIP.")


def heading(page):
    return page.get_by_role("heading", level=1)


def shown_date(page, day: date, style: str) -> str:
    """`day` as the app writes it (Flask-Babel's format_date) in the page's language."""
    return format_date(day, style, locale=page.locator("html").get_attribute("lang") or "en")


def labelled(page, live_server, label: str):
    """The form field whose label is `label` in the page's language."""
    return page.get_by_label(live_server.text(page, label), exact=True)


def session_title(live_server, page, number: int, theme: str) -> str:
    return live_server.text(page, "Session %(number)d: %(theme)s", number=number, theme=theme)


# --- the database behind the live server -----------------------------------------------------


def _group(slug: str):
    from forum.extensions import db
    from forum.groups.models import Group

    return db.session.scalar(db.select(Group).where(Group.slug == slug))


def session_numbers(live_server, slug: str = GROUP) -> list[int]:
    from forum.extensions import db
    from forum.workshops.models import Workshop

    with live_server.app.app_context():
        return list(db.session.scalars(
            db.select(Workshop.number).where(Workshop.group_id == _group(slug).id)
            .order_by(Workshop.number)))


def material_id(live_server, title: str, slug: str = GROUP) -> int:
    from forum.extensions import db
    from forum.materials.models import Material

    with live_server.app.app_context():
        found = db.session.scalar(db.select(Material.id).where(
            Material.group_id == _group(slug).id, Material.title == title))
    assert found is not None, f"the demo data has no material {title!r} in {slug}"
    return found


@pytest.fixture
def sessions_removed_afterwards(live_server):
    """Remove the sessions added to Miasta during the test, with the materials shared for them."""
    from forum.extensions import db
    from forum.materials.models import Material
    from forum.workshops.models import Workshop

    with live_server.app.app_context():
        group_id = _group(GROUP).id
        before = set(db.session.scalars(
            db.select(Workshop.id).where(Workshop.group_id == group_id)))
    yield
    with live_server.app.app_context():
        added = [w for w in db.session.scalars(
            db.select(Workshop).where(Workshop.group_id == group_id)) if w.id not in before]
        for workshop in added:
            for material in db.session.scalars(
                    db.select(Material).where(Material.workshop_id == workshop.id)):
                db.session.delete(material)  # its versions go with it
            db.session.delete(workshop)
        db.session.commit()


@pytest.fixture
def fresh_session(live_server, sessions_removed_afterwards):
    """A new, empty session of Miasta (the next free number); removed after the test."""
    from forum.workshops import services

    with live_server.app.app_context():
        group = _group(GROUP)
        number = max(session_numbers(live_server), default=0) + 1
        workshop = services.create_workshop(None, group, services.WorkshopInput(
            number=number, theme="Rada rodziców i samorząd uczniowski w mieście",
            day1=services.group_today(group) + timedelta(days=30),
            place="Zamość, Szkoła Podstawowa nr 7"))
        return workshop.number, workshop.theme


# 1 -------------------------------------------------------------------------------------------

AGENDA = ["9:30 powitanie i kawa", "10:00 wizyta studyjna w szkole",
          "13:00 obiad", "14:00 warsztat: co przeniesiemy do siebie"]


def test_moderator_plans_a_session_with_an_agenda(new_context, live_server,
                                                  sessions_removed_afterwards):
    page = new_context().new_page()
    sign_in(page, live_server, MODERATOR_EMAIL)
    page.goto(f"/g/{GROUP}/")
    page.get_by_role("navigation", name=live_server.text(page, "Group")).get_by_role(
        "link", name=live_server.text(page, "Sessions"), exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/g/{GROUP}/sessions/")
    page.get_by_role("link", name=live_server.text(page, "New session"), exact=True).click()
    expect(heading(page)).to_have_text(live_server.text(page, "New session"))

    # The form proposes the next free number; the moderator keeps it.
    number = max(session_numbers(live_server)) + 1
    field = partial(labelled, page, live_server)
    expect(field("Number")).to_have_value(str(number))
    theme = "Cyfrowa szkoła: sprzęt, sieć i kompetencje nauczycieli"
    field("Theme").fill(theme)
    field("Day 1").fill("2027-05-10")
    field("Place").fill("Chełm, Szkoła Podstawowa nr 3")
    field("Agenda of day 1").fill("\n".join(f"- {item}" for item in AGENDA))
    submit(page, page.get_by_role("button", name=live_server.text(page, "Save"), exact=True))

    expect(page).to_have_url(f"{live_server.url}/g/{GROUP}/sessions/{number}")
    expect(page.get_by_role("status")).to_have_text(
        live_server.text(page, "Session %(number)d created.", number=number))
    expect(heading(page)).to_have_text(session_title(live_server, page, number, theme))
    facts = page.locator("dl.facts")
    day1, day2 = date(2027, 5, 10), date(2027, 5, 11)  # day 2 left empty: the day after
    expect(facts).to_contain_text(shown_date(page, day1, "full"))
    expect(facts).to_contain_text(shown_date(page, day2, "full"))
    expect(facts).to_contain_text("Chełm, Szkoła Podstawowa nr 3")

    # The Markdown list is shown as a list, not as lines starting with "-".
    agenda = page.get_by_role("region", name=live_server.text(page, "Agenda"), exact=True)
    expect(agenda.get_by_role("heading", level=3)).to_have_text(
        f"{live_server.text(page, 'Day 1')} — {shown_date(page, day1, 'medium')}")
    expect(agenda.get_by_role("list").get_by_role("listitem")).to_have_text(AGENDA)
    expect(agenda).not_to_contain_text("- 9:30")

    # The new session is on the group's timeline.
    page.get_by_role("link", name=live_server.text(page, "Sessions"), exact=True).first.click()
    expect(page.get_by_role("main").get_by_role(
        "link", name=session_title(live_server, page, number, theme))).to_be_visible()

    # Someone reading in English (the administrator has no language in the profile; the
    # browser asks for English) sees the dates written out in English.
    reader = new_context().new_page()
    sign_in(reader, live_server, ADMIN_EMAIL)
    reader.goto(f"/g/{GROUP}/sessions/{number}")
    expect(reader.locator("html")).to_have_attribute("lang", "en")
    expect(heading(reader)).to_have_text(f"Session {number}: {theme}")
    expect(reader.locator("dl.facts")).to_contain_text("Monday, May 10, 2027")
    expect(reader.locator("dl.facts")).to_contain_text("Tuesday, May 11, 2027")
    expect(reader.get_by_role("region", name="Agenda", exact=True).get_by_role(
        "listitem")).to_have_text(AGENDA)


# 2 -------------------------------------------------------------------------------------------


def test_moderator_shares_a_presentation_and_a_member_downloads_it(
        new_context, live_server, fresh_session, tmp_path):
    number, theme = fresh_session
    content = make_pdf("Test", ["x"])
    upload = tmp_path / POLISH_FILE_NAME
    upload.write_bytes(content)
    title = "Prezentacja: sieć szkół w Łodzi i w Lublinie"

    moderator = new_context().new_page()
    sign_in(moderator, live_server, MODERATOR_EMAIL)
    moderator.goto(f"/g/{GROUP}/sessions/{number}")
    expect(heading(moderator)).to_have_text(session_title(live_server, moderator, number, theme))
    materials = moderator.get_by_role("region", name=live_server.text(moderator, "Materials"))
    expect(materials).to_contain_text(live_server.text(moderator,
                                                       "No materials have been shared yet."))
    materials.get_by_role("link", name=live_server.text(
        moderator, "Share a material for this session")).click()

    expect(heading(moderator)).to_have_text(live_server.text(moderator, "Share a material"))
    field = partial(labelled, moderator, live_server)
    # The form comes with this session chosen.
    expect(field("Session")).to_have_value(str(number))
    field("Title").fill(title)
    field("Kind").select_option(label=live_server.text(moderator, "presentation"))
    field("File").set_input_files(upload)
    submit(moderator, moderator.get_by_role(
        "button", name=live_server.text(moderator, "Share with the group"), exact=True))

    expect(heading(moderator)).to_have_text(title)
    expect(moderator.get_by_role("status")).to_have_text(
        live_server.text(moderator, "“%(title)s” is shared with the group.", title=title))
    files = moderator.get_by_role("region", name=live_server.text(moderator, "Files"),
                                  exact=True)
    expect(files.get_by_role("link", name=live_server.text(
        moderator, "Download version %(number)d", number=1))).to_be_visible()
    expect(files).to_contain_text(POLISH_FILE_NAME)

    # A member of the group finds it on the session page and downloads it.
    member = new_context().new_page()
    sign_in(member, live_server, MEMBER_EMAIL)
    member.goto(f"/g/{GROUP}/sessions/{number}")
    listed = member.get_by_role("region", name=live_server.text(member, "Materials"))
    expect(listed.get_by_role("listitem")).to_have_count(1)
    expect(listed.get_by_role("listitem")).to_contain_text(live_server.text(member,
                                                                           "presentation"))
    listed.get_by_role("link", name=title, exact=True).click()
    expect(heading(member)).to_have_text(title)
    expect(member.get_by_role("main")).to_contain_text(session_title(live_server, member,
                                                                     number, theme))
    download = member.get_by_role("link", name=live_server.text(
        member, "Download version %(number)d", number=1))
    href = download.get_attribute("href")
    assert href

    # Fetch it with the member's cookies (the context's request client shares them).
    response = member.request.get(live_server.url + href)
    assert response.status == 200, response.status
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF")
    assert body == content
    disposition = response.headers["content-disposition"]
    # A PDF is downloaded, never opened in the forum's origin (it may carry scripts).
    assert disposition.startswith("attachment;"), disposition
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert encoded, disposition
    assert unquote(encoded.group(1)) == POLISH_FILE_NAME
    # Clients that ignore filename* get a plain-ASCII version of the name.
    assert 'filename="Prezentacja - Lodz.pdf"' in disposition

    # Without the member's cookies there is nothing to download.
    stranger = new_context()
    refused = stranger.request.get(live_server.url + href, max_redirects=0)
    assert refused.status in (302, 303), refused.status
    assert "/login" in refused.headers["location"]


# 3 -------------------------------------------------------------------------------------------


def test_a_web_page_renamed_to_pdf_is_refused_and_the_form_keeps_what_was_typed(
        page, live_server, tmp_path):
    disguised = tmp_path / "raport.pdf"
    disguised.write_text("<!doctype html>\n<html><body><h1>Raport</h1>"
                         "<script>alert(1)</script></body></html>\n", encoding="utf-8")
    title = "Raport z ankiety wśród dyrektorów szkół"

    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(f"/g/{GROUP}/materials/")
    page.get_by_role("main").get_by_role(
        "link", name=live_server.text(page, "Share a material"), exact=True).click()
    expect(heading(page)).to_have_text(live_server.text(page, "Share a material"))
    field = partial(labelled, page, live_server)
    field("Title").fill(title)
    # "other" by default; the good-practice write-up only while "good practice" is chosen.
    expect(field("Kind")).to_have_value("other")
    write_up = page.locator("fieldset.good-practice-fields")
    expect(write_up).to_be_hidden()
    field("Kind").select_option("good_practice")
    expect(write_up).to_be_visible()
    field("Kind").select_option(label=live_server.text(page, "diagnosis report"))
    expect(write_up).to_be_hidden()
    field("File").set_input_files(disguised)
    with page.expect_response(re.compile(r"/materials/new")) as answer:
        submit(page, page.get_by_role(
            "button", name=live_server.text(page, "Share with the group"), exact=True))
    assert answer.value.status == 400

    expect(heading(page)).to_have_text(live_server.text(page, "Share a material"))
    expect(page.get_by_role("alert")).to_have_text(
        live_server.text(page, "Please correct the fields marked below."))
    file_input = field("File")
    expect(file_input).to_have_attribute("aria-invalid", "true")
    expect(file_input).to_have_accessible_description(
        re.compile(re.escape(live_server.text(page, REFUSED_MESSAGE))))
    expect(page.get_by_role("main")).to_contain_text(live_server.text(page, REFUSED_MESSAGE))
    expect(field("Title")).to_have_value(title)
    expect(field("Kind")).to_have_value("diagnosis_report")
    assert_accessible(page)

    # Nothing was shared.
    page.goto(f"/g/{GROUP}/materials/")
    expect(page.get_by_role("main")).not_to_contain_text(title)


# 4 -------------------------------------------------------------------------------------------


def test_members_see_the_live_session_but_no_moderators_buttons(new_context, live_server):
    live_theme = THEMES[LIVE_NUMBER - 1]
    page = new_context().new_page()
    sign_in(page, live_server, MEMBER_EMAIL)

    page.goto(f"/g/{GROUP}/")
    live = page.get_by_role("region", name=re.compile(
        "^" + re.escape(live_server.text(page, "Live now"))))
    expect(live).to_have_count(1)
    expect(live.locator(".badge")).to_have_text(live_server.text(page, "Live now"))
    live_link = live.get_by_role("link", name=session_title(live_server, page, LIVE_NUMBER,
                                                            live_theme), exact=True)
    expect(live_link).to_be_visible()
    live_link.click()
    expect(page).to_have_url(f"{live_server.url}/g/{GROUP}/sessions/{LIVE_NUMBER}")
    expect(page.get_by_role("main").locator("h1 + p > .badge")).to_have_text(
        live_server.text(page, "live now"))
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name=live_server.text(page, "Edit session"))).to_have_count(0)
    expect(main.locator("summary", has_text=live_server.text(page, "Cancel session"))
           ).to_have_count(0)
    # …but may share materials (the group lets members upload).
    expect(main.get_by_role("link", name=live_server.text(
        page, "Share a material for this session"))).to_be_visible()

    page.goto(f"/g/{GROUP}/sessions/")
    expect(page.get_by_role("main").get_by_role(
        "link", name=session_title(live_server, page, 1, THEMES[0]))).to_be_visible()
    expect(page.get_by_role("link", name=live_server.text(page, "New session"))).to_have_count(0)

    # Typing the addresses does not help either.
    for path in (f"/g/{GROUP}/sessions/new", f"/g/{GROUP}/sessions/{LIVE_NUMBER}/edit"):
        response = page.goto(path)
        assert response is not None and response.status == 403, (path, response)

    # The same pages do show the buttons to the group's moderator.
    moderator = new_context().new_page()
    sign_in(moderator, live_server, MODERATOR_EMAIL)
    moderator.goto(f"/g/{GROUP}/sessions/{LIVE_NUMBER}")
    expect(moderator.get_by_role("main").get_by_role(
        "link", name=live_server.text(moderator, "Edit session"))).to_be_visible()
    # Cancelling asks first: the visible control opens the question and the real button.
    cancel = moderator.get_by_role("main").locator(
        "summary", has_text=live_server.text(moderator, "Cancel session"))
    confirm = moderator.get_by_role("main").get_by_role(
        "button", name=live_server.text(moderator, "Yes, cancel the session"))
    expect(cancel).to_be_visible()
    expect(confirm).to_be_hidden()
    cancel.click()
    expect(confirm).to_be_visible()
    moderator.keyboard.press("Escape")  # closes it again, as menus do
    expect(confirm).to_be_hidden()
    expect(cancel).to_be_focused()
    moderator.goto(f"/g/{GROUP}/sessions/")
    expect(moderator.get_by_role("main").get_by_role(
        "link", name=live_server.text(moderator, "New session"))).to_be_visible()


# 5 -------------------------------------------------------------------------------------------

GOOD_PRACTICE = "Dowozy uczniów organizowane z lokalnym przewoźnikiem"
REPORT_PDF = "Raport z diagnozy potrzeb edukacyjnych"
FOR_REVIEW = "Materiał szkoleniowy do opiniowania: zarządzanie usługami edukacyjnymi"


@pytest.mark.parametrize(
    "path",
    [
        "/g/miasta/sessions/",
        f"/g/miasta/sessions/{LIVE_NUMBER}",
        "/g/miasta/sessions/new",
        "/g/miasta/materials/",
        "/g/miasta/materials/{good_practice}",
        "/g/miasta/materials/{report}",
        "/g/miasta/materials/{for_review}",
        f"/g/miasta/materials/new?session={LIVE_NUMBER}",
    ],
)
def test_session_and_material_pages_pass_axe(page, live_server, path):
    sign_in(page, live_server, MODERATOR_EMAIL)
    expect(page.get_by_role("banner").locator("form[action$='/logout']")).to_have_count(1)
    path = path.format(good_practice=material_id(live_server, GOOD_PRACTICE),
                       report=material_id(live_server, REPORT_PDF),
                       for_review=material_id(live_server, FOR_REVIEW))
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response)
    assert_accessible(page)


def test_materials_library_fits_a_phone_screen(new_context, live_server):
    phone = new_context(viewport={"width": 375, "height": 740}).new_page()
    sign_in(phone, live_server, MODERATOR_EMAIL)
    phone.goto(f"/g/{GROUP}/materials/")
    expect(phone.get_by_role("main").get_by_role("link", name=REPORT_PDF)).to_be_visible()
    width = phone.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 375, f"the materials library scrolls sideways on a phone ({width}px > 375px)"


# 6 -------------------------------------------------------------------------------------------


def test_private_calendar_feed_works_without_signing_in(new_context, live_server):
    from icalendar import Calendar

    page = new_context().new_page()
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(f"/g/{GROUP}/sessions/")
    feed = page.get_by_label(live_server.text(page, "This group's sessions"), exact=True)
    expect(feed).to_have_attribute("readonly", "")
    address = feed.input_value()
    assert address.startswith(f"{live_server.url}/g/{GROUP}/sessions.ics?token="), address

    # A calendar application sends no cookies: a context that never signed in.
    calendar_app = new_context()
    assert calendar_app.cookies() == []
    response = calendar_app.request.get(address)
    assert response.status == 200, response.status
    assert response.headers["content-type"].split(";")[0] == "text/calendar"
    body = response.body()
    assert body.count(b"BEGIN:VEVENT") == DEMO_SESSIONS, body.decode()
    summaries = [str(event["summary"]) for event in Calendar.from_ical(body).walk("VEVENT")]
    assert any(THEMES[0] in summary for summary in summaries), summaries

    # A made-up token shows nothing.
    forged = re.sub(r"token=[^&]+", "token=1.0123456789abcdef0123456789abcdef", address)
    assert calendar_app.request.get(forged).status == 404


def test_member_copies_and_subscribes_to_the_calendar_address(new_context, live_server):
    """The private calendar address: a webcal:// link to subscribe in one click, and a copy
    button (JavaScript only) that puts the address on the clipboard and says so; axe-clean."""
    context = new_context(viewport={"width": 390, "height": 844})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(f"/g/{GROUP}/sessions/")
    address = page.locator("#group-feed").input_value()
    assert address.startswith("http") and f"/g/{GROUP}/sessions.ics?token=" in address
    subscribe = page.get_by_role("link", name=re.compile(
        "^" + re.escape(live_server.text(page, "Subscribe")))).first
    assert subscribe.get_attribute("href") == "webcal://" + address.split("://", 1)[1]
    copy = page.get_by_role("button", name=re.compile(
        "^" + re.escape(live_server.text(page, "Copy the address")))).first
    expect(copy).to_be_visible()
    copy.click()
    expect(page.locator('[data-copy-status="group-feed"]')).to_have_text(
        live_server.text(page, "The address is copied."))
    assert page.evaluate("navigator.clipboard.readText()") == address
    assert_accessible(page)


def test_without_javascript_the_calendar_address_has_no_copy_button(new_context,
                                                                     live_server):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(f"/g/{GROUP}/sessions/")
    expect(page.locator("#group-feed")).to_be_visible()
    expect(page.locator('button[data-copy="group-feed"]')).to_be_hidden()
    expect(page.get_by_role("link", name=re.compile(
        "^" + re.escape(live_server.text(page, "Subscribe")))).first).to_be_visible()
