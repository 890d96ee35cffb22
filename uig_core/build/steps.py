"""The data steps of a build, each a function from its inputs to its outputs (see :mod:`uig_core.build.pipeline`).

load → side inputs (matrices, anomaly; on a worker) → item meaning → interests and profiles → signals → graph.
Model training is :mod:`uig_core.build.training`; writing the folder is :mod:`uig_core.build.layout`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core.config import BuildConfig
from uig_core.errors import ConfigError
from uig_core.graph.edges import graph_counts
from uig_core.graph.pairs import PairMatrices, interactions_sha256, pair_matrices
from uig_core.progress import Progress
from uig_core.store.frames import items_frame, time_range, users_frame
from uig_core.store.relation import EventRelation
from uig_core.store.workspace import DatasetInfo, Workspace

if TYPE_CHECKING:
    from uig_core.build.bundle import Bundle

__all__ = [
    "Frames",
    "SideInputs",
    "ItemMeaning",
    "Interests",
    "load_frames",
    "engine_meta",
    "side_inputs",
    "embed_items",
    "find_item_interests",
    "carry_interests",
    "add_signals",
    "graph_step",
]

log = logging.getLogger(__name__)


@dataclass
class Frames:
    """Where a dataset's events are, and the item and user frames whose rows are the models' columns and rows."""

    events: EventRelation
    items: pd.DataFrame
    users: pd.DataFrame
    item_index: pd.Index
    user_index: pd.Index
    first_ts: pd.Timestamp
    last_ts: pd.Timestamp
    n_events: int
    engine: str = "duckdb"  # what aggregated them: "duckdb" or "spark"
    pairs: PairMatrices | None = None  # computed with the frames (the Spark engine), else by side_inputs
    embeddings: np.ndarray | None = None  # likewise, else by embed_items
    engine_timings: dict[str, float] | None = None


@dataclass
class SideInputs:
    """What needs no embeddings: the pair matrices (training weights, strongest events, evidence) and anomaly."""

    pairs: PairMatrices
    anomaly: pd.DataFrame

    @property
    def train_matrix(self) -> sp.csr_matrix:
        """The weighted training matrix (each pair's strongest decayed event)."""
        return self.pairs.weight

    @property
    def strongest(self) -> sp.csr_matrix:
        """Each pair's strongest event code."""
        return self.pairs.strongest


@dataclass
class ItemMeaning:
    """Item texts and their embeddings (``(n_items, dim)``); ``newly_embedded`` counts cache misses."""

    texts: list[str]
    has_text: np.ndarray
    embeddings: np.ndarray
    newly_embedded: int


@dataclass
class Interests:
    """Interest labels per item, the interest table, centroids, user profiles and interest co-occurrence."""

    labels: np.ndarray
    fine_labels: np.ndarray
    table: pd.DataFrame
    centroids: np.ndarray | None
    profiles: pd.DataFrame
    cooccurrence: pd.DataFrame

    @property
    def n_coarse(self) -> int:
        """Number of coarse interests."""
        table = self.table
        return int((table["level"] == "coarse").sum()) if "level" in table else len(table)


def load_frames(
    ws: Workspace,
    info: DatasetInfo,
    config: BuildConfig | None = None,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> Frames:
    """One row per item and one per user, aggregated in DuckDB (the events stay there) or on Spark.

    ``engine="spark"`` runs the frames, the pair matrices and the item embeddings as Spark jobs
    (:mod:`uig_core.spark.build`) on ``spark_master`` (default ``local[*]``) with ``config``'s weights and text
    model; the later steps then use those instead of computing them (the answers are the same).
    """
    events = EventRelation.of_dataset(ws, info)
    if engine == "spark":
        return _spark_frames(ws, info, events, config or BuildConfig(), spark_master)
    if engine != "duckdb":
        raise ConfigError(f"--engine must be duckdb or spark. Got {engine!r} instead.")
    items, users = items_frame(events), users_frame(events)
    first, last, n = time_range(events)
    log.debug("aggregated %d events: %d users, %d items", n, len(users), len(items))
    return Frames(events, items, users, pd.Index(items["item_id"]), pd.Index(users["user_id"]), first, last, n)


def _spark_frames(
    ws: Workspace, info: DatasetInfo, events: EventRelation, config: BuildConfig, master: str | None
) -> Frames:
    """:func:`load_frames` on Spark: the stored events exported as Parquet once, then the Spark jobs."""
    from uig_core.spark.build import export_events, spark_aggregates
    from uig_core.spark.session import jvm_cpu_seconds, spark_session

    spark = spark_session(master)
    got = spark_aggregates(
        spark,
        ws,
        export_events(ws, info),
        data_hash=info.data_hash,
        event_weights=config.event_weights,
        half_life_days=config.half_life_days,
        embed_model=config.embed_model,
    )
    items, users = got.items, got.users
    index = (pd.Index(items["item_id"]), pd.Index(users["user_id"]))
    if (jvm := jvm_cpu_seconds(spark)) is not None:
        got.timings["jvm_cpu_s"] = jvm  # the local JVM's CPU so far, which `time` does not count
    return Frames(
        events,
        items,
        users,
        index[0],
        index[1],
        got.first_ts,
        got.last_ts,
        got.n_events,
        engine="spark",
        pairs=got.pairs,
        embeddings=got.embeddings,
        engine_timings=got.timings,
    )


def engine_meta(frames: Frames, train_matrix: sp.csr_matrix) -> dict[str, object]:
    """The build summary's ``engine``, ``interactions_sha256`` (equal across engines for equal data) and timings."""
    meta: dict[str, object] = {
        "engine": frames.engine,
        "interactions_sha256": interactions_sha256(train_matrix, frames.user_index, frames.item_index),
    }
    if frames.engine_timings:
        meta["engine_timings"] = frames.engine_timings
    return meta


def side_inputs(
    events: EventRelation,
    user_index: pd.Index,
    item_index: pd.Index,
    config: BuildConfig,
    pairs: PairMatrices | None = None,
) -> SideInputs:
    """The pair matrices (unless already computed, as ``pairs``) and anomaly scores (independent of embeddings)."""
    from uig_core.signals import risk

    if pairs is None:
        pairs = pair_matrices(
            events, user_index, item_index, event_weights=config.event_weights, half_life_days=config.half_life_days
        )
    return SideInputs(pairs, risk.anomaly_scores(events))


def embed_items(
    ws: Workspace, items: pd.DataFrame, config: BuildConfig, progress: Progress, embedded: np.ndarray | None = None
) -> ItemMeaning:
    """Embed every item's text (cached by content in the workspace), unless ``embedded`` already holds them."""
    from uig_core.semantics import embeddings

    texts, has_text = embeddings.item_texts(items)
    if embedded is not None:  # the Spark engine embedded them on its executors
        progress(1.0, f"{len(texts):,} item texts embedded on Spark")
        return ItemMeaning(texts, has_text, embedded, int(has_text.sum()))
    embedder = embeddings.Embedder(model=config.embed_model, cache_dir=ws.artifacts / "embeddings")
    emb = embedder.embed(texts, progress=progress)
    return ItemMeaning(texts, has_text, emb, int(embedder.n_new_))


def find_item_interests(
    frames: Frames, meaning: ItemMeaning, pairs: PairMatrices, config: BuildConfig, previous: Bundle | None = None
) -> Interests:
    """Interest points of the items (carried over from ``previous`` for an update) and the users' profiles."""
    from uig_core.semantics.profiles import interest_cooccurrence, profiles_from_evidence
    from uig_core.semantics.scripts import find_interests_by_script
    from uig_core.semantics.searches import add_search_interests

    if previous is not None:
        labels, fine, table, centroids = carry_interests(
            previous, frames.items["item_id"], meaning.embeddings, meaning.has_text
        )
    else:
        found = find_interests_by_script(  # a mixed-language catalogue: each script's items apart
            frames.items["item_id"].to_numpy(),
            meaning.texts,
            meaning.embeddings,
            k=config.n_interests,
            seed=config.seed,
            has_text=meaning.has_text,
        )
        labels, fine, table, centroids = found.labels, found.fine_labels, found.table, found.centroids
    if (labels < 0).any():
        labels, fine, table = _fill_textless(pairs, labels, fine, table)
    coarse = table.loc[table["level"] == "coarse", "interest_id"] if "level" in table else table["interest_id"]
    ids = np.sort(coarse.to_numpy(dtype=np.int64))
    profiles = profiles_from_evidence(pairs.evidence, labels, ids, frames.user_index)
    profiles = profiles.reindex(index=frames.user_index, columns=coarse).fillna(0.0)
    profiles = add_search_interests(  # what users searched for links them to interests too
        profiles,
        frames.events,
        centroids,
        config.embed_model,
        evidence_mass=np.asarray(pairs.evidence.sum(axis=1)).ravel(),
        now=frames.last_ts,
        half_life_days=config.half_life_days,
    )
    co = interest_cooccurrence(profiles_from_evidence(pairs.evidence_raw, labels, ids, frames.user_index))
    return Interests(labels, fine, table, centroids, profiles, co)


def _fill_textless(
    pairs: PairMatrices, labels: np.ndarray, fine: np.ndarray, table: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """ID-only items take the interest their users lean to; interest sizes follow."""
    from uig_core.semantics.profiles import assign_textless

    labels = assign_textless(pairs.evidence_raw, labels)
    fine = np.where(fine < 0, labels, fine)
    sizes = pd.Series(labels).value_counts()
    coarse = table["level"] == "coarse"
    table = table.assign(size=np.where(coarse, table["interest_id"].map(sizes).fillna(0), table["size"]))
    table["size"] = table["size"].astype(int)
    return labels, fine, table


def carry_interests(
    previous: Bundle, item_ids: pd.Series, emb: np.ndarray, has_text: np.ndarray
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, np.ndarray | None]:
    """Keep the previous build's interests: known items keep their labels, new items join the nearest centroid.

    Returns:
        ``(coarse labels, fine labels, interest table with refreshed sizes, centroids)``.
    """
    prev_items = previous.items.set_index("item_id")
    table = previous.interests.copy()
    centroids = previous.arrays.get("centroids")
    coarse_ids = table.loc[table["level"] == "coarse", "interest_id"].to_numpy(dtype=np.int64)
    labels = prev_items["interest_id"].reindex(item_ids).to_numpy()
    fine = prev_items["fine_interest_id"].reindex(item_ids).to_numpy()
    new = np.isnan(labels.astype(float))
    labels = np.where(new, -1, labels).astype(np.int64)
    fine = np.where(new, -1, fine).astype(np.int64)
    todo = np.flatnonzero(new & has_text)
    if len(todo) and centroids is not None and len(centroids):
        sims = emb[todo] @ centroids[coarse_ids].T
        labels[todo] = coarse_ids[np.argmax(sims, axis=1)]
        parents = table.set_index("interest_id")["parent"]
        for row, coarse in zip(todo, labels[todo], strict=True):
            children = parents.index[parents.to_numpy() == coarse].to_numpy(dtype=np.int64)
            fine[row] = children[np.argmax(emb[row] @ centroids[children].T)] if len(children) else coarse
    sizes = pd.Series(labels).value_counts()
    fine_sizes = pd.Series(fine).value_counts()
    is_coarse = table["level"] == "coarse"
    table["size"] = np.where(is_coarse, table["interest_id"].map(sizes), table["interest_id"].map(fine_sizes))
    table["size"] = table["size"].fillna(0).astype(int)
    return labels, fine, table, centroids


def add_signals(frames: Frames, labels: np.ndarray, anomaly: pd.DataFrame) -> pd.DataFrame:
    """The users frame with drift and anomaly columns (the activity columns already there win)."""
    from uig_core.signals import drift

    users = frames.users
    dr = drift.drift_scores(frames.events, pd.Series(labels, index=frames.item_index))
    for extra in (dr, anomaly):
        extra = extra[["user_id"] + [c for c in extra.columns if c not in users.columns]]
        users = users.merge(extra, on="user_id", how="left")
    return users


def graph_step(items: pd.DataFrame, found: Interests, train_matrix: sp.csr_matrix) -> tuple[pd.DataFrame, dict]:
    """The items frame with interest and degree columns, and the graph's node and edge counts."""
    items = items.assign(
        interest_id=found.labels,
        fine_interest_id=found.fine_labels,
        n_interactions=np.diff(train_matrix.tocsc().indptr),
    )
    counts = graph_counts(train_matrix, found.labels, found.profiles.to_numpy(dtype=np.float32), found.cooccurrence)
    return items, counts
