"""Constants that SQL in the database copies from Python (migrations must not import later code): the copies
installed in the database still equal the Python ones, so a change on one side cannot drift silently."""

from __future__ import annotations

import math
import re

import pytest
from django.conf import settings
from django.db import connection

from carto.models import Pin
from carto.stats import grid

pytestmark = pytest.mark.django_db

VISIBLE = set(Pin.VISIBLE_STATUSES)


def _function(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef(%s::regproc)", [name])
        return cursor.fetchone()[0]


def _status_sets(sql: str) -> list[set[str]]:
    """Every '{a,b,…}' literal and every ARRAY['a'::…, …] of statuses in a piece of SQL (PostgreSQL
    prints an index's IN (…) back as = ANY (ARRAY[…]))."""
    arrays = [set(m.split(",")) for m in re.findall(r"'\{([a-z_,]+)\}'", sql)]
    lists = [set(re.findall(r"'([a-z_]+)'", m)) for m in re.findall(r"ARRAY\[([^\]]+)\]", sql)]
    return arrays + lists


def test_the_aggregates_function_uses_the_grid_of_carto_stats_grid():
    sql = _function("carto_pin_aggregate")
    assert float(re.search(r"\(v_x \+ ([\d.]+)\)", sql)[1]) == pytest.approx(grid.WORLD_HALF, abs=1e-6)
    assert {int(b) for b in re.findall(r"2 \^ \(z \+ (\d+)\)", sql)} == {grid.CELL_BITS}
    zooms = set(re.findall(r"generate_series\((\d+), (\d+)\)", sql))
    assert zooms == {(str(grid.AGGREGATE_MIN_ZOOM), str(grid.AGGREGATE_MAX_ZOOM))}
    # The square totals: the aggregate zooms and the rim zoom of map groups.
    totals = {tuple(int(z) for z in m.split(",")) for m in re.findall(r"unnest\(ARRAY\[([\d, ]+)\]\)", sql)}
    expected = (*range(grid.AGGREGATE_MIN_ZOOM, grid.AGGREGATE_MAX_ZOOM + 1), grid.TOTALS_RIM_ZOOM)
    assert totals == {expected}
    hexes = {float(h) for h in re.findall(r"\* ([01]\.\d{6,})\)", sql)}
    assert hexes and all(math.isclose(h, grid.HEX_PER_CELL, rel_tol=1e-12) for h in hexes)
    # Months of the aggregates are those of the statistics: the server's time zone.
    assert f"AT TIME ZONE '{settings.TIME_ZONE}'" in sql


def test_the_aggregates_trigger_counts_exactly_the_visible_statuses():
    sets = _status_sets(_function("carto_pin_aggregates_trigger"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'carto_pin'::regclass"
                       " AND NOT tgisinternal")  # fmt: skip
        for (definition,) in cursor.fetchall():
            sets += _status_sets(definition)
    assert sets, "the trigger and its WHEN clause name the visible statuses"
    assert all(found == VISIBLE for found in sets), sets


def test_the_partial_indexes_on_visible_pins_name_exactly_the_visible_statuses():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'carto_pin' AND indexdef LIKE '%%status%%'"
                       " AND indexdef LIKE '%%WHERE%%'")  # fmt: skip
        predicates = [definition.split(" WHERE ", 1)[1] for (definition,) in cursor.fetchall()]
    sets = [found for predicate in predicates for found in _status_sets(predicate)]
    assert sets, "the public-location index is partial on the visible statuses"
    assert all(found == VISIBLE for found in sets), sets
