"""The live worker of one venue: connections, subscriptions, polling, backfill and health.

One ``VenueFeed`` per enabled venue shares ONE ccxt.pro exchange object between every data kind
(so ccxt's rate limiter sees every request) and runs these tasks until cancelled:

- ``liquidations``: holds the venue's liquidation subscription. Frames never come back through
  ``watch_*`` return values: the frame tap (``frame_tap.py``) normalizes every entry of every frame
  and emits it at once.
- ``prices``: the websocket price stream of the watchlist (mark/last); its steady traffic is what
  tells a live venue from a silent one.
- ``book``: the order book of the focus symbol; ``set_focus`` cancels it and starts the next.
  With ``book_symbols`` (``liqtui record``: the watchlist) the books of those symbols the venue
  lists are held instead, one task each, for the whole run; the focus then moves no book.
- ``market``: the REST poll of open interest, mark, funding and 24 h volume (bulk where the venue
  allows), every ``oi_poll_seconds``; the next poll is scheduled when the last one ends.
- ``history``: the backfill at start (price bars and OI history) so the level model has clusters
  within seconds.
- ``watchdog``: no data frame for ``stale_after`` seconds -> STALE (with the last message time)
  and a forced reconnect of every socket of the venue (ccxt alone can take minutes).

ccxt.pro never retries: a failed ``watch_*`` raises, and the next call reconnects and resubscribes.
Every task is supervised: capped exponential backoff with jitter; HTTP 429/418 honour Retry-After
and slow the venue's polling; an endpoint answering 404 marks only its own data kind DOWN.
Delivery (``deliver``): a Ticker is merged field by field with the venue's previous one, so a
stream that carries only the mark never blanks funding or volume; a symbol's live OI samples wait
until its OI history has been emitted (the engine receives each symbol's OI in time order); with
``map_to_requested`` an asked-for unified symbol listed under another quote (Hyperliquid's
``BTC/USDC:USDC`` for ``BTC/USDT:USDT``) is emitted under the asked symbol, so the coin sums
across venues.

Health is reported as FeedStatus events whenever a (kind, state, detail) changes:
kind "all" is the venue's websocket health (connecting, live, stale, reconnecting, down);
"oi" and "ticker" the REST poll (live, stale on errors and 429, down on 404); "book", "history";
"liquidations" only for a venue without a public feed (Hyperliquid: DOWN, "no public liquidation
feed (n/a)"). Counters of frames, malformed frames skipped and liquidations delivered are in
``VenueFeed.counters``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import heapq
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, fields, replace
from typing import Any

from liqtui.config import Settings, VenueSettings
from liqtui.domain.events import FeedState, FeedStatus, MarketEvent, OpenInterest, PriceBar, Ticker
from liqtui.domain.text import printable
from liqtui.feeds.base import Emit
from liqtui.feeds.live import frame_tap
from liqtui.feeds.live.adapter import BOOK_LEVELS, VenueAdapter
from liqtui.feeds.live.errors import network_reason
from liqtui.feeds.live.exchange import make_exchange
from liqtui.feeds.live.markets import MarketIndex

_TICKER_FIELDS = tuple(f.name for f in fields(Ticker) if f.name not in ("venue", "symbol", "time"))
ALL_KINDS = frozenset({"liquidations", "prices", "book", "market", "history"})
WEBSOCKET_KINDS = frozenset({"liquidations", "prices", "book"})


@dataclass(frozen=True)
class Timings:
    """Every delay of the worker, in seconds; tests shorten them."""

    stale_after: float = 30.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    jitter: float = 0.2  # +- fraction of each backoff delay
    watchdog_tick: float = 1.0
    not_found_retry: float = 600.0  # an endpoint that answered 404 is tried again this late
    max_poll_slowdown: float = 8.0  # 429/418 multiply the poll interval, up to this factor
    book_min_interval: float = 0.25  # order-book snapshots per venue at most this often
    markets_reload: float = 3600.0  # after a market-list reload, the next one waits a 60th of this
    markets_reload_delay: float = 5.0  # a new market's first liquidation: wait, so a burst reloads once
    resubscribe_check: float = 300.0  # how often the top symbols by volume are looked at again (Bybit)
    history_days: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: float) -> Timings:
        days = min(settings.levels.lookback_days, 30.0)
        values: dict[str, float] = {"stale_after": settings.stale_after_seconds, "history_days": days}
        values.update(overrides)
        return cls(**values)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def backoff_delay(attempt: int, timings: Timings, rng: random.Random = random._inst) -> float:
    """Capped exponential backoff with jitter: base x 2^(attempt-1), at most cap, +- jitter.

    A venue retries forever: the power stops at 2^1023 (the largest finite float power of two), so
    attempt 1,025 or 10^6 gives the cap instead of an OverflowError that ended the venue's task."""
    doublings = min(max(0, attempt - 1), 1023)
    delay = min(timings.backoff_cap, timings.backoff_base * 2.0**doublings)
    return max(0.0, delay * (1.0 + rng.uniform(-timings.jitter, timings.jitter)))


@dataclass
class HttpOutcome:
    """What the last REST response of the current task said (filled by the ccxt hook)."""

    status: int | None = None
    url: str = ""
    retry_after: float | None = None


_http_outcome: contextvars.ContextVar[HttpOutcome | None] = contextvars.ContextVar("liqtui_http", default=None)


def _install_http_hook(exchange: Any) -> None:
    ccxt_on_rest_response = exchange.on_rest_response

    def on_rest_response(code, reason, url, method, headers, body, request_headers, request_body):  # noqa: ANN001
        outcome = _http_outcome.get()
        if outcome is not None:
            outcome.status, outcome.url, outcome.retry_after = int(code), url, None
            for key, value in (headers or {}).items():
                if key.lower() == "retry-after":
                    with contextlib.suppress(ValueError):
                        outcome.retry_after = float(value)
        return ccxt_on_rest_response(code, reason, url, method, headers, body, request_headers, request_body)

    exchange.on_rest_response = on_rest_response


def _short(exc: BaseException) -> str:
    """The first line of an error, safe to print (it may quote what a server answered)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return printable(text)[:160]


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1].split("?", 1)[0] if "/" in rest else url


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
        # Symbols whose OI history is still being fetched: live OI samples wait (the newest is
        # kept) so the engine receives every symbol's OI in time order.
        self._backfilling: set[str] = set()
        self._held_oi: dict[str, OpenInterest] = {}
        self.venue = adapter.venue
        self.settings = settings
        self.venue_settings: VenueSettings = settings.venues.get(self.venue, VenueSettings())
        self.emit = emit
        self.timings = timings or Timings.from_settings(settings)
        self.wanted = list(symbols if symbols is not None else dict.fromkeys([*settings.watchlist, *settings.cross_assets]))
        self.focus = focus or (settings.watchlist[0] if settings.watchlist else None)
        self.counters = frame_tap.FrameCounters()
        self.health = VenueHealth()
        self.exchange: Any = None
        self.markets_ready = asyncio.Event()
        self.first_poll_done = asyncio.Event()  # the first market poll ended (well or not)
        self.last_data_ms: int | None = None  # last data frame on any socket of the venue
        self.ws_live = False
        self.frames_since_failure = 0
        self.rest_not_before = 0.0  # loop time before which no REST call is made (Retry-After)
        self.poll_slowdown = 1.0
        self.poll_latency_ms: float | None = None
        self._last_ok: dict[str, int] = {}
        self._not_found_until: dict[str, float] = {}  # endpoint -> loop time of the next try
        self._book_task: asyncio.Task | None = None
        self._book_symbol: str | None = None
        self.book_symbols = list(dict.fromkeys(book_symbols)) if book_symbols is not None else None
        self.book_levels = book_levels
        self._held_books_live: set[str] = set()  # held books that delivered since their last failure
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
        live OI of a symbol held back while its history is still coming (``history=True`` passes)."""
        if type(event) is Ticker:
            event = self._merge_ticker(event)
        elif type(event) is OpenInterest and not history and event.symbol in self._backfilling:
            self._held_oi[event.symbol] = event
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
            changes = {f: getattr(old, f) for f in _TICKER_FIELDS if getattr(ticker, f) is None and getattr(old, f) is not None}
            if changes:
                ticker = replace(ticker, **changes)
        self._tickers[ticker.symbol] = ticker
        return ticker

    # ------------------------------------------------------------------ frames
    def tap(self, client: Any, message: Any) -> bool:
        """Every decoded websocket frame of the venue passes here before ccxt sees it."""
        recv = now_ms()
        try:
            liquidations = self.adapter.parse_liquidations(message, recv)
        except Exception as exc:  # noqa: BLE001 - a liquidation frame of a shape we do not know: counted, shown
            self.adapter.rejected.clear()
            self.counters.malformed += 1
            self.counters.last_error = printable(f"liquidation frame skipped: {type(exc).__name__}: {exc}")[:200]
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
        parts = [f"{skipped} malformed frames or entries skipped (last: {self.counters.last_error})" if skipped else ""]
        return "; ".join(p for p in [*parts, self.markets_note, *self.margin_notes.values(), self.adapter.coverage_note] if p)

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
            _install_http_hook(self.exchange)
            await self._load_markets()
            self._build_aliases()
            if self.kinds & WEBSOCKET_KINDS:
                self.report("all", FeedState.CONNECTING, "subscribing")
            else:
                self.report("all", FeedState.LIVE, "REST only (no websocket asked for)")
            self.last_data_ms = now_ms()  # the watchdog counts silence from here
            self.ws_live = False
            bodies: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
                "liquidations": lambda: self._supervise("all", self._liquidations),
                "prices": lambda: self._supervise("all", self._prices),
                "market": self._market_loop,
                "history": self._history,
            }
            tasks = [asyncio.create_task(body(), name=f"{self.venue}:{kind}") for kind, body in bodies.items() if kind in self.kinds]
            if self.kinds & WEBSOCKET_KINDS:
                tasks.append(asyncio.create_task(self._watchdog(), name=f"{self.venue}:watchdog"))
            if "liquidations" in self.kinds and not self.adapter.has_liquidations:
                self.report("liquidations", FeedState.DOWN, self.adapter.no_liquidations_reason)
            if "book" in self.kinds and self.book_symbols is not None:
                tasks += self._hold_books()
            elif self.focus and "book" in self.kinds:
                self._start_book(self.focus)
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug of ours: say so, never take the other venues down
            self.report("all", FeedState.DOWN, f"internal error: {_short(exc)}")
        finally:
            running = [t for t in [*tasks, self._book_task, *self._side_tasks] if t is not None]
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            if self.exchange is not None:
                # Cancelled again while closing: the close goes on, shielded; the first cancel propagates.
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(self._close_exchange())

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

    async def _load_markets(self) -> None:
        attempt = 0
        while True:
            await self._rest_gate()
            outcome = HttpOutcome()
            token = _http_outcome.set(outcome)
            try:
                markets = await self.exchange.load_markets(reload=attempt > 0)
                self.adapter.set_markets(MarketIndex.from_ccxt(markets, self.adapter.names_markets_by_coin))
                self.markets_ready.set()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: said in the status, tried again
                attempt += 1
                delay = self._delay_after_failure(attempt, outcome)
                self.report("all", FeedState.DOWN, f"cannot load markets: {self._describe(exc, outcome)}; retry {attempt} in {delay:.1f} s")
                await asyncio.sleep(delay)
            finally:
                _http_outcome.reset(token)

    def _schedule_markets_reload(self) -> None:
        """A liquidation named a market the list lacks (listed since start): reload the list, once."""
        if self._loop is None or (self._reload_task is not None and not self._reload_task.done()):
            return
        self._reload_task = self._spawn(self._reload_markets(), "markets-reload")

    async def _reload_markets(self) -> None:
        await asyncio.sleep(self.timings.markets_reload_delay)
        unknown = len(self.adapter.unknown_ids)
        outcome = HttpOutcome()
        token = _http_outcome.set(outcome)
        try:
            await self._rest_gate()
            markets = await self.exchange.load_markets(reload=True)
            self.adapter.set_markets(MarketIndex.from_ccxt(markets, self.adapter.names_markets_by_coin))
            self.markets_note = ""
        except Exception as exc:  # noqa: BLE001 - any failure: the feed goes on with the list it has, and says so
            new = f"{unknown} new market{'' if unknown == 1 else 's'}"
            self.markets_note = f"cannot reload markets ({new} not in the list): {self._describe(exc, outcome)}"
        finally:
            _http_outcome.reset(token)
        if self.ws_live:
            self.report("all", FeedState.LIVE, self._live_detail(), self.last_data_ms)
        await asyncio.sleep(self.timings.markets_reload / 60)  # the next reload waits this long

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.venue}:{name}")
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)
        return task

    # ------------------------------------------------------------------ supervision
    def _delay_after_failure(self, attempt: int, outcome: HttpOutcome | None = None) -> float:
        delay = backoff_delay(attempt, self.timings)
        if outcome is not None and outcome.status in (429, 418):
            retry_after = outcome.retry_after if outcome.retry_after is not None else delay
            delay = max(delay, retry_after)
            self.rest_not_before = max(self.rest_not_before, asyncio.get_running_loop().time() + retry_after)
        return delay

    @staticmethod
    def _describe(exc: BaseException, outcome: HttpOutcome | None) -> str:
        if outcome is not None and outcome.status is not None and outcome.status >= 400:
            words = {429: "rate limited", 418: "IP banned for a while", 404: "endpoint not found"}.get(outcome.status, "HTTP error")
            return f"HTTP {outcome.status} {words}: {_path(outcome.url)}"
        reason = network_reason(exc)  # "DNS failed (ExchangeNotAvailable: ...)": the words first
        return f"{reason} ({type(exc).__name__}: {_short(exc)})" if reason else f"{type(exc).__name__}: {_short(exc)}"

    async def _supervise(self, kind: str, body: Callable[[], Awaitable[None]]) -> None:
        """Run a websocket body forever; on failure back off and run it again (= reconnect)."""
        attempt = 0
        while True:
            try:
                await body()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: said in the status, reconnected
                if self.frames_since_failure > 0:
                    attempt = 0  # it was working: a routine disconnect starts the count again
                attempt += 1
                self.frames_since_failure = 0
                delay = backoff_delay(attempt, self.timings)
                self.ws_live = False
                reason = network_reason(exc)
                self.report(kind, FeedState.RECONNECTING, f"{reason + '; ' if reason else ''}attempt {attempt}, next try in {delay:.1f} s ({type(exc).__name__}: {_short(exc)})", self.last_data_ms)
                await asyncio.sleep(delay)

    async def _rest_gate(self) -> None:
        wait = self.rest_not_before - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)

    # ------------------------------------------------------------------ websocket bodies
    async def _liquidations(self) -> None:
        if not self.adapter.has_liquidations:
            await asyncio.Event().wait()  # nothing to subscribe, ever
        if self.adapter.ranks_symbols and "market" in self.kinds:
            # The first market poll ranks the symbols by volume: subscribe the top ones at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.first_poll_done.wait(), self.timings.stale_after)
        subscribed: list[str] = []
        watches: set[asyncio.Future] = set()
        try:
            while True:
                symbols = await self.adapter.liquidation_symbols(self.exchange, self._listed(self.wanted))
                new = [s for s in symbols if s not in subscribed]
                if new or not watches:
                    # ccxt adds the new topics to the open socket; the subscribed ones stay as they are.
                    watches.add(asyncio.ensure_future(self.adapter.watch_liquidations(self.exchange, new or symbols)))
                    subscribed += new
                done, _ = await asyncio.wait(watches, timeout=self.timings.resubscribe_check, return_when=asyncio.FIRST_COMPLETED)
                for watch in done:
                    watches.discard(watch)
                    watch.result()  # a failed socket raises here: the supervisor reconnects
        finally:
            for watch in watches:
                watch.cancel()

    async def _prices(self) -> None:
        symbols = self._listed(self.wanted)
        if not symbols:
            await asyncio.Event().wait()
        while True:
            for ticker in await self.adapter.watch_prices(self.exchange, symbols, now_ms()):
                self.deliver(ticker)

    def _listed(self, symbols: list[str]) -> list[str]:
        from liqtui.feeds.symbols import venue_symbol

        out = []
        for symbol in symbols:
            listed = venue_symbol(symbol, self.adapter.markets)
            if listed is not None and listed not in out:
                out.append(listed)
        return out

    # ------------------------------------------------------------------ order book
    def set_focus(self, symbol: str) -> None:
        self.focus = symbol
        if self.markets_ready.is_set():
            self._build_aliases()
        if self.markets_ready.is_set() and "book" in self.kinds and self.book_symbols is None:
            self._start_book(symbol)

    def _hold_books(self) -> list[asyncio.Task]:
        """One supervised book task per ``book_symbols`` entry this venue lists (the others are
        simply not on this venue: a watchlist spans venues)."""
        listed = self._listed(self.book_symbols or [])
        if not listed and self.book_symbols:
            self.report("book", FeedState.DOWN, f"none of {', '.join(self.book_symbols)} is listed on {self.venue}")
        return [
            asyncio.create_task(self._supervise("book", functools.partial(self._held_book, symbol)), name=f"{self.venue}:book:{symbol}")
            for symbol in listed
        ]

    async def _held_book(self, symbol: str) -> None:
        try:
            await self._book(symbol, held=True)
        finally:
            self._held_books_live.discard(symbol)

    def _start_book(self, symbol: str) -> None:
        from liqtui.feeds.symbols import venue_symbol

        listed = venue_symbol(symbol, self.adapter.markets)
        if listed == self._book_symbol and self._book_task is not None and not self._book_task.done():
            return
        old_task, old_symbol = self._book_task, self._book_symbol
        self._book_task, self._book_symbol = None, listed
        if old_task is not None:
            old_task.cancel()
            if old_symbol is not None:
                self._spawn(self._unwatch_book(old_symbol), f"unwatch:{old_symbol}")
        if listed is None:
            self.report("book", FeedState.DOWN, f"{symbol} is not listed on {self.venue}")
            return
        self._book_task = asyncio.ensure_future(self._supervise("book", lambda: self._book(listed)))

    async def _unwatch_book(self, symbol: str) -> None:
        # Anything: some venues cannot unsubscribe, and the old stream dies with its socket anyway.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.adapter.unwatch_book(self.exchange, symbol), timeout=5)

    async def _book(self, symbol: str, *, held: bool = False) -> None:
        loop = asyncio.get_running_loop()
        next_emit = 0.0
        while True:
            snapshot = await self.adapter.watch_book(self.exchange, symbol, now_ms(), self.book_levels)
            if not held and self._book_symbol != symbol:
                return
            if held:
                # One "book" status for the venue: which of its held books are streaming.
                self._held_books_live.add(symbol)
                self.report("book", FeedState.LIVE, ", ".join(sorted(self._held_books_live)))
            else:
                self.report("book", FeedState.LIVE, symbol)
            if loop.time() >= next_emit:
                next_emit = loop.time() + self.timings.book_min_interval
                self.deliver(snapshot)

    # ------------------------------------------------------------------ REST polling
    def _poll_interval(self) -> float:
        return self.venue_settings.oi_poll_seconds or self.settings.oi_poll_seconds

    async def _market_loop(self) -> None:
        while True:
            interval = self._poll_interval() * self.poll_slowdown
            started = time.monotonic()
            poll = _PollOutcome()
            try:
                events = await self.adapter.poll_market(self.exchange, self._listed(self.wanted), now_ms(), self._rest_call(poll))
                for event in events:
                    self.deliver(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a payload our parser did not expect: say so, poll again later
                poll.fail(("oi", "ticker"), f"unexpected answer ({type(exc).__name__}: {_short(exc)})")
            if poll.retry_after is not None:
                self.poll_slowdown = min(self.timings.max_poll_slowdown, self.poll_slowdown * 2)
                delay = max(poll.retry_after, self._poll_interval() * self.poll_slowdown)
            else:
                self.poll_slowdown = max(1.0, self.poll_slowdown / 2)
                delay = interval
            took = (time.monotonic() - started) * 1000
            for kind in ("oi", "ticker"):
                if kind in poll.failed:
                    description, down = poll.failed[kind]
                    state = FeedState.DOWN if down else FeedState.STALE
                    self.report(kind, state, f"{description}; next poll in {delay:.0f} s", self._last_ok.get(kind))
                elif kind in poll.succeeded:
                    self._last_ok[kind] = now_ms()
                    self.report(kind, FeedState.LIVE, f"polled every {delay:g} s", self._last_ok[kind])
            self.poll_latency_ms = took
            self.first_poll_done.set()
            await asyncio.sleep(delay)  # the next poll is scheduled when this one ends: never overlapping

    def _rest_call(self, poll: _PollOutcome) -> Callable[..., Awaitable[Any]]:
        async def call(kind: str, endpoint: str, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
            kinds = tuple(kind.split("+"))
            loop = asyncio.get_running_loop()
            if self._not_found_until.get(endpoint, 0.0) > loop.time():
                poll.fail(kinds, f"HTTP 404 endpoint not found: {endpoint}", down=True)
                return None
            await self._rest_gate()
            outcome = HttpOutcome()
            token = _http_outcome.set(outcome)
            try:
                result = await fn(*args)
                poll.succeeded.update(kinds)
                return result
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: said in the status, tried again
                description = self._describe(exc, outcome)
                if outcome.status == 404:
                    self._not_found_until[endpoint] = loop.time() + self.timings.not_found_retry
                    poll.fail(kinds, description, down=True)
                elif outcome.status in (429, 418):
                    retry_after = outcome.retry_after if outcome.retry_after is not None else self.timings.backoff_cap
                    self.rest_not_before = max(self.rest_not_before, loop.time() + retry_after)
                    poll.retry_after = max(poll.retry_after or 0.0, retry_after)
                    poll.fail(kinds, description)
                else:
                    poll.fail(kinds, description)
                return None
            finally:
                _http_outcome.reset(token)

        return call

    # ------------------------------------------------------------------ backfill
    async def _history(self) -> None:
        """Price bars and OI history of the focus symbol first, then the watchlist, oldest first."""
        try:
            await self._backfill()
        finally:
            self._backfilling.clear()
            for held in list(self._held_oi.values()):
                self.deliver(held)
            self._held_oi.clear()

    async def _backfill(self) -> None:
        watchlist = [s for s in self.settings.watchlist if s in self.wanted]
        symbols = self._listed(list(dict.fromkeys([s for s in [self.focus, *watchlist] if s])))
        self._backfilling.update(symbols)  # before any await: a live OI sample must not pass its history
        for symbol in self._listed(self.wanted):
            if symbol not in symbols:
                symbols.append(symbol)  # the other polled symbols get their margin limits, no history
        total = 0
        problems: list[str] = []
        for symbol in symbols:
            await self._margin_limits(symbol)
            if symbol not in self._backfilling:
                continue
            self.report("history", FeedState.CONNECTING, f"backfilling {symbol}")
            end = now_ms()
            since = end - int(self.timings.history_days * 86_400_000)
            bars = await self._rest_step("price history", problems, self.adapter.fetch_price_history, self.exchange, symbol, since, end) or []
            closes = {bar.time: bar.close for bar in bars}
            interest = await self._rest_step("OI history", problems, self.adapter.fetch_oi_history, self.exchange, symbol, since, end, closes) or []
            merged: list[PriceBar | OpenInterest] = list(heapq.merge(bars, interest, key=_event_time))
            for i, event in enumerate(merged, start=1):
                self.deliver(event, history=True)
                if i % 2000 == 0:
                    await asyncio.sleep(0)  # 30 days are ~17k events a symbol: let the desk breathe
            total += len(merged)
            self._backfilling.discard(symbol)
            held = self._held_oi.pop(symbol, None)
            if held is not None and (not interest or held.time > interest[-1].time):
                self.deliver(held)
        if not symbols:
            return
        if problems:
            self.report("history", FeedState.DOWN if total == 0 else FeedState.LIVE, f"{total} history points; " + "; ".join(problems))
        else:
            self.report("history", FeedState.LIVE, f"{total} history points")

    async def _margin_limits(self, symbol: str) -> None:
        """The level model's limits for ``symbol`` from the venue's margin tiers (feeds/margin.py), before
        its history; a fallback says why in the live status, as ``liqtui risk`` prints it."""
        from liqtui.feeds.margin import fetch_limits

        await self._rest_gate()
        market = self.adapter.markets.by_symbol[symbol]
        ticker = self._tickers.get(symbol)
        price = (ticker.last or ticker.mark or 0.0) if ticker is not None else 0.0
        limits = await fetch_limits(self.exchange, self.venue, market, symbol, price, now_ms())
        if limits.note:
            self.margin_notes[symbol] = f"{symbol}: {limits.note}"
        self.deliver(limits)

    async def _rest_step(self, what: str, problems: list[str], fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """One backfill call with a few retries; a 404 or a persistent error skips only this step."""
        for attempt in range(1, 4):
            await self._rest_gate()
            outcome = HttpOutcome()
            token = _http_outcome.set(outcome)
            try:
                return await fn(*args)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: said in the status, tried again
                description = self._describe(exc, outcome)
                if outcome.status == 404 or attempt == 3:
                    problems.append(f"{what}: {description}")
                    return None
                await asyncio.sleep(self._delay_after_failure(attempt, outcome))
            finally:
                _http_outcome.reset(token)
        return None

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
            self.report("all", FeedState.STALE, f"no data for over {self.timings.stale_after:g} s; reconnecting", self.last_data_ms)
            if loop.time() - self._last_forced_reconnect >= self.timings.stale_after:
                self._last_forced_reconnect = loop.time()
                self._force_reconnect(f"no data for {silent_s:.0f} s")

    def _force_reconnect(self, reason: str) -> None:
        from ccxt.base.errors import RequestTimeout

        for client in list((self.exchange.clients or {}).values()):
            with contextlib.suppress(Exception):  # anything: a client already closing reconnects on its own
                client.on_error(RequestTimeout(f"liqtui watchdog: {reason}"))


@dataclass
class _PollOutcome:
    """What one market poll achieved, per data kind ("oi", "ticker")."""

    succeeded: set[str] = field(default_factory=set)
    failed: dict[str, tuple[str, bool]] = field(default_factory=dict)  # kind -> (why, endpoint gone)
    retry_after: float | None = None  # seconds, when the venue said 429/418

    def fail(self, kinds: tuple[str, ...], why: str, down: bool = False) -> None:
        for kind in kinds:
            self.failed.setdefault(kind, (why, down))


def _event_time(event: PriceBar | OpenInterest) -> int:
    return event.time
