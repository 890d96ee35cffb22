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
from uig_core.models.ease import EASE, RecencyEASE
from uig_core.models.gfcf import BSPM, GraphFilter
from uig_core.models.itemknn import ItemKNN
from uig_core.models.lightgcn import LightGCN
from uig_core.models.lm_gcn import LMGCN
from uig_core.models.popularity import Popularity
from uig_core.models.residual_gcn import ResidualGCN

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
    cls.name: cls for cls in (Popularity, ItemKNN, EASE, RecencyEASE, LightGCN, ResidualGCN, LMGCN, GraphFilter, BSPM)
}
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)
#: Chosen by measurement on OR-30d: EASE on the recency-weighted graph beats every other model there and fits
#: quickly (figures in docs/ARCHITECTURE.md and bench/quality.py's output).
DEFAULT_MODEL = "ease_recency"
#: For catalogues above EASE's dense limit (25,000 items): the best measured on Gowalla (see docs/ARCHITECTURE.md).
LARGE_CATALOG_MODEL = "bspm"


def default_model_for(n_items: int, max_items: int = 25_000) -> str:
    """The measured default for a catalogue size: :data:`DEFAULT_MODEL`, or BSPM above EASE's dense limit."""
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
