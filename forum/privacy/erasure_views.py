"""Deleting an account: the person's request (/profile/delete) and the administrator's
confirmation (/admin/users/<id>/erase). Thin views over forum.privacy.erasure."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField

from forum.accounts import services as accounts
from forum.accounts.forms import EmptyForm
from forum.errors import InvalidInput
from forum.extensions import db
from forum.forms import apply_errors
from forum.groups.models import Group, Membership
from forum.i18n import sorted_by_name
from forum.privacy import erasure

bp = Blueprint("erasure", __name__)


class ErasureRequestForm(FlaskForm):
    password = PasswordField(_l("Your password"), render_kw={"autocomplete": "current-password"})


def _my_groups(user) -> list[Group]:
    return sorted_by_name(db.session.scalars(db.select(Group).join(
        Membership, Membership.group_id == Group.id).where(Membership.user_id == user.id)
        .order_by(Group.name)))


@bp.route("/profile/delete", methods=["GET", "POST"])
@login_required
def request_page():
    """What deleting the account means, and the request (confirmed with the password)."""
    form = ErasureRequestForm()
    status = 200
    if current_user.erasure_requested_at is None and form.validate_on_submit():
        try:
            erasure.request_erasure(current_user, form.password.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
            status = 400
        else:
            flash(_("Your request is recorded. An administrator will confirm it and erase the "
                    "account."), "success")
            return redirect(url_for("erasure.request_page"))
    elif form.errors:
        status = 400
    return render_template("privacy/erase_request.html", form=form, cancel_form=EmptyForm(),
                           groups=_my_groups(current_user), settings=erasure.ERASED_POSTS), \
        status


@bp.post("/profile/delete/cancel")
@login_required
def cancel():
    if EmptyForm().validate_on_submit():
        erasure.cancel_erasure_request(current_user)
        flash(_("Your request to delete the account is withdrawn."), "success")
    return redirect(url_for("erasure.request_page"))


@bp.route("/admin/users/<int:user_id>/erase", methods=["GET", "POST"])
@login_required
def confirm(user_id: int):
    """The administrator's confirmation page (what will happen), and the erasure (POST)."""
    user = accounts.get_user_for_admin(current_user, user_id)
    form = EmptyForm()
    if user.anonymised_at is not None:
        flash(_("This account has already been erased."), "info")
        return redirect(url_for("admin.user", user_id=user.id))
    if form.validate_on_submit():
        try:
            erasure.erase_user(current_user, user)
        except InvalidInput as error:
            for message in error.errors.values():
                flash(message, "error")
        else:
            flash(_("The account is erased: it is shown as “former member” from now on."),
                  "success")
            return redirect(url_for("admin.user", user_id=user.id))
    try:
        plan = erasure.erasure_plan(current_user, user)
    except InvalidInput as error:
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for("admin.user", user_id=user.id))
    return render_template("privacy/erase_confirm.html", plan=plan, user=user, form=form,
                           settings=erasure.ERASED_POSTS)
