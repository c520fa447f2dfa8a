"""A small XML writer for GeoReport v2 answers (xml.etree, output only: carto never parses XML input)."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

# Characters XML 1.0 cannot carry even escaped (C0 controls except tab/newline/CR, lone surrogates,
# U+FFFE/U+FFFF): ElementTree would write them as they are and produce a document no parser accepts.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Element names of list items, by the name of the list (GeoReport v2 examples).
_ITEM_TAGS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        tag = _ITEM_TAGS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, tag), child)
    else:
        element.text = _text(value)


def to_xml(root: str, item: str | None, data) -> bytes:
    """`data` (a list of dicts under <root><item>…, or one dict under <root>) as a UTF-8 XML document."""
    element = ET.Element(root)
    if item is None:
        _fill(element, data)
    else:
        for entry in data:
            _fill(ET.SubElement(element, item), entry)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)
