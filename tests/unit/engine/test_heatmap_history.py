"""The heatmap's history: a hand-built level history gives an exact matrix, swept clusters leave
later columns, price path and realized marks land on their cells, memory stays bounded."""

import math
import random

import pytest

from liqtui.domain.events import Liquidation, OpenInterest, Side, Ticker
from liqtui.engine import Engine
from liqtui.engine.heatmap import BUCKET_MS, DAY_MS, KEPT_MS, HeatmapHistory, Snapshot, bucket_for
from liqtui.engine.levels import LevelBook, LevelModel

BTC = "BTC/USDT:USDT"
T0 = 1_750_000_000_000 - 1_750_000_000_000 % DAY_MS  # a bucket (and day) start
B = BUCKET_MS


def one_tier_book():
    """10x only, no maintenance margin: a position opened at 10,000 liquidates at 9,000 (long) and 11,000 (short)."""
    return LevelBook(LevelModel.create({10: 1.0}, mmr=0.0))


def hand_built():
    """Bucket 0: 2,000 opened at 10,000; bucket 1: 4,000 more; bucket 2: price falls to 8,950 and
    sweeps the longs at 9,000; bucket 3 (in progress): nothing new."""
    heat, book = HeatmapHistory(lambda _price: 100.0), one_tier_book()
    heat.before_step("bybit", BTC, T0, book, 10_000.0)
    book.add(10_000.0, 2_000.0)
    heat.see_price("bybit", BTC, T0 + 10_000, 9_990.0, 10_010.0)
    heat.before_step("bybit", BTC, T0 + B + 15_000, book, 10_000.0)
    book.add(10_000.0, 4_000.0)
    heat.before_step("bybit", BTC, T0 + 2 * B, book, 10_000.0)
    heat.see_price("bybit", BTC, T0 + 2 * B + 50_000, 8_950.0, 10_000.0)
    heat.see_liquidation("bybit", BTC, T0 + 2 * B + 20_000, Side.LONG, 8_960.0, 500.0)
    book.consume(8_950.0, 10_000.0)
    heat.before_step("bybit", BTC, T0 + 3 * B, book, 10_000.0)
    return heat, book


def test_the_matrix_of_a_hand_built_history_is_exact():
    heat, book = hand_built()
    view = heat.view(BTC, T0 + 3 * B + 1, 4 * B, B, {"bybit": (book, 10_000.0)})
    assert view.grid == 100.0 and view.venues == ("bybit",)
    assert [c.time for c in view.columns] == [T0, T0 + B, T0 + 2 * B, T0 + 3 * B]
    assert [c.longs for c in view.columns] == [((90, 1_000.0),), ((90, 3_000.0),), (), ()]
    assert [c.shorts for c in view.columns] == [
        ((110, 1_000.0),),
        ((110, 3_000.0),),
        ((110, 3_000.0),),
        ((110, 3_000.0),),
    ]
    assert sorted(view.cells()) == sorted(
        [
            (T0, 9_000.0, Side.LONG, 1_000.0),
            (T0, 11_000.0, Side.SHORT, 1_000.0),
            (T0 + B, 9_000.0, Side.LONG, 3_000.0),
            (T0 + B, 11_000.0, Side.SHORT, 3_000.0),
            (T0 + 2 * B, 11_000.0, Side.SHORT, 3_000.0),
            (T0 + 3 * B, 11_000.0, Side.SHORT, 3_000.0),
        ]
    )


def test_the_price_path_and_realized_marks_land_on_their_columns_and_rows():
    heat, book = hand_built()
    cols = heat.view(BTC, T0 + 3 * B + 1, 4 * B, B, {"bybit": (book, 10_000.0)}).columns
    assert [(c.low, c.high) for c in cols] == [
        (9_990.0, 10_010.0),
        (None, None),
        (8_950.0, 10_000.0),
        (None, None),
    ]
    assert [c.realized for c in cols] == [(), (), ((89, Side.LONG, 500.0),), ()]


def test_wider_columns_take_the_book_at_their_end_the_whole_price_range_and_every_fill():
    heat, book = hand_built()
    cols = heat.view(BTC, T0 + 3 * B + 1, 4 * B, 2 * B, {"bybit": (book, 10_000.0)}).columns
    assert [c.time for c in cols] == [T0, T0 + 2 * B]
    assert cols[0].longs == ((90, 3_000.0),) and cols[1].longs == ()
    assert (cols[0].low, cols[0].high) == (9_990.0, 10_010.0)
    assert cols[1].realized == ((89, Side.LONG, 500.0),)


def test_before_any_book_a_column_is_unknown_not_zero():
    heat, book = hand_built()
    cols = heat.view(BTC, T0 + 1, 3 * B, B, {"bybit": (book, 10_000.0)}).columns
    assert cols[0].longs is None and cols[1].longs is None
    assert cols[2].longs == ((90, 1_000.0),)


def test_venues_are_summed_and_can_be_chosen():
    heat, book = hand_built()
    other = one_tier_book()
    heat.before_step("okx", BTC, T0 + 3 * B, other, 10_000.0)
    other.add(10_000.0, 10_000.0)
    books = {"bybit": (book, 10_000.0), "okx": (other, 10_000.0)}
    both = heat.view(BTC, T0 + 3 * B + 1, B, B, books)
    assert both.venues == ("bybit", "okx")
    assert both.columns[0].shorts == ((110, 8_000.0),) and both.columns[0].longs == ((90, 5_000.0),)
    only = heat.view(BTC, T0 + 3 * B + 1, B, B, books, venues=["okx"])
    assert only.venues == ("okx",) and only.columns[0].shorts == ((110, 5_000.0),)


def test_a_view_is_the_same_object_until_something_it_shows_changes():
    heat, book = hand_built()
    books = {"bybit": (book, 10_000.0)}
    first = heat.view(BTC, T0 + 3 * B + 1, 4 * B, B, books)
    assert heat.view(BTC, T0 + 3 * B + 2, 4 * B, B, books) is first
    heat.see_price("bybit", BTC, T0 + 3 * B + 5, 8_990.0, 9_010.0)
    second = heat.view(BTC, T0 + 3 * B + 2, 4 * B, B, books)
    assert second is not first and (second.columns[-1].low, second.columns[-1].high) == (8_990.0, 9_010.0)
    assert all(
        a is b for a, b in zip(first.columns[:-1], second.columns[:-1], strict=True)
    )  # not summed again
    book.add(10_000.0, 1_000.0)  # the book in progress changed: the live column reads it
    third = heat.view(BTC, T0 + 3 * B + 2, 4 * B, B, books)
    assert third.columns[-1].longs == ((90, 500.0),) and third.columns[2].longs == ()


def test_a_view_with_a_budget_is_summed_over_several_calls_and_equals_one_summed_at_once():
    heat, book = hand_built()
    books = {"bybit": (book, 10_000.0)}
    whole = HeatmapHistory(lambda _price: 100.0)
    assert heat.view(BTC, T0 + 3 * B + 1, 4 * B, B, books, budget=1) is None  # one column of four
    heat.see_price("bybit", BTC, T0 + 5, 9_000.0, 10_020.0)  # a summed column changes meanwhile
    assert heat.view(BTC, T0 + 3 * B + 1, 4 * B, B, books, budget=2) is None
    readied = heat.view(BTC, T0 + 3 * B + 1, 4 * B, B, books, budget=2)
    assert readied is not None
    assert heat.view(BTC, T0 + 3 * B + 1, 4 * B, B, books) is readied  # the key finds it ready
    heat._views.clear()
    assert heat.view(BTC, T0 + 3 * B + 1, 4 * B, B, books).columns == readied.columns
    assert readied.columns[0].low == 9_000.0 and readied.columns[0].high == 10_020.0
    assert whole.view(BTC, T0, 4 * B, B, {}, budget=1) is None  # no price yet: no grid, no view


def test_the_engine_feeds_the_history_and_a_swept_cluster_leaves_later_columns():
    e = Engine()
    for k, (base, price) in enumerate(
        [(1_000.0, 100.0), (1_100.0, 100.0), (1_100.0, 100.0), (1_100.0, 100.0)]
    ):
        t = T0 + k * B + 1_000
        if k == 2:
            e.apply(Ticker("bybit", BTC, t - 500, last=97.0))  # below the 100x and 50x longs (98.6, 97.6)
            e.apply(Liquidation("bybit", BTC, Side.LONG, 98.0, 10.0, 980.0, t - 400, t - 400))
        e.apply(Ticker("bybit", BTC, t - 100, last=price))
        e.apply(OpenInterest("bybit", BTC, base, base * price, t))
    view = e.heatmap(BTC, T0 + 3 * B + 2_000, 4 * B, B)
    grid = view.grid
    before, after = dict(view.columns[1].longs), dict(view.columns[2].longs)
    high_rows = [i for i in before if i * grid > 97.0]  # the 100x and 50x levels' rows
    assert high_rows and all(i not in after for i in high_rows)
    assert all(after[i] == before[i] for i in before if i * grid < 96.0)  # lower tiers untouched
    assert view.columns[0].longs is None  # before the model's first step: unknown, not zero
    (mark,) = view.columns[2].realized
    assert mark == (math.floor(98.0 / grid), Side.LONG, 980.0)
    assert view.columns[2].low == 97.0


def test_prices_and_snapshots_stay_bounded_over_forty_days():
    heat, book = HeatmapHistory(lambda _p: 10.0), one_tier_book()
    rng = random.Random(1)
    for k in range(40 * DAY_MS // B):
        t = T0 + k * B
        price = 10_000.0 + rng.uniform(-300, 300)
        heat.see_price("okx", BTC, t, price - 5, price + 5)
        heat.before_step("okx", BTC, t, book, price)
        book.add(price, 1_000.0)
    track = heat._tracks[BTC]["okx"]
    assert len(track.prices.lows) <= KEPT_MS // B + 288
    # 1 day of 5-minute snapshots, 2 more of half-hourly, 4 of hourly, the rest 4-hourly: about 630
    assert 600 < len(track.snapshots) < 660
    assert track.snapshots[0].bucket >= T0 + 40 * DAY_MS - KEPT_MS - 4 * 3_600_000 - B


def test_thinning_keeps_the_same_snapshots_whether_it_ran_all_along_or_once():
    heat, book = HeatmapHistory(lambda _p: 10.0), one_tier_book()
    heat.recording = True
    for k in range(9 * DAY_MS // B):
        heat.before_step("okx", BTC, T0 + k * B, book, 10_000.0)
        book.add(10_000.0 + k % 50, 1_000.0)
    committed = heat.take_committed()
    live = heat._tracks[BTC]["okx"]
    replayed = HeatmapHistory(lambda _p: 10.0)  # a warm-up loads the recorded buckets in order
    for bucket in committed:
        replayed.load(bucket)
    assert replayed._tracks[BTC]["okx"].snapshots == live.snapshots
    shuffled = HeatmapHistory(lambda _p: 10.0)  # or in any order, thinned once at the end
    for bucket in random.Random(3).sample(committed, len(committed)):
        shuffled.load(bucket)
    for track in (live, shuffled._tracks[BTC]["okx"]):
        track._thin(committed[-1].bucket)
    assert shuffled._tracks[BTC]["okx"].snapshots == live.snapshots


def test_bucket_for_fits_the_columns_with_whole_buckets():
    assert bucket_for(DAY_MS // 2, 150) == B
    assert bucket_for(DAY_MS, 150) == 2 * B
    assert bucket_for(30 * DAY_MS, 150) == 58 * B


def test_a_snapshot_keeps_rows_near_the_price_only():
    book = one_tier_book()
    book.add(10_000.0, 2_000.0)  # levels at 9,000 and 11,000
    assert Snapshot.of_book(0, book, 100.0, 10_000.0).longs.first == 90
    far = Snapshot.of_book(0, book, 100.0, 20_000.0)
    assert list(far.longs.items()) == [] and list(far.shorts.items()) == []


def _nine_days(coarsening=None):
    """9 days of a book that gains levels at varied prices every 5 minutes (price near 10,000)."""
    import liqtui.engine.heatmap as heatmap

    saved = heatmap.COARSENING
    if coarsening is not None:
        heatmap.COARSENING = coarsening
    try:
        heat, book = HeatmapHistory(lambda _p: 10.0), one_tier_book()
        rng = random.Random(3)
        for k in range(9 * DAY_MS // B):
            t = T0 + k * B
            price = 10_000.0 + rng.uniform(-200, 200)
            heat.see_price("okx", BTC, t, price - 5, price + 5)
            heat.before_step("okx", BTC, t, book, price)
            book.add(price + rng.uniform(-300, 300), rng.uniform(100.0, 5_000.0))
    finally:
        heatmap.COARSENING = saved
    return heat, book, T0 + 9 * DAY_MS - B + 1


def test_old_snapshots_merge_rows_and_a_short_range_stays_exact_and_a_long_one_keeps_its_usd():
    coarse, coarse_book, now = _nine_days()
    exact, exact_book, _now = _nine_days(coarsening=())
    snaps = coarse._tracks[BTC]["okx"].snapshots
    widths = {s.bucket: s.longs.width for s in snaps}
    assert {w for b, w in widths.items() if now - b < 4 * DAY_MS - B} == {1}  # younger than 4 days: exact
    assert {w for b, w in widths.items() if now - b > 7 * DAY_MS + B} == {4}  # older than 7 days: 4 rows to 1
    assert 2 in widths.values()
    rows = sum(len(s.longs.usd) + len(s.shorts.usd) for s in snaps)
    rows_exact = sum(len(s.longs.usd) + len(s.shorts.usd) for s in exact._tracks[BTC]["okx"].snapshots)
    assert rows < 0.95 * rows_exact  # fewer rows kept (9 days: 5 of them coarse, thinned hourly or more)
    for range_ms in (DAY_MS // 2, DAY_MS, 3 * DAY_MS):  # 12h, 24h, 3d: the same matrix, to the float
        width = bucket_for(range_ms, 150)
        a = coarse.view(BTC, now, range_ms, width, {"okx": (coarse_book, 10_000.0)})
        b = exact.view(BTC, now, range_ms, width, {"okx": (exact_book, 10_000.0)})
        assert a.columns == b.columns
    width = bucket_for(KEPT_MS, 150)
    a = coarse.view(BTC, now, KEPT_MS, width, {"okx": (coarse_book, 10_000.0)})
    b = exact.view(BTC, now, KEPT_MS, width, {"okx": (exact_book, 10_000.0)})
    assert a.columns != b.columns  # rows merged in the old columns...
    for ca, cb in zip(a.columns, b.columns, strict=True):
        for side in ("longs", "shorts"):
            ra, rb = getattr(ca, side), getattr(cb, side)
            assert (ra is None) == (rb is None)
            if ra is not None:  # ... with the same USD, within 4 rows of where it stood
                assert sum(u for _i, u in ra) == pytest.approx(sum(u for _i, u in rb), rel=1e-6)
                if rb:
                    assert abs(min(i for i, _u in ra) - min(i for i, _u in rb)) <= 4


def test_merging_by_pairs_gives_the_same_floats_whether_done_at_once_or_in_two_passes():
    from array import array

    from liqtui.engine.heatmap import Run

    run = Run.of_array(1_001, array("f", [0.1 * k + 1 for k in range(37)]))
    twice = run.coarser().coarser()
    assert twice.width == 4 and twice.first % 4 == 0
    assert sum(twice.usd) == pytest.approx(sum(run.usd), rel=1e-6)
    assert [i % 4 for i, _u in twice.items()] == [2] * len(twice.usd)  # read at each cell's middle row
    assert twice.first <= run.first and twice.first + 4 * len(twice.usd) >= run.first + len(run.usd)


def test_the_measured_view_says_since_when_and_its_earlier_columns_are_unknown_not_zero():
    from liqtui.domain.events import PositionSnapshot

    def position(t, liq, size=1.0):
        return PositionSnapshot(
            "hyperliquid", BTC, "0xabc", Side.LONG, size, size * 100.0, 100.0, liq, 10.0, "cross", t
        )

    e = Engine()
    e.apply(Ticker("hyperliquid", BTC, T0, last=100.0))
    e.apply(OpenInterest("hyperliquid", BTC, 1_000.0, 100_000.0, T0 + 1))
    e.apply(position(T0 + 2 * B + 10, 90.0))  # first seen in bucket 2
    e.apply(position(T0 + 3 * B + 10, 92.0))  # bucket 2 closes with the level at 90
    view = e.heatmap(BTC, T0 + 3 * B + 20, 4 * B, B, measured=True)
    assert view.measured and view.since == T0 + 2 * B
    assert view.columns[0].longs is None and view.columns[1].longs is None  # before any: unknown
    ((row, usd),) = view.columns[2].longs
    assert row == math.floor(90.0 / view.grid) and usd == 100.0
    ((row, _usd),) = view.columns[3].longs  # the bucket in progress reads the positions now
    assert row == math.floor(92.0 / view.grid)
    assert e.heatmap(BTC, T0 + 3 * B + 20, 4 * B, B).since is None  # the estimate's view


def test_a_recorded_bucket_stands_as_recorded_whichever_side_of_its_closing_step_it_is_read():
    """A warm-up's book differs from the recording desk's (here 5,000 opened, not 2,000): the recorded
    buckets stand, the second one recorded as unchanged (the first one's levels), whether each is
    read before the OI step that closed it (the reader's order: no snapshot is taken) or after."""
    from liqtui.domain.events import HeatmapBucket

    recorded = [
        HeatmapBucket("bybit", BTC, T0 + B + 1_000, T0, 100.0, (90, (1_000.0,)), (110, (1_000.0,)), 1.0, 2.0),
        HeatmapBucket("bybit", BTC, T0 + 2 * B + 1_000, T0 + B, 100.0, None, None, 1.0, 2.0),
    ]
    views = []
    for ahead in (True, False):
        heat, book = HeatmapHistory(lambda _price: 100.0), one_tier_book()
        heat.before_step("bybit", BTC, T0 + 1_000, book, 10_000.0)
        book.add(10_000.0, 5_000.0)
        for k, bucket in enumerate(recorded, start=1):
            if ahead:
                heat.load(bucket)
            heat.before_step("bybit", BTC, T0 + k * B + 1_000, book, 10_000.0)
            if not ahead:
                heat.load(bucket)
            book.add(10_000.0, 1_000.0 * k)
        heat.before_step("bybit", BTC, T0 + 3 * B + 1_000, book, 10_000.0)
        views.append(heat.view(BTC, T0 + 3 * B + 2_000, 4 * B, B, {"bybit": (book, 10_000.0)}))
    assert views[0].columns == views[1].columns
    # recorded, recorded as unchanged, then the warm-up's own book (8,000 opened, half of it long)
    assert [c.longs for c in views[0].columns][:3] == [((90, 1_000.0),), ((90, 1_000.0),), ((90, 4_000.0),)]


def _thin_every_snapshot(track, newest):
    """The thinning rule judged snapshot by snapshot over the whole history (the slow reference)."""
    from liqtui.engine.heatmap import COARSENING, _coarsened, _period

    snaps, kept, dropped = track.snapshots, [], newest
    for s, nxt in zip(snaps, snaps[1:], strict=False):
        age = newest - s.bucket
        period = _period(age)
        if (age >= KEPT_MS and nxt.bucket <= newest - KEPT_MS) or s.bucket // period == nxt.bucket // period:
            dropped = min(dropped, s.bucket)
            continue
        coarse = _coarsened(s, max((w for since, w in COARSENING if age >= since), default=1))
        dropped = dropped if coarse is s else min(dropped, s.bucket)
        kept.append(coarse)
    kept.append(snaps[-1])
    if dropped < newest:
        track.snapshots, track.buckets = kept, [s.bucket for s in kept]
    for bucket in [b for b in track.realized if b < newest - KEPT_MS]:
        del track.realized[bucket]
    return dropped


def test_thinning_by_runs_of_ages_keeps_what_judging_every_snapshot_keeps(monkeypatch):
    """32 days of buckets with gaps, older buckets loaded again out of order and buckets dropped
    (recorded as unchanged): the same snapshots, coarsened alike, and the same changed buckets."""
    from array import array

    from liqtui.engine.heatmap import Run, _Track

    results = []
    for thin in (_Track._thin, _thin_every_snapshot):
        monkeypatch.setattr(_Track, "_thin", thin)
        rng, track, said = random.Random(5), _Track(), []
        for k in range(32 * DAY_MS // B):
            if rng.random() < 0.1:
                continue  # no step in this bucket
            back = rng.randint(1, k) if k and rng.random() < 0.02 else 0
            bucket = T0 + (k - back) * B
            usd = array("f", [rng.uniform(1.0, 1_000.0)] * rng.randint(1, 6))
            first = rng.randint(900, 1_100)
            track.realized[bucket] = {(first, Side.LONG): 1.0}
            said.append(track.add(Snapshot(bucket, Run(first, usd), Run(first + 50, usd))))
            if rng.random() < 0.01:
                said.append(track.drop(bucket))
        results.append((track.snapshots, track.buckets, sorted(track.realized), said))
    assert results[0] == results[1]
    assert any(s.longs.width == 4 for s in results[0][0])  # old snapshots were coarsened


def test_steps_whose_buckets_were_recorded_keep_no_rows_until_a_bucket_is_computed():
    # A warm-up's or a replay's OI steps meet their buckets recorded (read before the step that closed
    # them): no snapshot is taken for them, so the book keeps no row sums over them (a third of a
    # backfill's OI steps' CPU went to keeping them). The first bucket computed again tracks them, and
    # the history is the live desk's.
    steps = [(T0 + k * B + 1_000, 10_000.0 + 10 * (k % 7), 1_000.0 * (1 + k % 3)) for k in range(40)]
    live, book = HeatmapHistory(lambda _p: 10.0), one_tier_book()
    live.recording = True
    for t, price, usd in steps:
        live.before_step("okx", BTC, t, book, price)
        book.add(price, usd)
    recorded = {bucket.time: bucket for bucket in live.take_committed()}
    replayed, again = HeatmapHistory(lambda _p: 10.0), one_tier_book()
    for k, (t, price, usd) in enumerate(steps):
        if k < 30 and t in recorded:  # the file's buckets end at the 30th step
            replayed.load(recorded[t])
        replayed.before_step("okx", BTC, t, again, price)
        if k < 30:
            assert again.tracked_grids() == ()
        again.add(price, usd)
    assert again.tracked_grids() == (10.0,)
    assert replayed._tracks[BTC]["okx"].snapshots == live._tracks[BTC]["okx"].snapshots
