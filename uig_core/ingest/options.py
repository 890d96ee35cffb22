"""How a log is read into a dataset: column and event maps, item filter, pseudonymisation; kept per dataset.

A new batch appended to a dataset is read the way the dataset's first file was, unless told otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uig_core.store.workspace import Workspace

__all__ = ["IngestOptions", "resolve_options"]

log = logging.getLogger(__name__)


@dataclass
class IngestOptions:
    """The choices behind one ingest (stored with the dataset as its ``options``).

    Attributes:
        map: Source column → canonical field.
        event_map: Source event value → canonical event.
        item_pattern: Regex item ids must match (None: keep all).
        pseudonymize: Replace user ids by a keyed hash.
    """

    map: dict[str, str] = field(default_factory=dict)
    event_map: dict[str, str] = field(default_factory=dict)
    item_pattern: str | None = None
    pseudonymize: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored with the dataset."""
        return asdict(self)


def resolve_options(ws: Workspace, given: IngestOptions, *, append_to: str | None = None) -> IngestOptions:
    """The options to use: the given ones, completed from the workspace setting and, for a batch, the dataset.

    Pseudonymisation is on when asked, when the workspace asks for it, or when the dataset appended to used it;
    maps and the item filter not given are the dataset's own.
    """
    pseudo = given.pseudonymize or bool(ws.settings().get("pseudonymize", False))
    if append_to is None:
        return IngestOptions(dict(given.map), dict(given.event_map), given.item_pattern, pseudo)
    previous = ws.dataset(append_to).options
    return IngestOptions(
        map=dict(given.map) or dict(previous.get("map", {})),
        event_map=dict(given.event_map) or dict(previous.get("event_map", {})),
        item_pattern=given.item_pattern or previous.get("item_pattern"),
        pseudonymize=pseudo or bool(previous.get("pseudonymize")),
    )
