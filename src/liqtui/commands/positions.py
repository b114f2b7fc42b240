"""`liqtui positions SYMBOL`: the MEASURED positions of tracked Hyperliquid accounts in one symbol,
headless.

Accounts come from the config (``[venues.hyperliquid] accounts``, ``accounts_file``), the optional
leaderboard and the ``trades`` feed of SYMBOL; each is read with ``clearinghouseState`` within the
weight budget (docs/exchanges.md). The scan lasts ``--duration S``, by default until every
configured account has been read once (60 s when none is configured), then prints the positions,
largest first; ``--near PCT`` keeps those whose liquidation price is within PCT % of the mark.
``--json`` prints one object per line::

    {"venue": "hyperliquid", "symbol": "BTC/USDC:USDC", "account": "0x..", "side": "short",
     "size": 0.5, "usd": 47500.0, "entry": 95000.0, "liquidation_price": 101234.5, "leverage": 20,
     "margin": "cross", "time": 1708622398623}

(ccxt unified symbol, side long/short, size in the base coin, time: ms of the snapshot;
``liquidation_price`` null when no price liquidates the position). A symbol Hyperliquid does not list
is one error (exit 2); Hyperliquid unreachable is one error (exit 1). ``--bus URL`` reads what a
collector published in the last 15 minutes instead (each account's newest snapshot).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time

from liqtui.commands._args import DURATION, NumberIn
from liqtui.commands._bus import add_bus_arguments, bus_url, open_bus_source
from liqtui.commands.headless_live import CommandError, print_err, resolve_symbols, run_source, wait_markets
from liqtui.config import Range, Settings
from liqtui.domain import format as fmt
from liqtui.domain.events import Event, FeedState, FeedStatus, PositionSnapshot, Ticker
from liqtui.domain.venues import POSITIONS_VENUE as VENUE
from liqtui.engine.positions import MeasuredPositions

NEAR = Range(0, 1000, "%", low_open=True)
NO_ACCOUNTS_SCAN_S = 60.0
BUS_SPAN_MS = 15 * 60_000  # a tracked account is read at least every 10 minutes
MARKETS_TIMEOUT_S = 30.0


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("symbol", metavar="SYMBOL", help="the symbol (BTC, BTC/USDC:USDC, ...)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line (for jq)")
    parser.add_argument(
        "--near",
        type=NumberIn(NEAR),
        default=None,
        metavar="PCT",
        help=f"only positions whose liquidation price is within PCT %% of the mark, PCT in {NEAR}",
    )
    parser.add_argument(
        "--duration",
        type=NumberIn(DURATION),
        default=None,
        metavar="S",
        help="scan for S seconds (default: until each configured account was read once; "
        f"{NO_ACCOUNTS_SCAN_S:g} s when none is configured)",
    )
    add_bus_arguments(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if VENUE not in settings.enabled_venues:
        print_err(
            f"liqtui: {settings.source}: Hyperliquid is disabled ([venues.hyperliquid] enabled = false); "
            "positions are measured there only"
        )
        return 2
    url = bus_url(args, settings)
    try:
        found, mark, symbol, health = asyncio.run(
            _from_bus(args, settings, url) if url else _scan(args, settings)
        )
    except CommandError as exc:
        print_err(f"liqtui: {exc}")
        return 2
    if symbol is None:
        print_err(f"liqtui: Hyperliquid unreachable: {health or 'no answer'}")
        return 1
    rows = [p for p in found if args.near is None or _within(p, mark, args.near)]
    if args.json:
        for p in rows:
            print(json.dumps(as_dict(p)), flush=False)
    else:
        _print_table(rows, mark, symbol)
    return 0


async def _scan(
    args: argparse.Namespace, settings: Settings
) -> tuple[list[PositionSnapshot], float | None, str | None, str]:
    from liqtui.feeds.live.source import LiveSource

    source = LiveSource(
        settings,
        venues=[VENUE],
        symbols=[args.symbol],
        kinds=frozenset({"market", "prices", "positions"}),
        map_to_requested=False,
    )
    feed = source.feeds[VENUE]
    store = MeasuredPositions()
    health: dict[str, str] = {}
    chosen: list[str] = []

    def emit(event: Event) -> None:
        if isinstance(event, PositionSnapshot):
            store.see(event)
        elif isinstance(event, FeedStatus) and event.state in (FeedState.DOWN, FeedState.RECONNECTING):
            health[event.kind] = event.detail

    async def until() -> None:
        started = time.monotonic()
        await wait_markets(source, timeout=args.duration or MARKETS_TIMEOUT_S)
        if not feed.markets_ready.is_set():
            return
        chosen.extend(resolve_symbols(source, [args.symbol])[VENUE])
        adapter = feed.adapter
        while True:
            elapsed = time.monotonic() - started
            if args.duration is not None and elapsed >= args.duration:
                return
            if args.duration is None and _all_read(adapter, elapsed):
                return
            await asyncio.sleep(0.1)

    await run_source(source, emit, until)
    symbol = chosen[0] if chosen else None
    ticker = feed.merged_ticker(symbol) if symbol else None
    mark = (ticker.mark or ticker.last) if ticker is not None else None
    if symbol is not None:
        print_err(f"liqtui: {VENUE} positions: {feed.adapter.positions_detail()}")  # type: ignore[attr-defined]
    return store.of(symbol) if symbol else [], mark, symbol, "; ".join(health.values())


async def _from_bus(
    args: argparse.Namespace, settings: Settings, url: str
) -> tuple[list[PositionSnapshot], float | None, str | None, str]:
    """The positions a collector published in the last BUS_SPAN_MS (each account's newest, those
    still open) and the latest mark; SYMBOL matches a unified symbol or its coin."""
    since = int(time.time() * 1000) - BUS_SPAN_MS
    source = await open_bus_source(
        settings, url, history=("position",), since_ms=since, latest=("ticker",), live=()
    )
    store = MeasuredPositions()
    tickers: dict[str, Ticker] = {}

    def emit(event: Event) -> None:
        if isinstance(event, PositionSnapshot) and event.venue == VENUE:
            store.see(event)
        elif isinstance(event, Ticker) and event.venue == VENUE:
            tickers[event.symbol] = event

    async def until() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(source.history_done.wait(), args.duration or MARKETS_TIMEOUT_S)

    try:
        await run_source(source, emit, until)
    finally:
        await source.close()
    text = args.symbol.upper()
    held = sorted(set(store.symbols()) | set(tickers))
    matches = [s for s in held if s.upper() == text] or [
        s for s in held if s.split("/")[0].upper() == text.split("/")[0]
    ]
    if not matches:
        raise CommandError(
            f"the bus holds no {VENUE} market {args.symbol!r} (it holds: {', '.join(held) or 'none'})"
        )
    symbol = matches[0]
    ticker = tickers.get(symbol)
    return store.of(symbol), (ticker.mark or ticker.last) if ticker else None, symbol, ""


def _all_read(adapter: object, elapsed: float) -> bool:
    configured: set[str] = getattr(adapter, "configured", set())
    if not configured:
        return elapsed >= NO_ACCOUNTS_SCAN_S
    return configured <= getattr(adapter, "read", set())


def _within(p: PositionSnapshot, mark: float | None, pct: float) -> bool:
    if mark is None or p.liquidation_price is None:
        return False
    return abs(p.liquidation_price - mark) / mark * 100 <= pct


def as_dict(p: PositionSnapshot) -> dict[str, object]:
    return {
        "venue": p.venue,
        "symbol": p.symbol,
        "account": p.account,
        "side": p.side.value,
        "size": p.size,
        "usd": p.usd,
        "entry": p.entry,
        "liquidation_price": p.liquidation_price,
        "leverage": p.leverage,
        "margin": p.margin,
        "time": p.time,
    }


def _print_table(rows: list[PositionSnapshot], mark: float | None, symbol: str) -> None:
    now = int(time.time() * 1000)
    print_err(
        f"liqtui: MEASURED positions of tracked Hyperliquid accounts in {symbol}, mark "
        f"{fmt.price(mark) if mark else 'n/a'}; {len(rows)} shown"
    )
    print(
        f"{'account':<13} {'side':<5} {'size':>14} {'USD':>10} {'entry':>12} {'liq. price':>12} {'dist.':>7} {'lev.':>13} {'age':>6}"
    )
    for p in rows:
        distance = (
            f"{(p.liquidation_price - mark) / mark * 100:+.1f}%" if mark and p.liquidation_price else "n/a"
        )
        print(
            f"{p.account[:6]}…{p.account[-4:]:<2} {p.side.value:<5} {p.size:>14g} {fmt.usd(p.usd, 2):>10} "
            f"{fmt.price(p.entry):>12} {fmt.price(p.liquidation_price) if p.liquidation_price else 'none':>12} "
            f"{distance:>7} {f'{p.leverage:g}x {p.margin}':>13} {max(0, now - p.time) // 1000:>5}s"
        )
