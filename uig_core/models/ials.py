"""Implicit ALS (Hu, Koren & Volinsky, ICDM 2008) on ``implicit``'s CPU solver: scales with the catalogue.

Each user and item gets a ``factors``-dimensional vector; confidences ``c_ui = 1 + α·log1p(w_ui)`` (bounded,
since the build's weights are ≤ the strongest event weight) weigh the observed pairs, every unobserved pair has
confidence 1 and preference 0. ``implicit`` solves each half-step with a few conjugate-gradient steps per row, so
one iteration costs ``O(nnz·f + (n_users + n_items)·f²)`` — linear in the catalogue, nothing ``n_items²``.

The L2 strength λ is chosen, when not given, from a short grid (hill-climbing, as EASE does) on a random holdout
of at most ``search_users`` users, each candidate trained for ``search_iterations`` only: the search costs at most
``len(grid) × search_iterations`` iterations.

Measured with ``bench/large_models.py`` (2 cores, 64 factors, the λ search included): 20k items / 631k pairs
43 CPU-s, 0.7 GB; 93k items / 3.3 M pairs 188 CPU-s, 2.7 GB; Recall@20 on the temporal split 0.279 / 0.267, below
the sparse neighbourhood models there (see ``uig_core.models.LARGE_CATALOG_MODEL``). Defaults (α = 15 on 0/1
pairs, the λ grid) come from a small sweep on S: λ ≥ 1000 collapses to popularity there.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from uig_core.errors import ConfigError
from uig_core.models._params import Boolean, FloatList, Interval
from uig_core.models._validation import holdout, recall_at_k
from uig_core.models.base import Recommender
from uig_core.progress import Progress

__all__ = ["IALS", "solver_threads"]

log = logging.getLogger(__name__)

DEFAULT_GRID = (30.0, 100.0, 300.0)


def solver_threads(requested: int | None = None) -> int:
    """Threads for ``implicit``'s OpenMP solver.

    ``requested`` if given, else the tightest of: the CPUs this process may use, the OpenMP limit set through
    threadpoolctl (or ``OMP_NUM_THREADS``), and torch's intra-op threads (when torch is loaded).
    """
    if requested:
        return int(requested)
    from threadpoolctl import threadpool_info

    limits = [len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1]
    limits += [int(api["num_threads"]) for api in threadpool_info() if api.get("user_api") == "openmp"]
    torch = sys.modules.get("torch")  # only when already imported: importing torch here would cost seconds
    if torch is not None:
        limits.append(int(torch.get_num_threads()))
    return max(1, min(limits))


class IALS(Recommender):
    """Implicit-feedback matrix factorisation by alternating least squares.

    Args:
        factors: Latent dimensions.
        regularization: L2 strength λ; None picks it from ``regularization_grid`` on a validation holdout.
        regularization_grid: Candidate λ values.
        alpha: Confidence slope: ``c = 1 + alpha · log1p(w)``.
        iterations: ALS sweeps of the final fit.
        search_iterations: ALS sweeps of each candidate in the λ search.
        search_users: Users whose items are partly held out for the λ search (at most).
        fine_tune_iterations: Sweeps of a warm start (:meth:`fine_tune`) from the previous factors.
        use_weights: Confidences from the interaction weights (False: every pair has weight 1).
        num_threads: Solver threads (None: see :func:`solver_threads`).
        random_state: Seed of the initial factors and the validation holdout.

    Attributes:
        user_factors_: ``(n_users, factors)`` float32.
        item_factors_: ``(n_items, factors)`` float32.
        regularization_: The λ used.
        validation_: ``{λ: Recall@20}`` on the holdout (empty when ``regularization`` was given).
    """

    name = "ials"
    _warm_start_uses_state = True
    _constraints = {
        "factors": Interval(int, 1, None),
        "regularization": Interval(float, 0, None, allow_none=True),
        "regularization_grid": FloatList(),
        "alpha": Interval(float, 0, None),
        "iterations": Interval(int, 1, None),
        "search_iterations": Interval(int, 1, None),
        "search_users": Interval(int, 1, None),
        "fine_tune_iterations": Interval(int, 1, None),
        "use_weights": Boolean(),
        "num_threads": Interval(int, 1, None, allow_none=True),
        "random_state": Interval(int, 0, None),
    }

    def __init__(
        self,
        *,
        factors: int = 64,
        regularization: float | None = None,
        regularization_grid: tuple[float, ...] = DEFAULT_GRID,
        alpha: float = 15.0,
        iterations: int = 15,
        search_iterations: int = 5,
        search_users: int = 20_000,
        fine_tune_iterations: int = 4,
        use_weights: bool = False,
        num_threads: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.regularization_grid = regularization_grid
        self.alpha = alpha
        self.iterations = iterations
        self.search_iterations = search_iterations
        self.search_users = search_users
        self.fine_tune_iterations = fine_tune_iterations
        self.use_weights = use_weights
        self.num_threads = num_threads
        self.random_state = random_state

    # ------------------------------------------------------------------ training
    def _confidence(self, x: sp.csr_matrix) -> sp.csr_matrix:
        c = x.copy()
        w = c.data if self.use_weights else np.ones_like(c.data)
        c.data = (1.0 + self.alpha * np.log1p(w)).astype(np.float32)
        return c

    def _als(
        self,
        conf: sp.csr_matrix,
        l2: float,
        iterations: int,
        progress: Progress,
        init: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run ``iterations`` ALS sweeps on CPU; returns ``(user_factors, item_factors)``."""
        from threadpoolctl import threadpool_limits

        try:
            from implicit.cpu.als import AlternatingLeastSquares  # the CPU class: never implicit's GPU path
        except ImportError as err:  # pragma: no cover - a dependency of the package
            raise ConfigError(
                "The 'ials' model needs the 'implicit' package, which is not installed; "
                "run: pip install 'implicit>=0.7.3,<0.8' (or choose 'p3alpha' / 'itemknn')."
            ) from err

        threads = solver_threads(self.num_threads)
        t0 = time.perf_counter()

        def on_iteration(iteration: int, elapsed: float, loss: float | None) -> None:
            log.debug("%s λ=%g: ALS sweep %d/%d in %.2f s", self.name, l2, iteration + 1, iterations, elapsed)
            progress((iteration + 1) / iterations, f"ALS sweep {iteration + 1}/{iterations} (λ={l2:g})")

        # implicit solves one small system per row on its own threads: BLAS threads inside them only contend.
        with threadpool_limits(1, user_api="blas"):
            als = AlternatingLeastSquares(
                factors=self.factors,
                regularization=float(l2),
                alpha=1.0,  # confidences are computed here (bounded log scaling)
                iterations=iterations,
                num_threads=threads,
                random_state=self.random_state,
            )
            if init is not None:
                als.user_factors, als.item_factors = (np.ascontiguousarray(a, dtype=np.float32) for a in init)
            als.fit(conf, show_progress=False, callback=on_iteration)
        log.debug(
            "%s: %d sweeps on %d x %d (%d pairs, %d threads) in %.2f s",
            self.name,
            iterations,
            *conf.shape,
            conf.nnz,
            threads,
            time.perf_counter() - t0,
        )
        return np.asarray(als.user_factors, dtype=np.float32), np.asarray(als.item_factors, dtype=np.float32)

    def _search(self, conf: sp.csr_matrix, progress: Progress) -> float:
        """Hill-climb the sorted grid from its middle value on a holdout; returns the best λ."""
        train, valid = holdout(conf, seed=self.random_state, max_users=self.search_users)
        grid = sorted(float(v) for v in self.regularization_grid)

        def score_of(i: int) -> float:
            lam = grid[i]
            if lam not in self.validation_:
                t0 = time.perf_counter()
                start = min(0.5, 0.5 * len(self.validation_) / len(grid))
                step = lambda f, m: progress(start + 0.5 / len(grid) * f, m)  # noqa: E731
                uf, itf = self._als(train, lam, self.search_iterations, step)
                self.validation_[lam] = recall_at_k(lambda u: uf[u] @ itf.T, train, valid)
                log.debug("%s λ=%g: validation Recall@20 %.4f (%.2f s)", self.name, lam, self.validation_[lam],
                          time.perf_counter() - t0)  # fmt: skip
            return self.validation_[lam]

        i = len(grid) // 2
        step = 1 if i + 1 < len(grid) and score_of(i + 1) > score_of(i) else -1
        while 0 <= i + step < len(grid) and score_of(i + step) > score_of(i):
            i += step
        return max(self.validation_, key=lambda lam: (self.validation_[lam], lam))

    def _fit(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        conf = self._confidence(x)
        self.validation_: dict[float, float] = {}
        l2 = self.regularization
        final: Progress = progress
        if l2 is None:
            l2 = self._search(conf, progress)
            final = lambda f, m: progress(0.5 + 0.5 * f, m)  # noqa: E731
        self.user_factors_, self.item_factors_ = self._als(conf, l2, self.iterations, final)
        self.regularization_ = float(l2)

    # ------------------------------------------------------------------ warm start
    def _reindex(self, user_map: np.ndarray, item_map: np.ndarray) -> None:
        """Carry known rows over; new items start small and random, new users at zero (solved first anyway)."""
        rng = np.random.default_rng(self.random_state)
        users = np.zeros((len(user_map), self.user_factors_.shape[1]), dtype=np.float32)
        users[user_map >= 0] = self.user_factors_[user_map[user_map >= 0]]
        items = (rng.random((len(item_map), self.item_factors_.shape[1]), dtype=np.float32) * 0.01).astype(np.float32)
        items[item_map >= 0] = self.item_factors_[item_map[item_map >= 0]]
        self._warm_state = (users, items)
        del self.user_factors_, self.item_factors_

    def _fine_tune(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        """A few sweeps from the previous factors with the λ chosen at the last full fit (no new search)."""
        warm = getattr(self, "_warm_state", None)
        if warm is None:
            if x.shape != (self.n_users_, self.n_items_):
                raise ConfigError(
                    f"fine_tune got shape {x.shape}; the model has {(self.n_users_, self.n_items_)}. "
                    "Call reindex(user_map, item_map) first."
                )
            warm = (self.user_factors_, self.item_factors_)
        if (len(warm[0]), len(warm[1])) != x.shape:
            raise ConfigError(
                f"fine_tune got shape {x.shape}, but reindex() prepared {(len(warm[0]), len(warm[1]))}; "
                "pass the matrix whose users and items the maps describe."
            )
        l2 = getattr(self, "regularization_", None)
        if l2 is None:  # fitted by an older version or never: the given λ, else the grid's middle value
            grid = sorted(float(v) for v in self.regularization_grid)
            l2 = self.regularization if self.regularization is not None else grid[len(grid) // 2]
        conf = self._confidence(x)
        self.user_factors_, self.item_factors_ = self._als(conf, l2, self.fine_tune_iterations, progress, init=warm)
        self.regularization_ = float(l2)
        self._warm_state = None

    # ------------------------------------------------------------------ scoring
    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _score_items(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self._user_rows(self.user_factors_, users) @ self.item_factors_[items].T

    def score_history(self, history: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
        """Scores of ``items`` for arbitrary history rows, each row's user vector solved from the item factors.

        That is the exact least-squares step the training alternates (``implicit``'s ``recalculate_user``).
        """
        self._check_fitted("score_history")
        conf = self._confidence(sp.csr_matrix(history))
        y = np.asarray(self.item_factors_, dtype=np.float64)
        out = np.zeros((conf.shape[0], len(items)), dtype=np.float32)
        for r in range(conf.shape[0]):
            cols, c = conf.indices[conf.indptr[r] : conf.indptr[r + 1]], conf.data[conf.indptr[r] : conf.indptr[r + 1]]
            if len(cols):
                system, yj = self._fold_in(cols, c)
                out[r] = y[items] @ np.linalg.solve(system, yj.T @ c)
        return out

    def contributions(self, user: int, items: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Leave-one-out drops: part ``j`` is how much each item's folded-in score falls without history item ``j``.

        The user vector is solved from the item factors (:meth:`score_history`); removing item ``j`` changes the
        normal equations by a rank-one term, so every ``u₋ⱼ = u + αⱼ A⁻¹yⱼ`` follows from one solve
        (Sherman–Morrison) and the drops cost one ``(items × factors) @ (factors × history)`` product. Not a
        decomposition (the drops need not add up to the score), but exactly what a deletion would do.
        """
        from uig_core.models.attribution import single_item_rows

        self._check_fitted("contributions")
        history, _ = single_item_rows(self.interactions_[int(user)], self.n_items_)
        items = np.asarray(items, dtype=np.int64)
        if not len(history):
            return history, np.zeros((len(items), 0), dtype=np.float32)
        c = np.asarray(self._confidence(self.interactions_[int(user)][:, history]).data, dtype=np.float64)
        system, yj = self._fold_in(history, c)
        g = np.linalg.solve(system, yj.T)  # A⁻¹ yⱼ for every history item, (factors, h)
        u = g @ c  # A⁻¹ b with b = Σ cⱼ yⱼ
        s = np.einsum("hf,fh->h", yj, g)  # yⱼᵀ A⁻¹ yⱼ
        alpha = -c + (c - 1.0) * (yj @ u - c * s) / (1.0 - (c - 1.0) * s)
        y = np.asarray(self.item_factors_, dtype=np.float64)
        return history, (-(y[items] @ g) * alpha[None, :]).astype(np.float32)

    def _fold_in(self, cols: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(A, Y_h)``: the user's normal-equation matrix ``YᵀY + Y_hᵀ(C_h − I)Y_h + λI`` and history factors."""
        y = np.asarray(self.item_factors_, dtype=np.float64)
        gram = getattr(self, "_gram", None)
        if gram is None or gram.shape[0] != y.shape[1]:
            gram = self._gram = y.T @ y
        yj = y[np.asarray(cols, dtype=np.int64)]
        l2 = float(getattr(self, "regularization_", None) or self.regularization or 0.0)
        return gram + (yj.T * (np.asarray(c, dtype=np.float64) - 1.0)) @ yj + l2 * np.eye(y.shape[1]), yj

    # ------------------------------------------------------------------ persistence
    def _state(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors_, "item_factors": self.item_factors_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_factors_ = state["user_factors"]
        self.item_factors_ = state["item_factors"]

    def _extra(self) -> dict[str, Any]:
        return {
            "regularization_": self.regularization_,
            "validation_": {str(k): v for k, v in self.validation_.items()},
        }

    def _set_extra(self, extra: dict[str, Any]) -> None:
        self.regularization_ = float(extra["regularization_"])
        self.validation_ = {float(k): float(v) for k, v in dict(extra.get("validation_", {})).items()}
