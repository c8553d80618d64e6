"""Choosing a new thread's materials with a finger (issue 14, item 11), in Chromium: with
JavaScript a filter (case and accents ignored) and removable chips over the checkboxes; without
it the checkboxes alone. Labels come from the app's catalogue in the page's language (the member
persona reads Polish)."""

from __future__ import annotations

import uuid

import pytest

from forum.demo import MEMBER_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, submit

GROUP = "miasta"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 800}


@pytest.fixture
def two_materials(live_server):
    """Two new materials of Miasta with titles of their own: (Polish letters, the other)."""
    from forum.extensions import db
    from forum.groups.models import Group
    from tests import factories

    tag = uuid.uuid4().hex[:6]
    titles = (f"Łęczna – raport {tag}", f"Budżet szkół {tag}")
    with live_server.app.app_context():
        group = db.session.scalar(db.select(Group).where(Group.slug == GROUP))
        for n, title in enumerate(titles):
            factories.make_material(None, group, name=f"m{n}.pdf", title=title)
    return titles


def _tick(page, label, touch: bool) -> None:
    label.tap() if touch else label.click()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_filter_tick_chips_and_start_the_thread(new_context, live_server, two_materials,
                                                viewport):
    touch = viewport is PHONE
    page = new_context(viewport=viewport, has_touch=touch).new_page()
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(f"/g/{GROUP}/t/new")
    lecznej, budzet = two_materials
    options = page.locator(".chips-options")
    option = {t: options.locator("li", has_text=t) for t in two_materials}
    expect(page.get_by_text("Ctrl")).to_have_count(0)

    # Filtering: no accents, no capitals; then capitals and accents.
    search = page.get_by_label(live_server.text(page, "Filter materials"), exact=True)
    search.fill("leczna")
    expect(option[lecznej]).to_be_visible()
    expect(option[budzet]).to_be_hidden()
    search.fill("BUDŻET SZKÓŁ")
    expect(option[budzet]).to_be_visible()
    expect(option[lecznej]).to_be_hidden()
    search.fill("budzet szkol")
    expect(option[budzet]).to_be_visible()
    search.fill("")
    expect(option[lecznej]).to_be_visible()

    # Ticking by tap: a chip for each, the count announced politely.
    _tick(page, option[lecznej].locator("label"), touch)
    _tick(page, option[budzet].locator("label"), touch)
    remove = {t: page.get_by_role("button", name=live_server.text(
        page, "Remove %(title)s", title=t), exact=True) for t in two_materials}
    expect(remove[lecznej]).to_have_text(f"× {lecznej}")
    expect(remove[budzet]).to_be_visible()
    status = page.locator("[data-chips] [aria-live=polite]")
    expect(status).to_have_text(live_server.text(page, "Chosen: %(count)s", count="2"))
    box = remove[lecznej].bounding_box()
    assert box["height"] >= 24 and box["width"] >= 24
    assert_accessible(page)

    # Removing a chip unticks its material; the focus stays among the chips.
    _tick(page, remove[lecznej], touch)
    expect(remove[lecznej]).to_have_count(0)
    expect(option[lecznej].get_by_role("checkbox")).not_to_be_checked()
    expect(status).to_have_text(live_server.text(page, "Chosen: %(count)s", count="1"))
    expect(remove[budzet]).to_be_focused()

    # Keyboard: filter to one, Enter ticks it (and does not send the form).
    search.fill(lecznej.upper())
    search.press("Enter")
    expect(remove[lecznej]).to_be_visible()
    assert page.url.endswith(f"/g/{GROUP}/t/new")

    page.get_by_label(live_server.text(page, "Title"), exact=True).fill(f"O materiałach {lecznej}")
    page.get_by_role("textbox", name=live_server.text(page, "First post"), exact=True).fill(
        "Co o nich sądzicie?")
    submit(page, page.get_by_role("button", name=live_server.text(page, "Start the thread"),
                                  exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"O materiałach {lecznej}")
    main = page.locator("main")
    expect(main.get_by_role("link", name=budzet)).to_be_visible()
    expect(main.get_by_role("link", name=lecznej, exact=True)).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_without_javascript_the_checkboxes_alone(new_context, live_server, two_materials,
                                                 viewport):
    page = new_context(viewport=viewport, java_script_enabled=False).new_page()
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(f"/g/{GROUP}/t/new")
    lecznej, budzet = two_materials
    group = page.get_by_role("group", name=live_server.text(page, "Materials"), exact=True)
    expect(group).to_be_visible()
    expect(page.get_by_label(live_server.text(page, "Filter materials"))).to_have_count(0)
    expect(page.get_by_text("Ctrl")).to_have_count(0)
    group.get_by_text(lecznej).click()
    expect(group.get_by_role("checkbox", name=lecznej)).to_be_checked()
    # Refused (no text): the tick is still there.
    page.get_by_label(live_server.text(page, "Title"), exact=True).fill(f"Bez skryptów {budzet}")
    start = page.get_by_role("button", name=live_server.text(page, "Start the thread"),
                             exact=True)
    submit(page, start)
    expect(page.locator(".form-errors")).to_be_visible()
    expect(group.get_by_role("checkbox", name=lecznej)).to_be_checked()
    expect(group.get_by_role("checkbox", name=budzet)).not_to_be_checked()
    page.get_by_role("textbox", name=live_server.text(page, "First post"), exact=True).fill(
        "Treść")
    submit(page, start)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bez skryptów {budzet}")
    expect(page.locator("main").get_by_role("link", name=lecznej, exact=True)).to_be_visible()


def test_the_plain_checkboxes_pass_axe(new_context, live_server, two_materials):
    """axe runs in the page's JavaScript: the list without chips.js is checked that way."""
    page = new_context(viewport=PHONE).new_page()
    page.route("**/js/chips.js", lambda route: route.abort())
    sign_in(page, live_server, MEMBER_EMAIL)
    page.goto(f"/g/{GROUP}/t/new")
    expect(page.locator(".chips-options input[type=checkbox]").first).to_be_attached()
    expect(page.locator(".chip")).to_have_count(0)
    assert_accessible(page)
