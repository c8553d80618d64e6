"""Search on a phone and on a desktop: one column, the filters folded, counts and highlights,
the form sent without JavaScript; axe-clean."""

import re

import pytest

from tests.browser.conftest import assert_accessible, sign_in, submit


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate(
        "document.documentElement.clientWidth")


def test_search_on_a_phone_is_one_column_with_the_filters_folded(new_context, live_server):
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, live_server, "member@example.org")
    page.goto(f"{live_server.url}/search")
    page.get_by_label(live_server.text(page, "Words to find"), exact=True).fill("diagnozę")
    submit(page, page.locator("main").get_by_role(
        "button", name=live_server.text(page, "Search"), exact=True))
    count = page.locator(".search-count")
    assert count.is_visible() and re.match(r"\d+ ", count.inner_text())
    hits = page.locator(".search-hit")
    assert hits.count() >= 2
    kinds = {hits.nth(n).get_attribute("class").split("search-hit-")[-1]
             for n in range(hits.count())}
    assert {"post", "material"} <= kinds  # a thread and the diagnosis report at least
    assert page.locator(".search-hit-title mark").count() >= 1  # titles marked too
    first = hits.first.bounding_box()
    assert first["x"] >= 0 and first["x"] + first["width"] <= 390
    for n in range(min(hits.count(), 5)):  # stacked: one under the other, none beside
        box = hits.nth(n).bounding_box()
        assert abs(box["x"] - first["x"]) < 1 and box["width"] > 300, box
    filters = page.locator("details.search-filters")
    assert filters.get_attribute("open") is None  # folded until asked for
    assert page.locator(".search-hit").first.bounding_box()["y"] < 844  # a result on screen 1
    _no_sideways_scroll(page)
    assert_accessible(page)
    filters.locator("summary").click()
    page.get_by_label(live_server.text(page, "Kind"), exact=True).select_option("material")
    submit(page, page.get_by_role("button", name=live_server.text(page, "Apply filters"),
                                  exact=True))
    assert page.locator(".search-hit").count() >= 1
    assert page.locator(".search-hit-post").count() == 0
    assert page.locator("details.search-filters").get_attribute("open") is not None
    _no_sideways_scroll(page)
    assert_accessible(page)


@pytest.mark.parametrize("javascript", [True, False])
def test_filters_by_group_offer_sessions_and_authors(new_context, live_server, javascript):
    page = new_context(viewport={"width": 1366, "height": 800},
                       java_script_enabled=javascript).new_page()
    sign_in(page, live_server, "member@example.org")
    page.goto(f"{live_server.url}/search?q=diagnoza")
    page.locator("details.search-filters summary").click()
    group = page.get_by_label(live_server.text(page, "Group"), exact=True)
    group.select_option(index=1)
    submit(page, page.get_by_role("button", name=live_server.text(page, "Apply filters"),
                                  exact=True))
    assert "group=" in page.url
    assert page.get_by_label(live_server.text(page, "Session"), exact=True).is_visible()
    assert page.get_by_label(live_server.text(page, "Author"), exact=True).is_visible()
    if javascript:
        assert_accessible(page)
