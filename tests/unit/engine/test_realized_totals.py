"""Realized liquidation totals: window edges to the second, largest, buckets, bounded memory."""

import random

import pytest

from liqtui.domain.events import Side
from liqtui.engine.realized import RealizedTotals, size_bucket
from liqtui.engine.views import WINDOW_MS, WINDOWS

T0 = 1_750_000_000_000  # ms, a whole second
BTC = "BTC/USDT:USDT"


def brute(events, venue, symbol, side, window, now_ms):
    """Sum the events whose second lies in (now_s - W, now_s], straight from the definition."""
    now_s, w = now_ms // 1000, WINDOW_MS[window] // 1000
    hits = [
        e
        for e in events
        if (venue == "all" or e[0] == venue)
        and e[1] == symbol
        and e[2] is side
        and now_s - w < e[4] // 1000 <= now_s
    ]
    buckets = [0] * 5
    for e in hits:
        buckets[size_bucket(e[3])] += 1
    return sum(e[3] for e in hits), len(hits), max((e[3] for e in hits), default=0.0), tuple(buckets)


def test_window_edges_are_exact_to_one_second():
    r = RealizedTotals()
    r.add("bybit", BTC, Side.LONG, 100.0, T0)  # second T0/1000
    now = T0 + 60_000  # 60 s later: the 1m window is (now_s - 60, now_s], T0's second just left
    assert r.cell("bybit", BTC, Side.LONG, "1m", now).count == 0
    assert r.cell("bybit", BTC, Side.LONG, "1m", now - 1).count == 1  # still the same second
    assert r.cell("bybit", BTC, Side.LONG, "1m", now - 1000).count == 1
    assert r.cell("bybit", BTC, Side.LONG, "5m", now).count == 1
    # 24 h edge, across hour and minute bucket boundaries
    day = T0 + 86_400_000
    assert r.cell("bybit", BTC, Side.LONG, "24h", day - 1).count == 1
    assert r.cell("bybit", BTC, Side.LONG, "24h", day).count == 0
    # An event after now is not counted
    assert r.cell("bybit", BTC, Side.LONG, "1h", T0 - 1).count == 0


def test_sizes_largest_and_sampled():
    r = RealizedTotals()
    for usd in (500.0, 5_000.0, 50_000.0, 500_000.0, 5_000_000.0, 999.99):
        r.add("okx", BTC, Side.SHORT, usd, T0, sampled=usd > 1e6)
    cell = r.cell("okx", BTC, Side.SHORT, "1m", T0)
    assert cell.buckets == (2, 1, 1, 1, 1)
    assert cell.largest_usd == 5_000_000.0 and cell.count == 6 and cell.sampled
    assert cell.usd == pytest.approx(5_556_499.99)
    assert r.cell("okx", BTC, Side.LONG, "1m", T0).count == 0
    assert size_bucket(1_000.0) == 1 and size_bucket(1_000_000.0) == 4


@pytest.mark.parametrize("seed", range(3))
def test_random_events_match_a_brute_force_count(seed):
    rnd = random.Random(seed)
    r, events = RealizedTotals(), []
    t = T0 + rnd.randrange(1000)
    for _ in range(3000):
        t += int(rnd.expovariate(1 / 40_000))  # a day-and-a-bit of events
        e = (
            rnd.choice(["binanceusdm", "bybit"]),
            rnd.choice([BTC, "ETH/USDT:USDT"]),
            rnd.choice([Side.LONG, Side.SHORT]),
            rnd.expovariate(1 / 30_000),
            t,
        )
        events.append(e)
        r.add(*e)
    for _ in range(30):
        now = t - rnd.randrange(0, 3_600_000)  # the totals keep 25 h behind the newest event
        window = rnd.choice(WINDOWS)
        for venue in ("bybit", "all"):
            side = rnd.choice([Side.LONG, Side.SHORT])
            cell = r.cell(venue, BTC, side, window, now)
            usd, count, largest, buckets = brute(events, venue, BTC, side, window, now)
            assert (cell.count, cell.buckets, cell.largest_usd) == (count, buckets, largest)
            assert cell.usd == pytest.approx(usd, rel=1e-9)


def test_largest_leaves_the_window_with_its_second():
    r = RealizedTotals()
    r.add("bybit", BTC, Side.LONG, 1_000_000.0, T0)
    r.add("bybit", BTC, Side.LONG, 10.0, T0 + 30_000)
    assert r.cell("bybit", BTC, Side.LONG, "1m", T0 + 59_999).largest_usd == 1_000_000.0
    assert r.cell("bybit", BTC, Side.LONG, "1m", T0 + 60_000).largest_usd == 10.0


def test_bucket_count_does_not_grow_with_run_time():
    r = RealizedTotals()
    counts = []
    for day in range(4):
        for s in range(0, 86_400, 7):  # one event every 7 s for four days
            r.add("bybit", BTC, Side.LONG, 1.0, T0 + (day * 86_400 + s) * 1000)
        counts.append(r.bucket_count())
    assert counts[3] <= counts[1] * 1.05  # bounded by the 25 h kept, not by the run time
    assert counts[3] < 2 * (86_400 // 7 + 1_500 + 25) * 2


def test_events_too_old_for_any_window_are_ignored():
    r = RealizedTotals()
    r.add("bybit", BTC, Side.LONG, 1.0, T0 + 2 * 86_400_000)
    r.add("bybit", BTC, Side.LONG, 1.0, T0)  # two days older than the newest event
    assert r.cell("bybit", BTC, Side.LONG, "24h", T0).count == 0
