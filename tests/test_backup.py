"""`flask forum backup`, `restore` and `check-storage`, on SQLite and PostgreSQL.

A restore goes into a second, empty installation: a new SQLite file or a new database on the
same PostgreSQL server, with its own storage directory. The drill runs a backup while a thread
keeps writing posts, chat messages and uploads through the services, restores it and compares
every restored row with the source.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from psycopg import sql

from forum import create_app
from forum.chat import services as chat
from forum.chat.models import ChatMessage
from forum.discussions import services as discussions
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.materials import services as materials
from forum.materials.backends import storage_for
from forum.materials.models import Material, MaterialVersion
from tests import factories
from tests.conftest import make_config

COMPARED = (Thread, Post, ChatMessage, Material, MaterialVersion)


def _is_sqlite(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


@pytest.fixture
def make_target(request, app, smtp, tmp_path):
    """make_target() → a new app on an empty database (no tables) and an empty storage."""
    apps, databases = [], []

    def _make(**settings):
        name = f"target-{len(apps)}"
        (tmp_path / name).mkdir()
        if _is_sqlite(app):
            url = f"sqlite:///{tmp_path / name / 'forum.db'}"
        else:
            server = request.getfixturevalue("_postgres")
            dbname = f"restore_{uuid.uuid4().hex[:12]}"
            server.create_database(dbname)
            databases.append((server, dbname))
            url = server.url(dbname)
        settings.setdefault("FORUM_STORAGE_ROOT", str(tmp_path / name / "uploads"))
        apps.append(create_app(make_config(url, smtp, **settings)))
        return apps[-1]

    yield _make
    for target in apps:
        with target.app_context():
            db.session.remove()
            db.engine.dispose()
    for server, dbname in databases:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(dbname)))


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["forum", *map(str, args)])


def _share(actor, group, title, data: bytes, name="notatki.txt"):
    return materials.share_material(
        actor, group, materials.MaterialInput(title=title, kind="minutes"),
        materials.Upload(io.BytesIO(data), name))


@pytest.fixture
def content(app, personas):
    """A thread with replies, chat messages and two materials (one with two versions)."""
    return _fill(app, personas)


def _fill(app, personas):
    with app.app_context():
        member = factories.user(personas.member.id)
        moderator = factories.user(personas.moderator.id)
        group = factories.group(personas.g1.id)
        thread = discussions.start_thread(member, group, title="Budżet obywatelski",
                                          body="Jak liczycie głosy?")
        discussions.reply(moderator, thread, "Ręcznie, w **dwóch** komisjach.")
        chat.send_message(member, group, "Dzień dobry", "c1")
        chat.send_message(moderator, group, "Witam wszystkich", "c2")
        first = _share(member, group, "Notatki", b"Notatki z sesji\n" * 50)
        materials.add_version(member, first, materials.Upload(
            io.BytesIO(b"Poprawione notatki\n" * 40), "notatki.txt"))
        second = _share(moderator, group, "Harmonogram", b"Harmonogram naboru\n" * 30)
        return {"keys": sorted({v.storage_key for m in (first, second) for v in m.versions}),
                "second": second.id, "second_key": second.versions[0].storage_key,
                "thread": thread.id}


def _rows(app, model) -> dict[int, tuple]:
    with app.app_context():
        table = model.__table__
        rows = db.session.execute(db.select(table).order_by(table.c.id)).all()
        db.session.remove()
        return {row.id: tuple(row) for row in rows}


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}


def _stored(app) -> dict[str, bytes]:
    with app.app_context():
        storage = storage_for(app)
        out = {}
        for key in storage.iter_keys():
            with storage.open(key) as f:
                out[key] = f.read()
        return out


# --- backup ----------------------------------------------------------------------------------


def test_the_manifest_describes_every_member(app, content, tmp_path):
    result = _cli(app, "backup", tmp_path)
    assert result.exit_code == 0, result.stderr
    [archive] = tmp_path.glob("forum-backup-*.tar.gz")
    assert str(archive) in result.stdout
    assert not list(tmp_path.glob(".*"))  # no temporary leftovers
    members = _members(archive)
    manifest = json.loads(members.pop("manifest.json"))
    database = "database/forum.sqlite3" if _is_sqlite(app) else "database/forum.pgdump"
    assert set(members) == {database} | {f"files/{key}" for key in content["keys"]}
    assert set(manifest["members"]) == set(members)
    for name, data in members.items():
        assert manifest["members"][name] == {"sha256": hashlib.sha256(data).hexdigest(),
                                             "size": len(data)}, name
    for key in content["keys"]:
        assert hashlib.sha256(members[f"files/{key}"]).hexdigest() == key
    assert manifest["database"] == ("sqlite" if _is_sqlite(app) else "postgresql")
    assert manifest["counts"]["posts"] == 2 and manifest["counts"]["chat_messages"] == 2
    assert manifest["counts"]["material_versions"] == 3
    assert manifest["counts"]["users"] == 6
    assert manifest["alembic_revision"]
    assert manifest["missing_files"] == [] and manifest["format"] == 1


def test_a_file_name_gives_a_plain_tar_and_a_bad_name_is_refused(app, content, tmp_path):
    result = _cli(app, "backup", tmp_path / "nightly.tar")
    assert result.exit_code == 0, result.stderr
    with tarfile.open(tmp_path / "nightly.tar", "r:") as tar:  # not compressed
        assert "manifest.json" in tar.getnames()
    refused = _cli(app, "backup", tmp_path / "nightly.zip")
    assert refused.exit_code == 1
    assert ".tar" in refused.stderr and not (tmp_path / "nightly.zip").exists()


def test_a_missing_file_is_reported_and_the_rest_backed_up(app, content, tmp_path):
    with app.app_context():
        storage_for(app).delete(content["second_key"])
    result = _cli(app, "backup", tmp_path / "b.tar.gz")
    assert result.exit_code == 1
    assert content["second_key"] in result.stderr and "missing" in result.stderr
    members = _members(tmp_path / "b.tar.gz")
    manifest = json.loads(members["manifest.json"])
    assert manifest["missing_files"] == [content["second_key"]]
    assert f"files/{content['second_key']}" not in members
    assert len([n for n in members if n.startswith("files/")]) == len(content["keys"]) - 1


# --- restore ---------------------------------------------------------------------------------


def test_backup_and_restore_into_an_empty_installation(app, personas, content, make_target,
                                                      tmp_path):
    assert _cli(app, "backup", tmp_path / "b.tar.gz").exit_code == 0
    target = make_target()
    result = _cli(target, "restore", tmp_path / "b.tar.gz")
    assert result.exit_code == 0, result.stderr
    assert "3 material versions" in result.stdout and "3 file(s) verified" in result.stdout
    for model in COMPARED:
        assert _rows(target, model) == _rows(app, model), model.__name__
    assert _stored(target) == _stored(app)
    with target.app_context():
        upgrade()  # the documented next step: nothing to do for a backup of this version
        factories.make_user(email="new@example.org", name="Nowa Osoba")  # ids go on
        discussions.reply(factories.user(personas.member.id),
                          db.session.get(Thread, content["thread"]), "Po odtworzeniu")
    with target.test_client() as client:
        client.post("/login", data={"email": "member@example.org",
                                    "password": factories.PASSWORD})
        material = _rows(target, Material)[content["second"]]
        with client.get(f"/g/miasta-testowe/materials/{material[0]}/download") as response:
            assert response.status_code == 200
            assert response.data == b"Harmonogram naboru\n" * 30


def test_restore_replaces_empty_tables_made_by_db_upgrade(app, content, make_target, tmp_path):
    assert _cli(app, "backup", tmp_path / "b.tar.gz").exit_code == 0
    target = make_target()
    with target.app_context():
        upgrade()  # the operator ran `flask db upgrade` first: tables, no rows
        db.engine.dispose()
    result = _cli(target, "restore", tmp_path / "b.tar.gz")
    assert result.exit_code == 0, result.stderr
    for model in COMPARED:
        assert _rows(target, model) == _rows(app, model), model.__name__


def test_restore_refuses_a_target_with_data(app, content, make_target, tmp_path):
    assert _cli(app, "backup", tmp_path / "b.tar").exit_code == 0
    with_user = make_target()
    with with_user.app_context():
        upgrade()
        factories.make_user(email="someone@example.org", name="Ktoś")
    result = _cli(with_user, "restore", tmp_path / "b.tar")
    assert result.exit_code == 1
    assert "empty installation" in result.stderr and "user (1 rows)" in result.stderr
    with_file = make_target()
    with with_file.app_context():
        data = b"a file left from before"
        storage_for(with_file).put(hashlib.sha256(data).hexdigest(), io.BytesIO(data))
    result = _cli(with_file, "restore", tmp_path / "b.tar")
    assert result.exit_code == 1 and "storage already holds files" in result.stderr
    with with_file.app_context():
        assert db.inspect(db.engine).get_table_names() == []  # nothing restored
    shared = make_target()  # a database that also holds another application's table
    with shared.app_context():
        with db.engine.begin() as conn:
            conn.execute(db.text("CREATE TABLE payroll (id integer)"))
        db.engine.dispose()
    result = _cli(shared, "restore", tmp_path / "b.tar")
    assert result.exit_code == 1 and "not the forum's: payroll" in result.stderr
    with shared.app_context():
        assert db.inspect(db.engine).get_table_names() == ["payroll"]


def test_a_tampered_archive_is_refused_before_anything_is_written(app, content, make_target,
                                                                   tmp_path):
    archive = tmp_path / "b.tar"
    assert _cli(app, "backup", archive).exit_code == 0
    key = content["keys"][0]
    with tarfile.open(archive) as tar:
        offset = tar.getmember(f"files/{key}").offset_data
    data = bytearray(archive.read_bytes())
    data[offset + 3] ^= 0x01  # one bit of one byte of one file
    archive.write_bytes(bytes(data))
    target = make_target()
    result = _cli(target, "restore", archive)
    assert result.exit_code == 1
    assert f"files/{key}" in result.stderr and "nothing was restored" in result.stderr
    with target.app_context():
        assert db.inspect(db.engine).get_table_names() == []
        assert list(storage_for(target).iter_keys()) == []


def test_an_archive_cut_short_is_refused(app, content, make_target, tmp_path):
    archive = tmp_path / "b.tar.gz"
    assert _cli(app, "backup", archive).exit_code == 0
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    target = make_target()
    result = _cli(target, "restore", archive)
    assert result.exit_code == 1 and "damaged" in result.stderr
    with target.app_context():
        assert db.inspect(db.engine).get_table_names() == []


def test_backup_and_restore_with_the_files_in_an_object_store(make_app, personas, s3,
                                                               make_target, tmp_path):
    source = make_app(**s3.settings("source"))
    content = _fill(source, personas)
    result = _cli(source, "backup", tmp_path / "b.tar.gz")
    assert result.exit_code == 0, result.stderr
    assert {n for n in _members(tmp_path / "b.tar.gz") if n.startswith("files/")} == \
        {f"files/{key}" for key in content["keys"]}
    target = make_target(**s3.settings("restored"))
    result = _cli(target, "restore", tmp_path / "b.tar.gz")
    assert result.exit_code == 0, result.stderr
    assert _stored(target) == _stored(source) and len(_stored(target)) == 3
    for model in COMPARED:
        assert _rows(target, model) == _rows(source, model), model.__name__
    listed = s3.client.list_objects_v2(Bucket=s3.bucket, Prefix="restored/")["Contents"]
    assert sorted(item["Key"].rsplit("/", 1)[-1] for item in listed) == content["keys"]


# --- check-storage ---------------------------------------------------------------------------


def test_check_storage_finds_missing_and_unused_files(app, content):
    assert _cli(app, "check-storage").exit_code == 0
    orphan = b"nobody uses this file\n" * 10
    orphan_key = hashlib.sha256(orphan).hexdigest()
    with app.app_context():
        storage = storage_for(app)
        storage.delete(content["second_key"])
        storage.put(orphan_key, io.BytesIO(orphan))
    result = _cli(app, "check-storage")
    assert result.exit_code == 1
    assert f"missing: {content['second_key']}" in result.stdout
    assert "“Harmonogram” version 1" in result.stdout and "miasta-testowe" in result.stdout
    assert f"unused: {orphan_key} (220 B)" in result.stdout
    assert "1 missing, 1 unused" in result.stdout
    cleaned = _cli(app, "check-storage", "--delete-unused")
    assert "deleted 1 unused file(s)" in cleaned.stdout
    with app.app_context():
        keys = set(storage_for(app).iter_keys())
    assert orphan_key not in keys
    assert keys == set(content["keys"]) - {content["second_key"]}  # used files kept


# --- the drill: backup while the forum takes writes -----------------------------------------


class WriteLoad(threading.Thread):
    """Posts, chat messages and uploads through the services, until stopped."""

    def __init__(self, app, personas):
        super().__init__(daemon=True)
        self.app, self.personas = app, personas
        self.stop, self.error, self.rounds = threading.Event(), None, 0
        self.progress = threading.Condition()

    def wait_rounds(self, n: int, timeout: float = 60) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: self.rounds >= n or self.error, timeout)
        assert self.error is None, self.error

    def run(self):
        try:
            with self.app.app_context():
                member = factories.user(self.personas.member.id)
                group = factories.group(self.personas.g1.id)
                thread_id = discussions.start_thread(member, group, title="Pod obciążeniem",
                                                     body="pierwszy").id
                n = 0
                while not self.stop.is_set():
                    n += 1
                    member = factories.user(self.personas.member.id)
                    group = factories.group(self.personas.g1.id)
                    thread = db.session.get(Thread, thread_id)
                    discussions.reply(member, thread, f"odpowiedź {n}")
                    if n % 3 == 0:
                        thread_id = discussions.start_thread(
                            member, group, title=f"Wątek {n}", body=f"początek {n}").id
                    chat.send_message(member, group, f"wiadomość {n}", f"load-{n}")
                    if n % 2 == 0:
                        _share(member, group, f"Plik {n}", f"Zawartość pliku {n}\n".encode() * 20)
                    db.session.remove()
                    with self.progress:
                        self.rounds = n
                        self.progress.notify_all()
        except BaseException as error:  # reported by wait_rounds and the test
            self.error = error
            with self.progress:
                self.progress.notify_all()


def test_the_restore_drill_under_write_load(make_app, personas, content, make_target,
                                            tmp_path):
    source = make_app(FORUM_CHAT_RATE="100000/minute")
    load = WriteLoad(source, personas)
    load.start()
    try:
        load.wait_rounds(10)
        before = load.rounds
        result = _cli(source, "backup", tmp_path / "drill.tar.gz")
        after = load.rounds
        load.wait_rounds(after + 10)  # writes went on after the snapshot
    finally:
        load.stop.set()
        load.join(30)
    assert load.error is None, load.error
    assert result.exit_code == 0, result.stderr
    manifest = json.loads(_members(tmp_path / "drill.tar.gz")["manifest.json"])

    target = make_target()
    restored = _cli(target, "restore", tmp_path / "drill.tar.gz")
    assert restored.exit_code == 0, restored.stderr

    # The snapshot caught the forum in the middle of the load: more than before the backup
    # started, less than in the end.
    source_posts, target_posts = _rows(source, Post), _rows(target, Post)
    assert 2 + before < len(target_posts) < len(source_posts)
    # Every restored row is exactly the source's row (body, author, time stamps, everything);
    # threads by what later replies do not change.
    for model in (Post, ChatMessage, Material, MaterialVersion):
        source_rows, target_rows = _rows(source, model), _rows(target, model)
        assert target_rows, model.__name__
        for row_id, row in target_rows.items():
            assert source_rows[row_id] == row, (model.__name__, row_id)
    fixed = [Thread.__table__.c.keys().index(name)
             for name in ("id", "group_id", "title", "author_id", "created_at")]
    source_threads = _rows(source, Thread)
    for row_id, row in _rows(target, Thread).items():
        assert [row[i] for i in fixed] == [source_threads[row_id][i] for i in fixed]
    # The counts are the manifest's.
    counts = manifest["counts"]
    assert len(target_posts) == counts["posts"]
    assert len(_rows(target, ChatMessage)) == counts["chat_messages"]
    assert len(_rows(target, MaterialVersion)) == counts["material_versions"]
    assert len(_rows(target, Thread)) == counts["threads"]
    # Every file a restored row refers to is there, and its bytes hash to its key.
    # Exactly the files the snapshot's rows refer to, no later upload.
    stored = _stored(target)
    key_col = MaterialVersion.__table__.c.keys().index("storage_key")
    assert set(stored) == {row[key_col] for row in _rows(target, MaterialVersion).values()}
    for key, data in stored.items():
        assert hashlib.sha256(data).hexdigest() == key
    # The snapshot is consistent: posts numbered 1..n in every thread, counters agree.
    threads = _rows(target, Thread)
    numbers: dict[int, list[int]] = {}
    thread_col = Post.__table__.c.keys().index("thread_id")
    number_col = Post.__table__.c.keys().index("number")
    for row in target_posts.values():
        numbers.setdefault(row[thread_col], []).append(row[number_col])
    last_col = Thread.__table__.c.keys().index("last_number")
    assert set(numbers) <= set(threads)
    for thread_id, thread in threads.items():
        assert sorted(numbers.get(thread_id, [])) == list(range(1, thread[last_col] + 1))


def test_a_pg_dump_older_than_the_server_is_refused_clearly():
    from forum.backup import BackupError, find_pg_tool

    try:
        path, major = find_pg_tool("pg_dump", 10)
    except BackupError as missing:
        from tests.loud_skips import skip_missing

        skip_missing("pg_dump", str(missing))
    assert major >= 15 and path.endswith("pg_dump")
    with pytest.raises(BackupError, match=r"PostgreSQL 99 or newer .* found only .*\(15\)"):
        find_pg_tool("pg_dump", 99)
