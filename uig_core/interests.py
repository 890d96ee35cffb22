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

Names come from c-TF-IDF over member titles (lowercase words and adjacent-word bigrams that do not cross
punctuation; function words, sizes and digits removed; "bag"/"bags" merged): a term's score in an interest is the
share of member titles containing it times ``log(1 + A / f)`` (A: mean terms per interest, f: the term's count
over all interests). :func:`name_clusters` then picks 1-3 terms greedily for coverage (details there), and
duplicate names are extended with the next distinctive term, so names read like "christmas tree, decoration" or
"greeting card, birthday", never "cluster 7".

Items without text (all-zero embedding rows) get interest ``-1`` here; :func:`assign_textless_items` can give
them the interest of the users who interact with them (the ID-only path).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.columns import map_values
from uig_core.errors import ConfigError
from uig_core.schema import EVENT_WEIGHTS

__all__ = [
    "InterestResult",
    "find_interests",
    "name_clusters",
    "user_profiles",
    "profile_edges",
    "interest_cooccurrence",
    "assign_textless_items",
    "event_weight_array",
    "factorize_ids",
    "interest_codes",
]

Progress = Callable[[float, str], None]

# Function words (a short list: scikit-learn's English list also drops shop words such as "fire" or "back"),
# plus words that carry no merchandising meaning in product titles.
_STOP = frozenset(
    """
a about above after again against all also am an and any are as at be been before being below between both but by
can could did do does doing down during each few for from further had has have having he her here hers him his how
i if in into is it its itself just me more most my no nor not now of off on once only or other our ours out over own
same she should so some such than that the their them then there these they this those through to too under until
up very was we were what when where which while who whom why will with within without would you your yours
set sets pack packs assorted asst design designs small large mini medium new size pcs piece pieces cm mm xl
one two three four five six seven eight nine ten twelve inch inches oz lb fl ml pair
""".split()
)
_COLOURS = frozenset(
    "red pink blue green white black yellow purple orange ivory cream gold silver grey gray brown turquoise "
    "lilac beige navy aqua teal multicolour multicolor".split()
)
_SEGMENT = re.compile(r"[()\[\]{}<>|,;:/&+*\"]|\s[-–—]\s")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def _singular(word: str) -> str:
    """A light singular form, used only to merge "bag"/"bags" into one term."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")):
        return word[:-1]
    return word


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
# naming
# ---------------------------------------------------------------------------------------------------------
class _TermCounter:
    """Analyzer for CountVectorizer: unigrams and adjacent-word bigrams inside punctuation-free segments.

    Terms are keyed by singular forms; :attr:`surface` remembers how each key was written, for display.
    """

    def __init__(self) -> None:
        self.surface: dict[str, dict[str, int]] = {}

    def _see(self, key: str, shown: str) -> None:
        forms = self.surface.setdefault(key, {})
        forms[shown] = forms.get(shown, 0) + 1

    def __call__(self, text: str) -> list[str]:
        out: list[str] = []
        for segment in _SEGMENT.split(text.lower()):
            words = [w.strip("-'’") for w in _WORD.findall(segment)]
            ok = [len(w) >= 2 and w not in _STOP for w in words]
            keys = [_singular(w) for w in words]
            for i, w in enumerate(words):
                if not ok[i]:
                    continue
                out.append(keys[i])
                self._see(keys[i], w)
                if i + 1 < len(words) and ok[i + 1] and keys[i] != keys[i + 1]:
                    key = f"{keys[i]} {keys[i + 1]}"
                    out.append(key)
                    self._see(key, f"{w} {words[i + 1]}")
        return out

    def show(self, key: str) -> str:
        forms = self.surface.get(key)
        return max(forms.items(), key=lambda kv: (kv[1], -len(kv[0])))[0] if forms else key


def name_clusters(
    texts: Sequence[str],
    labels: np.ndarray,
    *,
    n_terms: int = 3,
    ids: Sequence[int] | None = None,
    taken: set[str] | None = None,
) -> tuple[dict[int, str], dict[int, list[str]]]:
    """Name clusters by their distinctive terms (c-TF-IDF, then a greedy coverage pick).

    The first term is the top c-TF-IDF term, upgraded to a bigram holding it when the bigram covers at least half
    of the titles the word covers (so "bag" becomes "lunch bag"); terms with a colour word score half, as colours
    name variants. Each next term shares no word with the chosen ones, appears in at least 10 % of the member
    titles, and adds the most *new* member titles, weighted by its idf; a name gets 2 terms, a third only when it
    still adds coverage worth at least 35 % of the first term's score. A unigram that would pair with a chosen one
    into a candidate bigram merges into that phrase ("bag" + "jumbo" → "jumbo bag").

    Args:
        texts: ``(n,)`` item texts.
        labels: ``(n,)`` cluster id per text, ``-1`` ignored.
        n_terms: Most terms in a name.
        ids: Cluster ids to name (default: every label >= 0).
        taken: Names already in use elsewhere (e.g. the coarse level); they are not repeated.

    Returns:
        ``(names, terms)``: ``{id: "lunch bag, retrospot"}`` (unique) and ``{id: ranked distinctive terms}``.
    """
    labels = np.asarray(labels)
    ids = sorted({int(v) for v in labels if v >= 0}) if ids is None else [int(i) for i in ids]
    keep = labels >= 0
    counter = _TermCounter()
    docs = [str(t) for t, k in zip(texts, keep, strict=True) if k]
    lab = labels[keep]
    pos = {c: i for i, c in enumerate(ids)}
    rows = np.array([pos.get(int(v), -1) for v in lab], dtype=np.int64)
    dtm, vocab = _term_matrix(docs, counter)
    names: dict[int, str] = {}
    terms_out: dict[int, list[str]] = {}
    used: set[str] = set(taken or ())
    if len(vocab):
        ok = rows >= 0
        oh = sp.csr_matrix((np.ones(ok.sum()), (rows[ok], np.flatnonzero(ok))), shape=(len(ids), len(lab)))
        counts = (oh @ dtm).toarray()  # (n_clusters, n_terms): member titles holding the term
        sizes = np.maximum(np.asarray(oh.sum(axis=1)).ravel(), 1.0)
        freq = counts.sum(axis=0)
        idf = np.log1p(counts.sum() / max(len(ids), 1) / np.maximum(freq, 1.0))
        score = counts / sizes[:, None] * idf
        # colours describe a variant, not what is sold: such terms count half
        score[:, [j for j, t in enumerate(vocab) if set(str(t).split()) & _COLOURS]] *= 0.5
    for ci, c in enumerate(ids):
        if not len(vocab):
            ranked: list[int] = []
        else:
            top = np.argsort(-score[ci], kind="stable")[:40]
            ranked = [int(j) for j in top if score[ci, j] > 0]
        chosen = _pick_terms(
            ranked,
            score[ci] if ranked else None,
            idf if ranked else None,
            vocab,
            dtm[rows == ci][:, ranked] if ranked else None,
            n_terms,
        )
        shown = [counter.show(str(vocab[j])) for j in chosen]
        terms_out[c] = [counter.show(str(vocab[j])) for j in ranked[:10]]
        name = ", ".join(shown) if shown else f"interest {c}"
        spare = iter(t for t in terms_out[c] if t not in shown and not set(t.split()) & set(name.split()))
        while name in used:
            nxt = next(spare, None)
            name = f"{name}, {nxt}" if nxt else f"{name} #{c}"
        used.add(name)
        names[c] = name
    return names, terms_out


def _term_matrix(docs: Sequence[str], counter: _TermCounter) -> tuple[sp.csr_matrix, np.ndarray]:
    """Binary ``(n_docs, n_terms)`` document-term matrix and its vocabulary (terms sorted)."""
    index: dict[str, int] = {}
    indptr = [0]
    cols: list[int] = []
    for doc in docs:
        for term in set(counter(doc)):
            cols.append(index.setdefault(term, len(index)))
        indptr.append(len(cols))
    vocab = np.empty(len(index), dtype=object)
    for term, j in index.items():
        vocab[j] = term
    data = np.ones(len(cols), dtype=np.float64)
    mat = sp.csr_matrix(
        (data, np.asarray(cols, dtype=np.int64), np.asarray(indptr, dtype=np.int64)), shape=(len(docs), len(index))
    )
    return mat, vocab


def _related(words: set[str], others: set[str]) -> bool:
    """True when a word repeats one of ``others`` or extends it ("camp"/"camping", "garden"/"gardening")."""
    return any(
        a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a))) for a in words for b in others
    )


_MIN_COVER = 0.1  # share of an interest's titles a second or third name term must appear in


def _pick_terms(
    ranked: list[int],
    score: np.ndarray | None,
    idf: np.ndarray | None,
    vocab: np.ndarray,
    member_terms: sp.csr_matrix | None,
    n_terms: int,
) -> list[int]:
    """Greedy term choice of :func:`name_clusters`; returns vocabulary indices."""
    if not ranked or score is None or idf is None or member_terms is None:
        return []
    words = {j: set(str(vocab[j]).split()) for j in ranked}
    col = {j: i for i, j in enumerate(ranked)}
    has = member_terms.toarray() > 0  # (n_members, n_candidates)

    def upgrade(j: int, blocked: set[str]) -> int:
        if len(words[j]) > 1:
            return j
        best = [
            b
            for b in ranked
            if len(words[b]) == 2
            and words[j] <= words[b]
            and not _related(words[b] - words[j], blocked)
            and has[:, col[b]].sum() >= 0.5 * has[:, col[j]].sum()
        ]
        return max(best, key=lambda b: score[b]) if best else j

    first = upgrade(ranked[0], set())
    chosen = [first]
    covered = has[:, col[first]].copy()
    top_score = float(score[first])
    while len(chosen) < n_terms:
        blocked = set().union(*(words[j] for j in chosen))
        # a further term must describe a real share of the members, not one odd title
        free = [j for j in ranked if not _related(words[j], blocked) and has[:, col[j]].mean() >= _MIN_COVER]
        if not free:
            break
        gains = {j: float(idf[j] * (has[:, col[j]] & ~covered).mean()) for j in free}
        j = max(free, key=lambda t: (gains[t], score[t]))
        if gains[j] < 0.35 * top_score:
            if len(chosen) >= 2:
                break
            j = free[0]  # nothing adds much coverage: the next most distinctive term
        pair = [
            b
            for b in ranked
            if len(words[j]) == 1
            and len(words[b]) == 2
            and words[j] < words[b]
            and any(len(words[c]) == 1 and words[b] == words[c] | words[j] for c in chosen)
            and has[:, col[b]].sum() >= 0.5 * has[:, col[j]].sum()
        ]
        if pair:  # "bag" + "jumbo" reads better as the phrase "jumbo bag"
            b = pair[0]
            chosen = [b if len(words[c]) == 1 and words[c] < words[b] else c for c in chosen]
            covered |= has[:, col[b]]
            continue
        j = upgrade(j, blocked)
        chosen.append(j)
        covered |= has[:, col[j]]
    return chosen


# ---------------------------------------------------------------------------------------------------------
# public: find_interests
# ---------------------------------------------------------------------------------------------------------
def find_interests(
    item_ids: Sequence[Any] | np.ndarray,
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
    rng = np.random.default_rng(seed)
    coarse = np.full(n, -1, dtype=np.int64)
    fine_lab = np.full(n, -1, dtype=np.int64)
    report = progress or (lambda _f, _m: None)
    if m == 0:
        empty = pd.DataFrame(
            columns=["interest_id", "name", "size", "top_items", "top_titles", "terms", "level", "parent"]
        )
        return InterestResult(ids, coarse, fine_lab, empty, 0, {}, "no item has text", np.zeros((0, x.shape[1])))

    report(0.05, f"clustering {m:,} items")
    if k_max is None:
        k_max = int(min(60, max(k_min, round(math.sqrt(m / 2)))))
    if k is not None:
        candidates: list[int] = [int(k)]
        criterion = f"k={k} given"
    else:
        candidates = list(range(max(2, k_min), max(k_min, k_max) + 1))
        criterion = (
            f"smallest k in [{candidates[0]}, {candidates[-1]}] within {sil_tolerance:.0%} of the best "
            "cosine silhouette of Ward cuts"
        )
    if m <= 2 or (k is not None and k == 1):
        kk, seeds, scores = 1, _centroids(xt, np.zeros(m, dtype=np.int64), 1), {}
    else:
        kk, seeds, scores = _choose_k(
            xt, candidates, rng, max_linkage=max_linkage, max_silhouette=max_silhouette, tolerance=sil_tolerance
        )
    report(0.4, f"refining {kk} interests")
    lab, cent = _spherical_kmeans(xt, seeds)
    # renumber by size (largest first), ties by first member for determinism
    sizes = np.bincount(lab, minlength=kk)
    order = sorted((c for c in range(kk) if sizes[c] > 0), key=lambda c: (-sizes[c], np.argmax(lab == c)))
    remap = np.full(kk, -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    lab = remap[lab]
    cent = cent[order]
    kk = len(order)
    coarse[has] = lab

    # fine level
    fine_sub = lab.copy()
    fine_parent: list[int] = []
    fine_cent: list[np.ndarray] = []
    next_id = kk
    if fine:
        for c in range(kk):
            members = np.flatnonzero(lab == c)
            report(0.5 + 0.3 * c / kk, f"splitting interest {c}")
            if len(members) < min_split:
                continue
            xm = xt[members]
            kmax_f = int(min(8, max(2, len(members) // 15)))
            kf, seeds_f, sc = _choose_k(
                xm,
                list(range(2, kmax_f + 1)),
                rng,
                max_linkage=max_linkage,
                max_silhouette=max_silhouette,
                tolerance=sil_tolerance,
            )
            if kf < 2 or sc.get(kf, -1.0) <= 0.0:
                continue
            lab_f, cent_f = _spherical_kmeans(xm, seeds_f)
            sz = np.bincount(lab_f, minlength=kf)
            keep = [j for j in np.argsort(-sz, kind="stable") if sz[j] > 0]
            if len(keep) < 2:
                continue
            for j in keep:
                fine_sub[members[lab_f == j]] = next_id
                fine_parent.append(c)
                fine_cent.append(cent_f[j])
                next_id += 1
    fine_lab[has] = fine_sub

    report(0.85, "naming interests")
    text_arr = np.asarray([str(t) for t in texts], dtype=object)
    names_c, terms_c = name_clusters(list(text_arr[has]), lab, ids=list(range(kk)))
    all_cent = np.vstack([cent] + ([np.vstack(fine_cent)] if fine_cent else [])).astype(np.float32)
    rows = []
    names_f: dict[int, str] = {}
    terms_f: dict[int, list[str]] = {}
    if fine_parent:
        fine_only = np.where(fine_sub >= kk, fine_sub, -1)
        names_f, terms_f = name_clusters(
            list(text_arr[has]), fine_only, ids=list(range(kk, next_id)), taken=set(names_c.values())
        )
    has_idx = np.flatnonzero(has)
    for iid in range(next_id):
        level = "coarse" if iid < kk else "fine"
        members = np.flatnonzero((lab if level == "coarse" else fine_sub) == iid)
        sims = xt[members] @ all_cent[iid]
        top = members[np.argsort(-sims, kind="stable")[:n_top]]
        rows.append(
            {
                "interest_id": iid,
                "name": names_c[iid] if level == "coarse" else names_f[iid],
                "size": int(len(members)),
                "top_items": [str(s) for s in ids[has_idx[top]]],
                "top_titles": [str(s) for s in text_arr[has_idx[top]]],
                "terms": (terms_c if level == "coarse" else terms_f)[iid][:8],
                "level": level,
                "parent": -1 if level == "coarse" else fine_parent[iid - kk],
            }
        )
    table = pd.DataFrame(rows)
    table["interest_id"] = table["interest_id"].astype("int64")
    table["size"] = table["size"].astype("int64")
    table["parent"] = table["parent"].astype("int64")
    report(1.0, f"{kk} interests, {next_id - kk} fine")
    return InterestResult(ids, coarse, fine_lab, table, kk, scores, criterion, all_cent)


# ---------------------------------------------------------------------------------------------------------
# user profiles
# ---------------------------------------------------------------------------------------------------------
def event_weight_array(events: pd.DataFrame, event_weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Return ``(len(events),)`` float64 weight of each event by its type; unknown types and returns weigh 0."""
    weights = dict(EVENT_WEIGHTS if event_weights is None else event_weights)
    weights.pop("return", None)  # returns are never positive evidence
    if "event" not in events:
        return np.full(len(events), float(weights.get("purchase", 1.0)))
    return map_values(events["event"], {str(k): float(v) for k, v in weights.items()}, 0.0)


def factorize_ids(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(sorted unique ids as str, int64 code per value)``; hashing, so much faster than ``np.unique``."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if not isinstance(series.dtype, pd.StringDtype):  # an Arrow string column is factorized as it is (no copy)
        series = series.astype("string")
    codes, uniques = pd.factorize(series, sort=True)
    return np.asarray(uniques.astype(str), dtype=object), codes.astype(np.int64)


def interest_codes(events: pd.DataFrame, item_interest: pd.Series | Mapping[Any, int]) -> np.ndarray:
    """``(len(events),)`` int64 interest id of each event's item; ``-1`` where the item has none."""
    s = item_interest if isinstance(item_interest, pd.Series) else pd.Series(dict(item_interest))
    s = pd.Series(s.to_numpy(), index=s.index.astype(str))
    s = s[~s.index.duplicated()]
    items, idx = factorize_ids(events["item_id"])
    lookup = pd.to_numeric(s.reindex(items), errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    return lookup[idx] if len(idx) else np.zeros(0, dtype=np.int64)


def user_profiles(
    events: pd.DataFrame,
    item_interest: pd.Series | Mapping[Any, int],
    *,
    event_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = 30.0,
    now: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Each user's distribution over interests.

    An event weighs ``event_weights[event] * 0.5 ** (age_days / half_life_days)`` with ``age = now - ts``
    (clipped at 0). Returns and events of items without an interest (unknown or ``-1``) are left out.

    Args:
        events: Canonical events (``user_id, item_id``; ``event`` and ``ts`` used when present).
        item_interest: ``item_id -> interest_id`` (e.g. ``InterestResult.item_interest()``).
        event_weights: ``{event: weight}``; default ``schema.EVENT_WEIGHTS`` (purchase 8 > cart 4 > click 2 > view 1).
        half_life_days: Recency half-life in days; None or ``inf`` turns decay off.
        now: Reference time for ages; default the latest ``ts`` in ``events``.

    Returns:
        DataFrame ``(n_users, n_interests)`` float64, index ``user_id``, columns every interest id of
        ``item_interest`` (sorted ints); each row sums to 1. Users with no weighted event are absent.
    """
    if half_life_days is not None and not half_life_days > 0:
        raise ConfigError(f"The 'half_life_days' of user_profiles must be > 0 or None. Got {half_life_days!r}.")
    w = event_weight_array(events, event_weights)
    if half_life_days is not None and np.isfinite(half_life_days) and "ts" in events:
        ts = pd.to_datetime(events["ts"])
        ref = pd.Timestamp(now) if now is not None else ts.max()
        age = ((ref - ts).dt.total_seconds() / 86400.0).clip(lower=0.0).fillna(0.0).to_numpy()
        w = w * np.exp2(-age / float(half_life_days))
    codes = interest_codes(events, item_interest)
    ok = (w > 0) & (codes >= 0)
    users, uidx = factorize_ids(events["user_id"][ok])
    known = (
        pd.to_numeric(
            pd.Series(
                item_interest.values()
                if isinstance(item_interest, Mapping) and not isinstance(item_interest, pd.Series)
                else item_interest
            ),
            errors="coerce",
        )
        .dropna()
        .to_numpy(dtype=np.int64)
    )
    cols = np.union1d(known[known >= 0], codes[ok])  # every interest is a column, touched or not
    cidx = np.searchsorted(cols, codes[ok])
    mat = sp.csr_matrix((w[ok], (uidx, cidx)), shape=(len(users), len(cols))).toarray()
    total = mat.sum(axis=1, keepdims=True)
    keep = total.ravel() > 0
    mat = mat[keep] / total[keep]
    out = pd.DataFrame(mat, index=pd.Index(users[keep], name="user_id"), columns=pd.Index(cols, name="interest_id"))
    return out


def profile_edges(profiles: pd.DataFrame, *, min_weight: float = 0.02) -> pd.DataFrame:
    """User→interest edges from :func:`user_profiles`: long frame ``user_id, interest_id, weight`` (weight >= min)."""
    arr = profiles.to_numpy()
    r, c = np.nonzero(arr >= min_weight)
    return pd.DataFrame(
        {
            "user_id": profiles.index.to_numpy()[r],
            "interest_id": profiles.columns.to_numpy()[c].astype(np.int64),
            "weight": arr[r, c],
        }
    )


def interest_cooccurrence(
    events: pd.DataFrame,
    item_interest: pd.Series | Mapping[Any, int] | None = None,
    *,
    event_weights: Mapping[str, float] | None = None,
    min_share: float = 0.05,
    min_users: int = 3,
) -> pd.DataFrame:
    """Interest→interest edges from co-occurrence in users' histories.

    A user "holds" an interest when it has at least ``min_share`` of the user's (undecayed) profile. For a pair
    of interests, ``n_users`` counts users holding both, ``weight`` is their Ochiai (cosine) association
    ``n_ab / sqrt(n_a * n_b)`` in [0, 1], and ``lift`` is ``n_ab * N / (n_a * n_b)`` (> 1: more than chance).

    Args:
        events: Canonical events; or, with ``item_interest`` None, a profiles frame from :func:`user_profiles`.
        item_interest: ``item_id -> interest_id``.
        event_weights: As in :func:`user_profiles`.
        min_share: Profile share from which a user holds an interest.
        min_users: Fewest users holding both for an edge to be kept.

    Returns:
        DataFrame ``source, target, n_users, weight, lift`` with ``source < target`` (undirected), sorted by
        weight descending.
    """
    if item_interest is None:
        profiles = events
    else:
        profiles = user_profiles(events, item_interest, event_weights=event_weights, half_life_days=None)
    held = sp.csr_matrix((profiles.to_numpy() >= min_share).astype(np.float64))
    co = (held.T @ held).toarray()
    n_a = np.diag(co).copy()
    a, b = np.triu_indices(len(n_a), k=1)
    n_ab = co[a, b]
    keep = n_ab >= max(min_users, 1)
    a, b, n_ab = a[keep], b[keep], n_ab[keep]
    ids = profiles.columns.to_numpy().astype(np.int64)
    denom = np.maximum(n_a[a] * n_a[b], 1.0)
    out = pd.DataFrame(
        {
            "source": ids[a],
            "target": ids[b],
            "n_users": n_ab.astype(np.int64),
            "weight": n_ab / np.sqrt(denom),
            "lift": n_ab * len(profiles) / denom,
        }
    )
    return out.sort_values(["weight", "source", "target"], ascending=[False, True, True], ignore_index=True)


def assign_textless_items(
    events: pd.DataFrame,
    item_interest: pd.Series,
    *,
    event_weights: Mapping[str, float] | None = None,
) -> pd.Series:
    """ID-only path: give items without text (interest -1) the interest their users lean to.

    For each such item, sums the (undecayed) interest profiles of the users who interacted with it, weighted by
    their events on it, and takes the argmax. Items nobody with a profile touched stay ``-1``.

    Args:
        events: Canonical events.
        item_interest: ``item_id -> interest_id`` with ``-1`` for text-less items.
        event_weights: As in :func:`user_profiles`.

    Returns:
        A copy of ``item_interest`` with the text-less items filled where possible.
    """
    out = item_interest.copy()
    out.index = out.index.astype(str)
    missing = out.index[out.to_numpy() < 0]
    if len(missing) == 0 or out.max() < 0:
        return out
    prof = user_profiles(events, out, event_weights=event_weights, half_life_days=None)
    ev = events[events["item_id"].astype(str).isin(set(missing))]
    if ev.empty or prof.empty:
        return out
    w = event_weight_array(ev, event_weights)
    users = ev["user_id"].astype(str).to_numpy()
    pos = prof.index.get_indexer(users)
    ok = (pos >= 0) & (w > 0)
    items, iidx = factorize_ids(ev["item_id"][ok])
    agg = sp.csr_matrix((w[ok], (iidx, pos[ok])), shape=(len(items), len(prof))) @ prof.to_numpy()
    best = prof.columns.to_numpy()[np.argmax(agg, axis=1)]
    has = agg.max(axis=1) > 0
    out.loc[items[has]] = best[has].astype(np.int64)
    return out
