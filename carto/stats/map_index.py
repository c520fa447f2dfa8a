"""The map groups' in-memory index: the visible pins of one map version, held by each worker process.

GET /api/pins/clusters/ is the map's hot path; supercluster answers it from memory in ~1 ms where a SQL
statement costs ~0.6 ms of planning alone (bench/clusters_supercluster.py). This index answers the
unfiltered and theme-filtered requests from numpy arrays with the same groups as the SQL path
(carto.stats.map_groups): 64 px cells at the request zoom, centroids from the pins' Web Mercator x/y.

The structure: the pins' Web Mercator x/y as PostGIS computes them, sorted by the Morton (Z-order) code
of their cell at LEVEL, so that every cell of every coarser level is one run of the sorted array, found by
two binary searches. Prefix sums of x and y, in integers (fixed point), give any run's sums exactly: no
cancellation whatever the run's length. A box × zoom is answered from the top down: cells wholly inside
the box give their totals at once, cells its edges cross are split into their four children, and where
few pins are left in them those pins are tested one by one. A theme keeps its own copy of the arrays
(pins sorted by theme, then code), searched the same way.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np
from django.db import connection

from carto.pin_filter import NO_FILTER, filter_sql
from carto.stats.grid import GROUP_BITS, WORLD_HALF

# Finest level of the Morton codes: 2^LEVEL cells across the world (~15 cm): finer than any map group
# (zoom 22 + GROUP_BITS = level 24), and 2 × LEVEL bits fit an int64.
LEVEL = 28
# Levels with a table of their non-empty cells (_Run.levels): up to ~150 m cells (level 18), ~5 MB at 1 M pins.
TABLE_LEVEL = 18
# Metres between a cell taken whole and the box's edge: far above the rounding of a pin's cell (~4e-9 m at
# 2e7 m), far below any distance that matters.
_MARGIN = 1e-5
# A run of cells is split further while it holds more than this many pins per cell on average; below, its
# pins are tested one by one (bench/clusters_supercluster.py: ~1 ms at 1 M pins for a 1280 × 800 px screen).
_PINS_PER_CELL_TO_SPLIT = 24
# Children examined at once when descending towards the groups' level, above it.
_EXPAND_LIMIT = 4096
_EARTH_RADIUS = 6378137.0


def _spread(values: np.ndarray) -> np.ndarray:
    """Spread the low 32 bits of each value to the even bits (the Morton code's interleaving)."""
    v = values.astype(np.int64) & 0xFFFFFFFF
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & 0x5555555555555555


def morton(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """Morton code of cells (column, row from the north-west, as tile x/y)."""
    return _spread(cx) | (_spread(cy) << 1)


@dataclass(frozen=True)
class _Run:
    """Pins sorted by Morton code, with fixed-point prefix sums of their x and y around (x0, y0), and for
    each level up to TABLE_LEVEL its non-empty cells (sorted codes) and where their pins start."""

    codes: np.ndarray
    x: np.ndarray
    y: np.ndarray
    sum_x: np.ndarray  # int64, len + 1: sum_x[j] - sum_x[i] is the sum over pins i..j-1, in `unit`
    sum_y: np.ndarray
    levels: list[tuple[np.ndarray, np.ndarray]]  # per level: non-empty cells' codes, their first pins

    @property
    def nbytes(self) -> int:
        arrays = (self.codes, self.x, self.y, self.sum_x, self.sum_y, *(a for t in self.levels for a in t))
        return sum(a.nbytes for a in arrays)

    def pins_of(self, level: int, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and past-last pin of each cell `code` at `level` (equal when the cell is empty)."""
        if level < len(self.levels):
            # One binary search in the level's few cells, not two in the pins: they stay in the CPU cache.
            codes, starts = self.levels[level]
            if not len(codes):
                return np.zeros(len(code), np.int64), np.zeros(len(code), np.int64)
            row = np.minimum(np.searchsorted(codes, code), len(codes) - 1)
            found = codes[row] == code
            return np.where(found, starts[row], 0), np.where(found, starts[row + 1], 0)
        shift = 2 * (LEVEL - level)
        return np.searchsorted(self.codes, code << shift), np.searchsorted(self.codes, (code + 1) << shift)


@dataclass(frozen=True)
class MapIndex:
    """The visible pins of map version `version`, ready to be grouped for any box and zoom."""

    version: int
    count: int
    x0: float
    y0: float
    unit: float  # metres per fixed-point step of the prefix sums
    everything: _Run
    themes: dict[int, _Run] = field(repr=False)
    build_seconds: float = 0.0

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return self.everything.nbytes + sum(run.nbytes for run in self.themes.values())

    def groups(
        self, box: tuple[float, float, float, float], zoom: int, *, theme_ids: tuple[int, ...] | None = None
    ) -> list[dict]:
        """Map groups of the pins whose x/y lie in the Web Mercator `box` (bounds included), in the SQL
        path's order (count descending, then lon, lat) and shape."""
        group_level = zoom + GROUP_BITS
        runs = (
            [self.everything]
            if theme_ids is None
            else [self.themes[t] for t in theme_ids if t in self.themes]
        )
        parts = [part for run in runs for part in _box_parts(run, box, group_level)]
        if not parts:
            return []
        keys, counts, sx, sy = (np.concatenate(column) for column in zip(*parts, strict=True))
        keys, inverse = np.unique(keys, return_inverse=True)
        n = np.bincount(inverse, weights=counts)
        x = self.x0 + np.bincount(inverse, weights=sx) * self.unit / n
        y = self.y0 + np.bincount(inverse, weights=sy) * self.unit / n
        lon = np.degrees(x / _EARTH_RADIUS)
        lat = np.degrees(np.arctan(np.sinh(y / _EARTH_RADIUS)))
        order = np.lexsort((lat, lon, -n))
        # Python's round(), as the SQL path: numpy's rounds through a multiplication and can differ.
        return [
            {"lon": round(a, 6), "lat": round(b, 6), "count": int(c)}
            for c, a, b in zip(n[order].tolist(), lon[order].tolist(), lat[order].tolist(), strict=True)
        ]


def map_index_build(x: np.ndarray, y: np.ndarray, theme: np.ndarray, *, version: int) -> MapIndex:
    """Index pins given by their Web Mercator x/y (as PostGIS computes them) and theme id."""
    started = time.perf_counter()
    size = 2 * WORLD_HALF / 2**LEVEL
    last = 2**LEVEL - 1
    # The SQL path's cell formulas, floor((x + half) / size) and floor((half - y) / size): a cell at a
    # coarser level is the same floor divided by a power of two, so every level agrees with SQL exactly.
    cx = np.clip(np.floor((x + WORLD_HALF) / size), 0, last).astype(np.int64)
    cy = np.clip(np.floor((WORLD_HALF - y) / size), 0, last).astype(np.int64)
    codes = morton(cx, cy)
    x0 = float(np.median(x)) if len(x) else 0.0
    y0 = float(np.median(y)) if len(y) else 0.0
    # Fixed point: the largest power-of-two step for which n × the largest offset stays below 2^62.
    extent = max(float(np.abs(x - x0).max(initial=0)), float(np.abs(y - y0).max(initial=0)), 1.0)
    exponent = min(40, math.floor(math.log2(2.0**62 / (extent * max(len(x), 1)))))
    unit = 2.0**-exponent
    qx = np.rint((x - x0) / unit).astype(np.int64)
    qy = np.rint((y - y0) / unit).astype(np.int64)

    def run(selection: np.ndarray) -> _Run:
        sorted_codes = codes[selection]
        sum_x = np.concatenate(([0], np.cumsum(qx[selection])))
        sum_y = np.concatenate(([0], np.cumsum(qy[selection])))
        return _Run(
            sorted_codes,
            x[selection],
            y[selection],
            sum_x,
            sum_y,
            _level_tables(sorted_codes),
        )

    everything = run(np.argsort(codes, kind="stable"))
    by_theme = np.lexsort((codes, theme))
    sorted_themes = theme[by_theme]
    # Each theme's run in by_theme; none on an empty map (no visible pin yet: a fresh install).
    starts = np.flatnonzero(np.r_[True, sorted_themes[1:] != sorted_themes[:-1]]) if len(theme) else []
    ends = [*starts[1:], len(theme)] if len(theme) else []
    themes = {int(sorted_themes[a]): run(by_theme[a:b]) for a, b in zip(starts, ends, strict=True)}
    return MapIndex(
        version=version,
        count=len(x),
        x0=x0,
        y0=y0,
        unit=unit,
        everything=everything,
        themes=themes,
        build_seconds=time.perf_counter() - started,
    )


def _level_tables(codes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each level 0..TABLE_LEVEL: the sorted codes of its non-empty cells and their first pins (plus the
    pins' count at the end)."""
    tables = []
    for level in range(TABLE_LEVEL + 1):
        cells = codes >> (2 * (LEVEL - level))
        starts = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]]) if len(cells) else np.zeros(0, np.int64)
        tables.append((cells[starts], np.r_[starts, len(cells)].astype(np.int64)))
    return tables


def _cells_in_box(level: int, box) -> tuple[np.ndarray, np.ndarray]:
    """Columns and rows of the cells at `level` that meet `box`, all of them (a few)."""
    size = 2 * WORLD_HALF / 2**level
    mx0, my0, mx1, my1 = box
    last = 2**level - 1
    c0, c1 = (min(max(math.floor((m + WORLD_HALF) / size), 0), last) for m in (mx0, mx1))
    r0, r1 = (min(max(math.floor((WORLD_HALF - m) / size), 0), last) for m in (my1, my0))
    columns, rows = np.arange(c0, c1 + 1, dtype=np.int64), np.arange(r0, r1 + 1, dtype=np.int64)
    return np.tile(columns, len(rows)), np.repeat(rows, len(columns))


def _child_offsets(step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column, row and Morton offsets of the 4^step cells `step` levels finer inside a cell."""
    side = 2**step
    dx, dy = np.tile(np.arange(side), side), np.repeat(np.arange(side), side)
    return dx, dy, morton(dx, dy)


_CHILDREN = {step: _child_offsets(step) for step in range(1, 7)}


def _box_parts(run: _Run, box, group_level: int) -> list[tuple]:
    """(group key, count, Σx, Σy) arrays of the run's pins in `box`, from whole cells and single pins."""
    mx0, my0, mx1, my1 = box
    span = max(mx1 - mx0, my1 - my0, 1e-9)
    # Start where the box spans at most two cells across: at most 3 × 3 of them.
    level = min(max(math.floor(math.log2(2 * WORLD_HALF / span)), 0), group_level)
    cx, cy = _cells_in_box(level, box)
    code = morton(cx, cy)
    parts = []
    while len(cx):
        size = 2 * WORLD_HALF / 2**level
        lo, hi = run.pins_of(level, code)
        nonempty = hi > lo
        cx, cy, code, lo, hi = cx[nonempty], cy[nonempty], code[nonempty], lo[nonempty], hi[nonempty]
        if level >= group_level:
            west, north = cx * size - WORLD_HALF, WORLD_HALF - cy * size
            whole = (
                (west >= mx0 + _MARGIN)
                & (west + size <= mx1 - _MARGIN)
                & (north <= my1 - _MARGIN)
                & (north - size >= my0 + _MARGIN)
            )
            up = level - group_level
            key = ((cy >> up) << group_level) | (cx >> up)
            if whole.any():
                a, b = lo[whole], hi[whole]
                parts.append((key[whole], b - a, run.sum_x[b] - run.sum_x[a], run.sum_y[b] - run.sum_y[a]))
            edge = ~whole
            cx, cy, code, lo, hi, key = cx[edge], cy[edge], code[edge], lo[edge], hi[edge], key[edge]
            if int((hi - lo).sum()) <= _PINS_PER_CELL_TO_SPLIT * len(cx) or level == LEVEL:
                parts.append(_pins_in_box(run, box, lo, hi, key))
                break
            # Two levels at once while the children stay few: half the passes, each a few dozen numpy calls.
            step = 2 if level + 2 <= LEVEL and len(cx) * 16 <= _EXPAND_LIMIT else 1
        else:
            step = 1
            while level + step < group_level and step < 6 and len(cx) * 4 ** (step + 1) <= _EXPAND_LIMIT:
                step += 1
        dx, dy, dcode = _CHILDREN[step]
        cx = ((cx << step)[:, None] + dx).ravel()
        cy = ((cy << step)[:, None] + dy).ravel()
        code = ((code << (2 * step))[:, None] + dcode).ravel()
        level += step
        # Keep the children that may meet the box (with the margin: a doubtful cell is kept).
        size = 2 * WORLD_HALF / 2**level
        west, north = cx * size - WORLD_HALF, WORLD_HALF - cy * size
        meet = (
            (west <= mx1 + _MARGIN)
            & (west + size >= mx0 - _MARGIN)
            & (north >= my0 - _MARGIN)
            & (north - size <= my1 + _MARGIN)
        )
        cx, cy, code = cx[meet], cy[meet], code[meet]
    return parts


def _pins_in_box(run: _Run, box, lo: np.ndarray, hi: np.ndarray, key: np.ndarray) -> tuple:
    """The pins of runs lo..hi tested one by one against `box`, each under its run's group key."""
    lengths = hi - lo
    total = int(lengths.sum())
    starts = np.cumsum(lengths) - lengths
    index = np.arange(total) + np.repeat(lo - starts, lengths)
    x, y = run.x[index], run.y[index]
    mx0, my0, mx1, my1 = box
    inside = (x >= mx0) & (x <= mx1) & (y >= my0) & (y <= my1)
    index = index[inside]
    return (
        np.repeat(key, lengths)[inside],
        np.ones(len(index), dtype=np.int64),
        run.sum_x[index + 1] - run.sum_x[index],
        run.sum_y[index + 1] - run.sum_y[index],
    )


# The visible pins' Web Mercator x/y as PostGIS computes them (the SQL path's very values) and theme id,
# in binary COPY: ~30 ms to parse 1 M rows with numpy instead of ~1.5 s of Python tuples.
_LOAD_SQL = """
COPY (
  SELECT ST_X(g), ST_Y(g), theme_id::int FROM (
    SELECT ST_Transform(p.public_location, 3857) AS g, p.theme_id FROM carto_pin p WHERE {filter}
  ) s
) TO STDOUT (FORMAT BINARY)
"""
# A binary COPY row: field count, then each field's length and value, big-endian; the file has a 19-byte
# header and a 2-byte trailer.
_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("lx", ">i4"),
        ("x", ">f8"),
        ("ly", ">i4"),
        ("y", ">f8"),
        ("lt", ">i4"),
        ("theme", ">i4"),
    ]
)
_HEADER, _TRAILER = 19, 2


def map_index_load(*, version: int) -> MapIndex:
    """Read the visible pins and index them as map version `version`.

    The caller reads `version` before calling: every write whose version bump came before is committed by
    then (the bump follows the commit), so this statement's snapshot holds it.
    """
    started = time.perf_counter()
    statement = _LOAD_SQL.replace("{filter}", filter_sql("p"))
    data = bytearray()
    with connection.cursor() as cursor, cursor.cursor.copy(statement, NO_FILTER.sql_params()) as copy:
        for block in copy:
            data += block
    rows = np.frombuffer(
        data, dtype=_ROW, offset=_HEADER, count=(len(data) - _HEADER - _TRAILER) // _ROW.itemsize
    )
    index = map_index_build(
        rows["x"].astype(np.float64),
        rows["y"].astype(np.float64),
        rows["theme"].astype(np.int32),
        version=version,
    )
    return dataclasses.replace(index, build_seconds=time.perf_counter() - started)
