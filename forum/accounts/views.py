"""Sign-in and out, password reset and change, profile, invitations, language switch."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from forum.accounts import services
from forum.accounts.forms import (
    ChangePasswordForm,
    EmptyForm,
    ForgotPasswordForm,
    InvitationSignupForm,
    LanguageForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
)
from forum.accounts.login import known_account_ids, remember_known_account
from forum.config import LOCALES
from forum.errors import InvalidInput
from forum.extensions import limiter
from forum.forms import (
    apply_errors,
    locale_choices,
    organisation_choices,
    time_zone_choices,
    time_zone_label,
)
from forum.groups import services as group_services
from forum.redirects import safe_next

bp = Blueprint("accounts", __name__)


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _start_session(user, remember: bool = False) -> None:
    """A fresh session at every sign-in (no fixation), keeping only the chosen language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    session.permanent = True
    login_user(user, remember=remember)


def _passwords_match(form, first: str, second: str = "confirm") -> bool:
    if form[first].data != form[second].data:
        form[second].errors = [_("The two passwords are not the same.")]
        return False
    return True


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("groups.dashboard"))
    form = LoginForm()
    status, unlock_offer = 200, False
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, _client_address(),
                                         known_account_ids())
        except services.TooManyAttempts as error:
            minutes = max(1, -(-error.seconds // 60))
            form.form_errors.append(ngettext(
                "Too many failed sign-in attempts from here. Try again in %(num)d minute, or "
                "get a link by e-mail that lets you sign in now.",
                "Too many failed sign-in attempts from here. Try again in %(num)d minutes, or "
                "get a link by e-mail that lets you sign in now.", minutes))
            status, unlock_offer = 429, True
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            _start_session(user, remember=form.remember.data)
            return remember_known_account(
                redirect(next_url or url_for("groups.dashboard")), user.id)
    return render_template("accounts/login.html", form=form, next=next_url,
                           unlock_offer=unlock_offer, action_form=EmptyForm()), status


@bp.post("/login/unlock")
@limiter.limit(lambda: current_app.config["FORUM_MAIL_FORM_LIMIT"])
def request_unlock():
    """"E-mail me a link": the same answer and time whether or not the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        started = time.monotonic()
        try:
            services.request_unlock(form.email.data, _client_address())
        except InvalidInput:
            pass  # not an e-mail address: the same answer as any unknown one
        time.sleep(max(0.0, RESET_ANSWER_SECONDS - (time.monotonic() - started)))
    flash(_("If an account uses this address, we have sent it a link to sign in again."),
          "success")
    return redirect(url_for("accounts.login"))


@bp.route("/login/unlock/<token>", methods=["GET", "POST"])
def unlock(token: str):
    """The e-mailed link shows a button; only pressing it (a POST) unlocks, so that a mail
    scanner opening the link changes nothing."""
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            user = services.unlock_sign_in(token, _client_address())
        except InvalidInput as error:
            return render_template("accounts/link_problem.html", message=error.errors[""]), 400
        flash(_("You can sign in again from this browser."), "success")
        return remember_known_account(redirect(url_for("accounts.login")), user.id)
    return render_template("accounts/unlock.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    # Ends every session of this user, on every device, not only this cookie.
    services.end_all_sessions(current_user._get_current_object())
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have signed out."), "success")
    return redirect(url_for("accounts.login"))


# The least time an answer to "forgot password" takes (cooperative under gevent).
RESET_ANSWER_SECONDS = 0.25


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["FORUM_MAIL_FORM_LIMIT"], methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        started = time.monotonic()
        try:
            services.request_password_reset(form.email.data, _client_address())
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            # Known or not, the answer takes the same time: the known address's token, e-mail
            # and commit would otherwise tell them apart by timing (issue 19).
            time.sleep(max(0.0, RESET_ANSWER_SECONDS - (time.monotonic() - started)))
            # The same answer whether or not the account exists.
            flash(
                ngettext("If an account uses this address, we have sent it a link to choose a "
                         "new password. The link works for %(num)d minute.",
                         "If an account uses this address, we have sent it a link to choose a "
                         "new password. The link works for %(num)d minutes.",
                         current_app.config["FORUM_PASSWORD_RESET_SECONDS"] // 60),
                "success",
            )
            return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.user_for_reset_token(token)
    except InvalidInput as error:
        return render_template("accounts/link_problem.html", message=error.errors[""]), 400
    form = ResetPasswordForm()
    if form.validate_on_submit() and _passwords_match(form, "password"):
        try:
            user = services.reset_password(token, form.password.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            _start_session(user)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("groups.dashboard"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user if request.method == "GET" else None)
    form.organisation_id.choices = organisation_choices(services.list_organisations())
    form.locale.choices = locale_choices()
    default_zone = _("Site default (%(zone)s)", zone=time_zone_label(
        current_app.config["FORUM_DEFAULT_TIMEZONE"], str(get_locale())))
    form.time_zone.choices = time_zone_choices(services.time_zone_names(),
                                               first=(("", default_zone),))
    if request.method == "GET":
        form.organisation_id.data = user.organisation_id or 0
    if form.validate_on_submit():
        try:
            services.update_profile(
                user, user, name=form.name.data, organisation_id=form.organisation_id.data,
                position=form.position.data or "", locale=form.locale.data or "",
                time_zone=form.time_zone.data or "",
            )
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form)


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit() and _passwords_match(form, "new_password"):
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.new_password.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            _start_session(user)  # other devices are signed out; this one stays in
            flash(_("Your password has been changed. Other devices have been signed out."),
                  "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form)


@bp.post("/language")
def set_language():
    form = LanguageForm()
    form.locale.choices = locale_choices(include_browser=False)
    if form.validate_on_submit() and form.locale.data in LOCALES:
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            user = current_user._get_current_object()
            services.update_profile(
                user, user, name=user.name, organisation_id=user.organisation_id,
                position=user.position, locale=form.locale.data, time_zone=user.time_zone,
            )
    return redirect(safe_next(request.form.get("next")) or url_for("groups.dashboard"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    try:
        invitation = group_services.open_invitation(token)
    except InvalidInput as error:
        return render_template("accounts/link_problem.html", message=error.errors[""]), 400

    if current_user.is_authenticated:
        form = EmptyForm()
        if form.validate_on_submit():
            try:
                group = group_services.accept_invitation(current_user._get_current_object(),
                                                         token)
            except InvalidInput as error:
                return render_template("accounts/link_problem.html",
                                       message=error.errors[""]), 400
            flash(_("Welcome to %(group)s.", group=group.name), "success")
            return redirect(url_for("groups.detail", slug=group.slug))
        return render_template("accounts/invitation_join.html", invitation=invitation, form=form)

    if services.find_user_by_email(invitation.email) is not None:
        flash(_("You already have an account. Sign in to accept the invitation."), "info")
        return redirect(url_for("accounts.login", next=url_for("accounts.invitation",
                                                               token=token)))

    form = InvitationSignupForm()
    form.organisation_id.choices = organisation_choices(services.list_organisations())
    if form.validate_on_submit() and _passwords_match(form, "password"):
        try:
            user = group_services.accept_invitation_with_new_account(
                token, name=form.name.data, password=form.password.data,
                organisation_id=form.organisation_id.data, position=form.position.data or "",
                locale=session.get("locale", ""),
            )
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            _start_session(user)
            flash(_("Welcome to %(group)s.", group=invitation.group.name), "success")
            return redirect(url_for("groups.detail", slug=invitation.group.slug))
    return render_template("accounts/invitation_signup.html", invitation=invitation, form=form)
