"""The good-practice tournament's pages: the list, opening one (administrators), the current
round's ballot (one per organisation), the ranking of every round, the next round, the finish
and the CSV export. Rules in tournaments.services."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from forum.accounts.forms import EmptyForm
from forum.errors import InvalidInput
from forum.forms import apply_errors
from forum.library import services as library
from forum.polls import policy as poll_policy
from forum.polls import services as polls
from forum.polls.models import PollKind
from forum.timeutil import utcnow
from forum.tournaments import services

bp = Blueprint("tournaments", __name__)
_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class TournamentForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=200)])
    description = TextAreaField(_l("Description (optional)"), validators=[Length(max=5000)])
    kind = SelectField(_l("Kind of vote"), validate_choice=False)
    points = IntegerField(_l("Dot vote: points per organisation"), default=10,
                          validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Round 1 closes at"), format=_FORMATS,
                                   validators=[Optional()])
    material_ids = SelectMultipleField(_l("Practices"), coerce=int, validate_choice=False,
                                       widget=ListWidget(prefix_label=False),
                                       option_widget=CheckboxInput())


class RoundForm(FlaskForm):
    keep = IntegerField(_l("Practices going on to the next round"), validators=[Optional()])
    closes_at = DateTimeLocalField(_l("The next round closes at"), format=_FORMATS,
                                   validators=[Optional()])


def _zone() -> ZoneInfo:
    """The programme's time zone (its groups may have their own): the site's default."""
    return ZoneInfo(current_app.config["FORUM_DEFAULT_TIMEZONE"])


def _utc(value):
    """A time typed in the programme's time zone, in UTC."""
    return value.replace(tzinfo=_zone()).astimezone(UTC) if value is not None else None


@bp.get("/tournaments/")
@login_required
def index():
    if not poll_policy.can_view_poll(current_user, None):
        abort(404)
    return render_template("tournaments/index.html",
                           tournaments=services.list_tournaments(current_user),
                           may_run=services.can_run(current_user))


@bp.route("/tournaments/new", methods=["GET", "POST"])
@login_required
def new():
    if not services.can_run(current_user):
        abort(404)
    form = TournamentForm()
    form.kind.choices = [(k.value, label) for k, label in services.KINDS.items()]
    form.material_ids.choices = [(e.material.id, f"{e.material.title} ({e.material.group.name})")
                                 for e in library.library(current_user, limit=500)]
    if request.method == "GET":
        form.closes_at.data = (utcnow() + timedelta(days=7)).astimezone(_zone()).replace(
            tzinfo=None, minute=0, second=0, microsecond=0)
        form.material_ids.data = [value for value, _label in form.material_ids.choices]
    status = 200
    if form.validate_on_submit():
        try:
            tournament = services.open_tournament(
                current_user, title=form.title.data or "",
                description=form.description.data or "", kind=form.kind.data or "",
                points=form.points.data or 10, closes_at=_utc(form.closes_at.data),
                material_ids=form.material_ids.data or [])
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("The tournament is open: round 1 has started."), "success")
            return redirect(url_for("tournaments.detail", tournament_id=tournament.id))
    if form.errors or form.form_errors:
        status = 400
    return render_template("tournaments/new.html", form=form,
                           zone=current_app.config["FORUM_DEFAULT_TIMEZONE"]), status


def _typed(poll) -> dict[int, int]:
    prefix = "rank-" if poll.kind == PollKind.RANKED else "points-"
    marks = {}
    for option in poll.options:
        raw = request.form.get(f"{prefix}{option.id}", "").strip()
        if raw.isdigit() and len(raw) <= 4 and int(raw) > 0:
            marks[option.id] = int(raw)
    return marks


def _render(tournament, *, typed=None, reason=None, errors=None, round_form=None,
            status=200):
    current = services.current_round(tournament)
    poll = current.poll if current else None
    ballot = polls.ballot_of(current_user, poll) if poll else None
    return render_template(
        "tournaments/detail.html", tournament=tournament, current=current, poll=poll,
        ballot=ballot, typed=typed if typed is not None else (
            ballot.as_mapping() if ballot else {}),
        reason=reason if reason is not None else (ballot.reason if ballot else ""),
        errors=errors or {}, is_open=poll is not None and polls.is_open(poll)
        and tournament.status == "open",
        may_vote=poll is not None and poll_policy.can_vote(current_user, None, poll),
        may_run=services.can_run(current_user),
        rankings=[(r, services.ranking(r.poll)) for r in reversed(tournament.rounds)],
        round_form=round_form or RoundForm(formdata=None), kinds=polls.KINDS,
        zone=current_app.config["FORUM_DEFAULT_TIMEZONE"],
        positions=polls.POSITIONS, date_answers=polls.DATE_ANSWERS,
        option_label=polls.option_label), status


@bp.get("/tournaments/<int:tournament_id>")
@login_required
def detail(tournament_id: int):
    return _render(services.get_tournament_for(current_user, tournament_id))


@bp.post("/tournaments/<int:tournament_id>/vote")
@login_required
def vote(tournament_id: int):
    tournament = services.get_tournament_for(current_user, tournament_id)
    current = services.current_round(tournament)
    if current is None:
        abort(404)
    marks, reason = _typed(current.poll), request.form.get("reason", "")
    if not EmptyForm().validate_on_submit():
        return _render(tournament, typed=marks, reason=reason, errors={
            "": _("The form had expired. Please send it again.")}, status=400)
    if not poll_policy.can_vote(current_user, None, current.poll):
        abort(403)
    seen = request.form.get("revision", "0")
    try:
        services.vote(current_user, tournament, marks, reason=reason,
                      seen_revision=int(seen) if seen.isdigit() else -1)
    except InvalidInput as error:
        return _render(tournament, typed=marks, reason=reason,
                       errors={k: str(v) for k, v in error.errors.items()}, status=400)
    flash(_("Your organisation's vote is recorded. It can be changed until the round closes."),
          "success")
    return redirect(url_for("tournaments.detail", tournament_id=tournament.id))


@bp.post("/tournaments/<int:tournament_id>/next-round")
@login_required
def next_round(tournament_id: int):
    tournament = services.get_tournament_for(current_user, tournament_id)
    if not services.can_run(current_user):
        abort(403)
    form = RoundForm()
    if form.validate_on_submit():
        try:
            services.next_round(current_user, tournament, keep=form.keep.data or 0,
                                closes_at=_utc(form.closes_at.data))
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("The next round has started."), "success")
            return redirect(url_for("tournaments.detail", tournament_id=tournament.id))
    return _render(tournament, round_form=form, status=400)


@bp.post("/tournaments/<int:tournament_id>/finish")
@login_required
def finish(tournament_id: int):
    tournament = services.get_tournament_for(current_user, tournament_id)
    if not services.can_run(current_user):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.finish(current_user, tournament)
    except InvalidInput as error:
        flash(" ".join(str(m) for m in error.errors.values()), "error")
    else:
        flash(_("The tournament is finished. Its ranking is final."), "success")
    return redirect(url_for("tournaments.detail", tournament_id=tournament.id))


@bp.get("/tournaments/<int:tournament_id>/ranking.csv")
@login_required
def export(tournament_id: int):
    tournament = services.get_tournament_for(current_user, tournament_id)
    return Response("".join(services.csv_lines(tournament)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="tournament-{tournament.id}.csv"'})
