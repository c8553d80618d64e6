"""The thread page as every route shows it: the blueprint of the discussions, loading a thread
for the signed-in person, and rendering thread.html with the reply form, the moderator tools
and the curation header. views.py, curation_views.py and live_views.py all render through it
(none imports another); the application factory imports the three so their routes exist.

The page costs little per post: what the reader may do is decided once per page (and, where it
depends on the post, once per kind of post: `ReaderRules`), links are built once with a
placeholder id and filled in per post (`UrlPattern`), and the template gets one `PostRow` per
post with everything it shows already worked out (no `policy.can_*`, `url_for` or
`csrf_token()` per post)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from forum.discussions import curation, services
from forum.discussions.forms import (
    CloseThreadForm,
    MergeThreadForm,
    MoveThreadForm,
    RenameThreadForm,
    ReopenThreadForm,
    SplitThreadForm,
)
from forum.fragments import CSRF_PLACEHOLDER
from forum.groups.access import load_group
from forum.groups.policy import (
    can_delete_post,
    can_edit_post,
    can_moderate_group,
    can_participate,
    can_plan_agenda,
    can_post_in_thread,
    can_report,
    can_see_hidden_post,
    can_see_post_history,
)
from forum.i18n import PostTime, post_time
from forum.ids import parse_ids
from forum.links import UrlPattern
from forum.notifications import inbox
from forum.text import AVATAR_COLOURS, initials, plain_text
from forum.workshops.forms import workshop_choices

bp = Blueprint("discussions", __name__)
_THREAD_POLLS = "forum_thread_polls"


def show_polls_with(app, polls_of_thread) -> None:
    """The polls feature (a layer above) lists a thread's polls on its page:
    `polls_of_thread(actor, group, thread)` returns what the template "polls/_thread.html"
    shows."""
    app.extensions[_THREAD_POLLS] = polls_of_thread


def load_thread(slug: str, thread_id: int):
    group = load_group(slug)
    return group, services.get_thread_for(current_user, group, thread_id)


def render_thread(group, view, form, reply_to=None, preview=None, status=200,
                   curation_forms=None, reader=None, draft=None):
    """`reader`: the reader's watch level and whether the thread has notices, when the caller
    read them along with the thread (services.get_thread_for_reader); `draft`: the reader's
    saved draft of a reply (services.SavedDraft) when the editor shows it."""
    actor = current_user._get_current_object()
    rules = ReaderRules(actor, group, view.thread)
    move_form = sessions = None
    if rules.moderate:  # the session choices cost a query: only moderators see the forms
        sessions = workshop_choices(actor, group, _("— no session —"))
        move_form = MoveThreadForm(formdata=None)
        move_form.workshop_number.choices = sessions
        move_form.workshop_number.data = (view.thread.workshop.number if view.thread.workshop
                                          else 0)
    polls_of_thread = current_app.extensions.get(_THREAD_POLLS)
    return render_template(
        "discussions/thread.html", group=group, view=view, thread=view.thread, form=form,
        polls=polls_of_thread(actor, group, view.thread) if polls_of_thread else None,
        reply_to=reply_to, preview=preview, may=rules,
        draft=draft, draft_time=post_time(draft.saved_at) if draft is not None else None,
        rows=post_rows(actor, group, view, rules),
        csrf_placeholder=CSRF_PLACEHOLDER,
        move_form=move_form, watch_level=reader.watch_level if reader is not None
        else inbox.thread_watch_level(actor, view.thread),
        **curation_context(group, view.thread, curation_forms or {}, sessions,
                           has_notices=reader is None or reader.has_notices)), status


# --- the page's view model ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostActions:
    """What the reader may do with one post (the same for every post of its kind)."""

    edit: bool
    delete: bool
    history: bool
    see_hidden: bool
    report: bool


class ReaderRules:
    """What the reader may do on this thread page, decided once per page; what depends on the
    post, once per kind of post. The answers are the policy's own (`forum.groups.policy`),
    asked of the first post of each kind: the post rules read only whether the reader wrote
    the post, whether it is removed and whether it is hidden, so those make the kind (a rule
    that came to read more of the post must add it to `_kind`;
    tests/discussions/test_thread_page_cost.py compares with the policy post by post)."""

    __slots__ = ("actor_id", "react", "reply", "report", "moderate", "plan_agenda", "_rules",
                 "_kinds")

    def __init__(self, actor, group, thread):
        self.actor_id = actor.id
        self.react = can_participate(actor, group)
        self.reply = can_post_in_thread(actor, group, thread)
        self.report = can_report(actor, group)
        self.moderate = can_moderate_group(actor, group)
        self.plan_agenda = can_plan_agenda(actor, group)
        self._rules = (actor, group)
        self._kinds: dict[tuple[bool, bool, bool], PostActions] = {}

    def _kind(self, post) -> tuple[bool, bool, bool]:
        return (post.author_id is not None and post.author_id == self.actor_id,
                post.deleted_at is not None, post.hidden_at is not None)

    def for_post(self, post) -> PostActions:
        kind = self._kind(post)
        actions = self._kinds.get(kind)
        if actions is None:
            actor, group = self._rules
            actions = self._kinds[kind] = PostActions(
                edit=can_edit_post(actor, group, post),
                delete=can_delete_post(actor, group, post),
                history=can_see_post_history(actor, group, post),
                see_hidden=can_see_hidden_post(actor, group, post),
                report=self.report and not kind[0])
        return actions


class ReactionButton(NamedTuple):
    kind: str
    label: str
    count: int
    mine: bool
    names: tuple[str, ...] = ()  # who reacted so, in the reader's alphabetical order


@dataclass(slots=True)
class PostRow:
    """One post as this reader sees it: its body (None: a placeholder instead), what the
    reader may do with it, and its links and labels, all worked out before rendering."""

    post: object
    html: str | None
    may: PostActions
    author: str
    initials: str  # the author's avatar: initials on one of AVATAR_COLOURS backgrounds
    colour: int
    replied_to: str  # the name of the author of the post this one answers ("" if none)
    when: PostTime
    first_unread: bool
    reactions: tuple[ReactionButton, ...]
    react_url: str
    link_url: str  # the post's own permalink route (for "in reply to")
    edit_url: str
    delete_url: str
    history_url: str
    report_url: str
    hide_url: str
    # What the post's rendered markup is kept under (forum.fragments): everything it shows;
    # None for moderators, whose tools on each post are not kept.
    piece_key: tuple | None = None


def _piece_key(scope: tuple, row: PostRow) -> tuple:
    """Everything thread.html shows of a post for a reader who is not a moderator: the row's
    own values and what the template reads of the post itself. A field the template comes to
    show must be added here (tests/discussions/test_thread_page_cost.py renders pages with
    and without kept pieces and compares them)."""
    post = row.post
    author = post.author
    return (scope, post.id, row.html, row.may, row.author, row.initials, row.colour,
            row.replied_to, row.when,
            row.first_unread, row.reactions, row.link_url,
            author.organisation.name if author and author.organisation else None,
            post.edited_at, post.deleted_at is not None, post.hidden_at is not None,
            post.hidden_reason, post.moderation_note, post.reply_to_id)


def post_rows(actor, group, view, rules: ReaderRules) -> list[PostRow]:
    slug, thread = group.slug, view.thread
    react = UrlPattern("discussions.react", "post_id", slug=slug)
    link = UrlPattern("discussions.post_link", "post_id", slug=slug)
    edit = UrlPattern("discussions.edit_post", "post_id", slug=slug)
    delete = UrlPattern("discussions.delete_post", "post_id", slug=slug)
    history = UrlPattern("discussions.post_history", "post_id", slug=slug)
    report = UrlPattern("moderation.report_post", "post_id", slug=slug)
    hide = UrlPattern("discussions.hide_post", "post_id", slug=slug)
    labels = [(kind, str(label)) for kind, label in services.REACTIONS.items()]
    former = _("former member")
    mine, counts_of, names_of = view.my_reactions, view.reactions, view.reacted_by
    rows = []
    for post in view.posts:
        may = rules.for_post(post)
        counts, names = counts_of.get(post.id, {}), names_of.get(post.id, {})
        author = post.author.name if post.author else former
        replied = post.reply_to
        post_id = post.id
        rows.append(PostRow(
            post=post, html=services.shown_body(post, may.see_hidden), may=may, author=author,
            initials=initials(post.author.name) if post.author else "?",
            colour=(post.author_id or 0) % AVATAR_COLOURS,
            replied_to=(replied.author.name if replied.author else former) if replied else "",
            when=post_time(post.created_at),
            first_unread=bool(view.first_unread) and post.number == view.first_unread,
            reactions=tuple(ReactionButton(kind, label, counts.get(kind, 0),
                                           (post_id, kind) in mine,
                                           tuple(sorted(names.get(kind, ()))))
                            for kind, label in labels),
            react_url=react(post_id),
            link_url=link(replied.id) if replied else "", edit_url=edit(post_id),
            delete_url=delete(post_id), history_url=history(post_id),
            report_url=report(post_id), hide_url=hide(post_id)))
    if not rules.moderate:
        # What is the same for every post of the page: language, time zone, the links' start
        # (slug, page), which buttons the page offers, which post is the conclusion.
        scope = ("post", str(get_locale()), str(get_timezone()), request.script_root, slug,
                 thread.id, view.page, rules.react, rules.reply, thread.conclusion_post_id)
        for row in rows:
            row.piece_key = _piece_key(scope, row)
    return rows


CONCLUSION_EXCERPT_CHARS = 300


def curation_context(group, thread, given: dict, sessions=None, has_notices=True) -> dict:
    """What thread.html needs for the header (everyone) and the moderator tools; `sessions`:
    the group's session choices when the caller has them already."""
    header = curation.thread_header(current_user, thread, has_notices)
    context = {
        "header": header,
        "conclusion_excerpt": plain_text(header.conclusion.body, CONCLUSION_EXCERPT_CHARS * 8)[
            :CONCLUSION_EXCERPT_CHARS]
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
    split_form.workshop_number.choices = sessions if sessions is not None else workshop_choices(
        current_user, group, _("— no session —"))
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
        # "Select posts" mode: the posts carry a checkbox for the split (a link turns it on;
        # a refused split keeps it on with the ticks).
        select_posts="split" in given or request.args.get("select") == "split",
    )
    return context


def selected_post_ids() -> list[int]:
    return parse_ids(request.form.getlist("post_ids"))
