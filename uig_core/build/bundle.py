"""A finished build loaded for querying: recommendations with reasons, portraits, similar users, item audiences.

Loading is cheap (Parquet + npz); models load lazily and are kept per bundle. A bundle is read-only, so one
instance can be shared between threads (the dashboard caches it per build id).
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.build import layout
from uig_core.errors import ConfigError, UnknownId
from uig_core.queries.explain import Reason, explain_items
from uig_core.schema import EVENT_CODES
from uig_core.store.workspace import Workspace

if TYPE_CHECKING:
    from uig_core.models.base import Recommender

__all__ = ["Bundle"]

log = logging.getLogger(__name__)


class Bundle:
    """Artifacts of one build.

    Attributes:
        path: The build folder.
        meta: The build summary.
        items: One row per item (``item_id, title, category, price, interest_id, ...``); row = model column.
        users: One row per user (activity, spend, drift, anomaly); row = model row.
        interests: Interest table (``interest_id, name, size, top_items, level, parent``).
        interest_edges: Interest co-occurrence edges (``source, target, weight``).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.meta: dict[str, Any] = layout.read_meta(self.path)
        self.items = layout.read_frame(self.path, "items")
        self.users = layout.read_frame(self.path, "users")
        self.interests = layout.read_frame(self.path, "interests")
        self.interest_edges = layout.read_frame(self.path, "interest_edges")
        arrays = layout.read_arrays(self.path)
        self.arrays = arrays
        self.embeddings: np.ndarray = arrays["embeddings"]
        self.profiles: np.ndarray = arrays["profiles"]
        self.profile_columns: np.ndarray = arrays["profile_columns"]
        self.interactions: sp.csr_matrix = layout.read_interactions(self.path)
        self.strongest = layout.read_strongest(self.path)
        self.item_index = pd.Index(self.items["item_id"].astype(str))
        self.user_index = pd.Index(self.users["user_id"].astype(str))
        self._models: dict[str, Recommender] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, ws: Workspace, dataset: str | None = None, build_id: str | None = None) -> Bundle:
        """Load the dataset's current (or a given) build."""
        return cls(ws.build_dir(dataset, build_id))

    @property
    def build_id(self) -> str:
        """Id of this build."""
        return str(self.meta["build_id"])

    @property
    def model_names(self) -> list[str]:
        """Models trained in this build, default first."""
        return list(self.meta["models"])

    @cached_property
    def interest_names(self) -> dict[int, str]:
        """Interest id → name."""
        return dict(zip(self.interests["interest_id"].astype(int), self.interests["name"].astype(str), strict=True))

    # ------------------------------------------------------------------ lookups
    def user_row(self, user_id: str) -> int:
        """Row of a user id, or :class:`UnknownId` naming close matches."""
        pos = self.user_index.get_indexer([str(user_id)])[0]
        if pos < 0:
            raise UnknownId(
                f"user {user_id!r} is not in dataset {self.meta['dataset']!r}{_suggest(str(user_id), self.user_index)}."
            )
        return int(pos)

    def item_row(self, item_id: str) -> int:
        """Column of an item id, or :class:`UnknownId`."""
        pos = self.item_index.get_indexer([str(item_id)])[0]
        if pos < 0:
            raise UnknownId(
                f"item {item_id!r} is not in dataset {self.meta['dataset']!r}{_suggest(str(item_id), self.item_index)}."
            )
        return int(pos)

    def model(self, name: str | None = None) -> Recommender:
        """A trained model of this build (default: the build's default model)."""
        from uig_core.models import load_model

        name = name or self.meta["default_model"]
        if name not in self.model_names:
            raise ConfigError(
                f"model {name!r} was not trained in this build; choose one of {', '.join(self.model_names)}."
            )
        with self._lock:
            if name not in self._models:
                self._models[name] = load_model(layout.model_dir(self.path, name))
            return self._models[name]

    # ------------------------------------------------------------------ queries
    def recommend(
        self,
        user_id: str,
        k: int = 20,
        *,
        model: str | None = None,
        explain: bool = True,
        exclude_seen: bool = True,
        category: str | None = None,
        interest: int | None = None,
    ) -> list[dict[str, Any]]:
        """Top-k items for a user, each with score and (optionally) a reason.

        Args:
            user_id: The user.
            k: How many items (≥ 1).
            model: Model name (default: the build's default).
            explain: Add a ``reason`` to each item.
            exclude_seen: Leave out items the user already interacted with.
            category: Only items of this category.
            interest: Only items of this interest id.
        """
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"The 'k' parameter of recommend must be an int in [1, inf). Got {k!r} instead.")
        row = self.user_row(user_id)
        candidates = None
        mask = np.ones(len(self.items), dtype=bool)
        if category is not None:
            mask &= (self.items["category"].astype("string") == category).fillna(False).to_numpy()
        if interest is not None:
            mask &= self.items["interest_id"].to_numpy() == int(interest)
        if not mask.all():
            candidates = np.flatnonzero(mask)
            if len(candidates) == 0:
                return []
        rec = self.model(model)
        idx, scores = rec.recommend(row, k=int(k), filter_seen=exclude_seen, items=candidates)
        idx, scores = np.asarray(idx).ravel(), np.asarray(scores, dtype=float).ravel()
        keep = np.isfinite(scores)
        idx, scores = idx[keep], scores[keep]
        out = [
            {
                "item_id": str(self.items["item_id"].iat[i]),
                "title": str(self.items["title"].iat[i]),
                "score": round(float(s), 6),
                "interest": self.interest_names.get(int(self.items["interest_id"].iat[i])),
                "category": None if pd.isna(self.items["category"].iat[i]) else str(self.items["category"].iat[i]),
            }
            for i, s in zip(idx, scores, strict=True)
        ]
        if explain and len(idx):
            for entry, reason in zip(out, self.reasons(row, idx), strict=True):
                entry["reason"] = reason.text
                entry["reason_kind"] = reason.kind
        return out

    def reasons(self, row: int, items: np.ndarray) -> list[Reason]:
        """The reason behind each of ``items`` (item columns) for the user at ``row``."""
        return explain_items(
            row,
            items,
            interactions=self.interactions,
            item_ids=self.items["item_id"].to_numpy(),
            titles=self.items["title"].astype(str).to_numpy(),
            item_interest=self.items["interest_id"].to_numpy(),
            interest_names=self.interest_names,
            profile=self.profiles[row],
            profile_columns=self.profile_columns,
            last_event=self._strongest_events(row),
        )

    def _strongest_events(self, row: int) -> dict[str, str]:
        if self.strongest is None:
            return {}
        r = self.strongest[row]
        return {
            str(self.items["item_id"].iat[j]): EVENT_CODES.get(int(c), "purchase")
            for j, c in zip(r.indices, r.data, strict=True)
        }

    def seen_items(self, user_id: str) -> np.ndarray:
        """Item ids the user has positive edges to."""
        row = self.user_row(user_id)
        return self.items["item_id"].to_numpy()[self.interactions[row].indices]

    def audience(
        self, item_id: str, k: int = 20, *, model: str | None = None, exclude_seen: bool = True
    ) -> pd.DataFrame:
        """Users most likely to want an item ("who should we show item Z to?")."""
        col = self.item_row(item_id)
        rec = self.model(model)
        scores = rec.score_items(col)[:, 0].copy()  # one column for every user, not users x items
        if exclude_seen:
            seen = self.interactions[:, col].nonzero()[0]
            scores[seen] = -np.inf
        n = min(int(k), len(scores))
        part = np.argpartition(-scores, n - 1)[:n] if 0 < n < len(scores) else np.arange(len(scores))[:n]
        top = part[np.lexsort((part, -scores[part]))]  # best first, ties by row
        top = top[np.isfinite(scores[top])]
        out = self.users.iloc[top][["user_id", "n_events", "n_purchase", "spend"]].copy()
        out.insert(1, "score", scores[top])
        return out.reset_index(drop=True)

    @cached_property
    def user_vectors(self) -> np.ndarray:
        """L2-normalised user vectors: the default model's user factors, else interest profiles."""
        rec = self.model()
        vec = getattr(rec, "user_factors_", None)
        if vec is None:
            vec = self.profiles
        vec = np.asarray(vec, dtype=np.float32)
        if vec.shape[0] != len(self.users):
            vec = self.profiles
        norms = np.linalg.norm(vec, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vec / norms

    def similar_users(self, user_id: str, k: int = 10) -> pd.DataFrame:
        """Most similar users by cosine of user vectors."""
        row = self.user_row(user_id)
        sims = self.user_vectors @ self.user_vectors[row]
        sims[row] = -np.inf
        top = np.argsort(-sims)[:k]
        out = self.users.iloc[top][["user_id", "n_events", "n_purchase"]].copy()
        out.insert(1, "similarity", sims[top])
        return out.reset_index(drop=True)

    def user_profile(self, user_id: str) -> pd.DataFrame:
        """The user's interest distribution, largest first (``interest_id, name, share``)."""
        row = self.user_row(user_id)
        prof = self.profiles[row]
        frame = pd.DataFrame({"interest_id": self.profile_columns.astype(int), "share": prof})
        frame["name"] = frame["interest_id"].map(self.interest_names)
        return frame[frame["share"] > 0].sort_values("share", ascending=False).reset_index(drop=True)


def _suggest(value: str, index: pd.Index, n: int = 3) -> str:
    values = index.to_numpy().astype(str)
    near = [v for v in values if v.startswith(value[: max(1, len(value) - 1)])][:n]
    return f" (did you mean {', '.join(near)}?)" if near else ""
