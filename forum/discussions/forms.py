from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length

_markdown_hint = _l("Markdown: **bold**, *italic*, > quote, lists with -, links; @name.surname "
                    "mentions a member of the group.")


class ThreadForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=200)])
    workshop_number = SelectField(_l("Session"), coerce=int, validate_choice=False)
    material_ids = SelectMultipleField(_l("Materials"), coerce=int, validate_choice=False)
    body = TextAreaField(_l("First post"), description=_markdown_hint,
                         render_kw={"rows": 10})
    client_token = HiddenField()


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), description=_markdown_hint, render_kw={"rows": 8})
    reply_to_id = HiddenField()
    client_token = HiddenField()


class EditPostForm(FlaskForm):
    body = TextAreaField(_l("Text"), description=_markdown_hint, render_kw={"rows": 10})


class HidePostForm(FlaskForm):
    reason = StringField(_l("Reason (the author sees it)"), validators=[Length(max=500)])


class MoveThreadForm(FlaskForm):
    workshop_number = SelectField(_l("Session"), coerce=int, validate_choice=False)
