"""What the runtime asks of one venue: the base class every venue module fills in.

A venue module owns the exchange's wire shapes: pure parsers (payload -> domain events) and the
few calls that choose endpoints. The runtime (``venue_feed.py`` and beside it ``streams.py``,
``polling.py``, ``supervision.py``) owns connections, health, backoff
and scheduling, identically for every venue.

Required of every venue: ``poll_market`` (OI and ticker data by REST, bulk where possible).
Optional: a liquidation stream (``has_liquidations``), price and OI history for the backfill.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from liqtui.config import VenueSettings
from liqtui.domain.events import (
    BookSnapshot,
    Liquidation,
    OpenInterest,
    PriceBar,
    Side,
    Ticker,
    liquidation_problem,
)
from liqtui.domain.text import printable
from liqtui.domain.venues import VENUES
from liqtui.feeds.live.markets import MarketIndex

BOOK_LEVELS = 20  # levels per side handed to the engine (the desk's ladder)
RECORD_BOOK_LEVELS = 50  # levels per side `liqtui record` stores (README, Recording)

RestCall = Callable[..., Awaitable[Any]]
"""``await call(kind, endpoint, fn, *args)``: the runtime's guarded REST call. Returns ``fn(*args)``'s
result, or None when it failed (the runtime has recorded why against ``kind``: "oi" or "ticker",
and an endpoint that answered 404 is not asked again for a while). One failing endpoint therefore
never takes the other data of the poll with it."""


def fnum(value: Any) -> float | None:
    """A float from an exchange's string/number field; None for missing or empty."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer beyond any float
        return None


def inum(value: Any) -> int | None:
    number = fnum(value)
    return int(number) if number is not None else None


class MalformedEntry(ValueError):
    """One entry of a liquidation frame that no venue can mean (no price, a NaN size, an unknown
    side, a time in 1970): counted and skipped by the runtime; the frame's other entries stand."""


def present(entry: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first of ``keys`` that ``entry`` carries (not missing, null or empty)."""
    return _first_given(entry.get(key) for key in keys)


def _first_given(values: Iterable[Any]) -> Any:
    return next((value for value in values if value is not None and value != ""), None)


def entry_number(value: Any, name: str) -> float:
    """A required number field of a liquidation entry (NaN and infinities pass: ``checked`` names them)."""
    if value is None or value == "":
        raise MalformedEntry(f"no {name}")
    number = None if isinstance(value, bool) else fnum(value)
    if number is None:
        raise MalformedEntry(f"{name} {_shown(value)} is not a number")
    return number


def entry_time(recv_ms: int, *candidates: Any) -> int:
    """An entry's exchange time in ms: the first of ``candidates`` given, else ``recv_ms``."""
    value = _first_given(candidates)
    if value is None:
        return recv_ms
    number = entry_number(value, "time")
    if not math.isfinite(number):
        raise MalformedEntry(f"time {_shown(value)} is not a time")
    return int(number)


def entry_side(value: Any, sides: Mapping[str, Side]) -> Side:
    """The liquidated position's side from the venue's own word (``sides``); MalformedEntry for any
    other word, never a default."""
    side = sides.get(value) if isinstance(value, str) else None
    if side is None:
        raise MalformedEntry(f"side {_shown(value)} is not one this venue sends")
    return side


def checked(liquidation: Liquidation) -> Liquidation:
    """``liquidation``, or MalformedEntry saying why no venue can mean it (``liquidation_problem``)."""
    problem = liquidation_problem(liquidation)
    if problem is not None:
        raise MalformedEntry(problem)
    return liquidation


def _shown(value: Any) -> str:
    """A raw value, short and safe to print, for a malformed entry's reason."""
    text = printable(repr(value))
    return text if len(text) <= 40 else text[:39] + "…"


class VenueAdapter:
    venue = ""
    sampled = False  # the liquidation stream pushes at most one per symbol per second
    has_liquidations = True
    ranks_symbols = False  # liquidation topics per symbol, chosen by 24 h volume (Bybit)
    no_liquidations_reason = ""  # shown on screen when has_liquidations is False
    has_oi_history = True  # fetch_oi_history returns the venue's OI history
    ticker_carries_funding = (
        False  # the ticker's ``info`` carries funding ``r`` and next time ``T`` (Binance markPrice)
    )
    names_markets_by_coin = False  # payloads name a market by its coin, not ccxt's market id (Hyperliquid)
    book_limit: int | None = None  # passed to ccxt watch_order_book
    # OHLCV timeframe and step used by the backfill (5 minutes: Binance's OI history step)
    history_timeframe = "5m"
    history_step_ms = 300_000
    tracks_positions = False  # measures accounts' positions (the "positions" task: Hyperliquid)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A venue's adapter takes its facts (sampled, liquidation feed) from the registry, not its own copy."""
        super().__init_subclass__(**kwargs)
        info = VENUES.get(cls.venue)
        if info is not None:
            cls.sampled = info.sampled
            cls.has_liquidations = info.has_liquidation_feed
            cls.no_liquidations_reason = info.no_feed_reason

    def __init__(self) -> None:
        self.markets = MarketIndex()
        self.unknown_ids: set[str] = set()  # ids seen in frames that the markets did not list
        self.rejected: list[
            str
        ] = []  # why each malformed liquidation entry was left out (the runtime counts and clears)
        self.coverage_note = (
            ""  # what the liquidation stream leaves out for now, and why (in the live status)
        )

    def configure(self, settings: VenueSettings) -> None:
        """The venue's own settings (``[venues.<id>]``), before anything runs; most venues need none."""

    def attach(self, exchange: Any) -> None:
        """The venue's ccxt client was just made (before any request): a venue may wrap its calls."""

    async def track_positions(self, feed: Any) -> None:
        """The "positions" task (``tracks_positions``): runs until cancelled."""
        raise NotImplementedError

    def set_markets(self, markets: MarketIndex) -> None:
        self.markets = markets
        self.unknown_ids.clear()

    # ---- websocket frames (called for every decoded frame: keep them cheap) ----
    def parse_liquidations(self, message: Any, recv_ms: int) -> list[Liquidation] | None:
        """Liquidations in a frame, or None when the frame is not a liquidation frame."""
        return None

    def is_heartbeat(self, message: Any) -> bool:
        """A pong or a subscription acknowledgement: proves the socket, not the data."""
        return False

    # ---- subscriptions (await until ccxt resolves or the connection fails) ----
    async def watch_liquidations(self, exchange: Any, symbols: list[str]) -> None:
        raise NotImplementedError

    async def liquidation_symbols(self, exchange: Any, watchlist: list[str]) -> list[str]:
        """The symbols whose liquidations to subscribe (venues with an all-symbol stream ignore it)."""
        return watchlist

    async def watch_book(
        self, exchange: Any, symbol: str, now_ms: int, levels: int = BOOK_LEVELS
    ) -> BookSnapshot:
        """The next book of ``symbol``, its top ``levels`` per side (fewer where the venue's
        depth, ``book_limit``, is smaller)."""
        book = await exchange.watch_order_book(symbol, self.book_limit)
        return book_from_ccxt(self.venue, symbol, book, now_ms, levels)

    async def unwatch_book(self, exchange: Any, symbol: str) -> None:
        await exchange.un_watch_order_book(symbol)

    async def watch_prices(self, exchange: Any, symbols: list[str], now_ms: int) -> list[Ticker]:
        tickers = await exchange.watch_tickers(symbols)
        funding = self.ticker_carries_funding
        return [
            ticker_from_ccxt(self.venue, t, now_ms, funding)
            for t in tickers.values()
            if t.get("symbol") in symbols
        ]

    # ---- REST ----
    async def poll_market(
        self, exchange: Any, symbols: list[str], now_ms: int, call: RestCall
    ) -> list[OpenInterest | Ticker]:
        raise NotImplementedError

    async def fetch_price_history(
        self, exchange: Any, symbol: str, since_ms: int, now_ms: int
    ) -> list[PriceBar]:
        bars: list[PriceBar] = []
        since = since_ms
        while since < now_ms - self.history_step_ms:
            rows = await exchange.fetch_ohlcv(symbol, self.history_timeframe, since, 1000)
            if not rows:
                break
            bars.extend(price_bars_from_ohlcv(self.venue, symbol, rows))
            last = int(rows[-1][0])
            if last <= since:
                break
            since = last + self.history_step_ms
        return bars

    async def fetch_oi_history(
        self, exchange: Any, symbol: str, since_ms: int, now_ms: int, closes: dict[int, float]
    ) -> list[OpenInterest]:
        """OI history; ``closes`` (bar time -> close) prices what the venue gives only in coin."""
        return []


def price_bars_from_ohlcv(venue: str, symbol: str, rows: list[list[Any]]) -> list[PriceBar]:
    """ccxt OHLCV rows ``[time, open, high, low, close, base volume]`` -> PriceBar (volume in USD)."""
    bars = []
    for row in rows:
        time, open_, high, low, close = (
            int(row[0]),
            float(row[1]),
            float(row[2]),
            float(row[3]),
            float(row[4]),
        )
        volume = fnum(row[5]) or 0.0
        bars.append(PriceBar(venue, symbol, time, open_, high, low, close, volume * close))
    return bars


def book_from_ccxt(
    venue: str, symbol: str, book: Any, now_ms: int, levels: int = BOOK_LEVELS
) -> BookSnapshot:
    """ccxt order book ``{'bids': [[price, size], ...], 'asks': ..., 'timestamp': ms}`` -> top ``levels``."""
    bids = tuple((float(p), float(s)) for p, s, *_ in list(book["bids"][:levels]))
    asks = tuple((float(p), float(s)) for p, s, *_ in list(book["asks"][:levels]))
    return BookSnapshot(venue, symbol, bids, asks, int(book.get("timestamp") or now_ms))


def ticker_from_ccxt(
    venue: str, ticker: dict[str, Any], now_ms: int, carries_funding: bool = False
) -> Ticker:
    """A ccxt unified ticker (as the websocket streams give it) -> Ticker with what it carries.

    Fields the stream does not carry stay None: a consumer merges Ticker events field by field.
    """
    info = ticker.get("info") if carries_funding else None
    quote_volume = fnum(ticker.get("quoteVolume"))
    return Ticker(
        venue=venue,
        symbol=ticker["symbol"],
        time=int(ticker.get("timestamp") or now_ms),
        last=fnum(ticker.get("last")),
        mark=fnum(ticker.get("markPrice")),
        index=fnum(ticker.get("indexPrice")),
        funding_rate=fnum(info.get("r")) if isinstance(info, dict) else None,
        next_funding_time=inum(info.get("T")) if isinstance(info, dict) else None,
        change_24h_pct=fnum(ticker.get("percentage")),
        volume_24h_usd=quote_volume,
    )
