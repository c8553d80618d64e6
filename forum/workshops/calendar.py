"""iCalendar feeds of workshop sessions (all-day events spanning day 1 and day 2)."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from icalendar import Calendar, Event

from forum.timeutil import utcnow
from forum.workshops.models import Workshop


def build_calendar(name: str, workshops: list[Workshop], base_url: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Exchange forum//workshop sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    stamp = utcnow()
    for workshop in workshops:
        event = Event()
        event.add("uid", workshop.uid)
        event.add("sequence", workshop.sequence)
        event.add("dtstamp", stamp)
        event.add("last-modified", workshop.updated_at)
        event.add("dtstart", workshop.day1)
        event.add("dtend", workshop.day2 + timedelta(days=1))  # DTEND of all-day is exclusive
        event.add("summary", _("Session %(number)d: %(theme)s — %(group)s",
                               number=workshop.number, theme=workshop.theme,
                               group=workshop.group.name))
        place = ", ".join(p for p in (workshop.host.name if workshop.host else "",
                                      workshop.place) if p)
        if place:
            event.add("location", place)
        url = f"{base_url}/g/{workshop.group.slug}/sessions/{workshop.number}"
        event.add("url", url)
        event.add("description", "\n\n".join(p for p in (workshop.description, url) if p))
        event.add("status", "CANCELLED" if workshop.cancelled_at else "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()
