"""A material whose file is gone from the storage: a clear 404 page and an ERROR in the log,
never a 500; the session recap ZIP leaves the file out and says so."""

from __future__ import annotations

import io
import logging
import zipfile

from forum.extensions import db
from forum.materials.backends import storage_for
from forum.materials.models import Material
from tests import factories
from tests.materials import samples


def _share(app, personas, title, data, name, workshop_number=None):
    with app.app_context():
        material = factories.make_material(
            factories.user(personas.moderator.id), factories.group(personas.g1.id), data, name,
            title=title, workshop_number=workshop_number)
        return material.id, material.current_version.storage_key


def _lose(app, key):
    with app.app_context():
        storage_for(app).delete(key)


def test_a_missing_file_is_a_clear_404_and_an_error_in_the_log(app, personas, login_as,
                                                              caplog):
    material_id, key = _share(app, personas, "Diagnoza", samples.PDF, "diagnoza.pdf")
    member = login_as(personas.member)
    url = f"/g/{personas.g1.slug}/materials/{material_id}"
    with member.get(url + "/download") as response:
        assert response.status_code == 200
    _lose(app, key)
    caplog.set_level(logging.ERROR)
    for path in (url + "/download", url + "/v1/download"):
        with member.get(path) as response:
            page = response.get_data(as_text=True)
            assert response.status_code == 404, path
            assert "The file of this material is missing from the storage" in page
            assert "The administrators have been told." in page
            assert response.mimetype == "text/html"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and all(key in r.getMessage() for r in errors)
    assert not any(r.exc_info for r in errors)  # a clear line, not a traceback
    # The material's own page still works and still lists the version.
    assert member.get(url).status_code == 200


def test_the_recap_zip_leaves_out_a_missing_file_and_says_so(app, personas, login_as, caplog):
    with app.app_context():
        factories.make_workshop(factories.user(personas.moderator.id),
                                factories.group(personas.g1.id), 3, days_from_today=-10,
                                place="Lublin")
    _kept_id, _kept_key = _share(app, personas, "Notatki", b"Notatki z sesji\n" * 20,
                                 "notatki.txt", workshop_number=3)
    _lost_id, lost_key = _share(app, personas, "Diagnoza potrzeb", samples.PDF,
                                "diagnoza.pdf", workshop_number=3)
    _lose(app, lost_key)
    caplog.set_level(logging.ERROR)
    with login_as(personas.member).get(f"/g/{personas.g1.slug}/sessions/3/recap.zip") as response:
        assert response.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    assert set(archive.namelist()) == {"index.html", "README.txt", "materials/notatki.txt"}
    readme = archive.read("README.txt").decode()
    assert "materials/notatki.txt" in readme
    assert "the file of “Diagnoza potrzeb” is missing from the forum's storage" in readme
    assert any(lost_key in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Material)) == 2


def test_a_missing_object_is_a_404_with_the_object_store_too(make_app, personas, s3):
    """Streamed (redirect off) and redirected to a signed URL (FORUM_S3_REDIRECT_SECONDS)."""
    for redirect_seconds in (0, 60):
        app = make_app(**s3.settings(f"r{redirect_seconds}",
                                     FORUM_S3_REDIRECT_SECONDS=redirect_seconds))
        material_id, key = _share(app, personas, "Diagnoza", samples.PDF, "diagnoza.pdf")
        _lose(app, key)
        client = app.test_client()
        client.post("/login", data={"email": personas.member.email,
                                    "password": factories.PASSWORD})
        with client.get(f"/g/{personas.g1.slug}/materials/{material_id}/download") as response:
            assert response.status_code == 404, redirect_seconds
            assert "missing from the storage" in response.get_data(as_text=True)
