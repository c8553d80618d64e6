"""Administration: organisations, accounts, groups, memberships, invitations, audit log.

Every page answers 404 to anyone who is not an administrator.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts import services as accounts
from forum.accounts.forms import EmptyForm
from forum.admin.forms import (
    AddMemberForm,
    GroupForm,
    InviteForm,
    OrganisationForm,
    RoleForm,
    UserCreateForm,
)
from forum.audit import views as audit_views
from forum.audit.services import audit_actors, audit_groups, iter_audit, list_audit
from forum.errors import InvalidInput, PermissionDenied
from forum.forms import apply_errors, organisation_choices, time_zone_choices
from forum.groups import services as groups
from forum.groups.policy import can_administer
from forum.ids import query_id
from forum.privacy import erasure

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def only_administrators():
    if not can_administer(current_user):
        abort(404)


def _flash_errors(error: InvalidInput) -> None:
    for message in error.errors.values():
        flash(message, "error")


@bp.get("/")
def index():
    return render_template("admin/index.html")


# --- organisations ---------------------------------------------------------------------------


def _organisation_form(**kwargs) -> OrganisationForm:
    form = OrganisationForm(**kwargs)
    form.kind.choices = list(accounts.ORGANISATION_KINDS.items())
    return form


@bp.route("/organisations", methods=["GET", "POST"])
def organisations():
    form = _organisation_form()
    if form.validate_on_submit():
        try:
            organisation = accounts.create_organisation(
                current_user, name=form.name.data, kind=form.kind.data,
                region=form.region.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Organisation %(name)s created.", name=organisation.name), "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/organisations.html", form=form,
                           organisations=accounts.list_organisations(),
                           kinds=accounts.ORGANISATION_KINDS)


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
def organisation(organisation_id: int):
    organisation = accounts.get_organisation_for_admin(current_user, organisation_id)
    form = _organisation_form(obj=organisation if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            accounts.update_organisation(current_user, organisation, name=form.name.data,
                                         kind=form.kind.data, region=form.region.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Organisation saved."), "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation.html", form=form, organisation=organisation)


# --- accounts --------------------------------------------------------------------------------


@bp.get("/users")
def users():
    query = request.args.get("q", "")[:100]
    after = request.args.get("after", type=query_id)
    page, next_after = accounts.list_users(current_user, query, after_id=after)
    return render_template("admin/users.html", users=page, query=query, next_after=next_after,
                           action_form=EmptyForm(),
                           erasure_requests=erasure.pending_requests(current_user))


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserCreateForm()
    form.organisation_id.choices = organisation_choices(accounts.list_organisations())
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                current_user, email=form.email.data, name=form.name.data,
                organisation_id=form.organisation_id.data, position=form.position.data or "",
                is_admin=form.is_admin.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Account created. %(email)s has been sent a link to choose a password.",
                    email=user.email), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/new_user.html", form=form)


@bp.get("/users/<int:user_id>")
def user(user_id: int):
    user = accounts.get_user_for_admin(current_user, user_id)
    memberships = groups.memberships_of(current_user, user)
    return render_template("admin/user.html", user=user, memberships=memberships,
                           roles=groups.ROLES, action_form=EmptyForm(),
                           failed_sign_ins=accounts.recent_failed_sign_ins(user))


@bp.post("/users/<int:user_id>/active")
def set_active(user_id: int):
    user = accounts.get_user_for_admin(current_user, user_id)
    if EmptyForm().validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            accounts.set_user_active(current_user, user, active)
        except InvalidInput as error:
            _flash_errors(error)
        else:
            flash(_("Account reactivated.") if active else
                  _("Account deactivated and signed out on every device."), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/sign-in-blocks")
def clear_sign_in_blocks(user_id: int):
    user = accounts.get_user_for_admin(current_user, user_id)
    if EmptyForm().validate_on_submit():
        accounts.clear_sign_in_blocks(current_user, user)
        flash(_("Failed sign-ins of this account are forgotten: it can sign in from anywhere "
                "again."), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/admin")
def set_admin(user_id: int):
    user = accounts.get_user_for_admin(current_user, user_id)
    if EmptyForm().validate_on_submit():
        admin = request.form.get("admin") == "1"
        try:
            accounts.set_user_admin(current_user, user, admin)
        except InvalidInput as error:
            _flash_errors(error)
        else:
            flash(_("Administrator rights granted.") if admin else
                  _("Administrator rights removed."), "success")
    return redirect(url_for("admin.user", user_id=user.id))


# --- groups ----------------------------------------------------------------------------------


def _group_form(**kwargs) -> GroupForm:
    form = GroupForm(**kwargs)
    form.kind.choices = list(groups.GROUP_KINDS.items())
    form.time_zone.choices = time_zone_choices(accounts.time_zone_names())
    form.erased_posts.choices = list(erasure.ERASED_POSTS.items())
    return form


def _role_choices():
    return list(groups.ROLES.items())


@bp.get("/groups")
def group_list():
    return render_template("admin/groups.html", summaries=groups.all_groups(current_user),
                           kinds=groups.GROUP_KINDS)


@bp.route("/groups/new", methods=["GET", "POST"])
def new_group():
    form = _group_form()
    if request.method == "GET":
        form.time_zone.data = "Europe/Warsaw"
    if form.validate_on_submit():
        try:
            group = groups.create_group(
                current_user, name=form.name.data, slug=form.slug.data,
                description=form.description.data or "", kind=form.kind.data,
                time_zone=form.time_zone.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Group %(name)s created.", name=group.name), "success")
            return redirect(url_for("admin.group", group_id=group.id))
    return render_template("admin/new_group.html", form=form)


def _render_group(group, *, form=None, invite_form=None, add_form=None, status=200):
    form = form or _group_form(obj=group)
    invite_form = invite_form or InviteForm(formdata=None)
    add_form = add_form or AddMemberForm(formdata=None)
    invite_form.role.choices = add_form.role.choices = _role_choices()
    members = groups.list_members(current_user, group)
    role_forms = {}
    for membership in members:
        role_form = RoleForm(formdata=None, prefix=f"m{membership.user_id}",
                             role=membership.role)
        role_form.role.choices = _role_choices()
        role_forms[membership.user_id] = role_form
    return render_template(
        "admin/group.html", group=group, form=form, invite_form=invite_form, add_form=add_form,
        members=members, role_forms=role_forms, roles=groups.ROLES, action_form=EmptyForm(),
        invitations=groups.list_open_invitations(current_user, group),
    ), status


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group(group_id: int):
    group = groups.get_group_for_admin(current_user, group_id)
    if request.method == "GET":
        return _render_group(group)
    form = _group_form()
    if form.validate_on_submit():
        try:
            groups.update_group(current_user, group, name=form.name.data, slug=form.slug.data,
                                description=form.description.data or "", kind=form.kind.data,
                                time_zone=form.time_zone.data,
                                members_can_upload=form.members_can_upload.data,
                                erased_posts=form.erased_posts.data,
                                chat_edit_minutes=form.chat_edit_minutes.data,
                                registration_cap=form.registration_cap.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Group saved."), "success")
            return redirect(url_for("admin.group", group_id=group.id))
    return _render_group(group, form=form)


@bp.post("/groups/<int:group_id>/invitations")
def invite(group_id: int):
    group = groups.get_group_for_admin(current_user, group_id)
    form = InviteForm()
    form.role.choices = _role_choices()
    if form.validate_on_submit():
        try:
            invitation, _token = groups.invite(current_user, group, form.email.data,
                                               form.role.data)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
            return redirect(url_for("admin.group", group_id=group.id) + "#invitations")
    return _render_group(group, invite_form=form, status=400)


@bp.post("/groups/<int:group_id>/members")
def add_member(group_id: int):
    group = groups.get_group_for_admin(current_user, group_id)
    form = AddMemberForm()
    form.role.choices = _role_choices()
    if form.validate_on_submit():
        user = accounts.find_user_by_email(form.email.data)
        if user is None:
            form.email.errors = [_("No account uses this address. Send an invitation instead.")]
        else:
            try:
                groups.set_role(current_user, group, user, form.role.data)
            except InvalidInput as error:
                apply_errors(form, error)
            else:
                flash(_("%(name)s added to the group.", name=user.name), "success")
                return redirect(url_for("admin.group", group_id=group.id) + "#members")
    return _render_group(group, add_form=form, status=400)


@bp.post("/groups/<int:group_id>/members/<int:user_id>/role")
def change_role(group_id: int, user_id: int):
    group = groups.get_group_for_admin(current_user, group_id)
    user = accounts.get_user_for_admin(current_user, user_id)
    form = RoleForm(prefix=f"m{user_id}")
    form.role.choices = _role_choices()
    if form.validate_on_submit():
        try:
            groups.set_role(current_user, group, user, form.role.data)
        except InvalidInput as error:
            _flash_errors(error)
        else:
            flash(_("Role of %(name)s changed.", name=user.name), "success")
    return redirect(url_for("admin.group", group_id=group.id) + "#members")


@bp.post("/groups/<int:group_id>/members/<int:user_id>/remove")
def remove_member(group_id: int, user_id: int):
    group = groups.get_group_for_admin(current_user, group_id)
    user = accounts.get_user_for_admin(current_user, user_id)
    if EmptyForm().validate_on_submit():
        groups.remove_member(current_user, group, user)
        flash(_("%(name)s removed from the group.", name=user.name), "success")
    return redirect(url_for("admin.group", group_id=group.id) + "#members")


@bp.post("/invitations/<int:invitation_id>/revoke")
def revoke_invitation(invitation_id: int):
    invitation = groups.get_invitation_for_admin(current_user, invitation_id)
    if EmptyForm().validate_on_submit():
        try:
            groups.revoke_invitation(current_user, invitation)
        except PermissionDenied:
            abort(404)
        flash(_("Invitation withdrawn."), "success")
    return redirect(url_for("admin.group", group_id=invitation.group_id) + "#invitations")


@bp.get("/audit")
def audit():
    form, filters = audit_views.filter_form(groups=audit_groups(current_user))
    before = request.args.get("before", type=query_id)
    entries, next_before = list_audit(current_user, filters, before)
    return audit_views.render_log(
        "admin/audit.html", entries=entries, next_before=next_before, form=form,
        actors=audit_actors(current_user),
        page_url=lambda **args: url_for("admin.audit", **args),
        csv_url=url_for("admin.audit_csv", **audit_views.query_args()))


@bp.get("/audit.csv")
def audit_csv():
    _form, filters = audit_views.filter_form(groups=audit_groups(current_user))
    return audit_views.csv_response(iter_audit(current_user, filters), "audit")
