"""The dashboard of my groups and a group's own pages."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from forum.errors import NotFound
from forum.groups import services
from forum.groups.models import Group
from forum.workshops import services as workshop_services

bp = Blueprint("groups", __name__)


def load_group(slug: str) -> Group:
    """The group for the signed-in user, or a 404 that says nothing about closed groups."""
    try:
        return services.get_group_for(current_user, slug)
    except NotFound:
        abort(404)


@bp.get("/")
def dashboard():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return render_template("groups/dashboard.html", roles=services.ROLES,
                           summaries=services.list_groups_for(current_user))


@bp.get("/g/<slug>/")
@login_required
def detail(slug: str):
    group = load_group(slug)
    members = services.list_members(current_user, group)
    moderators = [m for m in members if m.role == "moderator"]
    return render_template("groups/detail.html", group=group, moderators=moderators,
                           timeline=workshop_services.timeline(current_user, group),
                           member_count=len(members), roles=services.ROLES,
                           kinds=services.GROUP_KINDS)


@bp.get("/g/<slug>/members")
@login_required
def members(slug: str):
    group = load_group(slug)
    return render_template("groups/members.html", group=group,
                           members=services.list_members(current_user, group),
                           roles=services.ROLES)
