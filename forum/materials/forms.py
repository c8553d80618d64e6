from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

_required = DataRequired(message=_l("This field is required."))
_markdown_hint = _l("Markdown: **bold**, *italic*, lists with - and links.")


class MaterialForm(FlaskForm):
    title = StringField(_l("Title"), validators=[_required, Length(max=200)])
    kind = SelectField(_l("Kind"), validate_choice=False)
    workshop_number = SelectField(_l("Session"), coerce=int, validate_choice=False)
    language = SelectField(_l("Language of the material"), validate_choice=False)
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)],
                                description=_markdown_hint)
    file = FileField(_l("File"))
    # Good-practice write-up (kind "good practice")
    problem = TextAreaField(_l("The problem"), validators=[Length(max=20000)],
                            description=_l("What situation or need did the practice answer?"))
    actions = TextAreaField(_l("What was done"), validators=[Length(max=20000)])
    results = TextAreaField(_l("Results"), validators=[Length(max=20000)])
    costs = TextAreaField(_l("Costs"), validators=[Length(max=20000)],
                          description=_l("Money, staff time, partners' contributions."))
    contact_organisation_id = SelectField(_l("Contact organisation"), coerce=int,
                                          validate_choice=False)


class VersionForm(FlaskForm):
    file = FileField(_l("New version"))
    note = StringField(_l("What changed"), validators=[Length(max=500)])


class ReviewForm(FlaskForm):
    review_until = DateField(_l("Review open until"), validators=[Optional()])


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), validate_choice=False)
    session = SelectField(_l("Session"), coerce=int, validate_choice=False)
