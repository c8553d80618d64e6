"""The programme report in Chromium: an administrator finds it in the administration, filters
it by dates without JavaScript help, reads it on a phone (the tables scroll inside their
frames, not the page) and downloads the XLSX, which opens with the sheets and figures. axe on
the page at both sizes. The demo personas use Polish: labels come from the app's catalogue."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from forum.demo import ADMIN_EMAIL, MEMBER_EMAIL
from tests.browser.conftest import assert_accessible, expect, sign_in, submit


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 800},
                                      {"width": 390, "height": 844}])
def test_administrator_reads_and_downloads_the_report(new_context, live_server, viewport):
    page = new_context(viewport=viewport).new_page()
    t = live_server.text
    sign_in(page, live_server, ADMIN_EMAIL)
    page.goto(f"{live_server.url}/admin/")
    submit(page, page.get_by_role("main").get_by_role(
        "link", name=t(page, "Programme report"), exact=True).first)
    expect(page.get_by_role("heading", level=1)).to_have_text(t(page, "Programme report"))
    assert_accessible(page)

    page.get_by_label(t(page, "From"), exact=True).fill("2020-01-01")
    page.get_by_label(t(page, "To"), exact=True).fill("2030-12-31")
    submit(page, page.get_by_role("button", name=t(page, "Show"), exact=True))
    assert "from=2020-01-01" in page.url and "to=2030-12-31" in page.url
    for caption in ("Totals for the funder", "Figures per group", "Figures per session",
                    "Figures per organisation"):
        expect(page.get_by_role("table", name=t(page, caption))).to_be_visible()
    assert_accessible(page)

    # The page itself never scrolls sideways; a wide table scrolls inside its frame.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    if viewport["width"] < 600:
        frame = page.get_by_role("region", name=t(page, "Figures per session"))
        assert frame.evaluate("el => el.scrollWidth > el.clientWidth")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=t(page, "Spreadsheet (XLSX)"), exact=True).click()
    download = download_info.value
    assert download.suggested_filename == "programme-report_2020-01-01_2030-12-31.xlsx"
    with open(download.path(), "rb") as file:
        book = load_workbook(io.BytesIO(file.read()))
    assert len(book.sheetnames) == 4
    totals = book.worksheets[0]
    assert totals["A1"].font.b
    assert all(isinstance(row[1], (int, float)) or row[1] is None
               for row in totals.iter_rows(min_row=2, values_only=True))


def test_a_member_does_not_find_the_report(page, live_server):
    sign_in(page, live_server, MEMBER_EMAIL)
    response = page.goto(f"{live_server.url}/admin/report")
    assert response.status == 404
