"""The ES modules a page loads, read from their import lines, so the page can ask for them all at once."""

from __future__ import annotations

import functools
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
IMPORT = re.compile(r'\bfrom\s+"\./([\w-]+\.js)"')  # our modules import their siblings only: from "./x.js"


@functools.cache
def module_graph(entry: str) -> tuple[str, ...]:
    """`entry` ("frontend/app.js") and every module it imports, transitively, as static paths, entry first.

    Without it the browser discovers the graph level by level (app.js, then its imports, then theirs): one
    round trip each, 150 ms apiece on 3G. With every module named in a <link rel="modulepreload">, one.
    """
    folder = Path(entry).parent
    found = [entry]
    for path in found:  # the list grows while it is walked: breadth first
        for name in IMPORT.findall((STATIC / path).read_text("utf-8")):
            module = str(folder / name)
            if module not in found:
                found.append(module)
    return tuple(found)
