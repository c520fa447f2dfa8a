"""Each worker process's map index (carto.stats.map_index): used while it is at the current map version,
rebuilt in a background thread when the version moves, one rebuild at a time.

Exact by construction: a request is answered from memory only when the index was built at the version
map_version() gives it, else by the SQL path (exact too, ~7 ms at 1 M pins) while the index is rebuilt.
No change log is applied: the version is a sequence bumped after each commit, and commits reach it out of
order, so "the changes since version v" cannot be read back reliably; a rebuild from a fresh snapshot can.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import connections

from carto.pin_filter import PinFilter
from carto.stats.map_index import MapIndex, map_index_load
from carto.stats.map_version import map_version

logger = logging.getLogger(__name__)

# A rebuild waits this long after the version moved: a burst of writes (a moderator hiding ten pins) then
# costs one rebuild, not ten. The SQL path answers meanwhile.
DEBOUNCE_SECONDS = 1.0
_index: MapIndex | None = None
_rebuilding = threading.Lock()


def memory_can_answer(pin_filter: PinFilter) -> bool:
    """Whether the index holds what `pin_filter` keeps: every visible pin, or those of some themes."""
    return (
        pin_filter.kind is None
        and pin_filter.statuses is None
        and pin_filter.since is None
        and pin_filter.until is None
    )


def map_index_for(pin_filter: PinFilter) -> MapIndex | None:
    """The worker's index when it can answer `pin_filter` at the current map version, else None (and a
    rebuild started if the version moved). CARTO_MAP_INDEX: "background", "inline" (tests: rebuilt in the
    request's own thread and transaction) or "off"."""
    mode = settings.CARTO_MAP_INDEX
    if mode == "off" or not memory_can_answer(pin_filter):
        return None
    version = map_version()
    index = _index
    if index is not None and index.version == version:
        return index
    if mode == "inline":
        index = map_index_rebuild()
        return index if index.version == map_version() else None
    if _rebuilding.acquire(blocking=False):
        threading.Thread(target=_rebuild_in_background, name="carto-map-index", daemon=True).start()
    return None


def map_index_rebuild() -> MapIndex:
    """Load the index from the database now, at the version read just before (see map_index_load)."""
    global _index
    index = map_index_load(version=map_version(fresh=True))
    _index = index
    logger.info(
        "map index: %d pins at version %d, %.2f s, %.1f MB",
        index.count, index.version, index.build_seconds, index.nbytes / 1e6,
    )  # fmt: skip
    return index


def map_index_drop() -> None:
    """Forget the worker's index (tests start each from none)."""
    global _index
    _index = None


def map_index_loaded() -> MapIndex | None:
    """The worker's index as it stands, whatever its version (for the bench's figures)."""
    return _index


def _rebuild_in_background() -> None:
    try:
        if _index is not None:
            time.sleep(DEBOUNCE_SECONDS)
        map_index_rebuild()
    except Exception:
        logger.exception("map index rebuild failed; the SQL path answers meanwhile")
    finally:
        connections.close_all()  # this thread's own connection: it is not reused
        _rebuilding.release()
