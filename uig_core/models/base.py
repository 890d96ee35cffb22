"""The one recommender contract every model and baseline implements, plus shared persistence.

Internal integer indices throughout: rows of the interaction matrix are users, columns are items.

Example:
    >>> from uig_core.models import make_model
    >>> model = make_model("ease").fit(interactions)            # doctest: +SKIP
    >>> items, scores = model.recommend(3, k=10)                # doctest: +SKIP
    >>> model.save("models/ease"); same = Recommender.load("models/ease")  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import logging
import time
import warnings
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from uig_core import atomic
from uig_core.errors import ConfigError, NotFittedError, UnknownId
from uig_core.models._params import Constraint, check_k, check_param
from uig_core.models._topk import topk  # noqa: F401 - the one ranking rule; importers find it here too
from uig_core.progress import Progress

__all__ = ["Recommender", "Progress", "check_interactions", "check_item_features", "MODEL_FORMAT"]

log = logging.getLogger(__name__)

MODEL_FORMAT = 1
_PARAMS_FILE = "params.json"
_STATE_FILE = "state.npz"
_SCORE_BATCH = 2048  # users scored at once by the default score_items: bounds memory to 2048 x n_items
_BATCH_FLOATS = 1 << 25  # at most ~128 MB of float32 scores per batch (recommend, score_items) on big catalogues
#: Model name → class, filled as subclasses are defined (see ``Recommender.__init_subclass__``).
_SAVED_CLASSES: dict[str, type[Recommender]] = {}
_BATCH = 2048  # users scored at once in recommend(); bounds memory to BATCH × n_items floats


def _batch_size(n_items: int, most: int) -> int:
    """Users per scoring batch: ``most``, fewer where ``most × n_items`` floats would pass ``_BATCH_FLOATS``."""
    return max(1, min(most, _BATCH_FLOATS // max(n_items, 1)))


def _noop(fraction: float, message: str) -> None:
    """Ignore progress."""


def check_interactions(interactions: Any) -> sp.csr_matrix:
    """Return the interactions as a canonical float32 CSR matrix (users × items).

    A non-CSR input is converted with a warning (as ``implicit`` does); negative or non-finite weights raise.
    """
    if not sp.issparse(interactions):
        if isinstance(interactions, np.ndarray) and interactions.ndim == 2:
            warnings.warn("interactions is a dense array; converting to scipy.sparse.csr_matrix.", stacklevel=3)
            interactions = sp.csr_matrix(interactions)
        else:
            raise ConfigError(
                "interactions must be a scipy.sparse.csr_matrix of shape (n_users, n_items). "
                f"Got {type(interactions).__name__} instead."
            )
    if not sp.isspmatrix_csr(interactions) or interactions.dtype != np.float32:
        if not sp.isspmatrix_csr(interactions):
            warnings.warn(f"interactions is a {interactions.format.upper()} matrix; converting to CSR.", stacklevel=3)
        interactions = sp.csr_matrix(interactions, dtype=np.float32)
    x = interactions.copy()
    x.sum_duplicates()
    x.eliminate_zeros()
    if x.shape[0] == 0 or x.shape[1] == 0 or x.nnz == 0:
        raise ConfigError(f"interactions must hold at least one non-zero entry. Got shape {x.shape}, nnz={x.nnz}.")
    if not np.all(np.isfinite(x.data)) or (x.data < 0).any():
        raise ConfigError("interactions must hold finite, non-negative weights; found negative or NaN/inf values.")
    x.sort_indices()
    return x


def check_item_features(item_features: Any, n_items: int) -> np.ndarray | None:
    """Return item features as float32 ``(n_items, d)`` or None."""
    if item_features is None:
        return None
    f = np.asarray(item_features, dtype=np.float32)
    if f.ndim != 2 or f.shape[0] != n_items:
        raise ConfigError(f"item_features must have shape (n_items={n_items}, d). Got {f.shape} instead.")
    return np.nan_to_num(f)


class Recommender(ABC):
    """Base class: ``fit`` → ``score`` / ``recommend`` / ``similar_items`` → ``save`` / ``load``.

    Subclasses store keyword-only parameters in ``__init__`` (no logic), declare ``_constraints`` and implement
    ``_fit`` and ``_score``; learned state ends with ``_``. ``_state`` / ``_set_state`` list the arrays that
    ``save`` / ``load`` persist.

    Attributes:
        interactions_: The training matrix (CSR, users × items) — used to mask seen items.
        n_users_: Number of users seen in ``fit``.
        n_items_: Number of items seen in ``fit``.
    """

    name: ClassVar[str] = ""
    _constraints: ClassVar[dict[str, Constraint]] = {}
    #: Whether a warm start (``reindex`` + ``fine_tune``) starts from the learned arrays (trained models) or
    #: needs only the hyperparameters and scalars chosen before (closed-form models).
    _warm_start_uses_state: ClassVar[bool] = False
    #: Whether ``fit`` reads ``item_features`` (a build can start the others before the embeddings are ready).
    uses_item_features: ClassVar[bool] = False
    #: Whether a user's score is a sum over their history items (``score(x) = Σ_j score(x_j e_j)``): then
    #: :meth:`contributions` splits every score exactly into one part per history item.
    additive: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every named subclass registers itself, so :meth:`load` finds a saved model's class by its name."""
        super().__init_subclass__(**kwargs)
        if cls.name:
            _SAVED_CLASSES[cls.name] = cls

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind == p.KEYWORD_ONLY]

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters as given to ``__init__`` (JSON-serialisable)."""
        out = {}
        for n in self._param_names():
            v = getattr(self, n)
            out[n] = list(v) if isinstance(v, tuple) else v
        return out

    def set_params(self, **params: Any) -> Recommender:
        """Set hyperparameters (validated at the next ``fit``)."""
        known = set(self._param_names())
        for key, value in params.items():
            if key not in known:
                raise ConfigError(f"{type(self).__name__} has no parameter {key!r}; valid: {sorted(known)}.")
            setattr(self, key, value)
        return self

    def _validate_params(self) -> None:
        for pname, spec in self._constraints.items():
            check_param(type(self).__name__, pname, getattr(self, pname), spec)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        interactions: sp.csr_matrix,
        item_features: np.ndarray | None = None,
        *,
        progress: Progress | None = None,
    ) -> Recommender:
        """Learn from a users × items weight matrix.

        Args:
            interactions: ``(n_users, n_items)`` CSR of non-negative float32 weights (the pattern is the set of
                positive pairs; values are confidences, e.g. event weight × recency).
            item_features: Optional ``(n_items, d)`` item vectors (sentence-transformers embeddings).
            progress: ``progress(fraction, message)`` callback.

        Returns:
            self
        """
        self._validate_params()
        x = check_interactions(interactions)
        feats = check_item_features(item_features, x.shape[1])
        report = progress or _noop
        report(0.0, f"fitting {self.name}")
        start = time.perf_counter()
        self._fit(x, feats, report)
        log.debug("%s fitted on %d x %d (%d pairs) in %.2f s", self.name, *x.shape, x.nnz, time.perf_counter() - start)
        self.interactions_ = x
        self.n_users_, self.n_items_ = x.shape
        report(1.0, f"{self.name} fitted")
        return self

    @abstractmethod
    def _fit(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        """Learn the model state from validated inputs."""

    # ------------------------------------------------------------------ warm start (living graph)
    def reindex(self, user_map: np.ndarray, item_map: np.ndarray) -> Recommender:
        """Carry the learned state over to a new set of users and items, ready for :meth:`fine_tune`.

        Args:
            user_map: ``(n_new_users,)`` int: for each new user index, its index in this model, or -1 if new.
            item_map: ``(n_new_items,)`` int: the same for items.

        Returns:
            self, re-indexed. Until :meth:`fine_tune` runs, queries raise :class:`NotFittedError` (the seen-item
            masks belong to the old indices).
        """
        self._check_fitted("reindex")
        user_map = np.asarray(user_map, dtype=np.int64).reshape(-1)
        item_map = np.asarray(item_map, dtype=np.int64).reshape(-1)
        for name, m, n in (("user_map", user_map, self.n_users_), ("item_map", item_map, self.n_items_)):
            if len(m) and (m.min() < -1 or m.max() >= n):
                raise ConfigError(f"{name} must hold indices in -1..{n - 1} (-1 = new). Got {m.min()}..{m.max()}.")
        self._reindex(user_map, item_map)
        del self.interactions_
        self.warm_ = True
        return self

    def _reindex(self, user_map: np.ndarray, item_map: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Re-index learned per-user/per-item arrays (models without such state keep only their settings)."""

    def fine_tune(
        self,
        interactions: sp.csr_matrix,
        item_features: np.ndarray | None = None,
        *,
        progress: Progress | None = None,
    ) -> Recommender:
        """Update the model on new interactions, starting from its current (re-indexed) state.

        Trained models run a few epochs from their previous weights; closed-form models re-solve with the
        hyperparameters chosen before (no new search). A model that was never fitted is simply fitted.

        Args:
            interactions: ``(n_users, n_items)`` CSR with the shape given to :meth:`reindex`.
            item_features: As for :meth:`fit`.
            progress: ``progress(fraction, message)`` callback.

        Returns:
            self
        """
        if not getattr(self, "warm_", False) and not hasattr(self, "interactions_"):
            return self.fit(interactions, item_features, progress=progress)
        self._validate_params()
        x = check_interactions(interactions)
        feats = check_item_features(item_features, x.shape[1])
        report = progress or _noop
        report(0.0, f"fine-tuning {self.name}")
        self._fine_tune(x, feats, report)
        self.interactions_ = x
        self.n_users_, self.n_items_ = x.shape
        self.warm_ = False
        report(1.0, f"{self.name} updated")
        return self

    def _fine_tune(self, x: sp.csr_matrix, item_features: np.ndarray | None, progress: Progress) -> None:
        """Default warm update: refit (right for models whose fit is a cheap closed form)."""
        self._fit(x, item_features, progress)

    @abstractmethod
    def _score(self, users: np.ndarray) -> np.ndarray:
        """Raw scores ``(len(users), n_items)`` float32 for validated user indices."""

    # ------------------------------------------------------------------ queries
    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "interactions_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with an interactions matrix "
                f"(or load a saved model) before using '{method}'."
            )

    def _check_users(self, user_ids: Any) -> np.ndarray:
        users = np.asarray(user_ids)
        if users.dtype.kind not in "iu" or users.ndim > 1:
            raise ConfigError(
                f"user_ids must be an int or a 1-D array of int user indices. Got {users.dtype} with "
                f"shape {users.shape} instead."
            )
        users = users.astype(np.int64).reshape(-1)
        bad = (users < 0) | (users >= self.n_users_)
        if bad.any():
            raise UnknownId(
                f"user index {int(users[bad][0])} is out of range; the model was fitted on "
                f"{self.n_users_} users (indices 0..{self.n_users_ - 1})."
            )
        return users

    def _check_item(self, item_id: Any) -> int:
        if isinstance(item_id, bool) or not isinstance(item_id, (int, np.integer)):
            raise ConfigError(f"item_id must be an int item index. Got {item_id!r} instead.")
        if not 0 <= int(item_id) < self.n_items_:
            raise UnknownId(
                f"item index {int(item_id)} is out of range; the model was fitted on {self.n_items_} items "
                f"(indices 0..{self.n_items_ - 1})."
            )
        return int(item_id)

    def score(self, user_ids: int | np.ndarray) -> np.ndarray:
        """Raw scores for every item.

        Args:
            user_ids: One user index or an array of them.

        Returns:
            ``(n, n_items)`` float32 scores (``n`` = 1 for an int); higher is better. Seen items are not masked.
        """
        self._check_fitted("score")
        users = self._check_users(user_ids)
        return np.asarray(self._score(users), dtype=np.float32)

    def score_items(self, item_ids: int | np.ndarray, user_ids: np.ndarray | None = None) -> np.ndarray:
        """Raw scores of a few items for many users ("who should see item Z?"), without scoring every item.

        Args:
            item_ids: One item index or a 1-D array of them.
            user_ids: User indices (default: every user).

        Returns:
            ``(n_users, n_items_asked)`` float32, equal to ``score(user_ids)[:, item_ids]``. Models whose score is
            a product (EASE, ItemKNN, the graph models) compute only the asked columns; others score in batches.
        """
        self._check_fitted("score_items")
        users = np.arange(self.n_users_, dtype=np.int64) if user_ids is None else self._check_users(user_ids)
        items = np.asarray(item_ids).reshape(-1)
        if items.dtype.kind not in "iu" or ((items < 0) | (items >= self.n_items_)).any():
            raise UnknownId(
                f"item_ids must be item indices in 0..{self.n_items_ - 1}. Got {np.asarray(item_ids)!r} instead."
            )
        return np.asarray(self._score_items(users, items.astype(np.int64)), dtype=np.float32)

    def score_history(self, history: sp.csr_matrix, items: np.ndarray) -> np.ndarray | None:
        """Scores of ``items`` for arbitrary history rows, as if each row were a user, or None.

        Args:
            history: ``(n_rows, n_items)`` CSR of edge weights (rows of a training matrix, edited at will).
            items: Item columns to score.

        Returns:
            ``(n_rows, len(items))`` float scores; None for models that score only the users they were trained on
            (the graph networks, popularity).
        """
        self._check_fitted("score_history")
        return None

    def contributions(self, user: int, items: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """What each of the user's history items adds to the score of each of ``items``, or None.

        Returns:
            ``(history, parts)``: the user's history item columns ``(h,)`` and ``(len(items), h)`` parts. For
            :attr:`additive` models the parts add up to the score exactly; a model may override this with an
            attribution of its own (iALS: the exact drop when each history item is left out); None otherwise.
        """
        self._check_fitted("contributions")
        if not self.additive:
            return None
        from uig_core.models.attribution import additive_parts

        return additive_parts(self, int(user), np.asarray(items, dtype=np.int64))

    def _user_rows(self, array: Any, users: np.ndarray) -> Any:
        """``array[users]``, or ``array`` itself when ``users`` is every user in order (no copy of millions of rows)."""
        n = self.n_users_
        if len(users) == n and n and users[0] == 0 and users[-1] == n - 1 and bool(np.all(np.diff(users) == 1)):
            return array
        return array[users]

    def item_column(self, item: int) -> tuple[np.ndarray, np.ndarray] | None:
        """``(items j, weights w_j)`` with ``score(u, item) = Σ_j w_j · [u has an edge to j]``, or None.

        Models whose score is ``binary(X) @ W`` return the non-zeros of ``W[:, item]``, so one item's audience
        can be read from the item-major pairs (:func:`uig_core.models._columns.column_scores`); others None.
        """
        self._check_fitted("item_column")
        return None

    def _score_items(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Default: score users in batches and keep the asked columns (override where a product is cheaper)."""
        out = np.empty((len(users), len(items)), dtype=np.float32)
        step = _batch_size(self.n_items_, _SCORE_BATCH)
        for start in range(0, len(users), step):
            part = users[start : start + step]
            out[start : start + len(part)] = np.asarray(self._score(part))[:, items]
        return out

    def recommend(
        self,
        user_ids: int | np.ndarray,
        k: int = 20,
        filter_seen: bool = True,
        items: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items per user.

        Args:
            user_ids: One user index (→ 1-D results) or an array of them (→ 2-D results).
            k: Number of items (an int ≥ 1; capped at the number of candidates).
            filter_seen: Leave out the user's training items.
            items: Optional candidate item indices; only these can be recommended.

        Returns:
            ``(item_idx, scores)``: int64 and float32 arrays of shape ``(n, k)`` (``(k,)`` for one int user),
            best first. Slots without an allowed item (a user who has seen every candidate) hold index -1 and
            score -inf.
        """
        self._check_fitted("recommend")
        k = check_k(k)
        single = np.ndim(user_ids) == 0
        users = self._check_users(user_ids)
        allowed = None
        if items is not None:
            cand = np.asarray(items)
            if cand.dtype.kind not in "iu" or cand.ndim != 1:
                raise ConfigError(f"items must be a 1-D array of int item indices. Got {cand.dtype}, {cand.shape}.")
            if len(cand) and (cand.min() < 0 or cand.max() >= self.n_items_):
                raise UnknownId(f"items holds an index outside 0..{self.n_items_ - 1}.")
            allowed = np.zeros(self.n_items_, dtype=bool)
            allowed[cand] = True
        n_cand = self.n_items_ if allowed is None else int(allowed.sum())
        k_eff = max(min(k, n_cand), 0)
        out_idx = np.full((len(users), k_eff), -1, dtype=np.int64)
        out_sc = np.full((len(users), k_eff), -np.inf, dtype=np.float32)
        step = _batch_size(self.n_items_, _BATCH)
        for start in range(0, len(users), step):
            batch = users[start : start + step]
            s = np.array(self._score(batch), dtype=np.float32, copy=True, order="C")
            s[~np.isfinite(s)] = np.finfo(np.float32).min  # keep NaN/inf from models out of the top
            if allowed is not None:
                s[:, ~allowed] = -np.inf
            if filter_seen:
                seen = self.interactions_[batch]
                s[np.repeat(np.arange(len(batch)), np.diff(seen.indptr)), seen.indices] = -np.inf
            idx, sc = topk(s, k_eff)
            sc_bad = ~np.isfinite(sc)
            idx[sc_bad] = -1
            out_idx[start : start + len(batch)] = idx
            out_sc[start : start + len(batch)] = np.where(sc_bad, -np.inf, sc)
        if single:
            return out_idx[0], out_sc[0]
        return out_idx, out_sc

    def similar_items(self, item_id: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items most similar to one item (the item itself excluded).

        Uses cosine of ``item_factors_`` where the model has them, else the cosine of the items' user columns.

        Returns:
            ``(item_idx, scores)`` 1-D arrays of length ``min(k, n_items - 1)``.
        """
        self._check_fitted("similar_items")
        k = check_k(k, "similar_items")
        item = self._check_item(item_id)
        sims = self._item_similarity(item).astype(np.float32)
        sims[item] = -np.inf
        idx, sc = topk(sims[None, :], min(k, self.n_items_ - 1))
        return idx[0], sc[0]

    def _item_similarity(self, item: int) -> np.ndarray:
        factors = getattr(self, "item_factors_", None)
        if factors is not None:
            f = np.asarray(factors, dtype=np.float32)
            norms = np.linalg.norm(f, axis=1)
            norms[norms == 0] = 1.0
            return (f @ f[item]) / (norms * norms[item])
        xc = self.interactions_.tocsc()
        col = xc[:, item]
        co = np.asarray((xc.T @ col).todense()).ravel()
        norms = np.sqrt(np.asarray(xc.multiply(xc).sum(axis=0)).ravel())
        norms[norms == 0] = 1.0
        return co / (norms * norms[item])

    # ------------------------------------------------------------------ persistence
    def _state(self) -> dict[str, np.ndarray]:
        """Learned arrays to persist (besides the interactions)."""
        return {}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:  # noqa: B027 - optional hook
        """Restore learned arrays saved by ``_state``."""

    def _extra(self) -> dict[str, Any]:
        """Learned JSON-able scalars to persist (e.g. the chosen regularisation)."""
        return {}

    def _set_extra(self, extra: dict[str, Any]) -> None:
        for key, value in extra.items():
            setattr(self, key, value)

    def save(self, path: str | Path) -> Path:
        """Write the model to a folder: ``params.json`` (hyperparameters) and ``state.npz`` (arrays).

        The folder is written under a temporary name and renamed into place, so readers never see half a model.
        """
        self._check_fitted("save")
        path = Path(path)
        x = self.interactions_
        arrays = {f"state.{k}": np.ascontiguousarray(v) for k, v in self._state().items()}
        arrays.update(
            {
                "seen.indptr": x.indptr,
                "seen.indices": x.indices,
                "seen.data": x.data,
                "seen.shape": np.asarray(x.shape, dtype=np.int64),
            }
        )
        for key, value in arrays.items():
            if np.asarray(value).dtype == object:
                raise ConfigError(f"state array {key!r} of {type(self).__name__} has dtype object; cannot save.")
        meta = {
            "format": MODEL_FORMAT,
            "model": self.name,
            "class": type(self).__name__,
            "params": self.get_params(),
            "extra": self._extra(),
        }
        with atomic.atomic_dir(path) as tmp:
            atomic.save_npz(tmp / _STATE_FILE, **arrays)
            atomic.write_json(tmp / _PARAMS_FILE, meta)
        return path

    @classmethod
    def load(cls, path: str | Path, *, warm_start: bool = False) -> Recommender:
        """Load a model saved by :meth:`save` (no pickle). ``Recommender.load`` picks the class from the file.

        Args:
            path: The model folder.
            warm_start: Load only what :meth:`reindex` + :meth:`fine_tune` need. Models whose warm start uses
                nothing but hyperparameters and learned scalars (EASE's λ) then skip their arrays (EASE's
                ``n_items²`` weights); the result can only be re-indexed.
        """
        path = Path(path)
        meta_path = path / _PARAMS_FILE
        if not meta_path.exists():
            raise ConfigError(f"{path} holds no saved model ({_PARAMS_FILE} is missing); save a fitted model first.")
        meta = atomic.read_json(meta_path)
        if meta.get("format") != MODEL_FORMAT:
            raise ConfigError(
                f"{path} was saved in model format {meta.get('format')}; this version reads "
                f"format {MODEL_FORMAT}. Rebuild the model."
            )
        name = meta.get("model")
        if name not in _SAVED_CLASSES:
            raise ConfigError(f"{path} holds an unknown model {name!r}; known: {sorted(_SAVED_CLASSES)}.")
        klass = _SAVED_CLASSES[name]
        if cls is not Recommender and not issubclass(klass, cls):
            raise ConfigError(f"{path} holds a {name!r} model, not a {cls.name or cls.__name__!r} one.")
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in meta.get("params", {}).items()}
        model = klass(**params)
        if warm_start and not klass._warm_start_uses_state:
            with np.load(path / _STATE_FILE, allow_pickle=False) as lazy:  # reads one small member
                shape = tuple(int(v) for v in lazy["seen.shape"])
            model.interactions_ = sp.csr_matrix(shape, dtype=np.float32)  # placeholder; reindex drops it
            model.n_users_, model.n_items_ = shape
            model._set_extra(meta.get("extra", {}))
            return model
        arrays = atomic.map_npz(path / _STATE_FILE)  # pages are read as a query touches them
        shape = tuple(int(v) for v in arrays["seen.shape"])
        model.interactions_ = sp.csr_matrix(
            (arrays["seen.data"], arrays["seen.indices"], arrays["seen.indptr"]), shape=shape
        )
        model.n_users_, model.n_items_ = shape
        model._set_extra(meta.get("extra", {}))
        model._set_state({k[len("state.") :]: v for k, v in arrays.items() if k.startswith("state.")})
        return model
