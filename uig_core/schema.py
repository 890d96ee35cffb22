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
    "ITEMLESS_EVENTS",
    "auto_map_columns",
    "auto_map_event",
    "parse_pairs",
]

log = logging.getLogger(__name__)

REQUIRED_FIELDS: tuple[str, ...] = ("user_id", "item_id")
OPTIONAL_FIELDS: tuple[str, ...] = (
    "event",
    "ts",
    "item_title",
    "category",
    "price",
    "quantity",
    "order_id",
    "query",
)
CANONICAL_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + OPTIONAL_FIELDS

EVENTS: tuple[str, ...] = ("view", "click", "fav", "cart", "purchase", "search", "return", "adjustment")
#: Events that make a user–item edge. ``fav`` (favourite, wishlist) sits between click and cart; ``search`` is
#: behaviour without an item (its ``query`` text links the user to interests, see uig_core.queries.searches).
POSITIVE_EVENTS: tuple[str, ...] = ("view", "click", "fav", "cart", "purchase")
EVENT_WEIGHTS: dict[str, float] = {"view": 1.0, "click": 2.0, "fav": 3.0, "cart": 4.0, "purchase": 8.0}
#: Rank code of each positive event, strongest highest (the strongest-event matrix stores these codes). Builds of
#: layout format 2 and before stored ``{1: view, 2: click, 3: cart, 4: purchase}``; ``build.layout`` reads them so.
EVENT_CODES: dict[int, str] = {1: "view", 2: "click", 3: "fav", 4: "cart", 5: "purchase"}
#: Events whose rows may have no item id (the row is about what was asked, not about an item).
ITEMLESS_EVENTS: tuple[str, ...] = ("search",)

# Normalised source-column names (lowercase, letters and digits of any script only) that map onto each field.
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
        "用户id",
        "用户",
        "买家id",
        "会员id",
        "顾客id",
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
        "商品id",
        "商品编号",
        "宝贝id",
        "商品",
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
        "行为",
        "行为类型",
        "事件",
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
        "时间",
        "时间戳",
        "日期",
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
        "商品名称",
        "商品标题",
        "标题",
        "名称",
    ),
    "category": (
        "category",
        "categorycode",
        "productcategory",
        "categoryname",
        "department",
        "cat",
        "类目",
        "品类",
        "分类",
        "类别",
    ),
    "price": ("price", "unitprice", "amount", "itemprice", "cost", "价格", "单价"),
    "quantity": ("quantity", "qty", "count", "units", "数量"),
    "order_id": (
        "orderid",
        "order",
        "invoiceno",
        "invoice",
        "invoiceid",
        "transactionid",
        "basketid",
        "订单号",
        "订单id",
    ),
    "query": (
        "query",
        "searchquery",
        "keyword",
        "keywords",
        "searchterm",
        "searchterms",
        "searchtext",
        "searchkeyword",
        "querytext",
        "q",
        "搜索词",
        "关键词",
        "搜索关键词",
        "查询词",
        "搜索",
    ),
}

# Taobao's UserBehavior log writes pv / fav / cart / buy; Chinese logs often write the action as a word.
_EVENT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "view": (
        "view",
        "views",
        "pv",
        "pageview",
        "detail",
        "impression",
        "viewed",
        "productview",
        "visit",
        "浏览",
        "查看",
    ),
    "click": ("click", "clicks", "clicked", "tap", "点击"),
    "fav": (
        "fav",
        "favs",
        "favorite",
        "favourite",
        "favorited",
        "favourited",
        "wishlist",
        "addtowishlist",
        "wish",
        "save",
        "saved",
        "bookmark",
        "collect",
        "收藏",
        "关注",
    ),
    "cart": (
        "cart",
        "addtocart",
        "addtobasket",
        "basket",
        "add",
        "carted",
        "atc",
        "addtocard",
        "加购",
        "加入购物车",
        "购物车",
    ),
    "purchase": (
        "purchase",
        "buy",
        "bought",
        "order",
        "transaction",
        "checkout",
        "sale",
        "purchased",
        "conversion",
        "购买",
        "下单",
        "支付",
        "成交",
    ),
    "search": ("search", "searched", "searches", "query", "搜索", "查询"),
    "return": ("return", "returned", "refund", "cancel", "cancellation", "退货", "退款"),
}


def _norm(name: str) -> str:
    """Lowercase letters and digits of any script ("Customer ID" → "customerid", "搜索 词" → "搜索词")."""
    return re.sub(r"[\W_]", "", str(name).lower())


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
