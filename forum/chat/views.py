"""The chat page (works without JavaScript), older pages as JSON, moderators' forms."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime, get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts.forms import EmptyForm
from forum.chat import layout, services
from forum.chat.forms import (
    MUTE_OPTIONS,
    EditMessageForm,
    MessageForm,
    MuteForm,
    PromoteForm,
    SlowModeForm,
)
from forum.chat.models import MessageKind
from forum.errors import InvalidInput
from forum.forms import apply_errors
from forum.groups.access import load_group
from forum.groups.policy import can_moderate_group, can_participate, can_report
from forum.ids import query_id
from forum.notifications.mentions import handle_for
from forum.text import render_markdown

bp = Blueprint("chat", __name__)


def _new_client_id() -> str:
    return str(uuid.uuid4())


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def _render(group, *, before_id: int | None = None, form: MessageForm | None = None,
            promote_form: PromoteForm | None = None):
    page = services.history(current_user, group, before_id=before_id)
    if before_id is None and page.messages:  # the newest messages are on screen: read
        services.mark_chat_read(current_user, group, page.messages[-1].id)
    promoting = promote_form is not None  # a refused thread: its selection shown again
    if form is None:
        form = MessageForm(formdata=None)
        form.client_id.data = _new_client_id()
    if promote_form is None:
        promote_form = PromoteForm(formdata=None)
        promote_form.client_token.data = _new_client_id()
    moderator = can_moderate_group(current_user, group)
    slow_form = SlowModeForm(formdata=None)
    slow_form.seconds.data, live = services.page_settings(group)
    # "Select messages" for a thread: check boxes only while selecting (?select=on; a message's
    # "Select for a thread" also ticks it: &tick=<id>), and again after a refused thread.
    selecting = promoting or request.args.get("select") == "on"
    selected = set(promote_form.message_ids.data or ()) if promoting else \
        {request.args.get("tick", type=query_id)} - {None}
    return render_template(
        "chat/index.html", group=group, page=page, before_id=before_id, form=form,
        promote_form=promote_form, slow_form=slow_form,
        action_form=EmptyForm(), can_send=can_participate(current_user, group),
        can_moderate=moderator, can_report=can_report(current_user, group),
        mutes=services.list_mutes(current_user, group) if moderator else [],
        mentions=services.mentions_in(current_user, group, page.messages),
        max_length=current_app.config["FORUM_CHAT_MAX_LENGTH"],
        live=live, notice_kind=MessageKind.THREAD_NOTICE, selecting=selecting,
        selected=selected,
    ), 400 if form.errors or promote_form.errors else 200


@bp.get("/g/<slug>/chat")
@login_required
def index(slug: str):
    group = load_group(slug)
    return _render(group, before_id=request.args.get("before_id", type=query_id))


@bp.get("/g/<slug>/chat/messages")
@login_required
def messages(slug: str):
    """Older pages (`before_id`) or a catch-up (`after_id`) as JSON, oldest first."""
    group = load_group(slug)
    after_id = request.args.get("after_id", type=query_id)
    if after_id is not None:
        page = services.catch_up(current_user, group, after_id)
    else:
        page = services.history(current_user, group,
                                before_id=request.args.get("before_id", type=query_id))
    return jsonify({"ok": True, "group": group.slug, "has_more": page.has_more,
                    "messages": [services.message_payload(m, group) for m in page.messages]})


@bp.post("/g/<slug>/chat/messages")
@login_required
def send(slug: str):
    """The form without JavaScript (the script sends over Socket.IO instead)."""
    group = load_group(slug)
    if not can_participate(current_user, group):
        abort(403)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            message = services.send_message(current_user, group, form.body.data or "",
                                            form.client_id.data or _new_client_id())
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            return redirect(url_for("chat.index", slug=slug, _anchor=f"message-{message.id}"))
    elif not form.errors:
        form.form_errors.append(_("The form had expired. Please send it again."))
    return _render(group, form=form)


@bp.get("/g/<slug>/chat/messages/<int:message_id>/history")
@login_required
def history(slug: str, message_id: int):
    """A chat message's edits (its author and the moderators; 404 for anyone else)."""
    group = load_group(slug)
    message, edits = services.message_edits(current_user, group, message_id)
    return render_template("chat/history.html", group=group, message=message, edits=edits,
                           render=render_markdown)


@bp.route("/g/<slug>/chat/messages/<int:message_id>/edit", methods=["GET", "POST"])
@login_required
def edit_own(slug: str, message_id: int):
    """The author corrects a recent message: a page without JavaScript, JSON for chat.js."""
    group = load_group(slug)
    message = services.get_message_for(current_user, group, message_id)
    if not can_participate(current_user, group) or message.author_id != current_user.id:
        abort(403)
    form = EditMessageForm(formdata=None if request.method == "GET" else request.form)
    if request.method == "GET":
        if _wants_json():  # chat.js edits in place and starts from the text as written
            return jsonify({"ok": services.may_change_own(current_user, message, group=group),
                            "body": message.body})
        form.body.data = message.body
    elif form.validate_on_submit():
        try:
            services.edit_own_message(current_user, group, message_id, form.body.data or "")
        except InvalidInput as error:
            if _wants_json():
                return jsonify({"ok": False, "message": " ".join(
                    str(m) for m in error.errors.values())}), 400
            apply_errors(form, error)
        else:
            if _wants_json():
                return jsonify({"ok": True})
            return redirect(url_for("chat.index", slug=slug, _anchor=f"message-{message_id}"))
    elif not form.errors:
        form.form_errors.append(_("The form had expired. Please send it again."))
    if _wants_json():
        return jsonify({"ok": False, "message": _("Something went wrong. Try again.")}), 400
    late = not services.may_change_own(current_user, message, group=group)
    return render_template("chat/edit.html", group=group, message=message, form=form,
                           late=late, max_length=current_app.config["FORUM_CHAT_MAX_LENGTH"],
                           ), 400 if form.errors else 200


@bp.post("/g/<slug>/chat/messages/<int:message_id>/delete")
@login_required
def delete_own(slug: str, message_id: int):
    """The author deletes a recent message."""
    group = load_group(slug)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_own_message(current_user, group, message_id)
    except InvalidInput as error:
        return _moderation_failed(group, " ".join(str(m) for m in error.errors.values()))
    return _moderation_done(group, _("Your message was deleted."), f"message-{message_id}")


def _moderation_done(group, message: str, anchor: str | None = None):
    if _wants_json():
        return jsonify({"ok": True, "message": message})
    flash(message, "success")
    return redirect(url_for("chat.index", slug=group.slug, _anchor=anchor))


def _moderation_failed(group, message: str, status: int = 400):
    if _wants_json():
        return jsonify({"ok": False, "message": message}), status
    flash(message, "error")
    return redirect(url_for("chat.index", slug=group.slug))


def _load_moderated(slug: str):
    group = load_group(slug)
    if not can_moderate_group(current_user, group):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return group


@bp.post("/g/<slug>/chat/messages/<int:message_id>/remove")
@login_required
def remove(slug: str, message_id: int):
    group = _load_moderated(slug)
    services.remove_message(current_user, group, message_id)
    return _moderation_done(group, _("The message was removed."), f"message-{message_id}")


@bp.post("/g/<slug>/chat/mute")
@login_required
def mute(slug: str):
    group = _load_moderated(slug)
    form = MuteForm()
    try:
        mute = services.mute_member(current_user, group, form.user_id.data or 0,
                                    form.minutes.data if form.minutes.validate(form) else 0)
    except InvalidInput as error:
        return _moderation_failed(group, " ".join(str(m) for m in error.errors.values()))
    return _moderation_done(group, _("%(name)s cannot write in the chat until %(time)s.",
                                     name=mute.user.name,
                                     time=format_datetime(mute.until, "short")))


@bp.post("/g/<slug>/chat/mute/<int:user_id>/lift")
@login_required
def unmute(slug: str, user_id: int):
    group = _load_moderated(slug)
    services.unmute_member(current_user, group, user_id)
    return _moderation_done(group, _("The member can write in the chat again."))


@bp.post("/g/<slug>/chat/slow-mode")
@login_required
def slow_mode(slug: str):
    group = _load_moderated(slug)
    form = SlowModeForm()
    try:
        services.set_slow_mode(current_user, group,
                               form.seconds.data if form.seconds.validate(form) else -1)
    except InvalidInput as error:
        return _moderation_failed(group, " ".join(str(m) for m in error.errors.values()))
    seconds = form.seconds.data
    return _moderation_done(group, _("Slow mode is off.") if not seconds else
                            _("Slow mode is on: one message every %(n)d seconds per member.",
                              n=seconds))


@bp.post("/g/<slug>/chat/thread")
@login_required
def promote(slug: str):
    """Continue the selected messages as a thread."""
    group = load_group(slug)
    if not can_participate(current_user, group):
        abort(403)
    form = PromoteForm()
    if form.validate_on_submit():
        try:
            thread = services.promote_to_thread(current_user, group, form.message_ids.data,
                                                form.title.data or "", form.client_token.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("The conversation continues in this thread."), "success")
            return redirect(url_for("discussions.thread", slug=slug, thread_id=thread.id))
    elif not form.errors:
        form.form_errors.append(_("The form had expired. Please send it again."))
    return _render(group, promote_form=form)


# --- helpers for other features' templates ---------------------------------------------------


@bp.app_context_processor
def chat_helpers():
    def chat_transcript(workshop):
        """The session's chat by day, for the session page (read once per page)."""
        cache = g.setdefault("chat_transcripts", {})
        if workshop.id not in cache:
            cache[workshop.id] = services.transcript(current_user, workshop)
        return cache[workshop.id]

    def chat_mute_choices():
        return MUTE_OPTIONS

    def chat_my_handle() -> str:
        return handle_for(current_user.name) if current_user.is_authenticated else ""

    def chat_time_zone() -> str:
        return str(get_timezone())

    def chat_may_change(message) -> bool:
        """The reader may still edit or delete this message of theirs (a short while)."""
        return services.may_change_own(current_user, message)

    def chat_rows(messages, dividers: bool = True):
        """The messages with day dividers and groups (forum/chat/layout.py), in the reader's
        time zone and language."""
        zone = get_timezone()
        return layout.rows(messages, zone, get_locale(), datetime.now(zone).date(),
                           dividers=dividers)

    return {"chat_transcript": chat_transcript, "new_chat_client_id": _new_client_id,
            "chat_mute_choices": chat_mute_choices, "chat_notice_kind": MessageKind.THREAD_NOTICE,
            "chat_my_handle": chat_my_handle, "chat_time_zone": chat_time_zone,
            "chat_rows": chat_rows, "chat_may_change": chat_may_change}
