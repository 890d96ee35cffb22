"""Exception classes of the engine; every message names the thing, the value and the fix."""

from __future__ import annotations

import logging

__all__ = [
    "UIGError",
    "SchemaError",
    "IngestError",
    "DatasetNotFound",
    "DatasetExists",
    "AmbiguousDataset",
    "NotBuilt",
    "NotFittedError",
    "ConfigError",
    "UnknownId",
    "ExportRefused",
]

log = logging.getLogger(__name__)


class UIGError(Exception):
    """Base class of every error the engine raises on purpose."""


class SchemaError(UIGError):
    """The columns of a log cannot be mapped to the canonical event schema."""


class IngestError(UIGError):
    """A log file could not be read or held no usable row."""


class DatasetNotFound(UIGError):
    """No dataset of that name exists in the workspace."""


class DatasetExists(UIGError):
    """A dataset of that name already exists in the workspace."""


class AmbiguousDataset(UIGError):
    """Several datasets exist and none was named."""


class NotBuilt(UIGError):
    """The dataset has no completed build yet."""


class NotFittedError(UIGError):
    """A model was queried before fit() or load()."""


class ConfigError(UIGError):
    """A parameter or setting has an invalid value."""


class UnknownId(UIGError):
    """A user, item or interest id is not in the dataset."""


class ExportRefused(UIGError):
    """An export was refused (e.g. a segment below the minimum size)."""
