"""Where uploaded materials are kept: one small interface, local disk behind it for now.

Uploading is two steps, because a file's type is only known once its bytes are in hand:

    with storage.save(upload.stream, max_bytes) as pending:   # streamed to a temporary file
        kind = sniff(pending.path, upload.filename)            # may raise RejectedFile
        if kind in IMAGES:
            strip_image_metadata(pending.path, kind)           # rewrites the temporary file
        stored = pending.commit()                              # content-addressed, final
    # leaving the block without commit() (an exception) discards the temporary file

Files are named by the SHA-256 of their content, so the same file uploaded twice is kept once:
`delete(key)` must only be called when no record refers to the key any more.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from forum.materials.filetypes import MB, RejectedFile

CHUNK = 64 * 1024
_KEY = re.compile(r"[0-9a-f]{64}")


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


class Storage(Protocol):
    def save(self, stream: BinaryIO, max_bytes: int) -> PendingFile:
        """Stream to a temporary file; RejectedFile "too_large" or "empty", leaving nothing."""

    def commit(self, pending: PendingFile) -> StoredFile:
        """Make a pending file permanent (PendingFile.commit calls this)."""

    def path_for(self, key: str) -> Path:
        """A local path to the stored file (for sniffing and send_file)."""

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def _stat_of(path: Path) -> tuple:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


class LocalStorage(Storage):
    """Files under `root/ab/cd/<sha256>`; uploads in progress under `root/tmp`."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self.tmp = self.root / "tmp"
        for directory in (self.root, self.tmp):
            if not directory.is_dir():
                directory.mkdir(parents=True, exist_ok=True)
                directory.chmod(0o700)  # mkdir's mode is subject to the umask

    def save(self, stream: BinaryIO, max_bytes: int) -> PendingFile:
        digest, size = hashlib.sha256(), 0
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="upload-")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:  # stop now: never read the rest of a huge upload
                        raise RejectedFile("too_large", limit=f"{max_bytes / MB:g}")
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise RejectedFile("empty")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return PendingFile(path, size, digest.hexdigest(), self, _stat_of(path))

    def commit(self, pending: PendingFile) -> StoredFile:
        if pending.done:
            raise ValueError("this upload was already committed or discarded")
        if _stat_of(pending.path) != pending._stat:  # rewritten since save(): hash again
            pending.size, pending.sha256 = _hash_file(pending.path)
        target = self.path_for(pending.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # same content already stored: keep one copy
            pending.path.unlink()
        else:
            os.replace(pending.path, target)  # atomic; a concurrent twin writes the same bytes
        return StoredFile(pending.sha256, pending.size, pending.sha256)

    def path_for(self, key: str) -> Path:
        # Only 64 lower-case hex digits: a key can never name anything outside the root.
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def open(self, key: str) -> BinaryIO:
        return open(self.path_for(key), "rb")

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()


def _hash_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def storage_for(app) -> Storage:
    """The app's storage, made on first use. A relative FORUM_STORAGE_ROOT is taken from the
    instance folder; without the setting, files go to `<instance>/uploads`."""
    storage = app.extensions.get("forum_storage")
    if storage is None:
        root = Path(app.instance_path) / (app.config.get("FORUM_STORAGE_ROOT") or "uploads")
        storage = app.extensions["forum_storage"] = LocalStorage(root)
    return storage
