"""``build``: events → item meaning → interests → graph → models, written as one content-keyed build folder.

A build folder holds everything the CLI and the pages query (see :mod:`uig_core.bundle`). It is written into a
temporary folder and renamed into place, then recorded as the dataset's current build in one DuckDB transaction,
so a build killed at any point leaves the previous build loadable.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uig_core import atomic
from uig_core.columns import map_values, positions
from uig_core.errors import ConfigError
from uig_core.graph import graph_counts, interaction_matrix
from uig_core.progress import Progress, noop, scaled
from uig_core.schema import EVENT_WEIGHTS
from uig_core.workspace import Workspace

__all__ = ["BuildConfig", "build", "items_frame", "users_frame", "BUILD_FORMAT"]

BUILD_FORMAT = 1


@dataclass
class BuildConfig:
    """Everything a build depends on besides the data; hashed into the build id."""

    embed_model: str | None = None
    n_interests: int | None = None
    event_weights: dict[str, float] = field(default_factory=lambda: dict(EVENT_WEIGHTS))
    half_life_days: float = 60.0
    model: str | None = None  # None: the measured default
    extra_models: tuple[str, ...] = ("popularity", "itemknn")
    seed: int = 0

    def key(self) -> str:
        """Stable hash of the config."""
        blob = json.dumps({**asdict(self), "format": BUILD_FORMAT}, sort_keys=True, default=str)
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


def items_frame(events: pd.DataFrame) -> pd.DataFrame:
    """One row per item: ``item_id, title, category, price, n_events, n_users, first_seen, last_seen``."""
    g = events.groupby("item_id", sort=True, observed=True)
    out = pd.DataFrame({
        "n_events": g.size(),
        "n_users": g["user_id"].nunique(),
        "first_seen": g["ts"].min(),
        "last_seen": g["ts"].max(),
    })
    for col, target in (("item_title", "title"), ("category", "category")):
        if col in events:
            vals = events[["item_id", col]].dropna()
            vals = vals[vals[col].astype("string").str.len() > 0]
            top = vals.groupby(["item_id", col], observed=True).size().reset_index(name="n")
            top = top.sort_values(["item_id", "n"], ascending=[True, False]).drop_duplicates("item_id")
            out[target] = top.set_index("item_id")[col].reindex(out.index)
        else:
            out[target] = pd.NA
    if "price" in events:
        out["price"] = events[events["price"] > 0].groupby("item_id")["price"].median().reindex(out.index)
    else:
        out["price"] = np.nan
    out["title"] = out["title"].astype("string").fillna(pd.Series(out.index, index=out.index, dtype="string"))
    out["category"] = out["category"].astype("string")
    out.index.name = "item_id"
    return out.reset_index()


def users_frame(events: pd.DataFrame) -> pd.DataFrame:
    """One row per user: activity counts by event, first/last seen, orders and spend (RFM inputs)."""
    g = events.groupby("user_id", sort=True, observed=True)
    out = pd.DataFrame({"n_events": g.size(), "first_seen": g["ts"].min(), "last_seen": g["ts"].max()})
    counts = events.groupby(["user_id", "event"], observed=True).size().unstack(fill_value=0)
    for ev in ("view", "click", "cart", "purchase", "return"):
        out[f"n_{ev}"] = counts[ev].reindex(out.index).fillna(0).astype(int) if ev in counts else 0
    buys = events[events["event"] == "purchase"]
    if "price" in events:
        qty = buys["quantity"].fillna(1.0) if "quantity" in buys else 1.0
        spend = (buys["price"].fillna(0.0) * qty).groupby(buys["user_id"]).sum()
        out["spend"] = spend.reindex(out.index).fillna(0.0)
    else:
        out["spend"] = 0.0
    if "order_id" in buys:
        out["orders"] = buys.groupby("user_id")["order_id"].nunique().reindex(out.index).fillna(0).astype(int)
    else:
        out["orders"] = out["n_purchase"]
    out.index.name = "user_id"
    return out.reset_index()


def build(
    ws: Workspace,
    dataset: str | None = None,
    config: BuildConfig | None = None,
    *,
    progress: Progress | None = None,
    force: bool = False,
    incremental: bool = False,
) -> dict[str, Any]:
    """Build (or reuse) the dataset's interest graph and models, and make it the current build.

    Args:
        ws: The workspace.
        dataset: Dataset name (default: the only one).
        config: Build settings (default: :class:`BuildConfig` defaults, or the workspace's saved settings).
        progress: ``progress(fraction, message)``.
        force: Rebuild even when a build with the same data and config exists.
        incremental: Start from the current build: items keep their interests (new items join the nearest
            interest), only new texts are embedded, and models that support it are warm-started and fine-tuned
            briefly instead of trained from scratch. Falls back to a full build when there is no current build.

    Returns:
        The build summary (also stored as ``meta.json``), with per-step wall times.
    """
    info = ws.dataset(dataset)  # fails fast, before the heavy imports
    progress = progress or noop
    if config is None:
        config = BuildConfig.from_dict(ws.settings().get("build", {}))
    build_id = f"b{hashlib.sha256((info.data_hash + config.key()).encode()).hexdigest()[:12]}"
    final = ws.build_root(info) / build_id
    if (final / "meta.json").exists() and not force:
        meta = atomic.read_json(final / "meta.json")
        if info.current_build != build_id:
            ws.record_build(info.name, build_id, _history_entry(meta, reused=True))
        progress(1.0, "build reused (same data and settings)")
        return {**meta, "reused": True}

    previous = None
    if incremental and info.current_build is not None:
        from uig_core.bundle import Bundle

        previous = Bundle(ws.build_dir(info.name))
        build_id = f"{build_id}i"  # an incremental build is a different artifact from a full one
        final = ws.build_root(info) / build_id
    with ws.build_lock(info) as stale:
        return _build(ws, info, config, build_id, final, progress, stale, previous)


def _build(ws: Workspace, info: Any, config: BuildConfig, build_id: str, final: Path, progress: Progress,
           stale: int, previous: Any = None) -> dict[str, Any]:
    from uig_core import drift, interests, semantics
    from uig_core.build_quality import next_batch_recall, validation_recall
    from uig_core.models import default_model_for, make_model, model_class
    from uig_core.profiles import assign_textless_items, interest_cooccurrence, user_profiles

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    progress(0.0, "loading events")
    events = ws.load_events(info.name)
    items = items_frame(events)
    users = users_frame(events)
    item_index = pd.Index(items["item_id"])
    user_index = pd.Index(users["user_id"])
    step("load")

    default_name = config.model or default_model_for(len(items))
    names = [default_name] + [m for m in config.extra_models if m != default_name]
    fit_times: dict[str, float] = {}

    def train(name: str, matrix: Any, features: np.ndarray | None, report: Progress) -> Any:
        t0 = time.perf_counter()
        model = _warm_model(previous, name, item_index, user_index)
        if model is not None:
            model.fine_tune(matrix, item_features=features, progress=report)
        else:
            model = make_model(name, random_state=config.seed) if _takes_seed(name) else make_model(name)
            model.fit(matrix, item_features=features, progress=report)
        fit_times[name] = round(time.perf_counter() - t0, 3)  # wall time; models overlap other steps
        return model

    # Worker threads beside this one (2 cores). While this thread embeds, a worker builds what needs no
    # embeddings: the interaction and strongest-event matrices and the anomaly scores; for an update another
    # scores the previous build on the batch (build_quality.py). In a full build this thread then trains the
    # default model, reporting progress (Streamlit's bar needs the script thread), while a worker trains the
    # baselines. An update only fine-tunes briefly, so every model that reads no item text starts on a worker
    # as soon as the graph is ready, overlapping the embedding and interest steps here.
    from concurrent.futures import ThreadPoolExecutor

    def early_train(name: str) -> Any:
        return train(name, side.result()[0], None, noop)

    # An update runs three threads at once on 2 cores: see _update_threads. A full build keeps the defaults:
    # its long solves run while the worker is idle.
    threads = _update_threads() if previous is not None else contextlib.nullcontext()
    with threads, ThreadPoolExecutor(max_workers=2 if previous is not None else 1) as pool:
        side = pool.submit(_side_inputs, events, user_index, item_index, config)
        next_batch = pool.submit(next_batch_recall, previous, events) if previous is not None else None
        early = {n: pool.submit(early_train, n) for n in names
                 if previous is not None and not model_class(n).uses_item_features}
        texts, has_text = semantics.item_texts(items)
        embedder = semantics.Embedder(model=config.embed_model, cache_dir=ws.artifacts / "embeddings")
        emb = embedder.embed(texts, progress=scaled(progress, 0.02, 0.35, "embedding items: "))
        step("embeddings")

        progress(0.36, "finding interest points")
        if previous is not None:
            labels, fine_labels, table, centroids = carry_interests(previous, items["item_id"], emb, has_text)
        else:
            found = interests.find_interests(items["item_id"].to_numpy(), texts, emb, k=config.n_interests,
                                             seed=config.seed, has_text=has_text)
            labels, fine_labels, table, centroids = found.labels, found.fine_labels, found.table, found.centroids
        if (labels < 0).any():  # ID-only items take the interest their users lean to
            filled = assign_textless_items(events, pd.Series(labels, index=item_index))
            labels = filled.reindex(item_index.astype(str)).fillna(-1).to_numpy(dtype=np.int64)
            fine_labels = np.where(fine_labels < 0, labels, fine_labels)
            sizes = pd.Series(labels).value_counts()
            coarse = table["level"] == "coarse"
            table = table.assign(size=np.where(coarse, table["interest_id"].map(sizes).fillna(0), table["size"]))
            table["size"] = table["size"].astype(int)
        items["interest_id"] = labels
        items["fine_interest_id"] = fine_labels
        item_interest = pd.Series(labels, index=item_index)
        profiles = user_profiles(events, item_interest, event_weights=config.event_weights,
                                half_life_days=config.half_life_days)
        profiles = profiles.reindex(index=user_index, columns=table.loc[table["level"] == "coarse", "interest_id"]
                                    if "level" in table else None).fillna(0.0)
        co = interest_cooccurrence(events, item_interest)
        step("interests")

        progress(0.45, "drift and anomaly scores")
        dr = drift.drift_scores(events, item_interest)
        train_matrix, strongest, rk = side.result()
        for extra in (dr, rk):  # the activity columns computed above win over same-named helper columns
            extra = extra[["user_id"] + [c for c in extra.columns if c not in users.columns]]
            users = users.merge(extra, on="user_id", how="left")
        step("drift_risk")

        progress(0.5, "building the graph")
        items["n_interactions"] = np.diff(train_matrix.tocsc().indptr)
        counts_of_graph = graph_counts(train_matrix, labels, profiles.to_numpy(dtype=np.float32), co)
        step("graph")

        progress(0.55, f"training {default_name}" + (f" (and {', '.join(names[1:])} alongside)" if names[1:] else ""))
        later = [n for n in names[1:] if n not in early]
        extras = pool.submit(lambda: [(n, train(n, train_matrix, emb, noop)) for n in later])
        trained: dict[str, Any] = {}
        if default_name not in early:
            report = scaled(progress, 0.55, 0.9, f"training {default_name}: ")
            trained[default_name] = train(default_name, train_matrix, emb, report)
        for n, job in early.items():  # this thread is free now: it takes any model no worker has started
            if job.cancel():
                trained[n] = early_train(n)
        trained.update(extras.result())
        trained.update({n: job.result() for n, job in early.items() if n not in trained})
        trained = {n: trained[n] for n in names}
        quality: dict[str, Any] = {"validation_recall@20": validation_recall(trained[default_name])}
        if next_batch is not None:
            quality.update(next_batch.result() or {})
    previous_meta = _current_meta(ws, info) if previous is None else previous.meta
    with atomic.atomic_dir(final) as tmp:
        for name in names:
            trained[name].save(tmp / "models" / name)
        step("models")
        progress(0.96, "writing the build")
        atomic.write_parquet(tmp / "items.parquet", items)
        atomic.write_parquet(tmp / "users.parquet", users)
        atomic.write_parquet(tmp / "interests.parquet", table)
        atomic.write_parquet(tmp / "interest_edges.parquet", co)
        atomic.save_npz(tmp / "arrays.npz", embeddings=emb.astype(np.float32),
                        centroids=np.asarray(centroids if centroids is not None else np.zeros((0, emb.shape[1])),
                                             dtype=np.float32),
                        profiles=profiles.to_numpy(dtype=np.float32),
                        profile_columns=np.asarray(profiles.columns, dtype=np.int64))
        import scipy.sparse as sp

        # Uncompressed: zlib cost ~0.1 s per update for a few MB saved.
        sp.save_npz(tmp / "interactions.npz", train_matrix.tocsr(), compressed=False)
        sp.save_npz(tmp / "strongest.npz", strongest, compressed=False)
        meta = {
            "format": BUILD_FORMAT,
            "build_id": build_id,
            "dataset": info.name,
            "data_hash": info.data_hash,
            "created": pd.Timestamp.now().isoformat(timespec="seconds"),
            "config": asdict(config),
            "default_model": default_name,
            "models": names,
            "fit_seconds": fit_times,
            "counts": {"users": len(users), "items": len(items), "events": len(events),
                       "interests": int((table["level"] == "coarse").sum()) if "level" in table else len(table),
                       "edges": int(train_matrix.nnz), "items_without_text": int((~has_text).sum()),
                       "newly_embedded": int(embedder.n_new_), **counts_of_graph},
            "time_range": [events["ts"].min().isoformat(), events["ts"].max().isoformat()],
            "timings": timings,
            "stale_builds_removed": stale,
            "incremental_from": previous.build_id if previous is not None else None,
            "rows_added": len(events) - int(previous_meta["counts"]["events"]) if previous_meta else None,
            "quality": quality,
        }
        step("write")
        meta["timings"] = timings
        atomic.write_json(tmp / "meta.json", meta)
    ws.record_build(info.name, build_id, _history_entry(meta, reused=False))
    progress(1.0, "build complete")
    return meta


@contextlib.contextmanager
def _update_threads() -> Iterator[None]:
    """Thread settings for an update's three busy threads on 2 cores (restored on exit; both are process-wide).

    * BLAS held to one thread per caller: OpenBLAS's spinning helper threads otherwise compete with the
      workers for the cores (OR update, interleaved runs: 3.58 s -> 3.40 s median).
    * A 0.5 ms GIL switch interval instead of 5 ms: the embedding thread issues hundreds of short numpy calls,
      each of which waited up to a full interval for the GIL while a worker ran pandas code (3.60 -> 3.29 s).
    """
    import sys

    import scipy.linalg  # noqa: F401 - SciPy bundles its own OpenBLAS: load it so that the limit covers it
    from threadpoolctl import threadpool_limits

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        sys.setswitchinterval(interval)


def _side_inputs(events: pd.DataFrame, user_index: pd.Index, item_index: pd.Index, config: BuildConfig
                 ) -> tuple[Any, Any, pd.DataFrame]:
    """What a build needs that does not depend on embeddings: ``(train matrix, strongest events, anomaly)``."""
    from uig_core import risk

    train_matrix = interaction_matrix(events, user_index, item_index, event_weights=config.event_weights,
                                      half_life_days=config.half_life_days)
    return train_matrix, strongest_event_matrix(events, user_index, item_index), risk.anomaly_scores(events)


def carry_interests(previous: Any, item_ids: pd.Series, emb: np.ndarray, has_text: np.ndarray
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


def _warm_model(previous: Any, name: str, item_ids: pd.Index, user_ids: pd.Index) -> Any:
    """The previous build's model, re-indexed to the new users and items, when it supports ``fine_tune``."""
    if previous is None or name not in previous.model_names:
        return None
    from uig_core.models import load_model

    model = load_model(previous.path / "models" / name, warm_start=True)
    return model.reindex(positions(previous.user_index, user_ids.astype(str)),
                         positions(previous.item_index, item_ids.astype(str)))


def strongest_event_matrix(events: pd.DataFrame, user_index: pd.Index, item_index: pd.Index):
    """``(n_users, n_items)`` int8 CSR: the strongest event per pair (1 view, 2 click, 3 cart, 4 purchase)."""
    import scipy.sparse as sp

    from uig_core.bundle import EVENT_CODES

    rank = {v: float(k) for k, v in EVENT_CODES.items()}
    code = map_values(events["event"], rank)
    ok = ~np.isnan(code)
    frame = pd.DataFrame({"u": positions(user_index, events["user_id"])[ok],
                          "i": positions(item_index, events["item_id"])[ok],
                          "c": code[ok].astype("int8")})
    top = frame.groupby(["u", "i"], sort=False)["c"].max().reset_index()
    return sp.csr_matrix((top["c"].to_numpy(dtype=np.int8), (top["u"], top["i"])),
                         shape=(len(user_index), len(item_index)))


def _takes_seed(name: str) -> bool:
    from uig_core.models import make_model

    try:
        make_model(name, random_state=0)
    except TypeError:
        return False
    return True


def _current_meta(ws: Workspace, info: Any) -> dict[str, Any] | None:
    """The meta of the dataset's current build (what this build follows), or None."""
    if info.current_build is None:
        return None
    path = ws.build_root(info) / info.current_build / "meta.json"
    return atomic.read_json(path) if path.exists() else None


def _history_entry(meta: dict[str, Any], *, reused: bool) -> dict[str, Any]:
    return {"events": meta["counts"]["events"], "users": meta["counts"]["users"], "items": meta["counts"]["items"],
            "default_model": meta["default_model"], "timings": meta.get("timings", {}), "reused": reused,
            "rows_added": meta.get("rows_added"), "quality": meta.get("quality"),
            "incremental_from": meta.get("incremental_from")}


def build_path(ws: Workspace, dataset: str | None = None) -> Path:
    """Folder of the dataset's current build."""
    return ws.build_dir(dataset)
