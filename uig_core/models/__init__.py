"""Recommenders behind one contract (:class:`~uig_core.models.base.Recommender`) and their registry.

Example:
    >>> from uig_core.models import DEFAULT_MODEL, make_model, load_model
    >>> model = make_model(DEFAULT_MODEL, random_state=0).fit(interactions)   # doctest: +SKIP
    >>> model.save("out/model"); load_model("out/model").recommend(0, k=5)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from uig_core.errors import ConfigError
from uig_core.models.base import Recommender
from uig_core.models.ease import EASE, MAX_ITEMS, RecencyEASE
from uig_core.models.gfcf import BSPM, GraphFilter
from uig_core.models.ials import IALS
from uig_core.models.itemknn import ItemKNN
from uig_core.models.lightgcn import LightGCN
from uig_core.models.lm_blend import LMBlend
from uig_core.models.lm_gcn import LMGCN
from uig_core.models.popularity import Popularity
from uig_core.models.recent import RecentFunnel, RecentUnbought
from uig_core.models.residual_gcn import ResidualGCN
from uig_core.models.rp3beta import P3alpha, RP3beta

__all__ = [
    "Recommender",
    "MODELS",
    "MODEL_NAMES",
    "DEFAULT_MODEL",
    "LARGE_CATALOG_MODEL",
    "default_model_for",
    "make_model",
    "model_class",
    "load_model",
]

log = logging.getLogger(__name__)

MODELS: dict[str, type[Recommender]] = {
    cls.name: cls
    for cls in (
        Popularity,
        ItemKNN,
        RP3beta,
        P3alpha,
        EASE,
        RecencyEASE,
        IALS,
        LightGCN,
        ResidualGCN,
        LMGCN,
        LMBlend,
        GraphFilter,
        BSPM,
        RecentUnbought,
        RecentFunnel,
    )
}
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)
#: Chosen by measurement on OR-30d: EASE on the recency-weighted graph beats every other model there and fits
#: quickly (figures in docs/ARCHITECTURE.md and bench/quality.py's output).
DEFAULT_MODEL = "ease_recency"
#: Above EASE's dense limit (:data:`~uig_core.models.ease.MAX_ITEMS` = 5,000 items), chosen by measurement with
#: ``bench/large_models.py`` (temporal split: the last 10 % of time held out, each user's test items = the items
#: first met after the cutoff; Recall@20 over 10,000 test users; fit CPU-s on this shared 2-core machine; peak RSS
#: of the fitting process, the ~0.13 / 0.18 GB matrix included):
#:
#: ============ ============================== ================================
#: model        S (20k items, 631k pairs)      M (93k items, 3.3 M pairs)
#: ============ ============================== ================================
#: p3alpha      0.318 ·   0.9 CPU-s · 0.35 GB  0.297 ·   5.1 CPU-s · 0.58 GB
#: bspm         0.319 ·  71   CPU-s · 1.15 GB  0.240 · 180   CPU-s · 4.7 GB (*)
#: itemknn      0.302 ·   0.8 CPU-s · 0.34 GB  0.275 ·   5.4 CPU-s · 0.59 GB
#: rp3beta 0.3  0.297 ·   0.9 CPU-s · 0.35 GB  0.258 ·   5.6 CPU-s · 0.58 GB
#: ials         0.279 ·  43   CPU-s · 0.71 GB  0.267 · 188   CPU-s · 2.7 GB
#: bm25 knn     0.172 ·   0.8 CPU-s · 0.34 GB  0.077 ·   6.0 CPU-s · 0.57 GB
#: popularity   0.166                          0.153
#: ============ ============================== ================================
#:
#: (*) 2,000 test users (BSPM scores ~80 CPU-s per 1,000 users at M); p3alpha gets 0.291 on the same users.
#: P3alpha is the best at M, ties BSPM at S for 1/80 of the fit, scores users ~100x cheaper than BSPM, and stays
#: sparse top-k (``Σ_u deg(u)²`` work, ``n_items × 200`` state): on the L shop (434k items, 13.6 M pairs) it fits
#: in 33 CPU-s / 1.6 GB with Recall@20 0.268 (itemknn: 37 CPU-s, 0.243; 2,000 test users).
LARGE_CATALOG_MODEL = "p3alpha"


def default_model_for(n_items: int, max_items: int = MAX_ITEMS) -> str:
    """The measured default for a catalogue size.

    :data:`DEFAULT_MODEL` (dense EASE) up to ``max_items`` items, else :data:`LARGE_CATALOG_MODEL` (sparse, its
    fit linear in the catalogue).
    """
    return DEFAULT_MODEL if n_items <= max_items else LARGE_CATALOG_MODEL


def model_class(name: str) -> type[Recommender]:
    """The class registered under ``name``.

    Raises:
        ConfigError: Unknown name.
    """
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}.")
    return MODELS[name]


def make_model(name: str, **params: Any) -> Recommender:
    """A new, unfitted model by registry name.

    Raises:
        ConfigError: Unknown name.
        TypeError: A parameter the model does not take (as a Python call would).
    """
    return model_class(name)(**params)


def load_model(path: str | Path, *, warm_start: bool = False) -> Recommender:
    """Load any saved model; the class is read from the folder's ``params.json`` (see ``Recommender.load``)."""
    return Recommender.load(path, warm_start=warm_start)
