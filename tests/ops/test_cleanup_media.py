"""cleanup_media deletes old photo files that no row names, and nothing else."""

from __future__ import annotations

import io
import os
import time

from django.core.management import call_command
from PIL import Image

from carto.services.pin_photos import pin_photo_add
from tests.factories import make_pin


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "blue").save(buffer, "JPEG")
    return buffer.getvalue()


def test_old_orphan_photos_are_deleted_and_referenced_or_recent_ones_kept(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photo = pin_photo_add(pin=make_pin(), data=_jpeg())
    kept = tmp_path / photo.file.name
    photos = tmp_path / "photos"
    old_orphan = photos / ("a" * 32 + ".jpg")
    young_orphan = photos / ("b" * 32 + ".jpg")
    for orphan in (old_orphan, young_orphan):
        orphan.write_bytes(b"left behind by a killed worker")
    two_hours_ago = time.time() - 7200
    os.utime(old_orphan, (two_hours_ago, two_hours_ago))
    os.utime(kept, (two_hours_ago, two_hours_ago))

    out = io.StringIO()
    call_command("cleanup_media", stdout=out)

    assert kept.exists()
    assert not old_orphan.exists()
    assert young_orphan.exists()
    assert "3 files, 1 referenced, 2 orphans (1 deleted, 1 within the grace period)" in out.getvalue()


def test_a_dry_run_deletes_nothing(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    orphan = tmp_path / "photos" / ("c" * 32 + ".jpg")
    orphan.parent.mkdir()
    orphan.write_bytes(b"x")
    out = io.StringIO()
    call_command("cleanup_media", "--dry-run", "--grace-minutes=0", stdout=out)
    assert orphan.exists()
    assert "1 orphans (1 to delete" in out.getvalue()
