"""Search everything I may see (`/search`), or one group (`/g/<slug>/search`): a GET form
with filters by kind, group, session and author that works without JavaScript."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from forum.groups.access import load_group
from forum.ids import query_id
from forum.search import services

bp = Blueprint("search", __name__)
PER_PAGE = 20
MAX_PAGE = services.MAX_MATCHES // PER_PAGE


def _results(group=None):
    query = request.args.get("q", "")[:200]
    if group is None and request.args.get("group"):
        group = load_group(request.args["group"][:80])  # 404 when not mine: nothing learnt
    kind = request.args.get("kind") if request.args.get("kind") in services.KINDS else None
    choices = services.filter_choices(current_user, group)
    number = request.args.get("session", type=query_id)
    workshop = next((choice for choice in choices.sessions if choice.value == number), None)
    author_id = request.args.get("author", type=query_id) if group is not None else None
    page = min(max(request.args.get("page", 1, type=query_id), 1), MAX_PAGE)
    results = services.search(current_user, query, group=group, kind=kind,
                              workshop_id=workshop.id if workshop else None,
                              author_id=author_id, limit=PER_PAGE + 1,
                              offset=(page - 1) * PER_PAGE)
    filters = {"q": query or None, "kind": kind, "group": group.slug if group else None,
               "session": workshop.value if workshop else None, "author": author_id}
    return render_template(
        "search/results.html", group=group, query=query, page=page, kind=kind,
        workshop=workshop, author_id=author_id, results=results,
        hits=results.hits[:PER_PAGE], more=len(results.hits) > PER_PAGE and page < MAX_PAGE,
        choices=choices, filters=filters,
        per_page=PER_PAGE, kinds=services.KINDS, max_matches=services.MAX_MATCHES)


@bp.get("/g/<slug>/search")
@login_required
def group_search(slug: str):
    return _results(load_group(slug))


@bp.get("/search")
@login_required
def everywhere():
    return _results()
