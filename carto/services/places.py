"""Finding a place at any zoom, and what is near a point: the "where" step of the resident's flow.

`places_search` finds communes, Paris arrondissements, QPV, stations and, once the basemap's streets are
imported, streets by name (accents, case, typos and "r." or "bd" forgiven, carto.sql.places); `places_near` names the nearest station and the territories of a point, so a
resident recognises where the map's centre is ("près de Belleville · M2 M11 · QPV Grand Belleville").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.contrib.gis.db.models.functions import Distance, GeometryDistance
from django.contrib.gis.geos import Point
from django.db import transaction

from carto.actor_places import STREET_ABBREVIATIONS
from carto.errors import InvalidInput
from carto.geo import to_api, to_storage
from carto.importers.streets import StreetsSummary, streets_import
from carto.models import PlaceName, Station, Territory
from carto.models.transit import station_label
from carto.sql.placement import place_point
from carto.sql.places import PlaceRow, rebuild_place_names, search_places
from carto.textsim import normalise

QUERY_MIN_LENGTH = 2
QUERY_MAX_LENGTH = 100
MAX_RESULTS = 10
# "Near a station": within a quarter of an hour's walk.
NEAR_STATION_METRES = 1000

# "Paris 20e", "20e", "20ème arr.", "Paris 20": an arrondissement by its number (on the folded query).
_ARRONDISSEMENT = re.compile(r"^(?:paris )?(\d{1,2}) ?(?:e|er|eme|ieme)?(?: arr(?:ondissement)?)?$")
# "75020" (postcode) or "75120" (INSEE code), and "75116" the 16e's second postcode.
_PARIS_CODE = re.compile(r"^75[01](\d\d)$")


@dataclass(frozen=True)
class Place:
    kind: str  # commune, arrondissement, qpv, station, street
    code: str  # INSEE code, QPV code (QN…), IDFM stop area, or a street's (INSEE code and a hash of its name)
    name: str
    label: str  # the name and what tells it apart: "Montreuil (93)", "Belleville · M2 M11", "Rue de Paris · Bondy"
    lon: float
    lat: float  # a point inside the place (on a street), where the map goes
    bbox: tuple[float, float, float, float] | None  # WGS84 box of a territory or street (none for a station)


@dataclass(frozen=True)
class TerritoryRef:
    code: str
    name: str


@dataclass(frozen=True)
class LineRef:
    label: str
    colour: str


@dataclass(frozen=True)
class NearStation:
    code: str
    name: str
    label: str
    lines: list[LineRef]
    distance_m: int  # rounded to 10 m
    lon: float
    lat: float


@dataclass(frozen=True)
class Nearby:
    inside_metropole: bool
    station: NearStation | None
    commune: TerritoryRef | None
    arrondissement: TerritoryRef | None
    qpv: TerritoryRef | None


def official_codes(text: str) -> list[str]:
    """Codes the query names outright: an INSEE or QPV code as typed, a Paris arrondissement by number or postcode."""
    folded = normalise(text)  # lower case, no accents, punctuation as spaces
    codes = [text.strip().upper()]
    number = None
    if (match := _ARRONDISSEMENT.match(folded)) or (match := _PARIS_CODE.match(folded)):
        number = int(match.group(1))
    if number is not None and 1 <= number <= 20:
        codes.append(f"751{number:02d}")
    return codes


def expand_abbreviations(text: str) -> str:
    """The query with its street abbreviations written out ("r. des Pyrénées" → "rue des pyrenees"), or as
    typed when it has none (then carto_search_key folds it in the database, as every name)."""
    words = normalise(text).split()
    whole = [STREET_ABBREVIATIONS.get(word, word) for word in words]
    return " ".join(whole) if whole != words else text


def short_area(name: str) -> str:
    """A street's commune or arrondissement as its label says it: "Paris 20e Arrondissement" → "Paris 20e"."""
    return name.removesuffix(" Arrondissement")


def _label(row: PlaceRow) -> str:
    if row.kind == Territory.Kind.COMMUNE:
        return f"{row.name} ({row.code[:2]})"  # the département tells homonyms apart
    if row.kind == Territory.Kind.ARRONDISSEMENT:
        return f"{row.name} (750{row.code[-2:]})"  # its postcode, as residents write it
    if row.kind == Territory.Kind.QPV:
        return f"{row.name} · {', '.join(row.communes or [])}"
    if row.kind == PlaceName.Kind.STREET:
        return f"{row.name} · {short_area(row.area or '')}"  # "Rue de Paris · Montreuil"
    name = f"{row.name} ({row.alias})" if row.alias else row.name  # "Boulainvilliers (La Muette)"
    return station_label(name, row.lines or [])


def places_search(*, text: str) -> list[Place]:
    """Up to 10 places matching `text`: exact and prefix matches first, then by similarity; ties go to
    communes and arrondissements, then QPV, then stations, then streets."""
    text = (text or "").strip()
    # A query of punctuation or symbols only ("%%", "--", a bidi mark) folds to an empty search key, which
    # every name contains: it listed ten arbitrary places after scoring the whole gazetteer (12x a search).
    if "\x00" in text or not QUERY_MIN_LENGTH <= len(text) <= QUERY_MAX_LENGTH or not normalise(text):
        raise InvalidInput(
            "invalid_query",
            f"q must be {QUERY_MIN_LENGTH} to {QUERY_MAX_LENGTH} characters, with a letter or a digit",
            fields={"q": [f"{QUERY_MIN_LENGTH} to {QUERY_MAX_LENGTH} characters, with a letter or a digit"]},
        )
    rows = search_places(text=expand_abbreviations(text), codes=official_codes(text), limit=MAX_RESULTS)
    return [Place(r.kind, r.code, r.name, _label(r), r.lon, r.lat, r.bbox) for r in rows]


def _nearest_station(point: Point) -> NearStation | None:
    station = (
        Station.objects.near(point, meters=NEAR_STATION_METRES)
        .annotate(distance=Distance("location", point))
        .order_by(GeometryDistance("location", point), "code")  # KNN on the GiST index
        .first()
    )
    if station is None:
        return None
    where = to_api(station.location)
    return NearStation(
        code=station.code,
        name=station.name,
        label=station.label,
        lines=[
            LineRef(label, colour) for label, colour in zip(station.lines, station.line_colours, strict=True)
        ],
        distance_m=int(round(station.distance.m, -1)),
        lon=round(where.x, 6),
        lat=round(where.y, 6),
    )


def places_near(*, location: Point) -> Nearby:
    """The nearest station within 1 km and the territories of a WGS84 point (carto_place's rule)."""
    point = to_storage(location)
    placement = place_point(point)
    ids = [i for i in (placement.commune_id, placement.arrondissement_id, placement.qpv_id) if i]
    # values_list: never the geometries (Paris's outline alone is most of the cost of loading the rows).
    rows = Territory.objects.filter(id__in=ids).order_by("id").values_list("id", "code", "name")
    names = {pk: TerritoryRef(code, name) for pk, code, name in rows}
    return Nearby(
        inside_metropole=placement.inside_metropole,
        station=_nearest_station(point),
        commune=names.get(placement.commune_id),
        arrondissement=names.get(placement.arrondissement_id),
        qpv=names.get(placement.qpv_id),
    )


@transaction.atomic
def place_names_rebuild() -> int:
    """Rebuild the places search's gazetteer after the territories, stations or streets changed (run by load_all)."""
    return rebuild_place_names()


@transaction.atomic(durable=True)
def streets_load(*, path: Path) -> tuple[StreetsSummary, int]:
    """Replace the streets from the basemap at `path` and rebuild the gazetteer in one transaction (the search
    never answers without streets in between); returns the import's summary and the number of names."""
    summary = streets_import(path=path)
    return summary, place_names_rebuild()
