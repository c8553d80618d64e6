import io
from datetime import date, timedelta

import pytest
from flask import current_app
from PIL import Image

from forum.audit.models import AuditEntry
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.materials import services
from forum.materials.backends import storage_for
from forum.workshops import services as workshop_services
from tests import factories
from tests.factories import upload
from tests.materials import samples


def _data(**overrides) -> services.MaterialInput:
    return services.MaterialInput(**{"title": "Raport z diagnozy", "kind": "diagnosis_report",
                                     "language": "pl", **overrides})


def test_sharing_stores_the_file_by_content_not_by_name(people, group):
    material = services.share_material(people["member"], group, _data(),
                                       upload(samples.PDF, "../../etc/Raport – Łęczna.pdf"))
    version = material.current_version
    assert (version.number, version.mime, version.size) == (1, "application/pdf",
                                                            len(samples.PDF))
    assert version.original_name == "Raport – Łęczna.pdf"
    path = storage_for(current_app).path_for(version.storage_key)
    assert path.read_bytes() == samples.PDF and "Raport" not in str(path)
    with services.open_version(version) as stream:
        assert stream.read() == samples.PDF


def test_a_disguised_file_is_refused_and_nothing_is_kept(people, group):
    with pytest.raises(InvalidInput) as error:
        services.share_material(people["member"], group, _data(),
                                upload(samples.HTML_AS_PDF, "raport.pdf"))
    assert "file" in error.value.errors
    assert db.session.scalar(db.select(db.func.count()).select_from(
        services.Material)) == 0
    root = storage_for(current_app).root
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_an_oversized_file_is_refused_with_the_limit(app, personas):
    app.config["FORUM_MAX_UPLOAD_MB"] = 1
    with app.app_context():
        member, g1 = factories.user(personas.member.id), factories.group(personas.g1.id)
        big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
        with pytest.raises(InvalidInput) as error:
            services.share_material(member, g1, _data(), upload(big, "big.pdf"))
        assert "1 MB" in str(error.value.errors["file"])


def test_image_metadata_is_removed(people, group):
    material = services.share_material(people["member"], group, _data(kind="presentation"),
                                       upload(samples.jpeg_with_gps(), "zdjęcie.jpg"))
    with services.open_version(material.current_version) as stream:
        stored = stream.read()
    assert 0x8825 not in Image.open(io.BytesIO(stored)).getexif()
    assert material.current_version.size == len(stored)


def test_fields_are_checked_before_the_file(people, group):
    with pytest.raises(InvalidInput) as error:
        services.share_material(people["member"], group,
                                _data(title=" ", kind="poem", language="de", workshop_number=7),
                                None)
    assert set(error.value.errors) == {"title", "kind", "language", "workshop_number", "file"}


def test_observers_and_outsiders_cannot_share(people, group):
    for who in ("observer", "outsider"):
        with pytest.raises(PermissionDenied):
            services.share_material(people[who], group, _data(), upload(samples.PDF, "a.pdf"))


def test_the_group_can_keep_uploads_to_moderators(people, group):
    group.members_can_upload = False
    db.session.commit()
    with pytest.raises(PermissionDenied):
        services.share_material(people["member"], group, _data(), upload(samples.PDF, "a.pdf"))
    assert services.share_material(people["moderator"], group, _data(),
                                   upload(samples.PDF, "a.pdf"))


def test_new_versions_keep_the_old_ones(people, group):
    material = services.share_material(people["member"], group, _data(),
                                       upload(samples.PDF, "v1.pdf"))
    services.add_version(people["member"], material, upload(samples.docx(), "v2.docx"),
                         "poprawki po sesji")
    assert [v.number for v in material.versions] == [2, 1]
    assert material.current_version.type_label.startswith("Word")
    assert services.get_version(material, 1).original_name == "v1.pdf"
    with pytest.raises(PermissionDenied):  # another member may not replace it
        services.add_version(factories.make_user(), material, upload(samples.PDF, "x.pdf"))


def test_list_filters_by_session_and_kind_and_hides_deleted(people, group):
    workshop = factories.make_workshop(people["moderator"], group, theme="Sesja")
    first = services.share_material(people["member"], group, _data(workshop_number=1),
                                    upload(samples.PDF, "a.pdf"))
    services.share_material(people["member"], group, _data(kind="minutes"),
                            upload(samples.PDF, "b.pdf"))
    member = people["member"]
    assert [m.id for m in services.list_materials(member, group, workshop=workshop)] == [
        first.id]
    assert len(services.list_materials(member, group, kind="minutes")) == 1
    services.delete_material(people["moderator"], first)
    assert [m.kind for m in services.list_materials(member, group)] == ["minutes"]
    with pytest.raises(NotFound):
        services.get_material_for(member, group, first.id)
    entry = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "material.delete" and entry.target == "Raport z diagnozy"


def test_keyset_pages_do_not_skip_or_repeat(people, group):
    for n in range(7):
        services.share_material(people["member"], group, _data(title=f"M{n}"),
                                upload(samples.PDF, "a.pdf"))
    seen, before = [], None
    while True:
        page = services.list_materials(people["member"], group, before=before, limit=3)
        if not page:
            break
        seen += [m.title for m in page]
        before = (page[-1].updated_at, page[-1].id)
    assert sorted(seen) == [f"M{n}" for n in range(7)] and len(set(seen)) == 7


def test_outsiders_find_nothing(people, group):
    material = services.share_material(people["member"], group, _data(),
                                       upload(samples.PDF, "a.pdf"))
    with pytest.raises(NotFound):
        services.get_material_for(people["outsider"], group, material.id)
    with pytest.raises(NotFound):
        services.list_materials(people["outsider"], group)


def test_review_deadline(people, group):
    material = services.share_material(people["moderator"], group,
                                       _data(kind="training_for_review"),
                                       upload(samples.PDF, "a.pdf"))
    today = workshop_services.group_today(group)
    with pytest.raises(PermissionDenied):
        services.set_review(people["member"], material, today + timedelta(days=7))
    with pytest.raises(InvalidInput):
        services.set_review(people["moderator"], material, today - timedelta(days=1))
    services.set_review(people["moderator"], material, today + timedelta(days=7))
    assert services.review_is_open(material, today)
    assert not services.review_is_open(material, today + timedelta(days=8))
    services.set_review(people["moderator"], material, None)
    assert not services.review_is_open(material, today)


def test_good_practice_is_a_structured_page(people, group, personas):
    with pytest.raises(InvalidInput) as error:
        services.share_material(people["member"], group, _data(kind="good_practice"), None,
                                services.GoodPracticeInput())
    assert set(error.value.errors) == {"problem", "actions"}
    material = services.share_material(
        people["member"], group, _data(kind="good_practice", title="Dowozy"), None,
        services.GoodPracticeInput(problem="Długie dojazdy", actions="Nowe **trasy**",
                                   results="-20 minut", costs="60 tys. zł",
                                   contact_organisation_id=personas.organisation_id))
    assert material.current_version is None
    assert "<strong>trasy</strong>" in material.good_practice.actions_html
    assert material.good_practice.contact_organisation.name == "Miasto Lublin"
    services.update_good_practice(people["member"], material, _data(kind="good_practice",
                                                                     title="Dowozy 2"),
                                  services.GoodPracticeInput(problem="p", actions="a"))
    assert (material.title, material.good_practice.results) == ("Dowozy 2", "")


def test_review_rules_use_the_groups_calendar(people, group):
    material = services.share_material(people["moderator"], group, _data(),
                                       upload(samples.PDF, "a.pdf"))
    assert not services.review_is_open(material, date(2030, 1, 1))


def test_a_failed_commit_leaves_no_file_behind(people, group, monkeypatch):
    """Issue 18: the file moves into storage before the row commits; if the commit fails, the
    file goes too (a copy another version uses stays)."""
    kept = services.share_material(people["member"], group, _data(), upload(samples.PDF))
    storage = storage_for(current_app)
    other = samples.make_pdf("Inny dokument", ["Treść."])

    def failing_commit():
        raise RuntimeError("the database went away")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    with pytest.raises(RuntimeError):
        services.share_material(people["member"], group, _data(title="Drugi"),
                                upload(other, "drugi.pdf"))
    monkeypatch.undo()
    db.session.rollback()
    files = [p for p in storage.root.rglob("*") if p.is_file()]
    assert len(files) == 1 and storage.exists(kept.current_version.storage_key)
    # The same content as a stored version: the shared file stays when the commit fails.
    monkeypatch.setattr(db.session, "commit", failing_commit)
    with pytest.raises(RuntimeError):
        services.share_material(people["member"], group, _data(title="Kopia"),
                                upload(samples.PDF, "kopia.pdf"))
    monkeypatch.undo()
    db.session.rollback()
    assert storage.exists(kept.current_version.storage_key)


def test_a_full_disk_gets_a_clear_message(people, group, monkeypatch):
    import errno

    storage = storage_for(current_app)

    def full(stream, max_bytes):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage, "save", full)
    with pytest.raises(InvalidInput) as error:
        services.share_material(people["member"], group, _data(), upload(samples.PDF))
    assert "no room for this file" in str(error.value.errors["file"])
