"""Load the hand-written Grand Paris responses (fixtures/responses.json), upserting on slug."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction

from carto.importers.base import ImportFailed, ImportSummary, read_json
from carto.models import Response

RESPONSES_FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "responses.json"
REQUIRED = ("slug", "name", "scale", "themes")


def _date(value, *, path: Path, row: int) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ImportFailed(path, f"bad date {value!r}", row=row) from exc


@transaction.atomic
def responses_import(*, path: Path = RESPONSES_FIXTURE) -> ImportSummary:
    """Upsert every response on its slug (safe to run again)."""
    summary = ImportSummary("responses")
    records = read_json(path)
    for row, record in enumerate(records, start=1):
        if missing := [key for key in REQUIRED if not record.get(key)]:
            raise ImportFailed(path, f"missing {missing}", row=row)
        if record["scale"] not in Response.Scale.values:
            raise ImportFailed(path, f"unknown scale {record['scale']!r}", row=row)
        values = {
            "name": record["name"],
            "operator": record.get("operator") or "",
            "scale": record["scale"],
            "area_codes": list(record.get("area_codes") or []),
            "themes": list(record["themes"]),
            "url": record.get("url") or "",
            "description": record.get("description") or "",
            "active_from": _date(record.get("active_from"), path=path, row=row),
            "active_until": _date(record.get("active_until"), path=path, row=row),
        }
        existing = Response.objects.filter(slug=record["slug"]).first()
        if existing is None:
            Response.objects.create(slug=record["slug"], **values)
            summary.count(created=True)
            continue
        changed = any(getattr(existing, name) != value for name, value in values.items())
        if changed:
            for name, value in values.items():
                setattr(existing, name, value)
            existing.save()
        summary.count(created=False, changed=changed)
    return summary
