"""Helpers shared by every feature's forms."""

from __future__ import annotations

from functools import lru_cache

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from forum.accounts.models import Organisation
from forum.config import LOCALES
from forum.errors import InvalidInput
from forum.i18n import LANGUAGE_NAMES, collation_key


def apply_errors(form: FlaskForm, error: InvalidInput) -> None:
    """Show a service's InvalidInput next to the fields; "" (or unknown) goes to the form top."""
    for field_name, message in error.errors.items():
        field = form._fields.get(field_name) if field_name else None
        if field is not None:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            form.form_errors.append(message)


def organisation_choices(organisations: list[Organisation]) -> list[tuple[int, str]]:
    return [(0, _l("— none —")), *((o.id, o.name) for o in organisations)]


def locale_choices(include_browser: bool = True) -> list[tuple[str, str]]:
    choices = [(code, LANGUAGE_NAMES[code]) for code in LOCALES]
    return [("", _l("As my browser prefers")), *choices] if include_browser else choices


# --- time zones: a grouped choice with names in the reader's language ----------------------

# First in the list: where the programme's groups meet (Poland, Catalonia) and their neighbours.
SUGGESTED_TIME_ZONES = ("Europe/Warsaw", "Europe/Madrid", "Atlantic/Canary", "Europe/Andorra",
                        "Europe/Berlin", "Europe/Prague", "Europe/Vilnius", "Europe/Kyiv",
                        "Europe/London", "Europe/Lisbon")
_REGIONS = {
    "Europe": _l("Europe"), "America": _l("Americas"), "Asia": _l("Asia"),
    "Africa": _l("Africa"), "Australia": _l("Australia"), "Pacific": _l("Pacific Ocean"),
    "Atlantic": _l("Atlantic Ocean"), "Indian": _l("Indian Ocean"),
    "Antarctica": _l("Antarctica"), "Arctic": _l("Arctic"),
}


def time_zone_label(zone: str, locale: str) -> str:
    """"Warszawa (Polska) · UTC+01:00" in Polish, "Varsòvia (Polònia) · UTC+01:00" in
    Catalan: the city and country as Babel (CLDR) names them, and the offset today."""
    return _time_zone_label(zone, locale, _offset(zone))


def _offset(zone: str) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    offset = datetime.now(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@lru_cache(maxsize=4096)
def _time_zone_label(zone: str, locale: str, offset: str) -> str:
    from babel import Locale
    from babel.core import get_global
    from babel.dates import get_timezone_location

    try:
        # CLDR names some cities by their IANA path ("Argentina/Salta"): the city only.
        city = get_timezone_location(zone, locale=locale, return_city=True).rsplit("/", 1)[-1]
        territory = get_global("zone_territories").get(zone)
        country = Locale.parse(locale).territories.get(territory) if territory else None
    except (LookupError, ValueError):  # a zone CLDR does not know: its own name
        city, country = zone.rsplit("/", 1)[-1].replace("_", " "), None
    place = f"{city} ({country})" if country and country != city else city
    return f"{place} · {offset}"


def time_zone_choices(names, locale: str | None = None,
                      first: tuple[tuple[str, str], ...] = ()) -> dict[str, list[tuple[str, str]]]:
    """`names` (IANA time zones) as a select's groups: the suggested ones first, then by
    region, each labelled in the reader's language and in its alphabetical order. The values
    stay the IANA names (what is stored and validated); `first` leads the suggested ones."""
    from flask_babel import get_locale

    locale = locale or str(get_locale() or "en")
    key = collation_key(locale)
    names = set(names)
    groups: dict[str, list[tuple[str, str]]] = {
        str(_l("Suggested")): [*first, *((z, time_zone_label(z, locale))
                                         for z in SUGGESTED_TIME_ZONES if z in names)]}
    by_region: dict[str, list[tuple[str, str]]] = {}
    for zone in names:
        region = _REGIONS.get(zone.split("/", 1)[0])
        by_region.setdefault(str(region) if region else str(_l("Other")), []).append(
            (zone, time_zone_label(zone, locale)))
    for region in sorted(by_region, key=key):
        groups[region] = sorted(by_region[region], key=lambda choice: key(choice[1]))
    return groups
