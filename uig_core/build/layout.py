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
    arrays/<name>.npy       embeddings, centroids, interest profiles and their columns, one ``.npy`` each
    interactions/           the weighted user x item training matrix (CSR: indptr.npy, indices.npy, data.npy,
                            shape.npy)
    item_users/             the same pairs item-major: the users of each item (indptr.npy, indices.npy)
    strongest/              the strongest event per (user, item) pair, coded as ``schema.EVENT_CODES`` (CSR int8)
    indexes/<name>/         nearest-neighbour indexes for serving (optional), as their ``save`` writes them
    user_links/             each user's similar users, the graph's user–user edges (indptr, indices, similarity,
                            overlap .npy; optional: builds before them have none)
    segments/               the user clusters (labels, centres .npy; clusters, scan, over_time, items, map
                            .parquet; optional: builds before them have none)
    models/<name>/          each trained model, as its ``save`` writes it

and beside the build folders: ``evaluations/<build id>.json``.

Format 2 stores every array as its own ``.npy`` so that readers memory-map the large ones
(``np.load(mmap_mode="r")``): a query touches the pages it reads, and processes serving the same build share them
through the page cache. Format 1 builds (``arrays.npz``, ``interactions.npz``, ``strongest.npz``) are still read,
fully into memory, and get their item-major pairs computed on first use.

Every reader and the writer go through this module; no other module names these files.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
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
    "ARRAYS",
    "BuildContents",
    "write_build",
    "write_data",
    "write_meta",
    "is_complete",
    "read_meta",
    "read_frame",
    "read_column",
    "find_row",
    "read_arrays",
    "read_array",
    "read_interactions",
    "read_item_users",
    "read_user_links",
    "read_segments",
    "frame_columns",
    "read_strongest",
    "model_dir",
    "index_dir",
    "evaluation_path",
]

log = logging.getLogger(__name__)

#: Version of this layout; part of every build id, so a change of layout makes new builds.
#: 2: one ``.npy`` per array (memory-mapped by readers), the item-major pairs, optional serving indexes.
#: 3: the strongest-event codes of ``schema.EVENT_CODES`` with ``fav`` (3); older builds' cart 3 / purchase 4 are
#: read as today's codes by :func:`read_strongest`.
FORMAT_VERSION = 3

_META = "meta.json"
#: The tables of a build, by the name readers ask for.
FRAMES = {
    "items": "items.parquet",
    "users": "users.parquet",
    "interests": "interests.parquet",
    "interest_edges": "interest_edges.parquet",
}
#: The dense arrays of a build, by name.
ARRAYS = ("embeddings", "centroids", "profiles", "profile_columns")
_ARRAY_DIR = "arrays"
_INTERACTIONS_DIR = "interactions"
_ITEM_USERS_DIR = "item_users"
_STRONGEST_DIR = "strongest"
_USER_LINKS_DIR = "user_links"
_USER_LINK_PARTS = ("indptr", "indices", "similarity", "overlap")
_SEGMENTS_DIR = "segments"
#: The stored user clusters (:mod:`uig_core.build.clustering`): arrays and tables by part.
SEGMENT_ARRAYS = ("labels", "centres")
SEGMENT_TABLES = ("clusters", "scan", "over_time", "items", "map")
_SPARSE_PARTS = ("indptr", "indices", "data", "shape")
_INDEXES = "indexes"
_MODELS = "models"
_EVALUATIONS = "evaluations"
# Format 1 files, still read.
_ARRAYS_V1 = "arrays.npz"
_INTERACTIONS_V1 = "interactions.npz"
_STRONGEST_V1 = "strongest.npz"
#: Files smaller than this are read into memory: a mapping per tiny file costs more than it saves.
_MMAP_FROM_BYTES = 1 << 20
#: Rows per Parquet row group of a build table: a lookup by id reads one group (:func:`find_row`).
_ROW_GROUP = 1 << 16


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
        indexes: Serving indexes by name (anything with ``save(path)``, e.g.
            :class:`uig_core.queries.vectors.VectorIndex`); optional.
        user_links: The user–user edges (:meth:`uig_core.graph.user_links.UserLinks.arrays`); optional.
        segments: The user clusters by part (:func:`uig_core.build.clustering.segment_step`); optional.
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
    indexes: dict[str, Any] = field(default_factory=dict)
    user_links: dict[str, np.ndarray] | None = None
    segments: dict[str, Any] | None = None


def write_data(folder: Path, contents: BuildContents) -> None:
    """Write a build's models, tables and arrays into ``folder`` (a fresh temporary folder).

    The summary comes last (:func:`write_meta`), so a folder with one is complete (:func:`is_complete`); the
    caller renames the folder into place.
    """
    unknown = set(contents.frames) - set(FRAMES)
    if unknown:
        raise ConfigError(f"unknown build table(s) {sorted(unknown)}; the layout knows {sorted(FRAMES)}.")
    folder = Path(folder)
    for name, model in contents.models.items():
        model.save(model_dir(folder, name))
    for name, index in contents.indexes.items():
        index.save(index_dir(folder, name))
    for name, frame in contents.frames.items():
        _write_table(folder / FRAMES[name], frame)
    arrays = {
        "embeddings": np.asarray(contents.embeddings, dtype=np.float32),
        "centroids": np.asarray(contents.centroids, dtype=np.float32),
        "profiles": np.asarray(contents.profiles, dtype=np.float32),
        "profile_columns": np.asarray(contents.profile_columns, dtype=np.int64),
    }
    for name, array in arrays.items():
        _save_npy(folder / _ARRAY_DIR / f"{name}.npy", array)
    interactions = contents.interactions.tocsr()
    _save_sparse(folder / _INTERACTIONS_DIR, interactions)
    _save_sparse(folder / _STRONGEST_DIR, contents.strongest.tocsr())
    by_item = interactions.tocsc()
    by_item.sort_indices()
    _save_npy(folder / _ITEM_USERS_DIR / "indptr.npy", by_item.indptr)
    _save_npy(folder / _ITEM_USERS_DIR / "indices.npy", by_item.indices)
    for part, array in (contents.user_links or {}).items():
        if part not in _USER_LINK_PARTS:
            raise ConfigError(f"unknown user-link array {part!r}; the layout knows {', '.join(_USER_LINK_PARTS)}.")
        _save_npy(folder / _USER_LINKS_DIR / f"{part}.npy", np.asarray(array))
    _write_segments(folder, contents.segments or {})
    log.debug("wrote build data into %s", folder)


def _write_segments(folder: Path, parts: dict[str, Any]) -> None:
    """The user clusters' arrays as ``.npy`` and tables as Parquet under ``segments/``."""
    unknown = set(parts) - set(SEGMENT_ARRAYS) - set(SEGMENT_TABLES)
    if unknown:
        raise ConfigError(
            f"unknown segment part(s) {sorted(unknown)}; the layout knows {SEGMENT_ARRAYS + SEGMENT_TABLES}."
        )
    for part, value in parts.items():
        if part in SEGMENT_ARRAYS:
            _save_npy(folder / _SEGMENTS_DIR / f"{part}.npy", np.asarray(value))
        else:
            _write_table(folder / _SEGMENTS_DIR / f"{part}.parquet", value)


def _write_table(path: Path, frame: pd.DataFrame) -> None:
    """A table as Parquet, atomically, in row groups of :data:`_ROW_GROUP` rows (see :func:`find_row`)."""
    import io

    buf = io.BytesIO()
    frame.to_parquet(buf, index=False, row_group_size=_ROW_GROUP)
    atomic.write_bytes(path, buf.getvalue())


def _save_npy(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.open_atomic(path) as fh:  # streamed, no pickled objects
        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)


def _save_sparse(folder: Path, matrix: sp.csr_matrix) -> None:
    for part in _SPARSE_PARTS[:3]:
        _save_npy(folder / f"{part}.npy", getattr(matrix, part))
    _save_npy(folder / "shape.npy", np.asarray(matrix.shape, dtype=np.int64))


def _load_npy(path: Path, mmap: bool = True) -> np.ndarray:
    """A ``.npy`` file, memory-mapped read-only when ``mmap`` and the file is not tiny."""
    if mmap and path.stat().st_size >= _MMAP_FROM_BYTES:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    return np.load(path, allow_pickle=False)


def _load_sparse(folder: Path, mmap: bool = True) -> sp.csr_matrix:
    parts = {p: _load_npy(folder / f"{p}.npy", mmap) for p in _SPARSE_PARTS}
    shape = tuple(int(v) for v in parts["shape"])
    # scipy keeps the given (read-only, mapped) arrays: nothing is copied.
    return sp.csr_matrix((parts["data"], parts["indices"], parts["indptr"]), shape=shape)


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


def read_frame(folder: Path, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """One of the build's tables by name (``items``, ``users``, ``interests``, ``interest_edges``).

    Args:
        folder: The build folder.
        name: The table.
        columns: Read only these columns (default: all).
    """
    import pyarrow.parquet as pq

    if name not in FRAMES:
        raise ConfigError(f"unknown build table {name!r}; choose one of {', '.join(FRAMES)}.")
    # What pd.read_parquet returns (the pandas metadata restores the dtypes), but one chunk per column instead
    # of one per row group: a take (a page of rows) on a many-chunk Arrow column costs ten times more.
    return pq.read_table(Path(folder) / FRAMES[name], columns=columns).combine_chunks().to_pandas()


def frame_columns(folder: Path, name: str) -> list[str]:
    """The column names of a build table, read from its schema alone."""
    import pyarrow.parquet as pq

    if name not in FRAMES:
        raise ConfigError(f"unknown build table {name!r}; choose one of {', '.join(FRAMES)}.")
    return list(pq.read_schema(Path(folder) / FRAMES[name]).names)


def frame_dtypes(folder: Path, name: str) -> pd.Series:
    """Each column's pandas dtype as :func:`read_frame` returns it, from the table's schema alone (no rows)."""
    import pyarrow.parquet as pq

    if name not in FRAMES:
        raise ConfigError(f"unknown build table {name!r}; choose one of {', '.join(FRAMES)}.")
    return pq.read_schema(Path(folder) / FRAMES[name]).empty_table().to_pandas().dtypes


def read_column(folder: Path, name: str, column: str) -> Any:
    """One column of a build table as a pyarrow ``ChunkedArray`` (no pandas objects: cheap on millions of rows)."""
    import pyarrow.parquet as pq

    if name not in FRAMES:
        raise ConfigError(f"unknown build table {name!r}; choose one of {', '.join(FRAMES)}.")
    return pq.read_table(Path(folder) / FRAMES[name], columns=[column]).column(column)


def find_row(folder: Path, name: str, column: str, value: str) -> int:
    """Row of the first ``value`` in a string ``column`` of a build table, or -1.

    Reads only the row groups whose min/max statistics can hold it: one group of :data:`_ROW_GROUP` rows for a
    table sorted by that column, as the users and items tables are.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if name not in FRAMES:
        raise ConfigError(f"unknown build table {name!r}; choose one of {', '.join(FRAMES)}.")
    pf = pq.ParquetFile(Path(folder) / FRAMES[name])
    meta = pf.metadata
    at = pf.schema_arrow.get_field_index(column)
    offset = 0
    for group in range(meta.num_row_groups):
        rg = meta.row_group(group)
        stats = rg.column(at).statistics
        bounded = stats is not None and stats.has_min_max and isinstance(stats.min, str)
        if not bounded or stats.min <= value <= stats.max:
            ids = pf.read_row_group(group, columns=[column]).column(0)
            pos = pc.index(ids, value).as_py()
            if pos >= 0:
                return offset + int(pos)
        offset += rg.num_rows
    return -1


def _format(folder: Path) -> int:
    return 2 if (Path(folder) / _ARRAY_DIR).is_dir() else 1


def read_arrays(folder: Path, *, mmap: bool = True) -> dict[str, np.ndarray]:
    """``embeddings``, ``centroids``, ``profiles`` and ``profile_columns`` of a build.

    Large arrays of a format 2 build are memory-mapped read-only (``mmap=False`` reads them into memory); a
    format 1 build's ``arrays.npz`` is read whole.
    """
    folder = Path(folder)
    if _format(folder) == 1:
        return atomic.load_npz(folder / _ARRAYS_V1)
    return {name: _load_npy(folder / _ARRAY_DIR / f"{name}.npy", mmap) for name in ARRAYS}


def read_array(folder: Path, name: str, *, mmap: bool = True) -> np.ndarray:
    """One array of :data:`ARRAYS` (memory-mapped when large, see :func:`read_arrays`)."""
    if name not in ARRAYS:
        raise ConfigError(f"unknown build array {name!r}; choose one of {', '.join(ARRAYS)}.")
    folder = Path(folder)
    if _format(folder) == 1:
        with np.load(folder / _ARRAYS_V1, allow_pickle=False) as data:
            return data[name]
    return _load_npy(folder / _ARRAY_DIR / f"{name}.npy", mmap)


def read_interactions(folder: Path, *, mmap: bool = True) -> sp.csr_matrix:
    """The weighted ``(n_users, n_items)`` training matrix of a build (CSR over mapped arrays for format 2)."""
    folder = Path(folder)
    if _format(folder) == 1:
        return sp.load_npz(folder / _INTERACTIONS_V1).tocsr()
    return _load_sparse(folder / _INTERACTIONS_DIR, mmap)


def read_item_users(folder: Path, *, mmap: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
    """The training pairs item-major: ``(indptr (n_items + 1,), indices (nnz,))``, or None for a format 1 build.

    The sorted user rows of item ``j`` are ``indices[indptr[j]:indptr[j + 1]]``; derive them from the matrix
    for a format 1 build.
    """
    folder = Path(folder) / _ITEM_USERS_DIR
    if not folder.is_dir():
        return None
    return _load_npy(folder / "indptr.npy", mmap), _load_npy(folder / "indices.npy", mmap)


def read_user_links(folder: Path, *, mmap: bool = True) -> dict[str, np.ndarray] | None:
    """The user–user edges by part (``indptr, indices, similarity, overlap``), or None for a build without them."""
    folder = Path(folder) / _USER_LINKS_DIR
    if not folder.is_dir():
        return None
    return {part: _load_npy(folder / f"{part}.npy", mmap) for part in _USER_LINK_PARTS}


def read_segments(folder: Path, *, mmap: bool = True) -> dict[str, Any] | None:
    """The stored user clusters by part (:data:`SEGMENT_ARRAYS`, :data:`SEGMENT_TABLES`), or None.

    None for a build written before builds stored them.
    """
    import pyarrow.parquet as pq

    folder = Path(folder) / _SEGMENTS_DIR
    if not folder.is_dir():
        return None
    out: dict[str, Any] = {part: _load_npy(folder / f"{part}.npy", mmap) for part in SEGMENT_ARRAYS}
    for part in SEGMENT_TABLES:
        out[part] = pq.read_table(folder / f"{part}.parquet").to_pandas()
    return out


def read_strongest(folder: Path, *, mmap: bool = True) -> sp.csr_matrix | None:
    """The strongest-event codes of a build, or None for a build written before they were kept."""
    folder = Path(folder)
    if _format(folder) == 2:
        codes = _load_sparse(folder / _STRONGEST_DIR, mmap)
    else:
        path = folder / _STRONGEST_V1
        codes = sp.load_npz(path).tocsr() if path.exists() else None
    meta = folder / _META
    if codes is not None and meta.exists() and json.loads(meta.read_text(encoding="utf-8")).get("format", 1) < 3:
        data = np.asarray(codes.data).astype(np.int8)  # before fav: 3 was cart and 4 purchase
        data[data >= 3] += 1
        codes = sp.csr_matrix((data, codes.indices, codes.indptr), shape=codes.shape)
    return codes


def model_dir(folder: Path, name: str) -> Path:
    """Folder of the model ``name`` inside a build folder."""
    return Path(folder) / _MODELS / name


def index_dir(folder: Path, name: str) -> Path:
    """Folder of the serving index ``name`` inside a build folder (it may not exist: indexes are optional)."""
    return Path(folder) / _INDEXES / name


def evaluation_path(build_root: Path, build_id: str) -> Path:
    """Where the evaluation of one build is kept: beside the build folders, never inside one."""
    return Path(build_root) / _EVALUATIONS / f"{build_id}.json"
