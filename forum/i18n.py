"""Which language and time zone a request is shown in."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app, has_request_context, request, session
from flask_login import current_user

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
