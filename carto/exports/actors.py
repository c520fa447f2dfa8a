"""Export actors back to the national schema "lieux de médiation numérique" v1.0.2 (CSV)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from carto.exports.cells import safe_cell
from carto.geo import to_api
from carto.models import Actor

SCHEMA_COLUMNS = [
    "id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse", "complement_adresse",
    "latitude", "longitude", "typologie", "telephone", "courriels", "site_web", "horaires",
    "presentation_resume", "presentation_detail", "source", "itinerance", "structure_parente", "date_maj",
    "services", "publics_specifiquement_adresses", "prise_en_charge_specifique", "frais_a_charge",
    "dispositif_programmes_nationaux", "formations_labels", "autres_formations_labels", "modalites_acces",
    "modalites_accompagnement", "fiche_acces_libre", "prise_rdv",
]  # fmt: skip


def actor_schema_row(actor: Actor) -> dict[str, str]:
    """One actor as a row of the national schema (list fields joined with '|', as the schema says)."""
    lat = lon = ""
    if actor.location is not None:
        point = to_api(actor.location)
        lon, lat = f"{point.x:.6f}", f"{point.y:.6f}"
    row = {column: "" for column in SCHEMA_COLUMNS}
    row.update({key: str(value) for key, value in actor.schema_extra.items() if key in row})
    row.update(
        {
            "id": actor.source_id,
            "pivot": actor.pivot,
            "nom": actor.name,
            "commune": actor.commune_name,
            "code_postal": actor.postcode,
            "code_insee": actor.code_insee,
            "adresse": actor.address,
            "latitude": lat,
            "longitude": lon,
            "typologie": actor.typologie,
            "telephone": actor.telephone,
            "courriels": actor.courriels,
            "site_web": actor.site_web,
            "horaires": actor.horaires,
            "presentation_resume": actor.presentation,
            "source": actor.source,
            "date_maj": actor.date_maj.isoformat(),
            "services": "|".join(actor.services),
            "publics_specifiquement_adresses": "|".join(actor.publics),
        }
    )
    return row


def actors_write_csv(actors: Iterable[Actor], handle: TextIO) -> int:
    """Write actors as schema CSV to `handle`; return the number of rows.

    Every cell through the one spreadsheet rule (carto.exports.cells): the directory is open data anyone can
    add a place to, and this file is opened in spreadsheets by the social workers it is for.
    """
    writer = csv.DictWriter(handle, fieldnames=SCHEMA_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for actor in actors:
        writer.writerow({column: safe_cell(value) for column, value in actor_schema_row(actor).items()})
        count += 1
    return count
