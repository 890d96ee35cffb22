"""Canonical event schema and the auto-mapping of source columns and event values onto it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from uig_core.errors import SchemaError

__all__ = [
    "REQUIRED_FIELDS",
    "OPTIONAL_FIELDS",
    "CANONICAL_FIELDS",
    "EVENTS",
    "POSITIVE_EVENTS",
    "EVENT_WEIGHTS",
    "EVENT_CODES",
    "auto_map_columns",
    "auto_map_event",
    "parse_pairs",
]

log = logging.getLogger(__name__)

REQUIRED_FIELDS: tuple[str, ...] = ("user_id", "item_id")
OPTIONAL_FIELDS: tuple[str, ...] = ("event", "ts", "item_title", "category", "price", "quantity", "order_id")
CANONICAL_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + OPTIONAL_FIELDS

EVENTS: tuple[str, ...] = ("view", "click", "cart", "purchase", "return", "adjustment")
POSITIVE_EVENTS: tuple[str, ...] = ("view", "click", "cart", "purchase")
EVENT_WEIGHTS: dict[str, float] = {"view": 1.0, "click": 2.0, "cart": 4.0, "purchase": 8.0}
#: Rank code of each positive event, strongest highest (the strongest-event matrix stores these codes).
EVENT_CODES: dict[int, str] = {1: "view", 2: "click", 3: "cart", 4: "purchase"}

# Normalised source-column names (lowercase, alphanumerics only) that map onto each canonical field.
_COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "user_id": (
        "userid",
        "user",
        "customerid",
        "customer",
        "clientid",
        "client",
        "visitorid",
        "visitor",
        "memberid",
        "buyerid",
        "uid",
        "accountid",
        "shopperid",
    ),
    "item_id": (
        "itemid",
        "item",
        "productid",
        "product",
        "sku",
        "stockcode",
        "articleid",
        "asin",
        "pid",
        "goodsid",
        "offerid",
    ),
    "event": (
        "event",
        "eventtype",
        "action",
        "behavior",
        "behaviour",
        "behaviortype",
        "interaction",
        "type",
        "eventname",
        "activity",
    ),
    "ts": (
        "ts",
        "timestamp",
        "time",
        "datetime",
        "date",
        "eventtime",
        "invoicedate",
        "createdat",
        "occurredat",
        "eventdate",
        "orderdate",
    ),
    "item_title": (
        "itemtitle",
        "title",
        "description",
        "productname",
        "itemname",
        "name",
        "producttitle",
        "productdescription",
    ),
    "category": ("category", "categorycode", "productcategory", "categoryname", "department", "cat"),
    "price": ("price", "unitprice", "amount", "itemprice", "cost"),
    "quantity": ("quantity", "qty", "count", "units"),
    "order_id": ("orderid", "order", "invoiceno", "invoice", "invoiceid", "transactionid", "basketid"),
}

_EVENT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "view": ("view", "views", "pv", "pageview", "detail", "impression", "viewed", "productview", "visit"),
    "click": ("click", "clicks", "clicked", "tap"),
    "cart": ("cart", "addtocart", "addtobasket", "basket", "add", "carted", "atc", "addtocard"),
    "purchase": ("purchase", "buy", "bought", "order", "transaction", "checkout", "sale", "purchased", "conversion"),
    "return": ("return", "returned", "refund", "cancel", "cancellation"),
}


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def auto_map_columns(columns: Iterable[str], explicit: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map source column names onto canonical fields.

    Args:
        columns: Column names as read from the file.
        explicit: ``{source_column: canonical_field}`` given by the user; these win over guesses.

    Returns:
        ``{source_column: canonical_field}`` for every column that maps; other columns are kept as extras.

    Raises:
        SchemaError: An explicit mapping names a missing column or an unknown field, or two columns map to
            one field.
    """
    columns = [str(c) for c in columns]
    explicit = dict(explicit or {})
    mapping: dict[str, str] = {}
    for src, field in explicit.items():
        if field not in CANONICAL_FIELDS:
            raise SchemaError(
                f"--map {src}={field}: '{field}' is not a canonical field. Use one of: {', '.join(CANONICAL_FIELDS)}."
            )
        if src not in columns:
            raise SchemaError(
                f"--map {src}={field}: the file has no column '{src}'. Columns found: {', '.join(columns)}."
            )
        mapping[src] = field
    taken = set(mapping.values())
    for field, synonyms in _COLUMN_SYNONYMS.items():
        if field in taken:
            continue
        for syn in synonyms:  # synonyms are in priority order
            match = next((c for c in columns if c not in mapping and _norm(c) == syn), None)
            if match is not None:
                mapping[match] = field
                taken.add(field)
                break
    seen: dict[str, str] = {}
    for src, field in mapping.items():
        if field in seen:
            raise SchemaError(
                f"Columns '{seen[field]}' and '{src}' both map to '{field}'. Map only one, e.g. --map {src}={field}."
            )
        seen[field] = src
    return mapping


def auto_map_event(value: str) -> str | None:
    """Return the canonical event for a raw event value, or None when it is not recognised."""
    key = _norm(value)
    for event, synonyms in _EVENT_SYNONYMS.items():
        if key in synonyms:
            return event
    return None


def parse_pairs(pairs: Iterable[str] | None, what: str) -> dict[str, str]:
    """Parse ``["SRC=DST", ...]`` command-line pairs into a dict, with a clear error for a malformed pair."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise SchemaError(f"{what} '{pair}' must look like SOURCE=TARGET, e.g. {what} CustomerID=user_id.")
        src, dst = pair.split("=", 1)
        if not src.strip() or not dst.strip():
            raise SchemaError(f"{what} '{pair}' has an empty side; write SOURCE=TARGET.")
        out[src.strip()] = dst.strip()
    return out
