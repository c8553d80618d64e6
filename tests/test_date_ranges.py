"""Two-day sessions are shown as one range, the shared month and year said once."""

from datetime import date

import pytest
from flask_babel import force_locale

from forum.i18n import date_range


@pytest.mark.parametrize(("locale", "same_month", "two_months", "two_years"), [
    ("pl", "3–4 grudnia 2026", "30 listopada – 1 grudnia 2026",
     "31 grudnia 2026 – 1 stycznia 2027"),
    ("ca", "3–4 de desembre del 2026", "30 de novembre – 1 de desembre del 2026",
     "31 de desembre del 2026 – 1 de gener del 2027"),
    ("en", "Dec 3 – 4, 2026", "Nov 30 – Dec 1, 2026", "Dec 31, 2026 – Jan 1, 2027"),
])
def test_a_two_day_session_reads_as_one_range(app, locale, same_month, two_months, two_years):
    def shown(start, end):  # CLDR puts thin spaces around the dash of a long range
        return date_range(start, end).replace("\u2009", " ")

    with app.test_request_context("/"), force_locale(locale):
        assert shown(date(2026, 12, 3), date(2026, 12, 4)) == same_month
        assert shown(date(2026, 11, 30), date(2026, 12, 1)) == two_months
        assert shown(date(2026, 12, 31), date(2027, 1, 1)) == two_years
