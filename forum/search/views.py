"""Search in a group, or in all my groups."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from forum.groups.access import load_group
from forum.search import services

bp = Blueprint("search", __name__)
PER_PAGE = 20


def _results(group=None):
    query = request.args.get("q", "")[:200]
    page = max(request.args.get("page", 1, type=int), 1)
    results = services.search(current_user, query, group=group, limit=PER_PAGE + 1,
                              offset=(page - 1) * PER_PAGE)
    return render_template("search/results.html", group=group, query=query, page=page,
                           hits=results.hits[:PER_PAGE], more=len(results.hits) > PER_PAGE)


@bp.get("/g/<slug>/search")
@login_required
def group_search(slug: str):
    return _results(load_group(slug))


@bp.get("/search")
@login_required
def everywhere():
    return _results()
