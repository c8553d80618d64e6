"""A post's time as people read it (forum.i18n.post_time)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from forum.i18n import _post_time

WARSAW = ZoneInfo("Europe/Warsaw")
MOMENT = datetime(2026, 12, 3, 19, 27, tzinfo=UTC)  # 20:27 in Warsaw


@pytest.mark.parametrize(("locale", "today", "label"), [
    ("pl", date(2026, 12, 3), "dziś, 20:27"),
    ("pl", date(2026, 12, 4), "wczoraj, 20:27"),
    ("pl", date(2026, 12, 20), "3 gru, 20:27"),
    ("pl", date(2027, 1, 2), "3 gru 2026"),
    ("ca", date(2026, 12, 3), "avui, 20:27"),
    ("ca", date(2026, 12, 4), "ahir, 20:27"),
    ("en", date(2026, 12, 3), "today, 8:27\u202fPM"),
    ("en", date(2026, 12, 20), "Dec 3, 8:27\u202fPM"),
])
def test_recent_times_by_the_days_name_older_ones_shorter(app, locale, today, label):
    with app.test_request_context(), force_locale(locale):
        shown = _post_time(MOMENT, WARSAW, locale, today)
    assert shown.label == label
    assert shown.iso == "2026-12-03T20:27+01:00"
    assert ":00" not in shown.label.replace("20:27", "")  # never seconds


def test_the_full_date_names_the_day_and_never_shows_seconds(app):
    with app.test_request_context(), force_locale("pl"):
        assert _post_time(MOMENT, WARSAW, "pl", date(2026, 12, 3)).full == \
            "czwartek, 3 grudnia 2026, 20:27"
