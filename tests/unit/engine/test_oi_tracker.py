"""Open interest: change over windows, lookback low/high fed by late history, regime, bounded memory."""

import pytest

from liqtui.engine.oi import OITracker, oi_regime

T0 = 1_750_000_000_000
H = 3_600_000


def test_change_over_windows_uses_the_sample_at_or_before_the_window_start():
    oi = OITracker()
    for i in range(0, 25 * 12 + 1):  # 5-minute samples for 25 h, base rising 1 per step
        oi.add("binanceusdm", "BTC", 1000.0 + i, (1000.0 + i) * 100.0, T0 + i * 300_000)
    now = T0 + 25 * H
    view = oi.view("binanceusdm", "BTC", now)
    assert view.base == 1300.0
    assert view.change_pct["5m"] == pytest.approx((1300 - 1299) / 1299 * 100)
    assert view.change_pct["1h"] == pytest.approx((1300 - 1288) / 1288 * 100)
    assert view.change_pct["24h"] == pytest.approx((1300 - 1012) / 1012 * 100)


def test_low_and_high_within_the_lookback_come_from_history_that_arrives_late():
    oi = OITracker(lookback_ms=30 * 24 * H)
    now = T0 + 40 * 24 * H
    oi.add("bybit", "BTC", 123_500.0, 123_500.0 * 90_000, now)  # live first
    # then history, oldest last, one of them outside the lookback
    oi.add("bybit", "BTC", 100_000.0, 0.0, now - 10 * 24 * H)
    oi.add("bybit", "BTC", 93_600.0, 0.0, now - 20 * 24 * H)
    oi.add("bybit", "BTC", 50_000.0, 0.0, now - 35 * 24 * H)  # older than 30 days: not the low
    view = oi.view("bybit", "BTC", now)
    assert view.base == 123_500.0  # late history does not replace the latest value
    assert view.low == 93_600.0 and view.low_time == now - 20 * 24 * H
    assert view.high == 123_500.0
    assert view.vs_low_pct == pytest.approx((123_500 - 93_600) / 93_600 * 100)  # "up 31 %"
    assert round(view.vs_low_pct) == 32
    assert view.range_position == 1.0


@pytest.mark.parametrize(
    "price_change,oi_change,regime",
    [
        (1.0, 1.0, "new longs"),
        (1.0, -1.0, "short covering"),
        (-1.0, 1.0, "new shorts"),
        (-1.0, -1.0, "long flush"),
        (0.0, 1.0, None),
    ],
)
def test_regime(price_change, oi_change, regime):
    assert oi_regime(price_change, oi_change) == regime


def test_regime_from_samples_uses_the_implied_price():
    oi = OITracker()
    oi.add("okx", "BTC", 100.0, 100.0 * 50_000, T0)
    oi.add("okx", "BTC", 90.0, 90.0 * 49_000, T0 + H)  # price down, OI down
    assert oi.view("okx", "BTC", T0 + H, "1h").regime == "long flush"


def test_memory_is_bounded_by_the_windows_not_the_run_time():
    oi = OITracker(lookback_ms=2 * 24 * H)
    sizes = []
    for day in range(6):
        for i in range(0, 24 * 240):  # a sample every 15 s
            t = T0 + day * 24 * H + i * 15_000
            oi.add("bybit", "BTC", 1.0 + i, 1.0, t)
        sizes.append(oi.sample_count())
    assert sizes[5] <= sizes[2] * 1.05


def test_no_samples_gives_an_empty_view():
    view = OITracker().view("bybit", "BTC", T0)
    assert view.base is None and view.change_pct == {"5m": None, "1h": None, "4h": None, "24h": None}


def test_the_regime_carries_the_price_move_it_read():
    """The regime line shows what it compared: the price's and OI's change over its window."""
    oi = OITracker()
    oi.add("okx", "BTC", 100.0, 100.0 * 50.0, T0)
    oi.add("okx", "BTC", 110.0, 110.0 * 45.0, T0 + H)
    view = oi.view("okx", "BTC", T0 + H, "1h")
    assert view.regime == "new shorts" and view.regime_price_pct == pytest.approx(-10.0)
    assert view.change_pct["1h"] == pytest.approx(10.0)
