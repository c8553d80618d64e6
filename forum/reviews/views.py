"""Reviews of draft materials: opening, the organisation's answer, opinions side by side,
the moderators' board, dispositions and the report (rules in reviews.services)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts.forms import EmptyForm
from forum.errors import InvalidInput
from forum.forms import apply_errors
from forum.groups.access import load_group
from forum.groups.policy import can_participate
from forum.ids import query_id
from forum.materials import services as materials
from forum.reviews import policy, services
from forum.reviews.forms import DeadlineForm, DispositionForm, OpenReviewForm
from forum.reviews.models import AnswerStatus
from forum.reviews.report import docx_report
from forum.reviews.sections import AUTOMATIC_FORMATS

bp = Blueprint("reviews", __name__)
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _load(slug: str, review_id: int):
    group = load_group(slug)
    return group, services.get_review_for(current_user, group, review_id)


@bp.get("/g/<slug>/reviews/")
@login_required
def index(slug: str):
    group = load_group(slug)
    reviews = services.list_reviews(current_user, group)
    return render_template("reviews/index.html", group=group, reviews=reviews,
                           is_open=services.is_open)


@bp.route("/g/<slug>/materials/<int:material_id>/reviews/new", methods=["GET", "POST"])
@login_required
def open_review(slug: str, material_id: int):
    group = load_group(slug)
    material = materials.get_material_for(current_user, group, material_id)
    if not policy.can_open_review(current_user, group):
        abort(403)
    if not material.versions:
        abort(404)
    form = OpenReviewForm()
    organisations = services.default_organisations(group)
    form.organisation_ids.choices = [(o.id, o.name) for o in organisations]
    form.version_number.choices = [(v.number, _("Version %(number)d", number=v.number))
                                   for v in material.versions]
    if request.method == "GET":
        form.organisation_ids.data = [o.id for o in organisations]
        form.version_number.data = material.versions[0].number
    status = 200
    if form.validate_on_submit():
        try:
            review = services.open_review(
                current_user, group, material, question=form.question.data or "",
                deadline=form.deadline.data, manual_sections=form.manual_sections.data or "",
                version_number=form.version_number.data,
                organisation_ids=form.organisation_ids.data or [])
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("The review is open."), "success")
            return redirect(url_for("reviews.detail", slug=slug, review_id=review.id))
    if form.errors or form.form_errors:
        status = 400
    return render_template("reviews/open.html", group=group, material=material, form=form,
                           formats=AUTOMATIC_FORMATS), status


def _typed(review) -> list[services.OpinionInput]:
    return [services.OpinionInput(
        section_id=section.id,
        stance=request.form.get(f"s{section.id}-stance", ""),
        comment=request.form.get(f"s{section.id}-comment", ""),
        proposed_wording=request.form.get(f"s{section.id}-wording", ""))
        for section in review.sections]


def _render_detail(group, review, typed=None, errors=None, status=200):
    own = services.answering_organisation(current_user, group, review)
    answer = services.answer_of(review, own) if own else None
    if typed is None:
        mine = {o.section_id: o for o in answer.opinions} if answer else {}
        typed = {s.id: services.OpinionInput(
            s.id, mine[s.id].stance, mine[s.id].comment, mine[s.id].proposed_wording)
            if s.id in mine else services.OpinionInput(s.id) for s in review.sections}
    answered, asked = services.response_rate(review)
    return render_template(
        "reviews/detail.html", group=group, review=review, own=own, answer=answer,
        typed=typed, errors=errors or {}, stances=services.STANCES,
        is_open=services.is_open(review), answered=answered, asked=asked,
        can_moderate=policy.can_open_review(current_user, group),
        submitted=AnswerStatus.SUBMITTED), status


@bp.get("/g/<slug>/reviews/<int:review_id>")
@login_required
def detail(slug: str, review_id: int):
    group, review = _load(slug, review_id)
    return _render_detail(group, review)


@bp.post("/g/<slug>/reviews/<int:review_id>/answer")
@login_required
def answer(slug: str, review_id: int):
    group, review = _load(slug, review_id)
    if services.answering_organisation(current_user, group, review) is None:
        abort(403)
    typed = _typed(review)
    by_section = {item.section_id: item for item in typed}
    if not EmptyForm().validate_on_submit():
        return _render_detail(group, review, by_section,
                              {"": _("The form had expired. Please send it again.")}, 400)
    submit = request.form.get("action") == "submit"
    try:
        services.save_answer(current_user, group, review, typed,
                             revision=request.form.get("revision", 0, type=query_id), submit=submit)
    except InvalidInput as error:
        return _render_detail(group, review, by_section, error.errors, 400)
    flash(_("Your organisation's answer is submitted. It can be changed until the deadline.")
          if submit else _("Saved. Your colleagues can complete the answer before it is "
                           "submitted."), "success")
    return redirect(url_for("reviews.detail", slug=slug, review_id=review.id))


@bp.get("/g/<slug>/reviews/<int:review_id>/opinions")
@login_required
def opinions(slug: str, review_id: int):
    group, review = _load(slug, review_id)
    return render_template(
        "reviews/opinions.html", group=group, review=review,
        by_section=services.opinions_by_section(current_user, group, review),
        stances=services.STANCES, outcomes=services.OUTCOMES,
        can_decide=policy.can_decide(current_user, group, review),
        can_reply=can_participate(current_user, group), submitted=AnswerStatus.SUBMITTED,
        histories=services.histories(review))


@bp.post("/g/<slug>/reviews/<int:review_id>/opinions/<int:opinion_id>/disposition")
@login_required
def disposition(slug: str, review_id: int, opinion_id: int):
    group, review = _load(slug, review_id)
    if not policy.can_decide(current_user, group, review):
        abort(403)
    form = DispositionForm()
    if form.validate_on_submit():
        try:
            services.decide(current_user, group, review, opinion_id, form.outcome.data or "",
                            form.reason.data or "")
        except InvalidInput as error:
            for message in error.errors.values():
                flash(message, "error")
        else:
            flash(_("Disposition saved."), "success")
    else:
        flash(_("The reason is too long."), "error")
    return redirect(url_for("reviews.opinions", slug=slug, review_id=review.id)
                    + f"#opinion-{opinion_id}")


@bp.get("/g/<slug>/reviews/<int:review_id>/board")
@login_required
def board(slug: str, review_id: int):
    group, review = _load(slug, review_id)
    rows = services.board(current_user, group, review)
    return render_template("reviews/board.html", group=group, review=review, rows=rows,
                           deadline_form=DeadlineForm(formdata=None),
                           is_open=services.is_open(review))


@bp.post("/g/<slug>/reviews/<int:review_id>/remind")
@login_required
def remind(slug: str, review_id: int):
    group, review = _load(slug, review_id)
    if not policy.can_open_review(current_user, group):
        abort(403)
    if EmptyForm().validate_on_submit():
        try:
            count = services.remind(current_user, group, review)
        except InvalidInput as error:
            for message in error.errors.values():
                flash(message, "error")
        else:
            flash(_("Reminders sent: %(n)d.", n=count), "success")
    return redirect(url_for("reviews.board", slug=slug, review_id=review.id))


@bp.post("/g/<slug>/reviews/<int:review_id>/deadline")
@login_required
def extend(slug: str, review_id: int):
    group, review = _load(slug, review_id)
    if not policy.can_open_review(current_user, group):
        abort(403)
    form = DeadlineForm()
    if form.validate_on_submit():
        try:
            services.extend_deadline(current_user, group, review, form.deadline.data)
        except InvalidInput as error:
            for message in error.errors.values():
                flash(message, "error")
        else:
            flash(_("The deadline is extended."), "success")
    else:
        flash(_("Enter a valid date."), "error")
    return redirect(url_for("reviews.board", slug=slug, review_id=review.id))


@bp.get("/g/<slug>/reviews/<int:review_id>/report")
@login_required
def report(slug: str, review_id: int):
    group, review = _load(slug, review_id)
    answered, asked = services.response_rate(review)
    return render_template(
        "reviews/report.html", group=group, review=review,
        by_section=services.opinions_by_section(None, group, review),
        stances=services.STANCES, outcomes=services.OUTCOMES, answered=answered, asked=asked)


@bp.get("/g/<slug>/reviews/<int:review_id>/report.csv")
@login_required
def report_csv(slug: str, review_id: int):
    group, review = _load(slug, review_id)
    lines = list(services.csv_lines(current_user, group, review))
    response = Response("\ufeff" + "".join(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="review-{review.id}.csv"'
    return response


@bp.get("/g/<slug>/reviews/<int:review_id>/report.docx")
@login_required
def report_docx(slug: str, review_id: int):
    group, review = _load(slug, review_id)
    response = Response(docx_report(current_user, group, review), mimetype=DOCX_MIME)
    response.headers["Content-Disposition"] = f'attachment; filename="review-{review.id}.docx"'
    return response


@bp.post("/g/<slug>/reviews/<int:review_id>/sections/<int:section_id>/reply")
@login_required
def reply(slug: str, review_id: int, section_id: int):
    group, review = _load(slug, review_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        post_id = services.reply_to_section(current_user, group, review, section_id,
                                            request.form.get("body", ""))
    except InvalidInput as error:
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for("reviews.opinions", slug=slug, review_id=review.id))
    return redirect(url_for("discussions.post_link", slug=slug, post_id=post_id))


@bp.get("/g/<slug>/reviews/<int:review_id>/compare")
@login_required
def compare(slug: str, review_id: int):
    group, review = _load(slug, review_id)
    return render_template("reviews/compare.html", group=group, review=review,
                           result=services.comparison(current_user, group, review),
                           stances=services.STANCES, outcomes=services.OUTCOMES)
