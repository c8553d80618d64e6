from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class OpenReviewForm(FlaskForm):
    question = TextAreaField(_l("Question asked"), validators=[Length(max=1000)],
                             description=_l("For example: Does this module fit the needs of "
                                            "rural communes?"))
    deadline = DateField(_l("Deadline (last day)"), validators=[Optional()])
    version_number = SelectField(_l("Version"), coerce=int, validate_choice=False)
    organisation_ids = SelectMultipleField(
        _l("Organisations asked"), coerce=int, validate_choice=False,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description=_l("By default every organisation with a member in the group."))
    manual_sections = TextAreaField(
        _l("Sections by hand"), validators=[Length(max=200_000)],
        description=_l("Leave empty to take the sections from the headings of a Markdown, DOCX "
                       "or ODT file. Otherwise a line starting with # for each heading, its "
                       "text below."))


class DeadlineForm(FlaskForm):
    deadline = DateField(_l("New deadline"), validators=[Optional()])


class DispositionForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])
