"""Recommenders behind one contract (:class:`~uig_core.models.base.Recommender`) and their registry.

Example:
    >>> from uig_core.models import DEFAULT_MODEL, make_model, load_model
    >>> model = make_model(DEFAULT_MODEL, random_state=0).fit(interactions)   # doctest: +SKIP
    >>> model.save("out/model"); load_model("out/model").recommend(0, k=5)   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from uig_core.errors import ConfigError
from uig_core.models.base import Recommender
from uig_core.models.ease import EASE
from uig_core.models.gfcf import BSPM, GraphFilter
from uig_core.models.itemknn import ItemKNN
from uig_core.models.lightgcn import LightGCN
from uig_core.models.lm_gcn import LMGCN
from uig_core.models.residual_gcn import ResidualGCN
from uig_core.models.popularity import Popularity

__all__ = ["Recommender", "MODELS", "MODEL_NAMES", "DEFAULT_MODEL", "make_model", "load_model"]

MODELS: dict[str, type[Recommender]] = {
    cls.name: cls
    for cls in (Popularity, ItemKNN, EASE, LightGCN, ResidualGCN, LMGCN, GraphFilter, BSPM)
}
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)
DEFAULT_MODEL = "ease"


def make_model(name: str, **params: Any) -> Recommender:
    """A new, unfitted model by registry name.

    Raises:
        ConfigError: Unknown name.
        TypeError: A parameter the model does not take (as a Python call would).
    """
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}.")
    return MODELS[name](**params)


def load_model(path: str | Path) -> Recommender:
    """Load any saved model; the class is read from the folder's ``params.json``."""
    return Recommender.load(path)
