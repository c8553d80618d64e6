"""Forms of a session's minutes (rules in forum.minutes.services)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, TextAreaField
from wtforms.validators import Optional


class MinutesForm(FlaskForm):
    body = TextAreaField(_l("Text of the minutes"),
                         description=_l("Markdown works: # heading, **bold**, - list, "
                                        "[link](address)."))
    revision = HiddenField()


class AmendmentsForm(FlaskForm):
    until = DateTimeLocalField(_l("Amendments close at"),
                               format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                               validators=[Optional()])


class AmendmentForm(FlaskForm):
    text = TextAreaField(_l("Your amendment"),
                         description=_l("What should change in the minutes, and how. "
                                        "Markdown works."))
