"""A venue's websocket bodies, each run under ``supervision.supervise`` (a failure reconnects):

- ``liquidations``: holds the venue's liquidation subscription. Frames never come back through
  ``watch_*`` return values: the frame tap (``frame_tap.py``, ``VenueFeed.tap``) normalizes every
  entry of every frame and emits it at once.
- ``prices``: the websocket price stream of the watchlist (mark/last); its steady traffic is what
  tells a live venue from a silent one.
- ``Books``: the order book of the focus symbol (``follow`` cancels it and starts the next) or, with
  ``book_symbols`` (``liqtui record``: the watchlist), the books of those symbols the venue lists,
  one task each, for the whole run; at most one snapshot a book per ``book_min_interval``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import TYPE_CHECKING

from liqtui.domain.events import FeedState
from liqtui.feeds.live.supervision import now_ms, supervise

if TYPE_CHECKING:
    from liqtui.feeds.live.venue_feed import VenueFeed


async def liquidations(feed: VenueFeed) -> None:
    adapter = feed.adapter
    if not adapter.has_liquidations:
        await asyncio.Event().wait()  # nothing to subscribe, ever
    if adapter.ranks_symbols and "market" in feed.kinds:
        # The first market poll ranks the symbols by volume: subscribe the top ones at once.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(feed.first_poll_done.wait(), feed.timings.stale_after)
    subscribed: list[str] = []
    watches: set[asyncio.Future] = set()
    try:
        while True:
            symbols = await adapter.liquidation_symbols(feed.exchange, feed.listed(feed.wanted))
            new = [s for s in symbols if s not in subscribed]
            if new or not watches:
                # ccxt adds the new topics to the open socket; the subscribed ones stay as they are.
                watches.add(asyncio.ensure_future(adapter.watch_liquidations(feed.exchange, new or symbols)))
                subscribed += new
            done, _ = await asyncio.wait(
                watches, timeout=feed.timings.resubscribe_check, return_when=asyncio.FIRST_COMPLETED
            )
            for watch in done:
                watches.discard(watch)
                watch.result()  # a failed socket raises here: the supervisor reconnects
    finally:
        for watch in watches:
            watch.cancel()


async def prices(feed: VenueFeed) -> None:
    symbols = feed.listed(feed.wanted)
    if not symbols:
        await asyncio.Event().wait()
    while True:
        for ticker in await feed.adapter.watch_prices(feed.exchange, symbols, now_ms()):
            feed.deliver(ticker)


class Books:
    """The order books of one venue: the focus symbol's, or the held ``book_symbols``."""

    def __init__(self, feed: VenueFeed) -> None:
        self.feed = feed
        self.task: asyncio.Task | None = None  # the focus book's
        self.symbol: str | None = None  # the focus book's, as the venue lists it
        self._held_live: set[str] = set()  # held books that delivered since their last failure

    def hold(self, book_symbols: list[str]) -> list[asyncio.Task]:
        """One supervised book task per ``book_symbols`` entry this venue lists (the others are
        simply not on this venue: a watchlist spans venues)."""
        feed = self.feed
        listed = feed.listed(book_symbols)
        if not listed and book_symbols:
            feed.report(
                "book", FeedState.DOWN, f"none of {', '.join(book_symbols)} is listed on {feed.venue}"
            )
        return [
            asyncio.create_task(
                supervise(feed, "book", functools.partial(self._held, symbol)),
                name=f"{feed.venue}:book:{symbol}",
            )
            for symbol in listed
        ]

    async def _held(self, symbol: str) -> None:
        try:
            await self._stream(symbol, held=True)
        finally:
            self._held_live.discard(symbol)

    def follow(self, symbol: str) -> None:
        """The focus moved to ``symbol``: its book replaces the last one."""
        from liqtui.feeds.symbols import venue_symbol

        feed = self.feed
        listed = venue_symbol(symbol, feed.adapter.markets)
        if listed == self.symbol and self.task is not None and not self.task.done():
            return
        old_task, old_symbol = self.task, self.symbol
        self.task, self.symbol = None, listed
        if old_task is not None:
            old_task.cancel()
            if old_symbol is not None:
                feed.spawn(self._unwatch(old_symbol), f"unwatch:{old_symbol}")
        if listed is None:
            feed.report("book", FeedState.DOWN, f"{symbol} is not listed on {feed.venue}")
            return
        self.task = asyncio.ensure_future(supervise(feed, "book", lambda: self._stream(listed)))

    async def _unwatch(self, symbol: str) -> None:
        # Anything: some venues cannot unsubscribe, and the old stream dies with its socket anyway.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.feed.adapter.unwatch_book(self.feed.exchange, symbol), timeout=5)

    async def _stream(self, symbol: str, *, held: bool = False) -> None:
        feed = self.feed
        loop = asyncio.get_running_loop()
        next_emit = 0.0
        while True:
            snapshot = await feed.adapter.watch_book(feed.exchange, symbol, now_ms(), feed.book_levels)
            if not held and self.symbol != symbol:
                return
            if held:
                # One "book" status for the venue: which of its held books are streaming.
                self._held_live.add(symbol)
                feed.report("book", FeedState.LIVE, ", ".join(sorted(self._held_live)))
            else:
                feed.report("book", FeedState.LIVE, symbol)
            if loop.time() >= next_emit:
                next_emit = loop.time() + feed.timings.book_min_interval
                feed.deliver(snapshot)
