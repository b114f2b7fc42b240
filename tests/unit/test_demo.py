"""The demo market: deterministic, tapes like the real streams, liquidations where levels are crossed."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections import Counter

import pytest

from liqtui.config import LevelSettings, Settings, settings_from_dict
from liqtui.domain.events import (
    BookSnapshot,
    FeedState,
    FeedStatus,
    Liquidation,
    LiquidationSource,
    OpenInterest,
    PriceBar,
    Side,
    Ticker,
)
from liqtui.feeds.demo import DEFAULT_START_MS, DemoMarket, DemoSource
from liqtui.feeds.demo.instruments import unified
from liqtui.feeds.demo.positions import liquidation_price
from liqtui.feeds.event_source import EventSource

BTC = "BTC/USDT:USDT"


def _market(seed: int = 0, rate: str = "busy", hours: float = 1.0, **kwargs) -> DemoMarket:
    # One hour of backfill keeps these tests fast; the default day is covered once below.
    return DemoMarket(seed=seed, rate=rate, backfill_hours=hours, **kwargs)


# The market's true state and a steer for scenarios, read and set through its internals: test
# hooks, not part of the package.
def price(market: DemoMarket, venue: str, symbol: str) -> float:
    return market._pair(venue, symbol).price


def mid(market: DemoMarket, symbol: str) -> float:
    sym = market._syms[unified(symbol)]
    return math.exp(sym.x + sym.y)


def open_interest(market: DemoMarket, venue: str, symbol: str) -> float:
    """Open interest in base coin right now (what the next OI sample will say)."""
    return market._pair(venue, symbol).oi_base()


def open_position(
    market: DemoMarket, venue: str, symbol: str, side: Side, leverage: float, usd: float
) -> float:
    """Open one position at the venue's current price; returns its liquidation price."""
    pair = market._pair(venue, symbol)
    liq = liquidation_price(pair.price, side, leverage, pair.maintenance)
    pair.book.add(side, liq, usd / pair.price)
    return liq


def push(market: DemoMarket, symbol: str, move_pct: float, over_ms: int) -> None:
    """Move ``symbol``'s mid by ``move_pct`` % spread over ``over_ms`` (a sell-off, a squeeze)."""
    ticks = max(1, int(over_ms) // market.tick_ms)
    market._syms[unified(symbol)].jumps.append([math.log1p(move_pct / 100.0) / ticks, ticks])


def _liquidations(events) -> list[Liquidation]:
    return [e for e in events if isinstance(e, Liquidation)]


# ----- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_exactly_the_same_events():
    a, b = _market(seed=11), _market(seed=11)
    first = a.start_events() + a.step(30_000)
    second = b.start_events() + b.step(30_000)
    assert len(first) > 1_000
    assert first == second


def test_a_different_seed_gives_different_events():
    a, b = _market(seed=1), _market(seed=2)
    assert a.start_events() + a.step(10_000) != b.start_events() + b.step(10_000)


def test_live_events_fall_inside_the_simulated_time_they_were_stepped_through():
    market = _market(seed=7, rate="stress")
    start = market.now_ms
    events = market.step(3_000)
    times = [e.time for e in events]
    assert times and start <= min(times) and max(times) <= market.now_ms == start + 3_000
    assert all(start <= e.time <= e.recv_time <= market.now_ms for e in _liquidations(events))


def test_step_sizes_do_not_change_the_sequence():
    a, b = _market(seed=5), _market(seed=5)
    by_ticks = [e for _ in range(50) for e in a.step(200)]
    at_once = b.advance_to(DEFAULT_START_MS + 10_000)
    assert by_ticks == at_once


# ----- the start: feed states and backfill ------------------------------------------------------


def test_start_events_say_live_simulated_and_no_venue_is_without_liquidations():
    # Changed on purpose: Hyperliquid's liquidations are seen in part (its backstop vault's fills).
    statuses = [e for e in _market().start_events() if isinstance(e, FeedStatus)]
    live = {s.venue for s in statuses if s.state is FeedState.LIVE}
    assert live == {"binanceusdm", "bybit", "okx", "hyperliquid"}
    assert all(s.detail == "simulated" for s in statuses if s.state is FeedState.LIVE)
    assert [s for s in statuses if s.state is FeedState.DOWN] == []


def test_backfill_gives_a_day_and_an_hour_of_five_minute_bars_and_oi_ending_at_the_start_price():
    market = DemoMarket(seed=3)
    events = market.start_events()
    bars = [e for e in events if isinstance(e, PriceBar) and e.venue == "binanceusdm" and e.symbol == BTC]
    oi = [e for e in events if isinstance(e, OpenInterest) and e.venue == "binanceusdm" and e.symbol == BTC]
    assert len(bars) == len(oi) == 300  # 25 h: the OI a day ago exists, so the desk's 24 h change shows
    assert min(o.time for o in oi) <= DEFAULT_START_MS - 86_400_000
    for pair in market._pairs:  # the rolling 24 h volume holds one day, not the whole backfill
        assert len(pair.minute_volumes) == 1440
        assert pair.volume_24h == pytest.approx(sum(pair.minute_volumes), rel=1e-9)
    assert all(b.time < DEFAULT_START_MS for b in bars) and oi[-1].time == DEFAULT_START_MS
    assert [b.time for b in bars] == sorted(b.time for b in bars)
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    assert bars[-1].close == pytest.approx(82_800, rel=0.003)
    # Binance BTC OI like the article's ~100k+ BTC, not a toy number.
    assert 60_000 < oi[-1].base < 160_000


# ----- tapes like the real streams --------------------------------------------------------------


def test_binance_and_okx_are_sampled_one_per_symbol_per_second_bybit_complete_hyperliquid_partial():
    market = _market(seed=4, rate="stress")
    events = market.start_events() + market.step(5_000)
    liqs = _liquidations(events)
    per_second = Counter((e.venue, e.symbol, e.time // 1000) for e in liqs)
    sampled = [e for e in liqs if e.venue in ("binanceusdm", "okx")]
    assert sampled and all(e.sampled for e in sampled)
    assert max(n for (venue, _, _), n in per_second.items() if venue in ("binanceusdm", "okx")) == 1
    bybit = [e for e in liqs if e.venue == "bybit"]
    assert bybit and not any(e.sampled for e in bybit)
    assert max(n for (venue, _, _), n in per_second.items() if venue == "bybit") > 1
    # Changed on purpose: Hyperliquid shows a part (its backstop's fills), marked sampled and
    # backstop, fewer than it liquidates (its price and OI feel them all).
    hyperliquid = [e for e in liqs if e.venue == "hyperliquid"]
    assert hyperliquid and all(e.sampled and e.source == "backstop" for e in hyperliquid)
    assert all(e.source == "feed" for e in liqs if e.venue != "hyperliquid")
    assert len([f for f in market.forced_log if f.venue == "hyperliquid"]) > len(hyperliquid)


def test_a_sampled_tape_pushes_the_latest_order_of_each_second():
    market = _market(seed=4, rate="stress", log_size=1_000_000)
    liqs = _liquidations(market.step(5_000))
    orders = [f for f in market.forced_log if f.venue == "binanceusdm"]
    for shown in (e for e in liqs if e.venue == "binanceusdm"):
        same_second = [f for f in orders if f.symbol == shown.symbol and f.time // 1000 == shown.time // 1000]
        assert (shown.price, shown.usd, shown.time) == (
            same_second[-1].price,
            same_second[-1].usd,
            same_second[-1].time,
        )
        assert shown.recv_time >= (shown.time // 1000 + 1) * 1000  # pushed once the second is over


def test_stress_produces_at_least_2000_liquidations_every_second():
    market = _market(seed=0, rate="stress")
    start = market.now_ms
    per_second = Counter(e.time // 1000 for e in _liquidations(market.step(10_000)))
    counts = [per_second.get(start // 1000 + i, 0) for i in range(10)]
    assert min(counts) >= 2_000, counts


def test_rates_order_calm_below_busy_below_stress():
    counts = {}
    for rate in ("calm", "busy", "stress"):
        market = _market(seed=2, rate=rate, log_size=1_000_000)
        market.step(5_000 if rate == "stress" else 120_000)
        counts[rate] = len(market.forced_log)
    per_minute = {"calm": counts["calm"] / 2, "busy": counts["busy"] / 2, "stress": counts["stress"] * 12}
    assert per_minute["calm"] < per_minute["busy"] < per_minute["stress"]


# ----- liquidations happen where levels are crossed ---------------------------------------------


def test_every_liquidation_is_at_or_beyond_a_crossed_liquidation_level():
    market = _market(seed=6, rate="stress", log_size=1_000_000)
    liqs = _liquidations(market.step(5_000))
    assert len(market.forced_log) > 1_000
    for order in market.forced_log:
        # Every position in the row had its liquidation price in [level_low, level_high), and the
        # venue's price was past the whole row. The tape's price is past it too: Binance's average
        # fill beyond the trigger, Bybit's and OKX's bankruptcy price beyond the liquidation price.
        if order.side is Side.LONG:
            assert order.trigger_price <= order.level_low < order.level_high
            assert order.price <= order.level_low
        else:
            assert order.trigger_price >= order.level_high > order.level_low
            assert order.price >= order.level_high
        if order.venue in ("binanceusdm", "hyperliquid"):
            assert (order.price - order.trigger_price) * (1 if order.side is Side.SHORT else -1) >= 0
        else:
            bankruptcy = order.level_low * 0.996 if order.side is Side.LONG else order.level_high * 1.004
            assert order.price == pytest.approx(bankruptcy, rel=1e-4)
    logged = {(f.venue, f.symbol, f.side, f.price, f.usd, f.time) for f in market.forced_log}
    assert all((e.venue, e.symbol, e.side, e.price, e.usd, e.time) in logged for e in liqs)


def test_a_position_is_liquidated_when_price_crosses_its_liquidation_price_not_before():
    market = _market(seed=8, rate="calm")
    market.step(1_000)
    entry = price(market, "bybit", BTC)
    liq = open_position(market, "bybit", BTC, Side.LONG, 50, 40e6)
    assert liq == pytest.approx(liquidation_price(entry, Side.LONG, 50, 0.004))
    assert liq == pytest.approx(entry * (1 - 1 / 50) / (1 - 0.004))

    def ours(order) -> bool:
        return (
            order.side is Side.LONG and order.venue == "bybit" and order.level_low <= liq < order.level_high
        )

    market.step(2_000)
    assert not any(ours(o) for o in market.forced_log) and price(market, "bybit", BTC) > liq
    push(market, BTC, -4.0, 10_000)
    lowest = math.inf
    for _ in range(150):
        market.step(100)
        lowest = min(lowest, price(market, "bybit", BTC))
    assert lowest < liq
    hits = [o for o in market.forced_log if ours(o)]
    assert hits and sum(o.usd for o in hits) > 30e6  # the 40M position (a little decayed) went
    assert all(o.trigger_price <= liq for o in hits)


def test_oi_rises_when_positions_open_and_falls_when_they_are_liquidated():
    market = _market(seed=9, rate="calm")
    market.step(1_000)
    before = open_interest(market, "okx", BTC)
    open_position(market, "okx", BTC, Side.SHORT, 25, 500e6)
    added = 500e6 / price(market, "okx", BTC)
    assert open_interest(market, "okx", BTC) == pytest.approx(before + added, rel=1e-6)
    samples = [
        e for e in market.step(16_000) if isinstance(e, OpenInterest) and e.venue == "okx" and e.symbol == BTC
    ]
    assert samples and samples[-1].base > before + 0.9 * added
    high = open_interest(market, "okx", BTC)
    push(market, BTC, +6.0, 10_000)
    market.step(20_000)
    assert open_interest(market, "okx", BTC) < high - 0.8 * added
    assert any(o.side is Side.SHORT and o.venue == "okx" and o.usd > 0 for o in market.forced_log)


def test_cascade_feedback_forced_orders_push_price_further():
    # The same selloff with and without a crowd of longs just below: the crowd makes it go further.
    def low_after_selloff(crowd: bool) -> float:
        market = _market(seed=12, rate="calm")
        market.step(1_000)
        if crowd:
            for leverage in (40, 45, 50, 55, 60, 70, 80):
                for venue in ("binanceusdm", "bybit", "okx"):
                    open_position(market, venue, BTC, Side.LONG, leverage, 150e6)
        push(market, BTC, -2.5, 5_000)
        low = math.inf
        for _ in range(100):
            market.step(100)
            low = min(low, mid(market, BTC))
        return low

    assert low_after_selloff(True) < low_after_selloff(False) * 0.998


# ----- books, tickers ---------------------------------------------------------------------------


def test_books_are_sorted_with_the_venue_depth_and_follow_the_focus():
    market = _market(seed=10)
    books = [e for e in market.step(10_000) if isinstance(e, BookSnapshot)]
    for book in books:
        bids, asks = [p for p, _ in book.bids], [p for p, _ in book.asks]
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
        assert len(set(bids)) == len(bids) and len(set(asks)) == len(asks)
        assert bids[0] < asks[0]
        assert all(size > 0 for _, size in book.bids + book.asks)
        assert len(book.bids) == len(book.asks) == (20 if book.venue == "hyperliquid" else 50)
    per_symbol = Counter(b.symbol for b in books if b.venue == "bybit")
    assert per_symbol[BTC] >= 30  # the focus: a few a second
    assert 0 < per_symbol["ETH/USDT:USDT"] <= 3
    market.set_focus("ETH/USDT:USDT")
    later = Counter(
        b.symbol for b in market.step(10_000) if isinstance(b, BookSnapshot) and b.venue == "bybit"
    )
    assert later["ETH/USDT:USDT"] >= 30 and later[BTC] <= 3
    market.set_focus("DOGE")  # not listed by this demo: no books for it, slow books for the rest
    unlisted = Counter(
        b.symbol for b in market.step(10_000) if isinstance(b, BookSnapshot) and b.venue == "bybit"
    )
    assert "DOGE/USDT:USDT" not in unlisted and max(unlisted.values()) <= 3


def test_books_thin_out_in_a_fast_move():
    market = _market(seed=13, rate="calm")

    def depth() -> float:
        books = [e for e in market.step(1_000) if isinstance(e, BookSnapshot) and e.symbol == BTC]
        return sum(s for b in books for _, s in b.bids + b.asks) / len(books)

    normal = depth()
    push(market, BTC, -3.0, 3_000)
    market.step(2_000)
    assert depth() < 0.8 * normal
    market.step(90_000)
    assert depth() > 0.8 * normal  # refilled


def test_tickers_every_second_with_funding_times_and_volume_shares_like_the_article():
    market = _market(seed=14, hours=24)
    tickers = [e for e in market.step(10_000) if isinstance(e, Ticker) and e.symbol == BTC]
    per_venue = Counter(t.venue for t in tickers)
    assert all(9 <= n <= 11 for n in per_venue.values()) and len(per_venue) == 4
    last = {t.venue: t for t in tickers}
    for venue, t in last.items():
        hours = 1 if venue == "hyperliquid" else 8
        assert t.next_funding_time % (hours * 3_600_000) == 0
        assert 0 < t.next_funding_time - t.time <= hours * 3_600_000
        assert t.last == pytest.approx(t.mark, rel=0.001) and t.index == pytest.approx(t.last, rel=0.003)
        assert abs(t.funding_rate) < 0.001 and abs(t.change_24h_pct) < 30
    volume = {v: last[v].volume_24h_usd for v in last}
    assert volume["binanceusdm"] > volume["okx"] > volume["bybit"] > volume["hyperliquid"] > 0
    prices = {v: t.last for v, t in last.items()}
    assert len(set(prices.values())) > 1  # each venue has its own price
    assert max(prices.values()) / min(prices.values()) < 1.005


def test_symbols_are_the_watchlist_then_the_cross_assets_and_unknown_ones_still_price():
    settings = settings_from_dict(
        {"watchlist": ["BTC", "ZZZ/USDT:USDT"], "cross_assets": ["BTC/USDT:USDT", "XAUT"]}
    )
    market = DemoMarket(settings, seed=1, backfill_hours=0.5)
    assert market.symbols() == ["BTC/USDT:USDT", "ZZZ/USDT:USDT", "XAUT/USDT:USDT"]
    assert mid(market, "ZZZ/USDT:USDT") > 0
    assert mid(DemoMarket(settings, seed=1, backfill_hours=0.5), "ZZZ/USDT:USDT") == mid(
        market, "ZZZ/USDT:USDT"
    )


def test_disabled_venues_are_left_out():
    settings = settings_from_dict({"venues": {"okx": {"enabled": False}}})
    market = DemoMarket(settings, seed=1, backfill_hours=0.5)
    assert "okx" not in {getattr(e, "venue", None) for e in market.start_events() + market.step(5_000)}


def test_unknown_rate_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown demo rate 'wild'"):
        DemoMarket(rate="wild")


# ----- the event source -------------------------------------------------------------------------


def test_the_desk_source_keeps_no_log_of_forced_orders():
    # The log is for checks like the ones above; the desk reads the events only (at stress the
    # venues execute ~30,000 forced orders a second, most on no tape or on a sampled one).
    source = DemoSource(seed=3, rate="stress", backfill_hours=0.5)
    source.market.step(2_000)
    assert source.market.forced_orders > 10_000 and len(source.market.forced_log) == 0


def test_the_forced_order_log_changes_no_event():
    logged, unlogged = (
        _market(seed=4, rate="stress", log_size=1_000_000),
        _market(seed=4, rate="stress", log_size=0),
    )
    assert logged.step(3_000) == unlogged.step(3_000)
    assert logged.forced_orders == unlogged.forced_orders == len(logged.forced_log)


def test_liquidations_built_at_once_equal_the_constructor_s_field_for_field():
    # The demo's Bybit tape builds its liquidations a field at a time over all of them (a frozen
    # dataclass's __init__ costs ~3x): each must be the Liquidation the constructor makes.
    from liqtui.feeds.demo.market import liquidations

    made = liquidations(
        3,
        venue="bybit",
        symbol=BTC,
        side=Side.SHORT,
        price=[1.5, 2.5, 3.5],
        qty=[1.0, 2.0, 3.0],
        usd=[1.5, 5.0, 10.5],
        time=[10, 11, 12],
        recv_time=20,
        sampled=False,
        source=LiquidationSource.FEED,
    )
    assert made == [
        Liquidation("bybit", BTC, Side.SHORT, p, q, q * p, t, 20, False, LiquidationSource.FEED)
        for p, q, t in ((1.5, 1.0, 10), (2.5, 2.0, 11), (3.5, 3.0, 12))
    ]
    assert all(type(liq) is Liquidation for liq in made)
    assert hash(made[0]) == hash(Liquidation("bybit", BTC, Side.SHORT, 1.5, 1.0, 1.5, 10, 20))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made[0].price = 9.0  # type: ignore[misc]
    # A field left out (a new one, say) is an error, not an object with an unset slot.
    with pytest.raises(TypeError, match="every field"):
        liquidations(1, venue="bybit", symbol=BTC, side=Side.SHORT, price=1.0, qty=1.0, usd=1.0, time=1)
    with pytest.raises(ValueError, match="qty"):
        liquidations(
            2, venue="bybit", symbol=BTC, side=Side.SHORT, price=1.0, qty=[1.0], usd=1.0, time=1,
            recv_time=1, sampled=False, source=LiquidationSource.FEED,
        )  # fmt: skip


async def test_demo_source_streams_the_market_and_says_demo():
    source = DemoSource(seed=3, realtime=False, backfill_hours=1)
    assert isinstance(source, EventSource) and source.mode == "DEMO"
    assert source.symbols()[0] == BTC and source.now_ms() == DEFAULT_START_MS
    events = []
    task = asyncio.create_task(source.run(events.append))
    deadline = asyncio.get_running_loop().time() + 120  # the history is built off the loop first
    while source.now_ms() < DEFAULT_START_MS + 5_000 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.now_ms() >= DEFAULT_START_MS + 5_000
    kinds = Counter(type(e).__name__ for e in events)
    # 4 (was 5) on purpose: Hyperliquid's liquidations are no longer DOWN (its backstop vault's fills)
    assert kinds["FeedStatus"] == 4 and kinds["Ticker"] > 50 and kinds["BookSnapshot"] > 50
    reference = DemoMarket(seed=3, backfill_hours=1)
    expected = reference.start_events() + reference.advance_to(source.now_ms())
    assert events == expected  # the source adds nothing and loses nothing


async def test_demo_source_in_real_time_follows_the_wall_clock_times_speed():
    source = DemoSource(seed=3, realtime=True, speed=20, backfill_hours=0.5)
    task = asyncio.create_task(source.run(lambda event: None))
    while source.warmup is not None:  # the history first: the clock starts when the market is built
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    simulated = source.now_ms() - DEFAULT_START_MS
    # 0.5 s of wall time at 20x is about 10 s simulated; generous bounds (loaded CI machines).
    assert 1_000 <= simulated <= 12_000


async def test_the_desk_source_builds_its_history_off_the_loop_and_says_how_far():
    source = DemoSource(seed=3, realtime=True, backfill_hours=6)
    # Before the market exists: the start time, the symbols and a focus, without building it.
    assert source.warmup == 0.0 and source.now_ms() == DEFAULT_START_MS and source.symbols()[0] == BTC
    source.set_focus("ETH/USDT:USDT")
    events: list = []
    task = asyncio.create_task(source.run(events.append))
    seen = []
    while source.warmup is not None:
        seen.append(source.warmup)
        await asyncio.sleep(0.001)  # the loop keeps running while the history is built
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == sorted(seen) and len(set(seen)) > 1 and seen[-1] < 1
    assert source.market.focus == "ETH/USDT:USDT" and events  # the focus given early holds
    reference = DemoMarket(seed=3, backfill_hours=6, focus="ETH/USDT:USDT")
    start = reference.start_events()
    shown = min(len(events), len(start))  # cancelled somewhere in the start or just after it
    assert events[:shown] == start[:shown]  # the same history


async def test_the_source_is_warming_up_until_its_history_is_handed_out():
    """The history's last OI samples fall on the start time: only warmup tells them from live events."""
    source = DemoSource(seed=3, realtime=False, backfill_hours=1)
    seen: list[tuple[object, float | None]] = []
    task = asyncio.create_task(source.run(lambda event: seen.append((event, source.warmup))))
    history = DemoMarket(seed=3, backfill_hours=1).start_events()
    while len(seen) <= len(history):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [e for e, _ in seen[: len(history)]] == history
    assert all(warmup is not None for _, warmup in seen[: len(history)])
    assert [warmup for _, warmup in seen[len(history) :]] == [None] * (len(seen) - len(history))
    assert source.warmup is None


async def test_a_stress_tick_is_handed_out_in_chunks_with_the_loop_running_between():
    """A stress tick holds ~1,000 events: emitted in one go, a key pressed meanwhile waited for all of
    them. Between chunks the loop runs (a task counting its turns sees every chunk)."""
    source = DemoSource(seed=3, rate="stress", realtime=False, backfill_hours=0.2)
    since_turn = [0]
    longest = [0]

    def emit(event) -> None:
        since_turn[0] += 1
        longest[0] = max(longest[0], since_turn[0])

    async def turns() -> None:
        while True:
            since_turn[0] = 0
            await asyncio.sleep(0)

    counter = asyncio.create_task(turns())
    task = asyncio.create_task(source.run(emit))
    while source.warmup is not None or source.now_ms() < DEFAULT_START_MS + 2_000:
        await asyncio.sleep(0)
    for t in (task, counter):
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
    assert len(DemoMarket(seed=3, rate="stress", backfill_hours=0.2).step(100)) > 500  # a big tick
    assert 0 < longest[0] <= 250


# ----- through the engine: estimated levels and the realized tape agree roughly -----------------


def test_the_engine_fed_a_selloff_shows_levels_and_longs_liquidated_below_the_start_price():
    from liqtui.engine import Engine

    market = _market(seed=21, hours=6)
    engine = Engine()
    for event in market.start_events() + market.step(60_000):
        engine.apply(event)
    start = mid(market, BTC)
    before = engine.view(BTC, market.now_ms)
    assert any(r.long_usd > 0 for r in before.levels.rows if r.price < start)
    assert any(r.short_usd > 0 for r in before.levels.rows if r.price > start)
    assert set(before.levels.venues) == {"binanceusdm", "bybit", "okx", "hyperliquid"}
    assert engine.at_risk(BTC, start, start * 0.95) > 10e6  # ESTIMATED longs within 5 % below

    pushed_at = market.now_ms
    push(market, BTC, -5.0, 90_000)
    for event in market.step(180_000):
        engine.apply(event)
    assert mid(market, BTC) < start * 0.97
    view = engine.view(BTC, market.now_ms, window="5m")
    assert view.realized.total_long.usd > 5 * view.realized.total_short.usd
    longs = [t for t in view.tape if t.symbol == BTC and t.side is Side.LONG and t.time >= pushed_at]
    below = sum(t.usd for t in longs if t.price < start)
    assert longs and below >= 0.9 * sum(t.usd for t in longs)
    # Estimated long levels were swept on the way down, and the tape showed liquidations there:
    # fewer than estimated (positions close before, sampled tapes, Hyperliquid unseen), not none.
    swept = [s for s in view.levels.sweeps if s.side is Side.LONG and s.time > pushed_at]
    estimated, realized = sum(s.estimated_usd for s in swept), sum(s.realized_usd for s in swept)
    assert swept and all(s.price_low < start for s in swept)
    assert 0.005 * estimated < realized < 1.5 * estimated


def test_a_leverage_mix_with_odd_keys_still_runs():
    # The config file refuses such keys (test_config); settings built in code still reach the demo.
    settings = Settings(levels=LevelSettings(leverage_weights={"10x": 0.5, "lots": 0.3, "400": 0.2}))
    market = DemoMarket(settings, seed=1, backfill_hours=0.5)
    market.step(5_000)
    assert open_interest(market, "bybit", BTC) > 0
