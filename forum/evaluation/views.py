"""Pages of forum.evaluation (issue 17). Thin: rules live in forum.evaluation.services."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts.forms import EmptyForm
from forum.errors import InvalidInput, Refused
from forum.evaluation import chart, forms, services
from forum.evaluation.models import QuestionKind
from forum.groups.access import load_group
from forum.groups.policy import can_moderate_group
from forum.workshops import services as workshops

bp = Blueprint("evaluation", __name__)


def _load(slug: str, number: int):
    return workshops.get_group_and_workshop_for(current_user, slug, number)


def _trend_chart(group, rows):
    # The programme's nine sessions, and any beyond: a session not held yet is a gap too.
    numbers = list(range(1, max([9, *(r.number for r in rows)]) + 1))
    series = [chart.Series(str(services.TREND_LABELS[s]),
                           {r.number: r.averages[str(s)] for r in rows})
              for s in services.TREND_QUESTIONS]
    return chart.line_chart(
        _("Evaluation of the sessions of %(group)s", group=group.name),
        _("Average answer (1 = poor, 5 = very good) to the standard questions, per session "
          "number. A session with fewer than %(min)d answers shows as a gap. The same figures "
          "are in the table below the chart.", min=services.MIN_ANSWERS),
        numbers, series, x_label=_("Session"),
        point_tip=_("{label}, session {x}: {value}"))


def _render(group, workshop, *, typed=None, errors=None, status=200):
    questions = services.questions_of(workshop)
    trend = services.trend(current_user, group)
    return render_template(
        "evaluation/session.html", group=group, workshop=workshop, questions=questions,
        why=services.why_cannot_answer(current_user, group, workshop),
        why_text=services.WHY_TEXT, results=services.results(current_user, group, workshop),
        min_answers=services.MIN_ANSWERS, frozen=services.is_frozen(workshop),
        may_moderate=can_moderate_group(current_user, group), typed=typed or {},
        errors=errors or {}, trend=trend, trend_labels=services.TREND_LABELS,
        chart=_trend_chart(group, trend), scale=services.SCALE,
        max_text=services.MAX_TEXT_ANSWER, format_decimal=format_decimal), status


@bp.get("/g/<slug>/sessions/<int:number>/evaluation")
@login_required
def session_evaluation(slug: str, number: int):
    group, workshop = _load(slug, number)
    return _render(group, workshop)


@bp.post("/g/<slug>/sessions/<int:number>/evaluation")
@login_required
def answer(slug: str, number: int):
    group, workshop = _load(slug, number)
    questions = services.questions_of(workshop)
    typed = forms.typed_answers(request.form, questions)
    if not EmptyForm().validate_on_submit():
        return _render(group, workshop, typed=typed, status=400,
                       errors={"": _("The form had expired. Please send it again.")})
    try:
        services.submit(current_user, group, workshop, typed)
    except Refused as error:
        return _render(group, workshop, typed=typed, status=409 if error.code == "answered"
                       else 403, errors={"": str(error.message)})
    except InvalidInput as error:
        return _render(group, workshop, typed=typed, status=400,
                       errors={k: str(v) for k, v in error.errors.items()})
    flash(_("Thank you: your answers are recorded, without your name."), "success")
    return redirect(url_for("evaluation.session_evaluation", slug=slug, number=number))


@bp.route("/g/<slug>/sessions/<int:number>/evaluation/questions", methods=["GET", "POST"])
@login_required
def questions(slug: str, number: int):
    group, workshop = _load(slug, number)
    if not can_moderate_group(current_user, group):
        abort(403)
    current = services.questions_of(workshop)
    frozen = services.is_frozen(workshop)
    errors: dict[str, str] = {}
    typed = None
    status = 200
    if request.method == "POST":
        typed = request.form
        if not EmptyForm().validate_on_submit():
            errors = {"": _("The form had expired. Please send it again.")}
        else:
            try:
                services.set_questions(current_user, group, workshop,
                                       forms.question_rows(request.form))
            except InvalidInput as error:
                errors = {k: str(v) for k, v in error.errors.items()}
                if isinstance(error, Refused):
                    typed, frozen = None, True
            else:
                flash(_("The questions of the evaluation are saved."), "success")
                return redirect(url_for("evaluation.session_evaluation", slug=slug,
                                        number=number))
        status = 409 if frozen else 400
    return render_template(
        "evaluation/questions.html", group=group, workshop=workshop, frozen=frozen,
        questions=current, rows=forms.editor_rows(current, typed), errors=errors,
        kinds={QuestionKind.SCALE: _("Scale from 1 to 5"), QuestionKind.TEXT: _("Free text")},
        max_question=services.MAX_QUESTION), status


@bp.get("/g/<slug>/evaluation")
@login_required
def group_trend(slug: str):
    group = load_group(slug)
    trend = services.trend(current_user, group)
    return render_template("evaluation/group.html", group=group, trend=trend,
                           trend_labels=services.TREND_LABELS, chart=_trend_chart(group, trend),
                           min_answers=services.MIN_ANSWERS, format_decimal=format_decimal)
