from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField
from wtforms.fields.choices import SelectChoice

from forum.notifications.services import FREQUENCIES


class EmailSettingsForm(FlaskForm):
    email_notifications = RadioField(
        _l("E-mail about replies, mentions and new threads"),
        choices=[SelectChoice(value, label) for value, label in FREQUENCIES.items()],
        validate_choice=False)
    email_digest = BooleanField(_l("Send me a digest of each group after each session"))
