"""The digest as a page: what happened in a group since a session ("since session n")."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from forum.groups.access import load_group
from forum.mailings import digest

bp = Blueprint("mailings", __name__)


@bp.get("/g/<slug>/since/<int:number>")
@login_required
def since(slug: str, number: int):
    group = load_group(slug)
    content = digest.build_since(current_user, group, number)
    return render_template("notifications/since.html", group=group, digest=content)
