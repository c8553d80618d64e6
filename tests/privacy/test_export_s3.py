"""Data exports with the uploads in an S3-compatible object store (moto's standalone server,
real HTTP): the person's files are read from it and the ZIP is stored in it, downloaded
through the app and deleted from it on expiry."""

from __future__ import annotations

import pytest

# The same tests as on the local disk, with this module's `make_app` (the `app` fixture uses it).
from tests.privacy.test_export import (  # noqa: F401
    test_a_missing_material_file_is_left_out_and_said,
    test_an_expired_export_is_not_downloadable_and_is_removed_by_retention,
    test_the_export_holds_all_of_the_persons_data_and_nothing_of_anyone_elses,
    test_the_storage_check_counts_export_files_as_used,
    world,
)
from tests.privacy.test_export_views import (  # noqa: F401
    test_asking_listing_and_downloading_my_data,
)


@pytest.fixture
def make_app(make_app, s3):
    def _make_app(**overrides):
        return make_app(**{**s3.settings(), **overrides})

    return _make_app


def test_these_tests_use_the_object_store(ctx):
    from forum.materials.backends import storage_for
    from forum.materials.s3storage import S3Storage

    assert isinstance(storage_for(ctx), S3Storage)
