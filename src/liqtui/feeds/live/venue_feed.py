"""The live worker of one venue (``VenueFeed``): its health, the delivery of its events, the frame tap
and the market list; the work itself lives beside it, one job a module.

One ``VenueFeed`` per enabled venue shares ONE ccxt.pro exchange object between every data kind
(so ccxt's rate limiter sees every request) and runs these tasks until cancelled:

- ``liquidations``, ``prices`` and ``book``: the websocket bodies (``streams.py``), each supervised
  (``supervision.py``: capped exponential backoff with jitter; a failure reconnects);
- ``market`` and ``history``: the REST poll and the backfill at start (``polling.py``), through
  the venue's ``RestPolicy`` (``supervision.py``: Retry-After on 429/418, 404 marks only its kind);
- ``watchdog`` (here): no data frame for ``stale_after`` seconds -> STALE (with the last message
  time) and a forced reconnect of every socket of the venue (ccxt alone can take minutes).

Delivery (``deliver``): a Ticker is merged field by field with the venue's previous one, so a
stream that carries only the mark never blanks funding or volume; a symbol's live OI samples wait
until its OI history has been emitted (the engine receives each symbol's OI in time order); with
``map_to_requested`` an asked-for unified symbol listed under another quote (Hyperliquid's
``BTC/USDC:USDC`` for ``BTC/USDT:USDT``) is emitted under the asked symbol, so the coin sums
across venues.

Health is reported as FeedStatus events whenever a (kind, state, detail) changes:
kind "all" is the venue's websocket health (connecting, live, stale, reconnecting, down);
"oi" and "ticker" the REST poll (live, stale on errors and 429, down on 404); "book", "history";
"positions" the measured positions of tracked accounts (Hyperliquid: accounts, looks, weight);
"liquidations" only for a venue without a public feed (Hyperliquid: DOWN, "no public liquidation
feed (n/a)"). Counters of frames, malformed frames skipped and liquidations delivered are in
``VenueFeed.counters``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, fields, replace
from typing import Any

from liqtui.config import Settings, VenueSettings
from liqtui.domain.events import (
    FeedState,
    FeedStatus,
    MarketEvent,
    OpenInterest,
    Ticker,
    market_value_problem,
)
from liqtui.domain.text import printable
from liqtui.feeds.event_source import Emit
from liqtui.feeds.live import frame_tap, polling, streams
from liqtui.feeds.live.adapter import BOOK_LEVELS, VenueAdapter
from liqtui.feeds.live.errors import network_reason
from liqtui.feeds.live.exchange import make_exchange
from liqtui.feeds.live.markets import MarketIndex
from liqtui.feeds.live.supervision import (
    RestPolicy,
    Timings,
    describe,
    http_outcome,
    install_http_hook,
    now_ms,
    short_error,
    supervise,
)

__all__ = ["ALL_KINDS", "WEBSOCKET_KINDS", "Timings", "VenueFeed", "VenueHealth", "now_ms"]

_TICKER_FIELDS = tuple(f.name for f in fields(Ticker) if f.name not in ("venue", "symbol", "time"))
ALL_KINDS = frozenset({"liquidations", "prices", "book", "market", "history", "positions"})
WEBSOCKET_KINDS = frozenset({"liquidations", "prices", "book"})


@dataclass
class VenueHealth:
    states: dict[str, tuple[FeedState, str]] = field(default_factory=dict)
    last: dict[str, FeedStatus] = field(default_factory=dict)


class VenueFeed:
    """Runs one venue until cancelled; never raises to the caller (faults become FeedStatus)."""

    def __init__(
        self,
        adapter: VenueAdapter,
        settings: Settings,
        emit: Emit,
        *,
        timings: Timings | None = None,
        focus: str | None = None,
        symbols: list[str] | None = None,
        kinds: frozenset[str] = ALL_KINDS,
        map_to_requested: bool = True,
        book_symbols: list[str] | None = None,
        book_levels: int = BOOK_LEVELS,
    ) -> None:
        self.adapter = adapter
        self.kinds = kinds
        self.map_to_requested = map_to_requested
        # venue symbol -> the unified symbol asked for (BTC/USDC:USDC on Hyperliquid -> BTC/USDT:USDT)
        self.aliases: dict[str, str] = {}
        self._tickers: dict[str, Ticker] = {}  # merged per symbol: partial updates never blank a field
        # Symbols whose OI history is still being fetched (polling.history): live OI samples wait
        # (the newest is kept) so the engine receives every symbol's OI in time order.
        self.backfilling: set[str] = set()
        self.held_oi: dict[str, OpenInterest] = {}
        self.venue = adapter.venue
        self.settings = settings
        self.venue_settings: VenueSettings = settings.venues.get(self.venue, VenueSettings())
        adapter.configure(self.venue_settings)
        self.emit = emit
        self.timings = timings or Timings.from_settings(settings)
        self.rest = RestPolicy(self.timings)
        self.wanted = list(
            symbols if symbols is not None else dict.fromkeys([*settings.watchlist, *settings.cross_assets])
        )
        self.focus = focus or (settings.watchlist[0] if settings.watchlist else None)
        self.counters = frame_tap.FrameCounters()
        self.health = VenueHealth()
        self.exchange: Any = None
        self.markets_ready = asyncio.Event()
        self.first_poll_done = asyncio.Event()  # the first market poll ended (well or not)
        self.last_data_ms: int | None = None  # last data frame on any socket of the venue
        self.ws_live = False
        self.frames_since_failure = 0
        self.poll_slowdown = 1.0
        self.poll_latency_ms: float | None = None
        self.last_ok: dict[str, int] = {}  # data kind -> time of its last good poll
        self.books = streams.Books(self)
        self.book_symbols = list(dict.fromkeys(book_symbols)) if book_symbols is not None else None
        self.book_levels = book_levels
        self._last_forced_reconnect = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        # Tasks started outside ``run``'s own list (the market reload, book unsubscribes): referenced
        # here so none is garbage-collected mid-run, and cancelled with the feed.
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._reload_task: asyncio.Task[None] | None = None
        self.markets_note = ""  # why the market list is out of date (a failed reload); in the live detail
        self.margin_notes: dict[str, str] = {}  # symbol -> why a default stands in for its margin tiers

    # ------------------------------------------------------------------ health
    def report(self, kind: str, state: FeedState, detail: str = "", last_message: int | None = None) -> None:
        if self.health.states.get(kind) == (state, detail):
            return
        self.health.states[kind] = (state, detail)
        status = FeedStatus(self.venue, state, now_ms(), detail, kind, last_message)
        self.health.last[kind] = status
        self.emit(status)

    def reconnecting(self, kind: str, exc: BaseException, attempt: int, delay: float) -> None:
        """A supervised websocket body failed (``supervision.supervise``): it tries again after ``delay``."""
        self.ws_live = False
        reason = network_reason(exc)
        self.report(
            kind,
            FeedState.RECONNECTING,
            f"{reason + '; ' if reason else ''}attempt {attempt}, next try in {delay:.1f} s ({type(exc).__name__}: {short_error(exc)})",
            self.last_data_ms,
        )

    def _on_data(self, at_ms: int) -> None:
        self.last_data_ms = at_ms
        self.frames_since_failure += 1
        if not self.ws_live:
            self.ws_live = True
            self.report("all", FeedState.LIVE, self._live_detail(), at_ms)

    # ------------------------------------------------------------------ delivery
    def _build_aliases(self) -> None:
        from liqtui.feeds.symbols import venue_symbol

        if not self.map_to_requested:
            return
        for requested in [*self.wanted, *([self.focus] if self.focus else []), *(self.book_symbols or [])]:
            listed = venue_symbol(requested, self.adapter.markets)
            if listed is not None and listed != requested and "/" in requested and ":" in requested:
                self.aliases.setdefault(listed, requested)

    def deliver(self, event: MarketEvent, *, history: bool = False) -> None:
        """Every market event leaves through here: tickers merged, symbols mapped to the asked one,
        live OI of a symbol held back while its history is still coming (``history=True`` passes).
        An OI sample or ticker no venue can mean (NaN, infinite, negative) is counted and skipped
        (``market_value_problem``), as a malformed liquidation entry is."""
        if type(event) is Ticker or type(event) is OpenInterest:
            problem = market_value_problem(event, now_ms())
            if problem is not None:
                self.counters.malformed += 1
                what = "ticker" if type(event) is Ticker else "OI sample"
                self.counters.last_error = printable(f"{what} skipped: {event.symbol}: {problem}")[:200]
                return
        if type(event) is Ticker:
            event = self._merge_ticker(event)
        elif type(event) is OpenInterest and not history and event.symbol in self.backfilling:
            self.held_oi[event.symbol] = event
            return
        if self.aliases:
            alias = self.aliases.get(event.symbol)
            if alias is not None:
                event = replace(event, symbol=alias)
        self.emit(event)

    def _merge_ticker(self, ticker: Ticker) -> Ticker:
        """A stream that carries only some fields (mark, or mid) updates those, keeps the rest."""
        old = self._tickers.get(ticker.symbol)
        if old is not None:
            changes = {
                f: getattr(old, f)
                for f in _TICKER_FIELDS
                if getattr(ticker, f) is None and getattr(old, f) is not None
            }
            if changes:
                ticker = replace(ticker, **changes)
        self._tickers[ticker.symbol] = ticker
        return ticker

    def merged_ticker(self, symbol: str) -> Ticker | None:
        """The venue's latest ticker of ``symbol`` as delivered (every field it has had so far)."""
        return self._tickers.get(symbol)

    def listed(self, symbols: list[str]) -> list[str]:
        """``symbols`` as this venue lists them, those it does not list left out."""
        from liqtui.feeds.symbols import venue_symbol

        out = []
        for symbol in symbols:
            listed = venue_symbol(symbol, self.adapter.markets)
            if listed is not None and listed not in out:
                out.append(listed)
        return out

    # ------------------------------------------------------------------ frames
    def tap(self, client: Any, message: Any) -> bool:
        """Every decoded websocket frame of the venue passes here before ccxt sees it."""
        recv = now_ms()
        try:
            liquidations = self.adapter.parse_liquidations(message, recv)
        except Exception as exc:  # noqa: BLE001 - a liquidation frame of a shape we do not know: counted, shown
            self.adapter.rejected.clear()
            self.counters.malformed += 1
            self.counters.last_error = printable(f"liquidation frame skipped: {type(exc).__name__}: {exc}")[
                :200
            ]
            return True
        if self.adapter.rejected:
            self._count_rejected()
        if liquidations is not None:
            self._on_data(recv)
            self.counters.liquidations += len(liquidations)
            emit = self.deliver if self.aliases else self.emit
            for liquidation in liquidations:
                emit(liquidation)
            if self.adapter.unknown_ids:
                self._schedule_markets_reload()
            return True
        if self.adapter.is_heartbeat(message):
            return False
        if isinstance(message, str):  # not JSON and not this venue's text heartbeat
            self.counters.malformed += 1
            self.counters.last_error = "malformed frame skipped (not JSON)"
            return True
        self._on_data(recv)
        return False

    def _count_rejected(self) -> None:
        """Malformed entries the parser left out: counted; the status says so at the next watchdog tick."""
        self.counters.malformed += len(self.adapter.rejected)
        self.counters.last_error = f"liquidation entry skipped: {self.adapter.rejected[-1]}"[:200]
        self.adapter.rejected.clear()

    def _live_detail(self) -> str:
        """The detail of a LIVE status: what was skipped so far, why the market list is out of date, and
        what the liquidation stream leaves out for now."""
        skipped = self.counters.malformed + self.counters.handler_errors
        parts = [
            f"{skipped} malformed frames or entries skipped (last: {self.counters.last_error})"
            if skipped
            else ""
        ]
        return "; ".join(
            p
            for p in [*parts, self.markets_note, *self.margin_notes.values(), self.adapter.coverage_note]
            if p
        )

    # ------------------------------------------------------------------ main
    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task] = []
        try:
            self.report("all", FeedState.CONNECTING, "loading markets")
            self.exchange = make_exchange(
                self.venue, url_rewrite=self.venue_settings.url_rewrite, options=self._ccxt_options()
            )
            frame_tap.install(self.exchange, self.tap, self.counters)
            install_http_hook(self.exchange)
            self.adapter.attach(self.exchange)
            await self._load_markets()
            self._build_aliases()
            if self.kinds & WEBSOCKET_KINDS:
                self.report("all", FeedState.CONNECTING, "subscribing")
            else:
                self.report("all", FeedState.LIVE, "REST only (no websocket asked for)")
            self.last_data_ms = now_ms()  # the watchdog counts silence from here
            self.ws_live = False
            tasks = self._start_tasks()
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug of ours: say so, never take the other venues down
            self.report("all", FeedState.DOWN, f"internal error: {short_error(exc)}")
        finally:
            running = [t for t in [*tasks, self.books.task, *self._side_tasks] if t is not None]
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            if self.exchange is not None:
                # Cancelled again while closing: the close goes on, shielded; the first cancel propagates.
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(self._close_exchange())

    def _start_tasks(self) -> list[asyncio.Task]:
        bodies: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
            "liquidations": lambda: supervise(self, "all", lambda: streams.liquidations(self)),
            "prices": lambda: supervise(self, "all", lambda: streams.prices(self)),
            "market": lambda: polling.market_loop(self),
            "history": lambda: polling.history(self),
        }
        tasks = [
            asyncio.create_task(body(), name=f"{self.venue}:{kind}")
            for kind, body in bodies.items()
            if kind in self.kinds
        ]
        if "positions" in self.kinds and self.adapter.tracks_positions:
            tasks.append(
                asyncio.create_task(
                    supervise(self, "positions", lambda: self.adapter.track_positions(self)),
                    name=f"{self.venue}:positions",
                )
            )
        if self.kinds & WEBSOCKET_KINDS:
            tasks.append(asyncio.create_task(self._watchdog(), name=f"{self.venue}:watchdog"))
        if "liquidations" in self.kinds and not self.adapter.has_liquidations:
            self.report("liquidations", FeedState.DOWN, self.adapter.no_liquidations_reason)
        if "book" in self.kinds and self.book_symbols is not None:
            tasks += self.books.hold(self.book_symbols)
        elif self.focus and "book" in self.kinds:
            self.books.follow(self.focus)
        return tasks

    def set_focus(self, symbol: str) -> None:
        self.focus = symbol
        if self.markets_ready.is_set():
            self._build_aliases()
        if self.markets_ready.is_set() and "book" in self.kinds and self.book_symbols is None:
            self.books.follow(symbol)

    async def _close_exchange(self) -> None:
        # Anything: the feed is ending, and a connection that fails to close has no one left to tell.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.exchange.close(), timeout=5)

    def _ccxt_options(self) -> dict[str, Any]:
        options = dict(self.venue_settings.ccxt)
        # ccxt's own ping: a dead socket (no pong) is noticed within stale_after, not minutes.
        keepalive_ms = int(max(1.0, self.timings.stale_after / 3) * 1000)
        streaming = dict(options.get("streaming") or {})
        streaming.setdefault("keepAlive", keepalive_ms)
        options["streaming"] = streaming
        return options

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """A task outside ``run``'s own list, kept referenced and cancelled with the feed."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.venue}:{name}")
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)
        return task

    # ------------------------------------------------------------------ markets
    async def _load_markets(self) -> None:
        attempt = 0
        while True:
            await self.rest.gate()
            with http_outcome() as outcome:
                try:
                    markets = await self.exchange.load_markets(reload=attempt > 0)
                    self.adapter.set_markets(
                        MarketIndex.from_ccxt(markets, self.adapter.names_markets_by_coin)
                    )
                    self.markets_ready.set()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - any failure: said in the status, tried again
                    attempt += 1
                    delay = self.rest.delay_after_failure(attempt, outcome)
                    self.report(
                        "all",
                        FeedState.DOWN,
                        f"cannot load markets: {describe(exc, outcome)}; retry {attempt} in {delay:.1f} s",
                    )
            await asyncio.sleep(delay)

    def _schedule_markets_reload(self) -> None:
        """A liquidation named a market the list lacks (listed since start): reload the list, once."""
        if self._loop is None or (self._reload_task is not None and not self._reload_task.done()):
            return
        self._reload_task = self.spawn(self._reload_markets(), "markets-reload")

    async def _reload_markets(self) -> None:
        await asyncio.sleep(self.timings.markets_reload_delay)
        unknown = len(self.adapter.unknown_ids)
        with http_outcome() as outcome:
            try:
                await self.rest.gate()
                markets = await self.exchange.load_markets(reload=True)
                self.adapter.set_markets(MarketIndex.from_ccxt(markets, self.adapter.names_markets_by_coin))
                self.markets_note = ""
            except Exception as exc:  # noqa: BLE001 - any failure: the feed goes on with the list it has, and says so
                new = f"{unknown} new market{'' if unknown == 1 else 's'}"
                self.markets_note = f"cannot reload markets ({new} not in the list): {describe(exc, outcome)}"
        if self.ws_live:
            self.report("all", FeedState.LIVE, self._live_detail(), self.last_data_ms)
        await asyncio.sleep(self.timings.markets_reload / 60)  # the next reload waits this long

    # ------------------------------------------------------------------ watchdog
    async def _watchdog(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.timings.watchdog_tick)
            if self.last_data_ms is None:
                continue
            silent_s = (now_ms() - self.last_data_ms) / 1000
            if silent_s < self.timings.stale_after:
                if self.ws_live:  # at most one status a tick however fast malformed frames come
                    self.report("all", FeedState.LIVE, self._live_detail(), self.last_data_ms)
                continue
            self.ws_live = False
            # A stable detail (the age is last_message's): one status per stale episode, not one a tick.
            self.report(
                "all",
                FeedState.STALE,
                f"no data for over {self.timings.stale_after:g} s; reconnecting",
                self.last_data_ms,
            )
            if loop.time() - self._last_forced_reconnect >= self.timings.stale_after:
                self._last_forced_reconnect = loop.time()
                self._force_reconnect(f"no data for {silent_s:.0f} s")

    def _force_reconnect(self, reason: str) -> None:
        from ccxt.base.errors import RequestTimeout

        for client in list((self.exchange.clients or {}).values()):
            with contextlib.suppress(Exception):  # anything: a client already closing reconnects on its own
                client.on_error(RequestTimeout(f"liqtui watchdog: {reason}"))
