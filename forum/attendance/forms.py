"""Forms of forum.attendance."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length


class RegistrationForm(FlaskForm):
    day1 = BooleanField(_l("Day 1"))
    day2 = BooleanField(_l("Day 2"))


class CheckInCodeForm(FlaskForm):
    code = StringField(_l("Check-in code"), validators=[Length(max=32)],
                       description=_l("The six characters shown at the session."))
