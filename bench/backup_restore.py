"""Time `flask forum backup` and `flask forum restore` on the benchmark's forum.

    python -m bench.backup_restore [--posts 100000] [--files 200] [--postgres] [--json FILE]

Builds the load benchmark's forum (bench/build.py: Alembic schema, bulk inserts; threads of
posts/50 posts on average), adds chat messages (bulk) and uploaded materials (through the
materials service, so they are real stored files), then runs the two commands through Flask's
CLI runner exactly as an operator would: a backup to a `.tar.gz` and to a plain `.tar`, and a
restore of the `.tar.gz` into a new, empty database and storage, which is then compared with
the source (row counts). With `--postgres` the same is done on a throw-away PostgreSQL server
(tests/servers.py) after SQLite. Everything stays in a temporary directory on this machine.
The figures are for reading; nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import sqlalchemy as sa

from bench.build import bench_app, build

WORDS = ("budżet", "harmonogram", "konsultacje", "sołectwo", "rada", "mieszkańcy", "projekt",
         "wniosek", "gmina", "powiat", "szkoła", "biblioteka", "ankieta", "spotkanie", "uchwała")


def _add_chat(url: str, count: int, seed: int = 3) -> None:
    from forum.text import render_markdown

    rng = random.Random(seed)
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    message = sa.Table("chat_message", metadata, autoload_with=engine)
    body = "Dzień dobry, przesyłam **harmonogram** na jutro."
    body_html = render_markdown(body)
    now = time.time()
    rows = [{"group_id": 1 + i % 3, "author_id": rng.randint(1, 200), "kind": "message",
             "body": body, "body_html": body_html, "client_id": uuid.uuid4().hex,
             "created_at": _utc(now - (count - i) * 30)}
            for i in range(count)]
    with engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(message.insert(), rows[start:start + 10_000])
    engine.dispose()


def _utc(timestamp: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC)


def _add_files(app, count: int, kb: int, seed: int = 5) -> int:
    """`count` materials with a text file of about `kb` kB each (distinct contents)."""
    from forum.extensions import db
    from forum.groups.models import Group
    from forum.materials import services as materials

    rng = random.Random(seed)
    total = 0
    with app.app_context():
        groups = list(db.session.scalars(db.select(Group).order_by(Group.id)))
        for n in range(count):
            lines, size = [], 0
            while size < kb * 1000:
                line = " ".join(rng.choice(WORDS) for _ in range(12)) + f" {rng.random()}\n"
                lines.append(line)
                size += len(line.encode())
            data = "".join(lines).encode()
            total += len(data)
            materials.share_material(
                None, groups[n % len(groups)],
                materials.MaterialInput(title=f"Materiał {n + 1}", kind="minutes"),
                materials.Upload(io.BytesIO(data), f"material-{n + 1}.txt"))
        db.session.remove()
    return total


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {table: conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()
                    for table in ("user", "thread", "post", "chat_message", "material_version")}
    finally:
        engine.dispose()


def _cli(app, *args) -> tuple[float, str]:
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["forum", *map(str, args)])
    seconds = round(time.perf_counter() - started, 2)
    if result.exit_code != 0:
        raise RuntimeError(f"flask forum {' '.join(map(str, args))} failed:\n"
                           f"{result.stdout}\n{result.stderr}")
    return seconds, result.stdout.strip()


def _dispose(app) -> None:
    from forum.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def measure(kind: str, source_url: str, target_url: str, work: Path, *, posts: int,
            files: int, file_kb: int, chat: int, log=print) -> dict:
    log(f"--- {kind}: building {posts:,} posts")
    info = build(source_url, threads=max(1, posts // 50), posts=posts,
                 long_thread=min(5_000, posts // 4), log=log)
    _add_chat(source_url, chat)
    source = bench_app(source_url, str(work / "source"))
    started = time.perf_counter()
    files_bytes = _add_files(source, files, file_kb)
    log(f"  {chat:,} chat messages, {files} files ({files_bytes / 1e6:.1f} MB) added in "
        f"{time.perf_counter() - started:.1f} s")
    figures: dict = {"database": kind, "posts": posts, "build_seconds": info.seconds,
                     "files": files, "files_mb": round(files_bytes / 1e6, 1),
                     "counts": _counts(source_url)}
    if kind == "sqlite":
        database_file = Path(sa.make_url(source_url).database)
        figures["database_mb"] = round(database_file.stat().st_size / 1e6, 1)

    (work / "backups").mkdir()
    gz, plain = work / "backups" / "forum.tar.gz", work / "backups" / "forum.tar"
    figures["backup_tar_gz_seconds"], line = _cli(source, "backup", gz)
    log(f"  backup .tar.gz: {figures['backup_tar_gz_seconds']:.1f} s — {line}")
    figures["backup_tar_seconds"], line = _cli(source, "backup", plain)
    log(f"  backup .tar:    {figures['backup_tar_seconds']:.1f} s — {line}")
    figures["archive_tar_gz_mb"] = round(gz.stat().st_size / 1e6, 1)
    figures["archive_tar_mb"] = round(plain.stat().st_size / 1e6, 1)
    _dispose(source)

    target = bench_app(target_url, str(work / "target"))
    figures["restore_seconds"], line = _cli(target, "restore", gz)
    log(f"  restore .tar.gz: {figures['restore_seconds']:.1f} s — {line.splitlines()[0]}")
    _dispose(target)
    restored = _counts(target_url)
    if restored != figures["counts"]:
        raise RuntimeError(f"restored counts {restored} differ from {figures['counts']}")
    figures["restored_counts_equal"] = True
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--file-kb", type=int, default=250)
    parser.add_argument("--chat", type=int, default=20_000)
    parser.add_argument("--postgres", action="store_true",
                        help="also on a throw-away PostgreSQL server (tests/servers.py)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args(argv)
    os.environ.setdefault("FORUM_ENV", "testing")
    results = []
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="forum-bench-backup-"))
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        options = {"posts": args.posts, "files": args.files, "file_kb": args.file_kb,
                   "chat": args.chat}
        (work / "sqlite").mkdir()
        results.append(measure("sqlite", f"sqlite:///{work / 'sqlite' / 'source.db'}",
                               f"sqlite:///{work / 'sqlite' / 'target.db'}", work / "sqlite",
                               **options))
        if args.postgres:
            from tests.servers import postgres_server

            server = stack.enter_context(postgres_server())
            server.create_database("bench_source")
            server.create_database("bench_target")
            (work / "postgresql").mkdir()
            results.append(measure("postgresql", server.url("bench_source"),
                                   server.url("bench_target"), work / "postgresql",
                                   **options))
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
