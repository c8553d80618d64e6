"""Uploaded materials in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, Garage...).

Chosen by FORUM_STORAGE_URL=s3://bucket/optional/prefix. Objects are named
`<prefix>/<ab>/<cd>/<sha256>`, like the folders of LocalStorage, so app hosts share no disk.
An upload is still streamed to a local temporary file first (its type is sniffed from a path,
images are rewritten), then uploaded by boto3's managed transfer (multipart for big files).

The client is made once per app (boto3 clients are thread-safe) from FORUM_S3_ENDPOINT_URL and
FORUM_S3_REGION; credentials come from boto3's usual chain: AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, a profile, or the machine's role.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from forum.materials.storage import (
    _KEY,
    PendingFile,
    Storage,
    StorageUnavailable,
    StoredFile,
    _hash_file,
    _stat_of,
    check_key,
    make_private_dir,
    stream_to_temp,
)

_MISSING = {"404", "NoSuchKey", "NotFound"}
# Parts of 16 MiB from 32 MiB on; at most 4 parts at a time per upload.
TRANSFER = TransferConfig(multipart_threshold=32 * 1024 * 1024,
                          multipart_chunksize=16 * 1024 * 1024, max_concurrency=4)


def parse_storage_url(url: str) -> tuple[str, str]:
    """s3://bucket/some/prefix → ("bucket", "some/prefix"); ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"FORUM_STORAGE_URL must look like s3://bucket/prefix, not {url!r}")
    return parts.netloc, parts.path.strip("/")


def make_client(endpoint_url: str = "", region: str = "", *, probe: bool = False):
    """An S3 client; `probe=True`: short timeouts and no retries, for health checks."""
    config = Config(
        connect_timeout=2 if probe else 5, read_timeout=5 if probe else 60,
        retries={"total_max_attempts": 1 if probe else 4, "mode": "standard"},
        max_pool_connections=20,
        signature_version="s3v4",
        # A custom endpoint (MinIO, Ceph) is addressed by path: bucket names need no DNS.
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        # Checksums only where S3 requires them: many S3-compatible servers refuse the
        # newer default ones.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url or None, region_name=region or None, config=config)


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


class ObjectBody(io.RawIOBase):
    """An object's body as a plain binary stream: read from the network as it is consumed
    (botocore checks the length at the end), the connection released by close()."""

    def __init__(self, body):
        self._body = body

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        self._checkClosed()
        return self._body.read(None if size is None or size < 0 else size)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Storage(Storage):
    def __init__(self, client, bucket: str, prefix: str, tmp: str | Path,
                 redirect_seconds: int = 0, probe_client=None):
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")
        self.probe_client = probe_client or client  # for check_writable
        self.tmp = Path(tmp)
        self.redirect_seconds = redirect_seconds
        self.transfer = TRANSFER
        self.page_size = 1000  # keys per listing request
        make_private_dir(self.tmp.parent)
        make_private_dir(self.tmp)

    def __repr__(self) -> str:
        return f"S3Storage(s3://{self.bucket}/{self.prefix})"

    def name_for(self, key: str) -> str:
        check_key(key)
        name = f"{key[:2]}/{key[2:4]}/{key}"
        return f"{self.prefix}/{name}" if self.prefix else name

    # --- uploads ---------------------------------------------------------------------------

    def save(self, stream: BinaryIO, max_bytes: int) -> PendingFile:
        path, size, sha256 = stream_to_temp(stream, self.tmp, max_bytes)
        return PendingFile(path, size, sha256, self, _stat_of(path))

    def commit(self, pending: PendingFile) -> StoredFile:
        if pending.done:
            raise ValueError("this upload was already committed or discarded")
        try:
            if _stat_of(pending.path) != pending._stat:  # rewritten since save(): hash again
                pending.size, pending.sha256 = _hash_file(pending.path)
            self._upload(pending.path, pending.sha256)
        finally:
            pending.path.unlink(missing_ok=True)
        return StoredFile(pending.sha256, pending.size, pending.sha256)

    def _upload(self, path: Path, key: str) -> None:
        if self.exists(key):  # same content already stored: keep one copy
            return
        self.client.upload_file(
            str(path), self.bucket, self.name_for(key), Config=self.transfer,
            ExtraArgs={"ContentType": "application/octet-stream"})

    def put(self, key: str, stream: BinaryIO) -> StoredFile:
        check_key(key)
        path, size, sha256 = stream_to_temp(stream, self.tmp, prefix="put-")
        try:
            if sha256 != key:
                raise ValueError(f"the content's SHA-256 is {sha256}, not the key {key}")
            self._upload(path, key)
        finally:
            path.unlink(missing_ok=True)
        return StoredFile(key, size, key)

    # --- reading ---------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        """The object's body, streamed from the store as it is read (close it)."""
        name = self.name_for(key)
        try:
            return ObjectBody(self.client.get_object(Bucket=self.bucket, Key=name)["Body"])
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(f"s3://{self.bucket}/{name}") from error
            raise

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.name_for(key))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.name_for(key))

    def iter_keys(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "",
            PaginationConfig={"PageSize": self.page_size})
        for page in pages:
            for item in page.get("Contents", ()):
                key = item["Key"].rsplit("/", 1)[-1]
                if _KEY.fullmatch(key) and item["Key"] == self.name_for(key):
                    yield key

    def download_url(self, key: str, *, content_type: str, content_disposition: str) -> str | None:
        """A presigned GET valid FORUM_S3_REDIRECT_SECONDS, answering with the app's
        Content-Type and Content-Disposition; None when downloads go through the app."""
        if self.redirect_seconds <= 0:
            return None
        if not self.exists(key):
            raise FileNotFoundError(f"s3://{self.bucket}/{self.name_for(key)}")
        return self.client.generate_presigned_url(
            "get_object", ExpiresIn=self.redirect_seconds,
            Params={"Bucket": self.bucket, "Key": self.name_for(key),
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": content_disposition})

    # --- health ----------------------------------------------------------------------------

    def check_writable(self) -> None:
        probe = f"{self.prefix}/probe/{uuid.uuid4().hex}" if self.prefix \
            else f"probe/{uuid.uuid4().hex}"
        try:
            self.probe_client.put_object(Bucket=self.bucket, Key=probe, Body=b"probe")
            self.probe_client.delete_object(Bucket=self.bucket, Key=probe)
        except (BotoCoreError, ClientError) as error:
            raise StorageUnavailable(
                f"cannot write to s3://{self.bucket}/{probe}: {error}") from error


def s3_storage_for(app, url: str) -> S3Storage:
    bucket, prefix = parse_storage_url(url)
    config = app.config
    endpoint = config.get("FORUM_S3_ENDPOINT_URL") or ""
    region = config.get("FORUM_S3_REGION") or ""
    # Uploads in progress stay on this host, in the tmp folder LocalStorage would use.
    local = Path(app.instance_path) / (config.get("FORUM_STORAGE_ROOT") or "uploads")
    return S3Storage(make_client(endpoint, region), bucket, prefix, local / "tmp",
                     redirect_seconds=int(config.get("FORUM_S3_REDIRECT_SECONDS") or 0),
                     probe_client=make_client(endpoint, region, probe=True))
