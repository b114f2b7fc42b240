"""`liqtui snapshot`: one shot of open interest (coin and USD), mark, funding and 24 h volume per
venue and watchlist symbol, from one market poll of every enabled venue. Headless.

``--json`` prints one list of objects (``venue``, ``symbol``, ``oi_base``, ``oi_usd``, ``mark``,
``last``, ``funding_rate``, ``funding_interval_hours``, ``next_funding_time``, ``change_24h_pct``,
``volume_24h_usd``, ``time``); a venue that could not be read is listed under ``unavailable`` with
the reason. ``funding_rate`` is per the venue's own interval (``funding_interval_hours``: 8 on
Binance, Bybit and OKX unless the market says otherwise, 1 on Hyperliquid); the table labels it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field

from liqtui.commands._args import TIMEOUT, NumberIn
from liqtui.commands._bus import add_bus_arguments, bus_url, open_bus_source
from liqtui.commands.headless_live import (
    CommandError,
    add_venue_symbol_arguments,
    chosen_venues,
    print_err,
    resolve_symbols,
    run_source,
    split_symbols,
    wait_markets,
)
from liqtui.config import Settings
from liqtui.domain import format as fmt
from liqtui.domain.events import Event, FeedState, FeedStatus, OpenInterest, Ticker
from liqtui.engine.funding import funding_interval_hours


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--timeout",
        type=NumberIn(TIMEOUT),
        default=30.0,
        metavar="S",
        help=f"give up on a venue after S seconds, S in {TIMEOUT} (default 30)",
    )
    add_venue_symbol_arguments(parser, symbols_help="symbols to show (default: the watchlist)")
    add_bus_arguments(parser)


@dataclass
class Row:
    venue: str
    symbol: str
    oi: OpenInterest | None = None
    ticker: Ticker | None = None


@dataclass
class Snapshot:
    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    problems: dict[str, dict[str, str]] = field(default_factory=dict)  # venue -> kind -> latest why

    def add(self, event: Event) -> None:
        if isinstance(event, (OpenInterest, Ticker)):
            row = self.rows.setdefault((event.venue, event.symbol), Row(event.venue, event.symbol))
            # the newest by exchange time: on a bus a collector's backfill may be published after a poll
            if isinstance(event, OpenInterest) and (row.oi is None or event.time >= row.oi.time):
                row.oi = event
            elif isinstance(event, Ticker) and (row.ticker is None or event.time >= row.ticker.time):
                row.ticker = event
        elif isinstance(event, FeedStatus) and event.state in (FeedState.DOWN, FeedState.STALE):
            self.problems.setdefault(event.venue, {})[event.kind] = event.detail


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        url = bus_url(args, settings)
        snapshot, venues, symbols = asyncio.run(
            _from_bus(args, settings, url) if url else _collect(args, settings)
        )
    except CommandError as exc:
        print_err(f"liqtui: {exc}")
        return 2
    rows = sorted(snapshot.rows.values(), key=lambda r: (_rank(r.symbol, symbols), r.symbol, r.venue))
    unavailable = {
        v: "; ".join(snapshot.problems.get(v, {}).values()) or "no answer in time"
        for v in venues
        if not any(r.venue == v for r in rows)
    }
    if args.json:
        print(json.dumps({"rows": [_as_dict(r) for r in rows], "unavailable": unavailable}, indent=2))
    else:
        if rows:
            _print_table(rows)
        for venue, why in unavailable.items():
            print_err(f"liqtui: {venue} unavailable: {why}")
    return 0 if rows else 1


async def _collect(args: argparse.Namespace, settings: Settings) -> tuple[Snapshot, list[str], list[str]]:
    from liqtui.feeds.live.source import LiveSource

    venues = chosen_venues(args, settings)
    wanted = split_symbols(args.symbols) or list(settings.watchlist)
    source = LiveSource(
        settings, venues=venues, symbols=wanted, kinds=frozenset({"market"}), map_to_requested=False
    )
    snapshot = Snapshot()
    order: list[str] = []

    async def until() -> None:
        await wait_markets(source, timeout=args.timeout)
        allowed = resolve_symbols(source, wanted) if args.symbols else None
        order.extend(wanted)
        polls = [f.first_poll_done.wait() for f in source.feeds.values() if f.markets_ready.is_set()]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*polls), args.timeout)
        if allowed is not None:
            for key in [k for k in snapshot.rows if k[1] not in allowed.get(k[0], ())]:
                del snapshot.rows[key]

    await run_source(source, snapshot.add, until)
    return snapshot, venues, order


async def _from_bus(
    args: argparse.Namespace, settings: Settings, url: str
) -> tuple[Snapshot, list[str], list[str]]:
    """The latest OI and ticker of every venue and symbol the stream holds (no exchange connection);
    --symbols match by unified symbol or coin (BTC), as the collector published them."""
    venues = chosen_venues(args, settings)
    wanted = split_symbols(args.symbols) or list(settings.watchlist)
    coins = {text.upper() for text in wanted} | {text.split("/")[0].upper() for text in wanted}
    since = int(time.time() * 1000) - SNAPSHOT_HISTORY_MS
    source = await open_bus_source(
        settings, url, history=("oi",), since_ms=since, latest=("ticker", "status"), live=()
    )
    snapshot = Snapshot()

    def add(event: Event) -> None:
        symbol = getattr(event, "symbol", None)
        if event.venue in venues and (
            symbol is None or coins & {symbol.upper(), symbol.split("/")[0].upper()}
        ):
            snapshot.add(event)

    async def until() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(source.history_done.wait(), args.timeout)

    try:
        await run_source(source, add, until)
    finally:
        await source.close()
    return snapshot, venues, wanted


SNAPSHOT_HISTORY_MS = 15 * 60_000  # OI published in the last 15 minutes: the newest per market is shown


def _rank(symbol: str, asked: list[str]) -> int:
    """Rows follow the order the symbols were asked in (by coin: BTC/USDC:USDC answers BTC/USDT:USDT)."""
    base = symbol.split("/", 1)[0]
    for i, text in enumerate(asked):
        if text.upper().startswith(base):
            return i
    return len(asked)


def _as_dict(row: Row) -> dict:
    t, oi = row.ticker, row.oi
    return {
        "venue": row.venue,
        "symbol": row.symbol,
        "oi_base": oi.base if oi else None,
        "oi_usd": oi.usd if oi else None,
        "mark": t.mark if t else None,
        "last": t.last if t else None,
        "funding_rate": t.funding_rate if t else None,
        "funding_interval_hours": funding_interval_hours(row.venue, t.funding_interval_hours) if t else None,
        "next_funding_time": t.next_funding_time if t else None,
        "change_24h_pct": t.change_24h_pct if t else None,
        "volume_24h_usd": t.volume_24h_usd if t else None,
        "time": max([x.time for x in (t, oi) if x is not None], default=None),
    }


def _num(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _usd(value: float | None) -> str:
    return fmt.usd(value, 2, missing="n/a")


def _print_table(rows: list[Row]) -> None:
    header = f"{'symbol':<16} {'venue':<11} {'OI (coin)':>16} {'OI (USD)':>11} {'mark':>12} {'funding':>13} {'next funding':>12} {'24h vol':>11} {'24h':>7}"
    print(header)
    print("-" * len(header))
    now = time.time() * 1000
    for row in rows:
        d = _as_dict(row)
        funding = (
            "n/a"
            if d["funding_rate"] is None
            else f"{d['funding_rate'] * 100:.4f}%{_per(d['funding_interval_hours'])}"
        )
        nxt = "n/a" if d["next_funding_time"] is None else _countdown(d["next_funding_time"] - now)
        change = "n/a" if d["change_24h_pct"] is None else f"{d['change_24h_pct']:+.2f}%"
        print(
            f"{row.symbol:<16} {row.venue:<11} {_num(d['oi_base'], ',.2f'):>16} {_usd(d['oi_usd']):>11} "
            f"{_num(d['mark'] or d['last'], ',.6g'):>12} {funding:>13} {nxt:>12} {_usd(d['volume_24h_usd']):>11} {change:>7}"
        )
    sys.stdout.flush()


def _per(hours: float | None) -> str:
    """The interval a rate is paid over: "/8h", "/1h"; "/?" when the venue's interval is not known."""
    return "/?" if hours is None else f"/{hours:g}h"


def _countdown(ms: float) -> str:
    if ms < 0:
        return "now"
    minutes = int(ms // 60_000)
    return f"{minutes // 60}h{minutes % 60:02d}m"
