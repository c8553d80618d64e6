"""Which language and time zone a request is shown in."""

from __future__ import annotations

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
