"""Uploads in an S3-compatible object store: the storage contract, and the app's views on it.

The object store is moto's standalone server (PyPI `moto[server]`) started as a separate
process on 127.0.0.1 by the `s3` fixture: boto3 speaks real HTTP S3 to it, nothing is mocked
in-process. Every test gets a new bucket.
"""

from __future__ import annotations

import hashlib
import io
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from PIL import Image

from forum.materials import filetypes as ft
from forum.materials.backends import storage_for
from forum.materials.filetypes import RejectedFile
from forum.materials.s3storage import ObjectBody, S3Storage, make_client, parse_storage_url
from forum.materials.storage import StorageUnavailable, StoredFile
from tests.materials import samples

# The same HTTP tests as for the local disk, and the session recap's ZIP export, here with the
# files in the object store (they use the `app` fixture, which takes this module's `make_app`).
from tests.materials.test_views import (  # noqa: F401
    _share,
    test_non_members_get_404_everywhere,
    test_office_files_download_as_attachments,
    test_refused_upload_keeps_what_was_typed,
    test_share_list_and_download,
    test_versions_and_moderation,
)
from tests.servers import free_port
from tests.workshops.test_recap import test_the_zip_export, web  # noqa: F401

MB = 1024 * 1024


@pytest.fixture
def make_app(make_app, s3):
    """Apps of this module keep their files in the test bucket (settings may be overridden)."""

    def _make_app(**overrides):
        return make_app(**{**s3.settings(), **overrides})

    return _make_app


@pytest.fixture
def storage(s3, tmp_path):
    return S3Storage(make_client(s3.endpoint, "us-east-1"), s3.bucket, "forum/uploads",
                     tmp_path / "tmp")


def objects(s3) -> dict[str, bytes]:
    listed = s3.client.list_objects_v2(Bucket=s3.bucket).get("Contents", [])
    return {item["Key"]: s3.client.get_object(Bucket=s3.bucket, Key=item["Key"])["Body"].read()
            for item in listed}


def local_files(directory) -> list:
    return [p for p in directory.rglob("*") if p.is_file()]


# --- the storage contract --------------------------------------------------------------------


def test_the_storage_url_names_bucket_and_prefix():
    assert parse_storage_url("s3://forum-files/prod/uploads/") == ("forum-files", "prod/uploads")
    assert parse_storage_url("s3://forum-files") == ("forum-files", "")
    for wrong in ("forum-files/uploads", "https://forum-files/x", "s3:///uploads"):
        with pytest.raises(ValueError):
            parse_storage_url(wrong)


def test_save_commit_open_exists_delete(storage, s3):
    data = b"%PDF-1.4 some bytes"
    digest = hashlib.sha256(data).hexdigest()
    with storage.save(io.BytesIO(data), max_bytes=MB) as pending:
        assert pending.path.parent == storage.tmp  # sniffing needs a local file
        assert pending.path.read_bytes() == data
        stored = pending.commit()
    assert stored == StoredFile(key=digest, size=len(data), sha256=digest)
    assert objects(s3) == {f"forum/uploads/{digest[:2]}/{digest[2:4]}/{digest}": data}
    assert local_files(storage.tmp) == []  # the temporary file is gone once uploaded
    assert storage.exists(digest)
    with storage.open(digest) as body:
        assert isinstance(body, ObjectBody)  # read from the network as it is consumed
        assert body.read(4) == b"%PDF" and body.read() == data[4:]
    storage.delete(digest)
    assert not storage.exists(digest) and objects(s3) == {}
    storage.delete(digest)  # deleting twice is harmless


def test_a_missing_object_is_file_not_found_like_a_missing_file(storage):
    with pytest.raises(FileNotFoundError):
        storage.open("0" * 64)
    assert storage.exists("0" * 64) is False


def test_the_same_content_is_uploaded_once(storage, s3):
    first = storage.save(io.BytesIO(b"same"), MB).commit()
    modified = s3.client.head_object(Bucket=s3.bucket, Key=storage.name_for(first.key))
    second = storage.save(io.BytesIO(b"same"), MB).commit()
    again = s3.client.head_object(Bucket=s3.bucket, Key=storage.name_for(first.key))
    assert first == second and len(objects(s3)) == 1
    assert again["LastModified"] == modified["LastModified"]
    assert local_files(storage.tmp) == []


def test_refused_and_discarded_uploads_leave_nothing(storage, s3):
    with pytest.raises(RejectedFile):
        with storage.save(io.BytesIO(samples.HTML_AS_PDF), MB) as pending:
            ft.sniff(pending.path, "x.pdf")
    with pytest.raises(RejectedFile) as error:
        storage.save(io.BytesIO(b"x" * (MB + 1)), MB)
    assert error.value.code == "too_large"
    assert local_files(storage.tmp) == [] and objects(s3) == {}


def test_a_rewritten_pending_file_is_hashed_again(storage):
    exif = Image.Exif()
    exif.get_ifd(0x8825)[1] = "N"
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buffer, "JPEG", exif=exif)
    with storage.save(io.BytesIO(buffer.getvalue()), MB) as pending:
        ft.strip_image_metadata(pending.path, ft.sniff(pending.path, "photo.jpg"))
        stored = pending.commit()
    with storage.open(stored.key) as body:
        data = body.read()
    assert stored.key == hashlib.sha256(data).hexdigest() != hashlib.sha256(
        buffer.getvalue()).hexdigest()


def test_a_big_file_goes_up_in_parts(storage, s3):
    storage.transfer = type(storage.transfer)(multipart_threshold=5 * MB,
                                              multipart_chunksize=5 * MB)
    data = bytes(range(256)) * (12 * MB // 256)
    stored = storage.save(io.BytesIO(data), 20 * MB).commit()
    head = s3.client.head_object(Bucket=s3.bucket, Key=storage.name_for(stored.key))
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts
    with storage.open(stored.key) as body:
        assert hashlib.sha256(body.read()).hexdigest() == stored.key


def test_iter_keys_lists_this_prefix_page_by_page(storage, s3):
    storage.page_size = 2
    keys = {storage.save(io.BytesIO(b"file %d" % n), MB).commit().key for n in range(5)}
    s3.client.put_object(Bucket=s3.bucket, Key="forum/uploads/ab/cd/not-a-key", Body=b"x")
    s3.client.put_object(Bucket=s3.bucket, Key=f"elsewhere/00/00/{'0' * 64}", Body=b"x")
    s3.client.put_object(Bucket=s3.bucket, Key=f"forum/uploads/00/00/{'1' * 64}", Body=b"x")
    assert set(storage.iter_keys()) == keys


def test_put_verifies_the_key(storage, s3):
    data = b"restored from a backup"
    key = hashlib.sha256(data).hexdigest()
    assert storage.put(key, io.BytesIO(data)) == StoredFile(key, len(data), key)
    assert storage.put(key, io.BytesIO(data)) == StoredFile(key, len(data), key)
    other = hashlib.sha256(b"the original").hexdigest()
    with pytest.raises(ValueError):
        storage.put(other, io.BytesIO(b"something else"))
    assert not storage.exists(other)
    assert list(objects(s3).values()) == [data]
    assert local_files(storage.tmp) == []


def test_check_writable(storage, s3):
    storage.check_writable()
    assert objects(s3) == {}  # the probe is removed
    gone = S3Storage(storage.client, "no-such-bucket-here", "x", storage.tmp)
    with pytest.raises(OSError) as error:
        gone.check_writable()
    assert isinstance(error.value, StorageUnavailable)
    assert "no-such-bucket-here" in str(error.value)


def test_storage_for_chooses_the_object_store_and_keeps_one_client(s3, tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(s3.settings("site/a"), FORUM_STORAGE_ROOT="files",
                      FORUM_S3_REDIRECT_SECONDS=30)
    storage = storage_for(app)
    assert isinstance(storage, S3Storage) and storage is storage_for(app)
    assert (storage.bucket, storage.prefix, storage.redirect_seconds) == (s3.bucket, "site/a", 30)
    assert storage.tmp == tmp_path / "instance" / "files" / "tmp"
    assert storage.client.meta.endpoint_url == s3.endpoint
    # Health checks use a client that gives up quickly: no retries, short timeouts.
    probe = storage.probe_client.meta.config
    assert probe.retries["total_max_attempts"] == 1 and probe.connect_timeout <= 2
    assert storage.client.meta.config.retries["total_max_attempts"] > 1


def test_an_unreachable_store_fails_the_check_quickly(s3, tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app.config.update(s3.settings(), FORUM_S3_ENDPOINT_URL=closed)
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        storage_for(app).check_writable()
    assert time.monotonic() - started < 10  # not the main client's retries with back-off


# --- the app on the object store -------------------------------------------------------------


def test_uploads_go_to_the_bucket_not_the_disk(app, personas, login_as, s3, tmp_path):
    assert _share(login_as(personas.member), personas.g1.slug).status_code == 302
    assert list(objects(s3).values()) == [samples.PDF]
    assert local_files(tmp_path / "uploads") == []  # make_app's FORUM_STORAGE_ROOT


def test_downloads_are_streamed_in_chunks_and_closed(app, personas, login_as, s3):
    member = login_as(personas.member)
    data = "".join(f"{n};gmina {n};{n * 7}\r\n" for n in range(15000)).encode()  # ~0.3 MB
    detail = _share(member, personas.g1.slug, data, "dane.csv").headers["Location"]
    storage, opened = storage_for(app), []

    def open_and_record(key, _open=storage.open):  # watch what the view gets
        opened.append(_open(key))
        return opened[-1]

    storage.open = open_and_record
    with member.get(detail + "/download", buffered=False) as response:
        assert response.status_code == 200
        assert response.content_length == len(data)
        assert response.headers["Content-Disposition"].startswith("attachment;")
        [body] = opened
        assert isinstance(body, ObjectBody) and not body.closed
        chunks = list(response.response)
        assert len(chunks) > 10 and max(map(len, chunks)) <= 64 * 1024  # not read at once
        assert b"".join(chunks) == data
    assert body.closed


def test_a_signed_redirect_hands_the_file_over_to_the_store(make_app, personas, s3):
    app = make_app(**s3.settings(FORUM_S3_REDIRECT_SECONDS=60))
    member = app.test_client()
    member.post("/login", data={"email": personas.member.email,
                                "password": "Lipowa-aleja-pachnie-2026"})
    detail = _share(member, personas.g1.slug).headers["Location"]
    response = member.get(detail + "/download")
    assert response.status_code == 302
    assert "no-store" in response.headers["Cache-Control"]  # never kept by a cache
    location = response.headers["Location"]
    assert location.startswith(f"{s3.endpoint}/{s3.bucket}/uploads/")
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["60"]
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200 and fetched.content == samples.PDF
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert fetched.headers["Content-Disposition"] == (
        "attachment; filename=\"Raport - Leczna.pdf\"; "
        "filename*=UTF-8''Raport%20%E2%80%93%20%C5%81%C4%99czna.pdf")
    # Only members get a link: the app's authorisation comes first.
    outsider = app.test_client()
    outsider.post("/login", data={"email": personas.outsider.email,
                                  "password": "Lipowa-aleja-pachnie-2026"})
    assert outsider.get(detail + "/download").status_code == 404
    assert app.test_client().get(detail + "/download").status_code == 302  # to sign in
    assert "X-Amz" not in app.test_client().get(detail + "/download").headers["Location"]


def test_two_hosts_without_a_shared_disk(make_app, personas, s3, tmp_path):
    """Two app instances, each with its own local folder, on one bucket: a file uploaded
    through one host downloads through the other, in both directions."""
    host_a = make_app(FORUM_STORAGE_ROOT=str(tmp_path / "host-a"))
    host_b = make_app(FORUM_STORAGE_ROOT=str(tmp_path / "host-b"))
    clients = []
    for host in (host_a, host_b):
        client = host.test_client()
        client.post("/login", data={"email": personas.member.email,
                                    "password": "Lipowa-aleja-pachnie-2026"})
        clients.append(client)
    on_a, on_b = clients
    detail = _share(on_a, personas.g1.slug).headers["Location"]
    with on_b.get(detail + "/download") as response:
        assert response.status_code == 200 and response.data == samples.PDF
    second = samples.docx()
    on_b.post(detail + "/versions", data={"file": (io.BytesIO(second), "v2.docx"), "note": ""},
              content_type="multipart/form-data")
    with on_a.get(detail + "/v2/download") as response:
        assert response.status_code == 200 and response.data == second
    assert local_files(tmp_path / "host-a") == local_files(tmp_path / "host-b") == []
    assert sorted(objects(s3).values()) == sorted([samples.PDF, second])
