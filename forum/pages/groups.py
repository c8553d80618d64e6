"""The dashboard of my groups and a group's own pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum.discussions import services as discussions
from forum.groups import services
from forum.groups.access import load_group
from forum.groups.policy import can_administer
from forum.ids import query_id
from forum.materials import services as material_services
from forum.notifications import inbox
from forum.pages.dashboard import dashboard_for
from forum.polls.services import waiting_for_vote
from forum.workshops import services as workshop_services

bp = Blueprint("groups", __name__)


@bp.get("/")
def dashboard():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return render_template("groups/dashboard.html", roles=services.ROLES,
                           cards=dashboard_for(current_user),
                           waiting_polls=waiting_for_vote(current_user, limit=10),
                           may_create_group=can_administer(current_user))


@bp.get("/g/<slug>/")
@login_required
def detail(slug: str):
    """The group's home: its threads (filtered by session, material, unread) and sessions."""
    group = load_group(slug)
    workshop = material = None
    if (number := request.args.get("session", type=query_id)):
        workshop = workshop_services.get_workshop_for(current_user, group, number)
    if (material_id := request.args.get("material", type=query_id)):
        material = material_services.get_material_for(current_user, group, material_id)
    unread = request.args.get("unread") == "1"
    page = discussions.list_threads(current_user, group, workshop=workshop, material=material,
                                    unread_only=unread, cursor=request.args.get("after"))
    # A count and the moderators: the full list is the members page (in the group's menu).
    people = services.member_overview(current_user, group)
    return render_template(
        "groups/detail.html", group=group, page=page, workshop=workshop, material=material,
        unread=unread, timeline=workshop_services.timeline(current_user, group),
        moderators=people.moderators, member_count=people.count,
        roles=services.ROLES, kinds=services.GROUP_KINDS,
        watch_level=page.watch_level if page.watch_known
        else inbox.group_watch_level(current_user, group))


@bp.get("/g/<slug>/members")
@login_required
def members(slug: str):
    group = load_group(slug)
    return render_template("groups/members.html", group=group,
                           members=services.list_members(current_user, group),
                           roles=services.ROLES)
