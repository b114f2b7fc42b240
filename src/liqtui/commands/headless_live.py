"""Shared by the headless live commands (tail, snapshot, risk): venue/symbol options, running a
LiveSource for a while, and health lines on stderr. Never imports Textual."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from liqtui.config import Settings
from liqtui.domain.events import Event, FeedStatus
from liqtui.domain.text import printable
from liqtui.feeds.live.exchange import SUPPORTED_VENUES
from liqtui.feeds.symbols import UnknownSymbol, resolve_everywhere

if TYPE_CHECKING:  # imported where a source is made: it loads ccxt (0.5 s), which --bus never needs
    from liqtui.feeds.live.source import LiveSource


class CommandError(Exception):
    """One clear line for the user; the command exits with code 2."""


def add_venue_symbol_arguments(parser: argparse.ArgumentParser, *, symbols_help: str) -> None:
    parser.add_argument(
        "--venues",
        nargs="+",
        metavar="VENUE",
        help=f"venues to use (default: the enabled ones; known: {', '.join(SUPPORTED_VENUES)})",
    )
    parser.add_argument("--symbols", nargs="+", metavar="SYMBOL", help=symbols_help)


def chosen_venues(args: argparse.Namespace, settings: Settings) -> list[str]:
    venues = [
        v.strip() for item in (args.venues or []) for v in item.split(",") if v.strip()
    ] or settings.enabled_venues
    unknown = [v for v in venues if v not in SUPPORTED_VENUES]
    if unknown:
        raise CommandError(f"unknown venue {unknown[0]!r} (known: {', '.join(SUPPORTED_VENUES)})")
    if not venues:
        raise CommandError("no venue enabled (see `liqtui config show`)")
    return venues


def split_symbols(values: list[str] | None) -> list[str]:
    return [s.strip() for item in (values or []) for s in item.split(",") if s.strip()]


def resolve_symbols(source: LiveSource, symbols: list[str]) -> dict[str, set[str]]:
    """venue -> the venue's unified symbols for what the user typed; CommandError for an unknown one."""
    indexes = {
        venue: feed.adapter.markets for venue, feed in source.feeds.items() if len(feed.adapter.markets)
    }
    if not indexes:
        raise CommandError("no venue answered with its markets; cannot resolve symbols")
    allowed: dict[str, set[str]] = {venue: set() for venue in indexes}
    for text in symbols:
        try:
            for venue, symbol in resolve_everywhere(text, indexes).items():
                allowed[venue].add(symbol)
        except UnknownSymbol as exc:
            raise CommandError(str(exc)) from None
    return allowed


async def wait_markets(source: LiveSource, timeout: float) -> None:
    """Until every venue has its markets or ``timeout`` passed (venues that are down stay out).
    Cancelling it (tail's --duration) leaves nothing behind (a cancelled gather would be reported
    as "exception was never retrieved")."""
    waits = [asyncio.ensure_future(f.markets_ready.wait()) for f in source.feeds.values()]
    if not waits:
        return
    try:
        await asyncio.wait(waits, timeout=timeout)
    finally:
        for wait in waits:
            wait.cancel()


def health_line(status: FeedStatus) -> str:
    kind = "" if status.kind == "all" else f" {status.kind}"
    detail = f": {status.detail}" if status.detail else ""
    return printable(f"liqtui: {status.venue}{kind} {status.state.value}{detail}")  # details quote servers


def print_err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def run_source(source: LiveSource, emit: Callable[[Event], None], until: Callable[[], Any]) -> None:
    """Runs ``source`` until the coroutine made by ``until()`` returns; then stops it."""
    task = asyncio.create_task(source.run(emit))
    try:
        await until()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
