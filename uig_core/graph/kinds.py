"""The graph's node and edge types: plain names, importable without numpy or pandas (the CLI's parser reads them)."""

from __future__ import annotations

__all__ = ["NODE_TYPES", "EDGE_TYPES", "DEFAULT_EDGE_TYPES"]

NODE_TYPES: tuple[str, ...] = ("user", "item", "interest")
EDGE_TYPES: tuple[str, ...] = ("user-item", "item-interest", "user-interest", "interest-interest", "user-user")
#: Edge types a view walks unless asked otherwise (user–user edges are on request: they crowd a neighbourhood).
DEFAULT_EDGE_TYPES: tuple[str, ...] = EDGE_TYPES[:4]
