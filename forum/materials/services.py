"""Materials shared with a group: upload, versions, download, review, good practice."""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, lazyload

from forum.accounts.models import Organisation
from forum.accounts.services import too_long
from forum.audit.services import record_audit
from forum.config import LOCALES
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.events import after_rollback
from forum.extensions import db
from forum.groups.models import Group
from forum.groups.policy import (
    can_add_material_version,
    can_manage_material,
    can_upload_material,
    can_view_group,
)
from forum.materials.backends import storage_for
from forum.materials.extract import extract_text
from forum.materials.filetypes import (
    IMAGES,
    RejectedFile,
    safe_download_name,
    sniff,
    strip_image_metadata,
)
from forum.materials.models import GoodPractice, Material, MaterialKind, MaterialVersion
from forum.materials.scan import scan_upload
from forum.searchtext import search_text
from forum.text import render_markdown
from forum.timeutil import utcnow
from forum.workshops.models import Workshop
from forum.workshops.services import group_today

log = logging.getLogger(__name__)

MATERIAL_KINDS = {
    MaterialKind.TRAINING_FOR_REVIEW: _l("training material for review"),
    MaterialKind.DIAGNOSIS_REPORT: _l("diagnosis report"),
    MaterialKind.GOOD_PRACTICE: _l("good practice"),
    MaterialKind.THEMATIC_ANALYSIS: _l("thematic analysis"),
    MaterialKind.PRESENTATION: _l("presentation"),
    MaterialKind.MINUTES: _l("minutes"),
    MaterialKind.OTHER: _l("other"),
}
MATERIAL_LANGUAGES = (*LOCALES, "other")
PAGE_SIZE = 50


@dataclass(frozen=True)
class Upload:
    """A file as it arrives: a readable stream and the name the user gave it."""

    stream: BinaryIO
    filename: str


@dataclass
class MaterialInput:
    title: str
    kind: str
    description: str = ""
    language: str = "pl"
    workshop_number: int | None = None


@dataclass
class GoodPracticeInput:
    problem: str = ""
    actions: str = ""
    results: str = ""
    costs: str = ""
    contact_organisation_id: int | None = None


# --- reading ---------------------------------------------------------------------------------


def list_materials(actor, group: Group, *, workshop: Workshop | None = None,
                   kind: str | None = None, before: tuple | None = None,
                   limit: int = PAGE_SIZE) -> list[Material]:
    """Newest first; keyset pages: pass the last item's (updated_at, id) as `before`."""
    if not can_view_group(actor, group):
        raise NotFound()
    statement = (
        db.select(Material)
        .where(Material.group_id == group.id, Material.deleted_at.is_(None))
        # A list shows each material's session and current version (type, size, count): not
        # who uploaded it or its versions, nor a good practice's write-up. The versions come
        # in the same statement (a page of materials has a few each): one round trip less.
        .options(lazyload(Material.uploaded_by), lazyload(Material.good_practice),
                 joinedload(Material.versions).lazyload("*"))
        .order_by(Material.updated_at.desc(), Material.id.desc())
        .limit(limit)
    )
    if workshop is not None:
        statement = statement.where(Material.workshop_id == workshop.id)
    if kind:
        statement = statement.where(Material.kind == kind)
    if before is not None:
        updated_at, material_id = before
        statement = statement.where(
            (Material.updated_at < updated_at)
            | ((Material.updated_at == updated_at) & (Material.id < material_id)))
    return list(db.session.scalars(statement).unique())


def get_material_for(actor, group: Group, material_id: int) -> Material:
    """The material if the actor may see the group; NotFound for missing, deleted or closed."""
    if not can_view_group(actor, group):
        raise NotFound()
    material = db.session.get(Material, material_id)
    if material is None or material.group_id != group.id or material.deleted_at is not None:
        raise NotFound()
    return material


def get_version(material: Material, number: int | None) -> MaterialVersion:
    for version in material.versions:
        if number is None or version.number == number:
            return version
    raise NotFound()


def open_version(version: MaterialVersion) -> BinaryIO:
    """The stored file as a readable stream (close it); FileNotFoundError when it is missing."""
    return storage_for(current_app).open(version.storage_key)


def version_download_url(version: MaterialVersion, *, content_type: str,
                         content_disposition: str) -> str | None:
    """A short-lived link straight to the object store (FORUM_S3_REDIRECT_SECONDS > 0), or
    None when the app streams the file itself. Call it only after the actor was authorised."""
    return storage_for(current_app).download_url(
        version.storage_key, content_type=content_type, content_disposition=content_disposition)


# --- changes ---------------------------------------------------------------------------------


def _workshop(group: Group, number: int | None, errors: dict) -> Workshop | None:
    if not number:
        return None
    workshop = db.session.scalar(db.select(Workshop).where(
        Workshop.group_id == group.id, Workshop.number == number))
    if workshop is None:
        errors["workshop_number"] = _l("Choose a session from the list.")
    return workshop


def _check_fields(data: MaterialInput, errors: dict) -> None:
    if not data.title.strip():
        errors["title"] = _l("Enter a title.")
    elif len(data.title) > 200:
        errors["title"] = too_long(200)
    if data.kind not in MATERIAL_KINDS:
        errors["kind"] = _l("Choose a kind from the list.")
    if data.language not in MATERIAL_LANGUAGES:
        errors["language"] = _l("Choose a language from the list.")
    if len(data.description) > 20000:
        errors["description"] = too_long(20000)


def _check_good_practice(practice: GoodPracticeInput, errors: dict) -> None:
    if not practice.problem.strip():
        errors["problem"] = _l("Describe the problem the practice answers.")
    if not practice.actions.strip():
        errors["actions"] = _l("Describe what was done.")
    for field in ("problem", "actions", "results", "costs"):
        if len(getattr(practice, field)) > 20000:
            errors[field] = too_long(20000)
    if practice.contact_organisation_id and db.session.get(
            Organisation, practice.contact_organisation_id) is None:
        errors["contact_organisation_id"] = _l("Choose an organisation from the list.")


def _material_text(material: Material) -> str:
    """The editable text of a material, as kept in the audit log before a change."""
    parts = [material.title, material.description]
    if material.good_practice is not None:
        parts += [getattr(material.good_practice, field)
                  for field in ("problem", "actions", "results", "costs")]
    return "\n\n".join(part for part in parts if part)


def reindex_material(material: Material) -> None:
    """What search finds a material by: its title, description, good-practice write-up and
    the text of its current file."""
    practice = material.good_practice
    current = material.versions[0] if material.versions else None
    material.search_text = search_text(
        material.title, material.description,
        *((getattr(practice, field) for field in ("problem", "actions", "results", "costs"))
          if practice is not None else ()),
        current.text if current is not None else "")


def _apply_good_practice(material: Material, practice: GoodPracticeInput) -> None:
    record = material.good_practice or GoodPractice()
    for field in ("problem", "actions", "results", "costs"):
        source = getattr(practice, field)
        setattr(record, field, source)
        setattr(record, f"{field}_html", render_markdown(source))
    record.contact_organisation_id = practice.contact_organisation_id or None
    material.good_practice = record


def _store(actor, material: Material, upload: Upload, note: str = "") -> MaterialVersion:
    """Stream the file into storage, check what it really is, and add it as a new version.

    Raises InvalidInput({"file": ...}) for a refused file; nothing is left in storage then.
    """
    storage = storage_for(current_app)
    limit = current_app.config["FORUM_MAX_UPLOAD_MB"] * 1024 * 1024
    try:
        with storage.save(upload.stream, limit) as pending:
            kind = sniff(pending.path, upload.filename)
            scan_upload(pending.path, current_app.config["FORUM_SCAN_COMMAND"], upload.filename)
            if kind in IMAGES:
                strip_image_metadata(pending.path, kind)  # no GPS position or camera data
            text = extract_text(pending.path, kind)  # "" when it cannot: never refuses
            stored = pending.commit()
    except RejectedFile as error:
        raise InvalidInput({"file": error.message}) from None
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        log.error("no space left for an upload of %s bytes: %s", upload.filename, error)
        raise InvalidInput({"file": _l("The server has no room for this file just now. Nothing "
                                       "was saved; the administrators have been told.")}) from None
    # The file is in storage before the row is committed: if the commit fails, the file goes
    # too (unless another version already had the same content under the same key).
    if not db.session.scalar(db.select(MaterialVersion.id).where(
            MaterialVersion.storage_key == stored.key).limit(1)):
        after_rollback(lambda: storage.delete(stored.key))
    material.version_count += 1
    version = MaterialVersion(
        number=material.version_count, storage_key=stored.key, sha256=stored.sha256,
        size=stored.size, mime=kind.mime, type_label=kind.label,
        original_name=safe_download_name(upload.filename), note=note[:500],
        uploaded_by_id=actor.id if actor is not None else None, text=text)
    material.versions.insert(0, version)
    material.updated_at = utcnow()
    reindex_material(material)
    return version


def share_material(actor, group: Group, data: MaterialInput, upload: Upload | None,
                   practice: GoodPracticeInput | None = None) -> Material:
    """Share a file with the group (a good-practice write-up may come without one)."""
    if actor is not None and not can_upload_material(actor, group):
        raise PermissionDenied()
    errors: dict = {}
    _check_fields(data, errors)
    workshop = _workshop(group, data.workshop_number, errors)
    is_practice = data.kind == MaterialKind.GOOD_PRACTICE
    if is_practice:
        _check_good_practice(practice or GoodPracticeInput(), errors)
    elif upload is None:
        errors["file"] = _l("Choose a file to upload.")
    if errors:
        raise InvalidInput(errors)
    material = Material(
        group=group, workshop=workshop, title=data.title.strip(), kind=data.kind,
        description=data.description, description_html=render_markdown(data.description),
        language=data.language, uploaded_by_id=actor.id if actor is not None else None,
        version_count=0)
    if is_practice:
        _apply_good_practice(material, practice)
    if upload is not None:
        _store(actor, material, upload)
    reindex_material(material)
    db.session.add(material)
    record_audit(actor, "material.create", group=group, target=material.title,
                 subject=material)
    db.session.commit()
    return material


def add_version(actor, material: Material, upload: Upload, note: str = "") -> MaterialVersion:
    if not can_add_material_version(actor, material.group, material):
        raise PermissionDenied()
    if len(note) > 500:
        raise InvalidInput({"note": too_long(500)})
    version = _store(actor, material, upload, note)
    record_audit(actor, "material.version", group=material.group, target=material.title,
                 details={"version": version.number}, subject=material)
    db.session.commit()
    return version


def update_good_practice(actor, material: Material, data: MaterialInput,
                         practice: GoodPracticeInput) -> Material:
    if not can_add_material_version(actor, material.group, material):
        raise PermissionDenied()
    errors: dict = {}
    _check_fields(data, errors)
    workshop = _workshop(material.group, data.workshop_number, errors)
    _check_good_practice(practice, errors)
    if errors:
        raise InvalidInput(errors)
    before = _material_text(material)
    material.title, material.language, material.workshop = data.title.strip(), data.language, \
        workshop
    material.description = data.description
    material.description_html = render_markdown(data.description)
    _apply_good_practice(material, practice)
    material.updated_at = utcnow()
    reindex_material(material)
    record_audit(actor, "material.update", group=material.group, target=material.title,
                 before=before,
                 subject=material)
    db.session.commit()
    return material


def delete_material(actor, material: Material) -> None:
    """Hidden from the group; the record and its files stay for the audit trail."""
    if not can_manage_material(actor, material.group, material):
        raise PermissionDenied()
    material.deleted_at = utcnow()
    record_audit(actor, "material.delete", group=material.group, target=material.title,
                 details={"material_id": material.id}, subject=material)
    db.session.commit()


def set_review(actor, material: Material, until: date | None) -> None:
    """Open the material for review until a date (or close the review with None)."""
    if not can_manage_material(actor, material.group, material):
        raise PermissionDenied()
    if until is not None and until < group_today(material.group):
        raise InvalidInput({"review_until": _l("Choose a date that is not in the past.")})
    material.review_until = until
    material.updated_at = utcnow()
    record_audit(actor, "material.review" if until else "material.review_close",
                 group=material.group, target=material.title,
                 details={"until": until.isoformat()} if until else {}, subject=material)
    db.session.commit()


def review_is_open(material: Material, today: date) -> bool:
    return material.review_until is not None and today <= material.review_until


def material_links(ids: set[int]) -> dict[int, tuple[str, dict]]:
    """Audit-log links (forum.audit.services.register_links) to materials not deleted."""
    return {material_id: ("materials.detail", {"slug": slug, "material_id": material_id})
            for material_id, slug in db.session.execute(
                db.select(Material.id, Group.slug).join(Group, Group.id == Material.group_id)
                .where(Material.id.in_(ids), Material.deleted_at.is_(None))).all()}
