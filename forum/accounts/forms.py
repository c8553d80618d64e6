from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

_required = DataRequired(message=_l("This field is required."))


class LoginForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[_required, Length(max=254)],
                        render_kw={"autocomplete": "username", "type": "email"})
    password = PasswordField(_l("Password"), validators=[_required, Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[_required, Length(max=254)],
                        render_kw={"autocomplete": "email", "type": "email"})



class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[_required],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"), validators=[_required],
                            render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[_required],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[_required],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"), validators=[_required],
                            render_kw={"autocomplete": "new-password"})


class ProfileForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[_required, Length(max=120)],
                       render_kw={"autocomplete": "name"})
    organisation_id = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    position = StringField(_l("Position"), validators=[Length(max=120)],
                           render_kw={"autocomplete": "organization-title"})
    locale = SelectField(_l("Language"), validate_choice=False)
    time_zone = SelectField(_l("Time zone"), validate_choice=False)


class InvitationSignupForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[_required, Length(max=120)],
                       render_kw={"autocomplete": "name"})
    organisation_id = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    position = StringField(_l("Position"), validators=[Length(max=120)],
                           render_kw={"autocomplete": "organization-title"})
    password = PasswordField(_l("Password"), validators=[_required],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Password again"), validators=[_required],
                            render_kw={"autocomplete": "new-password"})


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something."""


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), validate_choice=False)
