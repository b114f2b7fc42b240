"""`liqtui tail`: every liquidation as it arrives, from every enabled venue, headless.

Text by default (aligned; coloured by side when stdout is a terminal and NO_COLOR is unset), or
one JSON object per line with ``--json``::

    {"venue": "binanceusdm", "symbol": "BTC/USDT:USDT", "side": "long", "price": 91234.5,
     "price_kind": "fill", "qty": 0.25, "usd": 22808.625, "time": 1790000000123, "sampled": true}

``side`` is the side of the position that was liquidated; ``price_kind`` says what the price is:
the average ``fill`` price (Binance) or the position's ``bankruptcy`` price (Bybit, OKX), from
``domain.venues``; ``usd`` is at full precision; ``sampled`` marks venues that push at most one
liquidation per symbol per second (totals from them are lower bounds). Venue health changes go
to stderr, so `liqtui tail --json | jq` sees only liquidations. Hyperliquid has no public
liquidation feed: stderr says so once.

``--duration`` counts from the start, market loading and symbol resolution included. Ctrl-C and
SIGTERM end it the same way: the summary on stderr, exit code 0 (1 when no venue was reachable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import signal
import sys
import time
from collections import Counter
from typing import TextIO

from liqtui.commands._args import DURATION, USD, NumberIn
from liqtui.commands._bus import add_bus_arguments, age_ms, bus_url, open_bus_source
from liqtui.commands.headless_live import (
    CommandError,
    add_venue_symbol_arguments,
    chosen_venues,
    health_line,
    print_err,
    resolve_symbols,
    run_source,
    split_symbols,
    wait_markets,
)
from liqtui.config import Settings
from liqtui.domain.events import Event, FeedState, FeedStatus, Liquidation, Side
from liqtui.domain.text import printable
from liqtui.domain.venues import LIQUIDATION_PRICE_KIND, PriceKind, liquidation_price_kind
from liqtui.feeds.symbols import venue_symbol

HEALTH_KINDS = ("all", "liquidations")
RED, GREEN, DIM, RESET = "\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[0m"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # both end the tail with its summary, exit 0
PRICE_MARK = {PriceKind.FILL: "fill", PriceKind.BANKRUPTCY: "bkrpt"}  # the text column after the price


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per line (for jq)")
    parser.add_argument(
        "--duration",
        type=NumberIn(DURATION),
        metavar="S",
        help=f"stop after S seconds, S in {DURATION} (default: until Ctrl-C)",
    )
    parser.add_argument(
        "--min-usd",
        type=NumberIn(USD),
        default=0.0,
        metavar="X",
        help=f"only liquidations of at least X USD, X in {USD}",
    )
    add_venue_symbol_arguments(parser, symbols_help="only these symbols (BTC, ETHUSDT, SOL/USDT:USDT, ...)")
    add_bus_arguments(parser)
    parser.add_argument(
        "--since",
        type=age_ms,
        metavar="AGE",
        default=None,
        help="with a bus: first what it holds from this far back (10m, 1h, 90s, 1d), then live",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        url = bus_url(args, settings)
        if args.since is not None and not url:
            raise CommandError("--since reads history from a bus: add --bus URL (or [bus] url)")
        return asyncio.run(
            _tail_bus(args, settings, url, sys.stdout) if url else _tail(args, settings, sys.stdout)
        )
    except CommandError as exc:
        print_err(f"liqtui: {exc}")
        return 2
    except BrokenPipeError:  # `| head` closed the pipe: a normal way to stop
        _silence_stdout()
        return 0


def format_json(liq: Liquidation) -> str:
    """One JSON line; values are validated at the feed, and ``allow_nan=False`` makes sure no
    ``NaN``/``Infinity`` (not JSON) could ever reach a reader."""
    kind = liquidation_price_kind(liq.venue)
    return json.dumps(
        {
            "venue": liq.venue,
            "symbol": liq.symbol,
            "side": liq.side.value,
            "price": liq.price,
            "price_kind": kind.value if kind else None,
            "qty": liq.qty,
            "usd": liq.usd,
            "time": liq.time,
            "sampled": liq.sampled,
            "source": liq.source.value,
        },
        separators=(", ", ": "),
        allow_nan=False,
    )


def format_text(liq: Liquidation, colour: bool) -> str:
    clock = time.strftime("%H:%M:%S", time.gmtime(liq.time / 1000)) + f".{liq.time % 1000:03d}"
    side = "LONG" if liq.side is Side.LONG else "SHORT"
    mark = "~" if liq.sampled else " "
    kind = PRICE_MARK.get(liquidation_price_kind(liq.venue), "?")  # type: ignore[arg-type]
    symbol = printable(liq.symbol)
    line = f"{clock}  {liq.venue:<11}  {symbol:<16}  {side:<5}  {liq.qty:>14,.4f} @ {liq.price:>12,.6g} {kind:<5}  ${liq.usd:>13,.0f} {mark}"
    if colour:
        # liquidated longs are forced sells (red), liquidated shorts forced buys (green)
        line = (RED if liq.side is Side.LONG else GREEN) + line + RESET
    return line


def price_note() -> str:
    """What the text's price mark means, venue by venue (from ``domain.venues``)."""
    names = {
        kind: ", ".join(v for v, k in LIQUIDATION_PRICE_KIND.items() if k is kind) for kind in PRICE_MARK
    }
    return "; ".join(f"{PRICE_MARK[kind]} = {kind.value} price ({names[kind]})" for kind in PRICE_MARK)


async def _tail(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from liqtui.feeds.live.source import LiveSource

    venues = chosen_venues(args, settings)
    wanted = split_symbols(args.symbols)
    # Liquidations, the price stream whose steady traffic tells a live venue from a dead one, and
    # the tracked accounts whose vanished positions are looked up (Hyperliquid's "tracked" source).
    source = LiveSource(
        settings,
        venues=venues,
        symbols=wanted or None,
        kinds=frozenset({"liquidations", "prices", "positions"}),
        map_to_requested=False,
    )
    colour = not args.json and out.isatty() and not os.environ.get("NO_COLOR")
    counts: Counter[str] = Counter()
    reached: set[str] = set()  # venues that were live at some point
    if not args.json:
        print_err(
            "liqtui: tail of live liquidations; side = the position liquidated; ~ = sampled (at most 1/s per symbol; "
            "Hyperliquid: its backstop liquidator's fills and its tracked accounts' only)"
        )
        print_err(f"liqtui: price: {price_note()}")

    def emit(event: Event) -> None:
        if isinstance(event, FeedStatus):
            if event.state is FeedState.LIVE:
                reached.add(event.venue)
            if event.kind in HEALTH_KINDS:
                print_err(health_line(event))
            return
        if not isinstance(event, Liquidation) or event.usd < args.min_usd:
            return
        if wanted and event.symbol not in allowed_on(event.venue):
            return
        counts[event.venue] += 1
        out.write((format_json(event) if args.json else format_text(event, colour)) + "\n")
        out.flush()

    @functools.cache
    def allowed_on(venue: str) -> frozenset[str]:
        """The venue's symbols for --symbols. Its markets are loaded before its first liquidation, so
        a venue that is slow or down never holds back the others."""
        markets = source.feeds[venue].adapter.markets
        return frozenset(s for text in wanted if (s := venue_symbol(text, markets)) is not None)

    async def follow() -> None:
        if wanted:  # a symbol no venue lists is one clear error, once every venue answered (or 30 s)
            await wait_markets(source, timeout=30)
            resolve_symbols(source, wanted)
        await asyncio.Event().wait()

    async def until() -> None:
        """``follow`` until --duration (counted from here, symbol resolution included), Ctrl-C or SIGTERM."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop.set)
        work, stopped = asyncio.ensure_future(follow()), asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({work, stopped}, timeout=args.duration, return_when=asyncio.FIRST_COMPLETED)
            if work.done():
                work.result()  # an unknown symbol: CommandError
        finally:
            for task in (work, stopped):
                task.cancel()
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    failed = False
    try:
        await run_source(source, emit, until)
    except CommandError:
        failed = True  # one clear error (unknown symbol), no summary
        raise
    finally:
        if not failed:  # also on Ctrl-C
            skipped = sum(f.counters.malformed + f.counters.handler_errors for f in source.feeds.values())
            no_feed = {venue for venue, feed in source.feeds.items() if not feed.adapter.has_liquidations}
            summary = ", ".join(
                f"{venue} n/a (no public feed)" if venue in no_feed else f"{venue} {counts[venue]}"
                for venue in venues
            )
            print_err(
                f"liqtui: {sum(counts.values())} liquidations ({summary}); {skipped} malformed frames or entries skipped"
            )
            if not reached:
                print_err("liqtui: no venue was reachable: nothing above is live data")
    return 0 if reached else 1


async def _tail_bus(args: argparse.Namespace, settings: Settings, url: str, out: TextIO) -> int:
    """The same lines from the bus: history from --since first, then live; no exchange connection.
    --symbols filters by the unified symbols the collector published (short forms: BTC, ETH...)."""
    wanted = {s.upper() for s in split_symbols(args.symbols)}
    venues = set(chosen_venues(args, settings)) if args.venues else None
    since = None if args.since is None else int(time.time() * 1000) - args.since
    source = await open_bus_source(
        settings,
        url,
        history=("liq",) if since is not None else (),
        since_ms=since,
        latest=("status",),
        live=("liq", "status"),
    )
    counts: Counter[str] = Counter()
    colour = not args.json and out.isatty() and not os.environ.get("NO_COLOR")
    what = "from the bus" if since is None else f"from the bus, the last {_age(args.since)} first"
    print_err(
        f"liqtui: tail of liquidations {what}, then live (stream sequence {source.seam}); no exchange connection"
    )

    def emit(event: Event) -> None:
        if isinstance(event, FeedStatus):
            if event.kind in HEALTH_KINDS:
                print_err(health_line(event))
            return
        if (
            not isinstance(event, Liquidation)
            or event.usd < args.min_usd
            or (venues and event.venue not in venues)
        ):
            return
        if wanted and not wanted & {event.symbol.upper(), event.symbol.split("/")[0].upper()}:
            return
        counts[event.venue] += 1
        out.write((format_json(event) if args.json else format_text(event, colour)) + "\n")
        out.flush()

    async def until() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop.set)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.duration)

    try:
        await run_source(source, emit, until)
    finally:
        await source.close()
        summary = ", ".join(f"{venue} {n}" for venue, n in sorted(counts.items())) or "none"
        print_err(
            f"liqtui: {sum(counts.values())} liquidations from the bus ({summary}); "
            f"{source.malformed} undecodable messages skipped, {source.duplicates} duplicates dropped"
        )
    return 0


def _age(ms: int) -> str:
    return (
        f"{ms / 3_600_000:g} h"
        if ms >= 3_600_000
        else f"{ms / 60_000:g} min"
        if ms >= 60_000
        else f"{ms / 1000:g} s"
    )


def _silence_stdout() -> None:
    # Python would complain again when flushing stdout at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
