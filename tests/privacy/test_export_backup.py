"""Data exports and `flask forum backup` / `restore`: a built export's ZIP is in the archive
like a material file, an export not built yet (no file) is neither missing nor damaged, and
after a restore the person downloads the same ZIP."""

from __future__ import annotations

import json

from forum.extensions import db
from forum.privacy import export
from forum.privacy.models import DataExport
from tests import factories
from tests.conftest import login
from tests.test_backup import _cli, _members, make_target  # noqa: F401


def test_backup_and_restore_keep_built_exports(app, personas, make_target, tmp_path):  # noqa: F811
    with app.app_context():
        member = factories.user(personas.member.id)
        item = export.request_export(member, member)
        export.build_due_exports()
        observer = factories.user(personas.observer.id)
        export.request_export(observer, observer)  # pending: no file yet
        key = db.session.get(DataExport, item.id).storage_key
    result = _cli(app, "backup", tmp_path / "b.tar.gz")
    assert result.exit_code == 0, result.output
    members = _members(tmp_path / "b.tar.gz")
    manifest = json.loads(members["manifest.json"])
    assert f"files/{key}" in members
    assert manifest["missing_files"] == [] and manifest["damaged_files"] == []
    target = make_target()
    restored = _cli(target, "restore", tmp_path / "b.tar.gz")
    assert restored.exit_code == 0, restored.output
    client = target.test_client()
    login(client, personas.member.email)
    with client.get(f"/profile/data/exports/{item.id}.zip") as response:
        assert response.status_code == 200
        assert response.data == members[f"files/{key}"]
