from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional


class RecommendationForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=300)])
    text = TextAreaField(_l("Recommendation"), validators=[Length(max=20_000)],
                         description=_l("What the training centre is asked to do, and why. "
                                        "Markdown works."))
    session = SelectField(_l("Session it came from"), coerce=int, validate_choice=False)
    material_id = SelectField(_l("Material it is about"), coerce=int, validate_choice=False)
    on = DateField(_l("Day"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validate_choice=False)
    on = DateField(_l("Day"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)],
                         description=_l("For example: sent by e-mail to the centre's director; "
                                        "adopted in the 2027 programme."))


