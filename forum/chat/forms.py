from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length

from forum.chat.services import MUTE_CHOICES, SLOW_MODE_CHOICES


def _minutes(n: int):
    if n % (24 * 60) == 0:
        return lazy_ngettext("%(num)d day", "%(num)d days", n // (24 * 60))
    if n % 60 == 0:
        return lazy_ngettext("%(num)d hour", "%(num)d hours", n // 60)
    return lazy_ngettext("%(num)d minute", "%(num)d minutes", n)


def _seconds(n: int):
    if n == 0:
        return _l("off")
    if n % 60 == 0:
        return lazy_ngettext("one message a minute", "one message every %(num)d minutes",
                             n // 60)
    return lazy_ngettext("one message a second", "one message every %(num)d seconds", n)


MUTE_OPTIONS = [(n, _minutes(n)) for n in MUTE_CHOICES]


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), description=_l(
        "Enter sends, Shift+Enter starts a new line. **bold**, *italic*, links; "
        "@name.surname mentions a member."), render_kw={"rows": 2})
    client_id = HiddenField()


class MuteForm(FlaskForm):
    user_id = IntegerField()
    minutes = SelectField(_l("Mute for"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.minutes.choices = MUTE_OPTIONS


class SlowModeForm(FlaskForm):
    seconds = SelectField(_l("Slow mode"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds.choices = [(n, _seconds(n)) for n in SLOW_MODE_CHOICES]


class PromoteForm(FlaskForm):
    title = StringField(_l("Title of the new thread"), validators=[Length(max=200)])
    message_ids = SelectMultipleField(coerce=int, validate_choice=False)
    client_token = HiddenField()


class EditMessageForm(FlaskForm):
    """The author corrects a recent message (the page without JavaScript)."""

    body = TextAreaField(_l("Message"), render_kw={"rows": 4})
