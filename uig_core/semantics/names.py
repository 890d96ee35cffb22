"""Interest names: c-TF-IDF terms of the member titles, picked greedily for coverage.

Names come from c-TF-IDF over member titles (lowercase words and adjacent-word bigrams that do not cross
punctuation; function words, sizes and digits removed; "bag"/"bags" merged): a term's score in an interest is the
share of member titles containing it times ``log(1 + A / f)`` (A: mean terms per interest, f: the term's count
over all interests). :func:`name_clusters` then picks 1-3 terms greedily for coverage (details there), and
duplicate names are extended with the next distinctive term, so names read like "christmas tree, decoration" or
"greeting card, birthday", never "cluster 7".

Chinese (and other scripts written without spaces) is split into words by jieba
(:mod:`uig_core.semantics.words`); adjacent words make bigrams as English words do and are shown run together
("哑光口红"). Single characters, sizes and counts never name an interest, nor do shop boilerplate words: a short
list (官方旗舰店, 正品, 包邮, 新款, …) and any such word spread evenly over most interests (found from the
counts, so a shop's own boilerplate goes too). Every term of a Chinese name occurs in at least 30 % of the
interest's titles. Latin-script terms keep the English rules above (their names are unchanged).

Used by :func:`uig_core.semantics.interests.find_interests`; :func:`name_clusters` also names any other grouping
of titles.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from uig_core.semantics.han_terms import HAN_RUN, MIN_COVER_HAN, dominated, han_terms, spread_evenly
from uig_core.semantics.words import is_han

__all__ = ["name_clusters"]

log = logging.getLogger(__name__)

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
one two three four five six seven eight nine ten twelve inch inches oz lb fl ml pair kg mg
""".split()
)
_COLOURS = frozenset(
    "red pink blue green white black yellow purple orange ivory cream gold silver grey gray brown turquoise "
    "lilac beige navy aqua teal multicolour multicolor".split()
)
_SEGMENT = re.compile(r"[()\[\]{}<>|,;:/&+*\"，。、；：（）【】「」《》！？]|\s[-–—]\s")
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
            if HAN_RUN.search(segment):
                for term in han_terms(segment):
                    out.append(term)
                    self._see(term, term)
                segment = HAN_RUN.sub(" ", segment)  # its other words go the English way below
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
        han = np.array([is_han(str(t)) for t in vocab], dtype=bool)
        score[:, han & spread_evenly(counts / sizes[:, None])] = 0.0
        score[:, dominated(vocab, freq)] = 0.0
        # a Chinese interest is named only by terms found in a real share of its titles
        han_docs = np.array([bool(HAN_RUN.search(d)) for d in docs], dtype=np.float64)
        han_cluster = (oh @ han_docs) / sizes >= 0.5
        score[(counts / sizes[:, None] < MIN_COVER_HAN) & han_cluster[:, None]] = 0.0
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
    """Binary ``(n_docs, n_terms)`` document-term matrix and its vocabulary.

    Terms are numbered in first-seen order with each document's terms sorted, never in a set's iteration order,
    which changes with ``PYTHONHASHSEED``: ties between equally scored terms then break the same way in every
    process, so a build's interest names are reproducible.
    """
    index: dict[str, int] = {}
    indptr = [0]
    cols: list[int] = []
    for doc in docs:
        for term in sorted(set(counter(doc))):
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
    """True when a word repeats one of ``others`` or extends it ("camp"/"camping", "garden"/"gardening").

    Chinese terms are related when they share a character (猫粮 / 全价猫粮 / 猫猫): one name, one of them.
    """
    return any(
        a == b
        or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))
        or (is_han(a) and is_han(b) and bool(set(a) & set(b)))
        for a in words
        for b in others
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
