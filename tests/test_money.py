"""Money net of returns and cancellations (store/money.py): planted purchase/return pairs, then Online Retail.

The Online Retail part builds the real log once (slow, skipped when the data is absent) and checks that customer
12346, who bought 74,215 storage jars and cancelled them 16 minutes later, spent 0 everywhere an analyst looks:
the users table, the portrait and its RFM, segment fields, the CSV export and the Home totals; and that every
anomaly reason and drift date on it agrees with its score.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from uig_core.store.frames import users_frame
from uig_core.store.money import MONEY_COLUMNS, user_money

OR_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail" / "online_retail.csv.gz"
T0 = pd.Timestamp("2024-03-01 10:00")


def log(*rows: tuple) -> pd.DataFrame:
    """Events from ``(user, item, event, minutes after T0, price, quantity, order id)`` rows."""
    cols = ["user_id", "item_id", "event", "ts", "price", "quantity", "order_id"]
    frame = pd.DataFrame([(u, i, e, T0 + pd.Timedelta(minutes=m), p, q, o) for u, i, e, m, p, q, o in rows])
    frame.columns = cols
    frame["order_id"] = frame["order_id"].astype("string")
    return frame


def money_of(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    return user_money(frame).set_index("user_id").to_dict("index")


# ---------------------------------------------------------------------------------------------- planted pairs
def test_a_cancelled_purchase_nets_to_nothing_with_the_gross_kept():
    m = money_of(
        log(
            ("jar", "23166", "purchase", 0, 1.04, 74215, "541431"),
            ("jar", "23166", "return", 16, 1.04, -74215, "C541433"),
        )
    )
    assert m["jar"]["spend"] == 0.0 and m["jar"]["spend_gross"] == pytest.approx(77183.6)
    assert m["jar"]["orders"] == 0 and m["jar"]["orders_gross"] == 1
    assert m["jar"]["units_returned"] == m["jar"]["units_gross"] == 74215


def test_partial_over_and_unmatched_returns():
    m = money_of(
        log(
            ("part", "a", "purchase", 0, 2.0, 10, "1"),
            ("part", "a", "return", 5, 2.0, -4, "C2"),  # 4 of 10 back: 12.0 kept
            ("over", "a", "purchase", 0, 3.0, 10, "3"),
            ("over", "a", "return", 5, 3.0, -15, "C4"),  # 15 back of 10 bought: nothing kept, never negative
            ("stock", "a", "purchase", 0, 5.0, 2, "5"),
            ("stock", "b", "return", 5, 9.0, -7, "C6"),  # an item never bought in the log takes nothing back
        )
    )
    assert (m["part"]["spend"], m["part"]["orders"], m["part"]["units_returned"]) == (12.0, 1, 4)
    assert (m["over"]["spend"], m["over"]["orders"], m["over"]["units_returned"]) == (0.0, 0, 10)
    assert (m["stock"]["spend"], m["stock"]["spend_gross"], m["stock"]["units_returned"]) == (10.0, 10.0, 0)


def test_a_return_with_its_order_id_takes_back_that_order():
    rows = [
        ("u", "x", "purchase", 0, 5.0, 2, "A"),
        ("u", "x", "purchase", 60, 5.0, 3, "B"),
        ("u", "x", "return", 90, None, 2, "A"),  # carries order A, no price: valued at what was paid
    ]
    m = money_of(log(*rows))["u"]
    assert (m["spend"], m["spend_gross"], m["orders"], m["orders_gross"]) == (15.0, 25.0, 1, 2)  # A gone, B kept
    # without the order id the return is netted per user and item, newest line first: B loses 2 of 3 units
    unmatched = log(*rows[:2], ("u", "x", "return", 90, None, 2, None))
    m = money_of(unmatched)["u"]
    assert (m["spend"], m["orders"]) == (15.0, 2)


def test_logs_without_price_quantity_or_order_ids():
    frame = log(
        ("u", "x", "purchase", 0, 4.0, 3, "A"),
        ("u", "y", "purchase", 1, 6.0, 1, "A"),
        ("u", "y", "return", 9, 6.0, -1, "C"),
        ("v", "x", "view", 0, None, None, None),
    )
    no_qty = money_of(frame.drop(columns="quantity"))  # one unit a row: the return takes back y's line
    assert (no_qty["u"]["spend"], no_qty["u"]["spend_gross"], no_qty["u"]["orders"]) == (4.0, 10.0, 1)
    no_price = money_of(frame.drop(columns="price"))["u"]
    assert (no_price["spend"], no_price["orders"], no_price["units_returned"]) == (0.0, 1, 1)
    no_orders = money_of(frame.drop(columns="order_id"))["u"]  # each line an order
    assert (no_orders["orders"], no_orders["orders_gross"], no_orders["spend"]) == (1, 2, 12.0)


def test_users_frame_carries_the_one_definition():
    frame = log(
        ("u", "x", "purchase", 0, 4.0, 3, "A"),
        ("u", "x", "return", 9, 4.0, -1, "C"),
        ("v", "x", "view", 0, None, None, None),
    )
    users = users_frame(frame).set_index("user_id")
    money = user_money(frame).set_index("user_id")
    for col in MONEY_COLUMNS:
        assert users.loc["u", col] == money.loc["u", col], col
        assert users.loc["v", col] == 0, col  # no purchase or return: zeros, not missing
    assert users.loc["u", "spend"] == 8.0 and users.loc["u", "spend_gross"] == 12.0
    assert users["orders"].dtype == np.int64 and users["spend_gross"].dtype == np.float64


# ---------------------------------------------------------------------------------------------- Online Retail
@pytest.fixture(scope="module")
def or_build(tmp_path_factory):
    if not OR_CSV.exists():
        pytest.skip("../shared/data/online_retail is absent")
    from uig_core.cli.main import main

    root = tmp_path_factory.mktemp("or_ws")
    common = ["--workspace", str(root)]
    maps = ["CustomerID=user_id", "StockCode=item_id", "InvoiceDate=ts", "Description=item_title"]
    maps += ["Quantity=quantity", "UnitPrice=price", "InvoiceNo=order_id"]
    args = ["ingest", str(OR_CSV), "--name", "or", *common, "--item-pattern", r"^\d{5}[A-Za-z]{0,2}$"]
    for m in maps:
        args += ["--map", m]
    assert main(args) == 0
    assert main(["build", "--dataset", "or", *common]) == 0
    return root


@pytest.mark.slow
@pytest.mark.realdata
def test_or_12346_spent_nothing_everywhere(or_build, capsys):
    from uig_core.build.bundle import Bundle
    from uig_core.cli.main import main
    from uig_core.queries.home import home_summary
    from uig_core.queries.segments import export_csv, user_features
    from uig_core.store.workspace import Workspace

    capsys.readouterr()
    assert main(["portrait", "12346", "--dataset", "or", "--workspace", str(or_build), "--json"]) == 0
    act = json.loads(capsys.readouterr().out)["activity"]
    assert act["spend"] == 0.0 and act["spend_gross"] == pytest.approx(77183.6)
    assert act["orders"] == 0 and act["orders_gross"] == 1
    assert act["rfm"]["monetary"] == 0.0 and act["rfm"]["m"] <= 1 and act["rfm"]["f"] <= 1
    ws = Workspace(or_build)
    features = user_features(Bundle.load(ws, "or")).set_index("user_id")
    assert features.loc["12346", "spend"] == 0.0 and features.loc["12346", "spend_gross"] == pytest.approx(77183.6)
    members = features.index[features["spend_gross"] > 70_000]
    exported = pd.read_csv(io.BytesIO(export_csv(features.reset_index(), members, min_size=1)), dtype={"user_id": str})
    assert exported.set_index("user_id").loc["12346", "spend"] == 0.0
    revenue = home_summary(ws, "or")["revenue"]
    assert revenue["net"] == pytest.approx(features["spend"].sum(), abs=0.01)
    assert revenue["gross"] == pytest.approx(features["spend_gross"].sum(), abs=0.01)
    assert revenue["gross"] > revenue["net"]
    assert revenue["net"] > 0.9 * revenue["gross"]  # returns are a few per cent of OR's takings, not most


@pytest.mark.slow
@pytest.mark.realdata
def test_or_reasons_and_dates_agree_with_their_scores(or_build):
    from uig_core.build.bundle import Bundle
    from uig_core.signals.drift import DRIFT_THRESHOLD
    from uig_core.signals.risk import ANOMALY_THRESHOLD
    from uig_core.store.workspace import Workspace

    users = Bundle.load(Workspace(or_build), "or").users.set_index("user_id")
    flagged = users["anomaly_score"] >= ANOMALY_THRESHOLD
    assert ((users["anomaly_reason"].fillna("") != "") == flagged).all()
    assert ((users["change_date"].notna()) == (users["drift_score"] >= DRIFT_THRESHOLD)).all()
    assert flagged["12346"] and "returned 100%" in users.loc["12346", "anomaly_reason"]
    assert flagged.mean() < 0.01  # wholesale repeat buying and big invoices are the shop's norm, not bots
    assert not users["anomaly_reason"].fillna("").str.contains("one item").any()


@pytest.mark.slow
@pytest.mark.realdata
def test_or_similar_users_have_support_and_finite_figures(or_build):
    from uig_core.build.bundle import Bundle
    from uig_core.queries.similar import SIMILAR_MIN_ITEMS
    from uig_core.store.workspace import Workspace

    bundle = Bundle.load(Workspace(or_build), "or")
    support = pd.Series(np.diff(bundle.interactions.indptr), index=bundle.users["user_id"].astype(str))
    assert bundle.similar_users("12346").empty  # one item: nothing to compare
    for uid in support.index[:: max(1, len(support) // 400)]:
        sims = bundle.similar_users(uid, k=10)
        assert uid not in set(sims["user_id"]) and all(math.isfinite(s) for s in sims["similarity"])
        assert (support.reindex(sims["user_id"].astype(str)) >= SIMILAR_MIN_ITEMS).all()
