"""The build on a real local Spark (``local[2]``) gives the DuckDB path's answers: frames, pairs, embeddings, builds.

One session-scoped SparkSession (start-up is slow). Skips with the reason where pyspark or Java is missing; no
part of Spark is mocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from tests.conftest import hostile_events
from uig_core.graph.pairs import interactions_sha256, pair_matrices
from uig_core.ingest.clean import clean_frame, read_log
from uig_core.ingest.report import IngestReport
from uig_core.schema import EVENT_WEIGHTS
from uig_core.semantics.embeddings import Embedder, item_texts
from uig_core.store.frames import items_frame, time_range, users_frame
from uig_core.store.relation import EventRelation
from uig_core.store.workspace import Workspace

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
OR_LOG = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed (make .venv installs it)")
    from uig_core.spark.session import java_problem, spark_session

    if problem := java_problem():
        pytest.skip(problem)
    session = spark_session("local[2]", shuffle_partitions=4)
    yield session
    session.stop()


def _both_engines(spark, ws: Workspace, name: str, *, embed: bool = True) -> tuple[dict, object]:
    """The DuckDB answers (frames, pairs, embeddings) and the Spark ones for the stored dataset ``name``."""
    from uig_core.spark.build import export_events, spark_aggregates

    info = ws.dataset(name)
    events = EventRelation.of_dataset(ws, info)
    items, users = items_frame(events), users_frame(events)
    pairs = pair_matrices(events, pd.Index(users["user_id"]), pd.Index(items["item_id"]))
    duck = {"items": items, "users": users, "pairs": pairs, "time_range": time_range(events)}
    if embed:
        duck["embeddings"] = Embedder().embed(item_texts(items)[0])
    got = spark_aggregates(
        spark,
        ws,
        export_events(ws, info),
        data_hash=info.data_hash,
        event_weights=EVENT_WEIGHTS,
        half_life_days=60.0,
        embed_model=None,
    )
    return duck, got


def _assert_same(duck: dict, got) -> None:
    pd.testing.assert_frame_equal(got.items, duck["items"])  # exactly: counts, times, most common titles, medians
    floats = [c for c in duck["users"].columns if duck["users"][c].dtype == np.float64]
    exact = [c for c in duck["users"].columns if c not in floats]
    pd.testing.assert_frame_equal(got.users[exact], duck["users"][exact])
    # money is summed in another order by each engine: equal to the last bits or so
    pd.testing.assert_frame_equal(got.users[floats], duck["users"][floats], check_exact=False, rtol=1e-12, atol=1e-9)
    for name in ("weight", "strongest", "evidence_raw"):
        a, b = getattr(duck["pairs"], name), getattr(got.pairs, name)
        assert a.shape == b.shape and (a != b).nnz == 0, name
    a, b = duck["pairs"].evidence, got.pairs.evidence
    assert (a.indptr == b.indptr).all() and (a.indices == b.indices).all()
    np.testing.assert_allclose(b.data, a.data, rtol=1e-12)
    users, items = pd.Index(duck["users"]["user_id"]), pd.Index(duck["items"]["item_id"])
    assert interactions_sha256(got.pairs.weight, users, items) == interactions_sha256(
        duck["pairs"].weight, users, items
    )
    if "embeddings" in duck:
        assert got.embeddings.shape == duck["embeddings"].shape
        np.testing.assert_allclose(got.embeddings, duck["embeddings"], atol=1e-6)


@pytest.fixture(scope="module")
def demo_answers(spark, tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("spark_demo"))
    ws.add_dataset("demo", read_log(ROOT / "demo_data" / "events.csv.gz").events, source="demo")
    return _both_engines(spark, ws, "demo")


def test_demo_frames_pairs_and_embeddings_equal_duckdbs(demo_answers):
    duck, got = demo_answers
    assert len(got.items) > 100 and len(got.users) > 100 and got.pairs.weight.nnz > 1000  # not an empty match
    _assert_same(duck, got)
    assert (got.first_ts, got.last_ts, got.n_events) == duck["time_range"]


def test_the_interactions_hash_sees_one_changed_weight(demo_answers):
    duck, _ = demo_answers
    users, items = pd.Index(duck["users"]["user_id"]), pd.Index(duck["items"]["item_id"])
    weight = duck["pairs"].weight
    changed = weight.copy()
    changed.data[len(changed.data) // 2] = np.nextafter(changed.data[len(changed.data) // 2], np.float32(np.inf))
    assert interactions_sha256(changed, users, items) != interactions_sha256(weight, users, items)
    # the hash is of (user id, item id, weight) triples: a COO copy with the same triples hashes the same
    assert interactions_sha256(sp.coo_matrix(weight), users, items) == interactions_sha256(weight, users, items)


def _hostile_log() -> pd.DataFrame:
    """The shared hostile log plus what trips engines up: returns and cancellations, ties, odd ids, no time."""
    frame = hostile_events(n_users=30)
    extra = pd.DataFrame(
        [
            ("buyer", "t01", "purchase", "2024-02-01 10:00", "oolong tea tin", "tea", 4.5, 3, "o1"),
            ("buyer", "t01", "return", "2024-02-03 10:00", "oolong tea tin", "tea", 4.5, -2, "o1"),
            ("buyer", "t01", "purchase", "2024-02-05 10:00", "oolong tea tin", "tea", 4.0, 1, "o2"),
            ("u002", "t01", "return", "2024-02-06 10:00", "", "tea", 4.0, -5, "C9"),  # more than ever bought
            ("u'q", 'it,"em', "purchase", "2024-02-07 10:00", "tie a", "x", 2.0, 1, "o3"),
            ("u'q", 'it,"em', "view", "2024-02-08 10:00", "tie b", "x", 0.0, 1, None),  # title tie: smallest wins
            ("ü😀", "ß", "fav", "2024-02-09 10:00", "Straße", "", 1.0, 1, None),
            ("ü😀", "ß", "view", "", "Straße", "", 1.0, 1, None),  # no time
        ],
        columns=["user_id", "item_id", "event", "timestamp", "title", "category", "price", "quantity", "order_id"],
    )
    extra["timestamp"] = pd.to_datetime(extra["timestamp"])  # "" is NaT: a row without a time, skipped by both
    return pd.concat([frame, extra], ignore_index=True)


def test_hostile_log_frames_and_pairs_equal_duckdbs(spark, tmp_path):
    ws = Workspace(tmp_path / "ws")
    events = clean_frame(_hostile_log(), IngestReport(file="hostile")).events
    assert (events["event"] == "return").sum() == 2 and (events["user_id"] == "u'q").sum() == 2  # planted rows in
    ws.add_dataset("hostile", events, source="hostile")
    duck, got = _both_engines(spark, ws, "hostile")
    _assert_same(duck, got)
    spend = got.users.set_index("user_id")["spend"]
    assert spend["buyer"] == pytest.approx(4.5 + 4.0)  # 3 bought, 2 of order o1 back, then 1 more
    assert got.items.set_index("item_id").loc['it,"em', "title"] == "tie a"


def test_cli_build_on_spark_from_a_log_equals_ingest_then_duckdb(spark, tmp_path, capsys):
    """``uig build --log … --engine spark`` and ``uig ingest`` + ``uig build``: one matrix, one default model."""
    from uig_core.cli.main import main

    log_path = tmp_path / "hostile.csv"
    _hostile_log().to_csv(log_path, index=False)

    def run(*argv: str) -> dict:
        capsys.readouterr()
        assert main([*argv, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    run("ingest", str(log_path), "--name", "shop", "--workspace", a)
    duck = run("build", "--dataset", "shop", "--workspace", a)
    on_spark = run(
        "build", "--log", str(log_path), "--engine", "spark", "--spark-master", "local[2]", "--dataset", "shop",
        "--workspace", b,
    )  # fmt: skip
    assert duck["engine"] == "duckdb" and on_spark["engine"] == "spark"
    assert on_spark["interactions_sha256"] == duck["interactions_sha256"]
    assert on_spark["default_model"] == duck["default_model"]
    counts = [{k: v for k, v in m["counts"].items() if k != "newly_embedded"} for m in (duck, on_spark)]
    assert counts[0] == counts[1]  # newly_embedded: cache misses on DuckDB's path, every text on Spark's
    r_duck, r_spark = (m["quality"]["validation_recall@20"] for m in (duck, on_spark))
    assert r_spark == pytest.approx(r_duck, abs=1e-3)
    info = Workspace(b).dataset("shop")
    assert info.rows == Workspace(a).dataset("shop").rows  # the same rows were stored


def test_no_java_is_told_with_the_fix(monkeypatch, tmp_path):
    from uig_core.spark.session import java_problem

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert "make java" in java_problem()


@pytest.mark.realdata
@pytest.mark.skipif(not OR_LOG.exists(), reason="Online Retail is not in ../shared/data")
def test_online_retail_frames_and_pairs_equal_duckdbs(spark, tmp_path):
    from uig_core.ingest.stream import read_log_parts

    ws = Workspace(tmp_path / "ws")
    from uig_core.store.bulk import add_dataset_parts

    parts, report = read_log_parts(OR_LOG)
    add_dataset_parts(ws, "or", parts, source="or", report=lambda removed: report.to_dict())
    duck, got = _both_engines(spark, ws, "or", embed=False)  # embeddings: compared on the demo
    _assert_same(duck, got)
