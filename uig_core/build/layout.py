"""The one owner of a build folder: the names, formats and format version of every file a build writes.

A build folder is content-keyed (its id hashes the data and the settings) and written once: :func:`write_build`
fills a temporary folder that :func:`uig_core.atomic.atomic_dir` renames into place, and nothing is added to it
afterwards. Figures computed later about a build (``uig evaluate``, the *Model quality* page) live beside the
build folders, keyed by build id (:func:`evaluation_path`).

Layout of ``<build root>/<build id>/``::

    meta.json               the build summary (counts, timings, models, quality figures)
    items.parquet           one row per item; row = model column
    users.parquet           one row per user; row = model row
    interests.parquet       the interest table (coarse and fine levels)
    interest_edges.parquet  interest co-occurrence edges
    arrays.npz              embeddings, centroids, interest profiles and their columns
    interactions.npz        the weighted user x item training matrix (CSR)
    strongest.npz           the strongest event per (user, item) pair, coded as ``schema.EVENT_CODES`` (CSR int8)
    models/<name>/          each trained model, as its ``save`` writes it

and beside the build folders: ``evaluations/<build id>.json``.

Every reader and the writer go through this module; no other module names these files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from uig_core import atomic
from uig_core.errors import ConfigError

__all__ = [
    "FORMAT_VERSION",
    "FRAMES",
    "BuildContents",
    "write_build",
    "write_data",
    "write_meta",
    "is_complete",
    "read_meta",
    "read_frame",
    "read_arrays",
    "read_interactions",
    "read_strongest",
    "model_dir",
    "evaluation_path",
]

log = logging.getLogger(__name__)

#: Version of this layout; part of every build id, so a change of layout makes new builds.
FORMAT_VERSION = 1

_META = "meta.json"
#: The tables of a build, by the name readers ask for.
FRAMES = {
    "items": "items.parquet",
    "users": "users.parquet",
    "interests": "interests.parquet",
    "interest_edges": "interest_edges.parquet",
}
_ARRAYS = "arrays.npz"
_INTERACTIONS = "interactions.npz"
_STRONGEST = "strongest.npz"
_MODELS = "models"
_EVALUATIONS = "evaluations"


@dataclass
class BuildContents:
    """Everything a finished build writes.

    Attributes:
        meta: The build summary (JSON-ready).
        frames: ``items``, ``users``, ``interests`` and ``interest_edges`` tables (see :data:`FRAMES`).
        embeddings: ``(n_items, dim)`` item embeddings.
        centroids: ``(n_interests, dim)`` interest centroids (``(0, dim)`` when none).
        profiles: ``(n_users, n_coarse_interests)`` interest profiles.
        profile_columns: ``(n_coarse_interests,)`` interest id of each profile column.
        interactions: ``(n_users, n_items)`` weighted training matrix.
        strongest: ``(n_users, n_items)`` int8 strongest-event codes.
        models: Fitted models by name (anything with ``save(path)``).
    """

    meta: dict[str, Any]
    frames: dict[str, pd.DataFrame]
    embeddings: np.ndarray
    centroids: np.ndarray
    profiles: np.ndarray
    profile_columns: np.ndarray
    interactions: sp.csr_matrix
    strongest: sp.csr_matrix
    models: dict[str, Any]


def write_data(folder: Path, contents: BuildContents) -> None:
    """Write a build's models, tables and arrays into ``folder`` (a fresh temporary folder).

    The summary comes last (:func:`write_meta`), so a folder with one is complete (:func:`is_complete`); the
    caller renames the folder into place.
    """
    unknown = set(contents.frames) - set(FRAMES)
    if unknown:
        raise ConfigError(f"unknown build table(s) {sorted(unknown)}; the layout knows {sorted(FRAMES)}.")
    for name, model in contents.models.items():
        model.save(model_dir(folder, name))
    for name, frame in contents.frames.items():
        atomic.write_parquet(folder / FRAMES[name], frame)
    atomic.save_npz(
        folder / _ARRAYS,
        embeddings=np.asarray(contents.embeddings, dtype=np.float32),
        centroids=np.asarray(contents.centroids, dtype=np.float32),
        profiles=np.asarray(contents.profiles, dtype=np.float32),
        profile_columns=np.asarray(contents.profile_columns, dtype=np.int64),
    )
    # Uncompressed: zlib would cost every update time for a few MB saved.
    sp.save_npz(folder / _INTERACTIONS, contents.interactions.tocsr(), compressed=False)
    sp.save_npz(folder / _STRONGEST, contents.strongest.tocsr(), compressed=False)
    log.debug("wrote build data into %s", folder)


def write_meta(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Write the build summary, the last file of a build; returns it as written (with the format version)."""
    meta = {"format": FORMAT_VERSION, **meta}
    atomic.write_json(folder / _META, meta)
    return meta


def write_build(folder: Path, contents: BuildContents) -> dict[str, Any]:
    """Write a whole build (data, then ``contents.meta``) into ``folder``; returns the summary as written."""
    write_data(folder, contents)
    return write_meta(folder, contents.meta)


def is_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a finished build (its summary is written last)."""
    return (Path(folder) / _META).exists()


def read_meta(folder: Path) -> dict[str, Any]:
    """The build summary of a build folder."""
    path = Path(folder) / _META
    if not path.exists():
        raise ConfigError(f"{folder} holds no finished build ({_META} is missing); build the dataset again.")
    return atomic.read_json(path)


def read_frame(folder: Path, name: str) -> pd.DataFrame:
    """One of the build's tables by name (``items``, ``users``, ``interests``, ``interest_edges``)."""
    if name not in FRAMES:
        raise ConfigError(f"unknown build table {name!r}; choose one of {', '.join(FRAMES)}.")
    return pd.read_parquet(Path(folder) / FRAMES[name])


def read_arrays(folder: Path) -> dict[str, np.ndarray]:
    """``embeddings``, ``centroids``, ``profiles`` and ``profile_columns`` of a build."""
    return atomic.load_npz(Path(folder) / _ARRAYS)


def read_interactions(folder: Path) -> sp.csr_matrix:
    """The weighted ``(n_users, n_items)`` training matrix of a build."""
    return sp.load_npz(Path(folder) / _INTERACTIONS).tocsr()


def read_strongest(folder: Path) -> sp.csr_matrix | None:
    """The strongest-event codes of a build, or None for a build written before they were kept."""
    path = Path(folder) / _STRONGEST
    return sp.load_npz(path).tocsr() if path.exists() else None


def model_dir(folder: Path, name: str) -> Path:
    """Folder of the model ``name`` inside a build folder."""
    return Path(folder) / _MODELS / name


def evaluation_path(build_root: Path, build_id: str) -> Path:
    """Where the evaluation of one build is kept: beside the build folders, never inside one."""
    return Path(build_root) / _EVALUATIONS / f"{build_id}.json"
