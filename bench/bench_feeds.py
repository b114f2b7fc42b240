"""Live-feed speed on this machine: prints figures, asserts nothing (tests never time things).

    .venv/bin/python bench/bench_feeds.py [--quick]

Figures (targets in brackets, as in bench/README.md):
1. Per liquidation frame, websocket text -> engine update, for Binance (one entry a frame), Bybit
   (batches of 10) and OKX (1 and 10 details):
   - ccxt: what ccxt 4.5.90 does with that text on its own (decode + its handler: parse, cache,
     resolve the watchers), on the same Client object;
   - liqtui: the guarded decode + the frame tap (normalize every entry, side, USD) + Engine.apply
     of each Liquidation;
   and the ratio liqtui / ccxt                                                       [<= 1.5x]
2. The worker keeping up: Binance liquidation frames pushed over a real loopback websocket (the
   test fake exchange) into LiveSource -> Engine, paced at 5,000 entries/s, then as fast as the fake
   can push; prints achieved entries/s and the delivery lag                          [5,000/s]

Times are best of several runs (process CPU time beside wall time: the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from liqtui.config import Settings, settings_from_dict  # noqa: E402
from liqtui.domain.events import Liquidation  # noqa: E402
from liqtui.engine import Engine  # noqa: E402
from liqtui.feeds.live import frame_tap  # noqa: E402
from liqtui.feeds.live.exchange import make_exchange  # noqa: E402
from liqtui.feeds.live.markets import MarketIndex  # noqa: E402
from liqtui.feeds.live.source import ADAPTERS, LiveSource  # noqa: E402
from liqtui.feeds.live.venue_feed import Timings, VenueFeed  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "exchange-payloads"


# ---------------------------------------------------------------------- frames
def binance_frame(i: int) -> str:
    return json.dumps(
        {
            "e": "forceOrder",
            "E": 1_790_000_000_000 + i,
            "o": {
                "s": "BTCUSDT",
                "S": "SELL" if i % 2 else "BUY",
                "o": "LIMIT",
                "f": "IOC",
                "q": "0.014",
                "p": "95010.1",
                "ap": "95000.5",
                "X": "FILLED",
                "l": "0.014",
                "z": "0.014",
                "T": 1_790_000_000_000 + i,
            },
        }
    )


def bybit_frame(i: int, entries: int = 10) -> str:
    return json.dumps(
        {
            "topic": "allLiquidation.BTCUSDT",
            "type": "snapshot",
            "ts": 1_790_000_000_000 + i,
            "data": [
                {
                    "T": 1_790_000_000_000 + i,
                    "s": "BTCUSDT",
                    "S": "Buy" if k % 2 else "Sell",
                    "v": "0.25",
                    "p": "95000.5",
                }
                for k in range(entries)
            ],
        }
    )


def okx_frame(i: int, details: int = 10) -> str:
    return json.dumps(
        {
            "arg": {"channel": "liquidation-orders", "instType": "SWAP"},
            "data": [
                {
                    "instFamily": "BTC-USDT",
                    "instId": "BTC-USDT-SWAP",
                    "instType": "SWAP",
                    "uly": "BTC-USDT",
                    "details": [
                        {
                            "bkLoss": "0",
                            "bkPx": "95000.5",
                            "ccy": "",
                            "posSide": "long" if k % 2 else "short",
                            "side": "sell" if k % 2 else "buy",
                            "sz": "25",
                            "ts": str(1_790_000_000_000 + i),
                        }
                        for k in range(details)
                    ],
                }
            ],
        }
    )


# (venue, frame maker, entries per frame): OKX twice, because ccxt keeps only details[0] of a frame,
# so its per-frame cost on a 10-detail frame is the cost of one entry.
FRAMES = [
    ("binanceusdm", binance_frame, 1),
    ("bybit", bybit_frame, 10),
    ("okx", lambda i: okx_frame(i, 1), 1),
    ("okx", okx_frame, 10),
]


def ccxt_markets(venue: str) -> list[dict[str, Any]]:
    """The venue's BTC perpetual as ccxt's own market structure (offline, no load_markets)."""
    base = {
        "symbol": "BTC/USDT:USDT",
        "base": "BTC",
        "quote": "USDT",
        "settle": "USDT",
        "baseId": "BTC",
        "quoteId": "USDT",
        "settleId": "USDT",
        "type": "swap",
        "spot": False,
        "margin": False,
        "swap": True,
        "future": False,
        "option": False,
        "active": True,
        "contract": True,
        "linear": True,
        "inverse": False,
        "expiry": None,
        "expiryDatetime": None,
        "strike": None,
        "optionType": None,
        "precision": {"amount": 0.001, "price": 0.1},
        "limits": {"amount": {}, "price": {}, "cost": {}, "leverage": {}},
        "info": {},
    }
    if venue == "binanceusdm":
        info = json.loads((FIXTURES / "binanceusdm_fetchMarkets_exchangeInfo_trimmed.json").read_text())
        exchange = make_exchange(venue)
        return [exchange.parse_market(m) for m in info["symbols"] if m["symbol"] == "BTCUSDT"]
    if venue == "bybit":
        return [dict(base, id="BTCUSDT", lowercaseId="btcusdt", contractSize=1.0)]
    return [dict(base, id="BTC-USDT-SWAP", lowercaseId="btc-usdt-swap", contractSize=0.01)]


# ---------------------------------------------------------------------- 1. per frame
def best_of(fn, repeats: int) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


async def per_frame(venue: str, make: Any, entries: int, frames: int, repeats: int) -> None:
    texts = [make(i) for i in range(frames)]
    markets = ccxt_markets(venue)

    # ccxt alone: a fresh exchange with the market, one client, ccxt's own decode + handler.
    ccxt_exchange = make_exchange(venue)
    ccxt_exchange.set_markets(markets)
    ccxt_client = ccxt_exchange.client("ws://127.0.0.1:9/ccxt")

    def ccxt_run() -> None:
        for text in texts:
            ccxt_client.handle_text_or_binary_message(text)

    # How many entries ccxt itself keeps of a frame (its watch_liquidations cache), from 100 frames.
    for text in texts[:100]:
        ccxt_client.handle_text_or_binary_message(text)
    ccxt_entries = len(ccxt_exchange.liquidations or []) / 100

    # liqtui: the same kind of client with liqtui's hooks, the tap emitting into an Engine.
    engine = Engine()
    adapter = ADAPTERS[venue]()
    liqtui_exchange = make_exchange(venue)
    liqtui_exchange.set_markets(markets)
    feed = VenueFeed(adapter, Settings(watchlist=[], cross_assets=[]), engine.apply)
    adapter.set_markets(MarketIndex.from_ccxt(liqtui_exchange.markets, venue))
    frame_tap.install(liqtui_exchange, feed.tap, feed.counters)
    liqtui_client = liqtui_exchange.client("ws://127.0.0.1:9/liqtui")

    def liqtui_run() -> None:
        for text in texts:
            liqtui_client.handle_text_or_binary_message(text)

    ccxt_wall, ccxt_cpu = best_of(ccxt_run, repeats)
    liqtui_wall, liqtui_cpu = best_of(liqtui_run, repeats)
    delivered = feed.counters.liquidations
    expected = frames * entries * repeats
    per_ccxt = ccxt_wall / frames * 1e6
    per_liqtui = liqtui_wall / frames * 1e6
    print(
        f"  {venue:<12} {entries:>2} entries/frame  ccxt {per_ccxt:7.1f} us/frame (cpu {ccxt_cpu / frames * 1e6:6.1f}), keeps {ccxt_entries:g} entry/frame   "
        f"liqtui {per_liqtui:7.1f} us/frame (cpu {liqtui_cpu / frames * 1e6:6.1f}), delivers {delivered / (frames * repeats):g}/frame"
    )
    print(
        f"  {'':<12} ratio liqtui/ccxt per frame: wall {per_liqtui / per_ccxt:4.2f}x, cpu {liqtui_cpu / ccxt_cpu:4.2f}x   [target <= 1.5x]"
        f"   per entry delivered: cpu {(liqtui_cpu / delivered * repeats) / (ccxt_cpu / (frames * ccxt_entries)):4.2f}x"
        f"   (entries delivered {delivered:,}/{expected:,})"
    )
    await ccxt_exchange.close()
    await liqtui_exchange.close()


# ---------------------------------------------------------------------- 2. throughput
async def throughput(seconds: float, rate: int) -> None:
    from fakes import FakeExchange

    async with FakeExchange("binanceusdm") as fake:
        settings = settings_from_dict(
            {
                "watchlist": ["BTC/USDT:USDT"],
                "cross_assets": [],
                "venues": {"binanceusdm": {"url_rewrite": fake.url_rewrite}},
            }
        )
        engine = Engine()
        arrivals: list[float] = []

        def emit(event: Any) -> None:
            engine.apply(event)
            if type(event) is Liquidation:
                arrivals.append(time.perf_counter())

        source = LiveSource(
            settings,
            venues=["binanceusdm"],
            kinds=frozenset({"liquidations"}),
            timings=Timings(stale_after=60),
        )
        task = asyncio.create_task(source.run(emit))
        await fake.wait_subscribed("forceOrder", timeout=20)
        frames = [binance_frame(i) for i in range(int(seconds * rate))]

        # paced: `rate` entries a second, in 10 ms slices
        arrivals.clear()
        slice_n = max(1, rate // 100)
        start = time.perf_counter()
        cpu0 = time.process_time()
        for k in range(0, len(frames), slice_n):
            for text in frames[k : k + slice_n]:
                await fake.push(text, topic="!forceOrder@arr")
            due = start + (k + slice_n) / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        pushed_at = time.perf_counter()
        while len(arrivals) < len(frames) and time.perf_counter() - pushed_at < 30:
            await asyncio.sleep(0.01)
        got = len(arrivals)
        span = (arrivals[-1] - start) if arrivals else float("nan")
        print(
            f"  paced at {rate:,}/s for {seconds:g} s: {got:,}/{len(frames):,} delivered, achieved {got / span:,.0f} entries/s, "
            f"last one {max(0.0, arrivals[-1] - pushed_at) * 1000:.0f} ms after the last push  (process cpu {time.process_time() - cpu0:.2f} s, "
            f"fake included)  [target 5,000/s]"
        )

        # flat out: as fast as the fake can write
        arrivals.clear()
        start = time.perf_counter()
        for text in frames:
            await fake.push(text, topic="!forceOrder@arr")
        while len(arrivals) < len(frames) and time.perf_counter() - start < 60:
            await asyncio.sleep(0.01)
        span = arrivals[-1] - start if arrivals else float("nan")
        print(
            f"  flat out: {len(arrivals):,}/{len(frames):,} delivered in {span:.2f} s = {len(arrivals) / span:,.0f} entries/s "
            f"(fake server and liqtui share this one process and core)"
        )
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    args = parser.parse_args()
    frames, repeats, seconds = (2_000, 3, 2.0) if args.quick else (10_000, 5, 5.0)
    print(f"1. per liquidation frame, websocket text -> engine update ({frames:,} frames, best of {repeats})")
    for venue, make, entries in FRAMES:
        await per_frame(venue, make, entries, frames, repeats)
    print("2. worker throughput over a loopback websocket (Binance fake -> ccxt client -> liqtui -> Engine)")
    await throughput(seconds, 5_000)


if __name__ == "__main__":
    asyncio.run(main())
