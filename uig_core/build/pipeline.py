"""``build``: events → item meaning → interests → graph → models, written as one content-keyed build folder.

:func:`build` decides whether a build is needed; :func:`run_build` is the sequence of steps, each a named
function of :mod:`uig_core.build.steps` or :mod:`uig_core.build.training`, with the worker threads confined to
:class:`~uig_core.build.scheduler.Scheduler`. The folder is written into a temporary folder through
:mod:`uig_core.build.layout` and renamed into place, then recorded as the dataset's current build in one DuckDB
transaction, so a build killed at any point leaves the previous build loadable.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from uig_core import atomic
from uig_core.build import layout, steps
from uig_core.build.bundle import Bundle
from uig_core.build.scheduler import Scheduler
from uig_core.build.training import Trainer, train_models
from uig_core.config import BuildConfig
from uig_core.logs import StepTimer
from uig_core.progress import Progress, noop, scaled
from uig_core.signals.exclusion import excluded_users, without_rows
from uig_core.store.workspace import DatasetInfo, Workspace

if TYPE_CHECKING:
    from uig_core.graph.user_links import UserLinks
    from uig_core.models.base import Recommender

__all__ = ["build", "run_build"]

log = logging.getLogger(__name__)


def build(
    ws: Workspace,
    dataset: str | None = None,
    config: BuildConfig | None = None,
    *,
    progress: Progress | None = None,
    force: bool = False,
    incremental: bool = False,
    engine: str = "duckdb",
    spark_master: str | None = None,
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
        engine: ``"duckdb"`` (default) or ``"spark"``: where the frames, pair matrices and embeddings are
            computed (:mod:`uig_core.spark`); the answers are the same, so the build id is too.
        spark_master: The Spark master of ``engine="spark"`` (default ``local[*]``; ``sc://host`` for Connect).

    Returns:
        The build summary (also stored in the build folder), with per-step wall times.
    """
    info = ws.dataset(dataset)  # fails fast, before the heavy imports
    progress = progress or noop
    if config is None:
        config = BuildConfig.from_dict(ws.settings().get("build", {}))
    config = _with_text_model(ws, info, config)
    embed_id = _embed_model_id(config)  # the resolved model: a new default text model is a new build
    build_id = f"b{hashlib.sha256((info.data_hash + config.key() + embed_id).encode()).hexdigest()[:12]}"
    final = ws.build_root(info) / build_id
    if layout.is_complete(final) and not force:
        meta = layout.read_meta(final)
        if info.current_build != build_id:
            ws.record_build(info.name, build_id, _history_entry(meta, reused=True))
        log.info("build %s reused (same data and settings)", build_id)
        progress(1.0, "build reused (same data and settings)")
        return {**meta, "reused": True}

    previous = None
    if incremental and info.current_build is not None:
        previous = Bundle(ws.build_dir(info.name))
        before = _previous_embed_id(previous.meta)
        if before != embed_id:
            log.warning(
                "the current build read item text with %s, this one uses %s: a full build instead of an update "
                "(interests cannot carry over between text models)",
                before,
                embed_id,
            )
            previous = None
    if previous is not None:
        build_id = f"{build_id}i"  # an incremental build is a different artifact from a full one
        final = ws.build_root(info) / build_id
    with ws.build_lock(info) as stale:
        meta = run_build(
            ws, info, config, build_id, final, progress, previous=previous, stale=stale, engine=engine,
            spark_master=spark_master,
        )  # fmt: skip
    ws.record_build(info.name, build_id, _history_entry(meta, reused=False))
    progress(1.0, "build complete")
    return meta


def run_build(
    ws: Workspace,
    info: DatasetInfo,
    config: BuildConfig,
    build_id: str,
    final: Path,
    progress: Progress,
    *,
    previous: Bundle | None = None,
    stale: int = 0,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> dict[str, Any]:
    """Run every step of one build and write its folder at ``final``; returns the build summary."""
    timer = StepTimer(log)
    progress(0.0, "loading events")
    with timer("load"):
        frames = steps.load_frames(ws, info, config, engine=engine, spark_master=spark_master)
    trainer = Trainer(config, previous, frames.item_index, frames.user_index, events=frames.events)
    names = trainer.plan()  # [] until _run_steps chooses the defaults on validation
    with Scheduler(update=previous is not None) as scheduler:
        out = _run_steps(ws, config, frames, names, trainer, scheduler, timer, progress, previous)
    progress(0.96, "writing the build")
    with atomic.atomic_dir(final) as tmp:
        with timer("write"):
            layout.write_data(tmp, out.contents())
        previous_meta = _current_meta(ws, info) if previous is None else previous.meta
        meta = _summary(info, config, build_id, names, trainer, out, timer, previous_meta)
        meta.update(stale_builds_removed=stale, incremental_from=previous.build_id if previous is not None else None)
        meta["embed_model_id"] = _embed_model_id(config)
        meta.update(steps.engine_meta(frames, out.inputs.train_matrix))
        meta = layout.write_meta(tmp, meta)
    log.info("build %s written: %s", build_id, ", ".join(f"{k} {v:.2f}s" for k, v in timer.timings.items()))
    return meta


@dataclass
class _Outputs:
    """What the steps of one build produced, before it is written."""

    frames: steps.Frames
    inputs: steps.SideInputs
    meaning: steps.ItemMeaning
    found: steps.Interests
    items: pd.DataFrame
    users: pd.DataFrame
    graph_counts: dict[str, int]
    trained: dict[str, Recommender]
    quality: dict[str, Any]
    indexes: dict[str, Any]
    excluded: np.ndarray  # rows of the users left out of training
    links: UserLinks  # the user–user edges
    segments: dict[str, Any] | None = None  # the user clusters (build/clustering.py)

    def contents(self) -> layout.BuildContents:
        """The build's files as the layout writes them."""
        dim = self.meaning.embeddings.shape[1]
        centroids = self.found.centroids
        return layout.BuildContents(
            meta={},
            frames={
                "items": self.items,
                "users": self.users,
                "interests": self.found.table,
                "interest_edges": self.found.cooccurrence,
            },
            embeddings=self.meaning.embeddings,
            centroids=centroids if centroids is not None else np.zeros((0, dim), dtype=np.float32),
            profiles=self.found.profiles.to_numpy(dtype=np.float32),
            profile_columns=np.asarray(self.found.profiles.columns, dtype=np.int64),
            interactions=self.inputs.train_matrix,
            strongest=self.inputs.strongest,
            models=self.trained,
            indexes=self.indexes,
            user_links=self.links.arrays(),
            segments=self.segments,
        )


def _run_steps(
    ws: Workspace,
    config: BuildConfig,
    frames: steps.Frames,
    names: list[str],
    trainer: Trainer,
    scheduler: Scheduler,
    timer: StepTimer,
    progress: Progress,
    previous: Bundle | None,
) -> _Outputs:
    """The data steps and the training, with workers from ``scheduler`` (see the module docstring)."""
    from uig_core.build.clustering import build_segments
    from uig_core.evaluation.on_build import next_batch_recall, validation_recall
    from uig_core.graph.user_links import user_links
    from uig_core.models import model_class
    from uig_core.queries.vectors import serving_indexes, user_vectors_of

    side = scheduler.submit(
        steps.side_inputs, frames.events, frames.user_index, frames.item_index, config, frames.pairs
    )
    next_batch = scheduler.submit(next_batch_recall, previous, frames.events) if previous is not None else None
    early = {  # an update starts the models that read no item text as soon as the matrices are ready
        n: scheduler.submit(lambda n=n: trainer.train(n, side.result().train_matrix, None))
        for n in names
        if previous is not None and not model_class(n).uses_item_features and not config.exclude_anomalous
    }
    with timer("embeddings"):
        embed_report = scaled(progress, 0.02, 0.35, "embedding items: ")
        meaning = steps.embed_items(ws, frames.items, config, embed_report, frames.embeddings)
    # the per-dataset defaults, chosen on a validation split (build/selection.py) on the worker, beside interests
    chosen = None if names else scheduler.submit(trainer.select, meaning.embeddings)
    progress(0.36, "finding interest points")
    with timer("interests"):
        inputs = side.result()
        found = steps.find_item_interests(frames, meaning, inputs.pairs, config, previous)
    progress(0.45, "drift and anomaly scores")
    with timer("drift_risk"):
        users = steps.add_signals(frames, found.labels, inputs.anomaly)
        excluded = excluded_users(users, config)
        model_matrix = without_rows(inputs.train_matrix, excluded)  # flagged users train nothing
    progress(0.5, "building the graph")
    with timer("graph"):
        items, graph_counts = steps.graph_step(frames.items, found, inputs.train_matrix)
    if chosen is not None:
        progress(0.52, "choosing the default models on validation")
        with timer("selection"):  # the wait for the worker's choice
            names.extend(chosen.result())
    alongside = f" (and {', '.join(names[1:])} alongside)" if names[1:] else ""
    progress(0.55, f"training {names[0]}{alongside}")
    with timer("models"):
        report = scaled(progress, 0.55, 0.9, f"training {names[0]}: ")
        trained = train_models(trainer, scheduler, names, early, model_matrix, meaning.embeddings, report)
    own = validation_recall(trained[names[0]])  # the default's figure on this build's validation choice, else its fit's
    quality: dict[str, Any] = {"validation_recall@20": (_chosen_recall(trainer.selection) if chosen else None) or own}
    if next_batch is not None:
        quality.update(next_batch.result() or {})
    with timer("indexes"):  # nearest-neighbour indexes for serving, only where a catalogue needs them
        indexes = serving_indexes(trained[names[0]], found.profiles.to_numpy(dtype=np.float32), meaning.embeddings)
    progress(0.93, "linking similar users")
    with timer("user_links"):  # the graph's user–user edges, from the default model's user vectors
        vectors = user_vectors_of(trained[names[0]], found.profiles.to_numpy(dtype=np.float32))
        links = user_links(np.asarray(vectors, dtype=np.float32), inputs.train_matrix, seed=config.seed)
    progress(0.95, "clustering users")
    with timer("segments"):  # stored so that the Clusters & segments page only reads them
        segments = build_segments(trained[names[0]], found, users, items, frames.events, seed=config.seed)
    return _Outputs(
        frames, inputs, meaning, found, items, users, graph_counts, trained, quality, indexes, excluded, links, segments
    )


def _summary(
    info: DatasetInfo,
    config: BuildConfig,
    build_id: str,
    names: list[str],
    trainer: Trainer,
    out: _Outputs,
    timer: StepTimer,
    previous_meta: dict[str, Any] | None,
) -> dict[str, Any]:
    """The build summary: what was built from what, counts, timings and quality figures."""
    frames = out.frames
    return {
        "build_id": build_id,
        "dataset": info.name,
        "data_hash": info.data_hash,
        "created": pd.Timestamp.now().isoformat(timespec="seconds"),
        "config": asdict(config),
        "default_model": names[0],
        "default_models": _task_defaults(names, trainer.selection),
        "selection": trainer.selection,
        "models": names,
        "fit_seconds": trainer.fit_seconds,
        "counts": {
            "users": len(out.users),
            "items": len(out.items),
            "events": frames.n_events,
            "interests": out.found.n_coarse,
            "edges": int(out.inputs.train_matrix.nnz),
            "items_without_text": int((~out.meaning.has_text).sum()),
            "newly_embedded": out.meaning.newly_embedded,
            **out.graph_counts,
        },
        "time_range": [frames.first_ts.isoformat(), frames.last_ts.isoformat()],
        "timings": timer.timings,
        "rows_added": frames.n_events - int(previous_meta["counts"]["events"]) if previous_meta else None,
        "quality": out.quality,
        "excluded_users": int(len(out.excluded)),
    }


def _chosen_recall(selection: dict[str, Any] | None) -> float | None:
    """The validation Recall@20 of the default this build chose (:mod:`uig_core.build.selection`), or None."""
    table = selection or {}
    row = next((r for r in table.get("candidates", []) if r["model"] == table.get("default")), {})
    return row.get("recall@20")


def _task_defaults(names: list[str], selection: dict[str, Any] | None) -> dict[str, str | None]:
    """Each task's default model: discover is the build's default; next purchase where the log has the task."""
    task = (selection or {}).get("next_purchase") or {}
    chosen = task.get("default")
    return {"discover": names[0], "next_purchase": chosen if chosen in names else None}


def _with_text_model(ws: Workspace, info: DatasetInfo, config: BuildConfig) -> BuildConfig:
    """Choose the text model by the titles' script when none is set (``auto``): None stays the English default."""
    from dataclasses import replace

    from uig_core.semantics.registry import AUTO, auto_text_model
    from uig_core.store.relation import EventRelation

    if config.embed_model not in (None, AUTO):
        return config
    return replace(config, embed_model=auto_text_model(EventRelation.of_dataset(ws, info)))


def _embed_model_id(config: BuildConfig) -> str:
    """The stable id of the text model a build with ``config`` uses (bundled name, alias or folder resolved)."""
    from uig_core.semantics.registry import resolve_model

    return resolve_model(config.embed_model)[1]


def _previous_embed_id(meta: dict[str, Any]) -> str:
    """The text model id of an earlier build (builds before the id was recorded used full MiniLM by default)."""
    from uig_core.semantics.registry import resolve_model

    return meta.get("embed_model_id") or resolve_model(meta.get("config", {}).get("embed_model") or "minilm")[1]


def _current_meta(ws: Workspace, info: DatasetInfo) -> dict[str, Any] | None:
    """The summary of the dataset's current build (what this build follows), or None."""
    if info.current_build is None:
        return None
    folder = ws.build_root(info) / info.current_build
    return layout.read_meta(folder) if layout.is_complete(folder) else None


def _history_entry(meta: dict[str, Any], *, reused: bool) -> dict[str, Any]:
    return {
        "events": meta["counts"]["events"],
        "users": meta["counts"]["users"],
        "items": meta["counts"]["items"],
        "default_model": meta["default_model"],
        "timings": meta.get("timings", {}),
        "reused": reused,
        "rows_added": meta.get("rows_added"),
        "quality": meta.get("quality"),
        "incremental_from": meta.get("incremental_from"),
    }
