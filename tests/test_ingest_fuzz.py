"""Fuzzing the CSV reader: whatever the bytes, the ingest either returns clean events or raises a UIGError."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uig_core.errors import UIGError
from uig_core.ingest.clean import read_log
from uig_core.schema import EVENTS

cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
row = st.lists(cell, min_size=0, max_size=6)


def _check(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(data)
        try:
            res = read_log(path)
        except UIGError as err:
            assert str(err)  # a message a person can act on
            return
        ev = res.events
        assert len(ev) == res.report.rows_accepted > 0
        assert ev["user_id"].notna().all() and ev["item_id"].notna().all()
        assert set(ev["event"]) <= set(EVENTS)
        assert ev["ts"].notna().all()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data):
    _check(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, max_size=8), st.sampled_from([",", ";", "\t"]), st.booleans())
def test_random_tables_under_a_real_header(rows, delim, quote):
    header = delim.join(["user_id", "item_id", "event", "ts", "item_title"])
    lines = [header]
    for r in rows:
        cells = [f'"{c}"' if quote else c for c in r]
        lines.append(delim.join(cells))
    _check("\n".join(lines).encode("utf-8"))
