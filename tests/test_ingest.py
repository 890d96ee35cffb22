"""Ingest: auto-mapping, event mapping, returns, prices, item pattern, duplicates and malformed files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from uig_core.errors import IngestError, SchemaError
from uig_core.ingest.clean import clean_frame, read_log
from uig_core.ingest.report import MAX_TITLE_CHARS, IngestReport
from uig_core.schema import auto_map_columns, auto_map_event, parse_pairs

OR_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


def write(tmp_path: Path, text: str, name: str = "log.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_auto_mapping_of_common_names():
    mapping = auto_map_columns(
        ["CustomerID", "StockCode", "InvoiceDate", "Description", "Quantity", "UnitPrice", "InvoiceNo", "Country"]
    )
    assert mapping == {
        "CustomerID": "user_id",
        "StockCode": "item_id",
        "InvoiceDate": "ts",
        "Description": "item_title",
        "Quantity": "quantity",
        "UnitPrice": "price",
        "InvoiceNo": "order_id",
    }
    assert auto_map_columns(["visitorid", "itemid", "event", "timestamp"])["event"] == "event"


def test_explicit_mapping_wins_and_bad_mapping_is_named():
    mapping = auto_map_columns(["a", "b", "user"], {"a": "user_id", "b": "item_id"})
    assert mapping["a"] == "user_id" and "user" not in mapping
    with pytest.raises(SchemaError, match="no column 'zzz'"):
        auto_map_columns(["a"], {"zzz": "user_id"})
    with pytest.raises(SchemaError, match="not a canonical field"):
        auto_map_columns(["a"], {"a": "userid"})
    with pytest.raises(SchemaError, match="SOURCE=TARGET"):
        parse_pairs(["nonsense"], "--map")


@pytest.mark.parametrize(
    ("raw", "event"),
    [
        ("PV", "view"),
        ("add_to_cart", "cart"),
        ("Buy", "purchase"),
        ("click", "click"),
        ("refund", "return"),
        ("wishlist", "fav"),
        ("收藏", "fav"),
        ("搜索", "search"),
        ("teleport", None),
    ],
)
def test_event_synonyms(raw, event):
    assert auto_map_event(raw) == event


def test_clean_log_with_events_returns_prices_and_duplicates(tmp_path):
    path = write(
        tmp_path,
        "\n".join(
            [
                "user,product_id,event_type,timestamp,title,price,quantity,Country",
                "u1,p1,view,2024-01-01 10:00:00,Red Mug,3.5,,UK",
                "u1,p1,view,2024-01-01 10:00:00,Red Mug,3.5,,UK",  # exact duplicate
                "u1,p1,purchase,2024-01-01 10:05:00,Red Mug,3.5,2,UK",
                "u1,p2,purchase,2024-01-02 09:00:00,Free Sample,0,1,UK",  # price <= 0: not a purchase
                "u2,p1,purchase,2024-01-03 09:00:00,Red Mug,3.5,-1,FR",  # negative quantity: return
                "u2,p3,teleport,2024-01-03 09:00:00,Blue Mug,4,,FR",  # unknown event value
                ",p3,view,2024-01-03 09:00:00,Blue Mug,4,,FR",  # missing user id
            ]
        ),
    )
    result = read_log(path)
    ev, rep = result.events, result.report
    assert list(ev.columns[:4]) == ["user_id", "item_id", "event", "ts"]
    assert "Country" in ev.columns  # unknown extra columns are kept
    assert rep.duplicates == 1
    assert rep.returns == 1 and rep.nonpositive_price == 1
    assert sorted(ev["event"]) == ["adjustment", "purchase", "return", "view"]
    assert any("unknown event value" in r and "teleport" in r for r in rep.skipped)
    assert any("missing user_id" in r for r in rep.skipped)
    assert rep.examples[next(r for r in rep.skipped if "missing user_id" in r)] == ["row 7"]
    assert rep.rows_read == 7 and rep.rows_accepted == 4


def test_event_map_and_no_event_column(tmp_path):
    path = write(tmp_path, "uid,sku,action,time\nu1,i1,wishlist,2024-01-01\nu1,i2,buy,2024-01-02\n")
    ev = read_log(path, event_map={"wishlist": "click"}).events
    assert sorted(ev["event"]) == ["click", "purchase"]
    path = write(tmp_path, "uid,sku,time\nu1,i1,2024-01-01\n", "noevent.csv")
    res = read_log(path)
    assert list(res.events["event"]) == ["purchase"]
    assert any("purchase" in w for w in res.report.warnings)
    with pytest.raises(SchemaError, match="not an event"):
        read_log(path.with_name("log.csv"), event_map={"wishlist": "like"})


def test_item_pattern_filters_and_reports(tmp_path):
    path = write(
        tmp_path,
        "CustomerID,StockCode,InvoiceDate\n1,85123A,2024-01-01\n1,POST,2024-01-01\n"
        "2,71053,2024-01-02\n2,BANK CHARGES,2024-01-02\n",
    )
    res = read_log(path, item_pattern=r"^\d{5}[A-Za-z]{0,2}$")
    assert sorted(res.events["item_id"]) == ["71053", "85123A"]
    reason = next(r for r in res.report.skipped if "item-pattern" in r)
    assert res.report.skipped[reason] == 2 and "POST" in res.report.examples[reason][0]


@pytest.mark.parametrize(
    ("values", "unit"), [(["1700000000", "1700003600"], "epoch s"), (["1700000000000", "1700003600000"], "epoch ms")]
)
def test_epoch_timestamps(tmp_path, values, unit):
    path = write(tmp_path, "user_id,item_id,ts\n" + "".join(f"u,i{n},{v}\n" for n, v in enumerate(values)))
    res = read_log(path)
    assert res.report.timestamp_format == unit
    assert res.events["ts"].iloc[0] == pd.Timestamp("2023-11-14 22:13:20")


def test_unparseable_timestamps_are_skipped_with_row_numbers(tmp_path):
    path = write(tmp_path, "user_id,item_id,ts\nu,a,2024-01-01\nu,b,not a date\nu,c,2024-01-03\n")
    res = read_log(path)
    assert len(res.events) == 2
    reason = next(r for r in res.report.skipped if "timestamp" in r)
    assert res.report.examples[reason] == ["row 2 ts='not a date'"]


def test_semicolon_latin1_and_gzip(tmp_path):
    text = "user_id;item_id;item_title;ts\nu1;i1;Crème brûlée dish;2024-01-01\n"
    path = tmp_path / "log.csv.gz"
    path.write_bytes(gzip.compress(text.encode("latin-1")))
    res = read_log(path)
    assert res.report.delimiter == ";" and res.report.encoding == "latin-1"
    assert res.events["item_title"].iloc[0] == "Crème brûlée dish"


def test_tab_delimited_and_unicode_titles(tmp_path):
    path = write(tmp_path, "user_id\titem_id\titem_title\tts\nu1\ti1\t保温杯 🍵\t2024-01-01\n", "log.tsv")
    res = read_log(path)
    assert res.report.delimiter == "tab" and res.events["item_title"].iloc[0] == "保温杯 🍵"


def test_long_titles_truncated_and_reported(tmp_path):
    path = write(tmp_path, f"user_id,item_id,item_title,ts\nu1,i1,{'x' * 200_000},2024-01-01\n")
    res = read_log(path)
    assert len(res.events["item_title"].iloc[0]) == MAX_TITLE_CHARS and res.report.truncated_titles == 1


def test_ragged_rows_are_skipped_and_counted(tmp_path):
    path = write(tmp_path, "user_id,item_id,ts\nu1,i1,2024-01-01\nu2,i2,2024-01-02,extra,fields\nu3,i3,2024-01-03\n")
    res = read_log(path)
    assert len(res.events) == 2
    assert sum(n for r, n in res.report.skipped.items() if "ragged" in r) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"user_id,item_id,ts\n", "no data rows"),
        (b"\x00\x01\x02\x03binary\x00\xff" * 50, "binary"),
        (b"   \n\n", "blank"),
    ],
)
def test_malformed_files_give_specific_errors(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(IngestError, match=message):
        read_log(path)


def test_no_recognisable_columns(tmp_path):
    path = write(tmp_path, "foo,bar\n1,2\n")
    with pytest.raises(SchemaError, match="no column maps to 'user_id'.*--map"):
        read_log(path)


def test_no_usable_row(tmp_path):
    path = write(tmp_path, "user_id,item_id,event\nu1,i1,like\nu2,i2,like\n")
    with pytest.raises(IngestError, match="no usable row remains"):
        read_log(path)


def test_too_large_file_refused(tmp_path):
    path = write(tmp_path, "user_id,item_id\n" + "u,i\n" * 100)
    with pytest.raises(IngestError, match="above the upload limit"):
        read_log(path, max_bytes=100)


@pytest.mark.realdata
@pytest.mark.skipif(not OR_CSV.exists(), reason="../shared/data/online_retail absent")
def test_online_retail_counts():
    res = read_log(
        OR_CSV,
        mapping={
            "CustomerID": "user_id",
            "StockCode": "item_id",
            "InvoiceDate": "ts",
            "Description": "item_title",
            "Quantity": "quantity",
            "UnitPrice": "price",
            "InvoiceNo": "order_id",
        },
        item_pattern=r"^\d{5}[A-Za-z]{0,2}$",
    )
    rep = res.report
    assert rep.rows_read == 541_909
    assert rep.skipped["missing user_id (column 'CustomerID')"] == 135_080
    ev = res.events
    assert ev["user_id"].str.fullmatch(r"\d{5}").all()  # ids kept as text without a ".0"
    buys = ev[ev["event"] == "purchase"]
    # the usual cleaned subset (4,339 customers, SOURCE.md) less those whose every line is a postage/fee code
    assert buys["user_id"].nunique() == 4_334 and buys["item_id"].nunique() == 3_659
    assert len(buys[["user_id", "item_id"]].drop_duplicates()) == 266_221
    assert (buys["price"] > 0).all() and (buys["quantity"] > 0).all()


def test_unclosed_quote_skips_only_that_row(tmp_path):
    path = write(tmp_path, 'user_id,item_id,ts\nu1,i1,2024-01-01\nu2,"i2,2024-01-02\nu3,i3,2024-01-03\n')
    res = read_log(path)
    assert sorted(res.events["user_id"]) == ["u1", "u3"]
    assert res.report.skipped == {"unclosed quote": 1} and res.report.rows_read == 3
    assert res.report.examples["unclosed quote"][0].startswith("row 2 ")


def test_pseudonymised_ids_are_stable_and_keyed(tmp_path):
    path = write(tmp_path, "user_id,item_id\nalice@example.com,i1\nbob,i2\nalice@example.com,i3\n")
    a = read_log(path, pseudonymize_key=b"k1").events
    b = read_log(path, pseudonymize_key=b"k2").events
    assert "alice@example.com" not in set(a["user_id"])
    assert a["user_id"].nunique() == 2 and a["user_id"].iloc[0] == a["user_id"].iloc[2]
    assert set(a["user_id"]).isdisjoint(set(b["user_id"]))


# ----------------------------------------------------------------------------------------------- hostile values


@pytest.mark.parametrize(
    ("stamps", "expected", "naive_note"),
    [
        # a DST change: two offsets in one column
        (["2024-03-30 10:00+01:00", "2024-04-01 10:00+02:00"], ["2024-03-30 09:00", "2024-04-01 08:00"], False),
        # offsets next to naive times, naive first and offset first: naive ones are read as UTC
        (["2024-03-30 10:00", "2024-04-01 10:00+02:00"], ["2024-03-30 10:00", "2024-04-01 08:00"], True),
        (["2024-04-01T10:00:00+0200", "2024-03-30T10:00:00"], ["2024-04-01 08:00", "2024-03-30 10:00"], True),
    ],
)
def test_timestamps_with_several_offsets_are_read_in_utc(tmp_path, stamps, expected, naive_note):
    path = write(tmp_path, "user_id,item_id,ts\n" + "".join(f"u,i{n},{s}\n" for n, s in enumerate(stamps)))
    res = read_log(path)
    assert res.events.set_index("item_id")["ts"].to_dict() == {f"i{n}": pd.Timestamp(e) for n, e in enumerate(expected)}
    assert res.events["ts"].dtype == "datetime64[us]" and not res.report.skipped
    (warning,) = [w for w in res.report.warnings if "offset" in w]
    n_zoned = sum("+" in s for s in stamps)
    assert warning.startswith(f"{n_zoned} timestamp{'s' if n_zoned > 1 else ''} in 'ts' carried a UTC offset (+")
    assert "converted to UTC and stored without an offset" in warning
    assert ("1 timestamp without an offset read as UTC too" in warning) is naive_note


def test_a_few_offset_times_among_many_naive_ones_are_not_skipped(tmp_path):
    # under the 5% that would re-parse the whole column: only the rows the inferred format missed are re-read
    rows = [f"u,i{n},2024-01-{n + 1:02d} 10:00:00\n" for n in range(25)] + ["u,z,2024-02-01 10:00:00-05:00\n"]
    res = read_log(write(tmp_path, "user_id,item_id,ts\n" + "".join(rows)))
    assert len(res.events) == 26 and not res.report.skipped
    assert res.events.set_index("item_id")["ts"]["z"] == pd.Timestamp("2024-02-01 15:00")
    assert any("25 timestamps without an offset read as UTC too" in w for w in res.report.warnings)


def test_utc_only_timestamps_need_no_warning(tmp_path):
    res = read_log(write(tmp_path, "user_id,item_id,ts\nu,a,2024-04-01T10:00:00Z\nu,b,2024-04-01T11:00:00Z\n"))
    assert list(res.events["ts"]) == [pd.Timestamp("2024-04-01 10:00"), pd.Timestamp("2024-04-01 11:00")]
    assert not any("offset" in w for w in res.report.warnings)


def test_parquet_list_and_struct_columns_are_kept_as_json_text_and_stored(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from uig_core.store.workspace import Workspace

    table = pa.table(
        {
            "user_id": ["u1", "u1", "u2"],
            "item_id": ["a", "a", "b"],
            "ts": ["2024-01-01", "2024-01-01", "2024-01-02"],
            "tags": [[1, None], [1, None], None],
            "meta": [{"size": 1, "tone": "red"}, {"size": 1, "tone": "red"}, {"size": 3, "tone": None}],
        }
    )
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    res = read_log(path)
    assert res.report.duplicates == 1  # rows 1 and 2 are equal, lists and records included
    assert list(res.events["tags"].fillna("-")) == ["[1, null]", "-"]  # read from Arrow: ints and nulls as written
    assert list(res.events["meta"]) == ['{"size": 1, "tone": "red"}', '{"size": 3, "tone": null}']
    assert [w[:44] for w in res.report.warnings if "JSON text" in w] == [
        "column 'tags' holds Parquet lists (e.g. '[1,",
        "column 'meta' holds Parquet records (e.g. '{",
    ]
    ws = Workspace(tmp_path / "ws")
    ws.add_dataset("d", res.events, report=res.report.to_dict())
    back = ws.load_events("d")
    assert back[["tags", "meta"]].fillna("-").values.tolist() == [
        ["[1, null]", '{"size": 1, "tone": "red"}'],
        ["-", '{"size": 3, "tone": null}'],
    ]
    assert any("Parquet lists" in w for w in ws.dataset("d").report["warnings"])


def test_a_frame_with_python_lists_and_dicts_is_cleaned_with_json_text():
    frame = pd.DataFrame(
        {
            "user_id": ["u", "u", "v"],
            "item_id": ["a", "a", "b"],
            "tags": [np.array([1.0, np.nan]), np.array([1.0, np.nan]), "plain"],
            "meta": [{"k": {2, 1}}, {"k": {1, 2}}, None],
            "ts": "2024-01-01",
        }
    )
    res = clean_frame(frame, IngestReport(file="f"))
    assert res.report.duplicates == 1
    assert list(res.events["tags"]) == ["[1.0, null]", "plain"]
    assert list(res.events["meta"].fillna("-")) == ['{"k": [1, 2]}', "-"]
    assert (
        "column 'tags' holds lists or records (2 rows, e.g. row 1 tags='[1.0, null]'; row 2" in res.report.warnings[0]
    )


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        # 1e20 is a whole number beyond int64: it keeps its float text, the others read as integers
        ([1e20, 12.0, float("nan"), -3.0], ["1e+20", "12", "-3"]),
        # decided per value: 12.0 reads as 12 even next to 12.5
        ([12.0, 12.5, float("inf")], ["12", "12.5", "inf"]),
        (np.array([0.1, 7.0], dtype="float32"), ["0.1", "7"]),  # float32 text as float32 writes it
    ],
)
def test_float_ids_beyond_int64_keep_their_text(tmp_path, ids, expected):
    path = tmp_path / "ids.parquet"
    pd.DataFrame({"user_id": ids, "item_id": [f"i{n}" for n in range(len(ids))]}).to_parquet(path)
    res = read_log(path)
    assert list(res.events["user_id"]) == expected
    assert res.report.skipped == ({"missing user_id (column 'user_id')": 1} if len(ids) > len(expected) else {})


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("~uig_no_such_user_zz/x.csv", r"'~uig_no_such_user_zz' cannot be expanded on the server.*full path"),
        ("/tmp/" + "a" * 300 + ".csv", r"^/tmp/a+…a+\.csv: the path is too long.*rename the file"),
        ("/tmp/bad\x00name.csv", "NUL character"),
    ],
)
def test_typed_paths_the_server_cannot_check_give_an_ingest_error(typed, message):
    from uig_core.ingest.upload import resolve_path

    with pytest.raises(IngestError, match=message):
        resolve_path(typed)


def test_a_path_in_a_folder_the_app_may_not_read(tmp_path, monkeypatch):
    from uig_core.ingest.upload import resolve_path

    target = tmp_path / "locked" / "x.csv"

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "stat", refuse)  # exists() and is_dir() stat too; tests run as root, so no chmod
    with pytest.raises(IngestError, match=rf"^{target}: permission denied.*Give it read access"):
        resolve_path(str(target))
    with pytest.raises(IngestError, match="permission denied"):
        read_log(target)


def test_read_log_names_a_path_too_long_to_check(tmp_path):
    with pytest.raises(IngestError, match="the path is too long"):
        read_log(tmp_path / ("b" * 300 + ".csv"))


def test_an_upload_that_cannot_be_stored_is_an_ingest_error(tmp_path):
    from uig_core.errors import IngestError
    from uig_core.ingest.upload import stage_upload
    from uig_core.store.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    ws.root.mkdir(parents=True)
    (ws.root / "uploads").write_text("a file where the uploads folder should be")  # any OSError will do
    with pytest.raises(IngestError, match=r"shop\.csv: could not keep the upload .*then upload again"):
        stage_upload(ws, "shop.csv", b"user_id,item_id\nu1,i1\n")
