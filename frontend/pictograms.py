"""The pictograms as one inline SVG sprite: the resident's page draws them with <use>, no request each."""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from pathlib import Path

from django.utils.safestring import SafeString, mark_safe

FOLDER = Path(__file__).resolve().parent / "static" / "pictograms"
SVG = "http://www.w3.org/2000/svg"
# Kept on the <symbol>: the drawing's frame and the stroke style its paths inherit.
SYMBOL_ATTRIBUTES = ("viewBox", "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin")
ID_PREFIX = "picto-"  # themes.js names a symbol the same way: "picto-" + the pictogram's file name stem


@functools.cache
def sprite() -> SafeString:
    """Every file of static/pictograms/ as a <symbol id="picto-<file stem>">, in one hidden <svg>.

    Read once per process from our own files (no user input), parsed and written back by ElementTree, so
    the markup is well-formed whatever the files hold; <title>s are dropped (the page's pictograms are
    decorative: their buttons carry the words).
    """
    ET.register_namespace("", SVG)
    root = ET.Element(f"{{{SVG}}}svg", {"class": "sprite", "aria-hidden": "true", "focusable": "false"})
    for path in sorted(FOLDER.glob("*.svg")):
        drawing = ET.parse(path).getroot()  # noqa: S314 (our own files)
        symbol = ET.SubElement(root, f"{{{SVG}}}symbol", {"id": f"{ID_PREFIX}{path.stem}"})
        for name in SYMBOL_ATTRIBUTES:
            if name in drawing.attrib:
                symbol.set(name, drawing.attrib[name])
        symbol.extend(child for child in drawing if child.tag != f"{{{SVG}}}title")
    return mark_safe(ET.tostring(root, encoding="unicode", short_empty_elements=True))  # noqa: S308 (our files)
