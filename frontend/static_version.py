"""The version of the resident's offline copy: a hash of what the service worker keeps."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from django.conf import settings

STATIC = Path(__file__).resolve().parent / "static"
MAPLIBRE = Path(settings.BASE_DIR) / "frontend" / "node_modules" / "maplibre-gl" / "package.json"


def static_version(folder: Path = STATIC, vendor: Path = MAPLIBRE) -> str:
    """12 hex digits that change whenever one of our static files (or the MapLibre release) changes.

    The service worker serves static files cache first under this name: a hand-bumped constant was forgotten
    as soon as a module changed, and returning phones kept running the old one.
    """
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if vendor.is_file():
        files.append(vendor)
    return _digest(tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))


@functools.lru_cache(maxsize=4)
def _digest(signature: tuple[tuple[str, int, int], ...]) -> str:
    """Read the files again only when one of them was touched (the worker is asked for on every visit)."""
    digest = hashlib.sha256()
    for path, _, _ in signature:
        digest.update(path.encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:12]
