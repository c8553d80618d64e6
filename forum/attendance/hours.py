"""Hours of a session day, from the session's start and end times (issue 17): what a check-in
is worth on a certificate and in the programme's report. One place, so that the certificate,
the report and the recap agree."""

from __future__ import annotations

from datetime import datetime, time

from forum.workshops.models import Workshop


def _span(starts: time | None, ends: time | None) -> float:
    if starts is None or ends is None:
        return 0.0
    minutes = (datetime.combine(datetime.min, ends) - datetime.combine(datetime.min, starts))
    return max(0.0, minutes.total_seconds() / 3600)


def day_times(workshop: Workshop, day: int) -> tuple[time | None, time | None]:
    if day == 1:
        return workshop.day1_starts, workshop.day1_ends
    return workshop.day2_starts, workshop.day2_ends


def day_hours(workshop: Workshop, day: int) -> float:
    """Hours of day 1 or 2 (0.0 when its times are not set)."""
    return _span(*day_times(workshop, day))


def hours_for_days(workshop: Workshop, days) -> float:
    """Hours of the given days (1 and/or 2) of a session, rounded to a quarter of an hour."""
    total = sum(day_hours(workshop, day) for day in set(days) if day in (1, 2))
    return round(total * 4) / 4
