from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

_markdown_hint = _l("Markdown: **bold**, *italic*, > quote, lists with -, links; @name.surname "
                    "mentions a member of the group.")


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice as a list of checkboxes (a finger can tick them; no "hold Ctrl").
    `notes` maps a choice's value to a short text shown after its label (a material's
    session); templates/_macros/forms.html `chips_field` renders it, with chips.js on top."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
    notes: dict = {}


class ThreadForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=200)])
    workshop_number = SelectField(_l("Session"), coerce=int, validate_choice=False)
    material_ids = MultiCheckboxField(_l("Materials"), coerce=int, validate_choice=False)
    body = TextAreaField(_l("First post"), description=_markdown_hint,
                         render_kw={"rows": 10})
    client_token = HiddenField()


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), description=_markdown_hint, render_kw={"rows": 8})
    # Hidden fields show no label; naming one ("") spares WTForms a label made up through
    # its translations, which Flask-WTF loads from disk once per request (the thread page).
    reply_to_id = HiddenField("")
    client_token = HiddenField("")


class EditPostForm(FlaskForm):
    body = TextAreaField(_l("Text"), description=_markdown_hint, render_kw={"rows": 10})
    redact = BooleanField(_l("This edit removes personal data: the earlier versions are "
                             "deleted, nobody can see the removed text any more"))


class HidePostForm(FlaskForm):
    reason = StringField(_l("Reason (the author sees it)"), validators=[Length(max=500)])


class MoveThreadForm(FlaskForm):
    workshop_number = SelectField(_l("Session"), coerce=int, validate_choice=False)


# --- curating threads (each form has a prefix: several live on the thread page) -------------

_reason_label = _l("Reason (optional, kept in the audit log)")


class RenameThreadForm(FlaskForm):
    title = StringField(_l("New title"), validators=[Length(max=200)])
    reason = StringField(_reason_label, validators=[Length(max=500)])


class CloseThreadForm(FlaskForm):
    summary = TextAreaField(_l("Summary"), description=_l(
        "What the group concluded; shown at the top of the thread. Markdown."),
        render_kw={"rows": 4})


class ReopenThreadForm(FlaskForm):
    reason = StringField(_reason_label, validators=[Length(max=500)])


class MergeThreadForm(FlaskForm):
    target_id = SelectField(_l("Merge into"), coerce=int, validate_choice=False)
    target = StringField(_l("…or the number or link of another thread"),
                         validators=[Length(max=500)])
    reason = StringField(_reason_label, validators=[Length(max=500)])


class SplitThreadForm(FlaskForm):
    title = StringField(_l("Title of the new thread"), validators=[Length(max=200)])
    workshop_number = SelectField(_l("Session"), coerce=int, validate_choice=False)
    reason = StringField(_reason_label, validators=[Length(max=500)])
