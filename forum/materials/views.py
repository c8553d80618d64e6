"""The group library, session materials, uploads, versions and downloads."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts.forms import EmptyForm
from forum.accounts.services import list_organisations
from forum.errors import InvalidInput
from forum.forms import apply_errors, organisation_choices
from forum.groups.access import load_group
from forum.groups.policy import can_add_material_version, can_upload_material
from forum.i18n import LANGUAGE_NAMES
from forum.ids import query_id
from forum.materials import services
from forum.materials.filetypes import INLINE_TYPES, content_disposition
from forum.materials.forms import FilterForm, MaterialForm, ReviewForm, VersionForm
from forum.materials.models import MaterialKind
from forum.workshops import services as workshop_services
from forum.workshops.forms import workshop_choices

bp = Blueprint("materials", __name__)
log = logging.getLogger(__name__)


def _load(slug: str, material_id: int):
    group = load_group(slug)
    return group, services.get_material_for(current_user, group, material_id)


def _upload(field) -> services.Upload | None:
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return services.Upload(storage.stream, storage.filename)


def _material_form(group, **kwargs) -> MaterialForm:
    form = MaterialForm(**kwargs)
    form.kind.choices = list(services.MATERIAL_KINDS.items())
    form.workshop_number.choices = workshop_choices(current_user, group, _("— the group library —"))
    form.language.choices = [(code, LANGUAGE_NAMES.get(code, _("other")))
                             for code in services.MATERIAL_LANGUAGES]
    form.contact_organisation_id.choices = organisation_choices(list_organisations())
    form.file.description = _("PDF, Word, Excel, PowerPoint, OpenDocument, images, text, CSV "
                              "or ZIP; at most %(mb)d MB.",
                              mb=current_app.config["FORUM_MAX_UPLOAD_MB"])
    return form


def _inputs(form: MaterialForm):
    data = services.MaterialInput(
        title=form.title.data or "", kind=form.kind.data or "",
        description=form.description.data or "", language=form.language.data or "",
        workshop_number=form.workshop_number.data or None)
    practice = services.GoodPracticeInput(
        problem=form.problem.data or "", actions=form.actions.data or "",
        results=form.results.data or "", costs=form.costs.data or "",
        contact_organisation_id=form.contact_organisation_id.data or None)
    return data, practice


@bp.get("/g/<slug>/materials/")
@login_required
def index(slug: str):
    group = load_group(slug)
    filters = FilterForm(request.args)
    filters.kind.choices = [("", _("All kinds")), *services.MATERIAL_KINDS.items()]
    filters.session.choices = workshop_choices(current_user, group, _("All sessions"))
    kind = request.args.get("kind") if request.args.get("kind") in services.MATERIAL_KINDS \
        else None
    workshop = None
    workshop_number = request.args.get("session", type=query_id)
    if workshop_number:
        workshop = workshop_services.get_workshop_for(current_user, group, workshop_number)
    materials = services.list_materials(current_user, group, workshop=workshop, kind=kind)
    return render_template("materials/index.html", group=group, materials=materials,
                           filters=filters, kinds=services.MATERIAL_KINDS)


@bp.route("/g/<slug>/materials/new", methods=["GET", "POST"])
@login_required
def create(slug: str):
    group = load_group(slug)
    if not can_upload_material(current_user, group):
        abort(403)
    form = _material_form(group)
    if request.method == "GET":
        form.workshop_number.data = request.args.get("session", type=query_id) or 0
        form.language.data = str(get_locale())
        # "Other" unless the link says which kind: a training material for review (the first
        # kind in the list) opens a review round, which nobody should start by accident.
        form.kind.data = request.args["kind"] if request.args.get("kind") in \
            services.MATERIAL_KINDS else MaterialKind.OTHER
    if form.validate_on_submit():
        data, practice = _inputs(form)
        try:
            material = services.share_material(
                current_user, group, data, _upload(form.file),
                practice if data.kind == MaterialKind.GOOD_PRACTICE else None)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("“%(title)s” is shared with the group.", title=material.title), "success")
            return redirect(url_for("materials.detail", slug=slug, material_id=material.id))
    return render_template("materials/form.html", group=group, form=form, material=None), \
        400 if form.errors else 200


@bp.get("/g/<slug>/materials/<int:material_id>")
@login_required
def detail(slug: str, material_id: int):
    group, material = _load(slug, material_id)
    return _render_detail(group, material)


# The threads about a material come from the discussions, which sit above the materials:
# the application factory registers `fn(actor, group, material) -> page` with
# `show_threads_with`.
_THREAD_LIST = "forum_material_threads"


def show_threads_with(app, list_threads) -> None:
    app.extensions[_THREAD_LIST] = list_threads


def _threads_about(group, material):
    return current_app.extensions[_THREAD_LIST](current_user, group, material)


def _render_detail(group, material, version_form: VersionForm | None = None, status=200):
    version_form = version_form or VersionForm(formdata=None)
    if not material.versions:
        version_form.file.label.text = _("File")
    return render_template(
        "materials/detail.html", group=group, material=material, kinds=services.MATERIAL_KINDS,
        version_form=version_form,
        review_form=ReviewForm(formdata=None, review_until=material.review_until),
        action_form=EmptyForm(), languages=LANGUAGE_NAMES, workshop=None, unread=False,
        page=_threads_about(group, material),
        review_open=services.review_is_open(material, workshop_services.group_today(group)),
        can_add_version=can_add_material_version(current_user, group, material)), status


@bp.route("/g/<slug>/materials/<int:material_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, material_id: int):
    """Edit a good-practice write-up (files change by uploading a new version)."""
    group, material = _load(slug, material_id)
    if material.kind != MaterialKind.GOOD_PRACTICE:
        abort(404)
    if not can_add_material_version(current_user, group, material):
        abort(403)
    form = _material_form(group, obj=material.good_practice if request.method == "GET"
                          else None)
    if request.method == "GET":
        form.title.data, form.kind.data = material.title, material.kind
        form.description.data, form.language.data = material.description, material.language
        form.workshop_number.data = material.workshop.number if material.workshop else 0
        form.contact_organisation_id.data = (
            material.good_practice.contact_organisation_id or 0)
    if form.validate_on_submit():
        data, practice = _inputs(form)
        try:
            services.update_good_practice(current_user, material, data, practice)
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("materials.detail", slug=slug, material_id=material.id))
    return render_template("materials/form.html", group=group, form=form, material=material)


@bp.post("/g/<slug>/materials/<int:material_id>/versions")
@login_required
def add_version(slug: str, material_id: int):
    group, material = _load(slug, material_id)
    form = VersionForm()
    if form.validate_on_submit():
        upload = _upload(form.file)
        try:
            if upload is None:
                raise InvalidInput({"file": _("Choose a file to upload.")})
            version = services.add_version(current_user, material, upload,
                                           form.note.data or "")
        except InvalidInput as error:
            apply_errors(form, error)
        else:
            flash(_("Version %(number)d uploaded.", number=version.number), "success")
            return redirect(url_for("materials.detail", slug=slug, material_id=material.id))
    return _render_detail(group, material, version_form=form, status=400)


@bp.post("/g/<slug>/materials/<int:material_id>/delete")
@login_required
def delete(slug: str, material_id: int):
    group, material = _load(slug, material_id)
    if EmptyForm().validate_on_submit():
        services.delete_material(current_user, material)
        flash(_("“%(title)s” was deleted.", title=material.title), "success")
    return redirect(url_for("materials.index", slug=slug))


@bp.post("/g/<slug>/materials/<int:material_id>/review")
@login_required
def review(slug: str, material_id: int):
    group, material = _load(slug, material_id)
    form = ReviewForm()
    if form.validate_on_submit():
        until = None if request.form.get("close") else form.review_until.data
        try:
            if until is None and not request.form.get("close"):
                raise InvalidInput({"review_until": _("Choose the last day of the review.")})
            services.set_review(current_user, material, until)
        except InvalidInput as error:
            for message in error.errors.values():
                flash(message, "error")
        else:
            flash(_("The review is open until %(date)s.", date=format_date(until, "long")) if until
                  else _("The review is closed."), "success")
    else:
        flash(_("Enter a valid date."), "error")
    return redirect(url_for("materials.detail", slug=slug, material_id=material.id))


def _missing_file(group, material, version):
    """The row is there, its file is not (lost, or a restore without it): a clear page, and
    an error in the log for the administrators (`flask forum check-storage` lists them all)."""
    log.error("missing file: material %d version %d (group %s) refers to storage key %s, "
              "which the storage does not have", material.id, version.number, group.slug,
              version.storage_key)
    return render_template(
        "errors/error.html", code=404, title=_("File missing"),
        text=_("The file of this material is missing from the storage. The administrators "
               "have been told.")), 404


@bp.get("/g/<slug>/materials/<int:material_id>/download")
@bp.get("/g/<slug>/materials/<int:material_id>/v<int:number>/download")
@login_required
def download(slug: str, material_id: int, number: int | None = None):
    group, material = _load(slug, material_id)
    version = services.get_version(material, number)
    # Only images open in the browser; a PDF may carry scripts or attachments, and anything
    # else is the reader's program's business (issue 19).
    inline = version.mime in INLINE_TYPES
    disposition = content_disposition(version.original_name, inline=inline)
    # Object storage with FORUM_S3_REDIRECT_SECONDS: the member (authorised above) is sent to
    # a short-lived signed URL that answers with the same type and disposition.
    try:
        url = services.version_download_url(version, content_type=version.mime,
                                            content_disposition=disposition)
        stream = services.open_version(version) if url is None else None
    except FileNotFoundError:
        return _missing_file(group, material, version)
    if url is not None:
        response = redirect(url, 302)
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    # Streamed in chunks from the open file (local or object store), closed after the response.
    response = send_file(stream, mimetype=version.mime,
                         conditional=True, etag=version.sha256, max_age=0)
    if response.status_code == 200:
        response.content_length = version.size
    response.headers["Content-Disposition"] = disposition
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
