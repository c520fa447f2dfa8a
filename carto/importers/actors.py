"""Import local actors: the IDF lieux de médiation numérique (national schema) and the Belleville actors."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils.text import slugify

from carto.geo import in_idf, to_storage
from carto.importers.base import ImportFailed, ImportSummary, Progress, require_file
from carto.models import Actor, Territory

# Schema columns kept as real model fields; every other column goes verbatim into Actor.schema_extra.
CORE_COLUMNS = {
    "id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse", "latitude", "longitude",
    "typologie", "telephone", "courriels", "site_web", "horaires", "presentation_resume", "source",
    "date_maj", "services", "publics_specifiquement_adresses",
}  # fmt: skip
UNKNOWN_PIVOT = "00000000000000"  # the schema's convention when no SIRET/RNA is known
# The Belleville-Amandiers resource document was written after the workshop of 15 January 2020.
BELLEVILLE_DATE = dt.date(2020, 1, 15)
MGP_DEPARTMENTS = ("75", "92", "93", "94")


class _Places:
    """Communes and arrondissements of the Métropole, to attach actors by point or by code."""

    def __init__(self) -> None:
        self.by_code = {
            t.code: t
            for t in Territory.objects.filter(
                kind__in=[Territory.Kind.COMMUNE, Territory.Kind.ARRONDISSEMENT]
            )
        }

    def commune_of_point(self, point: Point) -> Territory | None:
        return Territory.objects.of_kind(Territory.Kind.COMMUNE).containing(point).order_by("code").first()

    def arrondissement_of_point(self, point: Point) -> Territory | None:
        return (
            Territory.objects.of_kind(Territory.Kind.ARRONDISSEMENT)
            .containing(point)
            .order_by("code")
            .first()
        )

    def place(self, *, code_insee: str, point: Point | None, path: Path, row: int) -> tuple:
        """Return (commune, arrondissement) for an actor; the code wins over the point (some points are off)."""
        commune = arrondissement = None
        if code_insee:
            if code_insee.startswith("751"):
                arrondissement = self.by_code.get(code_insee)
                commune = self.by_code.get("75056")
                if arrondissement is None:
                    raise ImportFailed(path, f"unknown Paris arrondissement code {code_insee!r}", row=row)
            elif code_insee in self.by_code:
                commune = self.by_code[code_insee]
            elif code_insee[:2] in MGP_DEPARTMENTS:
                raise ImportFailed(
                    path, f"unknown commune code {code_insee!r} in a Métropole department", row=row
                )
        if commune is None and point is not None:
            commune = self.commune_of_point(point)
        if commune is not None and commune.code == "75056" and arrondissement is None and point is not None:
            arrondissement = self.arrondissement_of_point(point)
        return commune, arrondissement


def _point(lat: str, lon: str, *, path: Path, row: int) -> Point | None:
    if not lat and not lon:
        return None
    try:
        lat_f, lon_f = float(lat), float(lon)
    except ValueError as exc:
        raise ImportFailed(path, f"coordinates are not numbers: {lat!r}, {lon!r}", row=row) from exc
    if not in_idf(lon_f, lat_f):
        raise ImportFailed(path, f"coordinates outside Île-de-France: lat {lat_f}, lon {lon_f}", row=row)
    return to_storage(Point(lon_f, lat_f, srid=4326))


def _split(value: str) -> list[str]:
    return [part for part in (value or "").split("|") if part]


def _upsert(summary: ImportSummary, source_id: str, values: dict) -> None:
    actor = Actor.objects.filter(source_id=source_id).first()
    if actor is None:
        Actor.objects.create(source_id=source_id, **values)
        summary.count(created=True)
        return
    changed = False
    for name, value in values.items():
        current = getattr(actor, name)
        same = (
            current == value
            if name != "location"
            else (
                (current is None and value is None)
                or (current is not None and value is not None and current.equals_exact(value, 0.01))
            )
        )
        if not same:
            setattr(actor, name, value)
            changed = True
    if changed:
        actor.save()
    summary.count(created=False, changed=changed)


def _rows(path: Path) -> Iterable[tuple[int, dict]]:
    require_file(path)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        yield from enumerate(reader, start=2)


@transaction.atomic
def mediation_places_import(*, path: Path, progress: Progress | None = None) -> ImportSummary:
    """Upsert every row of a schema v1.0.2 CSV of lieux de médiation numérique (one transaction)."""
    summary = ImportSummary(f"actors from {path.name}")
    places = _Places()
    rows = list(_rows(path))
    for index, (row, record) in enumerate(rows, start=1):
        if not record.get("id") or not record.get("nom"):
            raise ImportFailed(path, "missing required id or nom", row=row)
        code_insee = (record.get("code_insee") or "").strip()
        if code_insee and not re.fullmatch(r"\d[\dAB]\d{3}", code_insee):
            raise ImportFailed(path, f"malformed commune code {code_insee!r}", row=row)
        point = _point(record.get("latitude", ""), record.get("longitude", ""), path=path, row=row)
        commune, arrondissement = places.place(code_insee=code_insee, point=point, path=path, row=row)
        try:
            date_maj = dt.date.fromisoformat(record["date_maj"])
        except (KeyError, ValueError) as exc:
            raise ImportFailed(path, f"date_maj is not a date: {record.get('date_maj')!r}", row=row) from exc
        _upsert(
            summary,
            record["id"],
            {
                "pivot": record.get("pivot") or UNKNOWN_PIVOT,
                "name": record["nom"].strip(),
                "address": record.get("adresse", "").strip(),
                "postcode": record.get("code_postal", ""),
                "commune_name": record.get("commune", ""),
                "code_insee": code_insee,
                "commune": commune,
                "arrondissement": arrondissement,
                "location": point,
                "typologie": record.get("typologie", ""),
                "services": _split(record.get("services", "")),
                "publics": _split(record.get("publics_specifiquement_adresses", "")),
                "horaires": record.get("horaires", ""),
                "telephone": record.get("telephone", ""),
                "courriels": record.get("courriels", ""),
                "site_web": record.get("site_web", ""),
                "presentation": (record.get("presentation_resume") or "")[:280],
                "source": record.get("source", ""),
                "date_maj": date_maj,
                "schema_extra": {k: v for k, v in record.items() if k not in CORE_COLUMNS and v},
                "in_mgp": commune is not None,
            },
        )
        if progress:
            progress(index, len(rows))
    return summary


@transaction.atomic
def belleville_actors_import(*, path: Path) -> ImportSummary:
    """Upsert the Belleville-Amandiers actors of the brief; those without coordinates stay, not located."""
    summary = ImportSummary(f"actors from {path.name}")
    places = _Places()
    for row, record in _rows(path):
        name, postcode = record.get("name", "").strip(), record.get("postcode", "").strip()
        if not name or not re.fullmatch(r"\d{5}", postcode):
            raise ImportFailed(path, "missing name or malformed postcode", row=row)
        if not postcode.startswith("750"):
            raise ImportFailed(path, f"postcode {postcode} is not in Paris", row=row)
        code_insee = "751" + postcode[-2:]  # Paris postcodes 750NN are arrondissements 751NN
        point = _point(record.get("lat", ""), record.get("lon", ""), path=path, row=row)
        commune, arrondissement = places.place(code_insee=code_insee, point=point, path=path, row=row)
        _upsert(
            summary,
            "belleville-" + slugify(f"{name} {record.get('address', '')}")[:80],
            {
                "pivot": UNKNOWN_PIVOT,
                "name": name,
                "address": record.get("address", "").strip(),
                "postcode": postcode,
                "commune_name": record.get("city", "") or "Paris",
                "code_insee": code_insee,
                "commune": commune,
                "arrondissement": arrondissement,
                "location": point,
                "typologie": "",
                "services": _split(record.get("themes", "")),
                "publics": [],
                "horaires": "",
                "telephone": record.get("phone", ""),
                "courriels": record.get("email", ""),
                "site_web": "",
                "presentation": "",
                "source": "belleville-amandiers-2020",
                "date_maj": BELLEVILLE_DATE,
                "schema_extra": {},
                "in_mgp": commune is not None,
            },
        )
    return summary
