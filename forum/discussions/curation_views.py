"""Moderators curating a thread: rename, close/reopen, merge, split, mark the conclusion.

Routes on the `discussions` blueprint. Plain forms, no JavaScript needed: success redirects to
the thread with a message; a failed form shows the thread page again (400) with what was typed
and the reason next to the field.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts.forms import EmptyForm
from forum.discussions import curation, services
from forum.discussions.forms import (
    CloseThreadForm,
    MergeThreadForm,
    RenameThreadForm,
    ReopenThreadForm,
    ReplyForm,
    SplitThreadForm,
)
from forum.discussions.thread_page import (
    bp,
    load_thread,
    render_thread,
    selected_post_ids,
)
from forum.errors import InvalidInput
from forum.forms import apply_errors
from forum.groups.policy import can_moderate_group
from forum.ids import query_id
from forum.workshops.forms import workshop_choices


def _load(slug: str, thread_id: int):
    group, thread = load_thread(slug, thread_id)
    if not can_moderate_group(current_user, group):
        abort(403)
    return group, thread


def _page() -> int:
    return request.form.get("page", type=query_id) or 1


def _back(group, thread, message: str):
    flash(message, "success")
    return redirect(url_for("discussions.thread", slug=group.slug, thread_id=thread.id,
                            page=_page()))


def _again(group, thread, name: str, form):
    """The thread page with the failed form open and filled in."""
    view = services.read_thread(current_user, thread, _page())
    reply_form = ReplyForm(formdata=None)
    return render_thread(group, view, reply_form, status=400, curation_forms={name: form})


def _submit(group, thread, name: str, form, action, done: str):
    """Run the curation `action` for a valid form: back to the thread with `done`, or the
    thread page again with the form filled in and the reasons shown."""
    if form.validate_on_submit():
        try:
            action()
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            return _back(group, thread, done)
    return _again(group, thread, name, form)


@bp.post("/g/<slug>/t/<int:thread_id>/rename")
@login_required
def rename_thread(slug: str, thread_id: int):
    group, thread = _load(slug, thread_id)
    form = RenameThreadForm(prefix="rename")
    return _submit(group, thread, "rename", form, lambda: curation.rename_thread(
        current_user, thread, form.title.data or "", form.reason.data or ""),
        _("The thread was renamed."))


@bp.post("/g/<slug>/t/<int:thread_id>/close")
@login_required
def close_thread(slug: str, thread_id: int):
    group, thread = _load(slug, thread_id)
    form = CloseThreadForm(prefix="close")
    return _submit(group, thread, "close", form, lambda: curation.close_thread(
        current_user, thread, form.summary.data or ""),
        _("The thread is closed; the summary is at the top."))


@bp.post("/g/<slug>/t/<int:thread_id>/reopen")
@login_required
def reopen_thread(slug: str, thread_id: int):
    group, thread = _load(slug, thread_id)
    form = ReopenThreadForm(prefix="reopen")
    return _submit(group, thread, "reopen", form, lambda: curation.reopen_thread(
        current_user, thread, form.reason.data or ""), _("The thread is open again."))


@bp.post("/g/<slug>/t/<int:thread_id>/merge")
@login_required
def merge_thread(slug: str, thread_id: int):
    group, thread = _load(slug, thread_id)
    form = MergeThreadForm(prefix="merge")
    if form.validate_on_submit():
        try:
            reference = (form.target.data or "").strip()
            if reference:
                target = curation.find_thread_ref(current_user, thread, reference)
            elif form.target_id.data:
                target = curation.find_thread_ref(current_user, thread, str(form.target_id.data))
            else:
                raise InvalidInput({"target_id": _("Choose the thread to merge this one into.")})
            target = curation.merge_threads(current_user, thread, target, form.reason.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("The threads were merged: the posts of both are here, in time order."),
                  "success")
            return redirect(url_for("discussions.thread", slug=slug, thread_id=target.id,
                                    page=1))
    return _again(group, thread, "merge", form)


@bp.post("/g/<slug>/t/<int:thread_id>/split")
@login_required
def split_thread(slug: str, thread_id: int):
    group, thread = _load(slug, thread_id)
    form = SplitThreadForm(prefix="split")
    form.workshop_number.choices = workshop_choices(current_user, group, _("— no session —"))
    if form.validate_on_submit():
        try:
            new = curation.split_thread(current_user, thread, selected_post_ids(),
                                        title=form.title.data or "",
                                        workshop_number=form.workshop_number.data or None,
                                        reason=form.reason.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("The chosen posts are now a new thread."), "success")
            return redirect(url_for("discussions.thread", slug=slug, thread_id=new.id, page=1))
    return _again(group, thread, "split", form)


@bp.post("/g/<slug>/t/<int:thread_id>/conclusion")
@login_required
def set_conclusion(slug: str, thread_id: int):
    group, thread = _load(slug, thread_id)
    if EmptyForm().validate_on_submit():
        post = None
        if (post_id := request.form.get("post_id", type=query_id)):
            post = next(iter(services.thread_posts(thread, [post_id])), None)
            if post is None:
                abort(400)
        try:
            curation.set_conclusion(current_user, thread, post)
        except InvalidInput as error:
            for message in error.errors.values():
                flash(message, "error")
        else:
            flash(_("The conclusion is marked at the top of the thread.") if post else
                  _("The post is no longer marked as the conclusion."), "success")
    target = url_for("discussions.thread", slug=slug, thread_id=thread.id, page=_page())
    return redirect(target)
