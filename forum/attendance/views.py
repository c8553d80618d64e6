"""Pages of forum.attendance (issue 17). Thin: rules live in forum.attendance.services."""

from __future__ import annotations

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts.forms import EmptyForm
from forum.attendance import services
from forum.attendance.forms import CheckInCodeForm, RegistrationForm
from forum.errors import InvalidInput
from forum.extensions import limiter
from forum.forms import apply_errors
from forum.groups.policy import is_admin
from forum.ids import query_id
from forum.workshops import services as workshops

bp = Blueprint("attendance", __name__)

CODE_ATTEMPTS = "10 per minute"


def _load(slug: str, number: int):
    return workshops.get_group_and_workshop_for(current_user, slug, number)


def _page(group, workshop, form=None, status=200):
    registration = services.registration_of(current_user, workshop)
    if form is None:
        form = RegistrationForm()
        form.day1.data = registration.day1 if registration else True
        form.day2.data = registration.day2 if registration else True
    may_manage = services.can_manage_attendance(current_user, group)
    checkins = services.checkins_of(current_user, workshop)
    return render_template(
        "attendance/session.html", group=group, workshop=workshop, form=form,
        action_form=EmptyForm(), registration=registration, checkins=checkins,
        may_register=services.can_register(current_user, group),
        open_for_registration=services.is_open_for_registration(workshop),
        today_day=services.today_day(workshop), days_over=services.days_over(workshop),
        may_manage=may_manage, may_download_all=may_manage or is_admin(current_user),
        listing=services.attendance_list(current_user, group, workshop) if may_manage else None,
        checkin_time=services.checkin_time,
    ), status


@bp.route("/g/<slug>/sessions/<int:number>/attendance", methods=["GET", "POST"])
@login_required
def session_attendance(slug: str, number: int):
    group, workshop = _load(slug, number)
    if request.method == "GET":
        return _page(group, workshop)
    form = RegistrationForm()
    if not services.can_register(current_user, group):
        abort(403)
    if form.validate_on_submit():
        try:
            if request.form.get("action") == "cancel":
                services.cancel_registration(current_user, group, workshop)
                flash(_("Your registration is cancelled."), "success")
            else:
                services.register(current_user, group, workshop, day1=bool(form.day1.data),
                                  day2=bool(form.day2.data))
                flash(_("You are registered."), "success")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            return redirect(url_for("attendance.session_attendance", slug=slug, number=number))
    return _page(group, workshop, form, 400)


@bp.post("/g/<slug>/sessions/<int:number>/attendance/list")
@login_required
def tick(slug: str, number: int):
    """A moderator ticks a person off for today, or corrects any day."""
    group, workshop = _load(slug, number)
    if not services.can_manage_attendance(current_user, group):
        abort(403)
    form = EmptyForm()
    user_id = request.form.get("user", type=query_id)
    if not form.validate_on_submit() or not user_id:
        abort(400)
    try:
        if request.form.get("action") == "correct":
            day = request.form.get("day", type=int) or 0
            present = request.form.get("present") == "1"
            if services.correct(current_user, group, workshop, user_id, day, present):
                flash(_("The attendance list is corrected."), "success")
        else:
            services.tick_off(current_user, group, workshop, user_id)
            flash(_("Checked in."), "success")
    except InvalidInput as error:
        for message in error.errors.values():
            flash(str(message), "error")
    return redirect(url_for("attendance.session_attendance", slug=slug, number=number)
                    + "#attendance-list")


@bp.get("/g/<slug>/sessions/<int:number>/check-in-code")
@login_required
def show_code(slug: str, number: int):
    """The day's check-in code, large, with a QR code of the check-in link (moderators)."""
    group, workshop = _load(slug, number)
    if not services.can_manage_attendance(current_user, group):
        abort(403)
    day = services.today_day(workshop)
    code = url = svg = None
    if day is not None:
        code = services.day_code(workshop, day)
        url = (current_app.config["FORUM_BASE_URL"]
               + url_for("attendance.check_in", slug=slug, number=number, code=code))
        svg = segno.make(url, error="m").svg_inline(scale=6, dark="#000", light="#fff",
                                                    omitsize=True)
    return render_template("attendance/code.html", group=group, workshop=workshop, day=day,
                           code=code, url=url, svg=svg)


@bp.route("/g/<slug>/sessions/<int:number>/check-in", methods=["GET", "POST"])
@login_required
@limiter.limit(CODE_ATTEMPTS, methods=["POST"],
               key_func=lambda: f"checkin:{getattr(current_user, 'id', request.remote_addr)}")
def check_in(slug: str, number: int):
    """Confirm the check-in (a GET changes nothing; the POST checks in for today)."""
    group, workshop = _load(slug, number)
    if not services.can_register(current_user, group):
        abort(403)
    form = CheckInCodeForm()
    status = 200
    if request.method == "GET":
        form.code.data = services.normalise_code(request.args.get("code", ""))[:6]
    elif form.validate_on_submit():
        try:
            _checkin, new = services.check_in_with_code(current_user, group, workshop,
                                                        form.code.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("You are checked in. Welcome!") if new
                  else _("You are already checked in."), "success")
            return redirect(url_for("attendance.session_attendance", slug=slug, number=number))
    if form.errors or form.form_errors:
        status = 400
    return render_template("attendance/check_in.html", group=group, workshop=workshop,
                           form=form, today_day=services.today_day(workshop),
                           checkins=services.checkins_of(current_user, workshop),
                           checkin_time=services.checkin_time), status
