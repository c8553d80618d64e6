from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from forum.workshops.services import list_workshops

_required = DataRequired(message=_l("This field is required."))
_markdown_hint = _l("Markdown: **bold**, *italic*, lists with - and links.")


class WorkshopForm(FlaskForm):
    number = IntegerField(_l("Number"), validators=[
        InputRequired(message=_l("This field is required.")),
        NumberRange(min=1, max=99, message=_l("Enter a number from 1 to 99."))])
    theme = StringField(_l("Theme"), validators=[_required, Length(max=200)])
    day1 = DateField(_l("Day 1"), validators=[
        InputRequired(message=_l("Enter the date of day 1."))])
    day2 = DateField(_l("Day 2"), validators=[Optional()],
                     description=_l("Leave empty for the day after day 1."))
    day1_starts = TimeField(_l("Day 1 starts at"), validators=[Optional()])
    day1_ends = TimeField(_l("Day 1 ends at"), validators=[Optional()])
    day2_starts = TimeField(_l("Day 2 starts at"), validators=[Optional()])
    day2_ends = TimeField(_l("Day 2 ends at"), validators=[Optional()])
    host_organisation_id = SelectField(_l("Host organisation"), coerce=int,
                                       validate_choice=False)
    place = StringField(_l("Place"), validators=[Length(max=200)],
                        description=_l("Town and venue, e.g. Lublin, Szkoła Podstawowa nr 24"))
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)],
                                description=_markdown_hint)
    agenda_day1 = TextAreaField(_l("Agenda of day 1"), validators=[Length(max=20000)],
                                description=_markdown_hint)
    agenda_day2 = TextAreaField(_l("Agenda of day 2"), validators=[Length(max=20000)],
                                description=_markdown_hint)
    keep_chat = BooleanField(
        _l("Keep the chat transcript of this session"),
        description=_l("The group chose to keep it: its chat messages are exempt from the "
                       "forum's retention period and stay as long as the group exists."))


def workshop_choices(actor, group, empty_label) -> list[tuple[int, str]]:
    """Choices for a session field: 0 for none, then the group's sessions the actor can see,
    "Session n: theme" by number."""
    return [(0, empty_label), *((w.number, _l("Session %(number)d: %(theme)s", number=w.number,
                                                 theme=w.theme))
                                for w in list_workshops(actor, group))]
