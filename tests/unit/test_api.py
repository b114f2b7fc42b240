"""liqtui.api: estimate_levels and at_risk, checked against hand-worked numbers and a slow reference."""

import math
import random

import pandas as pd
import pytest
from engine.reference import ReferenceBook  # tests/unit/engine/reference.py

from liqtui.api import SamplesError, at_risk, estimate_levels

WEIGHTS = {5: 0.15, 10: 0.30, 25: 0.25, 50: 0.20, 100: 0.10}


def test_one_rise_gives_ten_levels_at_the_textbook_prices():
    samples = pd.DataFrame({"time": [0, 300_000], "price": [100.0, 100.0], "open_interest": [50.0, 60.0]})
    levels = estimate_levels(samples)
    assert list(levels.columns) == ["price", "side", "leverage", "notional_usd"]
    assert len(levels) == 10
    for row in levels.itertuples():
        L = row.leverage
        if row.side == "long":
            assert row.price == pytest.approx(100 * (1 - 1 / L) / (1 - 0.004), rel=1e-12)
        else:
            assert row.price == pytest.approx(100 * (1 + 1 / L) / (1 + 0.004), rel=1e-12)
        assert row.notional_usd == pytest.approx(1000.0 * 0.5 * WEIGHTS[L])
    assert levels["price"].is_monotonic_increasing


def test_high_and_low_columns_set_the_step_range():
    samples = pd.DataFrame(
        {
            "time": [0, 1, 2],
            "price": [100.0, 100.0, 100.0],
            "open_interest": [0.0, 10.0, 10.0],
            "high": [float("nan"), float("nan"), 100.0],
            "low": [float("nan"), float("nan"), 97.0],
        }
    )
    levels = estimate_levels(samples)
    longs = levels[levels["side"] == "long"]
    assert sorted(longs["leverage"]) == [
        5,
        10,
        25,
    ]  # the low of 97 swept 100x (99.40) and 50x (98.39), not 25x (96.39)
    assert at_risk(levels, 100.0, 50.0) == pytest.approx(500.0 * (0.15 + 0.30 + 0.25))


def test_without_high_low_the_step_range_is_the_two_prices():
    samples = {"time": [0, 1, 2], "price": [100.0, 100.0, 98.5], "open_interest": [0.0, 10.0, 10.0]}
    levels = estimate_levels(samples)
    longs = levels[levels["side"] == "long"]
    assert sorted(longs["leverage"]) == [5, 10, 25, 50]  # only the 100x level (99.40) lies in [98.5, 100]


def test_an_oi_drop_removes_proportionally():
    samples = {"time": [0, 1, 2], "price": [100.0, 100.0, 100.0], "open_interest": [0.0, 10.0, 8.0]}
    levels = estimate_levels(samples)
    assert levels["notional_usd"].sum() == pytest.approx(800.0)
    assert (levels["notional_usd"] > 0).all()


def test_leverage_weights_mmr_and_long_share():
    samples = {"time": [0, 1], "price": [200.0, 200.0], "open_interest": [0.0, 1.0]}
    levels = estimate_levels(samples, leverage_weights={20: 1.0}, mmr=0.01, long_share=0.6)
    long_row = levels[levels["side"] == "long"].iloc[0]
    short_row = levels[levels["side"] == "short"].iloc[0]
    assert long_row["price"] == pytest.approx(200 * 0.95 / 0.99)
    assert short_row["price"] == pytest.approx(200 * 1.05 / 1.01)
    assert (long_row["notional_usd"], short_row["notional_usd"]) == pytest.approx((120.0, 80.0))


def random_samples(seed, n=500):
    rnd = random.Random(seed)
    price, oi, rows = 100.0, 1000.0, []
    for i in range(n):
        price *= math.exp(rnd.gauss(0, 0.01))
        oi = max(0.0, oi + rnd.gauss(1.0, 8.0))
        rows.append({"time": i * 300_000, "price": price, "open_interest": oi})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(4))
def test_matches_the_slow_reference(seed):
    samples = random_samples(seed)
    ref = ReferenceBook()
    prices, ois = samples["price"].tolist(), samples["open_interest"].tolist()
    for i in range(1, len(prices)):
        ref.step(min(prices[i - 1], prices[i]), max(prices[i - 1], prices[i]), prices[i], ois[i] - ois[i - 1])
    levels = estimate_levels(samples)
    assert levels["notional_usd"].sum() == pytest.approx(ref.total(), rel=1e-9)
    last = prices[-1]
    for target in (last * 0.8, last * 0.97, last * 1.03, last * 1.3):
        assert at_risk(levels, last, target) == pytest.approx(ref.at_risk(last, target), rel=1e-9, abs=1e-9)


def test_a_grid_sums_levels_into_rows():
    samples = random_samples(1)
    exact = estimate_levels(samples)
    rows = estimate_levels(samples, grid=0.5)
    assert rows["notional_usd"].sum() == pytest.approx(exact["notional_usd"].sum())
    assert ((rows["price"] / 0.5).round(9) % 1 == 0).all()
    assert not rows.duplicated(["price", "side", "leverage"]).any()
    with pytest.raises(ValueError):
        estimate_levels(samples, grid=0)


def test_at_risk_edges_and_plain_string_sides():
    levels = pd.DataFrame(
        {
            "price": [90.0, 95.0, 105.0, 110.0],
            "side": ["long", "long", "short", "short"],
            "leverage": [10, 20, 20, 10],
            "notional_usd": [1.0, 2.0, 4.0, 8.0],
        }
    )
    assert at_risk(levels, 100.0, 110.0) == 12.0
    assert at_risk(levels, 105.0, 110.0) == 8.0  # a level at the price is not "between"
    assert at_risk(levels, 100.0, 90.0) == 3.0
    assert at_risk(levels, 95.0, 90.0) == 1.0
    assert at_risk(levels, 100.0, 100.0) == 0.0


@pytest.mark.parametrize(
    "samples,words",
    [
        ({"time": [1], "price": [1]}, "missing column open_interest"),
        ({"time": [1, 2], "price": [1, "x"], "open_interest": [1, 2]}, "column price, row 2"),
        ({"time": [1, 2], "price": [1, 2], "open_interest": [1, -1]}, "open_interest, row 2"),
        ({"time": [1, 2], "price": [0, 2], "open_interest": [1, 1]}, "price, row 1: must be positive"),
        ({"time": [], "price": [], "open_interest": []}, "no samples"),
    ],
)
def test_bad_samples_get_a_clear_error(samples, words):
    with pytest.raises(SamplesError, match=words):
        estimate_levels(samples)


def test_rows_out_of_time_order_are_sorted_with_a_warning():
    from liqtui.api import SamplesWarning

    samples = random_samples(2, n=50)
    with pytest.warns(SamplesWarning, match="not in time order: sorted by time"):
        backwards = estimate_levels(samples.iloc[::-1])
    pd.testing.assert_frame_equal(backwards, estimate_levels(samples))


def test_lookback_and_half_life_as_the_desk_applies_them():
    day = 86_400_000
    samples = {
        "time": [0, 1, 2 + 10 * day],
        "price": [100.0, 100.0, 100.0],
        "open_interest": [0.0, 10.0, 10.0],
    }
    assert estimate_levels(samples)["notional_usd"].sum() == pytest.approx(
        1_000.0
    )  # the API keeps every level
    assert estimate_levels(samples, lookback_days=10).empty  # added 10 days and 1 ms before the last step
    assert estimate_levels(samples, lookback_days=11)["notional_usd"].sum() == pytest.approx(1_000.0)
    halved = {"time": [0, 1, 1 + 3_600_000], "price": [100.0] * 3, "open_interest": [0.0, 10.0, 10.0]}
    assert estimate_levels(halved, half_life_hours=1.0)["notional_usd"].sum() == pytest.approx(500.0)


def test_coarser_keeps_every_nth_sample_and_the_price_range_it_spans():
    from liqtui.api import coarser, read_samples

    frame = read_samples(
        {
            "time": [0, 1, 2, 3, 4, 5],
            "price": [10.0, 12.0, 9.0, 11.0, 10.5, 13.0],
            "open_interest": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "low": [math.nan, 11.0, 8.5, math.nan, 10.0, 12.5],
        }
    )
    got = coarser(frame, 2)
    assert got["time"].tolist() == [0, 2, 4, 5]  # every 2nd row and the last
    assert got["open_interest"].tolist() == [1.0, 3.0, 5.0, 6.0]
    assert got["low"].tolist() == [10.0, 8.5, 10.0, 12.5]  # rows 1-2, 3-4, 5: the lowest low or price
    assert got["high"].tolist() == [10.0, 12.0, 11.0, 13.0]  # no high column: the highest price
