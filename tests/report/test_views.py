"""The report over HTTP: the page, the CSV and the XLSX for administrators only."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

RANGE = {"from": "2026-01-01", "to": "2026-12-31"}


@pytest.mark.parametrize("persona", ["moderator", "member", "observer", "outsider"])
def test_only_administrators(programme, login_as, personas, persona):
    client = login_as(getattr(personas, persona))
    for url in ("/admin/report", "/admin/report.csv", "/admin/report.xlsx"):
        assert client.get(url, query_string=RANGE).status_code == 404


def test_anonymous_is_sent_to_sign_in(programme, login_as, personas):
    response = login_as(None).get("/admin/report")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_page(programme, login_as, personas):
    client = login_as(personas.admin)
    html = client.get("/admin/report", query_string=RANGE).get_data(as_text=True)
    assert "<caption" in html and 'scope="col"' in html and 'scope="row"' in html
    assert "Dowozy" in html and "Oświetlenie" in html and "Odwołana" not in html
    assert 'value="2026-01-01"' in html
    assert 'href="/admin/report.xlsx?from=2026-01-01&amp;to=2026-12-31"' in html
    assert "/admin/report" in client.get("/admin/").get_data(as_text=True)


def test_page_reports_a_wrong_date(programme, login_as, personas):
    html = login_as(personas.admin).get("/admin/report", query_string={"from": "soon"}).get_data(
        as_text=True)
    assert 'aria-invalid="true"' in html and "YYYY-MM-DD" in html


@pytest.mark.parametrize("args", [{"group": "99999999999999999999999"}, {"group": "-1"},
                                  {"from": "0001-01-01", "to": "9999-12-31"}, {"to": "2026-02-30"}])
def test_odd_filters_are_no_error(programme, login_as, personas, args):
    client = login_as(personas.admin)
    for url in ("/admin/report", "/admin/report.csv", "/admin/report.xlsx"):
        assert client.get(url, query_string=args).status_code == 200


def test_csv(programme, login_as, personas):
    response = login_as(personas.admin).get("/admin/report.csv", query_string=RANGE)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert ('filename="programme-report_2026-01-01_2026-12-31.csv"'
            in response.headers["Content-Disposition"])
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    cells = [cell for row in rows for cell in row]
    assert "'=Gmina Wólka" in cells and "=Gmina Wólka" not in cells  # formula-safe
    assert not any(cell[:1] in ("=", "+", "@") for cell in cells)
    session = next(row for row in rows if "Dowozy" in row)
    assert session[:4] == ["Miasta testowe", "1", "Dowozy", "2026-03-10"]
    assert session[4:9] == ["3", "3", "2", "19.0", "2"]


def test_xlsx(programme, login_as, personas):
    response = login_as(personas.admin).get("/admin/report.xlsx", query_string=RANGE)
    assert response.status_code == 200
    assert ('filename="programme-report_2026-01-01_2026-12-31.xlsx"'
            in response.headers["Content-Disposition"])
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Totals", "Groups", "Sessions", "Organisations"]
    totals = {row[0]: row[1] for row in book["Totals"].iter_rows(min_row=2, values_only=True)}
    assert totals["Local governments taking part"] == 2
    assert totals["People taking part"] == 3
    assert totals["Sessions held"] == 2
    assert totals["Hours"] == 19

    sessions = book["Sessions"]
    assert sessions["A1"].value == "Group" and sessions["A1"].font.b
    header = [cell.value for cell in sessions[1]]
    row = [cell.value for cell in sessions[2]]
    assert row[:3] == ["Miasta testowe", 1, "Dowozy"]
    assert row[header.index("Hours")] == 19
    assert isinstance(row[header.index("Registered people")], int)
    assert row[header.index("Evaluation average (1–5)")] == 4

    organisations = book["Organisations"]
    names = [cell.value for cell in organisations["A"]]
    assert "=Gmina Wólka" in names
    cell = organisations.cell(row=names.index("=Gmina Wólka") + 1, column=1)
    assert cell.data_type == "s"  # text, not a formula


def test_group_filter_and_polish(programme, login_as, personas):
    client = login_as(personas.admin)
    response = client.get("/admin/report.xlsx", query_string={"group": programme.g2_id},
                          headers={"Accept-Language": "pl"})
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) == 4
    assert book.worksheets[2].max_row == 1  # no sessions in g2


def test_a_fixed_number_of_queries(programme, app, login_as, personas):
    """More sessions, people and check-ins do not add queries (aggregates, no N+1)."""
    from tests.test_query_counts import count_queries

    client = login_as(personas.admin)
    with count_queries(app) as small:
        assert client.get("/admin/report.xlsx", query_string=RANGE).status_code == 200

    from datetime import date

    from forum.attendance.models import CheckIn, Registration
    from forum.extensions import db
    from tests import factories

    with app.app_context():
        g1 = factories.group(personas.g1.id)
        moderator = factories.user(personas.moderator.id)
        people = [factories.make_user(organisation=factories.make_organisation())
                  for _ in range(4)]
        for number in (5, 6, 7):
            session = factories.make_workshop(moderator, g1, number)
            session.day1, session.day2 = date(2026, 5, number), date(2026, 5, number + 1)
            db.session.flush()
            for person in people:
                db.session.add(Registration(workshop_id=session.id, user_id=person.id,
                                            organisation_id=person.organisation_id))
                db.session.add(CheckIn(workshop_id=session.id, user_id=person.id, day=1,
                                       organisation_id=person.organisation_id))
        db.session.commit()
    with count_queries(app) as large:
        assert client.get("/admin/report.xlsx", query_string=RANGE).status_code == 200
    # (the first request also loads the session's sign-in; never more queries with more data)
    assert len(large) <= len(small), "\n\n".join(large)
