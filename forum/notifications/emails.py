"""Rendering e-mails: the person's language and time zone, absolute links, unsubscribe footer
and headers (RFC 8058 one-click)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from flask import current_app, render_template
from flask_babel import force_locale, get_locale

from forum.accounts.models import User
from forum.config import LOCALES
from forum.notifications.services import absolute_url, unsubscribe_url


def locale_of(user: User) -> str:
    return user.locale if user.locale in LOCALES else current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def in_language_of(user: User):
    with force_locale(locale_of(user)):
        yield


def formatters(user: User) -> dict:
    """Date helpers for e-mail templates, in the person's time zone and current language."""
    try:
        zone = ZoneInfo(user.time_zone or current_app.config["FORUM_DEFAULT_TIMEZONE"])
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")

    def when(value: datetime, format: str = "short") -> str:
        return babel_format_datetime(value, format, tzinfo=zone, locale=str(get_locale()))

    def day(value, format: str = "long") -> str:
        return babel_format_date(value, format, locale=str(get_locale()))

    return {"when": when, "day": day}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def render_email(user: User, template: str, subject: str, scope: str, **context) -> Rendered:
    """Render templates/email/<template>.txt and .html for `user` (call inside
    `in_language_of(user)`), with the settings and unsubscribe links of `scope`."""
    unsubscribe = unsubscribe_url(user, scope)
    context.update(
        user=user, subject=subject, site=current_app.config["FORUM_SITE_NAME"],
        settings_url=absolute_url("notifications.settings"), unsubscribe_url=unsubscribe,
        scope=scope, **formatters(user),
    )
    return Rendered(
        subject=subject,
        text=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
