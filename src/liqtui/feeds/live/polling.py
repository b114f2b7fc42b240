"""A venue's REST work: the market poll and the backfill at start.

- ``market_loop``: open interest, mark, funding and 24 h volume (bulk where the venue allows), every
  ``oi_poll_seconds``; the next poll is scheduled when the last one ends, slowed (up to
  ``max_poll_slowdown``) while the venue answers 429/418. Each data kind ("oi", "ticker") reports
  its own health.
- ``history``: each polled symbol's margin limits (``feeds/margin.py``), then price bars and OI
  history of the focus symbol first, then the watchlist, oldest first, so the level model has
  clusters within seconds. Live OI samples of a symbol wait until its
  history has been emitted (``VenueFeed.deliver``).
"""

from __future__ import annotations

import asyncio
import heapq
import time
from typing import TYPE_CHECKING

from liqtui.domain.events import FeedState, OpenInterest, PriceBar
from liqtui.feeds.live.supervision import PollOutcome, now_ms, short_error

if TYPE_CHECKING:
    from liqtui.feeds.live.venue_feed import VenueFeed


def _poll_interval(feed: VenueFeed) -> float:
    return feed.venue_settings.oi_poll_seconds or feed.settings.oi_poll_seconds


async def market_loop(feed: VenueFeed) -> None:
    while True:
        interval = _poll_interval(feed) * feed.poll_slowdown
        started = time.monotonic()
        poll = PollOutcome()
        try:
            events = await feed.adapter.poll_market(
                feed.exchange, feed.listed(feed.wanted), now_ms(), feed.rest.guarded_call(poll)
            )
            for event in events:
                feed.deliver(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a payload our parser did not expect: say so, poll again later
            poll.fail(("oi", "ticker"), f"unexpected answer ({type(exc).__name__}: {short_error(exc)})")
        if poll.retry_after is not None:
            feed.poll_slowdown = min(feed.timings.max_poll_slowdown, feed.poll_slowdown * 2)
            delay = max(poll.retry_after, _poll_interval(feed) * feed.poll_slowdown)
        else:
            feed.poll_slowdown = max(1.0, feed.poll_slowdown / 2)
            delay = interval
        feed.poll_latency_ms = (time.monotonic() - started) * 1000
        _report_poll(feed, poll, delay)
        feed.first_poll_done.set()
        await asyncio.sleep(delay)  # the next poll is scheduled when this one ends: never overlapping


def _report_poll(feed: VenueFeed, poll: PollOutcome, delay: float) -> None:
    for kind in ("oi", "ticker"):
        if kind in poll.failed:
            description, down = poll.failed[kind]
            state = FeedState.DOWN if down else FeedState.STALE
            feed.report(kind, state, f"{description}; next poll in {delay:.0f} s", feed.last_ok.get(kind))
        elif kind in poll.succeeded:
            feed.last_ok[kind] = now_ms()
            skipped = (
                f"; {feed.counters.malformed} malformed skipped (last: {feed.counters.last_error})"
                if feed.counters.malformed
                else ""
            )
            feed.report(kind, FeedState.LIVE, f"polled every {delay:g} s{skipped}", feed.last_ok[kind])


async def history(feed: VenueFeed) -> None:
    """Price bars and OI history of the focus symbol first, then the watchlist, oldest first."""
    try:
        await _backfill(feed)
    finally:
        feed.backfilling.clear()
        for held in list(feed.held_oi.values()):
            feed.deliver(held)
        feed.held_oi.clear()


async def _backfill(feed: VenueFeed) -> None:
    watchlist = [s for s in feed.settings.watchlist if s in feed.wanted]
    symbols = feed.listed(list(dict.fromkeys([s for s in [feed.focus, *watchlist] if s])))
    feed.backfilling.update(symbols)  # before any await: a live OI sample must not pass its history
    for symbol in feed.listed(feed.wanted):
        if symbol not in symbols:
            symbols.append(symbol)  # the other polled symbols get their margin limits, no history
    total = 0
    problems: list[str] = []
    for symbol in symbols:
        await _margin_limits(feed, symbol)
        if symbol not in feed.backfilling:
            continue
        feed.report("history", FeedState.CONNECTING, f"backfilling {symbol}")
        total += await _backfill_symbol(feed, symbol, problems)
    if not symbols:
        return
    if problems:
        feed.report(
            "history",
            FeedState.DOWN if total == 0 else FeedState.LIVE,
            f"{total} history points; " + "; ".join(problems),
        )
    else:
        feed.report("history", FeedState.LIVE, f"{total} history points")


async def _margin_limits(feed: VenueFeed, symbol: str) -> None:
    """The level model's limits for ``symbol`` from the venue's margin tiers (feeds/margin.py), before
    its history; a fallback says why in the live status, as ``liqtui risk`` prints it."""
    from liqtui.feeds.margin import fetch_limits

    await feed.rest.gate()
    market = feed.adapter.markets.by_symbol[symbol]
    ticker = feed.merged_ticker(symbol)
    price = (ticker.last or ticker.mark or 0.0) if ticker is not None else 0.0
    limits = await fetch_limits(feed.exchange, feed.venue, market, symbol, price, now_ms())
    if limits.note:
        feed.margin_notes[symbol] = f"{symbol}: {limits.note}"
    feed.deliver(limits)


async def _backfill_symbol(feed: VenueFeed, symbol: str, problems: list[str]) -> int:
    """One symbol's history, delivered oldest first; returns how many points it had."""
    adapter, rest = feed.adapter, feed.rest
    end = now_ms()
    since = end - int(feed.timings.history_days * 86_400_000)
    bars = (
        await rest.step(
            "price history", problems, adapter.fetch_price_history, feed.exchange, symbol, since, end
        )
        or []
    )
    closes = {bar.time: bar.close for bar in bars}
    interest = (
        await rest.step(
            "OI history", problems, adapter.fetch_oi_history, feed.exchange, symbol, since, end, closes
        )
        or []
    )
    merged: list[PriceBar | OpenInterest] = list(heapq.merge(bars, interest, key=_event_time))
    for i, event in enumerate(merged, start=1):
        feed.deliver(event, history=True)
        if i % 2000 == 0:
            await asyncio.sleep(0)  # 30 days are ~17k events a symbol: let the desk breathe
    feed.backfilling.discard(symbol)
    held = feed.held_oi.pop(symbol, None)
    if held is not None and (not interest or held.time > interest[-1].time):
        feed.deliver(held)
    return len(merged)


def _event_time(event: PriceBar | OpenInterest) -> int:
    return event.time
