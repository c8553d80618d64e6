from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, TextAreaField

from forum.moderation.reports import NOTE_MAX, REASONS, TEXT_MAX


class ReportForm(FlaskForm):
    reason = RadioField(_l("Why should the moderators look at it?"), validate_choice=False)
    text = TextAreaField(_l("What is wrong?"), description=_l(
        "Optional, except for “something else”. Only the moderators read it."),
        render_kw={"rows": 4, "maxlength": TEXT_MAX})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = list(REASONS.items())


class ResolveForm(FlaskForm):
    action = RadioField(_l("What to do"), validate_choice=False)
    note = TextAreaField(_l("Note"), description=_l(
        "Hide: the reason shown in place of the content. Edit: the public note shown with the "
        "new text. Warn: the private message the author receives. Dismiss: optional, for the "
        "audit log."), render_kw={"rows": 3, "maxlength": NOTE_MAX})
    new_body = TextAreaField(_l("New text (for “edit”)"), render_kw={"rows": 8})
    redact = BooleanField(_l("This edit removes personal data: the audit log keeps the fact of "
                             "the edit but not the removed text, and earlier versions are "
                             "deleted"))
