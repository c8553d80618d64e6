"""The thread page as every route shows it: the blueprint of the discussions, loading a thread
for the signed-in person, and rendering thread.html with the reply form, the moderator tools
and the curation header. views.py, curation_views.py and live_views.py all render through it
(none imports another); the application factory imports the three so their routes exist."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from forum.accounts.forms import EmptyForm
from forum.discussions import curation, services
from forum.discussions.forms import (
    CloseThreadForm,
    HidePostForm,
    MergeThreadForm,
    MoveThreadForm,
    RenameThreadForm,
    ReopenThreadForm,
    SplitThreadForm,
)
from forum.groups.access import load_group
from forum.groups.policy import can_moderate_group
from forum.notifications import inbox
from forum.text import plain_text
from forum.workshops.forms import workshop_choices

bp = Blueprint("discussions", __name__)


def load_thread(slug: str, thread_id: int):
    group = load_group(slug)
    return group, services.get_thread_for(current_user, group, thread_id)


def render_thread(group, view, form, reply_to=None, preview=None, status=200,
                   curation_forms=None):
    move_form = MoveThreadForm(formdata=None)
    move_form.workshop_number.choices = workshop_choices(current_user, group, _("— no session —"))
    move_form.workshop_number.data = view.thread.workshop.number if view.thread.workshop else 0
    return render_template(
        "discussions/thread.html", group=group, view=view, thread=view.thread, form=form,
        reply_to=reply_to, preview=preview, reactions=services.REACTIONS,
        action_form=EmptyForm(), hide_form=HidePostForm(formdata=None), move_form=move_form,
        watch_level=inbox.thread_watch_level(current_user, view.thread),
        body_of=lambda post: services.visible_body(current_user, post),
        **curation_context(group, view.thread, curation_forms or {})), status


CONCLUSION_EXCERPT_CHARS = 300


def curation_context(group, thread, given: dict) -> dict:
    """What thread.html needs for the header (everyone) and the moderator tools."""
    header = curation.thread_header(current_user, thread)
    context = {
        "header": header,
        "conclusion_excerpt": plain_text(header.conclusion.body)[:CONCLUSION_EXCERPT_CHARS]
        if header.conclusion else "",
        "can_curate": False,
    }
    if not can_moderate_group(current_user, group) or thread.merged_into_id is not None:
        return context
    merge_form = given.get("merge") or MergeThreadForm(prefix="merge", formdata=None)
    merge_form.target_id.choices = [(0, _("— choose a thread —")),
                                    *curation.merge_candidates(current_user, thread)]
    split_form = given.get("split") or SplitThreadForm(
        prefix="split", formdata=None,
        workshop_number=thread.workshop.number if thread.workshop else 0)
    split_form.workshop_number.choices = workshop_choices(current_user, group, _("— no session —"))
    context.update(
        can_curate=True,
        open_tool=next(iter(given), None),
        rename_form=given.get("rename") or RenameThreadForm(prefix="rename", formdata=None,
                                                            title=thread.title),
        close_form=given.get("close") or CloseThreadForm(prefix="close", formdata=None),
        reopen_form=given.get("reopen") or ReopenThreadForm(prefix="reopen", formdata=None),
        merge_form=merge_form,
        split_form=split_form,
        split_selected=set(selected_post_ids()) if "split" in given else set(),
    )
    return context


def selected_post_ids() -> list[int]:
    return [int(i) for i in request.form.getlist("post_ids") if i.isdigit()]
