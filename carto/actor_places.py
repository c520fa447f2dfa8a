"""One entry per place: actor records of the same place merged, their names and addresses in normal case.

The same place is often imported twice: the conseiller-numérique and data·inclusion exports list one
structure under several ids, and the Belleville-Amandiers actors were geocoded from those very records
(README of the shared data). Two records are one place when they stand at the same door — within
SAME_PLACE_M of each other — and either share a street address or one's name holds the other's.
Structures that merely share a building (a mairie and its CCAS at different numbers) stay apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# The duplicates of the shared data stand on one point (0 m) or a few metres apart (15 m at most).
SAME_PLACE_M = 25

# Street words as the national address files, street signs and residents abbreviate them, and their full
# form: used to compare two addresses, to write an address in capitals in normal case, and to search a street
# typed short (carto.services.places: OpenStreetMap writes every name whole).
STREET_ABBREVIATIONS = {
    "all": "allée", "av": "avenue", "ave": "avenue", "bd": "boulevard", "bld": "boulevard", "bvd": "boulevard",
    "boul": "boulevard", "ch": "chemin", "che": "chemin", "chem": "chemin", "crs": "cours", "esp": "esplanade",
    "fg": "faubourg", "fbg": "faubourg", "imp": "impasse", "pass": "passage", "pl": "place", "pte": "porte",
    "prom": "promenade", "qu": "quai", "r": "rue", "rte": "route", "sq": "square", "sen": "sentier",
    "sent": "sentier", "vla": "villa", "st": "saint", "ste": "sainte", "gal": "général", "mal": "maréchal",
    "pdt": "président", "dr": "docteur",
}  # fmt: skip
STREET_TYPES = {
    "allée", "avenue", "boulevard", "chemin", "cité", "cours", "esplanade", "faubourg", "impasse", "mail",
    "parvis", "passage", "place", "porte", "promenade", "quai", "route", "rue", "sentier", "square", "villa",
}  # fmt: skip
SMALL_WORDS = {
    "à",
    "au",
    "aux",
    "d",
    "de",
    "des",
    "du",
    "en",
    "et",
    "l",
    "la",
    "le",
    "les",
    "par",
    "pour",
    "sous",
    "sur",
}
NUMBER_SUFFIXES = {"bis", "ter", "quater"}
# Acronyms that hold a vowel (a word without vowels, such as CHRS or HLM, stays in capitals anyway).
ACRONYMS = {"ACJ", "AFPA", "ATD", "CAF", "CASVP", "CCAS", "CIAS", "CIDFF", "CPAM", "EPN", "ESAT", "ICF", "IML",
            "MJC", "PIMMS", "PSP", "SA", "SIAO", "SOS", "SQY", "UDAF"}  # fmt: skip
_VOWELS = set("AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŸ")
_WORD = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W_]+(?:'[^\W_]+)?|[\W_]+")  # E.S.C.A.L.E. is one word


def _plain(text: str) -> str:
    """Lower case without accents or punctuation, for comparing."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def address_key(address: str, postcode: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(postcode, house number, street words without their type): "18 RUE BISSON" and "18-20 rue Bisson"
    agree. None without a house number: a square or a whole street is not a door."""
    words = [STREET_ABBREVIATIONS.get(w, w) for w in _plain(address).split()]
    match = re.match(r"(\d+)", words[0]) if words else None
    if not match:
        return None
    number = words.pop(0)
    if words and words[0] in NUMBER_SUFFIXES:
        number += words.pop(0)
    while words and words[0].isdigit():  # "18-20 rue Bisson": the range's second number
        words.pop(0)
    street = tuple(w for w in words if w not in STREET_TYPES and w not in SMALL_WORDS)
    return (postcode, number, street) if street else None


def name_words(name: str) -> frozenset[str]:
    return frozenset(w for w in _plain(name).split() if w not in SMALL_WORDS)


def is_shouted(text: str) -> bool:
    return any(c.isalpha() for c in text) and not any(c.islower() for c in text)


def normal_case(text: str, *, address: bool = False) -> str:
    """A name or an address written in capitals, in normal case ("ASSOCIATION BELLEVILLE CITOYENNE" →
    "Association Belleville Citoyenne", "11 ALL PIERRE DE MONTEREAU" → "11 allée Pierre de Montereau").
    Text already in mixed case is a person's spelling and is left as it is; acronyms stay in capitals."""
    if not is_shouted(text):
        return text
    street_named = not address  # in an address, only the first street word is a common noun
    out: list[str] = []
    for token in _WORD.findall(text):
        if not token[0].isalnum():
            out.append(token)
            continue
        first = not any(o[0].isalnum() for o in out)
        if "'" in token:  # D'HLM, L'ENSEIGNEMENT, P'TIT
            head, tail = token.split("'", 1)
            if head.lower() in {"d", "l"}:  # an elision: d'Action, l'Enseignement
                head = head.lower() if not first else head
                out.append(f"{head}'{tail if _keeps_capitals(tail) else tail.capitalize()}")
            else:
                out.append(f"{head.capitalize()}'{tail.lower()}")
            continue
        lower = token.lower()
        lower = STREET_ABBREVIATIONS.get(lower, lower) if address or lower in {"st", "ste"} else lower
        if not street_named and lower in STREET_TYPES:
            street_named = True
            out.append(lower.capitalize() if first else lower)
        elif lower in SMALL_WORDS or (address and lower in NUMBER_SUFFIXES):
            out.append(lower.capitalize() if first else lower)
        elif lower == token.lower() and _keeps_capitals(token):
            out.append(token)
        else:
            out.append(lower.capitalize())
    # "D OISE", "L AVENIR": the data lost the apostrophe of an elision.
    return re.sub(r"\b([dl]) (?=[AEIOUYHÉÈÂÎÔ])", r"\1'", "".join(out))


def _keeps_capitals(word: str) -> bool:
    """An acronym (CCAS, CHRS, E.S.C.A.L.E.) or a code with digits (AA92) keeps its capitals."""
    return any(c.isdigit() for c in word) or "." in word or word in ACRONYMS or not (set(word) & _VOWELS)


@dataclass
class Place:
    """Records of one place, the one whose name is shown first; its fields filled from the others."""

    records: list = field(default_factory=list)

    @property
    def shown(self):
        return self.records[0]

    def value(self, name: str) -> str:
        return next((getattr(r, name) for r in self.records if getattr(r, name)), "")

    @property
    def name(self) -> str:
        return normal_case(self.shown.name)

    @property
    def address(self) -> str:
        return normal_case(self.value("address"), address=True)

    @property
    def other_names(self) -> list[str]:
        seen = {name_words(self.shown.name)}
        names = []
        for record in self.records[1:]:
            if name_words(record.name) not in seen:
                seen.add(name_words(record.name))
                names.append(normal_case(record.name))
        return names

    @property
    def services(self) -> list[str]:
        return list(dict.fromkeys(s for r in self.records for s in r.services))


def _same_place(a, b) -> bool:
    if a.location.distance(b.location) > SAME_PLACE_M:  # Lambert-93: metres
        return False
    key = address_key(a.address, a.postcode)
    if key is not None and key == address_key(b.address, b.postcode):
        return True
    words_a, words_b = name_words(a.name), name_words(b.name)
    return bool(words_a and words_b) and (words_a <= words_b or words_b <= words_a)


def _rank(record) -> tuple:
    """Which record of a place speaks for it: a name a person wrote in normal case, then the most
    complete and most recently updated record."""
    filled = sum(bool(getattr(record, f)) for f in ("horaires", "telephone", "site_web", "address"))
    return (is_shouted(record.name), -filled, -record.date_maj.toordinal(), record.pk)


def places_of(records: Iterable) -> list[Place]:
    """Located actor records grouped into places, in the order of each place's first record."""
    records = list(records)
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Only records in the same or a neighbouring SAME_PLACE_M square can be the same place.
    cells: dict[tuple[int, int], list[int]] = {}
    for i, record in enumerate(records):
        cx, cy = int(record.location.x // SAME_PLACE_M), int(record.location.y // SAME_PLACE_M)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for j in cells.get((cx + dx, cy + dy), []):
                    if root(i) != root(j) and _same_place(records[i], records[j]):
                        parent[root(i)] = root(j)
        cells.setdefault((cx, cy), []).append(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(records)):
        groups.setdefault(root(i), []).append(i)
    places = [Place(sorted((records[i] for i in members), key=_rank)) for members in groups.values()]
    order = {id(records[i]): i for i in range(len(records))}
    return sorted(places, key=lambda p: min(order[id(r)] for r in p.records))
