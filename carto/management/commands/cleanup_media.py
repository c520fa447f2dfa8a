"""Delete photo files that no PinPhoto row names (left by a worker killed between the file and the commit)."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from carto.models import PinPhoto


class Command(BaseCommand):
    help = "Delete files under MEDIA_ROOT/photos with no PinPhoto row, older than a grace period."

    def add_arguments(self, parser):
        # A photo is written before the row naming it commits (carto.services.pin_photos.photo_staged):
        # a young file without a row may belong to a request still in flight.
        parser.add_argument("--grace-minutes", type=float, default=60.0)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, grace_minutes: float, dry_run: bool, **options):
        root = Path(settings.MEDIA_ROOT)
        folder = root / "photos"
        files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
        # Listed after the files: a row committed meanwhile names a file already seen, never the reverse.
        referenced = set(PinPhoto.objects.values_list("file", flat=True))
        cutoff = time.time() - grace_minutes * 60
        orphans = [p for p in files if p.relative_to(root).as_posix() not in referenced]
        old = [p for p in orphans if p.stat().st_mtime < cutoff]
        if not dry_run:
            for path in old:
                path.unlink(missing_ok=True)
        missing = sum(1 for name in referenced if not (root / name).is_file())
        self.stdout.write(
            f"photos: {len(files)} files, {len(files) - len(orphans)} referenced, {len(orphans)} orphans "
            f"({len(old)} {'to delete' if dry_run else 'deleted'}, {len(orphans) - len(old)} within the grace "
            f"period); {missing} rows without their file"
        )
