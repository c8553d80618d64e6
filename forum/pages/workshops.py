"""Session timeline, session pages, moderators' forms and calendar feeds."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from forum.accounts.forms import EmptyForm
from forum.accounts.services import list_organisations
from forum.discussions import services as discussions
from forum.errors import InvalidInput
from forum.forms import apply_errors, organisation_choices
from forum.groups import services as group_services
from forum.groups.access import load_group
from forum.groups.policy import can_manage_workshops, can_plan_agenda
from forum.ids import parse_ids
from forum.materials import services as material_services
from forum.materials.filetypes import content_disposition
from forum.minutes import services as minutes_services
from forum.pages import agenda, recap
from forum.redirects import safe_next
from forum.timeutil import utcnow
from forum.workshops import services
from forum.workshops.calendar import build_calendar
from forum.workshops.forms import WorkshopForm

bp = Blueprint("workshops", __name__)


def _load(slug: str, number: int):
    return services.get_group_and_workshop_for(current_user, slug, number)


def _require_manager(group):
    if not can_manage_workshops(current_user, group):
        abort(403)


def _form(**kwargs) -> WorkshopForm:
    form = WorkshopForm(**kwargs)
    form.host_organisation_id.choices = organisation_choices(list_organisations())
    return form


def _input(form: WorkshopForm) -> services.WorkshopInput:
    return services.WorkshopInput(
        number=form.number.data, theme=form.theme.data or "", day1=form.day1.data,
        day2=form.day2.data, description=form.description.data or "",
        host_organisation_id=form.host_organisation_id.data or None,
        place=form.place.data or "", agenda_day1=form.agenda_day1.data or "",
        agenda_day2=form.agenda_day2.data or "", keep_chat=bool(form.keep_chat.data),
        times=(form.day1_starts.data, form.day1_ends.data, form.day2_starts.data,
               form.day2_ends.data))


@bp.get("/g/<slug>/sessions/")
@login_required
def index(slug: str):
    group = load_group(slug)
    return render_template("workshops/index.html", group=group,
                           timeline=services.timeline(current_user, group),
                           calendar_token=services.calendar_token(current_user))


@bp.get("/g/<slug>/sessions/<int:number>")
@login_required
def detail(slug: str, number: int):
    group, workshop = _load(slug, number)
    return _render_detail(group, workshop)


def _render_detail(group, workshop, *, agenda_error=None, chosen_ids=None, status=200):
    state = workshop.state_on(services.group_today(group))
    materials = material_services.list_materials(current_user, group, workshop=workshop)
    threads = discussions.list_threads(current_user, group, workshop=workshop)
    # The agenda and the threads brought to the session: one statement (session_agenda).
    agenda_entries, proposals = agenda.session_agenda(current_user, workshop)
    return render_template("workshops/detail.html", group=group, workshop=workshop,
                           state=state, materials=materials, action_form=EmptyForm(),
                           page=threads, material=None, unread=False,
                           material_kinds=material_services.MATERIAL_KINDS,
                           agenda_entries=agenda_entries,
                           proposals=proposals, agenda_error=agenda_error,
                           chosen_ids=chosen_ids), status


@bp.route("/g/<slug>/sessions/new", methods=["GET", "POST"])
@login_required
def create(slug: str):
    group = load_group(slug)
    _require_manager(group)
    form = _form()
    if request.method == "GET":
        existing = services.list_workshops(current_user, group)
        form.number.data = max((w.number for w in existing), default=0) + 1
    if form.validate_on_submit():
        try:
            workshop = services.create_workshop(current_user, group, _input(form))
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Session %(number)d created.", number=workshop.number), "success")
            return redirect(url_for("workshops.detail", slug=slug, number=workshop.number))
    return render_template("workshops/form.html", group=group, form=form, workshop=None), \
        400 if form.errors else 200


@bp.route("/g/<slug>/sessions/<int:number>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, number: int):
    group, workshop = _load(slug, number)
    _require_manager(group)
    form = _form(obj=workshop if request.method == "GET" else None)
    if request.method == "GET":
        form.host_organisation_id.data = workshop.host_organisation_id or 0
    if form.validate_on_submit():
        try:
            services.update_workshop(current_user, workshop, _input(form))
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Session saved."), "success")
            return redirect(url_for("workshops.detail", slug=slug, number=workshop.number))
    return render_template("workshops/form.html", group=group, form=form, workshop=workshop), \
        400 if form.errors else 200


@bp.post("/g/<slug>/sessions/<int:number>/cancel")
@login_required
def cancel(slug: str, number: int):
    group, workshop = _load(slug, number)
    if EmptyForm().validate_on_submit():
        cancelled = request.form.get("cancelled") == "1"
        services.set_cancelled(current_user, workshop, cancelled)
        flash(_("Session cancelled.") if cancelled else _("Session reinstated."), "success")
    return redirect(url_for("workshops.detail", slug=slug, number=number))


# --- agenda builder --------------------------------------------------------------------------


def _flash_errors(error: InvalidInput) -> None:
    for message in error.errors.values():
        flash(message, "error")


@bp.post("/g/<slug>/t/<int:thread_id>/agenda")
@login_required
def mark_thread(slug: str, thread_id: int):
    """The thread page's "Bring to the next session" and "Do not bring" buttons."""
    group = load_group(slug)
    thread = discussions.get_thread_for(current_user, group, thread_id)
    if EmptyForm().validate_on_submit():
        mark = request.form.get("mark") == "1"
        try:
            if mark:
                agenda.mark_for_next_workshop(current_user, thread)
            else:
                agenda.unmark(current_user, thread)
        except InvalidInput as error:
            _flash_errors(error)
        else:
            flash(_("The thread will be brought to the next session.") if mark
                  else _("The thread will not be brought to the next session."), "success")
    else:
        flash(_("The form had expired. Please send it again."), "error")
    return redirect(safe_next(request.form.get("next"))
                    or url_for("discussions.thread", slug=slug, thread_id=thread.id, page=1))


def _chosen_ids() -> list[int] | None:
    """The threads ticked in the form; None when the form offered no choice (all marked)."""
    if request.form.get("choose") != "1":
        return None
    return parse_ids(request.form.getlist("thread_ids"))


@bp.post("/g/<slug>/sessions/<int:number>/agenda")
@login_required
def add_agenda(slug: str, number: int):
    group, workshop = _load(slug, number)
    if not can_plan_agenda(current_user, group):
        abort(403)
    chosen = _chosen_ids()
    if not EmptyForm().validate_on_submit():
        return _render_detail(group, workshop, chosen_ids=chosen, status=400, agenda_error=_(
            "The form had expired. Please send it again."))
    try:
        result = agenda.add_to_agenda(current_user, workshop, chosen)
    except InvalidInput as error:
        return _render_detail(group, workshop, chosen_ids=chosen, status=400,
                              agenda_error=" ".join(str(m) for m in error.errors.values()))
    if result.added:
        flash(ngettext("%(num)d thread added to the agenda.",
                       "%(num)d threads added to the agenda.", len(result.added)), "success")
    if result.skipped:
        flash(ngettext("%(num)d thread was already on the agenda.",
                       "%(num)d threads were already on the agenda.", len(result.skipped)),
              "info")
    return redirect(url_for("workshops.detail", slug=slug, number=number,
                            _anchor="agenda-heading"))


@bp.post("/g/<slug>/sessions/<int:number>/agenda/<int:item_id>/remove")
@login_required
def remove_agenda_item(slug: str, number: int, item_id: int):
    group, workshop = _load(slug, number)
    if EmptyForm().validate_on_submit():
        try:
            item = agenda.remove_agenda_item(current_user, workshop, item_id)
        except InvalidInput as error:
            _flash_errors(error)
        else:
            flash(_("“%(title)s” was removed from the agenda. The thread is back among the "
                    "threads brought to this session.", title=item.title)
                  if item.thread_id is not None else
                  _("The item was removed from the agenda."), "success")
    return redirect(url_for("workshops.detail", slug=slug, number=number,
                            _anchor="agenda-heading"))


@bp.post("/g/<slug>/sessions/<int:number>/agenda/<int:item_id>/move")
@login_required
def move_agenda_item(slug: str, number: int, item_id: int):
    group, workshop = _load(slug, number)
    if EmptyForm().validate_on_submit():
        try:
            agenda.move_agenda_item(current_user, workshop, item_id,
                                    request.form.get("direction", ""))
        except InvalidInput as error:
            _flash_errors(error)
    return redirect(url_for("workshops.detail", slug=slug, number=number,
                            _anchor=f"agenda-item-{item_id}"))


# --- session recap ---------------------------------------------------------------------------


@bp.get("/g/<slug>/sessions/<int:number>/recap")
@login_required
def recap_page(slug: str, number: int):
    group, workshop = _load(slug, number)
    state = recap.recap_state(workshop)
    summary = (recap.build_recap(current_user, workshop) if recap.recap_available(workshop)
               else None)
    return render_template("workshops/recap.html", group=group, workshop=workshop,
                           state=state, recap=summary, hours=recap.format_hours,
                           material_kinds=material_services.MATERIAL_KINDS,
                           minutes=minutes_services.approved_minutes(current_user, workshop))


@bp.get("/g/<slug>/sessions/<int:number>/recap.zip")
@login_required
def recap_zip(slug: str, number: int):
    group, workshop = _load(slug, number)
    try:
        summary = recap.build_recap(current_user, workshop, with_posts=True)
    except InvalidInput as error:
        _flash_errors(error)
        return redirect(url_for("workshops.recap_page", slug=slug, number=number))
    files = recap.material_files(summary.materials)
    base = current_app.config["FORUM_BASE_URL"].rstrip("/")
    index_html = render_template(
        "workshops/recap_export.html", group=group, workshop=workshop, recap=summary,
        files=files, material_kinds=material_services.MATERIAL_KINDS, hours=recap.format_hours,
        minutes=minutes_services.approved_minutes(current_user, workshop),
        forum_url=lambda endpoint, **values: base + url_for(endpoint, **values),
        absolute=lambda html: recap.absolute_links(html, base),
        exported_at=utcnow())
    archive = recap.write_zip(summary, index_html, files)
    size = archive.seek(0, 2)
    archive.seek(0)
    response = send_file(archive, mimetype="application/zip", max_age=0, conditional=False)
    response.content_length = size
    response.headers["Content-Disposition"] = content_disposition(recap.export_name(workshop),
                                                                  inline=False)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- calendar feeds --------------------------------------------------------------------------


def _calendar_user():
    """The signed-in user, or the owner of the private feed token in the address."""
    token = request.args.get("token")
    if token:
        return services.user_for_calendar_token(token)
    if current_user.is_authenticated:
        return current_user._get_current_object()
    abort(404)


def _ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/g/<slug>/sessions.ics")
def group_calendar(slug: str):
    user = _calendar_user()
    group = group_services.get_group_for(user, slug)
    workshops = services.workshops_for_calendar(user, group)
    body = build_calendar(group.name, workshops, current_app.config["FORUM_BASE_URL"])
    return _ics_response(body, f"{group.slug}.ics")


@bp.get("/calendar.ics")
def my_calendar():
    user = _calendar_user()
    workshops = services.workshops_for_calendar(user)
    body = build_calendar(current_app.config["FORUM_SITE_NAME"], workshops,
                          current_app.config["FORUM_BASE_URL"])
    return _ics_response(body, "sessions.ics")


@bp.post("/calendar/reset")
@login_required
def reset_calendar():
    if EmptyForm().validate_on_submit():
        services.reset_calendar_token(current_user._get_current_object())
        flash(_("Your calendar addresses have changed; the old ones no longer work."), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.profile"))
