"""LiveSource: every enabled venue, live, behind the EventSource protocol of ``feeds/event_source.py``.

    source = LiveSource(settings)               # venues=... to restrict, timings=... for tests
    source.set_focus("BTC/USDT:USDT")          # order books follow the desk's symbol
    await source.run(emit)                      # until cancelled; never raises for a venue fault

``liqtui record`` passes ``book_symbols=<watchlist>, book_levels=50`` instead: the books of every
watchlist symbol on each venue that lists it, whatever the focus.

Each venue runs in its own ``VenueFeed`` task: a venue that fails reports DOWN (FeedStatus) and
keeps retrying, and never stops the other venues nor the caller.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from liqtui.config import Settings
from liqtui.domain.imports import import_frozen
from liqtui.domain.venues import venue_order
from liqtui.feeds.event_source import Emit
from liqtui.feeds.live.adapter import BOOK_LEVELS, VenueAdapter
from liqtui.feeds.live.binanceusdm import BinanceUsdm
from liqtui.feeds.live.bybit import Bybit
from liqtui.feeds.live.hyperliquid import Hyperliquid
from liqtui.feeds.live.okx import Okx
from liqtui.feeds.live.venue_feed import ALL_KINDS, Timings, VenueFeed, now_ms

# Keyed by each adapter's own ccxt id, in the registry's order.
ADAPTERS: dict[str, type[VenueAdapter]] = {
    adapter.venue: adapter
    for adapter in sorted((BinanceUsdm, Bybit, Hyperliquid, Okx), key=lambda a: venue_order(a.venue))
}


class LiveSource:
    mode = "LIVE"

    def __init__(
        self,
        settings: Settings,
        *,
        venues: list[str] | None = None,
        symbols: list[str] | None = None,
        timings: Timings | None = None,
        focus: str | None = None,
        kinds: frozenset[str] = ALL_KINDS,
        map_to_requested: bool = True,
        book_symbols: list[str] | None = None,
        book_levels: int = BOOK_LEVELS,
        ccxt_later: bool = False,
    ) -> None:
        """``venues``: a subset of the enabled venues; ``symbols``: what to poll and stream
        prices for (default: the watchlist and the cross-asset strip); ``kinds``: which data to run
        (``venue_feed.ALL_KINDS``; headless commands run only what they print); ``map_to_requested``:
        a venue listing an asked-for unified symbol under another quote (Hyperliquid's
        ``BTC/USDC:USDC`` for ``BTC/USDT:USDT``) emits it under the asked symbol, so the engine sums
        the coin across venues (the desk wants that; ``tail``/``snapshot`` show venues' own symbols);
        ``book_symbols``: hold the order books of these symbols on every venue that lists them, for
        the whole run, instead of the focus symbol's book only (``liqtui record`` passes the
        watchlist; the desk leaves it None); ``book_levels``: levels per side of each snapshot, at
        most what the venue's depth gives (``VenueAdapter.book_limit``, docs/exchanges.md);
        ``ccxt_later``: ccxt (~0.5 s of CPU to import) is imported when ``run`` starts, in a thread, not
        now (the desk draws and applies its recording's history first)."""
        if not ccxt_later:
            _load_ccxt()
        self._ccxt_later = ccxt_later
        self.settings = settings
        chosen = venues if venues is not None else settings.enabled_venues
        unknown = [v for v in chosen if v not in ADAPTERS]
        if unknown:
            raise ValueError(f"unknown venue {unknown[0]!r} (known: {', '.join(ADAPTERS)})")
        self.timings = timings or Timings.from_settings(settings)
        self.focus = focus or (settings.watchlist[0] if settings.watchlist else None)
        self.feeds: dict[str, VenueFeed] = {
            venue: VenueFeed(
                ADAPTERS[venue](),
                settings,
                _not_running,
                timings=self.timings,
                focus=self.focus,
                symbols=symbols,
                kinds=kinds,
                map_to_requested=map_to_requested,
                book_symbols=book_symbols,
                book_levels=book_levels,
            )
            for venue in chosen
        }

    def now_ms(self) -> int:
        return now_ms()

    async def run(self, emit: Emit) -> None:
        if self._ccxt_later:  # off the event loop
            await asyncio.to_thread(_load_ccxt)
        for feed in self.feeds.values():
            feed.emit = emit
        tasks = [
            asyncio.create_task(feed.run(), name=f"liqtui-live:{venue}") for venue, feed in self.feeds.items()
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def resume_positions(self, recording: Path) -> None:
        """Venues that measure positions (Hyperliquid) resume the accounts ``recording`` holds."""
        for feed in self.feeds.values():
            if feed.adapter.tracks_positions:
                feed.adapter.resume_from = recording  # type: ignore[attr-defined]

    def set_focus(self, symbol: str) -> None:
        self.focus = symbol
        for feed in self.feeds.values():
            feed.set_focus(symbol)

    def symbols(self) -> list[str]:
        """Every perpetual of the enabled venues whose markets are loaded (empty before that)."""
        out: set[str] = set()
        for feed in self.feeds.values():
            out.update(feed.adapter.markets.symbols())
        return sorted(out)


def _not_running(event: object) -> None:
    """Until ``run`` hands the feeds their emit, nothing is running that could emit."""


def _load_ccxt() -> None:
    import_frozen("ccxt.pro")  # the venues' clients (feeds/live/exchange.py), no collector's pass over it
