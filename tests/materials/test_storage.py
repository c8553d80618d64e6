import hashlib
import io
import os
import stat

import pytest
from flask import Flask
from PIL import Image

from forum.materials import filetypes as ft
from forum.materials.backends import storage_for
from forum.materials.filetypes import RejectedFile
from forum.materials.storage import LocalStorage, StorageUnavailable, StoredFile

MB = 1024 * 1024


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "uploads")


def leftovers(storage):
    return [p for p in storage.root.rglob("*") if p.is_file()]


class Trickle(io.RawIOBase):
    """A stream that counts what was read from it, as an upload arriving over the network."""

    def __init__(self, total: int):
        self.total, self.sent = total, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.total - self.sent)
        buffer[:n] = b"x" * n
        self.sent += n
        return n


def test_root_is_created_private(tmp_path):
    storage = LocalStorage(tmp_path / "a" / "uploads")
    assert stat.S_IMODE(storage.root.stat().st_mode) == 0o700


def test_save_then_commit_stores_by_content_hash(storage):
    data = b"%PDF-1.4 some bytes"
    with storage.save(io.BytesIO(data), max_bytes=MB) as pending:
        assert pending.size == len(data)
        assert pending.sha256 == hashlib.sha256(data).hexdigest()
        assert pending.path.read_bytes() == data
        stored = pending.commit()
    digest = hashlib.sha256(data).hexdigest()
    assert stored == StoredFile(key=digest, size=len(data), sha256=digest)
    assert storage.path_for(stored.key) == storage.root / digest[:2] / digest[2:4] / digest
    assert storage.exists(stored.key)
    with storage.open(stored.key) as f:
        assert f.read() == data
    assert leftovers(storage) == [storage.path_for(stored.key)]


def test_the_same_content_is_kept_once(storage):
    first = storage.save(io.BytesIO(b"same"), MB).commit()
    second = storage.save(io.BytesIO(b"same"), MB).commit()
    assert first == second
    assert len(leftovers(storage)) == 1


def test_leaving_the_block_without_commit_discards_the_upload(storage):
    with pytest.raises(RejectedFile):
        with storage.save(io.BytesIO(b"<html>"), MB) as pending:
            ft.sniff(pending.path, "x.pdf")
    assert leftovers(storage) == []
    pending = storage.save(io.BytesIO(b"abc"), MB)
    pending.discard()
    assert leftovers(storage) == []
    with pytest.raises(ValueError):
        pending.commit()


def test_an_oversized_upload_is_stopped_early_and_leaves_nothing(storage):
    stream = Trickle(2 * MB)
    with pytest.raises(RejectedFile) as error:
        storage.save(stream, max_bytes=MB)
    assert error.value.code == "too_large"
    assert error.value.params == {"limit": "1"}
    assert stream.sent <= MB + 64 * 1024  # stopped at the first chunk over the limit
    assert leftovers(storage) == []


def test_exactly_the_limit_is_accepted(storage):
    assert storage.save(Trickle(MB), max_bytes=MB).size == MB


def test_an_empty_upload_is_refused(storage):
    with pytest.raises(RejectedFile) as error:
        storage.save(io.BytesIO(b""), MB)
    assert error.value.code == "empty"
    assert leftovers(storage) == []


def test_a_rewritten_pending_file_is_hashed_again(storage):
    exif = Image.Exif()
    exif.get_ifd(0x8825)[1] = "N"
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buffer, "JPEG", exif=exif)
    with storage.save(io.BytesIO(buffer.getvalue()), MB) as pending:
        kind = ft.sniff(pending.path, "photo.jpg")
        ft.strip_image_metadata(pending.path, kind)
        stored = pending.commit()
    data = storage.path_for(stored.key).read_bytes()
    assert stored.key == stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data) != len(buffer.getvalue())


@pytest.mark.parametrize("key", [
    "../x", "../" * 10 + "etc/passwd", "/etc/passwd", "", "A" * 64, "g" * 64, "a" * 63,
    "a" * 64 + "/", "a" * 64 + "\n", None,
])
def test_keys_that_are_not_sha256_hex_are_refused(storage, key):
    for method in (storage.path_for, storage.open, storage.exists, storage.delete):
        with pytest.raises(ValueError):
            method(key)


def test_delete(storage):
    stored = storage.save(io.BytesIO(b"bye"), MB).commit()
    storage.delete(stored.key)
    assert not storage.exists(stored.key)
    storage.delete(stored.key)  # deleting twice is harmless


def test_storage_for_reads_the_setting_and_caches(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config["FORUM_STORAGE_ROOT"] = str(tmp_path / "files")
    storage = storage_for(app)
    assert storage is storage_for(app) is app.extensions["forum_storage"]
    assert storage.root == tmp_path / "files"

    relative = Flask(__name__, instance_path=str(tmp_path / "instance"))
    relative.config["FORUM_STORAGE_ROOT"] = "uploads"
    assert storage_for(relative).root == tmp_path / "instance" / "uploads"
    assert os.path.isdir(tmp_path / "instance" / "uploads")


def test_opening_a_missing_file_raises_file_not_found(storage):
    with pytest.raises(FileNotFoundError):
        storage.open("0" * 64)


def test_iter_keys_lists_stored_files_only(storage):
    keys = {storage.save(io.BytesIO(data), MB).commit().key for data in (b"one", b"two")}
    pending = storage.save(io.BytesIO(b"in progress"), MB)  # under tmp: not a key
    (storage.root / "ab").mkdir()
    (storage.root / "ab" / "stray.txt").write_text("not a key")
    misplaced = storage.root / "00" / "00" / hashlib.sha256(b"x").hexdigest()
    misplaced.parent.mkdir(parents=True)
    misplaced.write_bytes(b"x")  # a key in the wrong folder is not reachable by open()
    assert set(storage.iter_keys()) == keys
    pending.discard()


def test_put_stores_under_a_known_key(storage, tmp_path):
    data = b"restored from a backup"
    key = hashlib.sha256(data).hexdigest()
    stored = storage.put(key, io.BytesIO(data))
    assert stored == StoredFile(key, len(data), key)
    with storage.open(key) as f:
        assert f.read() == data
    assert storage.put(key, io.BytesIO(data)) == stored  # again: harmless
    assert list(storage.iter_keys()) == [key]
    assert leftovers(storage) == [storage.path_for(key)]


def test_put_refuses_bytes_that_do_not_hash_to_the_key(storage):
    key = hashlib.sha256(b"the original").hexdigest()
    with pytest.raises(ValueError):
        storage.put(key, io.BytesIO(b"something else"))
    assert not storage.exists(key)
    assert leftovers(storage) == []
    with pytest.raises(ValueError):
        storage.put("../" + key[3:], io.BytesIO(b"the original"))


def test_check_writable(storage):
    storage.check_writable()
    assert leftovers(storage) == []  # the probe is removed
    storage.tmp.rmdir()
    storage.tmp.write_text("a file where the folder should be")
    with pytest.raises(OSError) as error:
        storage.check_writable()
    assert isinstance(error.value, StorageUnavailable)
    assert str(storage.tmp) in str(error.value)


def test_local_downloads_are_streamed_by_the_app(storage):
    key = storage.save(io.BytesIO(b"abc"), MB).commit().key
    assert storage.download_url(key, content_type="text/plain",
                                content_disposition="attachment") is None
