"""Load the hand-written theme taxonomy (fixtures/themes.json) into the database."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from carto.importers.base import ImportFailed, ImportSummary, read_json
from carto.models import Theme

THEMES_FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "themes.json"
LANGUAGES = ("fr", "en", "ar", "zh")


@transaction.atomic
def themes_import(*, path: Path = THEMES_FIXTURE) -> ImportSummary:
    """Upsert every theme on its slug; parents first, so children can point at them."""
    summary = ImportSummary("themes")
    records = read_json(path)
    records.sort(key=lambda r: (r.get("parent") is not None, r.get("order", 0)))
    for row, record in enumerate(records, start=1):
        missing = [lang for lang in LANGUAGES if not record.get("labels", {}).get(lang)]
        if missing:
            raise ImportFailed(path, f"theme {record.get('slug')!r} lacks labels in {missing}", row=row)
        parent = None
        if record.get("parent"):
            parent = Theme.objects.filter(slug=record["parent"]).first()
            if parent is None:
                raise ImportFailed(path, f"unknown parent theme {record['parent']!r}", row=row)
        values = {
            "parent": parent,
            "order": record["order"],
            "color": record["color"],
            "pictogram": record["pictogram"],
            "blur_meters": record["blur_meters"],
            "labels": record["labels"],
            "easy": record.get("easy", {}),
            "keywords": record.get("keywords", {}),
            "services": record.get("services", []),
        }
        theme, created = Theme.objects.get_or_create(slug=record["slug"], defaults=values)
        changed = False
        if not created:
            changed = any(getattr(theme, k) != v for k, v in values.items())
            if changed:
                for key, value in values.items():
                    setattr(theme, key, value)
                theme.save()
        summary.count(created=created, changed=changed)
    return summary
