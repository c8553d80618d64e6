"""Pages of forum.minutes (issue 17). Thin: rules live in forum.minutes.services."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.errors import InvalidInput
from forum.forms import apply_errors
from forum.ids import parse_id
from forum.minutes import services
from forum.minutes.forms import AmendmentForm, AmendmentsForm, MinutesForm
from forum.minutes.models import MinutesState
from forum.workshops.services import get_group_and_workshop_for

bp = Blueprint("minutes", __name__)


def _load(slug: str, number: int):
    group, workshop = get_group_and_workshop_for(current_user, slug, number)
    return group, workshop, services.get_minutes(current_user, workshop)


def _back(group, workshop, anchor: str = ""):
    return redirect(url_for("minutes.session_minutes", slug=group.slug,
                            number=workshop.number) + anchor)


def _flash_errors(error: InvalidInput) -> None:
    for message in error.errors.values():
        flash(str(message), "error")


def _local(group, value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(ZoneInfo(group.time_zone)).replace(
        tzinfo=None, second=0, microsecond=0)


def _render(group, workshop, minutes, *, form=None, amendments_form=None, amendment_form=None,
            conflict=None, status=200):
    may_edit = services.can_edit(current_user, workshop)
    editing = may_edit and minutes is not None and minutes.state != MinutesState.APPROVED
    if form is None and editing:
        form = MinutesForm(formdata=None, body=minutes.body, revision=minutes.revision)
    if amendments_form is None and editing:
        amendments_form = AmendmentsForm(formdata=None,
                                         until=_local(group, minutes.amendments_until))
    may_propose = services.can_propose(current_user, minutes)
    if amendment_form is None and may_propose:
        amendment_form = AmendmentForm(formdata=None)
    may_read = services.can_read(current_user, workshop, minutes)
    return render_template(
        "minutes/page.html", group=group, workshop=workshop, minutes=minutes,
        may_edit=may_edit, editing=editing, may_read=may_read, may_propose=may_propose,
        amendments_open=services.amendments_open(minutes),
        amendments=services.amendments(minutes) if minutes is not None and may_read else [],
        form=form, amendments_form=amendments_form, amendment_form=amendment_form,
        conflict=conflict,
        chat=services.chat_candidates(workshop) if editing else [],
        conclusions=services.conclusion_candidates(workshop) if editing else [],
        decisions=services.decision_candidates(workshop) if editing else [],
    ), status


@bp.route("/g/<slug>/sessions/<int:number>/minutes", methods=["GET", "POST"])
@login_required
def session_minutes(slug: str, number: int):
    group, workshop, minutes = _load(slug, number)
    if request.method == "GET":
        return _render(group, workshop, minutes)
    # POST: a moderator saves the text.
    if minutes is None:
        return _back(group, workshop)
    form = MinutesForm()
    if not form.validate():
        return _render(group, workshop, minutes, form=form, status=400)
    try:
        services.save_text(current_user, minutes, form.body.data or "",
                           parse_id(form.revision.data or ""))
    except services.RevisionConflict as error:
        apply_errors(form, error)
        # The form keeps the moderator's text; its revision becomes the saved one, so saving
        # again (after comparing) is a deliberate choice.
        form.revision.data = str(error.minutes.revision)
        return _render(group, workshop, error.minutes, form=form, conflict=error.minutes,
                       status=409)
    except InvalidInput as error:
        if minutes.state == MinutesState.APPROVED:  # approved meanwhile: nothing to edit
            _flash_errors(error)
            return _back(group, workshop)
        apply_errors(form, error)
        return _render(group, workshop, minutes, form=form, status=400)
    flash(_("The minutes are saved."), "success")
    return _back(group, workshop)


@bp.post("/g/<slug>/sessions/<int:number>/minutes/start")
@login_required
def start(slug: str, number: int):
    group, workshop, _minutes = _load(slug, number)
    try:
        services.start_minutes(current_user, workshop)
        flash(_("The minutes are started from the session's agenda."), "success")
    except InvalidInput as error:
        _flash_errors(error)
    return _back(group, workshop)


@bp.post("/g/<slug>/sessions/<int:number>/minutes/add")
@login_required
def add(slug: str, number: int):
    group, workshop, minutes = _load(slug, number)
    if minutes is None:
        return _back(group, workshop)
    try:
        services.add_candidate(current_user, minutes, request.form.get("kind", ""),
                               parse_id(request.form.get("item_id", "")))
        flash(_("Added at the end of the minutes."), "success")
    except InvalidInput as error:
        _flash_errors(error)
    return _back(group, workshop, "#minutes-editor")


@bp.post("/g/<slug>/sessions/<int:number>/minutes/amendments/open")
@login_required
def open_amendments(slug: str, number: int):
    group, workshop, minutes = _load(slug, number)
    if minutes is None:
        return _back(group, workshop)
    form = AmendmentsForm()
    if not form.validate():
        return _render(group, workshop, minutes, amendments_form=form, status=400)
    until = form.until.data
    until = (until.replace(tzinfo=ZoneInfo(group.time_zone)).astimezone(UTC)
             if until is not None else None)
    try:
        services.open_amendments(current_user, minutes, until)
    except InvalidInput as error:
        apply_errors(form, error)
        return _render(group, workshop, minutes, amendments_form=form, status=400)
    flash(_("Members can propose amendments until the time you set."), "success")
    return _back(group, workshop)


@bp.post("/g/<slug>/sessions/<int:number>/minutes/amendments")
@login_required
def propose(slug: str, number: int):
    group, workshop, minutes = _load(slug, number)
    if minutes is None:
        return _back(group, workshop)
    form = AmendmentForm()
    if not form.validate():
        return _render(group, workshop, minutes, amendment_form=form, status=400)
    try:
        services.propose_amendment(current_user, minutes, form.text.data or "")
    except InvalidInput as error:
        apply_errors(form, error)
        return _render(group, workshop, minutes, amendment_form=form, status=400)
    flash(_("Your amendment is sent to the moderators."), "success")
    return _back(group, workshop, "#amendments-heading")


@bp.post("/g/<slug>/sessions/<int:number>/minutes/amendments/<int:amendment_id>")
@login_required
def decide(slug: str, number: int, amendment_id: int):
    group, workshop, minutes = _load(slug, number)
    if minutes is None:
        return _back(group, workshop)
    amendment = services.get_amendment(minutes, amendment_id)
    try:
        services.decide_amendment(current_user, amendment, request.form.get("decision", ""))
        flash(_("The amendment is declined.") if request.form.get("decision") == "decline"
              else _("The amendment is accepted."), "success")
    except InvalidInput as error:
        _flash_errors(error)
    return _back(group, workshop, "#amendments-heading")


@bp.post("/g/<slug>/sessions/<int:number>/minutes/approve")
@login_required
def approve(slug: str, number: int):
    group, workshop, minutes = _load(slug, number)
    if minutes is None:
        return _back(group, workshop)
    try:
        services.approve(current_user, minutes)
        flash(_("The minutes are approved: they are frozen and shown in the recap."), "success")
    except InvalidInput as error:
        _flash_errors(error)
    return _back(group, workshop)
