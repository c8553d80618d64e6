"""Which language and time zone a request is shown in."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app, has_request_context, request, session
from flask_login import current_user
from markupsafe import Markup

from forum.config import LOCALES

# Each language named in itself, for the language switch.
LANGUAGE_NAMES = {"pl": "Polski", "ca": "Català", "en": "English"}


def select_locale() -> str:
    """The profile's language, else the one chosen with the switch, else the browser's."""
    if not has_request_context():  # command line, e-mails sent after a commit
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def select_timezone() -> str:
    if not has_request_context():
        return current_app.config["FORUM_DEFAULT_TIMEZONE"]
    if current_user and current_user.is_authenticated and current_user.time_zone:
        return current_user.time_zone
    return current_app.config["FORUM_DEFAULT_TIMEZONE"]


# --- the templates' gettext -----------------------------------------------------------------
# Flask-Babel's template `_` looks up the request's locale and catalogue again on every call
# (several `g` lookups and a `str(Locale)`: about 20 microseconds), and a page calls it 20-100
# times. The catalogue is remembered on the request's `g` with the locale it was found for,
# so `force_locale` (e-mails in each recipient's language) and `refresh()` still switch it.


def request_catalogue():
    from flask.globals import _cv_app  # the app context's context variable: no proxy lookups
    from flask_babel import get_translations

    app_context = _cv_app.get(None)
    if app_context is None:
        return get_translations()
    state = app_context.g.__dict__
    remembered = state.get("_forum_catalogue")
    babel_state = state.get("_flask_babel")
    if remembered is not None and remembered[0] is getattr(babel_state, "babel_locale", None):
        return remembered[1]
    catalogue = get_translations()  # also settles the locale on g._flask_babel
    locale = getattr(state.get("_flask_babel"), "babel_locale", None)
    if locale is not None:
        state["_forum_catalogue"] = (locale, catalogue)
    return catalogue


_LOCALE_NAMES: dict = {}


def request_locale_name() -> str:
    """str(get_locale()) without its lookups when the request has settled its locale (rows
    that format a number or a size in the reader's language ask for it once per row)."""
    from flask.globals import _cv_app
    from flask_babel import get_locale

    app_context = _cv_app.get(None)
    locale = (getattr(app_context.g.__dict__.get("_flask_babel"), "babel_locale", None)
              if app_context is not None else None)
    if locale is None:
        return str(get_locale())
    name = _LOCALE_NAMES.get(locale)
    if name is None:
        name = _LOCALE_NAMES[locale] = str(locale)
    return name


def install_template_gettext(app) -> None:
    """The templates' `_`, `ngettext`, `pgettext` and `npgettext` through `request_catalogue`
    (Jinja's newstyle gettext as Flask-Babel installs it: same results, same escaping)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_catalogue().ugettext(s),
        ngettext=lambda s, p, n: request_catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: request_catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )


# --- WTForms' own messages ("This field is required." …) -------------------------------------
# Flask-WTF reads WTForms' catalogue from disk on every request that builds a form with a
# built-in message (babel's Translations.load parses the .mo file each time). The catalogues
# never change while the process runs: each is loaded once per language and shared, and
# Flask-WTF finds it where it looks first (`request.wtforms_translations`).


@lru_cache(maxsize=len(LOCALES) + 1)
def _wtforms_catalogue(locale: str):
    from babel import support
    from wtforms.i18n import messages_path

    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _WtformsTranslations:
    """The request's language is looked up when a message is first needed, not before."""

    def _catalogue(self):
        from flask_babel import get_locale

        return _wtforms_catalogue(str(get_locale()))

    def ugettext(self, string: str) -> str:
        return self._catalogue().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue().ungettext(singular, plural, n)


_WTFORMS_TRANSLATIONS = _WtformsTranslations()


def share_wtforms_catalogues(app) -> None:
    @app.before_request
    def _wtforms_translations() -> None:
        request.wtforms_translations = _WTFORMS_TRANSLATIONS


# --- dates on pages --------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _short_datetime(moment, zone, locale) -> str:
    from babel.dates import format_datetime

    return format_datetime(moment, "short", tzinfo=zone, locale=locale)


def short_datetime(moment) -> str:
    """format_datetime(moment, 'short') in the reader's time zone and language, remembered by
    (moment, zone, language): nothing of the reader's but those two, and the rows of a busy
    page (posts, messages) are the same for everyone, so most pages format few dates."""
    from flask_babel import get_locale, get_timezone

    return _short_datetime(moment, get_timezone(), get_locale())


class PostTime(NamedTuple):
    label: str  # "today, 20:27", "yesterday, 9:05", "4 Dec, 20:27", "4 Dec 2025"
    full: str   # the whole date and time, for hover (title) and the <time> element
    iso: str    # machine-readable, for <time datetime>


def post_time(moment) -> PostTime:
    """A post's or message's time as people read it: today's and yesterday's by the day's
    name, this year's without the year, older ones without the time; the full date for hover.
    Remembered per (moment, zone, language, today): "today" turns into "yesterday" at the
    reader's midnight."""
    from flask_babel import get_locale, get_timezone

    zone = get_timezone()
    return _post_time(moment, zone, get_locale(), datetime.now(zone).date())


@lru_cache(maxsize=4096)
def _post_time(moment, zone, locale, today) -> PostTime:
    from babel.dates import format_date, format_skeleton, format_time
    from flask_babel import gettext

    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)
    day, time = local.date(), format_time(local, "short", locale=locale)
    if day == today:
        label = gettext("today, %(time)s", time=time)
    elif (today - day).days == 1:
        label = gettext("yesterday, %(time)s", time=time)
    elif day.year == today.year:
        label = gettext("%(date)s, %(time)s", date=format_skeleton("MMMd", local, locale=locale),
                        time=time)
    else:
        label = format_skeleton("yMMMd", local, locale=locale)
    full = gettext("%(date)s, %(time)s", date=format_date(local, "full", locale=locale),
                   time=time)
    return PostTime(label, full, local.isoformat(timespec="minutes"))


# Interval skeletons (CLDR) for the named date formats: the shared month and year said once.
_RANGE_SKELETONS = {"long": "yMMMMd", "medium": "yMMMd"}


def date_range(start, end, format: str = "long") -> str:
    """Two days as one range in the reader's language: "3–4 grudnia 2026", "Dec 3 – 4,
    2026", "30 listopada – 1 grudnia 2026" (not the whole date twice)."""
    from flask_babel import get_locale

    return _date_range(start, end, _RANGE_SKELETONS.get(format, format), str(get_locale()))


@lru_cache(maxsize=2048)
def _date_range(start, end, skeleton: str, locale: str) -> str:
    from babel.dates import format_interval

    return format_interval(start, end, skeleton, locale=locale)


class PageText:
    """`_`, `ngettext`, `format_datetime` and `format_date` for one page, worked out once.

    A page of 30 rows asks for the same few strings again and again ("3 replies", "Session 2"),
    and each call through Flask-Babel looks up the locale, the catalogue and the time zone
    again (tens of microseconds each). One `PageText` per rendering remembers each translation
    it has looked up and formats dates with patterns parsed once. Results are the same as the
    template's own `_` / `ngettext` (Jinja's "newstyle" gettext in an autoescaped template:
    the translation is markup, the values are escaped), `format_datetime` and `format_date`.
    Never keep one across requests: it holds the reader's language and time zone.
    """

    def __init__(self):
        from flask_babel import get_locale, get_timezone, get_translations

        self._translations = get_translations()
        self._locale, self._zone = get_locale(), get_timezone()
        self._memo: dict = {}

    def gettext(self, message: str, **variables) -> Markup:
        translated = self._memo.get(message)
        if translated is None:
            translated = self._memo[message] = Markup(self._translations.ugettext(message))
        return translated % variables

    def ngettext(self, singular: str, plural: str, num: int, **variables) -> Markup:
        key = (singular, plural, num)  # the plural form depends on the number
        translated = self._memo.get(key)
        if translated is None:
            translated = self._memo[key] = Markup(
                self._translations.ungettext(singular, plural, num))
        variables.setdefault("num", num)
        return translated % variables

    def labels(self, mapping: dict) -> dict:
        """A mapping of lazily translated labels (a list's kinds) translated once for the page,
        not once per row."""
        return {key: str(label) for key, label in mapping.items()}

    def _pattern(self, kind: str, format: str):
        key = ("pattern", kind, format)
        if key not in self._memo:
            from babel import dates

            getter = {"date": dates.get_date_format, "time": dates.get_time_format,
                      "datetime": dates.get_datetime_format}[kind]
            found = getter(format, locale=self._locale)
            self._memo[key] = (str(found).replace("'", "") if kind == "datetime"
                               else dates.parse_pattern(found))
        return self._memo[key]

    def format_datetime(self, value, format: str = "medium") -> str:
        """Flask-Babel's `format_datetime` (in the reader's time zone)."""
        if format not in _NAMED_FORMATS:
            from flask_babel import format_datetime

            return format_datetime(value, format)
        if value.tzinfo is None:  # stored times are UTC (as Flask-Babel assumes)
            value = value.replace(tzinfo=UTC)
        local = value.astimezone(self._zone)
        return (self._pattern("datetime", format)
                .replace("{0}", self._pattern("time", format).apply(
                    local.timetz(), self._locale, reference_date=local.date()))
                .replace("{1}", self._pattern("date", format).apply(local.date(),
                                                                    self._locale)))

    def format_date(self, value, format: str = "medium") -> str:
        """Flask-Babel's `format_date` (a date; a date and time goes to Flask-Babel)."""
        if format not in _NAMED_FORMATS or isinstance(value, datetime):
            from flask_babel import format_date

            return format_date(value, format)
        return self._pattern("date", format).apply(value, self._locale)


_NAMED_FORMATS = ("short", "medium", "long", "full")


# --- alphabetical order of names -------------------------------------------------------------

# Polish letters with a diacritic are letters of their own, each right after its base letter
# ("Lublin" < "Łęczna" < "Maków"); the Unicode default order (pyuca's table) treats them as
# accented variants of the base letter, which is right for Catalan ("ç", "à", "l·l") and
# English but interleaves "Ł…" with "L…".
_POLISH_LETTERS = {letter: (base, 1) for letter, base in zip("ąćęłńóśźż", "acelnoszz",
                                                                 strict=True)}
_POLISH_LETTERS["ż"] = ("z", 2)  # … z < ź < ż


@lru_cache(maxsize=1)
def _collator():
    import pyuca

    return pyuca.Collator()


@lru_cache(maxsize=4096)
def _primaries(character: str) -> tuple[int, ...]:
    key = _collator().sort_key(character)
    return key[:key.index(0)] if 0 in key else key


def _polish_key(text: str) -> tuple:
    letters = tuple(
        (_primaries(base), rank)
        for base, rank in (_POLISH_LETTERS.get(c, (c, 0)) for c in text.casefold()))
    return letters, _collator().sort_key(text)  # then accents and case, as the default


def collation_key(locale: str | None = None):
    """A sort key for names in alphabetical order of `locale` (default: the reader's language;
    English readers get the site's default language's order, the language the names are in):
    `sorted(groups, key=lambda g: collation_key()(g.name))`."""
    if locale is None:
        from flask_babel import get_locale

        locale = str(get_locale() or "")
        if locale not in ("pl", "ca") and has_request_context():
            locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    if locale.split("_")[0] == "pl":
        return _polish_key
    return _collator().sort_key


def sorted_by_name(items, name=lambda item: item.name, locale: str | None = None) -> list:
    """`items` in alphabetical order of their `name` (see collation_key)."""
    key = collation_key(locale)
    return sorted(items, key=lambda item: key(name(item) or ""))
