"""The pure parts of the live runtime: backoff, the frame tap's classification."""

import random

import pytest

from liqtui.config import LevelSettings, Settings
from liqtui.domain.events import FeedState, FeedStatus, Liquidation
from liqtui.feeds.live.binanceusdm import BinanceUsdm
from liqtui.feeds.live.markets import MarketIndex, MarketInfo
from liqtui.feeds.live.supervision import Timings, backoff_delay
from liqtui.feeds.live.venue_feed import VenueFeed


def test_backoff_grows_exponentially_is_capped_and_jittered():
    timings = Timings(backoff_base=0.5, backoff_cap=8.0, jitter=0.2)
    rng = random.Random(1)
    delays = [backoff_delay(k, timings, rng) for k in range(1, 9)]
    for k, delay in enumerate(delays, start=1):
        nominal = min(8.0, 0.5 * 2 ** (k - 1))
        assert nominal * 0.8 <= delay <= nominal * 1.2
    assert max(delays) <= 8.0 * 1.2
    assert len({round(d, 6) for d in delays[5:]}) > 1  # jitter: capped delays still differ


def test_timings_follow_settings():
    short = Timings.from_settings(Settings(stale_after_seconds=7.0, levels=LevelSettings(lookback_days=3.0)))
    assert (short.stale_after, short.history_days) == (7.0, 3.0)
    long = Timings.from_settings(Settings(levels=LevelSettings(lookback_days=90.0)))
    assert long.history_days == 30.0  # history is fetched for 30 days at most
    # an override (tests shorten delays) wins over the settings it replaces
    assert Timings.from_settings(Settings(stale_after_seconds=7.0), stale_after=0.5).stale_after == 0.5


def _feed():
    events: list = []
    adapter = BinanceUsdm()
    adapter.set_markets(MarketIndex([MarketInfo("BTC/USDT:USDT", "BTCUSDT", "BTC", "USDT")]))
    return VenueFeed(adapter, Settings(), events.append), events


def test_tap_consumes_liquidation_frames_and_reports_live_once(payload):
    feed, events = _feed()
    frame = payload("binanceusdm_watchLiquidations_forceOrder_docssample.json")
    assert feed.tap(None, frame) is True  # consumed: ccxt never sees it
    assert feed.tap(None, frame) is True
    liqs = [e for e in events if isinstance(e, Liquidation)]
    statuses = [e for e in events if isinstance(e, FeedStatus)]
    assert len(liqs) == 2 and feed.counters.liquidations == 2
    assert [(s.state, s.kind) for s in statuses] == [(FeedState.LIVE, "all")]


def test_tap_passes_other_frames_to_ccxt_and_skips_garbage():
    feed, events = _feed()
    assert feed.tap(None, {"e": "depthUpdate", "s": "BTCUSDT"}) is False
    assert feed.tap(None, {"result": None, "id": 3}) is False  # ack: not data
    assert feed.tap(None, "garbage") is True and feed.counters.malformed == 1
    assert feed.tap(None, {"e": "forceOrder", "o": {"s": 5, "z": "x"}}) is True  # unusable entry, no crash


def test_partial_tickers_are_merged_so_no_field_is_blanked():
    from liqtui.domain.events import Ticker

    feed, events = _feed()
    t = 1_790_000_000_000  # a time a venue can mean (1 ms after 1970 is now skipped as malformed)
    feed.deliver(
        Ticker(
            "binanceusdm",
            "BTC/USDT:USDT",
            t + 1,
            last=100.0,
            mark=101.0,
            funding_rate=0.0001,
            volume_24h_usd=5e9,
        )
    )
    feed.deliver(Ticker("binanceusdm", "BTC/USDT:USDT", t + 2, mark=102.0))  # a mark-price stream update
    latest = events[-1]
    assert (latest.time, latest.mark, latest.last, latest.funding_rate, latest.volume_24h_usd) == (
        t + 2,
        102.0,
        100.0,
        0.0001,
        5e9,
    )


def test_a_venue_quoting_the_coin_in_another_stable_maps_to_the_asked_symbol():
    from liqtui.domain.events import OpenInterest
    from liqtui.feeds.live.hyperliquid import Hyperliquid

    events: list = []
    adapter = Hyperliquid()
    adapter.set_markets(MarketIndex([MarketInfo("BTC/USDC:USDC", "BTC", "BTC", "USDC")]))
    feed = VenueFeed(adapter, Settings(watchlist=["BTC/USDT:USDT"], cross_assets=[]), events.append)
    feed._build_aliases()
    feed.deliver(OpenInterest("hyperliquid", "BTC/USDC:USDC", 10.0, 900_000.0, 1_790_000_000_000))
    assert events[-1].symbol == "BTC/USDT:USDT"
    plain = VenueFeed(adapter, Settings(watchlist=["BTC/USDT:USDT"]), events.append, map_to_requested=False)
    plain._build_aliases()
    plain.deliver(OpenInterest("hyperliquid", "BTC/USDC:USDC", 10.0, 900_000.0, 1_790_000_000_000))
    assert events[-1].symbol == "BTC/USDC:USDC"


@pytest.mark.parametrize("attempt", [1025, 1100, 10**6])
def test_backoff_stays_at_the_cap_forever(attempt):
    # 2 ** (attempt - 1) as a float overflowed after 1,024 attempts (8.5 h down).
    timings = Timings(backoff_base=0.5, backoff_cap=30.0, jitter=0.2)
    delay = backoff_delay(attempt, timings, random.Random(attempt))
    assert 30.0 * 0.8 <= delay <= 30.0 * 1.2
