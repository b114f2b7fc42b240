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


def _state(r):
    """Every bucket of every series, in the dicts' order, the venues and the pruning's marks."""
    series = {
        key: (list(s.sec.items()), list(s.min.items()), list(s.hour.items())) for key, s in r._series.items()
    }
    return list(series.items()), r._venues, r._newest_second, r._next_prune


@pytest.mark.parametrize("seed", range(6))
def test_runs_folded_at_their_end_leave_every_bucket_of_one_at_a_time_to_the_bit(seed, monkeypatch):
    # add_many folds a run in time order into its buckets at the run's end (each bucket's USD added
    # in the run's order): every float, count, flag and the pruning as add() one at a time, with
    # seconds, minutes and hours shared between keys, runs late to the one before and too old for
    # any window, sampled ones, and runs out of order or with a symbol named "all" (its series is the
    # venue's "all" series), which go a liquidation at a time.
    from liqtui.domain.events import Liquidation

    rnd = random.Random(seed)
    t, runs = T0, []
    for _ in range(40):
        run = []
        for _ in range(rnd.choice([1, 7, 120, 250])):
            t += int(rnd.expovariate(1 / rnd.choice([30, 400, 90_000])))
            at = t - (rnd.randrange(200_000_000) if rnd.random() < 0.02 else rnd.randrange(3_000))
            usd = rnd.choice([rnd.expovariate(1 / 30_000), 1_000.0, 0.0, 0.1 + rnd.random() * 3e6])
            symbol = rnd.choice([BTC, "ETH/USDT:USDT", "all"] if seed == 5 else [BTC, "ETH/USDT:USDT"])
            side = rnd.choice([Side.LONG, Side.SHORT])
            venue = rnd.choice(["binanceusdm", "bybit", "okx"])
            run.append(Liquidation(venue, symbol, side, 1.0, usd, usd, at, t, rnd.random() < 0.1))
        runs.append(run if seed % 3 == 0 else sorted(run, key=lambda liq: liq.time))
    one, bulk = RealizedTotals(), RealizedTotals()
    for liq in [liq for run in runs for liq in run]:
        one.add(liq.venue, liq.symbol, liq.side, liq.usd, liq.time, liq.sampled)
    each = []
    fold_each = RealizedTotals._fold_each
    monkeypatch.setattr(RealizedTotals, "_fold_each", lambda self, liqs: each.append(fold_each(self, liqs)))
    for run in runs:
        bulk.add_many(run)
    assert _state(bulk) == _state(one)
    if seed % 3 == 0:
        assert len(each) > 10  # runs out of order: one at a time
    elif seed != 5:
        assert len(each) < len(runs) / 2  # runs in order: folded at their end
