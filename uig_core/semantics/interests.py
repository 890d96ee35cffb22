"""Interest points: cluster item embeddings into named interests; user interest profiles; interest co-occurrence.

Clustering (see :func:`find_interests`):

1. Ward linkage on the (unit-norm) item embeddings of at most ``max_linkage`` sampled items.
2. **Choice of k** (stated criterion): each cut of the dendrogram with ``k`` in ``[k_min, k_max]`` is scored by
   the mean cosine silhouette on a sample; the chosen k is the *smallest* k whose silhouette is within
   ``sil_tolerance`` (5 %) of the best one. Parsimony matters because on real catalogues the silhouette keeps
   creeping up with k; ``k_max`` defaults to ``round(sqrt(n / 2))`` capped at 60.
3. The Ward centroids at that k seed a spherical k-means over every item (cosine), which fixes Ward's greedy
   merges; clusters are numbered by size, largest first.
4. **Fine level**, where useful: each coarse interest with at least ``min_split`` items is split the same way
   (k in 2..8) if the best split has a positive silhouette; otherwise its items keep the coarse id at the fine
   level.

Names come from c-TF-IDF over member titles (:mod:`uig_core.semantics.names`), so names read like
"christmas tree, decoration" or "greeting card, birthday", never "cluster 7". User profiles and interest
co-occurrence live in :mod:`uig_core.semantics.profiles`.

Items without text (all-zero embedding rows) get interest ``-1`` here;
:func:`uig_core.semantics.profiles.assign_textless_items` can give them the interest of the users who interact with them
(the ID-only path).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.errors import ConfigError
from uig_core.progress import Progress
from uig_core.semantics.names import name_clusters

__all__ = ["InterestResult", "find_interests", "name_clusters"]

log = logging.getLogger(__name__)


@dataclass
class InterestResult:
    """Output of :func:`find_interests`.

    Attributes:
        item_ids: ``(n,)`` item ids, in input order.
        labels: ``(n,)`` int64 coarse (primary) interest id per item; ``-1`` for items without text.
        fine_labels: ``(n,)`` int64 fine interest id per item (the coarse id where that interest was not split).
        table: One row per interest of both levels: ``interest_id`` (int), ``name`` (str), ``size`` (int), ``top_items``
            (list of item ids, most central first), ``top_titles`` (list of str), ``terms`` (list of str),
            ``level`` (``"coarse"``/``"fine"``), ``parent`` (coarse id of a fine interest, ``-1`` for coarse).
        k: Number of coarse interests.
        k_scores: ``{k: silhouette}`` of every candidate k.
        criterion: The rule that chose k, in words.
        centroids: ``(n_interests, d)`` float32 unit centroids, row ``i`` = ``interest_id`` i.
    """

    item_ids: np.ndarray
    labels: np.ndarray
    fine_labels: np.ndarray
    table: pd.DataFrame
    k: int
    k_scores: dict[int, float] = field(default_factory=dict)
    criterion: str = ""
    centroids: np.ndarray | None = None

    @property
    def n_without_text(self) -> int:
        """Items that took the ID-only path (interest -1)."""
        return int((self.labels < 0).sum())

    def item_interest(self, level: str = "coarse") -> pd.Series:
        """Return ``item_id -> interest_id`` (int) at ``level`` (``"coarse"`` or ``"fine"``)."""
        if level not in ("coarse", "fine"):
            raise ConfigError(f"The 'level' of item_interest must be 'coarse' or 'fine'. Got {level!r} instead.")
        labels = self.labels if level == "coarse" else self.fine_labels
        return pd.Series(labels, index=pd.Index(self.item_ids, name="item_id"), name="interest_id")

    def names(self) -> dict[int, str]:
        """Return ``{interest_id: name}`` for every interest of both levels."""
        return dict(zip(self.table["interest_id"].tolist(), self.table["name"].tolist(), strict=True))

    def to_json(self, level: str = "coarse") -> dict[str, Any]:
        """JSON-ready ``{"interests": [...], "items": {item_id: interest_id}}`` (items at ``level``).

        ``interests`` lists every interest of both levels with ``id, name, size, top_items, level, parent``.
        """
        rows = [
            {
                "id": int(r.interest_id),
                "name": str(r.name),
                "size": int(r.size),
                "top_items": [str(x) for x in r.top_items],
                "level": str(r.level),
                "parent": None if int(r.parent) < 0 else int(r.parent),
            }
            for r in self.table.itertuples(index=False)
        ]
        items = {str(i): int(v) for i, v in zip(self.item_ids, self.item_interest(level).to_numpy(), strict=True)}
        return {
            "interests": rows,
            "items": items,
            "k": int(self.k),
            "criterion": self.criterion,
            "n_without_text": self.n_without_text,
        }


# ---------------------------------------------------------------------------------------------------------
# clustering helpers
# ---------------------------------------------------------------------------------------------------------
def _onehot(labels: np.ndarray, k: int) -> sp.csr_matrix:
    n = len(labels)
    return sp.csr_matrix((np.ones(n, dtype=np.float32), (np.arange(n), labels)), shape=(n, k))


def _silhouette(dist: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a precomputed distance matrix; one sparse product per call (fast for many k)."""
    k = int(labels.max()) + 1
    if k < 2:
        return -1.0
    oh = _onehot(labels, k)
    sums = np.asarray((oh.T @ dist).T)  # (n, k): summed distance to each cluster (dist is symmetric)
    counts = np.asarray(oh.sum(axis=0)).ravel()
    idx = np.arange(len(labels))
    own = counts[labels]
    a = sums[idx, labels] / np.maximum(own - 1, 1)
    other = sums / np.maximum(counts, 1)
    other[idx, labels] = np.inf
    other[:, counts == 0] = np.inf
    b = other.min(axis=1)
    s = (b - a) / np.maximum(np.maximum(a, b), 1e-12)
    s[own <= 1] = 0.0
    return float(s.mean())


def _centroids(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    c = np.asarray(_onehot(labels, k).T @ x, dtype=np.float32)
    norms = np.linalg.norm(c, axis=1, keepdims=True)
    return c / np.maximum(norms, 1e-12)


def _spherical_kmeans(x: np.ndarray, centroids: np.ndarray, max_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Refine seed centroids with cosine k-means; empty clusters keep their previous centroid."""
    k = len(centroids)
    labels = np.argmax(x @ centroids.T, axis=1)
    for _ in range(max_iter):
        new_c = _centroids(x, labels, k)
        empty = np.asarray(_onehot(labels, k).sum(axis=0)).ravel() == 0
        new_c[empty] = centroids[empty]
        centroids = new_c
        new_labels = np.argmax(x @ centroids.T, axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    return labels, centroids


def _choose_k(
    x: np.ndarray,
    k_range: Sequence[int],
    rng: np.random.Generator,
    *,
    max_linkage: int,
    max_silhouette: int,
    tolerance: float,
) -> tuple[int, np.ndarray, dict[int, float]]:
    """Ward on a sample, silhouette per cut; returns (k, seed centroids (k, d), scores)."""
    from scipy.cluster.hierarchy import fcluster, linkage  # noqa: PLC0415
    from scipy.spatial.distance import squareform  # noqa: PLC0415

    n = len(x)
    sample = np.sort(rng.choice(n, max_linkage, replace=False)) if n > max_linkage else np.arange(n)
    xs = np.ascontiguousarray(x[sample], dtype=np.float32)
    # Euclidean distances of unit vectors from one matrix product: much faster than linkage's own pdist.
    gram = xs @ xs.T
    cond = squareform(gram, checks=False)  # upper triangle, condensed: half the work below
    cond *= -2.0
    cond += 2.0
    np.maximum(cond, 0.0, out=cond)
    np.sqrt(cond, out=cond)
    tree = linkage(cond.astype(np.float64), method="ward")
    del cond
    sil_idx = np.sort(rng.choice(len(xs), max_silhouette, replace=False)) if len(xs) > max_silhouette else None
    dist = 1.0 - (gram if sil_idx is None else gram[np.ix_(sil_idx, sil_idx)])
    np.clip(dist, 0.0, 2.0, out=dist)
    scores: dict[int, float] = {}
    cuts: dict[int, np.ndarray] = {}
    for k in k_range:
        if k < 2 or k > len(xs) - 1:
            continue
        lab = fcluster(tree, k, criterion="maxclust") - 1
        if lab.max() + 1 < k:  # ties in the tree: that k is not reachable
            continue
        cuts[k] = lab
        scores[k] = _silhouette(dist, lab if sil_idx is None else lab[sil_idx])
    if not scores:
        lab = np.zeros(len(xs), dtype=np.int64)
        return 1, _centroids(xs, lab, 1), {}
    best = max(scores.values())
    threshold = best - tolerance * abs(best)
    k = min(kk for kk, s in scores.items() if s >= threshold)
    return k, _centroids(xs, cuts[k], k), scores


# ---------------------------------------------------------------------------------------------------------
# public: find_interests
# ---------------------------------------------------------------------------------------------------------
def find_interests(
    item_ids: Sequence[Hashable] | np.ndarray,
    texts: Sequence[str],
    embeddings: np.ndarray,
    *,
    k: int | None = None,
    has_text: np.ndarray | None = None,
    k_min: int = 2,
    k_max: int | None = None,
    fine: bool = True,
    min_split: int = 40,
    n_top: int = 5,
    seed: int = 0,
    sil_tolerance: float = 0.05,
    max_linkage: int = 3000,
    max_silhouette: int = 2000,
    progress: Progress | None = None,
) -> InterestResult:
    """Cluster items into named coarse (and fine) interests.

    Args:
        item_ids: ``(n,)`` item ids.
        texts: ``(n,)`` item texts (used for names).
        embeddings: ``(n, d)`` float item vectors, unit norm; all-zero rows mark items without text.
        k: Number of coarse interests; None chooses it by the silhouette rule in the module docstring.
        has_text: ``(n,)`` bool, False for ID-only items (as from ``semantics.item_texts``); default: rows of
            ``embeddings`` with a non-zero norm. ID-only items get interest ``-1``.
        k_min: Smallest candidate k.
        k_max: Largest candidate k (default ``min(60, round(sqrt(n / 2)))``, at least ``k_min``).
        fine: Build the fine level.
        min_split: Smallest coarse interest considered for a fine split.
        n_top: Top items kept per interest.
        seed: Seed of the samples (results are deterministic for a seed).
        sil_tolerance: Relative silhouette tolerance of the parsimony rule.
        max_linkage: Items sampled for the Ward tree (its memory is quadratic).
        max_silhouette: Items sampled to score each k.
        progress: Optional ``callback(fraction, message)``.

    Returns:
        An :class:`InterestResult`.

    Raises:
        ConfigError: Lengths disagree or ``k`` is out of range.
    """
    start = time.perf_counter()
    ids, x, has, xt = _checked_inputs(item_ids, texts, embeddings, has_text, k)
    if len(xt) == 0:
        return _without_text(ids, has, x.shape[1])
    rng = np.random.default_rng(seed)  # one stream, drawn in a fixed order: coarse level, then each split
    report = progress or (lambda _f, _m: None)
    report(0.05, f"clustering {len(xt):,} items")
    candidates, criterion = _candidate_ks(k, k_min, k_max, len(xt), sil_tolerance)
    sampling = _Sampling(max_linkage=max_linkage, max_silhouette=max_silhouette, tolerance=sil_tolerance)
    lab, cent, scores = _coarse_level(xt, k, candidates, rng, sampling, report)
    kk = len(cent)
    level = _FineLevel(lab.copy())
    if fine:
        level = _fine_level(xt, lab, kk, rng, sampling, min_split=min_split, report=report)
    report(0.85, "naming interests")
    table, all_cent = _interest_table(ids, texts, has, xt, lab, cent, level, n_top)
    report(1.0, f"{kk} interests, {len(level.parent)} fine")
    took = time.perf_counter() - start
    log.debug("find_interests: %d interests + %d fine from %d items in %.2f s", kk, len(level.parent), len(xt), took)
    return InterestResult(ids, _spread(has, lab), _spread(has, level.labels), table, kk, scores, criterion, all_cent)


# ---------------------------------------------------------------------------------------------------------
# the steps of find_interests
# ---------------------------------------------------------------------------------------------------------
_TABLE_COLUMNS = ("interest_id", "name", "size", "top_items", "top_titles", "terms", "level", "parent")


@dataclass(frozen=True)
class _Sampling:
    """How :func:`_choose_k` samples and decides, shared by the coarse level and every fine split."""

    max_linkage: int
    max_silhouette: int
    tolerance: float


@dataclass
class _FineLevel:
    """The fine level: fine labels of the text items, and each fine interest's parent and centroid.

    Attributes:
        labels: ``(m,)`` fine id per text item; the coarse id where that interest was not split.
        parent: Coarse id of each fine interest; fine ids follow the coarse ones (the ``i``-th has id ``k + i``).
        centroids: ``(d,)`` unit centroid of each fine interest.
    """

    labels: np.ndarray
    parent: list[int] = field(default_factory=list)
    centroids: list[np.ndarray] = field(default_factory=list)


def _checked_inputs(
    item_ids: Sequence[Hashable] | np.ndarray,
    texts: Sequence[str],
    embeddings: np.ndarray,
    has_text: np.ndarray | None,
    k: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check that the inputs line up and ``k`` is in range, before any clustering work.

    Returns:
        ``(ids as str (n,), embeddings (n, d) float32, has_text (n,) bool, unit rows of the text items (m, d))``.

    Raises:
        ConfigError: Lengths disagree or ``k`` is out of range.
    """
    ids = np.asarray(item_ids).astype(str)
    x = np.asarray(embeddings, dtype=np.float32)
    n = len(ids)
    if x.ndim != 2 or len(x) != n or len(texts) != n:
        raise ConfigError(
            f"find_interests needs one text and one embedding row per item: got {n} ids, {len(texts)} texts, "
            f"embeddings of shape {x.shape}."
        )
    norms = np.linalg.norm(x, axis=1)
    has = norms > 1e-6
    if has_text is not None:
        mask = np.asarray(has_text, dtype=bool)
        if mask.shape != (n,):
            raise ConfigError(f"find_interests: 'has_text' must have one flag per item ({n}); got shape {mask.shape}.")
        has &= mask
    xt = x[has] / norms[has, None]
    m = len(xt)
    if k is not None and (not isinstance(k, int | np.integer) or k < 1 or k > max(m, 1)):
        raise ConfigError(f"The 'k' parameter of find_interests must be an int in [1, {max(m, 1)}]. Got {k!r}.")
    return ids, x, has, xt


def _candidate_ks(k: int | None, k_min: int, k_max: int | None, m: int, tolerance: float) -> tuple[list[int], str]:
    """The coarse k values to score and the rule that chooses among them, in words (kept in the result)."""
    if k_max is None:
        k_max = int(min(60, max(k_min, round(math.sqrt(m / 2)))))
    if k is not None:
        return [int(k)], f"k={k} given"
    candidates = list(range(max(2, k_min), max(k_min, k_max) + 1))
    criterion = (
        f"smallest k in [{candidates[0]}, {candidates[-1]}] within {tolerance:.0%} of the best "
        "cosine silhouette of Ward cuts"
    )
    return candidates, criterion


def _coarse_level(
    xt: np.ndarray,
    k: int | None,
    candidates: list[int],
    rng: np.random.Generator,
    sampling: _Sampling,
    report: Progress,
) -> tuple[np.ndarray, np.ndarray, dict[int, float]]:
    """Coarse interests: Ward seeds (one interest for two items or fewer, or ``k=1``) refined by k-means.

    Returns:
        ``(labels (m,), centroids (k, d), {k: silhouette})``, interests numbered by size.
    """
    start = time.perf_counter()
    m = len(xt)
    if m <= 2 or (k is not None and k == 1):
        kk, seeds, scores = 1, _centroids(xt, np.zeros(m, dtype=np.int64), 1), {}
    else:
        kk, seeds, scores = _choose_k(
            xt,
            candidates,
            rng,
            max_linkage=sampling.max_linkage,
            max_silhouette=sampling.max_silhouette,
            tolerance=sampling.tolerance,
        )
    took = time.perf_counter() - start
    report(0.4, f"refining {kk} interests")
    lab, cent = _renumber_by_size(*_spherical_kmeans(xt, seeds), kk)
    log.debug(
        "coarse level: k=%d of %d candidates on %d items (Ward and silhouettes %.2f s, k-means %.2f s)",
        len(cent),
        len(candidates),
        m,
        took,
        time.perf_counter() - start - took,
    )
    return lab, cent, scores


def _renumber_by_size(labels: np.ndarray, centroids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Number clusters by size, largest first (ties by first member, for determinism); empty ones are dropped."""
    sizes = np.bincount(labels, minlength=k)
    order = sorted((c for c in range(k) if sizes[c] > 0), key=lambda c: (-sizes[c], np.argmax(labels == c)))
    remap = np.full(k, -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    return remap[labels], centroids[order]


def _without_text(ids: np.ndarray, has: np.ndarray, dim: int) -> InterestResult:
    """The result when no item has text: every item on the ID-only path (interest ``-1``), no interests."""
    empty = pd.DataFrame(columns=list(_TABLE_COLUMNS))
    none = np.zeros(0, dtype=np.int64)
    coarse, fine_lab = _spread(has, none), _spread(has, none)
    return InterestResult(ids, coarse, fine_lab, empty, 0, {}, "no item has text", np.zeros((0, dim)))


def _spread(has: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Labels of the text items spread over all items: ``-1`` for the ID-only ones."""
    out = np.full(len(has), -1, dtype=np.int64)
    out[has] = values
    return out


def _fine_level(
    xt: np.ndarray,
    lab: np.ndarray,
    k: int,
    rng: np.random.Generator,
    sampling: _Sampling,
    *,
    min_split: int,
    report: Progress,
) -> _FineLevel:
    """Split every coarse interest of at least ``min_split`` items where a split is real (see the module)."""
    start = time.perf_counter()
    level = _FineLevel(lab.copy())
    for c in range(k):
        members = np.flatnonzero(lab == c)
        report(0.5 + 0.3 * c / k, f"splitting interest {c}")
        if len(members) < min_split:
            continue
        for part, centroid in _split_interest(xt[members], rng, sampling):
            level.labels[members[part]] = k + len(level.parent)
            level.parent.append(c)
            level.centroids.append(centroid)
    n_split = len(set(level.parent))
    log.debug(
        "fine level: %d of %d interests split into %d in %.2f s",
        n_split,
        k,
        len(level.parent),
        time.perf_counter() - start,
    )
    return level


def _split_interest(
    xm: np.ndarray, rng: np.random.Generator, sampling: _Sampling
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The fine parts of one interest as ``(member mask, centroid)``, largest first; ``[]`` to keep it whole.

    An interest is kept whole unless its best split (k in 2..8) has a positive silhouette and two parts survive.
    """
    kmax_f = int(min(8, max(2, len(xm) // 15)))
    kf, seeds_f, sc = _choose_k(
        xm,
        list(range(2, kmax_f + 1)),
        rng,
        max_linkage=sampling.max_linkage,
        max_silhouette=sampling.max_silhouette,
        tolerance=sampling.tolerance,
    )
    if kf < 2 or sc.get(kf, -1.0) <= 0.0:
        return []
    lab_f, cent_f = _spherical_kmeans(xm, seeds_f)
    sz = np.bincount(lab_f, minlength=kf)
    keep = [j for j in np.argsort(-sz, kind="stable") if sz[j] > 0]
    if len(keep) < 2:
        return []
    return [(lab_f == j, cent_f[j]) for j in keep]


def _interest_table(
    ids: np.ndarray,
    texts: Sequence[str],
    has: np.ndarray,
    xt: np.ndarray,
    lab: np.ndarray,
    cent: np.ndarray,
    level: _FineLevel,
    n_top: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The result table (one row per interest of both levels) and the centroids of all interests, row = id."""
    kk = len(cent)
    text_arr = np.asarray([str(t) for t in texts], dtype=object)
    names, terms = _name_levels(text_arr[has], lab, kk, level)
    all_cent = np.vstack([cent] + ([np.vstack(level.centroids)] if level.centroids else [])).astype(np.float32)
    has_idx = np.flatnonzero(has)
    rows = []
    for iid in range(kk + len(level.parent)):
        is_coarse = iid < kk
        members = np.flatnonzero((lab if is_coarse else level.labels) == iid)
        sims = xt[members] @ all_cent[iid]
        top = members[np.argsort(-sims, kind="stable")[:n_top]]
        rows.append(
            {
                "interest_id": iid,
                "name": names[iid],
                "size": int(len(members)),
                "top_items": [str(s) for s in ids[has_idx[top]]],
                "top_titles": [str(s) for s in text_arr[has_idx[top]]],
                "terms": terms[iid][:8],
                "level": "coarse" if is_coarse else "fine",
                "parent": -1 if is_coarse else level.parent[iid - kk],
            }
        )
    table = pd.DataFrame(rows)
    table["interest_id"] = table["interest_id"].astype("int64")
    table["size"] = table["size"].astype("int64")
    table["parent"] = table["parent"].astype("int64")
    return table, all_cent


def _name_levels(
    member_texts: np.ndarray, lab: np.ndarray, kk: int, level: _FineLevel
) -> tuple[dict[int, str], dict[int, list[str]]]:
    """Names and terms of every interest; fine names avoid the coarse ones so no two interests share a name."""
    names, terms = name_clusters(list(member_texts), lab, ids=list(range(kk)))
    if level.parent:
        fine_only = np.where(level.labels >= kk, level.labels, -1)
        names_f, terms_f = name_clusters(
            list(member_texts), fine_only, ids=list(range(kk, kk + len(level.parent))), taken=set(names.values())
        )
        names.update(names_f)
        terms.update(terms_f)
    return names, terms
