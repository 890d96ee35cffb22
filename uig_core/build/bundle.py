"""A finished build loaded for querying: recommendations with reasons, portraits, similar users and items, audiences.

Opening a bundle reads only the build summary. Every table, array and model loads on first use (the parts:
:mod:`uig_core.build.parts`; large arrays memory-mapped), so a query pays for what it reads: ``uig recommend``
never reads the embeddings or the users table, a portrait never reads the item-major pairs. No query makes a
users × items pass: a top-k scores one user's row, an audience one item's column (``Recommender.score_items``),
similar users and items come from a :class:`~uig_core.queries.vectors.VectorIndex` (faiss IVF when the build
stored one, else exact).

A bundle is read-only, so one instance can be shared between threads (the dashboard caches it per build id).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from uig_core.build import layout
from uig_core.build.parts import BuildParts, lazy
from uig_core.errors import ConfigError, UnknownId
from uig_core.models._columns import binary_user_major, column_scores
from uig_core.queries.cold_start import meaning_ranking, needs_meaning
from uig_core.queries.explain import Reason, explain_items, history_reasons
from uig_core.queries.vectors import VectorIndex, normalized, top_rows, user_vectors_of
from uig_core.schema import EVENT_CODES
from uig_core.store.workspace import Workspace

if TYPE_CHECKING:
    import scipy.sparse as sp

    from uig_core.models.base import Recommender

__all__ = ["Bundle", "lazy"]

log = logging.getLogger(__name__)


class Bundle(BuildParts):
    """Artifacts of one build (see :class:`~uig_core.build.parts.BuildParts`), its models and its queries."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._models: dict[str, Recommender] = {}
        self._binary: sp.csr_matrix | None = None  # the pairs user-major and binary, for popular items' columns

    @classmethod
    def load(cls, ws: Workspace, dataset: str | None = None, build_id: str | None = None) -> Bundle:
        """Load the dataset's current (or a given) build."""
        return cls(ws.build_dir(dataset, build_id))

    @lazy
    def user_vectors(self) -> np.ndarray:
        """``(n_users, dim)`` L2-normalised user vectors: the default model's user factors, else interest profiles."""
        return normalized(user_vectors_of(self.model(), self.profiles))

    @lazy
    def segments(self) -> dict[str, Any] | None:
        """The user clusters the build stored (:mod:`uig_core.build.clustering`), or None for an older build."""
        return layout.read_segments(self.path)

    def user_vectors_at(self, rows: np.ndarray) -> np.ndarray:
        """``(len(rows), dim)`` rows of :attr:`user_vectors` (a clustering sample, a block of users).

        Only those rows are normalised when :attr:`user_vectors` is not loaded.
        """
        if self.is_loaded("user_vectors"):
            return np.asarray(self.user_vectors[rows])
        return normalized(np.asarray(user_vectors_of(self.model(), self.profiles)[rows]))

    @lazy
    def user_neighbors(self) -> VectorIndex:
        """Nearest users by cosine of :attr:`user_vectors`: the build's stored index, else exact search."""
        return self._stored_index("users") or VectorIndex.exact(self.user_vectors, normalize=False)

    @lazy
    def item_neighbors(self) -> VectorIndex:
        """Nearest items by cosine of their embeddings (meaning): the build's stored index, else exact search."""
        return self._stored_index("items") or VectorIndex.exact(self.embeddings)

    def _stored_index(self, name: str) -> VectorIndex | None:
        folder = layout.index_dir(self.path, name)
        return VectorIndex.load(folder) if folder.is_dir() else None

    # ------------------------------------------------------------------ lookups
    def user_row(self, user_id: str) -> int:
        """Row of a user id, or :class:`UnknownId` naming close matches.

        Uses :attr:`user_index` once the users table is loaded (the bundle serves more than one query); until
        then the table is searched by its row-group statistics (:func:`~uig_core.build.layout.find_row`), so a
        one-off lookup (``uig recommend``) reads one row group instead of hashing millions of ids.
        """
        if self.is_loaded("user_index") or self.is_loaded("users"):  # a long-lived bundle: hash the ids once
            pos = int(self.user_index.get_indexer([str(user_id)])[0])
        else:
            pos = layout.find_row(self.path, "users", "user_id", str(user_id))
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
        """A trained model of this build (default: the build's default model), loaded once."""
        from uig_core.models import load_model

        name = name or self.meta["default_model"]
        if name not in self.model_names:
            raise ConfigError(
                f"model {name!r} was not trained in this build; choose one of {', '.join(self.model_names)}."
            )
        with self._lock_for(f"model:{name}"):
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
        reasons = None
        if needs_meaning(scores):  # the model cannot place this user (every score tied): rank by meaning
            idx, scores, reasons = meaning_ranking(self, row, int(k), candidates=candidates, exclude_seen=exclude_seen)
        keep = np.isfinite(scores)
        idx, scores = idx[keep], scores[keep]
        out = self._item_records(idx, score=[round(float(s), 6) for s in scores])
        if explain and len(idx):
            reasons = [r for r, ok in zip(reasons, keep, strict=True) if ok] if reasons else self.reasons(row, idx, rec)
            for entry, reason in zip(out, reasons, strict=True):
                entry["reason"] = reason.text
                entry["reason_kind"] = reason.kind
                entry["because"] = [dict(b) for b in reason.because]
        return out

    def _item_records(self, cols: np.ndarray, **extra: list[Any]) -> list[dict[str, Any]]:
        """``item_id, title, (extra), interest, category`` of the items at columns ``cols``, one dict each."""
        part = self.items.iloc[np.asarray(cols, dtype=np.int64)]
        ids, titles = [str(v) for v in part["item_id"].tolist()], [str(v) for v in part["title"].tolist()]
        interests = [self.interest_names.get(int(i)) for i in part["interest_id"].to_numpy()]
        cats = part["category"].tolist() if "category" in part else [None] * len(part)
        cats = [None if c is None or pd.isna(c) else str(c) for c in cats]
        names = list(extra)
        return [
            {"item_id": i, "title": t, **{n: extra[n][j] for n in names}, "interest": g, "category": c}
            for j, (i, t, g, c) in enumerate(zip(ids, titles, interests, cats, strict=True))
        ]

    def reasons(self, row: int, items: np.ndarray, model: Recommender | None = None) -> list[Reason]:
        """The reason behind each of ``items`` (item columns) for the user at ``row``.

        The model's own split of its scores over the user's history where it has one
        (:meth:`~uig_core.models.base.Recommender.contributions`), else the strongest path through the graph.
        """
        if model is not None and model.name == "popularity":
            return [self._popular_reason(int(c)) for c in np.asarray(items)]
        split = model.contributions(row, np.asarray(items)) if model is not None else None
        if split is not None and len(split[0]):
            return history_reasons(
                split[1],
                split[0],
                np.asarray(items),
                item_ids=self.items["item_id"].array,
                titles=self.items["title"].array,
                item_interest=self.items["interest_id"].to_numpy(),
                interest_names=self.interest_names,
                last_event=self._strongest_events(row),
                exact=model.additive,
            )
        return explain_items(
            row,
            items,
            interactions=self.interactions,
            item_ids=self.items["item_id"].array,
            titles=self.items["title"].array,
            item_interest=self.items["interest_id"].to_numpy(),
            interest_names=self.interest_names,
            profile=self.profiles[row],
            profile_columns=self.profile_columns,
            last_event=self._strongest_events(row),
            item_users=self.item_users,
        )

    def _popular_reason(self, col: int) -> Reason:
        """Popularity's reason: how many users the item has, and over which period of the log."""
        users = int(self.items["n_users"].iat[col]) if "n_users" in self.items else 0
        start, end = (str(t)[:10] for t in self.meta.get("time_range", ["?", "?"]))
        return Reason("popular", f"popular: {users:,} shoppers interacted with it between {start} and {end}")

    def _strongest_events(self, row: int) -> dict[str, str]:
        if self.strongest is None:
            return {}
        r = self.strongest[row]
        ids = self.items["item_id"].iloc[r.indices].tolist()
        return {str(i): EVENT_CODES.get(int(c), "purchase") for i, c in zip(ids, r.data.tolist(), strict=True)}

    def seen_items(self, user_id: str) -> np.ndarray:
        """Item ids the user has positive edges to."""
        row = self.user_row(user_id)
        return self.items["item_id"].iloc[self.interactions[row].indices].to_numpy()

    def item_audience(self, col: int) -> np.ndarray:
        """Rows of the users with a training edge to the item at column ``col`` (sorted)."""
        indptr, indices = self.item_users
        return np.asarray(indices[indptr[col] : indptr[col + 1]])

    def audience(
        self, item_id: str, k: int = 20, *, model: str | None = None, exclude_seen: bool = True
    ) -> pd.DataFrame:
        """Users most likely to want an item ("who should we show item Z to?")."""
        col = self.item_row(item_id)
        scores = self._item_scores(self.model(model), col)
        if exclude_seen:
            scores[self.item_audience(col)] = -np.inf
        top = top_rows(scores, int(k))  # best first, ties by row (at the cut too)
        top = top[np.isfinite(scores[top])]
        out = self.users.iloc[top][["user_id", "n_events", "n_purchase", "spend"]].copy()
        out.insert(1, "score", scores[top])
        return out.reset_index(drop=True)

    def _item_scores(self, rec: Recommender, col: int) -> np.ndarray:
        """Every user's score for the item at ``col`` (writable float32).

        From the item-major pairs when the model's score allows it (:meth:`Recommender.item_column`), else one
        column of the model's scores.
        """
        column = rec.item_column(col)
        indptr, indices = self.item_users
        if column is None or rec.interactions_.nnz != len(indices):  # trained on other pairs: ask the model
            return rec.score_items(col)[:, 0].copy()  # one column for every user, not users x items
        return column_scores(*column, indptr, indices, rec.n_users_, by_user=lambda: self._binary_pairs(rec))

    def _binary_pairs(self, rec: Recommender) -> sp.csr_matrix:
        """The model's training pairs user-major and binary, built once per bundle (float32 ones, shared indices)."""
        cached = self._binary
        if cached is None or cached.shape != rec.interactions_.shape or cached.nnz != rec.interactions_.nnz:
            self._binary = cached = binary_user_major(rec.interactions_)
        return cached

    def similar_users(self, user_id: str, k: int = 10, *, min_items: int | None = None) -> pd.DataFrame:
        """Most similar users by cosine of user vectors (:attr:`user_neighbors`), with the support to mean it.

        The rules of :mod:`uig_core.queries.similar`: never the user, only users with at least ``min_items``
        items (default ``SIMILAR_MIN_ITEMS``; none for a user with fewer), ties at 4 decimals broken by items
        in common, every similarity finite and positive.

        Returns:
            ``user_id, similarity, overlap, n_events, n_purchase``, most similar first (at most ``k`` rows).
        """
        from uig_core.queries.similar import SIMILAR_MIN_ITEMS, similar_rows

        row = self.user_row(user_id)
        least = SIMILAR_MIN_ITEMS if min_items is None else min_items
        top, sims, overlap = similar_rows(self.user_neighbors, self.interactions, row, k, min_items=least)
        out = self.users.iloc[top][["user_id", "n_events", "n_purchase"]].copy()
        out.insert(1, "similarity", sims)
        out.insert(2, "overlap", overlap)
        return out.reset_index(drop=True)

    def similar_items(self, item_id: str, k: int = 10) -> pd.DataFrame:
        """Items nearest in meaning (cosine of embeddings): ``item_id, similarity, title, interest, category``."""
        col = self.item_row(item_id)
        index = self.item_neighbors
        top, sims = index.search(index.vector(col), int(k), exclude=[col])
        out = pd.DataFrame(self._item_records(top), columns=["item_id", "title", "interest", "category"])
        out.insert(1, "similarity", sims.astype(np.float64))
        return out

    def user_profile(self, user_id: str) -> pd.DataFrame:
        """The user's interest distribution, largest first (``interest_id, name, share``)."""
        row = self.user_row(user_id)
        prof = np.asarray(self.profiles[row])
        frame = pd.DataFrame({"interest_id": np.asarray(self.profile_columns).astype(int), "share": prof})
        frame["name"] = frame["interest_id"].map(self.interest_names)
        return frame[frame["share"] > 0].sort_values("share", ascending=False).reset_index(drop=True)


def _suggest(value: str, index: pd.Index, n: int = 3) -> str:
    prefix = value[: max(1, len(value) - 1)]
    near = [str(v) for v in index[np.asarray(index.str.startswith(prefix), dtype=bool)][:n]]
    return f" (did you mean {', '.join(near)}?)" if near else ""
