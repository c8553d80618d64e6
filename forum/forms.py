"""Helpers shared by every feature's forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from forum.accounts.models import Organisation
from forum.config import LOCALES
from forum.errors import InvalidInput
from forum.i18n import LANGUAGE_NAMES


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
