"""The recommendations register: a group's and the programme's, a recommendation with its
history, writing one (from an agreed proposal, a thread's conclusion or by hand), moving its
status, CSV and Word exports. Rules in recommendations.services."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.discussions import services as discussions
from forum.errors import InvalidInput
from forum.forms import apply_errors
from forum.groups.access import load_group
from forum.groups.policy import can_administer
from forum.groups.services import all_groups, list_groups_for
from forum.ids import query_id
from forum.materials import services as materials
from forum.polls import services as polls
from forum.recommendations import services
from forum.recommendations.forms import RecommendationForm, StatusForm
from forum.workshops.forms import workshop_choices
from forum.workshops.services import group_today

bp = Blueprint("recommendations", __name__)
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _load(slug: str, recommendation_id: int):
    group = load_group(slug)
    return group, services.get_recommendation_for(current_user, group, recommendation_id)


def _export_args() -> dict:
    """The filters to carry over to the export links."""
    return {key: request.args[key] for key in ("status", "session", "group", "q")
            if request.args.get(key)}


def _filters(group=None) -> services.Filters:
    return services.Filters(query=request.args.get("q", "")[:200],
                            status=request.args.get("status", ""),
                            group_slug=request.args.get("group", "") if group is None else "",
                            session=request.args.get("session", type=query_id))


@bp.get("/g/<slug>/recommendations/")
@login_required
def index(slug: str):
    group = load_group(slug)
    filters = _filters(group)
    return render_template(
        "recommendations/index.html", group=group, filters=filters,
        recommendations=services.list_recommendations(current_user, group, filters),
        statuses=services.STATUSES, may_manage=services.can_manage(current_user, group),
        export_args=_export_args(),
        sessions=workshop_choices(current_user, group, _("Any session")))


@bp.get("/recommendations/")
@login_required
def programme():
    """Every group's register the reader may see, together."""
    filters = _filters()
    groups = [summary.group for summary in (
        all_groups(current_user) if can_administer(current_user)
        else list_groups_for(current_user))]
    return render_template(
        "recommendations/programme.html", filters=filters, groups=groups,
        recommendations=services.list_recommendations(current_user, None, filters),
        statuses=services.STATUSES, export_args=_export_args())


def _export(recommendations, name: str, heading: str, fmt: str):
    if fmt == "csv":
        return Response(
            "".join(services.csv_lines(recommendations)), mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(services.docx_document(recommendations, heading), mimetype=DOCX_MIME,
                    headers={"Content-Disposition": f'attachment; filename="{name}.docx"'})


@bp.get("/g/<slug>/recommendations.<any(csv, docx):fmt>")
@login_required
def export(slug: str, fmt: str):
    group = load_group(slug)
    found = services.list_recommendations(current_user, group, _filters(group))
    return _export(found, f"recommendations-{group.slug}",
                   _("Recommendations of %(group)s", group=group.name), fmt)


@bp.get("/recommendations.<any(csv, docx):fmt>")
@login_required
def programme_export(fmt: str):
    found = services.list_recommendations(current_user, None, _filters())
    return _export(found, "recommendations", _("Recommendations of the programme"), fmt)


@bp.route("/g/<slug>/recommendations/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    group = load_group(slug)
    poll = thread = None
    if (poll_id := request.values.get("poll", type=query_id)):
        poll = polls.get_poll_for(current_user, group, poll_id)
    if (thread_id := request.values.get("thread", type=query_id)):
        thread = discussions.get_thread_for(current_user, group, thread_id)
    if not services.can_manage(current_user, group):
        abort(403)
    form = RecommendationForm()
    form.session.choices = workshop_choices(current_user, group, _("— no session —"))
    form.material_id.choices = [(0, _("— no material —")), *(
        (m.id, m.title) for m in materials.list_materials(current_user, group, limit=200))]
    if request.method == "GET":
        try:
            draft = (services.draft_from_poll(current_user, group, poll) if poll else
                     services.draft_from_thread(current_user, group, thread) if thread else
                     services.RecommendationInput())
        except InvalidInput as error:
            flash(" ".join(str(m) for m in error.errors.values()), "error")
            draft = services.RecommendationInput()
            poll = thread = None
        form.title.data, form.text.data, form.note.data = draft.title, draft.text, draft.note
        form.session.data = draft.session or 0
        form.on.data = group_today(group)
    status = 200
    if form.validate_on_submit():
        data = services.RecommendationInput(
            title=form.title.data or "", text=form.text.data or "", note=form.note.data or "",
            on=form.on.data, session=form.session.data or None,
            material_id=form.material_id.data or None)
        try:
            recommendation = services.create(current_user, group, data, poll=poll,
                                             thread=thread)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("The recommendation is in the register."), "success")
            return redirect(url_for("recommendations.detail", slug=slug,
                                    recommendation_id=recommendation.id))
    if form.errors or form.form_errors:
        status = 400
    return render_template("recommendations/new.html", group=group, form=form, poll=poll,
                           thread=thread), status


def _render_detail(group, recommendation, form=None, status=200):
    form = form or StatusForm(formdata=None, on=group_today(group))
    form.status.choices = [(s.value, services.STATUSES[s])
                           for s in services.NEXT[recommendation.status]]
    return render_template(
        "recommendations/detail.html", group=group, r=recommendation, form=form,
        statuses=services.STATUSES, may_manage=services.can_manage(current_user, group),
        export_args=_export_args(),
        sources=_sources(group, recommendation)), status


def _sources(group, r) -> dict:
    """Where it came from, as the reader may see it (a gone item is left out)."""
    from forum.discussions.models import Thread
    from forum.extensions import db
    from forum.materials.models import Material
    from forum.polls.models import Poll
    from forum.workshops.models import Workshop

    poll = db.session.get(Poll, r.poll_id) if r.poll_id else None
    thread = db.session.get(Thread, r.thread_id) if r.thread_id else None
    workshop = db.session.get(Workshop, r.workshop_id) if r.workshop_id else None
    material = db.session.get(Material, r.material_id) if r.material_id else None
    return {"poll": poll, "thread": thread, "workshop": workshop,
            "material": material if material is not None and material.deleted_at is None
            else None}


@bp.get("/g/<slug>/recommendations/<int:recommendation_id>")
@login_required
def detail(slug: str, recommendation_id: int):
    group, recommendation = _load(slug, recommendation_id)
    return _render_detail(group, recommendation)


@bp.post("/g/<slug>/recommendations/<int:recommendation_id>/status")
@login_required
def change_status(slug: str, recommendation_id: int):
    group, recommendation = _load(slug, recommendation_id)
    if not services.can_manage(current_user, group):
        abort(403)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            services.change_status(current_user, group, recommendation, form.status.data or "",
                                   on=form.on.data, note=form.note.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("The status is changed."), "success")
            return redirect(url_for("recommendations.detail", slug=slug,
                                    recommendation_id=recommendation.id))
    return _render_detail(group, recommendation, form, 400)
