"""The live form of `liqtui risk SYMBOL --to PRICE [--venues ...] [--json]` (see risk.py).

Backfills price and OI history of SYMBOL on every venue that lists it (Binance: 5-minute OI for up
to 30 days; Bybit and OKX what they offer; Hyperliquid: none, so only the current poll), takes one
live poll (current OI and price) and each venue's margin limits (its first margin tier, as the live
desk reads them: ``feeds/margin.py``), runs everything through ``liqtui.engine.Engine`` and prints the
ESTIMATED liquidations at risk between each venue's price and PRICE, per venue and in total.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from liqtui.commands._bus import bus_url, open_bus_source
from liqtui.commands.headless_live import (
    CommandError,
    chosen_venues,
    print_err,
    resolve_symbols,
    run_source,
    wait_markets,
)
from liqtui.config import Settings
from liqtui.domain import format as fmt
from liqtui.domain.events import Event, FeedState, FeedStatus, MarginLimits, OpenInterest, PriceBar, Ticker
from liqtui.domain.prices import parse_target
from liqtui.domain.venues import PUBLIC_POSITION_VENUES
from liqtui.engine import Engine
from liqtui.engine.measured import MeasuredRisk, measured_risk

DONE_STATES = (FeedState.LIVE, FeedState.DOWN)


@dataclass
class VenueRisk:
    venue: str
    symbol: str
    price: float | None = None
    volume_24h_usd: float | None = None
    usd: float = 0.0
    history_points: int = 0
    oi_samples: int = 0
    limits: MarginLimits | None = None  # the margin limits the feed gave the engine
    problems: list[str] = field(default_factory=list)


def run_live(args: argparse.Namespace, settings: Settings, timeout: float = 90.0) -> int:
    """``args.target`` in the desk's forms; a move in percent is from the price of the venue with
    the most 24 h volume (the price the desk shows)."""
    try:
        url = bus_url(args, settings)
        rows, unavailable, engine = asyncio.run(
            _collect_bus(args, settings, url, timeout) if url else _collect(args, settings, timeout)
        )
    except CommandError as exc:
        print_err(f"liqtui risk: {exc}")
        return 2
    if not rows:
        print_err(
            "liqtui risk: no venue could be read: "
            + "; ".join(f"{v}: {why}" for v, why in unavailable.items())
        )
        return 1
    lead = max(rows, key=lambda r: r.volume_24h_usd or 0.0)
    try:
        target = parse_target(args.target, lead.price)
        if target is None:
            raise ValueError("give a target price such as 92000, 92k or +11%")
    except ValueError as exc:
        print_err(f"liqtui risk: --to: {exc}")
        return 2
    for r in rows:
        r.usd = engine.at_risk(r.symbol, r.price or 0.0, target, venues=[r.venue])  # rows all have a price
    total = sum(r.usd for r in rows)
    measured = measured_rows(engine, rows, target)
    relative = args.target.strip().endswith("%")
    if args.json:
        print(
            json.dumps(
                {
                    "symbol": args.symbol,
                    "target": target,
                    "estimated": True,
                    "total_usd": total,
                    "target_from": {"venue": lead.venue, "price": lead.price} if relative else None,
                    "venues": [
                        {
                            "venue": r.venue,
                            "symbol": r.symbol,
                            "price": r.price,
                            "side": _side(r.price, target),
                            "usd": r.usd,
                            "oi_samples": r.oi_samples,
                            "history_points": r.history_points,
                            "maintenance_rate": r.limits.maintenance_rate if r.limits else None,
                            "max_leverage": r.limits.max_leverage if r.limits else None,
                            "margin_source": r.limits.source if r.limits else None,
                            "margin_note": (r.limits.note if r.limits else "") or None,
                        }
                        for r in rows
                    ],
                    "measured": [measured_dict(m) for m in measured],
                    "unavailable": unavailable,
                },
                indent=2,
            )
        )
        return 0
    source = f" ({args.target.strip()} of {lead.venue}'s {lead.price:,.2f})" if relative else ""
    print(
        f"ESTIMATED liquidations at risk for {args.symbol} to {target:,.2f}{source} (OI-delta model; not a venue figure)"
    )
    print(
        f"{'venue':<12} {'symbol':<16} {'price':>12} {'side':>6} {'at risk (USD)':>16} {'OI samples':>10} {'mmr':>7} {'max lev':>7}"
    )
    for r in rows:
        rate = r.limits.maintenance_rate if r.limits else None
        mmr = f"{rate * 100:.2f}%" if rate is not None else "n/a"
        lev = f"{r.limits.max_leverage:g}x" if r.limits and r.limits.max_leverage else "n/a"
        print(
            f"{r.venue:<12} {r.symbol:<16} {r.price or 0:>12,.2f} {_side(r.price, target):>6} {r.usd:>16,.0f} {r.oi_samples:>10} {mmr:>7} {lev:>7}"
        )
    print(f"{'total':<12} {'':<16} {'':>12} {'':>6} {total:>16,.0f}")
    for m in measured:
        print(measured_line(m, target))
    for r in rows:
        if r.limits and r.limits.note:
            print_err(f"liqtui risk: {r.venue}: {r.limits.note}")
    for venue, why in unavailable.items():
        print_err(f"liqtui risk: {venue}: {why}")
    return 0


def measured_rows(engine: Engine, rows: list[VenueRisk], target: float) -> list[MeasuredRisk]:
    """The MEASURED figure of every row whose venue publishes positions (Hyperliquid), beside its estimate."""
    out = []
    for r in rows:
        if r.venue in PUBLIC_POSITION_VENUES and r.price:
            latest = engine.oi.latest(r.venue, r.symbol, 2**62)
            oi_usd = latest[2] if latest is not None else None
            out.append(measured_risk(engine.state, r.venue, r.symbol, r.price, target, oi_usd))
    return out


def measured_dict(m: MeasuredRisk) -> dict[str, Any]:
    return {
        "venue": m.venue,
        "symbol": m.symbol,
        "measured": True,
        "usd": m.usd,  # null: no tracked account holds the symbol (unknown, not zero)
        "accounts": m.accounts,
        "covered_usd": m.covered_usd,
        "oi_usd": m.oi_usd,
        "covered_share": m.covered_share,
        "oldest_snapshot": m.oldest,
    }


def measured_line(m: MeasuredRisk, target: float) -> str:
    name = fmt.venue_name(m.venue)
    if m.usd is None:
        return f"MEASURED {name}: no tracked account holds {m.symbol} (liqtui positions tracks them); not zero, unknown"
    share = (
        f" ({m.covered_share * 100:.2f} % of {fmt.usd(m.oi_usd)} OI)" if m.covered_share is not None else ""
    )
    return (
        f"MEASURED {name}: {fmt.usd(m.usd)} of tracked positions liquidated to {target:,.2f}; "
        f"{m.accounts} accounts, {fmt.usd(m.covered_usd)}{share}"
    )


def _side(price: float | None, target: float) -> str:
    if price is None or price == target:
        return "none"
    return "shorts" if target > price else "longs"


async def _collect(
    args: argparse.Namespace, settings: Settings, timeout: float
) -> tuple[list[VenueRisk], dict[str, str], Engine]:
    from liqtui.feeds.live.source import LiveSource

    venues = chosen_venues(args, settings)
    source = LiveSource(
        settings,
        venues=venues,
        symbols=[args.symbol],
        focus=args.symbol,
        kinds=frozenset({"history", "market"}),
        map_to_requested=False,
    )
    events: list[Event] = []
    resolved: dict[str, set[str]] = {}
    deadline = time.monotonic() + timeout

    async def until() -> None:
        await wait_markets(source, timeout=min(30.0, timeout))
        resolved.update(resolve_symbols(source, [args.symbol]))
        feeds = [f for v, f in source.feeds.items() if resolved.get(v)]

        def finished() -> bool:
            return all(
                f.first_poll_done.is_set() and f.health.states.get("history", (None, ""))[0] in DONE_STATES
                for f in feeds
            )

        while not finished() and time.monotonic() < deadline:  # noqa: ASYNC110 - several feeds' states, no one event
            await asyncio.sleep(0.1)

    await run_source(source, events.append, until)

    def unlisted(venue: str) -> str:
        feed = source.feeds[venue]
        return "does not list it" if feed.markets_ready.is_set() else _why(feed)

    def thin(venue: str, samples: int) -> str:
        feed = source.feeds[venue]
        if not feed.adapter.has_oi_history:
            return "publishes no OI history: its estimate builds up from live polls (keep the desk running)"
        return f"not enough data ({samples} OI samples); {_why(feed)}"

    chosen = {venue: next(iter(resolved[venue])) if resolved.get(venue) else None for venue in venues}
    return _rows(settings, events, chosen, unlisted, thin)


async def _collect_bus(
    args: argparse.Namespace, settings: Settings, url: str, timeout: float
) -> tuple[list[VenueRisk], dict[str, str], Engine]:
    """The same from a collector's bus: the OI, price bars and margin limits the stream holds (its
    age, 24 h by default, instead of the venues' 30 days) and each venue's latest ticker; no exchange
    connection. SYMBOL matches the published unified symbols, or their coin (BTC)."""
    venues = chosen_venues(args, settings)
    source = await open_bus_source(
        settings,
        url,
        history=("oi", "bar", "margin"),
        since_ms=0,
        latest=("ticker", "margin", "status"),
        live=(),
    )
    events: list[Event] = []

    async def until() -> None:
        await asyncio.wait_for(source.history_done.wait(), timeout)

    try:
        await run_source(source, events.append, until)
    finally:
        await source.close()
    text = args.symbol.upper()
    chosen: dict[str, str | None] = {}
    for venue in venues:
        listed = sorted({e.symbol for e in events if not isinstance(e, FeedStatus) and e.venue == venue})
        exact = [s for s in listed if s.upper() == text]
        coin = [s for s in listed if s.split("/")[0].upper() == text.split("/")[0]]
        chosen[venue] = (exact or coin)[0] if exact or coin else None
    if not any(chosen.values()):
        raise CommandError(
            f"the bus holds no market {args.symbol!r} (it has: {', '.join(sorted({s for e in events if (s := getattr(e, 'symbol', None))})[:12]) or 'nothing yet'})"
        )
    statuses = {
        e.venue: e.detail
        for e in events
        if isinstance(e, FeedStatus) and e.state in (FeedState.DOWN, FeedState.STALE)
    }
    age = f"{settings.bus.max_age_hours:g} h"
    return _rows(
        settings,
        events,
        chosen,
        lambda v: statuses.get(v, "not on the bus"),
        lambda v, n: f"not enough data on the bus ({n} OI samples in its {age})",
    )


def _rows(
    settings: Settings, events: list[Event], chosen: dict[str, str | None], unlisted: Any, thin: Any
) -> tuple[list[VenueRisk], dict[str, str], Engine]:
    """One row per venue with its symbol in ``chosen``; ``unlisted(venue)`` and ``thin(venue,
    samples)`` say why a venue has no row."""
    engine = Engine(settings.levels)
    for event in events:  # the margin limits come first, before each symbol's history, as on the desk
        if not isinstance(event, FeedStatus):
            engine.apply(event)
    rows: list[VenueRisk] = []
    unavailable: dict[str, str] = {}
    for venue, symbol in chosen.items():
        if symbol is None:
            unavailable[venue] = unlisted(venue)
            continue
        limits = next(
            (e for e in events if isinstance(e, MarginLimits) and e.venue == venue and e.symbol == symbol),
            None,
        )
        row = VenueRisk(
            venue,
            symbol,
            price=_last_price(events, venue, symbol),
            limits=limits,
            volume_24h_usd=_last_volume(events, venue, symbol),
        )
        row.oi_samples = sum(
            1 for e in events if isinstance(e, OpenInterest) and e.venue == venue and e.symbol == symbol
        )
        row.history_points = row.oi_samples + sum(
            1 for e in events if isinstance(e, PriceBar) and e.venue == venue and e.symbol == symbol
        )
        if row.price is None or row.oi_samples < 2:
            unavailable[venue] = thin(venue, row.oi_samples)
            continue
        rows.append(row)
    return rows, unavailable, engine


def _last_price(events: list[Event], venue: str, symbol: str) -> float | None:
    for event in reversed(events):
        if (
            isinstance(event, Ticker)
            and event.venue == venue
            and event.symbol == symbol
            and (event.last or event.mark)
        ):
            return event.last or event.mark
        if isinstance(event, PriceBar) and event.venue == venue and event.symbol == symbol:
            return event.close
    return None


def _last_volume(events: list[Event], venue: str, symbol: str) -> float | None:
    for event in reversed(events):
        if (
            isinstance(event, Ticker)
            and event.venue == venue
            and event.symbol == symbol
            and event.volume_24h_usd
        ):
            return event.volume_24h_usd
    return None


def _why(feed) -> str:  # noqa: ANN001
    problems = [
        f"{kind}: {detail}"
        for kind, (state, detail) in feed.health.states.items()
        if state in (FeedState.DOWN, FeedState.STALE)
    ]
    return "; ".join(problems) or "no answer in time"
