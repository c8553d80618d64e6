"""Threads, posts, reactions, watching, notifications."""

from __future__ import annotations

import secrets

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts.forms import EmptyForm
from forum.discussions import curation, history, services
from forum.discussions.forms import (
    EditPostForm,
    HidePostForm,
    ReplyForm,
    ThreadForm,
)
from forum.discussions.thread_page import bp, load_thread, render_thread
from forum.errors import InvalidInput
from forum.forms import apply_errors
from forum.groups.access import load_group
from forum.groups.policy import can_edit_post, can_participate
from forum.i18n import post_time
from forum.ids import query_id
from forum.materials import services as material_services
from forum.notifications import inbox
from forum.notifications.mentions import mention_suggestions
from forum.workshops import services as workshop_services
from forum.workshops.forms import workshop_choices


def _post(slug: str, post_id: int):
    group = load_group(slug)
    return group, services.get_post_for(current_user, group, post_id)


def _post_url(post) -> str:
    return url_for("discussions.thread", slug=post.thread.group.slug, thread_id=post.thread_id,
                   page=services.page_of(post.number), _anchor=f"post-{post.id}")


def _quote(post) -> str:
    """The post as a Markdown quote, headed by its author's name linked to the post."""
    author = post.author.name if post.author else _("someone")
    author = author.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    link = url_for("discussions.post_link", slug=post.thread.group.slug, post_id=post.id)
    quoted = "\n".join(f"> {line}" for line in post.body.splitlines())
    return f"[{author}]({link}):\n{quoted}\n\n"


def _thread_form(group) -> ThreadForm:
    form = ThreadForm()
    form.workshop_number.choices = workshop_choices(current_user, group, _("— no session —"))
    materials = material_services.list_materials(current_user, group, limit=500)
    form.material_ids.choices = [(m.id, m.title) for m in materials]
    form.material_ids.notes = {m.id: _("Session %(number)d", number=m.workshop.number)
                               for m in materials if m.workshop}
    return form


def _render_new_thread(group, form, preview=None, draft=None):
    return render_template("discussions/new_thread.html", group=group, form=form,
                           preview=preview, draft=draft,
                           draft_time=post_time(draft.saved_at) if draft else None), \
        400 if form.errors else 200


def _save_thread_draft(group, form):
    """The new-thread form as the actor's draft in the group (None: nothing written)."""
    return services.save_draft(current_user, group, body=form.body.data or "",
                               title=form.title.data or "",
                               workshop_number=form.workshop_number.data or None,
                               material_ids=form.material_ids.data or [])


@bp.route("/g/<slug>/t/new", methods=["GET", "POST"])
@login_required
def new_thread(slug: str):
    group = load_group(slug)
    if not can_participate(current_user, group):
        abort(403)
    form = _thread_form(group)
    preview = draft = None
    if request.method == "GET":
        recent = workshop_services.current_or_recent_workshop(group)
        session = request.args.get("session", type=query_id)
        material_id = request.args.get("material", type=query_id)
        draft = services.draft_for(current_user, group)
        if draft is not None:  # what the person was writing, on this device or another
            form.title.data, form.body.data = draft.title, draft.body
        form.workshop_number.data = session or (
            draft.workshop_number if draft and draft.workshop_number else None) or (
            recent.number if recent else 0)
        form.material_ids.data = [material_id] if material_id else (
            list(draft.material_ids) if draft else [])
        if material_id:
            material = next((m for m in material_services.list_materials(
                current_user, group, limit=500) if m.id == material_id), None)
            if material is not None and not form.title.data:
                form.title.data = _("Review: %(title)s", title=material.title)
        form.client_token.data = secrets.token_urlsafe(16)
    elif form.validate_on_submit():
        if request.form.get("preview"):
            preview = services.render_preview(form.body.data or "")
            try:  # the preview keeps the draft too
                draft = _save_thread_draft(group, form)
            except InvalidInput as error:
                apply_errors(form, error)
        else:
            try:
                thread = services.start_thread(
                    current_user, group, title=form.title.data or "", body=form.body.data or "",
                    workshop_number=form.workshop_number.data or None,
                    material_ids=form.material_ids.data or [],
                    client_token=form.client_token.data or None)
            except InvalidInput as error:
                apply_errors(form, error)
            else:
                return redirect(url_for("discussions.thread", slug=slug, thread_id=thread.id))
    return _render_new_thread(group, form, preview, draft)


@bp.get("/g/<slug>/t/<int:thread_id>")
@login_required
def thread(slug: str, thread_id: int):
    group = load_group(slug)
    # The thread, its materials and the reader's read mark and watch level: one query.
    thread, reader = services.get_thread_for_reader(current_user, group, thread_id)
    # A merged thread's old URL goes to the thread it was merged into.
    if (merged_into := curation.resolve_merged(current_user, thread)) is not None:
        return redirect(url_for("discussions.thread", slug=slug, thread_id=merged_into.id), 301)
    page = request.args.get("page", type=query_id)
    if page is None:  # open at the first unread post
        read = reader.last_read or 0
        number = min(read + 1, thread.last_number) if thread.last_number else 1
        target = services.page_of(number)
        if target > 1 or number > 1:
            post_id = services.post_id_at(thread, number)
            return redirect(url_for("discussions.thread", slug=slug, thread_id=thread.id,
                                    page=target, _anchor=f"post-{post_id}" if post_id else None))
        page = 1
    view = services.read_thread(current_user, thread, page, reader.last_read, mark=False)
    form = ReplyForm(formdata=None)
    form.client_token.data = secrets.token_urlsafe(16)
    reply_to = None
    # The reader's draft of a reply (read along with the thread): back in the editor.
    if (draft := reader.draft) is not None:
        form.body.data = draft.body
        if draft.reply_to_id:
            reply_to = next(iter(services.thread_posts(thread, [draft.reply_to_id])), None)
            form.reply_to_id.data = reply_to.id if reply_to is not None else None
    if (reply_id := request.args.get("reply_to", type=query_id)):
        reply_to = next((p for p in services.thread_posts(thread, [reply_id])), None)
        if reply_to is not None:
            form.reply_to_id.data = reply_to.id
    if (quote_id := request.args.get("quote", type=query_id)):
        quoted = next((p for p in services.thread_posts(thread, [quote_id])), None)
        if quoted is not None and quoted.visible:
            typed = form.body.data or ""
            form.body.data = (typed.rstrip() + "\n\n" if typed.strip() else "") + _quote(quoted)
            form.reply_to_id.data = quoted.id
            reply_to = quoted
    page = render_thread(group, view, form, reply_to, reader=reader, draft=draft)
    if view.posts:  # written once the page is made: committing expires what it shows
        services.mark_read(current_user, thread, view.posts[-1].number, reader.last_read)
    return page


@bp.post("/g/<slug>/t/<int:thread_id>/reply")
@login_required
def reply(slug: str, thread_id: int):
    group, thread = load_thread(slug, thread_id)
    # A reply sent to a merged thread goes to the target.
    thread = curation.resolve_merged(current_user, thread) or thread
    form = ReplyForm()
    reply_to_id = _reply_to_id(form)
    reply_to = next(iter(services.thread_posts(thread, [reply_to_id])), None) \
        if reply_to_id else None
    last_page = services.page_of(thread.last_number)
    # "Quote" and "Reply" on a post are buttons of this form (without JavaScript): the page
    # comes back with what was typed kept, the quote added below it and the reply's target set.
    quote_id, answer_id = (request.form.get("quote", type=query_id),
                           request.form.get("answer", type=query_id))
    if quote_id or answer_id:
        chosen = next(iter(services.thread_posts(thread, [quote_id or answer_id])), None)
        typed = form.body.data or ""
        if chosen is not None and chosen.visible:
            reply_to = chosen
            form.reply_to_id.data = str(chosen.id)
            if quote_id:
                form.body.data = (typed.rstrip() + "\n\n" if typed.strip() else "") + \
                    _quote(chosen)
        page = request.args.get("page", type=query_id) or last_page
        view = services.read_thread(current_user, thread, page, mark=False)
        return render_thread(group, view, form, reply_to, draft=_keep_reply(group, thread, form))
    if form.validate_on_submit():
        if request.form.get("preview"):
            view = services.read_thread(current_user, thread, last_page)
            return render_thread(group, view, form, reply_to,
                                 preview=services.render_preview(form.body.data or ""),
                                 draft=_keep_reply(group, thread, form))
        try:
            post = services.reply(current_user, thread, form.body.data or "",
                                  reply_to_id=reply_to_id,
                                  client_token=form.client_token.data or None)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            return redirect(_post_url(post))
    view = services.read_thread(current_user, thread, last_page)
    return render_thread(group, view, form, reply_to, status=400)


def _reply_to_id(form) -> int | None:
    value = form.reply_to_id.data
    return int(value) if isinstance(value, int) or (value or "").isdigit() else None


def _keep_reply(group, thread, form):
    """The reply form's text as the reader's draft, when the page comes back without the
    reply being sent (Quote or Reply without JavaScript, Preview): nothing typed is lost.
    None when nothing is kept (nothing written, or the text is too long to keep)."""
    try:
        return services.save_draft(current_user, group, thread, body=form.body.data or "",
                                   reply_to_id=_reply_to_id(form))
    except InvalidInput:
        return None


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _draft_saved(saved):
    """The answer of a saved draft: JSON for drafts.js (with the note to show), else a flash."""
    if _wants_json():
        if saved is None:
            return jsonify(saved=False)
        return jsonify(saved=True, saved_at=saved.saved_at.isoformat(),
                       note=_("Draft saved %(when)s", when=post_time(saved.saved_at).label))
    flash(_("Your draft is saved: it is here when you come back, on any device.")
          if saved is not None else _("There was nothing to keep: the draft is empty."),
          "success")
    return None


def _draft_refused(error: InvalidInput):
    return jsonify(errors={name: str(message) for name, message in error.errors.items()}), 400


@bp.post("/g/<slug>/t/<int:thread_id>/draft")
@login_required
def save_reply_draft(slug: str, thread_id: int):
    """Keep the reply being written (the "Save draft" button; drafts.js as one types)."""
    group, thread = load_thread(slug, thread_id)
    form = ReplyForm()
    page = request.args.get("page", type=query_id) or services.page_of(thread.last_number)
    try:
        saved = services.save_draft(current_user, group, thread, body=form.body.data or "",
                                    reply_to_id=_reply_to_id(form))
    except InvalidInput as error:
        if _wants_json():
            return _draft_refused(error)
        apply_errors(form, error)
        reply_to = next(iter(services.thread_posts(thread, [_reply_to_id(form)])), None) \
            if _reply_to_id(form) else None
        view = services.read_thread(current_user, thread, page, mark=False)
        return render_thread(group, view, form, reply_to, status=400)
    return _draft_saved(saved) or redirect(url_for(
        "discussions.thread", slug=slug, thread_id=thread.id, page=page, _anchor="reply"))


@bp.post("/g/<slug>/t/<int:thread_id>/draft/discard")
@login_required
def discard_reply_draft(slug: str, thread_id: int):
    group, thread = load_thread(slug, thread_id)
    services.discard_draft(current_user, group, thread)
    if _wants_json():
        return jsonify(discarded=True)
    flash(_("The draft is discarded."), "success")
    page = request.args.get("page", type=query_id) or services.page_of(thread.last_number)
    return redirect(url_for("discussions.thread", slug=slug, thread_id=thread.id, page=page,
                            _anchor="reply"))


@bp.post("/g/<slug>/t/new/draft")
@login_required
def save_thread_draft(slug: str):
    """Keep the new thread being written: title, text, session and materials."""
    group = load_group(slug)
    form = _thread_form(group) if not _wants_json() else ThreadForm()
    try:
        saved = _save_thread_draft(group, form)
    except InvalidInput as error:
        if _wants_json():
            return _draft_refused(error)
        apply_errors(form, error)
        return _render_new_thread(group, form)
    return _draft_saved(saved) or redirect(url_for("discussions.new_thread", slug=slug))


@bp.post("/g/<slug>/t/new/draft/discard")
@login_required
def discard_thread_draft(slug: str):
    group = load_group(slug)
    services.discard_draft(current_user, group)
    if _wants_json():
        return jsonify(discarded=True)
    flash(_("The draft is discarded."), "success")
    return redirect(url_for("discussions.new_thread", slug=slug))


@bp.get("/g/<slug>/p/<int:post_id>/quote")
@login_required
def quote_source(slug: str, post_id: int):
    """The quote of a post as Markdown, for the editor to insert without a reload."""
    group, post = _post(slug, post_id)
    if not post.visible:
        abort(404)
    return jsonify(text=_quote(post), post_id=post.id,
                   author=post.author.name if post.author else _("former member"))


@bp.post("/g/<slug>/preview")
@login_required
def preview(slug: str):
    """A Markdown text as the forum will show it (the one sanitiser), for Preview in place."""
    group = load_group(slug)
    if not can_participate(current_user, group):
        abort(403)
    return jsonify(html=services.render_preview(request.form.get("body", "")))


@bp.route("/g/<slug>/p/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(slug: str, post_id: int):
    group, post = _post(slug, post_id)
    if not can_edit_post(current_user, group, post):
        abort(403)
    form = EditPostForm(obj=post if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.edit_post(current_user, post, form.body.data or "",
                               redact=bool(form.redact.data))
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            return redirect(_post_url(post))
    return render_template("discussions/edit_post.html", group=group, post=post, form=form)


@bp.get("/g/<slug>/p/<int:post_id>/history")
@login_required
def post_history(slug: str, post_id: int):
    group, post = _post(slug, post_id)
    return render_template("discussions/history.html", group=group, post=post,
                           edits=history.post_edits(current_user, post),
                           render=services.render_preview)


@bp.get("/g/<slug>/p/<int:post_id>")
@login_required
def post_link(slug: str, post_id: int):
    _group, post = _post(slug, post_id)
    return redirect(_post_url(post))


@bp.post("/g/<slug>/p/<int:post_id>/delete")
@login_required
def delete_post(slug: str, post_id: int):
    _group, post = _post(slug, post_id)
    if EmptyForm().validate_on_submit():
        services.delete_post(current_user, post)
        flash(_("The post was removed."), "success")
    return redirect(_post_url(post))


@bp.post("/g/<slug>/p/<int:post_id>/hide")
@login_required
def hide_post(slug: str, post_id: int):
    _group, post = _post(slug, post_id)
    form = HidePostForm()
    if form.validate_on_submit():
        try:
            if request.form.get("unhide"):
                services.unhide_post(current_user, post)
                flash(_("The post is visible again."), "success")
            else:
                services.hide_post(current_user, post, form.reason.data or "")
                flash(_("The post is hidden."), "success")
        except InvalidInput as error:
            for message in error.errors.values():
                flash(message, "error")
    return redirect(_post_url(post))


@bp.post("/g/<slug>/p/<int:post_id>/react")
@login_required
def react(slug: str, post_id: int):
    _group, post = _post(slug, post_id)
    if EmptyForm().validate_on_submit():
        try:
            services.toggle_reaction(current_user, post, request.form.get("kind", ""))
        except InvalidInput:
            abort(400)
    return redirect(_post_url(post))


@bp.post("/g/<slug>/t/<int:thread_id>/moderate")
@login_required
def moderate(slug: str, thread_id: int):
    _group, thread = load_thread(slug, thread_id)
    action = request.form.get("action")
    if EmptyForm().validate_on_submit():
        try:
            if action in ("pin", "unpin"):
                services.set_pinned(current_user, thread, action == "pin")
            elif action in ("lock", "unlock"):
                services.set_locked(current_user, thread, action == "lock")
            elif action == "move":
                services.move_to_workshop(current_user, thread,
                                         request.form.get("workshop_number", type=query_id) or None)
            else:
                abort(400)
        except InvalidInput as error:
            for message in error.errors.values():
                flash(message, "error")
        else:
            flash(_("Done."), "success")
    return redirect(url_for("discussions.thread", slug=slug, thread_id=thread.id, page=1))


@bp.post("/g/<slug>/t/<int:thread_id>/watch")
@login_required
def watch_thread(slug: str, thread_id: int):
    _group, thread = load_thread(slug, thread_id)
    if EmptyForm().validate_on_submit():
        inbox.set_thread_watch(current_user, thread, request.form.get("level") or None)
        flash(_("Your notification setting for this thread is saved."), "success")
    return redirect(url_for("discussions.thread", slug=slug, thread_id=thread.id, page=1))


@bp.post("/g/<slug>/watch")
@login_required
def watch_group(slug: str):
    group = load_group(slug)
    if EmptyForm().validate_on_submit():
        inbox.set_group_watch(current_user, group, request.form.get("level") or None)
        flash(_("Your notification setting for this group is saved."), "success")
    return redirect(url_for("groups.detail", slug=slug))


@bp.get("/g/<slug>/mentions")
@login_required
def mentions(slug: str):
    """JSON suggestions for the @mention autocomplete."""
    group = load_group(slug)
    return jsonify(mention_suggestions(current_user, group, request.args.get("q", "")[:50]))

