"""Malformed and hostile log files, shared by the CLI tests (``test_cli_hostile.py``) and the Upload page tests.

``HOSTILE_FILES``: nothing in them is usable; ``PARTLY_BAD``: the usable rows must be ingested and the rest
reported. ``CLI_NEEDLES`` holds what the CLI's one-line error says where it words things differently from the page.
"""

from __future__ import annotations

HOSTILE_FILES = {  # case → (file content, what the page error says)
    "empty": (b"", "empty"),
    "header_only": (b"user_id,item_id,event,ts\n", "no data rows"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 40, "binary"),
    "no_known_columns": (b"a,b,c\n1,2,3\n4,5,6\n", "Choose the column that holds 'user_id'"),
    "missing_ids": (b"user_id,item_id\n,1\n2,\n", "no usable row"),
    "bad_timestamps": (b"user_id,item_id,ts\nu1,i1,yesterday\nu2,i2,soon\n", "no usable row"),
    "gzip_damaged": (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "gzip"),
}

CLI_NEEDLES = {"no_known_columns": "no column maps to 'user_id'"}

GOOD = "".join(f"u{i},i{i % 4},view,2024-01-{1 + i % 28:02d}\n" for i in range(30))
PARTLY_BAD = {  # case → (file content, rows accepted, a line the cleaning report must show or None)
    "ragged_and_unclosed_quote": (
        ("user_id,item_id,event,ts\n" + GOOD + 'u1,i1,view,2024-01-02,extra,x\nu2,"i2,view,2024-01-03\n').encode(),
        None,
        None,
    ),
    "latin1_semicolon": (
        (
            "user_id;item_id;title;ts\n"
            + "".join(f"u{i};i{i % 3};Crème brûlée n°{i % 3};2024-02-{1 + i % 20:02d}\n" for i in range(30))
        ).encode("latin-1"),
        30,
        "not valid UTF-8",
    ),
    "tab_delimiter": (("user_id\titem_id\tevent\tts\n" + GOOD.replace(",", "\t")).encode(), 30, None),
    "epoch_seconds": (
        ("user_id,item_id,ts\n" + "".join(f"u{i},i{i % 3},{1_700_000_000 + i * 60}\n" for i in range(30))).encode(),
        30,
        None,
    ),
    "epoch_ms": (
        (
            "user_id,item_id,ts\n" + "".join(f"u{i},i{i % 3},{1_700_000_000_000 + i * 60_000}\n" for i in range(30))
        ).encode(),
        30,
        None,
    ),
    "unknown_events": (
        (
            "user_id,item_id,event,ts\n" + GOOD + "".join(f"u{i},i1,share_to_friend,2024-01-05\n" for i in range(5))
        ).encode(),
        30,
        None,
    ),
    "exact_duplicates": (("user_id,item_id,event,ts\n" + GOOD + GOOD).encode(), 30, "30 exact duplicate rows removed"),
    "one_user_floods_200k": (
        (
            "user_id,item_id,event,ts\n"
            + GOOD
            + "".join(
                f"bot,i{i % 50},view,2024-02-{1 + i // 86400:02d} "
                f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}\n"
                for i in range(200_000)
            )
        ).encode(),
        200_030,
        None,
    ),
    "50k_single_event_users": (
        (
            "user_id,item_id,event,ts\n"
            + "".join(f"u{i},i{i % 100},purchase,2024-03-{1 + i % 28:02d}\n" for i in range(50_000))
        ).encode(),
        50_000,
        None,
    ),
    "200k_char_titles_and_emoji": (
        (
            "user_id,item_id,title,ts\n"
            + "".join(
                f"u{i},i{i % 3},{'日本語 العربية 😀 ' * (20_000 if i % 2 else 1)},2024-01-{1 + i % 28:02d}\n"
                for i in range(30)
            )
        ).encode(),
        30,
        "titles longer than 500 characters truncated",
    ),
}
