"""LiveSource end to end: the real ccxt.pro client against a loopback fake of each venue.

Covers: bursts and multi-entry frames arrive exactly once, side and USD per docs/exchanges.md,
malformed frames skipped and counted, reconnect + resubscribe after a server-side disconnect with
nothing lost after it, 429 backoff with Retry-After, stale detection and recovery, 404 degrading
only what that endpoint serves.
"""

from __future__ import annotations

import asyncio
from itertools import pairwise

import pytest

from liqtui.domain.events import FeedState, OpenInterest, Side, Ticker

from live_harness import LIQUIDATION_TOPIC, LiveRun

LIQUIDATION_VENUES = ["binanceusdm", "bybit", "okx"]  # a venue without its fake fails, never skips
ALL_VENUES = [*LIQUIDATION_VENUES, "hyperliquid"]
OI_MATCH = {"hyperliquid": {"type": "metaAndAssetCtxs"}}
OI_PATH = {
    "binanceusdm": "/fapi/v1/openInterest",
    "bybit": "/v5/market/tickers",
    "okx": "/api/v5/public/open-interest",
    "hyperliquid": "/info",
}


def _matches(request, venue: str) -> bool:
    return all(str(request.query.get(k)) == v for k, v in (OI_MATCH.get(venue) or {}).items())


def frames_for(fake, entries: list[dict]) -> list:
    """Frames carrying ``entries`` (kwargs of liquidation_frame), as many per frame as the venue batches."""
    if fake.venue == "binanceusdm":
        return [fake.liquidation_frame(**entry) for entry in entries]  # one liquidation per frame
    by_symbol: dict[str, list[dict]] = {}
    for entry in entries:
        by_symbol.setdefault(entry["symbol"], []).append({k: v for k, v in entry.items() if k != "symbol"})
    return [fake.liquidation_frame_multi(symbol, items) for symbol, items in by_symbol.items()]


@pytest.mark.parametrize("venue", LIQUIDATION_VENUES)
async def test_a_burst_of_hundreds_of_frames_arrives_exactly_once(venue, fake_exchange):
    fake = await fake_exchange(venue)
    async with LiveRun(fake) as run:
        await run.subscribed()
        base = 1_790_000_000_000
        entries = [
            dict(symbol="BTC", side="long" if i % 3 else "short", qty=0.001 * (i + 1), time_ms=base + i)
            for i in range(600)
        ]
        loop = asyncio.get_running_loop()
        started = loop.time()
        for entry in entries:  # one frame per entry, back to back
            await fake.push(frames_for(fake, [entry])[0])
        assert loop.time() - started < 1.0, "the fake could not push the burst within a second"
        await run.until(lambda: len(run.liquidations()) >= 600, what="600 liquidations")
        await asyncio.sleep(0.2)  # nothing extra trickles in
        times = sorted(liq.time for liq in run.liquidations())
        assert times == [base + i for i in range(600)]  # every one, exactly once


@pytest.mark.parametrize("venue", [v for v in LIQUIDATION_VENUES if v != "binanceusdm"])
async def test_every_entry_of_multi_entry_frames_arrives(venue, fake_exchange):
    fake = await fake_exchange(venue)
    async with LiveRun(fake) as run:
        await run.subscribed()
        base = 1_790_000_000_000
        for frame_no in range(40):
            entries = [
                dict(side="short", qty=0.01 * (k + 1), time_ms=base + frame_no * 10 + k) for k in range(7)
            ]
            await fake.push(fake.liquidation_frame_multi("ETH", entries))
        await run.until(lambda: len(run.liquidations()) >= 280, what="280 liquidations")
        assert sorted(liq.time for liq in run.liquidations()) == sorted(
            base + f * 10 + k for f in range(40) for k in range(7)
        )


@pytest.mark.parametrize("venue", LIQUIDATION_VENUES)
@pytest.mark.parametrize("side", [Side.LONG, Side.SHORT])
async def test_side_is_the_liquidated_position_and_usd_is_the_notional(venue, side, fake_exchange):
    fake = await fake_exchange(venue)
    async with LiveRun(fake) as run:
        await run.subscribed()
        frame = fake.liquidation_frame(
            "BTC", side=side.value, price=91_234.5, qty=0.25, time_ms=1_790_000_000_123
        )
        await fake.push(frame)
        (liq,) = await run.until(run.liquidations, what="the liquidation")
        assert liq.venue == venue and liq.symbol == "BTC/USDT:USDT" and liq.side is side
        assert liq.time == 1_790_000_000_123
        assert liq.qty == pytest.approx(0.25) and liq.usd == pytest.approx(0.25 * liq.price)
        assert liq.price == pytest.approx(91_234.5, rel=1e-6)
        assert liq.sampled is (venue in ("binanceusdm", "okx"))


@pytest.mark.parametrize("venue", LIQUIDATION_VENUES)
async def test_malformed_frames_are_counted_and_skipped_and_the_stream_keeps_flowing(venue, fake_exchange):
    fake = await fake_exchange(venue)
    async with LiveRun(fake) as run:
        await run.subscribed()
        connections = fake.ws_connections
        topic = await fake.wait_subscribed(LIQUIDATION_TOPIC[venue])
        await fake.push('{"e": "forceOrder", "o": {"s": "BTCUSDT"', topic=topic)  # truncated JSON
        await fake.push("\x00\x01 definitely not json", topic=topic)
        await fake.push("[1, 2,", topic=topic)
        for i in range(20):
            await fake.push(fake.liquidation_frame("BTC", qty=1 + i, time_ms=1_790_000_000_000 + i))
        await run.until(lambda: len(run.liquidations()) >= 20, what="20 liquidations after the garbage")
        assert run.feed.counters.malformed >= 3
        assert fake.ws_connections == connections  # no reconnect was needed
        assert not any(s.state is FeedState.RECONNECTING for s in run.statuses())


@pytest.mark.parametrize("venue", LIQUIDATION_VENUES)
async def test_server_disconnect_reconnects_resubscribes_and_loses_nothing_after(venue, fake_exchange):
    fake = await fake_exchange(venue)
    async with LiveRun(fake) as run:
        await run.subscribed()
        await fake.push(fake.liquidation_frame("BTC", time_ms=1_790_000_000_000))
        await run.until(run.liquidations, what="the first liquidation")
        await fake.drop_connections()  # Binance's routine 24 h close looks like this
        await run.until_status("all", FeedState.RECONNECTING)
        await run.subscribed(count=2)
        after = [dict(symbol="BTC", side="short", qty=0.5, time_ms=1_790_000_001_000 + i) for i in range(100)]
        for frame in frames_for(fake, after):
            await fake.push(frame)
        await run.until(lambda: len(run.liquidations()) >= 101, what="101 liquidations")
        assert sorted(liq.time for liq in run.liquidations())[1:] == [
            1_790_000_001_000 + i for i in range(100)
        ]
        live_again = [s for s in run.statuses("all") if s.state is FeedState.LIVE]
        assert len(live_again) >= 2  # live, then live again after the reconnect


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_429_backs_off_for_retry_after_and_slows_polling(venue, fake_exchange):
    fake = await fake_exchange(venue)
    async with LiveRun(fake, oi_poll_seconds=0.3) as run:
        # After the markets are loaded: Hyperliquid's load_markets posts to /info as well.
        await run.until(lambda: run.feed.markets_ready.is_set(), what="markets")
        fake.fail_next(OI_PATH[venue], status=429, times=1, retry_after=1, match=OI_MATCH.get(venue))
        status = await run.until_status("oi", FeedState.STALE, contains="429", timeout=15)
        assert "rate limited" in status.detail
        await run.until_status("oi", FeedState.LIVE, after=run.statuses("oi").index(status), timeout=15)
        hits = [r.time for r in fake.requests if r.path == OI_PATH[venue] and _matches(r, venue)]
        gaps = [b - a for a, b in pairwise(hits)]
        assert max(gaps) >= 0.95  # Retry-After: 1 honoured (the normal interval is 0.3 s)


@pytest.mark.parametrize("venue", LIQUIDATION_VENUES)
async def test_a_silent_stream_turns_stale_and_recovers(venue, fake_exchange):
    fake = await fake_exchange(venue)
    async with LiveRun(fake, stale_after=1.0) as run:
        await run.subscribed()
        await fake.push(fake.liquidation_frame("BTC", time_ms=1_790_000_000_000))
        await run.until_status("all", FeedState.LIVE)
        fake.silence(True)  # sockets open, acks and pongs answered, no data
        stale = await run.until_status("all", FeedState.STALE, timeout=10)
        assert stale.last_message is not None  # the age is shown from the last message
        mark = len(run.statuses("all"))
        fake.silence(False)
        # Frames pushed while the watchdog's reconnect is in flight may hit a closing socket: keep
        # pushing until one arrives on the new connection.
        n = 0
        while not [liq for liq in run.liquidations() if liq.time > 1_790_000_000_000]:
            n += 1
            await fake.push(fake.liquidation_frame("BTC", time_ms=1_790_000_000_000 + n))
            await asyncio.sleep(0.1)
            assert n < 150, f"no recovery; statuses {run.statuses('all')[-5:]}"
        await run.until_status("all", FeedState.LIVE, after=mark)


@pytest.mark.parametrize("venue", LIQUIDATION_VENUES)
async def test_an_endpoint_answering_404_degrades_only_what_it_serves(venue, fake_exchange):
    fake = await fake_exchange(venue)
    fake.not_found(OI_PATH[venue])
    async with LiveRun(fake, oi_poll_seconds=0.3) as run:
        down = await run.until_status("oi", FeedState.DOWN, timeout=15)
        assert "404" in down.detail
        await run.subscribed()
        await fake.push(fake.liquidation_frame("BTC", time_ms=1_790_000_000_000))
        await run.until(run.liquidations, what="liquidations despite the 404")
        if venue != "bybit":  # on Bybit one call serves OI and tickers alike
            await run.until(lambda: run.of_type(Ticker), what="tickers despite the OI 404")
        await asyncio.sleep(1.0)  # three more polls
        # Only OI history (5-minute marks) arrives: the live OI endpoint is gone and nothing pretends otherwise.
        assert all(oi.time % 300_000 == 0 for oi in run.of_type(OpenInterest))
        assert [s for s in run.statuses("all") if s.state is FeedState.LIVE]


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_open_interest_and_tickers_are_polled_in_coin_and_usd(venue, fake_exchange):
    fake = await fake_exchange(venue)
    fake.set_open_interest("BTC", 81_234.5)
    fake.set_price("BTC", 90_000.0)
    async with LiveRun(fake, oi_poll_seconds=0.5) as run:

        def live_oi():
            return [
                o
                for o in run.of_type(OpenInterest)
                if o.symbol.startswith("BTC/") and o.base == pytest.approx(81_234.5)
            ]

        (oi, *_) = await run.until(live_oi, timeout=15, what="BTC open interest")
        assert oi.usd == pytest.approx(81_234.5 * 90_000.0, rel=0.01)
        tickers = await run.until(
            lambda: [
                t for t in run.of_type(Ticker) if t.symbol.startswith("BTC/") and t.funding_rate is not None
            ],
            what="BTC ticker",
        )
        assert tickers[-1].mark == pytest.approx(90_000.0, rel=0.01)
        polls = [r.time for r in fake.requests if r.path == OI_PATH[venue]]
        await run.until(
            lambda: len([r for r in fake.requests if r.path == OI_PATH[venue]]) >= len(polls) + 2,
            what="two more polls",
        )


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_backfill_emits_price_bars_and_oi_history_at_start(venue, fake_exchange):
    from liqtui.domain.events import PriceBar

    fake = await fake_exchange(venue)
    async with LiveRun(fake) as run:
        status = await run.until_status("history", FeedState.LIVE, timeout=20)
        bars = [b for b in run.of_type(PriceBar) if b.symbol.startswith("BTC/")]
        assert len(bars) >= 4 and all(b.low <= b.close <= b.high for b in bars)
        if venue != "hyperliquid":  # Hyperliquid publishes no OI history
            history = [o for o in run.of_type(OpenInterest) if o.symbol.startswith("BTC/")]
            assert len(history) >= 4 and all(o.usd > 0 for o in history), status


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_order_book_follows_the_focus_symbol(venue, fake_exchange):
    from liqtui.domain.events import BookSnapshot

    fake = await fake_exchange(venue)
    async with LiveRun(fake) as run:
        book = await run.until(
            lambda: [b for b in run.of_type(BookSnapshot) if b.symbol.startswith("BTC/")],
            timeout=15,
            what="BTC book",
        )
        assert book[-1].bids[0][0] < book[-1].asks[0][0]
        run.source.set_focus("ETH/USDT:USDT")
        await run.until(
            lambda: [b for b in run.of_type(BookSnapshot) if b.symbol.startswith("ETH/")],
            timeout=15,
            what="ETH book",
        )

        def btc_book_topics():
            return [
                t
                for t in fake.subscriptions
                if "btc" in t.lower() and any(w in t.lower() for w in ("depth", "orderbook", "book"))
            ]

        await run.until(lambda: not btc_book_topics(), timeout=10, what="the BTC book unsubscribed")


# Levels per side each venue's book gives liqtui (docs/exchanges.md): Hyperliquid's l2Book has 20.
VENUE_BOOK_DEPTH = {"hyperliquid": 20}


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_book_symbols_holds_every_watchlist_book_at_up_to_50_levels(venue, fake_exchange):
    """`liqtui record`'s source: books of BTC and ETH together, cut to 50 levels where the venue has
    more (the fake's books are 80 deep), and the focus moving unsubscribes none of them."""
    from liqtui.domain.events import BookSnapshot

    from fakes.core import DEFAULT_COINS

    fake = await fake_exchange(
        venue, coins={base: {**spec, "book_depth": 80} for base, spec in DEFAULT_COINS.items()}
    )
    options = dict(book_symbols=["BTC/USDT:USDT", "ETH/USDT:USDT"], book_levels=50)
    async with LiveRun(fake, source_options=options) as run:

        def books_of(coin: str) -> list[BookSnapshot]:
            return [b for b in run.of_type(BookSnapshot) if b.symbol.startswith(coin + "/")]

        await run.until(lambda: books_of("BTC") and books_of("ETH"), timeout=20, what="BTC and ETH books")
        depth = min(50, VENUE_BOOK_DEPTH.get(venue, 80))
        for coin in ("BTC", "ETH"):
            book = books_of(coin)[-1]
            assert book.symbol == f"{coin}/USDT:USDT"  # Hyperliquid's USDC books come under the asked symbol
            assert len(book.bids) == len(book.asks) == depth
            assert book.bids[0][0] < book.asks[0][0]
        status = await run.until_status("book", FeedState.LIVE, contains=",")
        assert "BTC/" in status.detail and "ETH/" in status.detail

        run.source.set_focus("SOL/USDT:USDT")
        seen = len(run.events)

        def fresh_books() -> set[str]:
            return {b.symbol.split("/")[0] for b in run.events[seen:] if isinstance(b, BookSnapshot)}

        # Both books keep streaming after the focus moved: book updates pushed until each came
        # through (the runtime passes at most one snapshot a book per book_min_interval).
        deadline = asyncio.get_running_loop().time() + 20
        while not {"BTC", "ETH"} <= fresh_books():
            assert asyncio.get_running_loop().time() < deadline, f"books after set_focus: {fresh_books()}"
            for coin in ("BTC", "ETH"):
                await fake.push(fake.book_update_frame(coin))
            await asyncio.sleep(0.3)
        assert not [b for b in run.of_type(BookSnapshot) if b.symbol.startswith("SOL/")]


async def test_hyperliquid_reads_its_backstop_vault_fills_and_still_streams_the_rest(fake_exchange):
    # Changed on purpose: Hyperliquid's liquidations come from its liquidator vault's fills (was: DOWN, no feed).
    fake = await fake_exchange("hyperliquid")
    vault = "0x2e3d94f0562703b25c83308a05046ddaf9a8dd14"
    async with LiveRun(fake, oi_poll_seconds=0.5) as run:
        await fake.wait_subscribed(f"userFills:{vault}", timeout=15)
        await run.until_status("all", FeedState.LIVE)
        oi = await run.until(lambda: run.of_type(OpenInterest), what="Hyperliquid OI")
        # BTC/USDC:USDC and ETH/USDC:USDC come under the asked symbols, so the engine sums the coin
        assert {o.symbol for o in oi} <= {"BTC/USDT:USDT", "ETH/USDT:USDT"}
        _, fill = fake.liquidation(
            "0x" + "a1" * 20, vault, "BTC", side="long", px=90_000, sz=0.5, method="backstop"
        )
        await fake.push_fills(vault, [fill])
        (liq,) = await run.until(run.liquidations, what="the backstop liquidation")
        assert (liq.symbol, liq.side, liq.usd, liq.sampled, liq.source) == (
            "BTC/USDT:USDT",
            "long",
            45_000,
            True,
            "backstop",
        )
        assert not [s for s in run.statuses("liquidations") if s.state is FeedState.DOWN]


async def test_a_venue_that_is_down_never_stops_the_others(fake_exchange):
    from liqtui.config import settings_from_dict
    from liqtui.domain.events import FeedStatus, Liquidation
    from liqtui.feeds.live.source import LiveSource
    from liqtui.feeds.live.supervision import Timings

    binance, bybit = await fake_exchange("binanceusdm"), await fake_exchange("bybit")
    binance.not_found("/fapi/v1/exchangeInfo")  # Binance cannot even list its markets
    settings = settings_from_dict(
        {
            "cross_assets": [],
            "venues": {
                "binanceusdm": {"url_rewrite": binance.url_rewrite},
                "bybit": {"url_rewrite": bybit.url_rewrite},
            },
        }
    )
    source = LiveSource(
        settings,
        venues=["binanceusdm", "bybit"],
        timings=Timings(backoff_base=0.1, backoff_cap=0.5, history_days=1 / 24),
    )
    events: list = []
    task = asyncio.create_task(source.run(events.append))
    try:
        await bybit.wait_subscribed("allLiquidation.BTCUSDT", timeout=15)
        await bybit.push(bybit.liquidation_frame("BTC", side="long", qty=1))
        for _ in range(500):
            down = [
                e
                for e in events
                if isinstance(e, FeedStatus) and e.venue == "binanceusdm" and e.state is FeedState.DOWN
            ]
            if down and any(isinstance(e, Liquidation) for e in events):
                break
            await asyncio.sleep(0.02)
        assert "cannot load markets" in down[-1].detail and "404" in down[-1].detail
        assert [e.venue for e in events if isinstance(e, Liquidation)] == ["bybit"]
        binance.clear_faults()  # Binance comes back: it recovers on its own
        await binance.wait_subscribed("!forceOrder@arr", timeout=15)
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("venue", ["bybit", "binanceusdm"])
async def test_a_dead_connection_that_stops_answering_pings_is_noticed_and_replaced(venue, fake_exchange):
    fake = await fake_exchange(venue)
    async with LiveRun(fake, stale_after=1.5) as run:
        await run.subscribed()
        await fake.push(fake.liquidation_frame("BTC", time_ms=1_790_000_000_000))
        await run.until_status("all", FeedState.LIVE)
        connections = fake.ws_connections
        fake.silence(True, answer_pings=False)
        await run.until_status("all", FeedState.STALE, timeout=10)
        fake.silence(False)
        await run.subscribed(count=2)
        assert fake.ws_connections > connections  # new sockets replaced the dead ones
        n = 0
        while not [liq for liq in run.liquidations() if liq.time > 1_790_000_000_000]:
            n += 1
            await fake.push(fake.liquidation_frame("BTC", time_ms=1_790_000_000_000 + n))
            await asyncio.sleep(0.1)
            assert n < 150


async def test_418_is_honoured_like_429(fake_exchange):
    fake = await fake_exchange("binanceusdm")
    async with LiveRun(fake, oi_poll_seconds=0.3) as run:
        await run.until(lambda: run.feed.markets_ready.is_set(), what="markets")
        fake.fail_next("/fapi/v1/premiumIndex", status=418, times=1, retry_after=1)
        status = await run.until_status("ticker", FeedState.STALE, contains="418", timeout=15)
        assert "banned" in status.detail
        await run.until_status(
            "ticker", FeedState.LIVE, after=run.statuses("ticker").index(status), timeout=15
        )
        hits = [r.time for r in fake.requests if r.path == "/fapi/v1/premiumIndex"]
        assert max(b - a for a, b in pairwise(hits)) >= 0.95


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_book_sizes_are_in_the_base_coin_on_every_venue(venue, fake_exchange):
    """The ladder sums every venue's book per price row, in coins (BookSnapshot's unit). OKX's book
    counts contracts (0.01 BTC each): passed on as they were, its sizes read 100x too big."""
    from liqtui.domain.events import BookSnapshot

    fake = await fake_exchange(venue)
    coin = fake.coin("BTC/USDT:USDT")
    async with LiveRun(fake) as run:
        books = await run.until(
            lambda: [b for b in run.of_type(BookSnapshot) if b.symbol.startswith("BTC/")],
            timeout=15,
            what="BTC book",
        )
        (price, size), (want_price, want_size) = books[-1].bids[0], coin.bids[0]
        assert price == pytest.approx(want_price) and size == pytest.approx(want_size, rel=1e-3), (
            venue,
            books[-1].bids[:3],
        )
