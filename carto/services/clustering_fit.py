"""Learning the clustering transform from labelled texts and curators' decisions, and exporting the
decisions in the labelled-set format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from carto.clustering import embeddings as e5
from carto.clustering import labelled
from carto.models import ClusteringFit, Pin
from carto.services.cluster_rebuild import decided_pairs
from carto.services.clustering import raw_embeddings

Progress = Callable[[str], None]
ENCODE_BATCH = 64


def _components(pairs: list[tuple[int, int]]) -> list[list[int]]:
    """Connected components of "same need" pairs (pin ids), each sorted, in order of first pin."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for x in sorted(parent):
        groups.setdefault(root(x), []).append(x)
    return [groups[r] for r in sorted(groups)]


def decided_groups() -> tuple[list[list[int]], list[tuple[int, int]]]:
    """Curators' latest decisions on visible pins: groups of the same need (pin ids), different pairs."""
    same, different = decided_pairs()
    visible = set(
        Pin.objects.visible()
        .filter(pk__in={p for pair in same + different for p in pair})
        .values_list("pk", flat=True)
    )
    groups = _components([(a, b) for a, b in same if a in visible and b in visible])
    return groups, [(a, b) for a, b in different if a in visible and b in visible]


def clustering_fit(*, path: Path = e5.LABELLED, progress: Progress | None = None) -> ClusteringFit:
    """Learn a new transform version from the labelled set plus every curator decision, and store it.

    The next `recluster` uses it; until then new pins keep the transform their clusters were built in.
    """
    say = progress or (lambda _line: None)
    data = labelled.read(path)
    say(f"labelled set {path.name}: {len(data.texts)} texts, {len(data.same_groups())} groups of one need")
    chunks = []
    for start in range(0, len(data.texts), ENCODE_BATCH):
        chunks.append(e5.encode_raw(data.texts[start : start + ENCODE_BATCH]))
        say(f"  encoded {min(start + ENCODE_BATCH, len(data.texts))}/{len(data.texts)}")
    pin_groups, _ = decided_groups()
    pin_ids = [p for group in pin_groups for p in group]
    texts = dict(Pin.objects.filter(pk__in=pin_ids).values_list("pk", "text"))
    stored = raw_embeddings([(p, texts[p]) for p in pin_ids])
    say(f"curators' decisions: {len(pin_groups)} groups of the same need over {len(pin_ids)} pins")
    raw = np.vstack([*chunks, *(stored[p][None, :] for p in pin_ids)]) if pin_ids else np.vstack(chunks)
    offset = len(data.texts)
    groups = data.same_groups()
    for group in pin_groups:
        groups.append(list(range(offset, offset + len(group))))
        offset += len(group)
    transform = labelled.fit(raw, groups, shrinkage=e5.PARAMS.shrinkage)
    fit = ClusteringFit.objects.create(
        mean=transform.mean.astype(np.float32).tobytes(),
        matrix=transform.matrix.astype(np.float32).tobytes(),
        shrinkage=e5.PARAMS.shrinkage,
        groups=len(groups),
        texts=len(raw),
        decisions=len(pin_groups),
        source=path.name,
    )
    say(f"fit v{fit.pk}: {fit.groups} groups, {fit.texts} texts; run `manage.py recluster` to use it")
    return fit


def default_fit_write(*, path: Path = e5.LABELLED) -> Path:
    """Learn the shipped default transform from the labelled set alone (no database needed)."""
    data = labelled.read(path)
    raw = np.vstack(
        [e5.encode_raw(data.texts[s : s + ENCODE_BATCH]) for s in range(0, len(data.texts), ENCODE_BATCH)]
    )
    return e5.write_default(labelled.fit(raw, data.same_groups(), shrinkage=e5.PARAMS.shrinkage))


def decisions_document() -> dict:
    """Curators' decisions on visible pins in the labelled-set format (groups of one need, pairs)."""
    groups, different = decided_groups()
    ids = {p for group in groups for p in group} | {p for pair in different for p in pair}
    rows = {
        pk: (text, language, theme)
        for pk, text, language, theme in Pin.objects.filter(pk__in=ids).values_list(
            "pk", "text", "language", "theme__slug"
        )
    }
    return labelled.document(
        [[rows[p] for p in group] for group in groups],
        [(rows[a][0], rows[b][0], False) for a, b in different],
        "Curators' decisions exported from carto: each group is one need (their 'same need' decisions,"
        " joined); each pair is a 'not the same need' decision.",
    )
