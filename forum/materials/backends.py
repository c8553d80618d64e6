"""Which storage this installation keeps files in: a local folder or an S3 object store."""

from __future__ import annotations

from pathlib import Path

from forum.materials.storage import LocalStorage, Storage


def storage_for(app) -> Storage:
    """The app's storage, made on first use (so after gunicorn forks) and kept in
    app.extensions. FORUM_STORAGE_URL=s3://bucket/prefix chooses the object store; otherwise
    files go under FORUM_STORAGE_ROOT (relative to the instance folder; default
    `<instance>/uploads`)."""
    storage = app.extensions.get("forum_storage")
    if storage is None:
        url = app.config.get("FORUM_STORAGE_URL") or ""
        if url:
            from forum.materials.s3storage import s3_storage_for  # boto3 only when used

            storage = s3_storage_for(app, url)
        else:
            root = Path(app.instance_path) / (app.config.get("FORUM_STORAGE_ROOT") or "uploads")
            storage = LocalStorage(root)
        storage = app.extensions.setdefault("forum_storage", storage)
    return storage
