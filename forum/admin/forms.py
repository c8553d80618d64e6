from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from forum.groups.services import MAX_CHAT_EDIT_MINUTES

_required = DataRequired(message=_l("This field is required."))


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[_required, Length(max=200)])
    kind = SelectField(_l("Kind"), validate_choice=False)
    region = StringField(_l("Region"), validators=[Length(max=120)])


class UserCreateForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[_required, Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "off"})
    name = StringField(_l("Full name"), validators=[_required, Length(max=120)])
    organisation_id = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    position = StringField(_l("Position"), validators=[Length(max=120)])
    is_admin = BooleanField(_l("Administrator"))


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[_required, Length(max=200)])
    slug = StringField(_l("Address (used in links)"), validators=[_required, Length(max=80)],
                       description=_l("Lower-case letters without accents, digits and hyphens, "
                                      "e.g. cities"))
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    kind = SelectField(_l("Kind"), validate_choice=False)
    time_zone = SelectField(_l("Time zone"), validate_choice=False)
    members_can_upload = BooleanField(_l("Members may share materials (not only moderators)"),
                                      default=True)
    chat_edit_minutes = IntegerField(
        _l("Authors may edit or delete their chat messages for (minutes)"), default=15,
        validators=[Optional(), NumberRange(min=0, max=MAX_CHAT_EDIT_MINUTES)],
        description=_l("0: messages cannot be changed once they are sent. At most a day; "
                       "left empty, the setting stays as it is."),
        render_kw={"inputmode": "numeric", "min": 0, "max": MAX_CHAT_EDIT_MINUTES})
    registration_cap = IntegerField(
        _l("Registration cap per organisation"),
        validators=[Optional(), NumberRange(min=1, max=1000,
                                            message=_l("Enter a number from 1 to 1000."))],
        description=_l("At most this many people of one organisation may register for a "
                       "session. Empty: no cap."),
        render_kw={"inputmode": "numeric", "min": 1, "max": 1000})
    erased_posts = RadioField(_l("When a member's account is erased, their posts and chat "
                                 "messages in this group are"), default="anonymise",
                              validate_choice=False)


class InviteForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[_required, Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "off"})
    role = SelectField(_l("Role"), validate_choice=False)


class AddMemberForm(FlaskForm):
    email = StringField(_l("E-mail address of an existing account"),
                        validators=[_required, Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "off"})
    role = SelectField(_l("Role"), validate_choice=False)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), validate_choice=False)
