"""Import the Métropole, its EPT, communes, Paris arrondissements and QPV (list) from CARTO_DATA_DIR."""

from __future__ import annotations

import csv
from pathlib import Path

from django.db import transaction

from carto.importers.base import (
    ImportFailed,
    ImportSummary,
    as_storage_multipolygon,
    geojson_features,
    require_file,
)
from carto.models import Territory

METROPOLE_CODE = "200054781"  # SIREN of the EPCI Métropole du Grand Paris
PARIS_CODE = "75056"
Kind = Territory.Kind


def _upsert(summary: ImportSummary, code: str, values: dict) -> Territory:
    territory = Territory.objects.filter(code=code).first()
    if territory is None:
        territory = Territory.objects.create(code=code, **values)
        summary.count(created=True)
        return territory
    changed = False
    for name, value in values.items():
        current = getattr(territory, name)
        if name == "geometry":
            same = current is not None and value is not None and current.equals_exact(value, 0.01)
            same = same or (current is None and value is None)
        else:
            same = current == value
        if not same:
            setattr(territory, name, value)
            changed = True
    if changed:
        territory.save()
    summary.count(created=False, changed=changed)
    return territory


def _populations(data_dir: Path) -> dict[str, int]:
    path = require_file(data_dir / "population_mgp.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["insee_code"]: int(row["population_municipale"]) for row in csv.DictReader(handle)}


@transaction.atomic
def territories_import(*, data_dir: Path) -> ImportSummary:
    """Upsert the Métropole, the 12 EPT, the 130 communes and the 20 arrondissements (one transaction)."""
    summary = ImportSummary("territories")
    population = _populations(data_dir)

    path = data_dir / "mgp_perimeter.geojson"
    (row, props, geometry), *_ = list(geojson_features(path))
    metropole = _upsert(
        summary,
        METROPOLE_CODE,
        {
            "kind": Kind.METROPOLE,
            "name": props.get("name") or "Métropole du Grand Paris",
            "siren": METROPOLE_CODE,
            "population": props.get("population_municipale"),
            "parent": None,
            "geometry": as_storage_multipolygon(geometry, path=path, row=row),
        },
    )

    path = data_dir / "ept_mgp.geojson"
    epts: dict[str, Territory] = {}
    for row, props, geometry in geojson_features(path):
        code = props.get("ept_code") or ""
        if not code.startswith("T"):
            raise ImportFailed(path, f"unknown EPT code {code!r}", row=row)
        epts[code] = _upsert(
            summary,
            code,
            {
                "kind": Kind.EPT,
                "name": props["ept_name"],
                # T1 is Paris itself, whose SIREN (Ville de Paris) is not an EPT one.
                "siren": props.get("ept_siren") or ("217500016" if code == "T1" else ""),
                "population": props.get("population_municipale"),
                "parent": metropole,
                "geometry": as_storage_multipolygon(geometry, path=path, row=row),
            },
        )

    path = data_dir / "communes_mgp.geojson"
    for row, props, geometry in geojson_features(path):
        code, ept_code = props.get("insee_code") or "", props.get("ept_code") or ""
        if ept_code not in epts:
            raise ImportFailed(path, f"commune {code!r} names an unknown EPT {ept_code!r}", row=row)
        _upsert(
            summary,
            code,
            {
                "kind": Kind.COMMUNE,
                "name": props["name"],
                "siren": "",
                "population": population.get(code, props.get("population_municipale")),
                "parent": epts[ept_code],
                "geometry": as_storage_multipolygon(geometry, path=path, row=row),
            },
        )

    paris = Territory.objects.get(code=PARIS_CODE)
    # Arrondissement outlines at full precision (Ville de Paris, ODbL): the generalised 100 m file puts
    # places like Belleville, where four arrondissements meet, in the wrong one. Names come from Etalab.
    precise_path = data_dir / "paris_arrondissements_opendataparis.geojson"
    precise = {
        props.get("insee_code"): (row, geometry) for row, props, geometry in geojson_features(precise_path)
    }
    path = data_dir / "paris_arrondissements.geojson"
    for row, props, geometry in geojson_features(path):
        if props.get("insee_code") in precise:
            row, geometry = precise[props["insee_code"]]
            geometry_path = precise_path
        else:
            geometry_path = path
        code = props.get("insee_code") or ""
        if not (code.startswith("751") and len(code) == 5):
            raise ImportFailed(path, f"unknown arrondissement code {code!r}", row=row)
        _upsert(
            summary,
            code,
            {
                "kind": Kind.ARRONDISSEMENT,
                "name": props["name"],
                "siren": "",
                "population": population.get(code, props.get("population_municipale")),
                "parent": paris,
                "geometry": as_storage_multipolygon(geometry, path=geometry_path, row=row),
            },
        )
    return summary


@transaction.atomic
def qpv_list_import(*, data_dir: Path) -> ImportSummary:
    """Upsert the 2024 QPV of the Métropole from the ANCT list (codes, names, communes; no contours)."""
    summary = ImportSummary("qpv (list)")
    path = require_file(data_dir / "qpv2024_list_idf_bayonne.csv")
    communes = {t.code: t for t in Territory.objects.of_kind(Kind.COMMUNE)}
    with path.open(newline="", encoding="utf-8") as handle:
        for row, record in enumerate(csv.DictReader(handle), start=2):
            if record.get("in_mgp") != "true":
                summary.skip("outside the Métropole")
                continue
            code = record["code_qp"]
            if not code.startswith("QN"):
                raise ImportFailed(path, f"not a 2024 QPV code: {code!r}", row=row)
            codes = [c for c in record["insee_codes"].split(";") if c]
            members = [communes[c] for c in codes if c in communes]
            if not members:
                raise ImportFailed(path, f"QPV {code} names no known commune ({codes})", row=row)
            existing = Territory.objects.filter(code=code).first()
            qpv = _upsert(
                summary,
                code,
                {
                    "kind": Kind.QPV,
                    "name": record["lib_qp"],
                    "siren": "",
                    # A QPV may span communes of several EPT: its parent is its first commune.
                    "parent": members[0],
                    # Keep contours imported by qpv_contours_import; the list has none.
                    "geometry": existing.geometry if existing else None,
                },
            )
            qpv.communes.set(members)
    return summary


def qpv_populations_import(*, data_dir: Path) -> ImportSummary:
    """Population municipale of each QPV of the Métropole (INSEE 2020, qpv2024_population_mgp.csv)."""
    summary = ImportSummary("qpv populations")
    path = require_file(data_dir / "qpv2024_population_mgp.csv")
    known = {t.code: t for t in Territory.objects.of_kind(Kind.QPV)}
    with path.open(newline="", encoding="utf-8") as handle:
        for row, record in enumerate(csv.DictReader(handle), start=2):
            qpv = known.get(record.get("code_qp", ""))
            if qpv is None:
                summary.skip("not a QPV of the Métropole")
                continue
            try:
                population = int(record["population"])
            except (KeyError, ValueError) as exc:
                raise ImportFailed(
                    path, f"population is not a number: {record.get('population')!r}", row=row
                ) from exc
            if population <= 0:
                raise ImportFailed(path, f"population must be positive: {population}", row=row)
            changed = qpv.population != population
            if changed:
                qpv.population = population
                qpv.save(update_fields=["population"])
            summary.count(created=False, changed=changed)
    return summary
