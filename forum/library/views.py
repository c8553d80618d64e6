"""The good-practice library: the programme's published practices (search and filters), a
practice's page, proposing and publishing, "we adopted this", and writing to the contact
person. Rules in library.services."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from forum.accounts.forms import EmptyForm
from forum.errors import InvalidInput
from forum.forms import apply_errors
from forum.groups.policy import can_view_group
from forum.groups.services import list_groups_for
from forum.library import services
from forum.library.models import ListingStatus, TagKind

bp = Blueprint("library", __name__)


class ListingForm(FlaskForm):
    themes = StringField(_l("Themes (separated by commas)"), validators=[Length(max=600)],
                         description=_l("For example: school transport, inclusive education"))
    lg_types = SelectMultipleField(_l("Type of local government"), validate_choice=False,
                                   widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput())
    regions = StringField(_l("Regions (separated by commas)"), validators=[Length(max=600)])
    contact_user_id = SelectField(_l("Contact person"), coerce=int, validate_choice=False,
                                  description=_l("Others write to this person through the "
                                                 "forum; no e-mail address is shown."))


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])


class AdoptForm(FlaskForm):
    note = TextAreaField(_l("How you use it (optional)"), validators=[Length(max=2000)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[Length(max=5000)])


def _filters() -> services.LibraryFilters:
    args = request.args
    return services.LibraryFilters(query=args.get("q", "")[:200], theme=args.get("theme", ""),
                                   lg_type=args.get("type", ""),
                                   region=args.get("region", ""), group=args.get("group", ""))


@bp.get("/library/")
@login_required
def index():
    filters = _filters()
    return render_template(
        "library/index.html", filters=filters,
        entries=services.library(current_user, filters),
        themes=services.tag_values(TagKind.THEME), regions=services.tag_values(TagKind.REGION),
        lg_types=services.LG_TYPES, groups=[s.group for s in list_groups_for(current_user)],
        waiting=services.waiting_for_publication(current_user))


def _render_practice(material, *, note_form=None, message_form=None, adopt_form=None,
                     status=200):
    listing = services.listing_of(material)
    note_form = note_form or NoteForm(formdata=None)
    message_form = message_form or MessageForm(formdata=None)
    adopt_form = adopt_form or AdoptForm(formdata=None)
    adoptions = services.adoptions_of(material)
    own_adoption = next((a for a in adoptions
                         if a.organisation_id == current_user.organisation_id), None)
    return render_template(
        "library/detail.html", material=material, practice=material.good_practice,
        listing=listing, statuses=services.STATUSES, lg_types=services.LG_TYPES,
        member=can_view_group(current_user, material.group),
        may_propose=services.can_propose(current_user, material),
        may_publish=services.can_publish(current_user, material),
        may_contact=services.can_contact(current_user, material),
        may_adopt=services.can_adopt(current_user, material),
        contact=services.contact_person(material), adoptions=adoptions,
        own_adoption=own_adoption, note_form=note_form, message_form=message_form,
        adopt_form=adopt_form, published=ListingStatus.PUBLISHED,
        proposed=ListingStatus.PROPOSED), status


@bp.get("/library/<int:material_id>")
@login_required
def detail(material_id: int):
    return _render_practice(services.get_practice_for(current_user, material_id))


@bp.route("/library/<int:material_id>/listing", methods=["GET", "POST"])
@login_required
def listing(material_id: int):
    material = services.get_practice_for(current_user, material_id)
    if not can_view_group(current_user, material.group):
        abort(404)
    if not services.can_propose(current_user, material):
        abort(403)
    form = ListingForm()
    form.lg_types.choices = [(k.value, label) for k, label in services.LG_TYPES.items()]
    form.contact_user_id.choices = [(u.id, u.name)
                                    for u in services.contact_choices(material)]
    if request.method == "GET":
        saved = services.default_input(material)
        form.themes.data, form.regions.data = saved.themes, saved.regions
        form.lg_types.data, form.contact_user_id.data = saved.lg_types, saved.contact_user_id
    status = 200
    if form.validate_on_submit():
        try:
            services.propose(current_user, material, services.ListingInput(
                themes=form.themes.data or "", lg_types=form.lg_types.data or [],
                regions=form.regions.data or "", contact_user_id=form.contact_user_id.data))
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Saved. A moderator of the group publishes it in the library."), "success")
            return redirect(url_for("library.detail", material_id=material.id))
    if form.errors or form.form_errors:
        status = 400
    return render_template("library/listing.html", material=material, form=form,
                           listing=services.listing_of(material)), status


@bp.post("/library/<int:material_id>/publish")
@login_required
def publish(material_id: int):
    material = services.get_practice_for(current_user, material_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.publish(current_user, material)
    except InvalidInput as error:
        flash(" ".join(str(m) for m in error.errors.values()), "error")
    else:
        flash(_("Published: every group of the programme can read it now."), "success")
    return redirect(url_for("library.detail", material_id=material.id))


@bp.post("/library/<int:material_id>/send-back")
@login_required
def send_back(material_id: int):
    material = services.get_practice_for(current_user, material_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            services.send_back(current_user, material, form.note.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("The practice is a draft again: only its group sees it."), "success")
            return redirect(url_for("library.detail", material_id=material.id))
    return _render_practice(material, note_form=form, status=400)


@bp.post("/library/<int:material_id>/adopt")
@login_required
def adopt(material_id: int):
    material = services.get_practice_for(current_user, material_id)
    form = AdoptForm()
    if form.validate_on_submit():
        try:
            services.record_adoption(current_user, material, form.note.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Recorded: your organisation adopted this practice."), "success")
            return redirect(url_for("library.detail", material_id=material.id))
    return _render_practice(material, adopt_form=form, status=400)


@bp.post("/library/<int:material_id>/adopt/withdraw")
@login_required
def withdraw(material_id: int):
    material = services.get_practice_for(current_user, material_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.withdraw_adoption(current_user, material)
    flash(_("Your organisation's adoption is withdrawn."), "success")
    return redirect(url_for("library.detail", material_id=material.id))


@bp.post("/library/<int:material_id>/contact")
@login_required
def contact(material_id: int):
    material = services.get_practice_for(current_user, material_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            conversation = services.contact(current_user, material, form.body.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Your message is sent. The reply will come to your notifications."),
                  "success")
            return redirect(url_for("library.conversation", conversation_id=conversation.id))
    return _render_practice(material, message_form=form, status=400)


@bp.get("/library/messages/")
@login_required
def conversations():
    return render_template("library/conversations.html",
                           conversations=services.my_conversations(current_user))


@bp.route("/library/messages/<int:conversation_id>", methods=["GET", "POST"])
@login_required
def conversation(conversation_id: int):
    found = services.get_conversation_for(current_user, conversation_id)
    form = MessageForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.reply(current_user, found, form.body.data or "")
            except InvalidInput as error:
                apply_errors(form, error)
            else:
                return redirect(url_for("library.conversation", conversation_id=found.id))
        status = 400
    return render_template("library/conversation.html", conversation=found, form=form), status
