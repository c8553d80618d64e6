from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional


class StartPollForm(FlaskForm):
    kind = SelectField(_l("Kind"), validate_choice=False)
    question = StringField(_l("Question or proposal"), validators=[Length(max=300)])
    details = TextAreaField(_l("Details (optional)"), validators=[Length(max=5000)],
                            description=_l("Background, links to materials. Markdown works."))
    options = TextAreaField(
        _l("Options, one per line"), validators=[Length(max=8000)],
        description=_l("Not needed for a proposal. For “find a date”, one date per line, like "
                       "2027-03-18 or 2027-03-18 10:00."))
    closes_at = DateTimeLocalField(_l("Closes at"), format=["%Y-%m-%dT%H:%M",
                                                            "%Y-%m-%dT%H:%M:%S"],
                                   validators=[Optional()])
    max_choices = IntegerField(_l("Multiple choice: at most this many choices (0: no limit)"),
                               default=0, validators=[Optional(), NumberRange(0, 30)])
    points = IntegerField(_l("Dot vote: points per voter"), default=10,
                          validators=[Optional(), NumberRange(1, 100)])
    per_organisation = BooleanField(
        _l("One vote per organisation (any of its members casts or changes it)"))
    anonymous = BooleanField(_l("Anonymous: nobody sees who voted what"))


class ClosingTimeForm(FlaskForm):
    closes_at = DateTimeLocalField(_l("New closing time"), format=["%Y-%m-%dT%H:%M",
                                                                   "%Y-%m-%dT%H:%M:%S"],
                                   validators=[Optional()])
