"""A log read in parts equals the same log read whole: rows, report counts, repeats across parts removed."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pandas as pd
import pytest

from uig_core.errors import IngestError
from uig_core.ingest.clean import read_log
from uig_core.ingest.stream import read_log_parts
from uig_core.store.bulk import add_dataset_parts
from uig_core.store.workspace import Workspace

CSV = """user,item,event,time,title,price
u1,a,view,2024-01-01 10:00:00,Red mug,3.5
u1,a,view,2024-01-01 10:00:00,Red mug,3.5
u2,b,purchase,2024-01-02 11:00:00,Blue cup,2.0
u3,c,teleport,2024-01-02 12:00:00,Odd,1.0
u2,a,cart,2024-01-03 09:00:00,Red mug,3.5
u4,b,view,2024-01-04 08:00:00,Blue cup,2.0,EXTRA
u1,a,view,2024-01-01 10:00:00,Red mug,3.5
u5,,view,2024-01-05 08:00:00,No item,1.0
u5,d,view,not a time,Green plate,4.0
u6,d,purchase,2024-01-06 08:00:00,Green plate,4.0
"""


def _key(frame: pd.DataFrame) -> pd.DataFrame:
    cols = ["user_id", "item_id", "event", "ts", "item_title", "price"]
    return frame[cols].astype(str).sort_values(cols).reset_index(drop=True)


@pytest.mark.parametrize("gz", [False, True])
def test_csv_in_parts_equals_whole(tmp_path, gz):
    path = tmp_path / ("log.csv.gz" if gz else "log.csv")
    path.write_bytes(gzip.compress(CSV.encode()) if gz else CSV.encode())
    whole = read_log(path)
    parts, report = read_log_parts(path, chunk_rows=3)
    frames = list(parts)
    assert len(frames) >= 3  # really read in parts
    ws = Workspace(tmp_path / "ws")
    info = add_dataset_parts(ws, "log", iter(frames), report=lambda repeated: {"repeated": repeated})
    assert info.rows == len(whole.events) == 4
    assert info.report == {"repeated": 1}  # rows 1 and 7 are the same row, in different parts
    pd.testing.assert_frame_equal(_key(ws.load_events("log")), _key(whole.events))
    assert report.skipped == {
        "unknown event value (map it with --event-map VALUE=EVENT): 'teleport' x1": 1,
        "wrong number of fields (ragged row)": 1,
        "missing item_id (column 'item')": 1,
        "unparseable timestamp in 'time'": 1,
    }
    assert report.examples["wrong number of fields (ragged row)"] == ["line 7"]  # header is line 1
    for reason in ("missing item_id (column 'item')", "unparseable timestamp in 'time'"):
        assert report.examples[reason] == whole.report.examples[reason]  # rows numbered across parts, as whole
    assert report.rows_read == whole.report.rows_read == 10


def test_parquet_in_parts_and_a_file_with_no_usable_row(tmp_path):
    frame = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 1, 2],
            "item_id": [10, 11, 10, 12, 10],
            "ts": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]),
            "event": ["view", "purchase", "view", "cart", "view"],
        }
    )
    path = tmp_path / "log.parquet"
    frame.to_parquet(path, row_group_size=2)
    parts, report = read_log_parts(path, chunk_rows=2)
    got = pd.concat(list(parts))
    pd.testing.assert_frame_equal(
        _key(got.assign(item_title="", price=0)), _key(read_log(path).events.assign(item_title="", price=0))
    )
    assert report.rows_accepted == 5 and report.events == {"view": 3, "purchase": 1, "cart": 1}
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,event\nu1,a,teleport\nu2,b,fly\n")
    parts, _ = read_log_parts(bad, chunk_rows=1)
    with pytest.raises(IngestError, match="no usable row"):
        list(parts)


def test_cli_streams_a_file_above_the_threshold(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(CSV)
    env = {"UIG_STREAM_BYTES": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "uig_core.cli.main", "ingest", str(path), "--workspace", str(tmp_path / "ws"), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    payload = json.loads(out.stdout)
    assert payload["dataset"]["rows"] == 4
    assert payload["report"]["duplicates"] == 2
