"""The normalized market events that flow venue -> feed -> engine -> panes.

Conventions, fixed here once for every layer:
- times are integer milliseconds since the Unix epoch (UTC);
- ``venue`` is the ccxt exchange id (``binanceusdm``, ``bybit``, ``okx``, ``hyperliquid``; the demo uses these same ids: its DEMO label comes from the source's mode);
- ``symbol`` is the ccxt unified symbol (``BTC/USDT:USDT``);
- quantities are in the base coin, notionals in USD (USDT/USDC counted 1:1).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeGuard, cast

if TYPE_CHECKING:
    _FloatArray = array[float]
else:
    _FloatArray = array  # not subscriptable at run time before Python 3.12


class Side(StrEnum):
    """The side of the *position* (for a liquidation: the position that was liquidated)."""

    LONG = "long"
    SHORT = "short"

    @property
    def opposite(self) -> Side:
        return Side.SHORT if self is Side.LONG else Side.LONG


class LiquidationSource(StrEnum):
    """How liqtui saw a liquidation."""

    FEED = "feed"  # the venue's own liquidation stream (Binance, Bybit, OKX)
    BACKSTOP = "backstop"  # a fill of Hyperliquid's backstop liquidator vault
    TRACKED = "tracked"  # a fill of a tracked Hyperliquid account, looked up when its position vanished


@dataclass(frozen=True, slots=True)
class Liquidation:
    venue: str
    symbol: str
    side: Side
    price: float
    qty: float  # base coin
    usd: float  # notional in USD
    time: int  # exchange time, ms
    recv_time: int  # when liqtui received it, ms
    sampled: bool = False  # a part of the venue's liquidations: one per symbol per second (Binance, OKX), or Hyperliquid's partial view
    source: LiquidationSource = LiquidationSource.FEED


# A liquidation's exchange time must fall in [2000-01-01, receipt + 1 day]. No perpetual swap traded
# before 2016, so an earlier time is a wrong unit (seconds read as ms land in January 1970) or a
# placeholder; a venue's clock is seconds off, never a day, so a later one is garbage (10^30 would
# also overflow SQLite's 64-bit integers). The window is wide on purpose: only nonsense is refused.
EARLIEST_TIME_MS = 946_684_800_000  # 2000-01-01 00:00 UTC
MAX_AHEAD_MS = 86_400_000


def liquidation_problem(liq: Liquidation) -> str | None:
    """Why no venue can mean ``liq`` (a short phrase), or None when it is a plausible liquidation:
    a long or short side, a finite positive price, size and USD notional, a symbol, and an exchange
    time inside the window above (measured from ``recv_time``)."""
    if not isinstance(liq.side, Side):
        return f"side {liq.side!r} is neither long nor short"
    for name, value in (("price", liq.price), ("size", liq.qty), ("USD notional", liq.usd)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            return f"{name} {value!r} is not a positive finite number"
    if not liq.symbol:
        return "no symbol"
    return _time_problem(liq.time, liq.recv_time)


def _time_problem(time: object, received: int) -> str | None:
    if (
        not isinstance(time, int)
        or isinstance(time, bool)
        or not EARLIEST_TIME_MS <= time <= received + MAX_AHEAD_MS
    ):
        return f"time {time!r} is outside 2000-01-01 .. a day after receipt"
    return None


def _finite(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def market_value_problem(event: OpenInterest | Ticker, received: int) -> str | None:
    """Why no venue can mean a polled or streamed OI sample or ticker (a short phrase), or None: the
    rule ``liquidation_problem`` is for liquidations. OI in coins and USD finite and >= 0; prices
    (last, mark, index) finite and > 0; funding rate and 24 h change finite; volume finite and >= 0;
    its time, and a ticker's next funding time, inside the liquidations' window (from ``received``)."""
    if isinstance(event, OpenInterest):
        numbers: tuple[tuple[str, object, float | None], ...] = (
            ("OI", event.base, 0.0),
            ("OI in USD", event.usd, 0.0),
        )
    else:
        numbers = (
            ("last price", event.last, None),
            ("mark price", event.mark, None),
            ("index price", event.index, None),
            ("funding rate", event.funding_rate, -math.inf),
            ("24h change", event.change_24h_pct, -math.inf),
            ("24h volume", event.volume_24h_usd, 0.0),
            ("funding interval", event.funding_interval_hours, None),
        )
    for name, value, low in numbers:
        if value is None and isinstance(event, Ticker):
            continue  # a ticker carries what its stream has
        if not _finite(value) or (value <= 0.0 if low is None else value < low):
            return f"{name} {value!r} is not a {'positive' if low is None else 'finite'} number" + (
                " >= 0" if low == 0.0 else ""
            )
    if isinstance(event, Ticker) and event.next_funding_time is not None:
        problem = _time_problem(event.next_funding_time, received + 30 * 86_400_000)  # settles within days
        if problem is not None:
            return "next funding " + problem
    return _time_problem(event.time, received)


@dataclass(frozen=True, slots=True)
class OpenInterest:
    venue: str
    symbol: str
    base: float  # open interest in the base coin
    usd: float  # open interest in USD
    time: int


@dataclass(frozen=True, slots=True)
class PriceBar:
    """One OHLC step of price history (backfill, and the live price path between OI samples)."""

    venue: str
    symbol: str
    time: int  # bar open time, ms
    open: float
    high: float
    low: float
    close: float
    volume_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """Top of the order book for one venue and symbol: (price, base size) pairs, best first."""

    venue: str
    symbol: str
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]
    time: int


@dataclass(frozen=True, slots=True)
class Ticker:
    venue: str
    symbol: str
    time: int
    last: float | None = None
    mark: float | None = None
    index: float | None = None
    funding_rate: float | None = None  # per funding interval, as a fraction (0.0001 = 0.01 %)
    next_funding_time: int | None = None  # ms
    change_24h_pct: float | None = None
    volume_24h_usd: float | None = None
    funding_interval_hours: float | None = None  # the interval the venue reported for this market, if it did


class FeedState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    STALE = "stale"
    RECONNECTING = "reconnecting"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """Health of one venue's feed. ``kind`` names the data it covers ("liquidations", "oi", ...) or "all"."""

    venue: str
    state: FeedState
    since: int  # ms: when this state began
    detail: str = ""  # human words: "attempt 3, next try in 8 s", "no public liquidation feed"
    kind: str = "all"
    last_message: int | None = None  # ms of the last message received, for the age chip


@dataclass(frozen=True, slots=True)
class MarginLimits:
    """What the ESTIMATED level model assumes for new positions of one venue and symbol: the venue's
    first margin tier (feeds/margin.py), read once at start. A None leaves the model's own setting
    (``[levels] maintenance_margin``, no leverage cap). Never recorded: a replay uses the settings."""

    venue: str
    symbol: str
    time: int
    maintenance_rate: float | None
    max_leverage: float | None
    source: str | None  # "bybit risk-limit", "default" (the shipped table); None: the model's setting
    note: str = ""  # why a default stands in for the venue's own tiers ("" when nothing fell back)


class Float32s(_FloatArray):
    """A recorded heatmap bucket's USD per row as the file holds them (float32), read without a Python
    float per row (a stress minute's 4,772 buckets hold ~1.5 million); equal to any sequence of the
    same numbers, as the tuple it stands for."""

    __hash__ = None

    def __new__(cls, values: Sequence[float] = ()) -> Float32s:
        return cast(Float32s, super().__new__(cls, "f", values))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, array):
            return bool(array.__eq__(self, other))
        return isinstance(other, (tuple, list)) and self.tolist() == list(other)

    def __ne__(self, other: object) -> bool:
        return not self == other


@dataclass(frozen=True, slots=True)
class HeatmapBucket:
    """One venue's ESTIMATED level book at the end of a 5-minute bucket, with the bucket's price range
    and realized liquidations: the heatmap's history as the desk kept it (engine/heatmap.py), recorded
    so that a restart draws the same picture. Rows are of ``grid`` (row i: price i x grid). Venue
    ``measured``: the tracked accounts' MEASURED levels of the symbol (no price range nor marks)."""

    venue: str
    symbol: str
    time: int  # when the bucket was closed (the first OI step after it)
    bucket: int  # the bucket's start, ms
    grid: float
    # (first row, USD per row from it: a read bucket's are ``Float32s``); None: as the venue's last
    longs: tuple[int, Sequence[float]] | None
    shorts: tuple[int, Sequence[float]] | None
    low: float | None  # the price's range in the bucket; None: no price seen
    high: float | None
    realized: tuple[tuple[int, Side, float], ...] = ()  # (row, side, USD) liquidated in the bucket


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    """One tracked account's position in one symbol, as the venue's public account state gave it
    (Hyperliquid's ``clearinghouseState``): MEASURED, not estimated. ``size`` 0 means the account no
    longer holds the symbol (the position closed or was liquidated): the engine drops it."""

    venue: str
    symbol: str
    account: str  # the account's address (``0x`` + 40 hex digits on Hyperliquid)
    side: Side
    size: float  # base coin, >= 0
    usd: float  # position value in USD at the venue's mark
    entry: float  # entry price
    liquidation_price: float | None  # as the venue gives it; None: no price liquidates it
    leverage: float
    margin: str  # "cross" or "isolated" (a cross position's price moves with the whole account)
    time: int  # ms: when this snapshot was read


Event = (
    Liquidation
    | OpenInterest
    | PriceBar
    | BookSnapshot
    | Ticker
    | FeedStatus
    | MarginLimits
    | HeatmapBucket
    | PositionSnapshot
)
# the events of one market (symbol)
MarketEvent = (
    Liquidation
    | OpenInterest
    | PriceBar
    | BookSnapshot
    | Ticker
    | MarginLimits
    | HeatmapBucket
    | PositionSnapshot
)
