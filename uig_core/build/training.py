"""Fitting a build's models: the default and the baselines, fresh or warm-started from the previous build."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.columns import positions
from uig_core.config import BuildConfig
from uig_core.progress import Progress, noop

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle
    from uig_core.build.scheduler import Scheduler
    from uig_core.models.base import Recommender

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
        self, config: BuildConfig, previous: Bundle | None, item_index: pd.Index, user_index: pd.Index
    ) -> None:
        self.config = config
        self.previous = previous
        self.item_index = item_index
        self.user_index = user_index
        self.fit_seconds: dict[str, float] = {}

    def train(
        self, name: str, matrix: sp.csr_matrix, features: np.ndarray | None, progress: Progress = noop
    ) -> Recommender:
        """Fine-tune the previous build's ``name`` where it supports that, else fit a new one."""
        from uig_core.models import make_model

        t0 = time.perf_counter()
        model = self.warm_model(name)
        if model is not None:
            model.fine_tune(matrix, item_features=features, progress=progress)
        else:
            model = make_model(name, random_state=self.config.seed) if _takes_seed(name) else make_model(name)
            model.fit(matrix, item_features=features, progress=progress)
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
