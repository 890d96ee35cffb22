"""Fitting a build's models: the default and the baselines, fresh or warm-started from the previous build."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.columns import positions
from uig_core.config import BuildConfig
from uig_core.errors import ConfigError
from uig_core.progress import Progress, noop

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle
    from uig_core.build.scheduler import Scheduler
    from uig_core.models.base import Recommender
    from uig_core.store.relation import EventRelation

__all__ = ["Trainer", "train_models"]

log = logging.getLogger(__name__)


class Trainer:
    """Fits models for one build and records each fit's wall time in :attr:`fit_seconds`.

    Args:
        config: The build settings (the seed).
        previous: The build an update starts from (None for a full build).
        item_index: The new build's items (model columns).
        user_index: The new build's users (model rows).
    """

    def __init__(
        self,
        config: BuildConfig,
        previous: Bundle | None,
        item_index: pd.Index,
        user_index: pd.Index,
        events: EventRelation | None = None,
    ) -> None:
        self.config = config
        self.previous = previous
        self.item_index = item_index
        self.user_index = user_index
        self.events = events
        self.fit_seconds: dict[str, float] = {}
        #: The build's ``meta["selection"]`` (see :mod:`uig_core.build.selection`).
        self.selection: dict[str, Any] | None = None
        #: Parameters of a model's full fit read off its validation fit (EASE's λ: no second search).
        self.params: dict[str, dict[str, Any]] = {}
        self._pair_events: Any = None
        self._lock = threading.Lock()

    def plan(self) -> list[str]:
        """The models of the build when they are fixed (``--model``, an update), else ``[]``: see :meth:`select`."""
        from uig_core.build.selection import chosen_by_flag

        config = self.config
        if config.model:
            self.selection = chosen_by_flag(config.model, config.selection_budget_s)
            return self._names(config.model, None)
        if self.previous is not None:  # an update keeps the models its previous build chose
            meta = self.previous.meta
            self.selection = meta.get("selection")
            self._read_params(self.selection)
            chosen = (meta.get("default_models") or {}).get("next_purchase")
            return self._names(meta["default_model"], chosen if chosen in self.previous.model_names else None)
        return []

    def select(self, embeddings: np.ndarray | None, progress: Progress = noop) -> list[str]:
        """Choose the defaults on validation (:func:`~uig_core.build.selection.select_defaults`); the model names."""
        from uig_core.build.selection import select_defaults

        if self.events is None:
            raise ConfigError("Trainer.select needs the build's events; pass events= to the Trainer.")
        selection = select_defaults(self.events, self.config, self.item_index, embeddings, progress=progress)
        self.selection = selection
        self._read_params(selection)
        task = selection.get("next_purchase") or {}
        return self._names(selection["default"], task.get("default"))

    def _read_params(self, selection: dict[str, Any] | None) -> None:
        """λ and funnel settings of each task's default, read off its validation fit (no second search)."""
        for table in (selection or {}, (selection or {}).get("next_purchase") or {}):
            chosen = table.get("default")
            row = next((r for r in table.get("candidates", []) if r["model"] == chosen), {})
            if row.get("params"):
                self.params[chosen] = dict(row["params"])

    def _names(self, default: str, next_default: str | None) -> list[str]:
        names = [default] + [m for m in self.config.extra_models if m != default]
        return names + ([next_default] if next_default and next_default not in names else [])

    def pair_events(self) -> Any:
        """The build's :class:`~uig_core.evaluation.next_purchase.PairEvents` (computed once, on first use)."""
        from uig_core.evaluation.next_purchase import pair_events

        with self._lock:
            if self._pair_events is None:
                if self.events is None:
                    raise ConfigError("a next-purchase model needs the build's events; pass events= to the Trainer.")
                self._pair_events = pair_events(self.events, self.user_index, self.item_index, now=None)
            return self._pair_events

    def train(
        self, name: str, matrix: sp.csr_matrix, features: np.ndarray | None, progress: Progress = noop
    ) -> Recommender:
        """Fine-tune the previous build's ``name`` where it supports that, else fit a new one."""
        from uig_core.models import make_model, model_class

        t0 = time.perf_counter()
        next_purchase = getattr(model_class(name), "task", "discover") == "next_purchase"
        model = None if next_purchase else self.warm_model(name)  # pair events change with every batch
        if model is not None:
            model.fine_tune(matrix, item_features=features, progress=progress)
        else:
            params = dict(self.params.get(name, {}))
            if _takes_seed(name):
                params["random_state"] = self.config.seed
            model = make_model(name, **params)
            extra = {"events": self.pair_events()} if next_purchase else {}
            model.fit(matrix, item_features=features, progress=progress, **extra)
        took = time.perf_counter() - t0
        self.fit_seconds[name] = round(took, 3)  # wall time; models overlap other steps
        log.info("fit %s%s: %.2f s", name, " (warm start)" if self.previous is not None else "", took)
        return model

    def warm_model(self, name: str) -> Recommender | None:
        """The previous build's model re-indexed to the new users and items, when it supports ``fine_tune``."""
        previous = self.previous
        if previous is None or name not in previous.model_names:
            return None
        from uig_core.build.layout import model_dir
        from uig_core.models import load_model

        model = load_model(model_dir(previous.path, name), warm_start=True)
        return model.reindex(
            positions(previous.user_index, self.user_index.astype(str)),
            positions(previous.item_index, self.item_index.astype(str)),
        )


def train_models(
    trainer: Trainer,
    scheduler: Scheduler,
    names: list[str],
    early: dict[str, Future[Recommender]],
    matrix: sp.csr_matrix,
    features: np.ndarray,
    progress: Progress,
) -> dict[str, Recommender]:
    """Train every model of the build: the default (first name) here with progress, the rest on a worker.

    ``early`` holds update jobs already started on workers (models that read no item text); any that no worker
    has picked up yet runs here instead.
    """
    default = names[0]
    later = [n for n in names[1:] if n not in early]
    extras = scheduler.submit(lambda: [(n, trainer.train(n, matrix, features)) for n in later])
    trained: dict[str, Recommender] = {}
    if default not in early:
        trained[default] = trainer.train(default, matrix, features, progress)
    for n, job in early.items():
        if job.cancel():
            trained[n] = trainer.train(n, matrix, None)
    trained.update(extras.result())
    trained.update({n: job.result() for n, job in early.items() if n not in trained})
    return {n: trained[n] for n in names}


def _takes_seed(name: str) -> bool:
    from uig_core.models import make_model

    try:
        make_model(name, random_state=0)
    except TypeError:
        return False
    return True
