"""Build settings: everything a build depends on besides the data, hashed into the build id."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from uig_core.build.layout import FORMAT_VERSION
from uig_core.errors import ConfigError
from uig_core.schema import EVENT_WEIGHTS

__all__ = ["BuildConfig"]

log = logging.getLogger(__name__)

#: Version of the per-user definitions a build stores (money net of returns, anomaly features, drift dating),
#: hashed into the build id so a build made under an older definition is rebuilt, not reused.
USER_DEFINITIONS = 2


@dataclass
class BuildConfig:
    """Everything a build depends on besides the data; hashed into the build id.

    Attributes:
        embed_model: Sentence-transformers model (None: the bundled default).
        n_interests: Number of coarse interests (None: chosen from the catalogue).
        event_weights: Edge weight of each event type.
        half_life_days: Recency half-life of edge weights.
        model: Default model to train (None: the measured default for the catalogue size).
        extra_models: Models trained beside the default.
        seed: Random seed of every seeded step.
        exclude_anomalous: Leave users whose anomaly score reaches ``anomaly_threshold`` out of model training
            (they stay in the workspace, the graph and every page).
        anomaly_threshold: The score at which a user is left out (None: the flag threshold of
            :mod:`uig_core.signals.risk`).
        selection_budget_s: Estimated CPU seconds the slower candidate models (plain EASE, graph filters, iALS,
            the graph networks) may take together when the build chooses its default on validation
            (:mod:`uig_core.build.selection`); the sparse models and ``ease_recency`` are always fitted. The
            default keeps Online Retail's build to the sparse models and ``ease_recency``; raise it (e.g. 300)
            to let the graph networks compete.
    """

    embed_model: str | None = None
    n_interests: int | None = None
    event_weights: dict[str, float] = field(default_factory=lambda: dict(EVENT_WEIGHTS))
    half_life_days: float = 60.0
    model: str | None = None
    extra_models: tuple[str, ...] = ("popularity", "itemknn")
    seed: int = 0
    exclude_anomalous: bool = False
    anomaly_threshold: float | None = None
    selection_budget_s: float = 5.0

    def __post_init__(self) -> None:
        t = self.anomaly_threshold
        if t is not None and not (isinstance(t, (int, float)) and 0.0 < float(t) <= 1.0):
            raise ConfigError(
                f"The 'anomaly_threshold' build setting must be a number in (0, 1]. Got {t!r} instead "
                "(anomaly scores run from 0, ordinary, to 1, a flood)."
            )
        b = self.selection_budget_s
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not b >= 0:
            raise ConfigError(
                f"The 'selection_budget_s' build setting must be a number of seconds >= 0. Got {b!r} instead "
                "(0 fits only the fast models; 600 lets the graph networks in on most shops)."
            )

    def key(self) -> str:
        """Stable hash of the config and the build layout's version."""
        keyed = {**asdict(self), "format": FORMAT_VERSION, "user_definitions": USER_DEFINITIONS}
        blob = json.dumps(keyed, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BuildConfig:
        """Build a config from a dict, rejecting unknown keys with a clear message."""
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"unknown build setting(s) {sorted(unknown)}; known: {sorted(known)}.")
        values = dict(values)
        if "extra_models" in values:
            values["extra_models"] = tuple(values["extra_models"])
        return cls(**values)
