"""What an analyst keeps about a dataset's segments: saved rule specs and the names given to clusters.

Both live in ``<workspace>/segments/<dataset>.json`` (atomic writes), which follows the dataset when it is renamed
and goes with it when it is deleted (:class:`~uig_core.store.workspace.Workspace`)::

    {"segments": {"weekend bakers": {"spec": {...}, "size": 120, "saved": "..."}},
     "cluster_names": [{"name": "Garden fans", "build_id": "b…", "cluster": 3, "members": ["u1", …], "saved": "…"}]}

A cluster's number means nothing outside its build, so a name is kept with a sample of the cluster's members
(at most :data:`NAME_SAMPLE` ids). On another build (a rebuild, an appended batch, another model) the name goes to
the cluster that holds most of that sample, when it holds at least half of it (:func:`resolve_names`); a name
whose members scattered is kept but shown nowhere.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from uig_core import atomic
from uig_core.errors import ConfigError

__all__ = ["NAME_SAMPLE", "MATCH_SHARE", "SegmentStore", "resolve_names", "check_name"]

log = logging.getLogger(__name__)

#: Members kept with a cluster's name, to find the cluster again on another build.
NAME_SAMPLE = 500
#: A name follows a cluster of another build that holds at least this share of its members.
MATCH_SHARE = 0.5

LabelsOf = Callable[[Sequence[str]], np.ndarray]


def check_name(name: str, what: str = "segment") -> str:
    """A name with its whitespace collapsed, or :class:`ConfigError` when it is empty, too long or not printable."""
    clean = " ".join(str(name).split())
    if not 1 <= len(clean) <= 80 or re.search(r"[\x00-\x1f\x7f]", clean):
        raise ConfigError(f"{what} name {clean!r} is not allowed: use 1-80 printable characters.")
    return clean


class SegmentStore:
    """Named segment specs and cluster names of one dataset, in ``<workspace>/segments/<dataset>.json``."""

    _lock = threading.Lock()

    def __init__(self, root: str | Path, dataset: str) -> None:
        self.path = Path(root) / "segments" / f"{dataset}.json"

    def _read(self) -> dict[str, Any]:
        return dict(atomic.read_json(self.path)) if self.path.exists() else {}

    def _update(self, key: str, value: Any) -> None:
        """Replace one top-level entry, keeping the others (call with the lock held)."""
        data = self._read()
        data[key] = value
        atomic.write_json(self.path, data)

    # ------------------------------------------------------------------ rule specs
    def all(self) -> dict[str, dict[str, Any]]:
        """Every saved segment: ``name -> {"spec", "size", "saved"}``."""
        return dict(self._read().get("segments", {}))

    def get(self, name: str) -> dict[str, Any]:
        """One saved segment's spec."""
        saved = self.all()
        if name not in saved:
            raise ConfigError(f"no saved segment named {name!r}; saved: {', '.join(saved) or 'none'}.")
        return saved[name]["spec"]

    def save(self, name: str, spec: Mapping[str, Any], *, size: int | None = None) -> dict[str, Any]:
        """Save (or replace) a segment under ``name``; returns the stored record."""
        name = check_name(name)
        record = {
            "spec": {"combine": spec.get("combine", "and"), "rules": list(spec.get("rules") or [])},
            "size": size,
            "saved": pd.Timestamp.now().isoformat(timespec="seconds"),
        }
        with self._lock:
            saved = self.all()
            saved[name] = record
            self._update("segments", saved)
        return record

    def delete(self, name: str) -> None:
        """Remove a saved segment (no error when absent)."""
        with self._lock:
            saved = self.all()
            if saved.pop(name, None) is not None:
                self._update("segments", saved)

    # ------------------------------------------------------------------ cluster names
    def cluster_names(self) -> list[dict[str, Any]]:
        """Every cluster name given, oldest first (``name, build_id, cluster, members, saved``)."""
        return list(self._read().get("cluster_names", []))

    def name_cluster(
        self, name: str | None, *, build_id: str, cluster: int, members: Sequence[str], labels_of: LabelsOf
    ) -> None:
        """Give cluster ``cluster`` of build ``build_id`` a name (None or "" clears it).

        Args:
            name: The new name.
            build_id: The build the cluster belongs to.
            cluster: Its number in that build.
            members: A sample of its members' ids (the first :data:`NAME_SAMPLE` are kept).
            labels_of: The cluster of each of some user ids in this build (-1 for an unknown id), to find the
                names given on other builds that this one replaces.
        """
        clean = check_name(name, "cluster") if name and str(name).strip() else None
        with self._lock:
            records = self.cluster_names()
            records = [r for r in records if _cluster_of(r, build_id, labels_of) != int(cluster)]
            if clean is not None:
                records.append(
                    {
                        "name": clean,
                        "build_id": str(build_id),
                        "cluster": int(cluster),
                        "members": [str(m) for m in list(members)[:NAME_SAMPLE]],
                        "saved": pd.Timestamp.now().isoformat(timespec="seconds"),
                    }
                )
            self._update("cluster_names", records)


def resolve_names(records: list[dict[str, Any]], build_id: str, labels_of: LabelsOf) -> dict[int, str]:
    """The names that apply to the clusters of build ``build_id``: ``cluster -> name``.

    A name given on this build keeps its cluster; one from another build goes to the cluster holding the largest
    share (≥ :data:`MATCH_SHARE`) of its member sample. The newest name wins a cluster.

    Args:
        records: :meth:`SegmentStore.cluster_names`.
        build_id: The build shown.
        labels_of: The cluster of each of some user ids in that build (-1 for an id it lacks).
    """
    taken: dict[int, str] = {}
    for record in reversed(records):  # newest first
        cluster = _cluster_of(record, build_id, labels_of)
        if cluster is not None and cluster not in taken:
            taken[cluster] = str(record["name"])
    return taken


def _cluster_of(record: Mapping[str, Any], build_id: str, labels_of: LabelsOf) -> int | None:
    """The cluster of build ``build_id`` a stored name belongs to, or None when its members scattered."""
    if str(record.get("build_id")) == str(build_id):
        return int(record["cluster"])
    members = list(record.get("members") or [])
    if not members:
        return None
    labels = np.asarray(labels_of(members), dtype=np.int64)
    labels = labels[labels >= 0]
    if not len(labels):
        return None
    counts = np.bincount(labels)
    best = int(counts.argmax())
    return best if counts[best] >= MATCH_SHARE * len(members) else None
