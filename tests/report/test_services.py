"""The report's figures on a small recorded programme (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from forum.report import services
from forum.report.services import ReportFilters

pytestmark = pytest.mark.usefixtures("ctx")

WHOLE_YEAR = ReportFilters(date(2026, 1, 1), date(2026, 12, 31))


def rows_by_label(rows):
    return {row.label: row.figures for row in rows}


def test_figures_per_session(programme):
    report = services.build_report(WHOLE_YEAR)
    sessions = rows_by_label(report.sessions)
    assert list(sessions) == ["Dowozy", "Oświetlenie"]  # the cancelled session is left out
    assert sessions["Dowozy"] == {
        "registered": 3, "attended_people": 3, "attended_organisations": 2, "hours": 19.0,
        "certificates": 2, "evaluation_average": 4.0, "evaluation_answers": 3, "posts": 2,
        "chat_messages": 1, "opinions": 1, "practices_written": 1, "practices_published": 1,
        "recommendations": 1}
    assert sessions["Oświetlenie"]["registered"] == 1
    assert sessions["Oświetlenie"]["attended_people"] == 1
    assert sessions["Oświetlenie"]["hours"] == 0.0  # no day times
    assert sessions["Oświetlenie"]["evaluation_average"] == 2.0
    assert sessions["Oświetlenie"]["posts"] == 0


def test_figures_per_group_and_totals(programme):
    report = services.build_report(WHOLE_YEAR)
    groups = {row.label: row for row in report.groups}
    g1 = groups[programme.g1.name]
    assert g1.info["sessions"] == 2
    assert g1.figures["registered"] == 3  # distinct people over the sessions
    assert g1.figures["attended_people"] == 3
    assert g1.figures["hours"] == 19.0
    assert g1.figures["certificates"] == 2
    assert g1.figures["evaluation_average"] == 3.5  # (4 + 5 + 3 + 2) / 4
    assert g1.figures["posts"] == 3  # two in the session's thread, one later; not the hidden
    assert g1.figures["chat_messages"] == 2  # not the removed one
    assert g1.figures["recommendations"] == 1
    other = groups["Powiaty testowe"].figures
    assert other["posts"] == 0 and other["attended_people"] == 0

    totals = report.totals
    assert totals.sessions_held == 2
    assert totals.people == 3
    assert totals.local_governments == 2
    assert sorted(totals.by_kind) == sorted([("rural commune", 1), ("county", 1)])
    assert totals.figures["hours"] == 19.0
    assert totals.figures["registered"] == 3  # distinct people
    assert totals.figures["evaluation_average"] == 3.5


def test_figures_per_organisation(programme):
    report = services.build_report(WHOLE_YEAR)
    organisations = rows_by_label(report.organisations)
    lublin = organisations[programme.lublin]
    assert lublin["registered"] == 2
    assert lublin["attended_people"] == 2
    assert lublin["hours"] == 13.0  # 9.5 + 3.5 + 0
    assert lublin["certificates"] == 1
    assert lublin["posts"] == 2
    assert lublin["chat_messages"] == 1
    assert lublin["evaluation_average"] is None  # anonymous
    wolka = organisations["=Gmina Wólka"]
    assert (wolka["attended_people"], wolka["hours"], wolka["opinions"],
            wolka["practices_written"], wolka["practices_published"]) == (1, 6.0, 1, 1, 1)


def test_date_range_limits_sessions_and_activity(programme):
    spring = services.build_report(ReportFilters(date(2026, 1, 1), date(2026, 4, 30)))
    assert [row.label for row in spring.sessions] == ["Dowozy"]
    assert spring.totals.sessions_held == 1
    assert spring.totals.people == 3
    g1 = rows_by_label(spring.groups)[programme.g1.name]
    assert g1["posts"] == 2  # the July thread is outside
    assert g1["evaluation_average"] == 4.0

    summer = services.build_report(ReportFilters(date(2026, 6, 1), None))
    assert [row.label for row in summer.sessions] == ["Oświetlenie"]
    assert summer.totals.people == 1
    assert summer.totals.figures["posts"] == 1
    assert summer.totals.figures["chat_messages"] == 0

    empty = services.build_report(ReportFilters(date(2025, 1, 1), date(2025, 12, 31)))
    assert empty.sessions == [] and empty.organisations == []
    assert empty.totals.people == 0 and empty.totals.figures["hours"] == 0


def test_group_filter(programme):
    only_g2 = services.build_report(ReportFilters(group_id=programme.g2_id))
    assert [row.label for row in only_g2.groups] == ["Powiaty testowe"]
    assert only_g2.sessions == [] and only_g2.totals.people == 0
    only_g1 = services.build_report(ReportFilters(group_id=programme.g1.id))
    assert only_g1.totals.sessions_held == 2


def test_parse_filters():
    filters, errors = services.parse_filters({"from": "2026-01-01", "to": "2025-01-01"})
    assert filters.date_from == date(2026, 1, 1) and filters.date_to is None
    assert set(errors) == {"to"}
    filters, errors = services.parse_filters({"from": "1.1.2026", "group": "x"})
    assert filters == ReportFilters() and set(errors) == {"from", "group"}
    assert ReportFilters(date(2026, 1, 1), None).file_stem() == "programme-report_2026-01-01_end"


def test_a_planned_session_is_listed_but_not_held(programme, people):
    from tests import factories

    factories.make_workshop(people["moderator"], people["g1"], 4, days_from_today=20,
                            theme="Planowana")
    report = services.build_report(ReportFilters(date(2026, 1, 1), None))
    assert "Planowana" in [row.label for row in report.sessions]
    assert report.totals.sessions_held == 2
    assert rows_by_label(report.groups) and next(
        row for row in report.groups if row.label == programme.g1.name).info["sessions"] == 2
