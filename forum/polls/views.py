"""Polls and proposals: the group's list, starting one (in a thread or for a session), the
ballot, results (live through the `/threads` namespace, and on reload), closing early and
moving the closing time. Rules in polls.services."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts.forms import EmptyForm
from forum.chat import services as chat
from forum.discussions import services as discussions
from forum.errors import ForumError, InvalidInput
from forum.forms import apply_errors
from forum.groups.access import load_group
from forum.groups.policy import can_moderate_group
from forum.ids import query_id
from forum.polls import policy, services
from forum.polls.forms import ClosingTimeForm, StartPollForm
from forum.polls.models import PollKind
from forum.timeutil import utcnow
from forum.workshops import services as workshops

bp = Blueprint("polls", __name__)


def _load(slug: str, poll_id: int):
    group = load_group(slug)
    return group, services.get_poll_for(current_user, group, poll_id)


def _to_utc(group, value: datetime | None) -> datetime | None:
    """A time typed in the group's time zone (a datetime-local field), in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo(group.time_zone)).astimezone(UTC)


def _local(group, value: datetime) -> datetime:
    return value.astimezone(ZoneInfo(group.time_zone)).replace(tzinfo=None, second=0,
                                                               microsecond=0)


@bp.get("/g/<slug>/polls/")
@login_required
def index(slug: str):
    group = load_group(slug)
    now = utcnow()
    return render_template(
        "polls/index.html", group=group, kinds=services.KINDS,
        open_polls=services.list_polls(current_user, group, open_only=True, now=now),
        closed_polls=services.list_polls(current_user, group, open_only=False, now=now),
        waiting={p.id for p in services.waiting_for_vote(current_user, now, limit=200)},
        may_start=policy.can_start_poll(current_user, group))


@bp.route("/g/<slug>/polls/new", methods=["GET", "POST"])
@login_required
def start(slug: str):
    group = load_group(slug)
    thread = workshop = None
    thread_id = request.values.get("thread", type=query_id)
    if thread_id:
        thread = discussions.get_thread_for(current_user, group, thread_id)
    number = request.values.get("session", type=query_id)
    if number:
        workshop = workshops.get_workshop_for(current_user, group, number)
    if not policy.can_start_poll(current_user, group, thread):
        abort(403)
    from_chat = request.values.get("from") == "chat" and thread is None
    form = StartPollForm()
    form.kind.choices = [(kind.value, label) for kind, label in services.KINDS.items()]
    if request.method == "GET":
        form.closes_at.data = _local(group, utcnow() + timedelta(days=7)).replace(minute=0)
    status = 200
    if form.validate_on_submit():
        data = services.PollInput(
            kind=form.kind.data or "", question=form.question.data or "",
            details=form.details.data or "", options=form.options.data or "",
            closes_at=_to_utc(group, form.closes_at.data),
            anonymous=bool(form.anonymous.data), per_organisation=bool(form.per_organisation.data),
            max_choices=form.max_choices.data or 0,
            points=form.points.data if form.points.data is not None else 10)
        try:
            poll = services.start_poll(current_user, group, data, thread=thread,
                                       workshop=workshop)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("The poll is open."), "success")
            if from_chat and not _announce_in_chat(group, poll):
                flash(_("The poll could not be announced in the chat: share its link there."),
                      "error")
            return redirect(url_for("polls.detail", slug=slug, poll_id=poll.id))
    if form.errors or form.form_errors:
        status = 400
    return render_template("polls/start.html", group=group, form=form, thread=thread,
                           workshop=workshop, from_chat=from_chat), status


def _announce_in_chat(group, poll) -> bool:
    """A poll started from the chat is announced there by its author, as a message with a
    link (the chat's own delivery, live to everyone in it)."""
    question = re.sub(r"([\\`*_\[\]()<>!#])", r"\\\1", poll.question)
    body = _("New poll: [%(question)s](%(url)s)", question=question,
             url=url_for("polls.detail", slug=group.slug, poll_id=poll.id))
    try:
        chat.send_message(current_user, group, body, f"poll-{poll.id}")
    except ForumError:
        return False
    return True


def _typed_marks(poll) -> tuple[dict[int, int], bool]:
    """The ballot as the form sent it ({option id: value}); False when a value is not a
    whole number (a malformed ballot)."""
    form = request.form
    option_ids = {o.id for o in poll.options}
    marks: dict[int, int] = {}
    well_formed = True
    if poll.kind in (PollKind.CONSENT, PollKind.SINGLE, PollKind.MULTIPLE):
        for raw in form.getlist("choice"):
            if raw.isdigit() and int(raw) in option_ids:
                marks[int(raw)] = 1
            else:
                well_formed = False
        return marks, well_formed
    prefix = {PollKind.RANKED: "rank-", PollKind.DOTS: "points-", PollKind.DATE: "answer-"}
    for option_id in option_ids:
        raw = form.get(f"{prefix[poll.kind]}{option_id}", "").strip()
        if raw == "":
            continue
        if not raw.isdigit() or len(raw) > 4:
            well_formed = False
            continue
        value = int(raw)
        if poll.kind == PollKind.DOTS and value == 0:
            continue
        marks[option_id] = value
    return marks, well_formed


def render_poll(group, poll, *, typed=None, reason=None, errors=None, status=200):
    now = utcnow()
    ballot = services.ballot_of(current_user, poll)
    ballots = services.ballots_of(poll)
    return render_template(
        "polls/detail.html", group=group, poll=poll, ballot=ballot,
        typed=typed if typed is not None else (ballot.as_mapping() if ballot else {}),
        reason=reason if reason is not None else (ballot.reason if ballot else ""),
        errors=errors or {}, results=services.results(poll, ballots),
        is_open=services.is_open(poll, now), closes=services.closed_at(poll),
        may_vote=policy.can_vote(current_user, group, poll),
        may_manage=policy.can_manage_poll(current_user, group, poll),
        thread=discussions.get_thread_for(current_user, group, poll.thread_id)
        if poll.thread_id else None,
        closing_form=ClosingTimeForm(formdata=None, closes_at=_local(group, poll.closes_at)),
        # A closed, agreed proposal can go to the recommendations register (moderators).
        may_recommend=(not services.is_open(poll, now) and poll.kind == PollKind.CONSENT
                       and can_moderate_group(current_user, group)),
        **_labels()), status


def _labels() -> dict:
    return {"kinds": services.KINDS, "positions": services.POSITIONS,
            "date_answers": services.DATE_ANSWERS, "option_label": services.option_label}


@bp.get("/g/<slug>/polls/<int:poll_id>")
@login_required
def detail(slug: str, poll_id: int):
    group, poll = _load(slug, poll_id)
    return render_poll(group, poll)


@bp.get("/g/<slug>/polls/<int:poll_id>/results")
@login_required
def results_fragment(slug: str, poll_id: int):
    """The results card alone, for pages that refresh it live."""
    group, poll = _load(slug, poll_id)
    return render_template("polls/_results.html", group=group, poll=poll,
                           results=services.results(poll), closes=services.closed_at(poll),
                           is_open=services.is_open(poll), **_labels())


@bp.post("/g/<slug>/polls/<int:poll_id>/vote")
@login_required
def vote(slug: str, poll_id: int):
    group, poll = _load(slug, poll_id)
    marks, well_formed = _typed_marks(poll)
    reason = request.form.get("reason", "")
    if not EmptyForm().validate_on_submit():
        return render_poll(group, poll, typed=marks, reason=reason,
                           errors={"": _("The form had expired. Please send it again.")},
                           status=400)
    if not policy.can_vote(current_user, group, poll):
        abort(403)
    if not well_formed:
        return render_poll(group, poll, typed=marks, reason=reason, errors={
            "ballot": _("Some answers were not understood: use whole numbers.")}, status=400)
    seen = request.form.get("revision", "0")
    try:
        services.cast_ballot(current_user, group, poll, marks, reason=reason,
                             seen_revision=int(seen) if seen.isdigit() else -1)
    except InvalidInput as error:
        return render_poll(group, poll, typed=marks, reason=reason,
                           errors={k: str(v) for k, v in error.errors.items()}, status=400)
    flash(_("Your vote is recorded. You can change it until the poll closes."), "success")
    return redirect(url_for("polls.detail", slug=slug, poll_id=poll.id))


@bp.post("/g/<slug>/polls/<int:poll_id>/close")
@login_required
def close(slug: str, poll_id: int):
    group, poll = _load(slug, poll_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.close_poll(current_user, group, poll)
    except InvalidInput as error:
        flash(" ".join(str(m) for m in error.errors.values()), "error")
    else:
        flash(_("The poll is closed. Its results are final."), "success")
    return redirect(url_for("polls.detail", slug=slug, poll_id=poll.id))


@bp.post("/g/<slug>/polls/<int:poll_id>/closing")
@login_required
def move_closing(slug: str, poll_id: int):
    group, poll = _load(slug, poll_id)
    form = ClosingTimeForm()
    if not form.validate_on_submit():
        return render_poll(group, poll, errors={
            "closes_at": _("Give the new closing time as a date and a time.")}, status=400)
    try:
        services.move_closing_time(current_user, group, poll, _to_utc(group, form.closes_at.data))
    except InvalidInput as error:
        return render_poll(group, poll, errors={k or "closes_at": str(v)
                                                for k, v in error.errors.items()}, status=400)
    flash(_("The closing time is changed."), "success")
    return redirect(url_for("polls.detail", slug=slug, poll_id=poll.id))


@bp.get("/g/<slug>/polls/<int:poll_id>/card")
@login_required
def card(slug: str, poll_id: int):
    """A poll's card on its thread's page, for the page to refresh it live."""
    group, poll = _load(slug, poll_id)
    return render_template("polls/_card.html", group=group,
                           card=services.PollCard(poll, services.is_open(poll)))
