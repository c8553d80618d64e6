"""E-mail settings, unsubscribe links (no sign-in needed) and "since session n" pages."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts.forms import EmptyForm
from forum.errors import InvalidInput
from forum.extensions import csrf
from forum.forms import apply_errors
from forum.ids import query_id
from forum.notifications import inbox as inbox_service
from forum.notifications import services
from forum.notifications.forms import EmailSettingsForm

bp = Blueprint("notifications", __name__)


@bp.route("/profile/email", methods=["GET", "POST"])
@login_required
def settings():
    user = current_user._get_current_object()
    form = EmailSettingsForm(obj=user if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.update_email_settings(user, user, notifications=form.email_notifications.data,
                                           digest=form.email_digest.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Your e-mail settings have been saved."), "success")
            return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form), \
        400 if form.errors or form.form_errors else 200


def _link_problem(error: services.LinkProblem):
    return render_template("notifications/link_problem.html", message=error.errors[""],
                           expired=error.expired), 400


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    """What the link turns off, with a button (mail scanners that open links change nothing)."""
    try:
        user, scope = services.read_unsubscribe_token(token)
    except services.LinkProblem as error:
        return _link_problem(error)
    return render_template("notifications/unsubscribe.html", user=user, scope=scope,
                           token=token, done=services.is_unsubscribed(user, scope))


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_apply(token: str):
    """The button of the page above (CSRF-checked), or a mail client's RFC 8058 one-click
    POST (body "List-Unsubscribe=One-Click", no session): the signed token is the proof."""
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if not one_click and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    try:
        user, scope = services.unsubscribe(token)
    except services.LinkProblem as error:
        return _link_problem(error)
    if one_click:
        return _("You have been unsubscribed."), 200, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("notifications/unsubscribe.html", user=user, scope=scope,
                           token=token, done=True, just_done=True)


# --- the inbox: /notifications ---------------------------------------------------------------


@bp.get("/notifications")
@login_required
def inbox():
    before = request.args.get("before", type=query_id)
    items, next_before = inbox_service.list_notifications(current_user, before)
    return render_template("notifications/inbox.html", items=items,
                           next_before=next_before, action_form=EmptyForm())


@bp.post("/notifications/read")
@login_required
def read_all():
    if EmptyForm().validate_on_submit():
        inbox_service.mark_notifications_read(current_user, request.form.get("id", type=query_id))
    return redirect(url_for("notifications.inbox"))


@bp.route("/notifications/<int:notification_id>", methods=["GET", "POST"])
@login_required
def open_notification(notification_id: int):
    """Go to what a notification is about (or back to the notifications when that is gone or
    no longer visible). Only the inbox's POST marks it read: a GET (a link in an e-mail, or a
    mail scanner or browser prefetching it) changes nothing (issue 19)."""
    if request.method == "POST" and EmptyForm().validate_on_submit():
        target = inbox_service.open_notification(current_user, notification_id)
    else:
        target = inbox_service.find_notification(current_user, notification_id)
    return redirect(inbox_service.target_url(current_user, target)
                    or url_for("notifications.inbox"))
