"""Where uploaded materials are kept: one small interface, the local disk or an S3 object store
behind it (forum.materials.backends.storage_for picks one from the settings; the object store
is forum.materials.s3storage).

Uploading is two steps, because a file's type is only known once its bytes are in hand:

    with storage.save(upload.stream, max_bytes) as pending:   # streamed to a temporary file
        kind = sniff(pending.path, upload.filename)            # may raise RejectedFile
        if kind in IMAGES:
            strip_image_metadata(pending.path, kind)           # rewrites the temporary file
        stored = pending.commit()                              # content-addressed, final
    # leaving the block without commit() (an exception) discards the temporary file

Files are named by the SHA-256 of their content, so the same file uploaded twice is kept once:
`delete(key)` must only be called when no record refers to the key any more.

Besides uploads, the interface serves backups and health checks: `iter_keys()` lists what is
stored, `put(key, stream)` stores a file under a known key (refusing bytes that do not hash to
it), `check_writable()` writes and removes a small probe. `open(key)` raises FileNotFoundError
for a missing file whatever the backend, so callers treat both alike.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from forum.materials.filetypes import MB, RejectedFile

CHUNK = 64 * 1024
_KEY = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class StoredFile:
    key: str  # where the storage keeps it; for LocalStorage the SHA-256 in hex
    size: int
    sha256: str


@dataclass(eq=False)
class PendingFile:
    """An upload saved under a temporary name, not yet part of the storage."""

    path: Path
    size: int
    sha256: str
    storage: Storage = field(repr=False)
    _stat: tuple = field(default=(), repr=False)
    done: bool = field(default=False, repr=False)

    def commit(self) -> StoredFile:
        """Move it to its final place (re-hashed if it was rewritten, e.g. image stripping)."""
        stored = self.storage.commit(self)
        self.done = True
        return stored

    def discard(self) -> None:
        if not self.done:
            self.path.unlink(missing_ok=True)
            self.done = True

    def __enter__(self) -> PendingFile:
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()


class StorageUnavailable(OSError):
    """The storage cannot be reached or written (check_writable, object-store errors)."""


class Storage(Protocol):
    def save(self, stream: BinaryIO, max_bytes: int) -> PendingFile:
        """Stream to a local temporary file; RejectedFile "too_large" or "empty", leaving
        nothing."""

    def commit(self, pending: PendingFile) -> StoredFile:
        """Make a pending file permanent (PendingFile.commit calls this)."""

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream (close it); FileNotFoundError when the file is missing."""

    def delete(self, key: str) -> None:
        """Remove a stored file; removing a missing one is harmless."""

    def exists(self, key: str) -> bool: ...

    def iter_keys(self) -> Iterator[str]:
        """Every stored key (uploads in progress and probes are not keys)."""

    def put(self, key: str, stream: BinaryIO) -> StoredFile:
        """Store `stream` under `key` (restoring a backup), streaming. ValueError, leaving
        nothing, when its SHA-256 is not the key. Storing an existing key is harmless."""

    def check_writable(self) -> None:
        """Write and remove a small probe; StorageUnavailable (an OSError) when that fails."""

    def download_url(self, key: str, *, content_type: str, content_disposition: str) -> str | None:
        """A short-lived URL the browser may fetch the file from directly, or None to stream it
        through the app. FileNotFoundError when the file is missing."""


def check_key(key) -> str:
    """Only 64 lower-case hex digits: a key can never name anything outside the storage."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def stream_to_temp(stream: BinaryIO, directory: Path, max_bytes: int | None = None,
                   prefix: str = "upload-") -> tuple[Path, int, str]:
    """Copy `stream` to a new private file in `directory`, hashing it on the way.

    Returns (path, size, sha256). With `max_bytes`, RejectedFile "too_large" as soon as the
    stream goes past it (never reading the rest) and "empty" for no bytes; the file is removed
    on any error."""
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(dir=directory, prefix=prefix)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise RejectedFile("too_large", limit=f"{max_bytes / MB:g}")
                digest.update(chunk)
                out.write(chunk)
        if max_bytes is not None and size == 0:
            raise RejectedFile("empty")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size, digest.hexdigest()


def make_private_dir(directory: Path) -> None:
    if not directory.is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)  # mkdir's mode is subject to the umask


def _stat_of(path: Path) -> tuple:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


class LocalStorage(Storage):
    """Files under `root/ab/cd/<sha256>`; uploads in progress under `root/tmp`."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self.tmp = self.root / "tmp"
        for directory in (self.root, self.tmp):
            make_private_dir(directory)

    def save(self, stream: BinaryIO, max_bytes: int) -> PendingFile:
        path, size, sha256 = stream_to_temp(stream, self.tmp, max_bytes)
        return PendingFile(path, size, sha256, self, _stat_of(path))

    def commit(self, pending: PendingFile) -> StoredFile:
        if pending.done:
            raise ValueError("this upload was already committed or discarded")
        if _stat_of(pending.path) != pending._stat:  # rewritten since save(): hash again
            pending.size, pending.sha256 = _hash_file(pending.path)
        self._place(pending.path, pending.sha256)
        return StoredFile(pending.sha256, pending.size, pending.sha256)

    def _place(self, source: Path, key: str) -> None:
        target = self.path_for(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # same content already stored: keep one copy
            source.unlink()
        else:
            os.replace(source, target)  # atomic; a concurrent twin writes the same bytes

    def path_for(self, key: str) -> Path:
        """The local path of a stored file (LocalStorage only: callers use open())."""
        check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def open(self, key: str) -> BinaryIO:
        return open(self.path_for(key), "rb")

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def iter_keys(self) -> Iterator[str]:
        for first in _subdirs(self.root, 2):
            for second in _subdirs(first, 2):
                with os.scandir(second) as entries:
                    names = sorted(e.name for e in entries if e.is_file(follow_symlinks=False))
                for name in names:
                    if _KEY.fullmatch(name) and name[:2] == first.name \
                            and name[2:4] == second.name:
                        yield name

    def put(self, key: str, stream: BinaryIO) -> StoredFile:
        check_key(key)
        path, size, sha256 = stream_to_temp(stream, self.tmp, prefix="put-")
        if sha256 != key:
            path.unlink(missing_ok=True)
            raise ValueError(f"the content's SHA-256 is {sha256}, not the key {key}")
        self._place(path, key)
        return StoredFile(key, size, key)

    def check_writable(self) -> None:
        try:
            fd, name = tempfile.mkstemp(dir=self.tmp, prefix="probe-")
            try:
                with os.fdopen(fd, "wb") as probe:
                    probe.write(b"probe")
                    probe.flush()
                    os.fsync(probe.fileno())
            finally:
                os.unlink(name)
        except OSError as error:
            raise StorageUnavailable(f"cannot write to {self.tmp}: {error}") from error

    def download_url(self, key: str, *, content_type: str, content_disposition: str) -> None:
        return None  # always streamed by the app


def _subdirs(directory: Path, length: int) -> list[Path]:
    """Sub-directories named by `length` lower-case hex digits (skips tmp), sorted."""
    with os.scandir(directory) as entries:
        return sorted(Path(e.path) for e in entries
                      if len(e.name) == length and _HEX.fullmatch(e.name)
                      and e.is_dir(follow_symlinks=False))


def _hash_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()
