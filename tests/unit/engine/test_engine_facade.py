"""The Engine facade: events in, SymbolView out; level model fed live, determinism, bounded tape."""

import dataclasses
import random

import pytest

from liqtui.config import LevelSettings
from liqtui.domain.events import (
    BookSnapshot,
    FeedState,
    FeedStatus,
    Liquidation,
    OpenInterest,
    PriceBar,
    Side,
    Ticker,
)
from liqtui.engine import Engine, auto_grid
from liqtui.engine.projection import Projection
from liqtui.engine.state import SWEEP_MATCH_TOLERANCE
from liqtui.engine.views import SymbolView

from .reference import ReferenceBook

BTC = "BTC/USDT:USDT"
T0 = 1_750_000_000_000


def oi(venue, base, price, t, symbol=BTC):
    return OpenInterest(venue, symbol, base, base * price, t)


def tick(venue, price, t, symbol=BTC, **kw):
    return Ticker(venue, symbol, t, last=price, **kw)


def test_an_oi_rise_places_levels_and_a_later_drop_in_price_sweeps_them():
    e = Engine()
    e.apply(tick("bybit", 100.0, T0))
    e.apply(oi("bybit", 1000.0, 100.0, T0))  # baseline: no step yet
    assert e.at_risk(BTC, 100.0, 50.0) == 0.0
    e.apply(oi("bybit", 1010.0, 100.0, T0 + 15_000))  # +10 coins at 100: 1,000 USD
    assert e.at_risk(BTC, 100.0, 50.0) == pytest.approx(500.0)
    assert e.at_risk(BTC, 100.0, 200.0) == pytest.approx(500.0)
    # Price dips to 96 between two samples, then recovers: the dip is the step's low.
    e.apply(tick("bybit", 96.0, T0 + 20_000))
    e.apply(tick("bybit", 100.0, T0 + 25_000))
    e.apply(Liquidation("bybit", BTC, Side.LONG, 97.0, 1.0, 97.0, T0 + 21_000, T0 + 21_000))
    e.apply(oi("bybit", 1010.0, 100.0, T0 + 30_000))
    ref = ReferenceBook()
    ref.step(100.0, 100.0, 100.0, 10.0)
    ref.step(96.0, 100.0, 100.0, 0.0)
    assert e.at_risk(BTC, 100.0, 50.0) == pytest.approx(ref.at_risk(100.0, 50.0))
    view = e.view(BTC, T0 + 30_000)
    (sweep,) = view.levels.sweeps
    assert sweep.side is Side.LONG and sweep.venue == "bybit"
    assert sweep.estimated_usd == pytest.approx(500.0 * (0.10 + 0.20 + 0.25))  # 100x 50x 25x
    assert sweep.realized_usd == pytest.approx(97.0)  # the tape's fill inside the swept range
    swept_rows = sum(r.swept_long_usd for r in view.levels.rows)
    assert swept_rows == pytest.approx(sweep.estimated_usd)


def test_a_late_fill_reaches_a_sweep_of_a_long_step_behind_later_short_ones():
    # A long step (an hour without OI) gives a sweep whose window reaches an hour past it; later
    # 15 s steps sweep again with short windows. A fill printed inside the long window, arriving
    # after them, still belongs to the first sweep.
    e = Engine()
    t1 = T0 + 15_000
    e.apply(tick("bybit", 100.0, T0))
    e.apply(oi("bybit", 1000.0, 100.0, T0))
    e.apply(oi("bybit", 1010.0, 100.0, t1))  # levels on both sides
    e.apply(tick("bybit", 96.0, t1 + 1_000_000))
    e.apply(tick("bybit", 100.0, t1 + 2_000_000))
    e.apply(oi("bybit", 1010.0, 100.0, t1 + 3_600_000))  # the long step sweeps longs
    e.apply(tick("bybit", 104.5, t1 + 3_605_000))
    e.apply(oi("bybit", 1010.0, 104.0, t1 + 3_615_000))  # a 15 s step sweeps shorts
    for k in range(1, 20):  # quiet 15 s steps
        e.apply(oi("bybit", 1010.0, 104.0, t1 + 3_615_000 + k * 15_000))
    e.apply(Liquidation("bybit", BTC, Side.LONG, 97.0, 1.0, 97.0, t1 + 3_600_000 + 1_800_000, t1 + 5_500_000))
    sweeps = e.view(BTC, t1 + 6_000_000).levels.sweeps
    longs = [s for s in sweeps if s.side is Side.LONG]
    assert {s.side for s in sweeps} == {Side.LONG, Side.SHORT}
    assert len(longs) == 1 and longs[0].realized_usd == pytest.approx(97.0)


@pytest.mark.parametrize("seed", range(4))
def test_a_run_s_fills_reach_every_sweep_as_one_liquidation_at_a_time(seed):
    # apply_liquidations matches a run to the sweeps a sweep at a time over the run: every sweep's
    # realized USD, fills by price (their order too) and count as a liquidation at a time over the
    # sweeps (as apply() matched them before), with sweeps of
    # long and short windows overlapping, both sides, a run out of time order, fills outside every
    # window and at the price bounds' edges.
    def engine():
        rnd = random.Random(seed)  # the same sweeps in both
        e = Engine()
        t = T0
        e.apply(tick("bybit", 100.0, t))
        e.apply(oi("bybit", 1000.0, 100.0, t))
        for k in range(1, 12):  # OI rises (levels both sides), the price swings: sweeps of both sides
            t += rnd.choice([15_000, 60_000, 600_000])
            e.apply(tick("bybit", 100.0 * (1 + rnd.uniform(-0.06, 0.06)), t - 5_000))
            e.apply(oi("bybit", 1000.0 + 10 * k, 100.0, t))
        return e, t

    one, end = engine()
    bulk, _ = engine()
    rnd = random.Random(seed)
    state = bulk.state.models[("bybit", BTC)]
    assert len(state.sweeps) >= 3
    runs = []
    for _ in range(30):
        run = []
        for _ in range(rnd.choice([1, 5, 60])):
            sweep = rnd.choice(state.sweeps)  # near one: inside and just outside its window and prices
            reach = sweep.window_end - sweep.time + 2_000
            at = sweep.time + rnd.randrange(-reach, reach)
            bound = rnd.choice([sweep.price_low, sweep.price_high, (sweep.price_low + sweep.price_high) / 2])
            edge = rnd.choice([0.0, 1.0, -1.0, 1.5, -1.5, 2.5, -2.5]) * SWEEP_MATCH_TOLERANCE
            price = bound * (1.0 + edge)
            side = sweep.side if rnd.random() < 0.7 else rnd.choice([Side.LONG, Side.SHORT])
            usd = rnd.choice([0.1, 1.0, rnd.expovariate(1 / 5_000)])
            run.append(Liquidation("bybit", BTC, side, price, usd / price, usd, at, end))
        runs.append(run if rnd.random() < 0.5 else sorted(run, key=lambda liq: liq.time))
    kept = one.state.models[("bybit", BTC)]
    for run in runs:
        for liq in run:  # the sweeps a liquidation at a time, newest first, as apply() matched them
            for sweep in reversed(kept.sweeps):
                if sweep.time < liq.time - kept.longest_span:
                    break
                if sweep.matches(liq.side, liq.price, liq.time):
                    sweep.add_fill(liq.price, liq.usd)
        bulk.apply_liquidations(run)

    def fills(e):
        return [
            (s.time, s.side, s.realized_usd, list(s.fills.items()), s.fill_count)
            for s in e.state.models[("bybit", BTC)].sweeps
        ]

    assert fills(bulk) == fills(one)
    assert sum(count for *_, count in fills(one)) > 300


def test_price_bars_feed_the_step_range():
    e = Engine()
    e.apply(oi("okx", 1000.0, 100.0, T0))
    e.apply(oi("okx", 1010.0, 100.0, T0 + 300_000))
    e.apply(PriceBar("okx", BTC, T0 + 300_000, 100.0, 104.0, 99.0, 103.0))
    e.apply(oi("okx", 1010.0, 103.0, T0 + 600_000))
    ref = ReferenceBook()
    ref.step(100.0, 100.0, 100.0, 10.0)
    ref.step(99.0, 104.0, 103.0, 0.0)
    for target in (90.0, 98.0, 110.0, 130.0):
        assert e.at_risk(BTC, 103.0, target) == pytest.approx(ref.at_risk(103.0, target))


def test_history_older_than_the_model_is_used_for_the_lookback_only():
    e = Engine()
    e.apply(oi("binanceusdm", 1000.0, 100.0, T0))
    e.apply(oi("binanceusdm", 1010.0, 100.0, T0 + 15_000))
    before = e.at_risk(BTC, 100.0, 50.0)
    e.apply(oi("binanceusdm", 900.0, 100.0, T0 - 86_400_000))  # late history: a lower OI a day ago
    e.apply(PriceBar("binanceusdm", BTC, T0 - 86_400_000, 100.0, 100.0, 10.0, 100.0))  # old bar: no sweep
    e.apply(oi("binanceusdm", 1010.0, 100.0, T0 + 30_000))
    assert e.at_risk(BTC, 100.0, 50.0) == pytest.approx(before)
    (row, total) = e.view(BTC, T0 + 30_000).oi
    assert row.low == 900.0 and row.base == 1010.0
    assert total.venue == "all" and total.usd == pytest.approx(1010.0 * 100.0)


def test_levels_sum_across_venues_and_venue_max_leverage_caps_tiers():
    e = Engine(LevelSettings())
    e.set_venue_limits("hyperliquid", max_leverage=40)
    for venue in ("bybit", "hyperliquid"):
        e.apply(oi(venue, 1000.0, 100.0, T0))
        e.apply(oi(venue, 1010.0, 100.0, T0 + 15_000))
    view = e.view(BTC, T0 + 15_000, grid=1.0)
    assert view.levels.venues == ("bybit", "hyperliquid")
    assert sum(r.long_usd for r in view.levels.rows) == pytest.approx(1000.0)
    # hyperliquid has no 50x/100x tiers: nothing of it lies within 1 % of the price
    capped = ReferenceBook(weights={5: 0.15, 10: 0.30, 25: 0.25})
    capped.step(100.0, 100.0, 100.0, 10.0)
    full = ReferenceBook()
    full.step(100.0, 100.0, 100.0, 10.0)
    for target in (99.0, 97.0, 85.0):
        assert e.at_risk(BTC, 100.0, target) == pytest.approx(
            full.at_risk(100.0, target) + capped.at_risk(100.0, target)
        )
    assert e.at_risk(BTC, 100.0, 97.0, venues=["hyperliquid"]) == pytest.approx(capped.at_risk(100.0, 97.0))


def test_clusters_and_imbalance():
    e = Engine(LevelSettings(leverage_weights={"10": 1.0}, maintenance_margin=0.0, long_share=0.75))
    e.apply(tick("bybit", 100.0, T0))
    e.apply(oi("bybit", 0.0, 100.0, T0))
    e.apply(oi("bybit", 10.0, 100.0, T0 + 1))  # 750 long at 90, 250 short at 110
    view = e.view(BTC, T0 + 1, grid=1.0)
    lv = view.levels
    assert lv.max_pain_long.price == 90.0 and lv.max_pain_long.usd == pytest.approx(750.0)
    assert lv.max_pain_short.price == 110.0 and lv.max_pain_short.distance_pct == pytest.approx(10.0)
    assert lv.nearest_long.distance_pct == pytest.approx(-10.0)
    assert lv.imbalance[2.0] is None and lv.imbalance[5.0] is None
    assert lv.imbalance[10.0] == pytest.approx((250.0 - 750.0) / 1000.0)


def test_market_volume_share_and_oi_weighted_funding():
    e = Engine()
    e.apply(
        tick(
            "binanceusdm",
            100.0,
            T0,
            funding_rate=0.0001,
            volume_24h_usd=3e9,
            change_24h_pct=-9.0,
            next_funding_time=T0 + 3_600_000,
        )
    )
    e.apply(
        tick("bybit", 101.0, T0, funding_rate=0.0004, volume_24h_usd=1e9, next_funding_time=T0 + 7_200_000)
    )
    e.apply(oi("binanceusdm", 300.0, 100.0, T0))  # 30,000 USD
    e.apply(oi("bybit", 100.0, 100.0, T0))  # 10,000 USD
    m = e.view(BTC, T0).market
    assert m.last == 100.0 and m.change_24h_pct == -9.0  # the venue with the most volume leads
    assert {v.venue: v.volume_share for v in m.venues} == {"binanceusdm": 0.75, "bybit": 0.25}
    assert m.funding_rate_oi_weighted == pytest.approx((0.0001 * 30_000 + 0.0004 * 10_000) / 40_000)
    assert m.total_oi_usd == pytest.approx(40_000.0)
    assert m.next_funding_time == T0 + 3_600_000


def test_book_rows_sum_every_venue_and_bids_round_down_asks_up():
    e = Engine()
    e.apply(BookSnapshot("bybit", BTC, ((100.4, 1.0), (99.6, 2.0)), ((100.6, 1.0),), T0))
    e.apply(BookSnapshot("okx", BTC, ((100.1, 0.5),), ((100.9, 3.0), (101.2, 1.0)), T0))
    book = e.view(BTC, T0, grid=1.0).book
    assert book.bids == ((100.0, 1.5), (99.0, 2.0))
    assert book.asks == ((101.0, 4.0), (102.0, 1.0))
    assert book.venues == ("bybit", "okx")


def test_tape_is_newest_first_and_bounded_and_feeds_keep_the_latest():
    e = Engine(tape_size=5)
    for i in range(8):
        e.apply(Liquidation("bybit", BTC, Side.SHORT, 100.0, 1.0, 100.0 + i, T0 + i, T0 + i))
    e.apply(FeedStatus("bybit", FeedState.CONNECTING, T0, kind="liquidations"))
    e.apply(FeedStatus("bybit", FeedState.LIVE, T0 + 5, kind="liquidations"))
    e.apply(FeedStatus("bybit", FeedState.LIVE, T0 + 6, kind="oi"))
    view = e.view(BTC, T0 + 10)
    assert [liq.usd for liq in view.tape] == [107.0, 106.0, 105.0, 104.0, 103.0]
    assert [(f.kind, f.state) for f in view.feeds] == [
        ("liquidations", FeedState.LIVE),
        ("oi", FeedState.LIVE),
    ]
    assert view.realized.total_short.count == 8
    assert view.realized.total_short.usd == pytest.approx(sum(100.0 + i for i in range(8)))


def test_cross_assets_and_symbols():
    e = Engine()
    e.apply(tick("bybit", 100.0, T0, change_24h_pct=-9.0))
    e.apply(tick("bybit", 2000.0, T0, symbol="XAU/USDT:USDT", change_24h_pct=-8.0))
    view = e.view(BTC, T0, cross_assets=("XAU/USDT:USDT", "NOPE/USDT:USDT"))
    assert [(c.symbol, c.last, c.change_24h_pct) for c in view.cross] == [
        ("XAU/USDT:USDT", 2000.0, -8.0),
        ("NOPE/USDT:USDT", None, None),
    ]
    assert e.symbols() == [BTC, "XAU/USDT:USDT"]


def test_an_empty_engine_gives_an_empty_view():
    view = Engine().view(BTC, T0)
    assert isinstance(view, SymbolView)
    assert view.levels.rows == () and view.market.last is None and view.oi[-1].venue == "all"


@pytest.mark.parametrize(
    "price,grid", [(90_000.0, 50.0), (3_000.0, 2.0), (150.0, 0.1), (0.5, 0.0005), (2.0, 0.001)]
)
def test_auto_grid(price, grid):
    assert auto_grid(price) == grid


def random_events(seed, n=3000):
    rnd = random.Random(seed)
    price, base = {"bybit": 100.0, "okx": 100.0}, {"bybit": 1000.0, "okx": 500.0}
    events = []
    for i in range(n):
        t = T0 + i * 1000
        venue = rnd.choice(["bybit", "okx"])
        kind = rnd.random()
        if kind < 0.5:
            price[venue] *= 1 + rnd.gauss(0, 0.002)
            events.append(tick(venue, price[venue], t, volume_24h_usd=1e6))
        elif kind < 0.7:
            base[venue] = max(0.0, base[venue] + rnd.gauss(0.5, 5))
            events.append(oi(venue, base[venue], price[venue], t))
        elif kind < 0.95:
            side = rnd.choice([Side.LONG, Side.SHORT])
            events.append(Liquidation(venue, BTC, side, price[venue], 1.0, price[venue], t, t))
        else:
            events.append(
                BookSnapshot(venue, BTC, ((price[venue] - 0.05, 1.0),), ((price[venue] + 0.05, 1.0),), t)
            )
    return events


def test_the_engine_is_a_deterministic_function_of_the_events():
    events = random_events(7)
    views = []
    for _ in range(2):
        e = Engine()
        snapshots = []
        for i, event in enumerate(events):
            e.apply(event)
            if i % 500 == 499:
                snapshots.append(e.view(BTC, event.time if hasattr(event, "time") else T0))
        views.append(snapshots)
    assert views[0] == views[1]
    assert views[0][-1].levels.rows  # the comparison compared something


def test_level_rows_match_the_books_whatever_the_grid():
    e = Engine()
    for event in random_events(3):
        e.apply(event)
    now = T0 + 3_000_000
    price = e.view(BTC, now).market.last
    for grid in (None, 0.01, 0.5):
        lv = e.view(BTC, now, grid=grid).levels
        assert sum(r.long_usd for r in lv.rows) == pytest.approx(e.at_risk(BTC, 1e12, 1e-9), rel=1e-9)
        assert sum(r.short_usd for r in lv.rows) == pytest.approx(e.at_risk(BTC, 1e-9, 1e12), rel=1e-9)
        below = sum(r.long_usd for r in lv.rows if r.price + lv.grid <= price)  # rows wholly below
        assert below <= e.at_risk(BTC, price, 1e-9) * (1 + 1e-9)
    view = e.view(BTC, now)
    assert view.levels.grid == auto_grid(price)
    assert dataclasses.replace(view, now=0) != view  # views are plain comparable values


def test_views_in_between_change_nothing():
    # Reading never writes: an engine read every 500 events ends where one never read does (the
    # automatic step follows the price until a reader fixes it; no rows start being kept).
    events = random_events(7)
    read, unread = Engine(), Engine()
    for i, event in enumerate(events):
        read.apply(event)
        unread.apply(event)
        if i % 500 == 499:
            read.view(BTC, event.time, grid=0.5 if i % 1000 == 999 else None)
    now = events[-1].time
    assert read.view(BTC, now) == unread.view(BTC, now)
    assert read.view(BTC, now, grid=0.5) == unread.view(BTC, now, grid=0.5)


def test_a_view_read_often_equals_one_built_without_the_kept_rows():
    # The level table keeps its books' rows between views and builds again only the rows the shown
    # sweeps crossed: each view equals one from a projection that kept nothing.
    e = Engine()
    e.track_rows(BTC, 0.5)
    compared = swept = 0
    for i, event in enumerate(random_events(11)):
        e.apply(event)
        if i % 40 == 39:
            for grid in (None, 0.5):
                kept = e.view(BTC, event.time, grid=grid).levels
                fresh = Projection(e.state).view(BTC, event.time, "1h", kept.grid, ()).levels
                assert kept == fresh
                compared += 1
                swept += any(r.swept_long_usd or r.swept_short_usd for r in kept.rows)
    assert compared and swept  # views with sweeps were compared


def test_rows_kept_by_track_rows_equal_rows_summed_at_the_view():
    events = random_events(5)
    tracked, summed = Engine(), Engine()
    for i, event in enumerate(events):
        tracked.apply(event)
        summed.apply(event)
        if i == 100:
            step = tracked.track_rows(BTC)  # the automatic step, fixed from here on
            assert tracked.track_rows(BTC, 0.5) == 0.5
    now = events[-1].time
    for grid in (step, 0.5):
        kept, fresh = (
            tracked.view(BTC, now, grid=grid).levels.rows,
            summed.view(BTC, now, grid=grid).levels.rows,
        )
        assert [r.price for r in kept] == [r.price for r in fresh]
        for a, b in zip(kept, fresh, strict=True):
            assert (a.long_usd, a.short_usd) == pytest.approx((b.long_usd, b.short_usd), rel=1e-9, abs=1e-6)
    assert tracked.view(BTC, now).levels.grid == step


def test_apply_refuses_what_is_not_an_event():
    with pytest.raises(TypeError):
        Engine().apply("not an event")  # type: ignore[arg-type]


def test_half_life_decays_levels_between_samples():
    e = Engine(LevelSettings(half_life_hours=1.0))
    e.apply(oi("bybit", 1000.0, 100.0, T0))
    e.apply(oi("bybit", 1010.0, 100.0, T0 + 1))
    e.apply(oi("bybit", 1010.0, 100.0, T0 + 1 + 7_200_000))  # two half-lives later
    assert e.at_risk(BTC, 100.0, 1.0) == pytest.approx(500.0 / 4)


def test_realized_across_all_symbols():
    e = Engine()
    e.apply(Liquidation("bybit", BTC, Side.LONG, 100.0, 1.0, 100.0, T0, T0))
    e.apply(Liquidation("okx", "ETH/USDT:USDT", Side.LONG, 10.0, 1.0, 10.0, T0, T0))
    realized = e.view("all", T0).realized
    assert realized.total_long.usd == pytest.approx(110.0) and realized.total_long.count == 2
    assert {c.venue for c in realized.cells} == {"bybit", "okx"}
    assert "all" not in e.symbols()


def test_history_arriving_after_live_tickers_steps_with_its_own_prices():
    # The usual start-up order: live tickers stream while the OI history is still being fetched.
    e = Engine()
    e.apply(tick("bybit", 120.0, T0 + 3_600_000))  # live, one hour after the history below
    e.apply(oi("bybit", 1000.0, 100.0, T0))
    e.apply(oi("bybit", 1010.0, 100.0, T0 + 300_000))  # history: +10 at the implied 100, not at 120
    ref = ReferenceBook()
    ref.step(100.0, 100.0, 100.0, 10.0)
    assert e.at_risk(BTC, 100.0, 50.0) == pytest.approx(ref.at_risk(100.0, 50.0))
    assert e.at_risk(BTC, 100.0, 150.0) == pytest.approx(ref.at_risk(100.0, 150.0))
    # The first live sample steps with the live ticker: 120 sweeps every short level up to it.
    e.apply(oi("bybit", 1010.0, 120.0, T0 + 3_615_000))
    ref.step(100.0, 120.0, 120.0, 0.0)
    assert e.at_risk(BTC, 100.0, 150.0) == pytest.approx(ref.at_risk(100.0, 150.0)) == 0.0


def test_a_bar_belongs_to_the_step_after_its_open_time():
    e = Engine()
    e.apply(oi("okx", 1000.0, 100.0, T0))
    e.apply(PriceBar("okx", BTC, T0, 100.0, 100.5, 90.0, 100.0))  # the 5 minutes after T0
    e.apply(oi("okx", 1010.0, 100.0, T0 + 300_000))  # this step's low is 90: sweeps nothing yet
    e.apply(PriceBar("okx", BTC, T0 + 300_000, 100.0, 100.0, 99.0, 100.0))
    e.apply(oi("okx", 1010.0, 100.0, T0 + 600_000))
    ref = ReferenceBook()
    ref.step(90.0, 100.5, 100.0, 10.0)
    ref.step(99.0, 100.0, 100.0, 0.0)
    assert e.at_risk(BTC, 100.0, 50.0) == pytest.approx(ref.at_risk(100.0, 50.0))


def test_impossible_numbers_are_dropped_and_counted():
    e = Engine()
    e.apply(Liquidation("bybit", BTC, Side.LONG, float("nan"), 1.0, 100.0, T0, T0))
    e.apply(Liquidation("bybit", BTC, Side.LONG, 100.0, 1.0, float("inf"), T0, T0))
    e.apply(OpenInterest("bybit", BTC, float("nan"), 1.0, T0))
    e.apply(tick("bybit", float("nan"), T0))
    e.apply(Liquidation("bybit", BTC, Side.LONG, 100.0, 1.0, 100.0, T0, T0))
    view = e.view(BTC, T0)
    assert e.rejected == 3
    assert view.realized.total_long.usd == 100.0 and len(view.tape) == 1
    assert view.market.last is None


def test_the_price_path_stays_bounded_without_oi_samples():
    e = Engine()
    for i in range(10_000):
        e.apply(tick("bybit", 100.0 + (i % 7), T0 + i * 1000))
    state = e.state.models[("bybit", BTC)]
    assert len(state.path) <= 1_024
    e.apply(oi("bybit", 1000.0, 100.0, T0 + 20_000_000))
    e.apply(oi("bybit", 1010.0, 100.0, T0 + 20_000_001))
    assert e.at_risk(BTC, 100.0, 50.0) == pytest.approx(500.0)


def test_zooming_through_many_grids_keeps_caches_and_tracked_rows_bounded():
    e = Engine()
    for event in random_events(5, 800):
        e.apply(event)
    for k in range(1, 60):  # as the desk zooms: rows tracked at each grid, then a view
        e.view(BTC, T0 + 800_000, grid=e.track_rows(BTC, 0.001 * k))
    assert len(e.projection.rows_cache) <= 32 and len(e.projection.levels_cache) <= 32
    assert all(len(s.book.tracked_grids()) <= 3 for s in e.state.models.values())


def test_the_all_row_regime_sums_oi_across_venues():
    e = Engine()
    e.apply(oi("bybit", 100.0, 100.0, T0))
    e.apply(oi("okx", 100.0, 100.0, T0))
    e.apply(oi("bybit", 90.0, 101.0, T0 + 3_600_000))  # bybit: price up, OI down (short covering)
    e.apply(oi("okx", 130.0, 101.0, T0 + 3_600_000))  # okx adds more than bybit lost
    bybit, okx, total = e.view(BTC, T0 + 3_600_000, window="1h").oi
    assert bybit.regime == "short covering" and okx.regime == "new longs"
    assert total.change_pct["1h"] == pytest.approx(10.0)
    assert total.regime == "new longs"
    with pytest.raises(ValueError, match="window"):
        e.view(BTC, T0, window="2h")


def test_levels_older_than_the_lookback_leave_the_live_book():
    e = Engine(LevelSettings(lookback_days=1.0))
    day, step = 86_400_000, 300_000
    e.apply(oi("bybit", 1000.0, 100.0, T0))
    e.apply(oi("bybit", 1010.0, 100.0, T0 + step))  # 1,000 USD placed at T0 + 5 min
    e.apply(oi("bybit", 1010.0, 100.0, T0 + step + day))  # exactly one day old: still live
    assert e.at_risk(BTC, 100.0, 1.0) == pytest.approx(500.0)
    assert e.at_risk(BTC, 100.0, 1_000.0) == pytest.approx(500.0)
    e.apply(oi("bybit", 1010.0, 100.0, T0 + 2 * step + day))  # one step later: aged out
    assert e.at_risk(BTC, 100.0, 1.0) == 0.0
    assert e.view(BTC, T0 + 2 * step + day).levels.rows == ()


def test_a_zero_lookback_keeps_levels_for_ever():
    e = Engine(LevelSettings(lookback_days=0.0))
    e.apply(oi("bybit", 1000.0, 100.0, T0))
    e.apply(oi("bybit", 1010.0, 100.0, T0 + 1))
    e.apply(oi("bybit", 1010.0, 100.0, T0 + 400 * 86_400_000))
    assert e.at_risk(BTC, 100.0, 1.0) == pytest.approx(500.0)


def test_realized_says_since_when_the_tape_covers():
    e = Engine()
    assert e.view(BTC, T0).realized.since is None  # no feed has answered: nothing is covered
    e.apply(FeedStatus("okx", FeedState.CONNECTING, T0 - 5_000))
    e.apply(
        FeedStatus("hyperliquid", FeedState.DOWN, T0 - 4_000, "no public liquidation feed", "liquidations")
    )
    e.apply(FeedStatus("hyperliquid", FeedState.LIVE, T0 - 3_000))  # live, but it has no liquidation feed
    assert e.view(BTC, T0).realized.since is None
    e.apply(FeedStatus("bybit", FeedState.LIVE, T0 - 2_000))
    e.apply(FeedStatus("bybit", FeedState.STALE, T0 - 1_000))
    e.apply(FeedStatus("bybit", FeedState.LIVE, T0))  # a later live spell does not move the start
    assert e.view(BTC, T0 + 11_000).realized.since == T0 - 2_000
    e.apply(
        Liquidation("okx", BTC, Side.LONG, 100.0, 1.0, 100.0, T0 - 60_000, T0 - 60_000)
    )  # warmed from a file
    assert e.view(BTC, T0 + 11_000).realized.since == T0 - 60_000


def test_oi_says_since_when_its_lookback_covers_and_which_window_its_regime_reads():
    e = Engine()
    for k in range(0, 26):  # 25 h of hourly samples, rising, then a tick with the price up
        e.apply(oi("bybit", 1000.0 + k, 100.0, T0 + k * 3_600_000))
    e.apply(oi("bybit", 1100.0, 101.0, T0 + 25 * 3_600_000 + 60_000))
    now = T0 + 25 * 3_600_000 + 60_000
    row, total = e.view(BTC, now, window="4h").oi
    assert row.since == T0 and row.low == 1000.0
    assert row.regime == "new longs" and row.regime_window == total.regime_window == "4h"
    assert e.view(BTC, now, window="1m").oi[0].regime_window == "5m"


def _place_and_sweep(e, venue, start, base=1000.0):
    """OI rises at 100 (longs placed below it), price dips to 96 and back, the next sample sweeps."""
    for event in (
        tick(venue, 100.0, start),
        oi(venue, base, 100.0, start),
        oi(venue, base + 10.0, 100.0, start + 15_000),
        tick(venue, 96.0, start + 20_000),
        tick(venue, 100.0, start + 25_000),
        oi(venue, base + 10.0, 100.0, start + 30_000),
    ):
        e.apply(event)


def test_a_sweep_compares_with_the_tape_only_where_the_venues_liquidation_feed_ran():
    e = Engine()
    e.apply(FeedStatus("bybit", FeedState.LIVE, T0, kind="all"))
    e.apply(FeedStatus("bybit", FeedState.STALE, T0 + 16_000, kind="all"))  # a gap inside the sweep's step
    e.apply(FeedStatus("bybit", FeedState.LIVE, T0 + 40_000, kind="all"))
    e.apply(FeedStatus("hyperliquid", FeedState.LIVE, T0, kind="all"))
    e.apply(FeedStatus("hyperliquid", FeedState.DOWN, T0, "no public liquidation feed", kind="liquidations"))
    _place_and_sweep(e, "bybit", T0)
    _place_and_sweep(e, "hyperliquid", T0, base=500.0)
    view = e.view(BTC, T0 + 30_000, grid=1.0)
    assert {(s.venue, s.taped) for s in view.levels.sweeps} == {("bybit", False), ("hyperliquid", False)}
    assert [r.realized_usd for r in view.levels.rows if r.swept_long_usd] == [None, None, None]

    _place_and_sweep(e, "bybit", T0 + 60_000, base=1010.0)  # the tape ran over all of this one
    view = e.view(BTC, T0 + 90_000, grid=1.0)
    assert [s.taped for s in view.levels.sweeps if s.venue == "bybit"] == [True, False]
    assert [r.realized_usd for r in view.levels.rows if r.swept_long_usd] == [
        0.0,
        0.0,
        0.0,
    ]  # watched: a true zero
    # The rows hold the earlier, unwatched sweep too: realized compares with the watched estimate only.
    assert all(0 < r.taped_swept_usd < r.swept_long_usd for r in view.levels.rows if r.swept_long_usd)


def test_margin_limits_apply_to_their_own_symbol_only():
    """The feed's MarginLimits (a venue's first tier per symbol) caps that symbol's tiers, not the
    venue's others; limits no model can take are counted and the settings stand."""
    from liqtui.domain.events import MarginLimits

    e = Engine(LevelSettings())
    e.apply(MarginLimits("bybit", BTC, T0, 0.005, 25.0, "bybit risk-limit"))
    e.apply(MarginLimits("bybit", "ETH/USDT:USDT", T0, 1.5, None, "bybit risk-limit"))
    assert e.rejected == 1
    for symbol in (BTC, "ETH/USDT:USDT"):
        e.apply(oi("bybit", 1000.0, 100.0, T0, symbol))
        e.apply(oi("bybit", 1010.0, 100.0, T0 + 15_000, symbol))
    capped = ReferenceBook(weights={5: 0.15, 10: 0.30, 25: 0.25}, mmr=0.005)
    capped.step(100.0, 100.0, 100.0, 10.0)
    full = ReferenceBook()
    full.step(100.0, 100.0, 100.0, 10.0)
    assert e.at_risk(BTC, 100.0, 97.0) == pytest.approx(capped.at_risk(100.0, 97.0))
    assert e.at_risk("ETH/USDT:USDT", 100.0, 97.0) == pytest.approx(full.at_risk(100.0, 97.0))


@pytest.mark.parametrize("seed", range(3))
def test_the_recent_fills_a_new_sweep_reads_are_the_newest_of_every_path_in_order(seed):
    # RecentFills holds a long run as it came and folds short runs and a batch's rows into columns;
    # what a sweep made next reads is the newest FILLS_KEPT fills of all of them, oldest first, as a
    # list of every fill cut to its end.
    from liqtui.engine.batch import SIDE_OF_CODE, LiquidationBatch
    from liqtui.engine.state import FILLS_KEPT, RecentFills

    rnd = random.Random(seed)
    fills, every = RecentFills(), []
    t = T0
    for _ in range(120):
        run = []
        for _ in range(rnd.choice([1, 3, 7, 8, 40, 300, 2_500])):
            t += rnd.choice([0, 1, 5])
            side = rnd.choice([Side.LONG, Side.SHORT])
            usd = rnd.expovariate(1 / 5_000)
            run.append(Liquidation("bybit", BTC, side, 100.0 + rnd.random(), usd / 100.0, usd, t, t))
        if rnd.random() < 0.2:  # a batch's rows, as the engine's _settle_fills hands them over
            batch = LiquidationBatch.of(run)
            sides = [SIDE_OF_CODE[s] for s in batch.side.tolist()]
            fills.extend(batch.time.tolist(), sides, batch.price.tolist(), batch.usd.tolist())
        else:
            fills.extend_liquidations(run)
        every += [(liq.time, liq.side, liq.price, liq.usd) for liq in run]
        assert list(fills) == every[-FILLS_KEPT:]
    assert len(list(fills)) == FILLS_KEPT
    assert len(fills._chunks) < 20  # what no read can reach is let go


def test_a_sweep_made_after_long_runs_matches_the_fills_of_one_liquidation_at_a_time():
    # A sweep reads the market's recent fills when it is made: after runs through apply_liquidations
    # (held as they came) it matches what apply() one by one left.
    def engine():
        e = Engine()
        e.apply(tick("bybit", 100.0, T0))
        e.apply(oi("bybit", 1000.0, 100.0, T0))
        e.apply(oi("bybit", 1100.0, 100.0, T0 + 15_000))  # levels both sides
        return e

    one, bulk = engine(), engine()
    rnd = random.Random(5)
    t = T0 + 15_000
    for _ in range(40):
        run = []
        for _ in range(rnd.choice([1, 9, 120])):
            t += rnd.choice([1, 20])
            price = 100.0 * (1 - rnd.uniform(0.0, 0.08))
            usd = rnd.expovariate(1 / 2_000)
            run.append(Liquidation("bybit", BTC, Side.LONG, price, usd / price, usd, t, t))
        for liq in run:
            one.apply(liq)
        bulk.apply_liquidations(run)
    for e in (one, bulk):
        e.apply(tick("bybit", 91.0, t + 1))  # the price falls through the longs' levels
        e.apply(oi("bybit", 1100.0, 91.0, T0 + 30_000))

    def sweeps(e):
        e.view(BTC, t)  # the fills of batches settled, as a reader sees them
        kept = e.state.models[("bybit", BTC)].sweeps
        return [(s.side, s.realized_usd, list(s.fills.items()), s.fill_count) for s in kept]

    assert sweeps(bulk) == sweeps(one)
    assert sum(count for *_, count in sweeps(one)) > 100
