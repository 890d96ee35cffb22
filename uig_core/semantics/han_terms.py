"""Chinese terms for interest names: character n-grams, boilerplate out, and the rules that keep real words.

Used by :mod:`uig_core.semantics.names` for segments written in Han characters (see its notes): terms are the
2–4 character runs of a title's Han text that do not touch shop boilerplate (:func:`han_terms`); a run found only
inside one longer run is not a word (:func:`dominated`); a term spread evenly over most interests is the shop's
boilerplate (:func:`spread_evenly`); a Chinese interest's every term covers :data:`MIN_COVER_HAN` of its titles.
"""

from __future__ import annotations

import logging
import re

import numpy as np

from uig_core.semantics.words import SHOP_BOILERPLATE, is_han

__all__ = ["HAN_RUN", "MIN_COVER_HAN", "han_terms", "dominated", "spread_evenly"]

log = logging.getLogger(__name__)

HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_BOILERPLATE_RE = re.compile("|".join(sorted(SHOP_BOILERPLATE, key=len, reverse=True)))


def han_terms(segment: str) -> list[str]:
    """Every 2–4 character run inside the segment's Han text, boilerplate left out.

    Character n-grams rather than jieba's words: jieba splits catalogue words it does not know ("成猫猫粮" →
    成 / 猫猫 / 粮), while the n-gram 猫粮 is found in the cat-food titles and hardly elsewhere, which is what
    c-TF-IDF rewards. A term is a substring of real titles by construction.
    """
    out = set()
    for run in HAN_RUN.findall(_BOILERPLATE_RE.sub(" ", segment)):  # no term spans boilerplate
        for n in range(2, min(4, len(run)) + 1):
            out.update(run[i : i + n] for i in range(len(run) - n + 1))
    terms = sorted(g for g in out if not any(g in b for b in SHOP_BOILERPLATE))
    return terms


def dominated(vocab: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """``(n_terms,)`` True for Chinese n-grams found only inside one longer n-gram (巴克 inside 星巴克).

    A prefix or suffix of a longer term with the same title count never occurs without it: the longer term
    is the word.
    """
    pos = {str(t): j for j, t in enumerate(vocab)}
    out = np.zeros(len(vocab), dtype=bool)
    for j, t in enumerate(vocab):
        t = str(t)
        if len(t) >= 3 and is_han(t):
            for part in (t[:-1], t[1:]):
                i = pos.get(part)
                if i is not None and freq[i] <= freq[j]:
                    out[i] = True
    return out


MIN_COVER_HAN = 0.3  # share of an interest's titles every term of a Chinese name must appear in


def spread_evenly(cover: np.ndarray) -> np.ndarray:
    """``(n_terms,)`` True for terms spread evenly over most interests (boilerplate such as a shop's own slogan).

    ``cover``: ``(n_clusters, n_terms)`` share of each interest's titles holding the term. A term is spread when it
    appears in at least half of four or more interests and the entropy of its coverage across them is at least
    0.8 of the maximum (a theme word concentrates in one or two interests and scores far lower).
    """
    k = cover.shape[0]
    if k < 4:
        return np.zeros(cover.shape[1], dtype=bool)
    present = (cover > 0.02).sum(axis=0)
    dist = cover / np.maximum(cover.sum(axis=0, keepdims=True), 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.nansum(np.where(dist > 0, dist * np.log(dist), 0.0), axis=0) / np.log(k)
    return (present >= k / 2) & (entropy >= 0.8)
