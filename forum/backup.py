"""Backup and restore of a whole installation, and a check of the uploaded files.

An archive (`.tar` or `.tar.gz`) holds, in this order:

    database/forum.sqlite3   SQLite: a copy made with SQLite's online backup API
    database/forum.pgdump    PostgreSQL: `pg_dump --format=custom`
    files/<key>              every uploaded file the database snapshot refers to
    manifest.json            what the archive holds, with the SHA-256 and size of every member

The database is copied first, as one consistent snapshot taken while the forum keeps running;
the list of files comes FROM THAT SNAPSHOT (not from the live database), so the archive is
consistent: every file a row of the copy refers to is in it. An upload stores its file before
its row is committed and stored files are never changed (they are named by the SHA-256 of their
content), so a file a snapshot refers to is in the storage when the snapshot is read.

Only the storage interface is used (`open`, `put`, `exists`, `iter_keys`, `delete`), so the
same commands work with files on disk and in object storage.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from sqlalchemy.engine import URL

from forum.extensions import db
from forum.materials.backends import storage_for
from forum.search import SEARCH_TABLE_PREFIXES

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/forum.sqlite3"
POSTGRES_MEMBER = "database/forum.pgdump"
FILES_DIR = "files/"
CHUNK = 1024 * 1024
_KEY = re.compile(r"[0-9a-f]{64}")

# What the manifest counts, read from the snapshot: name → table.
COUNTED_TABLES = {
    "users": "user",
    "groups": "exchange_group",
    "threads": "thread",
    "posts": "post",
    "chat_messages": "chat_message",
    "materials": "material",
    "material_versions": "material_version",
}


class BackupError(Exception):
    """Something an operator must fix; the message says what."""


# --- small helpers ---------------------------------------------------------------------------


def _sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _sha256_stream(stream: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class _HashingReader(io.RawIOBase):
    """Reads a stream for tarfile while hashing it; never gives more than `limit` bytes."""

    def __init__(self, stream: BinaryIO, limit: int):
        self.stream, self.limit = stream, limit
        self.digest, self.size = hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.limit - self.size
        n = min(n, self.limit - self.size)
        # Whole reads: tarfile takes a short read for the end of the data, and a raw stream
        # (an object store's body) may give fewer bytes than asked for.
        parts, got = [], 0
        while got < n:
            part = self.stream.read(n - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
        chunk = b"".join(parts)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk

    def has_more(self) -> bool:
        return bool(self.stream.read(1))


def _is_key(value: str) -> bool:
    return isinstance(value, str) and bool(_KEY.fullmatch(value))


def _app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("exchange-forum")
    except PackageNotFoundError:
        return "unknown"


def _database_url() -> URL:
    return db.engine.url


def _kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("the SQLite database is in memory: there is no file to back up")
    return Path(url.database)


def _storage_reference_tables() -> list:
    """Tables with a `storage_key` column (material_version; data_export, whose ZIPs are
    backed up like other files while they exist and whose key is empty until built)."""
    return [table for table in db.metadata.sorted_tables if "storage_key" in table.c]


# --- PostgreSQL tools ------------------------------------------------------------------------


def libpq_url(url: URL) -> tuple[str, dict[str, str]]:
    """`postgresql+psycopg://…` as a libpq URI without the password, and the environment
    (PGPASSWORD) that carries it: a password on a command line is visible to `ps`."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out.stdout)
    if not match:
        raise BackupError(f"{path} --version gave no PostgreSQL version: {out.stdout.strip()!r}")
    return int(match.group(1))


def find_pg_tool(name: str, at_least: int) -> tuple[str, int]:
    """`pg_dump` or `pg_restore` of major version `at_least` or newer: PATH first, then the
    newest of /usr/lib/postgresql/*/bin (Debian)."""
    candidates = []
    if on_path := shutil.which(name):
        candidates.append(on_path)
    debian = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                    key=lambda p: int(Path(p).parent.parent.name)
                    if Path(p).parent.parent.name.isdigit() else 0, reverse=True)
    candidates += [p for p in debian if os.access(p, os.X_OK)]
    if not candidates:
        raise BackupError(f"{name} was not found on PATH nor in /usr/lib/postgresql/*/bin; "
                          f"install the PostgreSQL client (apt-get install postgresql-client)")
    found = []
    for candidate in candidates:
        major = _tool_major(candidate)
        if major >= at_least:
            return candidate, major
        found.append(f"{candidate} ({major})")
    raise BackupError(f"{name} must be of PostgreSQL {at_least} or newer (the server's "
                      f"version); found only {', '.join(found)}. Install postgresql-client-"
                      f"{at_least} or newer.")


def _psycopg_connect(url: URL):
    import psycopg

    conninfo, _env = libpq_url(url)
    return psycopg.connect(conninfo, password=url.password) if url.password else \
        psycopg.connect(conninfo)


# --- reading a snapshot ----------------------------------------------------------------------


@dataclass
class Snapshot:
    kind: str
    path: Path  # the database copy (SQLite file or pg_dump archive) in the staging directory
    revision: str | None
    counts: dict[str, int]
    files: dict[str, int]  # key → size, as the snapshot's rows say
    tool_version: str = ""


def _read_snapshot(execute) -> tuple[str | None, dict[str, int], dict[str, int]]:
    """Alembic revision, row counts and referenced files, through `execute(sql) → rows`."""
    revision = None
    try:
        rows = execute("SELECT version_num FROM alembic_version")
        revision = rows[0][0] if rows else None
    except Exception:  # a database never migrated has no alembic_version
        revision = None
    counts = {}
    for name, table in COUNTED_TABLES.items():
        try:
            counts[name] = execute(f'SELECT count(*) FROM "{table}"')[0][0]
        except Exception:  # an older schema without this table
            continue
    files: dict[str, int] = {}
    for table in _storage_reference_tables():
        size = "max(size)" if "size" in table.c else "0"
        for key, length in execute(f'SELECT storage_key, {size} FROM "{table.name}" '
                                   "WHERE storage_key IS NOT NULL GROUP BY storage_key"):
            files[key] = int(length or 0)
    return revision, counts, files


def _snapshot_sqlite(url: URL, staging: Path) -> Snapshot:
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"the SQLite database {source_path} does not exist")
    target = staging / "forum.sqlite3"
    source = sqlite3.connect(source_path, timeout=60)
    try:
        copy = sqlite3.connect(target)
        try:
            # One step (pages=-1): one read transaction for the whole copy, so writers (WAL)
            # carry on and the copy is the database as of one moment.
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"the copy of the SQLite database fails its check: {check}")
            revision, counts, files = _read_snapshot(
                lambda sql: copy.execute(sql).fetchall())
        finally:
            copy.close()
    finally:
        source.close()
    return Snapshot("sqlite", target, revision, counts, files,
                    tool_version=f"sqlite {sqlite3.sqlite_version}")


def _snapshot_postgres(url: URL, staging: Path) -> Snapshot:
    import psycopg

    target = staging / "forum.pgdump"
    with _psycopg_connect(url) as conn:
        server_major = conn.info.server_version // 10000
        pg_dump, major = find_pg_tool("pg_dump", server_major)
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        # pg_dump reads the very snapshot this transaction sees: rows and files agree.
        snapshot_id = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        conninfo, env = libpq_url(url)
        result = subprocess.run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", "--file", str(target),
             "--dbname", conninfo],
            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False)
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")

        def execute(sql: str):
            with conn.cursor() as cursor:
                conn.execute("SAVEPOINT snapshot_read")
                try:
                    rows = cursor.execute(sql).fetchall()
                except psycopg.Error:
                    conn.execute("ROLLBACK TO SAVEPOINT snapshot_read")
                    raise
                conn.execute("RELEASE SAVEPOINT snapshot_read")
                return rows

        revision, counts, files = _read_snapshot(execute)
        conn.rollback()
    return Snapshot("postgresql", target, revision, counts, files,
                    tool_version=f"pg_dump {major}, server {server_major}")


# --- backup ----------------------------------------------------------------------------------


@dataclass
class BackupReport:
    path: Path
    size: int
    counts: dict[str, int]
    files: int
    files_bytes: int
    missing: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.damaged


def archive_path(dest: Path, now: datetime | None = None) -> Path:
    """DEST itself (.tar, .tar.gz, .tgz) or, for a directory, a timestamped .tar.gz in it."""
    if dest.is_dir():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        return dest / f"forum-backup-{stamp}.tar.gz"
    if not dest.name.endswith((".tar", ".tar.gz", ".tgz")):
        raise BackupError(f"{dest}: give an existing directory or a file name ending in .tar "
                          "or .tar.gz")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a directory")
    return dest


def _tar_mode(path: Path, writing: bool) -> dict:
    if path.name.endswith((".gz", ".tgz")):
        return {"mode": "w:gz", "compresslevel": 6} if writing else {"mode": "r:gz"}
    return {"mode": "w"} if writing else {"mode": "r:"}


def _tarinfo(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    return info


def create_backup(dest: Path, *, log=lambda message: None) -> BackupReport:
    """Write an archive of the database and its files; see the module's docstring."""
    url = _database_url()
    kind = _kind(url)
    final = archive_path(dest)
    storage = storage_for(current_app)
    created = datetime.now(UTC)
    # Beside the archive: the same file system, not a small /tmp.
    staging = Path(tempfile.mkdtemp(prefix=".forum-backup-", dir=final.parent))
    partial = final.with_name(f".{final.name}.partial")
    try:
        log(f"copying the {kind} database")
        snapshot = (_snapshot_sqlite if kind == "sqlite" else _snapshot_postgres)(url, staging)
        db_member = SQLITE_MEMBER if kind == "sqlite" else POSTGRES_MEMBER
        members: dict[str, dict] = {}
        missing, damaged = [], []
        with tarfile.open(partial, **_tar_mode(final, writing=True)) as tar:
            sha, size = _sha256_file(snapshot.path)
            with open(snapshot.path, "rb") as f:
                tar.addfile(_tarinfo(db_member, size, created.timestamp()), f)
            members[db_member] = {"sha256": sha, "size": size}
            log(f"copying {len(snapshot.files)} file(s)")
            for key, expected_size in sorted(snapshot.files.items()):
                if not _is_key(key):
                    damaged.append(key)
                    continue
                try:
                    stream = storage.open(key)
                except (FileNotFoundError, KeyError):
                    missing.append(key)
                    continue
                with stream:
                    reader = _HashingReader(stream, expected_size)
                    try:
                        tar.addfile(_tarinfo(FILES_DIR + key, expected_size,
                                             created.timestamp()), reader)
                    except OSError as error:  # shorter than the database says
                        raise BackupError(
                            f"the stored file {key} is shorter than the {expected_size} bytes "
                            f"the database records: the storage is damaged ({error}). Run "
                            "`flask forum check-storage`.") from None
                    if reader.has_more():
                        raise BackupError(
                            f"the stored file {key} is longer than the {expected_size} bytes "
                            "the database records: the storage is damaged.")
                sha = reader.digest.hexdigest()
                members[FILES_DIR + key] = {"sha256": sha, "size": expected_size}
                if sha != key:
                    damaged.append(key)
            manifest = {
                "format": FORMAT_VERSION,
                "created_at": created.isoformat(timespec="seconds"),
                "app_version": _app_version(),
                "database": kind,
                "database_tool": snapshot.tool_version,
                "alembic_revision": snapshot.revision,
                "counts": snapshot.counts,
                "files": {"count": len(snapshot.files) - len(missing),
                          "bytes": sum(m["size"] for n, m in members.items()
                                       if n.startswith(FILES_DIR))},
                "missing_files": sorted(missing),
                "damaged_files": sorted(damaged),
                "members": members,
            }
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            tar.addfile(_tarinfo(MANIFEST, len(data), created.timestamp()), io.BytesIO(data))
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        partial.chmod(0o600)
        os.replace(partial, final)  # never a half-written archive under the final name
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupReport(final, final.stat().st_size, snapshot.counts,
                        manifest["files"]["count"], manifest["files"]["bytes"],
                        sorted(missing), sorted(damaged))


# --- verifying an archive --------------------------------------------------------------------


def _open_archive(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        return tarfile.open(path, mode="r:*")
    except tarfile.TarError as error:
        raise BackupError(f"{path} is not a readable backup archive: {error}") from None


def verify_archive(path: Path) -> dict:
    """Read the whole archive once; every member must match the manifest. Returns it."""
    seen: dict[str, tuple[str, int]] = {}
    manifest = None
    problems: list[str] = []
    with _open_archive(path) as tar:
        try:
            for member in tar:
                if not member.isfile():
                    problems.append(f"{member.name}: not a regular file")
                    continue
                stream = tar.extractfile(member)
                if member.name == MANIFEST:
                    try:
                        manifest = json.loads(stream.read())
                    except ValueError as error:
                        raise BackupError(f"{path}: the manifest is unreadable: {error}") from None
                    continue
                seen[member.name] = _sha256_stream(stream)
        except (tarfile.TarError, OSError, EOFError) as error:
            raise BackupError(f"{path} is damaged (cut short?): {error}") from None
    if manifest is None:
        raise BackupError(f"{path} has no {MANIFEST}: not a forum backup")
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"{path} is of format {manifest.get('format')!r}; this version of "
                          f"the forum reads format {FORMAT_VERSION}")
    expected = manifest.get("members", {})
    for name, info in sorted(expected.items()):
        if name not in seen:
            problems.append(f"{name}: listed in the manifest but not in the archive")
        elif seen[name] != (info["sha256"], info["size"]):
            problems.append(f"{name}: SHA-256/size {seen[name][0][:16]}…/{seen[name][1]} "
                            f"differ from the manifest's {info['sha256'][:16]}…/{info['size']}")
    for name in sorted(set(seen) - set(expected)):
        problems.append(f"{name}: in the archive but not in the manifest")
    damaged = set(manifest.get("damaged_files", []))
    for name in expected:
        if name.startswith(FILES_DIR):
            key = name[len(FILES_DIR):]
            if not _is_key(key):
                problems.append(f"{name}: not a storage key")
            elif key not in damaged and expected[name]["sha256"] != key:
                problems.append(f"{name}: its SHA-256 is not its name")
    db_member = SQLITE_MEMBER if manifest.get("database") == "sqlite" else POSTGRES_MEMBER
    if db_member not in expected:
        problems.append(f"{db_member}: the database is missing")
    if problems:
        raise BackupError(f"{path} fails verification; nothing was restored:\n  "
                          + "\n  ".join(problems))
    return manifest


# --- restore ---------------------------------------------------------------------------------


def _nonempty_tables() -> dict[str, int]:
    existing = set(sa_inspect(db.engine).get_table_names())
    found = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in existing:
                count = conn.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar()
                if count:
                    found[table.name] = count
    return found


def _storage_keys(storage, limit: int = 5) -> list[str]:
    keys = []
    for key in storage.iter_keys():
        keys.append(key)
        if len(keys) >= limit:
            break
    return keys


def _foreign_tables() -> list[str]:
    """Tables in the target that the forum's migrations do not make (never dropped)."""
    known = set(db.metadata.tables) | {"alembic_version"}
    return sorted(name for name in sa_inspect(db.engine).get_table_names()
                  if name not in known
                  and not name.startswith((*SEARCH_TABLE_PREFIXES, "sqlite_")))


def check_empty_target(storage) -> None:
    problems = []
    foreign = _foreign_tables()
    if foreign:
        problems.append("the database has tables that are not the forum's: "
                        + ", ".join(foreign))
    tables = _nonempty_tables()
    if tables:
        problems.append("the database has data: " + ", ".join(
            f"{name} ({count} rows)" for name, count in sorted(tables.items())))
    keys = _storage_keys(storage)
    if keys:
        problems.append("the storage already holds files (" + ", ".join(k[:12] + "…"
                                                                          for k in keys) + ")")
    if problems:
        raise BackupError("restore only goes into an empty installation; "
                          + "; ".join(problems) + ". Point FORUM_DATABASE_URL and the "
                          "storage setting at a new, empty database and storage.")


def _restore_sqlite(tar: tarfile.TarFile, info: dict) -> None:
    target = _sqlite_path(_database_url())
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.restoring")
    try:
        with tar.extractfile(SQLITE_MEMBER) as source, open(temporary, "wb") as out:
            reader = _HashingReader(source, info["size"])
            shutil.copyfileobj(reader, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        if reader.digest.hexdigest() != info["sha256"]:
            raise BackupError(f"{SQLITE_MEMBER} changed while it was read")
        db.session.remove()
        db.engine.dispose()  # no connection may keep the old file open
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _drop_empty_tables() -> None:
    """PostgreSQL: the target's tables are all the forum's and empty (checked); drop them so
    the dump's schema, whatever its revision, is created as it was."""
    known = set(db.metadata.tables) | {"alembic_version"}
    names = [name for name in sa_inspect(db.engine).get_table_names() if name in known]
    if names:
        with db.engine.begin() as conn:
            for name in names:
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))


def _restore_postgres(tar: tarfile.TarFile, info: dict, manifest: dict) -> None:
    url = _database_url()
    with _psycopg_connect(url) as conn:
        server_major = conn.info.server_version // 10000
    made_by = re.search(r"pg_dump (\d+)", manifest.get("database_tool", ""))
    pg_restore, _major = find_pg_tool(
        "pg_restore", int(made_by.group(1)) if made_by else server_major)
    staging = Path(tempfile.mkdtemp(prefix="forum-restore-"))
    try:
        dump = staging / "forum.pgdump"
        with tar.extractfile(POSTGRES_MEMBER) as source, open(dump, "wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
        if _sha256_file(dump) != (info["sha256"], info["size"]):
            raise BackupError(f"{POSTGRES_MEMBER} changed while it was read")
        db.session.remove()
        _drop_empty_tables()
        db.engine.dispose()
        conninfo, env = libpq_url(url)
        result = subprocess.run(
            [pg_restore, "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
             "--dbname", conninfo, str(dump)],
            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False)
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed (nothing of the database was restored): "
                              f"{result.stderr.strip()}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@dataclass
class RestoreReport:
    manifest: dict
    counts: dict[str, int]
    files: int
    skipped: list[str]


def restore_backup(path: Path, *, log=lambda message: None) -> RestoreReport:
    url = _database_url()
    kind = _kind(url)
    storage = storage_for(current_app)
    check_empty_target(storage)
    log(f"verifying {path}")
    manifest = verify_archive(path)
    if manifest["database"] != kind:
        raise BackupError(f"the archive holds a {manifest['database']} database; this "
                          f"installation uses {kind}. Restore into the same kind of database.")
    members = manifest["members"]
    skipped = sorted(set(manifest.get("damaged_files", [])))
    log(f"restoring the {kind} database")
    with _open_archive(path) as tar:
        if kind == "sqlite":
            _restore_sqlite(tar, members[SQLITE_MEMBER])
        else:
            _restore_postgres(tar, members[POSTGRES_MEMBER], manifest)
    log("restoring the files")
    keys = []
    with _open_archive(path) as tar:
        for member in tar:
            if not member.name.startswith(FILES_DIR):
                continue
            key = member.name[len(FILES_DIR):]
            if key in skipped:
                continue
            with tar.extractfile(member) as stream:
                storage.put(key, stream)  # checks that the content's SHA-256 is the key
            keys.append(key)
    # Verify again what is now in place: the database's counts, every file's content.
    with db.engine.connect() as conn:
        revision, counts, referenced = _read_snapshot(
            lambda sql: conn.execute(text(sql)).all())
    problems = []
    if counts != manifest["counts"]:
        problems.append(f"row counts {counts} differ from the manifest's {manifest['counts']}")
    if revision != manifest["alembic_revision"]:
        problems.append(f"revision {revision} differs from {manifest['alembic_revision']}")
    for key in keys:
        try:
            with storage.open(key) as stream:
                sha, _size = _sha256_stream(stream)
        except FileNotFoundError:
            sha = "missing"
        if sha != key:
            problems.append(f"files/{key}: {sha} after restore")
    if problems:
        raise BackupError("the restored installation does not match the archive:\n  "
                          + "\n  ".join(problems))
    return RestoreReport(manifest, counts, len(keys), skipped)


# --- check-storage ---------------------------------------------------------------------------


@dataclass
class Reference:
    key: str
    size: int
    what: str  # "material 12 “Title” v2, group slug"


def iter_references() -> Iterator[Reference]:
    from forum.groups.models import Group
    from forum.materials.models import Material, MaterialVersion

    rows = db.session.execute(
        db.select(MaterialVersion.storage_key, MaterialVersion.size, MaterialVersion.number,
                  Material.id, Material.title, Material.deleted_at, Group.slug)
        .join(Material, MaterialVersion.material_id == Material.id)
        .join(Group, Material.group_id == Group.id)
        .order_by(Group.slug, Material.id, MaterialVersion.number))
    for key, size, number, material_id, title, deleted_at, slug in rows:
        deleted = ", deleted" if deleted_at else ""
        yield Reference(key, size, f"group {slug}: material {material_id} “{title}” "
                                   f"version {number}{deleted}")
    for table in _storage_reference_tables():  # any other table that keeps files
        if table.name == MaterialVersion.__tablename__:
            continue
        size = table.c.size if "size" in table.c else db.literal(0)
        for key, length in db.session.execute(db.select(table.c.storage_key, size)
                                              .where(table.c.storage_key.is_not(None))):
            yield Reference(key, int(length or 0), f"{table.name} row")


def _stored_size(storage, key: str) -> int:
    with storage.open(key) as stream:
        try:
            return os.fstat(stream.fileno()).st_size
        except (AttributeError, OSError, io.UnsupportedOperation):
            return _sha256_stream(stream)[1]


@dataclass
class StorageReport:
    missing: list[Reference]
    unused: dict[str, int]  # key → size
    referenced: int
    stored: int


def check_storage() -> StorageReport:
    storage = storage_for(current_app)
    stored = set(storage.iter_keys())
    references = list(iter_references())
    referenced = {ref.key for ref in references}
    missing = [ref for ref in references if ref.key not in stored]
    unused = {}
    for key in sorted(stored - referenced):
        try:
            unused[key] = _stored_size(storage, key)
        except FileNotFoundError:  # deleted meanwhile
            continue
    return StorageReport(missing, unused, len(referenced), len(stored))


def delete_unused_files(keys) -> list[str]:
    """Delete stored files no row refers to, checking each again just before."""
    from forum.materials.models import MaterialVersion

    storage = storage_for(current_app)
    deleted = []
    for key in keys:
        db.session.rollback()  # a fresh look at the database for every key
        used = db.session.scalar(db.select(db.func.count()).select_from(MaterialVersion)
                                 .where(MaterialVersion.storage_key == key))
        for table in _storage_reference_tables():  # data exports' ZIPs too
            used = used or db.session.scalar(db.select(db.func.count()).select_from(table)
                                             .where(table.c.storage_key == key))
        if not used:
            storage.delete(key)
            deleted.append(key)
    return deleted


# --- commands --------------------------------------------------------------------------------


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--quiet", is_flag=True, help="Print only the summary line and problems.")
@with_appcontext
def backup_command(dest: Path, quiet: bool):
    """Write one archive (database, uploaded files, manifest) to DEST: a .tar or .tar.gz file,
    or an existing directory (then forum-backup-<UTC time>.tar.gz in it). Safe while the
    forum runs. Exit status 1 when something is missing or failed."""
    log = (lambda message: None) if quiet else (lambda message: click.echo(message, err=True))
    try:
        report = create_backup(dest, log=log)
    except BackupError as error:
        click.echo(f"error: backup failed: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(f"backup written to {report.path} ({_human(report.size)}): "
               f"{_counts_line(report.counts)}; {report.files} file(s), "
               f"{_human(report.files_bytes)}")
    for key in report.missing:
        click.echo(f"error: file {key} is referenced by the database but missing from the "
                   "storage; it is not in the archive", err=True)
    for key in report.damaged:
        click.echo(f"error: file {key} does not match its SHA-256 in the storage (damaged); "
                   "it is in the archive as stored but will not be restored", err=True)
    if not report.ok:
        click.echo("error: the archive was written but is incomplete; run "
                   "`flask forum check-storage`", err=True)
        raise SystemExit(1)


@click.command("restore")
@click.argument("archive", type=click.Path(path_type=Path))
@with_appcontext
def restore_command(archive: Path):
    """Restore ARCHIVE into this installation, which must be empty (new database, empty
    storage). Every member is checked against the manifest before anything is written.
    Then run `flask db upgrade` to bring an older backup to the current schema."""
    try:
        report = restore_backup(archive, log=lambda m: click.echo(m, err=True))
    except BackupError as error:
        click.echo(f"error: restore failed: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(f"restored {archive} (made {report.manifest['created_at']}, revision "
               f"{report.manifest['alembic_revision']}): {_counts_line(report.counts)}; "
               f"{report.files} file(s) verified")
    for key in report.skipped:
        click.echo(f"warning: damaged file {key} was not restored", err=True)
    click.echo("next: `flask db upgrade` (brings an older backup to this version's schema), "
               "then start the forum")


@click.command("check-storage")
@click.option("--delete-unused", is_flag=True,
              help="Delete stored files no row refers to (run it when nobody is uploading).")
@with_appcontext
def check_storage_command(delete_unused: bool):
    """Report rows whose files are missing from the storage, and stored files nothing uses.
    Exit status 1 when a file is missing."""
    report = check_storage()
    for ref in report.missing:
        click.echo(f"missing: {ref.key} ({_human(ref.size)}) — {ref.what}")
    for key, size in report.unused.items():
        click.echo(f"unused: {key} ({_human(size)})")
    deleted = delete_unused_files(report.unused) if delete_unused else []
    if deleted:
        click.echo(f"deleted {len(deleted)} unused file(s), "
                   f"{_human(sum(report.unused[k] for k in deleted))}")
    click.echo(f"{report.referenced} file(s) referenced, {report.stored} stored; "
               f"{len(report.missing)} missing, {len(report.unused)} unused")
    if report.missing:
        raise SystemExit(1)


COMMANDS = (backup_command, restore_command, check_storage_command)
