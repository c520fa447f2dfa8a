"""The pictogram sprite inlined in the resident's page (frontend/pictograms.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from carto.models import Theme
from frontend.pictograms import FOLDER, SVG, sprite

NS = {"svg": SVG}


def test_every_theme_pictogram_is_a_symbol_of_the_home_page(client, db):
    page = client.get("/").content.decode()
    assert page.count('class="sprite"') == 1
    for theme in Theme.objects.all():
        # themes.js names the symbol by the pictogram's file stem, as the sprite does.
        assert f'<symbol id="picto-{theme.pictogram.removesuffix(".svg")}"' in page, theme.slug


def test_each_symbol_is_its_file_drawing_with_its_stroke_style_and_no_title():
    symbols = {s.get("id"): s for s in ET.fromstring(sprite()).findall("svg:symbol", NS)}  # noqa: S314
    files = sorted(FOLDER.glob("*.svg"))
    assert sorted(symbols) == [f"picto-{path.stem}" for path in files]
    for path in files:
        drawing, symbol = ET.parse(path).getroot(), symbols[f"picto-{path.stem}"]  # noqa: S314
        assert symbol.get("viewBox") == drawing.get("viewBox")
        assert symbol.get("stroke") == drawing.get("stroke") == "currentColor"  # takes the theme's colour
        kept = [ET.tostring(c) for c in drawing if c.tag != f"{{{SVG}}}title"]
        assert [ET.tostring(c) for c in symbol] == kept
        assert symbol.find("svg:title", NS) is None
