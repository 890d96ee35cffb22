"""Closed-form graph filters on the normalised item–item graph: GF-CF and BSPM.

With ``R̃ = D_U^-1/2 R D_I^-1/2`` and the linear filter ``P̃ = R̃ᵀR̃``:

* **GF-CF** (Shen et al., CIKM 2021): ``s_u = r_u P̃ + α · r_u D_I^-1/2 V Vᵀ D_I^1/2`` where ``V`` holds the top
  right singular vectors of ``R̃`` (the "ideal low-pass" filter).
* **BSPM** (Choi et al., SIGIR 2023), final-sharpening variant: start from ``β·ideal + r_u P̃`` and run the
  sharpening ODE ``ds/dt = -s P̃`` for time ``T`` with RK4 steps.

No training: ``fit`` is one truncated SVD; scoring applies ``P̃`` as two sparse products
(``(s R̃ᵀ) R̃``), so the dense ``n_items²`` filter is never built and large catalogues (Gowalla, 41k items) fit.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from uig_core.models._params import Boolean, Interval
from uig_core.models.base import Recommender
from uig_core.progress import Progress

if TYPE_CHECKING:  # torch is imported where it runs, so importing this module stays cheap
    import torch

__all__ = ["GraphFilter", "BSPM"]

log = logging.getLogger(__name__)

_CHUNK = 512  # users per scoring chunk (RK4 keeps ~5 dense n_items × chunk states)


class GraphFilter(Recommender):
    """GF-CF, and BSPM when ``sharpen_time > 0``.

    Args:
        factors: Singular vectors of the ideal low-pass filter (0 disables it).
        ideal_weight: Weight of the ideal low-pass term (α in GF-CF, β in BSPM).
        sharpen_time: Length ``T`` of BSPM's sharpening process (0: plain GF-CF).
        sharpen_steps: RK4 steps over ``T``.
        use_weights: Use the interaction weights instead of 0/1.
        svd_iterations: Power iterations of the randomised SVD.
        random_state: Seed of the randomised SVD.

    Attributes:
        item_basis_: ``(n_items, factors)`` float32 right singular vectors of ``R̃``.
        singular_values_: ``(factors,)`` float32.
    """

    name = "gfcf"
    additive = True
    _constraints = {
        "factors": Interval(int, 0, None),
        "ideal_weight": Interval(float, 0, None),
        "sharpen_time": Interval(float, 0, None),
        "sharpen_steps": Interval(int, 1, None),
        "use_weights": Boolean(),
        "svd_iterations": Interval(int, 0, None),
        "random_state": Interval(int, 0, None),
    }

    def __init__(
        self,
        *,
        factors: int = 256,
        ideal_weight: float = 0.3,
        sharpen_time: float = 0.0,
        sharpen_steps: int = 1,
        use_weights: bool = False,
        svd_iterations: int = 6,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.ideal_weight = ideal_weight
        self.sharpen_time = sharpen_time
        self.sharpen_steps = sharpen_steps
        self.use_weights = use_weights
        self.svd_iterations = svd_iterations
        self.random_state = random_state

    def _matrix(self, x: sp.csr_matrix) -> sp.csr_matrix:
        return x if self.use_weights else (x > 0).astype(np.float32)

    def _normalized(self, x: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
        r = self._matrix(x)
        du = np.asarray(r.sum(axis=1)).ravel()
        di = np.asarray(r.sum(axis=0)).ravel()
        inv_u = np.where(du > 0, 1.0 / np.sqrt(np.maximum(du, 1e-12)), 0.0).astype(np.float32)
        inv_i = np.where(di > 0, 1.0 / np.sqrt(np.maximum(di, 1e-12)), 0.0).astype(np.float32)
        rt = (sp.diags(inv_u) @ r @ sp.diags(inv_i)).tocsr().astype(np.float32)
        return rt, inv_i

    def _fit(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        rt, _ = self._normalized(x)
        k = self.factors
        if k and k >= min(rt.shape):
            k = min(rt.shape) - 1
            warnings.warn(
                f"{type(self).__name__}: factors={self.factors} is not below min(n_users, n_items)="
                f"{min(rt.shape)}; using {k} singular vectors.",
                stacklevel=3,
            )
        if k and self.ideal_weight > 0:
            from sklearn.utils.extmath import randomized_svd

            progress(0.1, f"truncated SVD (k={k})")
            _, s, vt = randomized_svd(
                rt, k, n_oversamples=max(20, k // 4), n_iter=self.svd_iterations, random_state=self.random_state
            )
            self.item_basis_ = np.ascontiguousarray(vt.T, dtype=np.float32)
            self.singular_values_ = s.astype(np.float32)
        else:
            self.item_basis_ = np.zeros((x.shape[1], 0), dtype=np.float32)
            self.singular_values_ = np.zeros(0, dtype=np.float32)
        self._operators = None

    # ------------------------------------------------------------------ scoring
    def _ops(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        import torch

        if getattr(self, "_operators", None) is None:
            rt, inv_i = self._normalized(self.interactions_)
            rtt = rt.T.tocsr()

            def csr(m: sp.csr_matrix) -> torch.Tensor:
                m.sort_indices()
                with warnings.catch_warnings():  # "sparse CSR support is in beta": we use only the stable spmm
                    warnings.simplefilter("ignore")
                    return torch.sparse_csr_tensor(
                        torch.from_numpy(m.indptr.astype(np.int64)),
                        torch.from_numpy(m.indices.astype(np.int64)),
                        torch.from_numpy(m.data.astype(np.float32)),
                        size=m.shape,
                        check_invariants=False,
                    )

            sqrt_d = np.where(inv_i > 0, 1.0 / np.where(inv_i > 0, inv_i, 1.0), 0.0).astype(np.float32)
            self._operators = (csr(rt), csr(rtt), torch.from_numpy(inv_i)[:, None], torch.from_numpy(sqrt_d)[:, None])
        return self._operators

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self._score_rows(self.interactions_[users])

    def score_history(self, history: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
        """Scores of ``items`` for arbitrary history rows (every filter step is linear in the history)."""
        self._check_fitted("score_history")
        return self._score_rows(sp.csr_matrix(history))[:, items]

    def _score_rows(self, x: sp.csr_matrix) -> np.ndarray:
        import torch

        r_op, rt_op, inv_i, sqrt_d = self._ops()
        basis = torch.from_numpy(self.item_basis_)
        out = np.empty((x.shape[0], self.n_items_), dtype=np.float32)

        def filt(s: torch.Tensor) -> torch.Tensor:  # P̃ applied to states stored as columns (n_items × b)
            return torch.sparse.mm(rt_op, torch.sparse.mm(r_op, s))

        with torch.no_grad():
            for start in range(0, x.shape[0], _CHUNK):
                b = np.arange(start, min(start + _CHUNK, x.shape[0]))
                s0 = torch.from_numpy(np.asarray(self._matrix(x[b]).T.todense(), dtype=np.float32))
                s = filt(s0)
                if basis.shape[1] and self.ideal_weight > 0:
                    ideal = sqrt_d * (basis @ (basis.T @ (inv_i * s0)))
                    s = s + self.ideal_weight * ideal
                if self.sharpen_time > 0:
                    h = self.sharpen_time / self.sharpen_steps
                    for _ in range(self.sharpen_steps):
                        k1 = -filt(s)
                        k2 = -filt(s + 0.5 * h * k1)
                        k3 = -filt(s + 0.5 * h * k2)
                        k4 = -filt(s + h * k3)
                        s = s + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
                out[start : start + len(b)] = s.T.numpy()
        return out

    # ------------------------------------------------------------------ persistence
    def _state(self) -> dict[str, np.ndarray]:
        return {"item_basis": self.item_basis_, "singular_values": self.singular_values_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_basis_ = state["item_basis"]
        self.singular_values_ = state["singular_values"]
        self._operators = None


class BSPM(GraphFilter):
    """BSPM with the published Gowalla settings as defaults (448 factors, β=0.2, T=2.5, one RK4 step)."""

    name = "bspm"

    def __init__(
        self,
        *,
        factors: int = 448,
        ideal_weight: float = 0.2,
        sharpen_time: float = 2.5,
        sharpen_steps: int = 1,
        use_weights: bool = False,
        svd_iterations: int = 6,
        random_state: int = 0,
    ) -> None:
        super().__init__(
            factors=factors,
            ideal_weight=ideal_weight,
            sharpen_time=sharpen_time,
            sharpen_steps=sharpen_steps,
            use_weights=use_weights,
            svd_iterations=svd_iterations,
            random_state=random_state,
        )
