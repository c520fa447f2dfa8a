"""The constants the aggregates trigger (migration 0017) copies from the Python code it must agree with."""

from __future__ import annotations

from importlib import import_module

from carto.models import Pin
from carto.stats import grid


def test_the_trigger_of_migration_0017_uses_the_grid_and_visibility_of_the_python_code():
    migration = import_module("carto.migrations.0017_hex_totals")
    assert migration.HALF == grid.WORLD_HALF
    assert migration.BITS == grid.CELL_BITS
    assert migration.HEX == grid.HEX_PER_CELL
    assert (migration.MIN_ZOOM, migration.MAX_ZOOM) == (grid.AGGREGATE_MIN_ZOOM, grid.AGGREGATE_MAX_ZOOM)
    assert migration.RIM_ZOOM == grid.TOTALS_RIM_ZOOM
    assert "{" + ",".join(Pin.VISIBLE_STATUSES) + "}" == migration.VISIBLE
