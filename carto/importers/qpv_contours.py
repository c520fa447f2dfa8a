"""Import QPV 2024 contours from the official ANCT GeoJSON (a file path or an URL).

`load_all` reads CARTO_DATA_DIR/qpv2024_mgp.geojson; `import_qpv_contours` takes a newer file. The ANCT
file may have one feature per QPV-within-commune (`code_qp`, `lib_qp`, `insee_com`, …): parts are
merged per code. Only QPV already known from the list (those of the Métropole) are updated; a file
with none of them (another generation's codes) is refused, and nothing changes.
"""

from __future__ import annotations

import tempfile
import urllib.request
from pathlib import Path

from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import transaction

from carto.importers.base import ImportFailed, ImportSummary, as_storage_multipolygon, geojson_features
from carto.models import Territory

# data.gouv.fr, dataset "Quartiers prioritaires de la politique de la ville (QPV)", resource QP2024 WGS84.
DEFAULT_QPV_URL = "https://www.data.gouv.fr/fr/datasets/r/942d4ee8-8142-4556-8ea1-335537ce1119"


def fetch(source: str, *, timeout: float = 30) -> Path:
    """Return a local path for `source`, downloading it first when it is an URL."""
    if not source.startswith(("http://", "https://")):
        return Path(source)
    try:
        with urllib.request.urlopen(source, timeout=timeout) as response:  # noqa: S310 (http(s) only)
            payload = response.read()
    except OSError as exc:
        raise ImportFailed(
            source, f"could not download the QPV contours ({exc}); nothing was changed"
        ) from exc
    handle = tempfile.NamedTemporaryFile(suffix=".geojson", delete=False)  # noqa: SIM115
    with handle:
        handle.write(payload)
    return Path(handle.name)


@transaction.atomic
def qpv_contours_import(*, path: Path) -> ImportSummary:
    """Merge the parts of each QPV and store them on the QPV of the list (one transaction)."""
    summary = ImportSummary(f"qpv contours from {path.name}")
    known = {t.code: t for t in Territory.objects.of_kind(Territory.Kind.QPV)}
    parts: dict[str, list[Polygon]] = {}
    for row, props, geometry in geojson_features(path):
        code = props.get("code_qp")
        if not code:
            raise ImportFailed(path, "feature without code_qp", row=row)
        if code not in known:
            summary.skip("not a QPV of the Métropole")
            continue
        # Official contours are valid: a broken one is a broken file, never silently reshaped.
        multi = as_storage_multipolygon(geometry, path=path, row=row, repair=False)
        parts.setdefault(code, []).extend(multi)
    if not parts:
        raise ImportFailed(
            path, "no QPV 2024 code of the Métropole in this file (another code set?); nothing changed"
        )
    for code, polygons in sorted(parts.items()):
        merged = MultiPolygon(*polygons, srid=polygons[0].srid).unary_union
        if isinstance(merged, Polygon):
            merged = MultiPolygon(merged, srid=merged.srid)
        qpv = known[code]
        changed = qpv.geometry is None or not qpv.geometry.equals_exact(merged, 0.01)
        if changed:
            qpv.geometry = merged
            qpv.save(update_fields=["geometry"])
        summary.count(created=False, changed=changed)
    return summary
