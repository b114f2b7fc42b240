"""What the engine has been told, kept for reading: written only by ``Engine.apply``, read by the
projection (``projection.py``) that builds views from it.

- ``VenueSymbol``: the level model's live state of one venue and symbol (its LevelBook, the price path
  waiting for the OI sample that ends a step, its recent sweeps and fills);
- ``Sweep``: a level the price swept, and the liquidations matched to it;
- ``MarketState``: every venue's latest feed statuses, books and tickers per symbol, the realized
  totals, OI history, the liquidation tape and when the tape ran.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from operator import attrgetter

from liqtui.domain.events import BookSnapshot, FeedStatus, Liquidation, Side, Ticker
from liqtui.domain.venues import VENUE_IDS
from liqtui.engine.levels import Consumed, LevelBook
from liqtui.engine.oi import OITracker
from liqtui.engine.positions import MeasuredPositions
from liqtui.engine.realized import RealizedTotals
from liqtui.engine.tape import LiquidationTape
from liqtui.engine.tape_cover import TapeCover
from liqtui.engine.views import SweepRecord

SWEEPS_KEPT = 64  # per venue and symbol
PATH_KEPT = 1_024  # price points waiting for the OI sample that ends their step
SWEEP_MATCH_TOLERANCE = 0.005  # a fill can print a little beyond the level (slippage, bankruptcy price)
FILLS_KEPT = 2_000  # per venue and symbol: the newest liquidations a new sweep can match
HELD_RUN = 8  # a market's run of at least this many liquidations is held as it came (RecentFills)
_FILL_FIELDS = tuple(attrgetter(name) for name in ("time", "side", "price", "usd"))


class RecentFills:
    """The newest ``FILLS_KEPT`` liquidations of one venue and symbol, read as (time, side, price, USD)
    in order (only when a sweep is made: ``Engine._record_sweep``). A run of ``HELD_RUN`` or more is
    held as it came (the engine's list of the market's liquidations, which nothing changes after):
    at stress ~9,000 fills a second went into four columns a field at a time (~0.5 us a liquidation)
    for a read every few seconds at most; now a run is only appended, and the runs no read can reach
    any more are let go. Shorter runs (the live feeds' one by one) and a batch's columns go into
    columns, not a tuple per fill: each tuple was an object that every pass of the garbage
    collector's youngest generation walked."""

    __slots__ = ("_chunks", "_rows")

    def __init__(self) -> None:
        # Oldest first: a held run (a sequence of Liquidation) or columns (times, sides, prices, USDs).
        self._chunks: deque[Sequence[Liquidation] | _Columns] = deque()
        self._rows = 0  # fills in the chunks (some may be older than the newest FILLS_KEPT)

    def extend(
        self, times: Iterable[int], sides: Iterable[Side], prices: Iterable[float], usds: Iterable[float]
    ) -> None:
        """Fills in time order, a column each (of the same length)."""
        last = self._chunks[-1] if self._chunks else None
        if not isinstance(last, _Columns) or len(last.times) >= FILLS_KEPT:
            last = _Columns()
            self._chunks.append(last)
        before = len(last.times)
        last.times.extend(times)
        last.sides.extend(sides)
        last.prices.extend(prices)
        last.usds.extend(usds)
        self._grew(len(last.times) - before)

    def extend_liquidations(self, liqs: Sequence[Liquidation]) -> None:
        if len(liqs) >= HELD_RUN:
            self._chunks.append(liqs)
            self._grew(len(liqs))
        else:
            self.extend(*(map(field_of, liqs) for field_of in _FILL_FIELDS))

    def _grew(self, added: int) -> None:
        """``added`` more fills: the oldest chunks that only hold fills older than the newest
        ``FILLS_KEPT`` are let go."""
        rows, chunks = self._rows + added, self._chunks
        while len(chunks) > 1 and rows - _length(chunks[0]) >= FILLS_KEPT:
            rows -= _length(chunks.popleft())
        self._rows = rows

    def __iter__(self) -> Iterator[tuple[int, Side, float, float]]:
        skip = max(0, self._rows - FILLS_KEPT)
        for chunk in self._chunks:
            n = _length(chunk)
            if skip >= n:
                skip -= n
                continue
            if isinstance(chunk, _Columns):
                rows: Iterable[tuple[int, Side, float, float]] = zip(
                    chunk.times, chunk.sides, chunk.prices, chunk.usds, strict=True
                )
            else:
                rows = ((liq.time, liq.side, liq.price, liq.usd) for liq in chunk)
            yield from islice(rows, skip, None)
            skip = 0


class _Columns:
    """Fills as four columns (a chunk of ``RecentFills``)."""

    __slots__ = ("times", "sides", "prices", "usds")

    def __init__(self) -> None:
        self.times: list[int] = []
        self.sides: list[Side] = []
        self.prices: list[float] = []
        self.usds: list[float] = []


def _length(chunk: Sequence[Liquidation] | _Columns) -> int:
    return len(chunk.times) if isinstance(chunk, _Columns) else len(chunk)


@dataclass
class Sweep:
    venue: str
    symbol: str
    side: Side
    time: int
    price_low: float
    price_high: float
    estimated_usd: float
    window_start: int
    window_end: int
    consumed: Consumed
    realized_usd: float = 0.0
    # USD of the liquidations matched to it, by exact price: bounded by the sweep's price range
    # over the tick size, where a list of every fill grew by hundreds of thousands at stress rates.
    fills: dict[float, float] = field(default_factory=dict)
    fill_count: int = 0  # changes with every matched fill (the view cache's key)
    _record: tuple[int, bool, SweepRecord] | None = field(default=None, repr=False, compare=False)

    def add_fill(self, price: float, usd: float) -> None:
        self.realized_usd += usd
        self.fills[price] = self.fills.get(price, 0.0) + usd
        self.fill_count += 1

    def matches(self, side: Side, price: float, time_ms: int) -> bool:
        return (
            side is self.side
            and self.window_start <= time_ms <= self.window_end
            and self.price_low * (1 - SWEEP_MATCH_TOLERANCE)
            <= price
            <= self.price_high * (1 + SWEEP_MATCH_TOLERANCE)
        )

    def record(self, taped: bool) -> SweepRecord:
        """The sweep as views show it; the same object until a fill or ``taped`` changes (every view
        lists the symbol's 256 sweeps)."""
        kept = self._record
        if kept is not None and kept[0] == self.fill_count and kept[1] == taped:
            return kept[2]
        record = SweepRecord(
            self.venue,
            self.symbol,
            self.side,
            self.time,
            self.price_low,
            self.price_high,
            self.estimated_usd,
            self.realized_usd,
            taped,
        )
        self._record = (self.fill_count, taped, record)
        return record


class VenueSymbol:
    """The level model's live state for one venue and symbol.

    Prices wait in ``path`` (time, low, high, last) until the OI sample that ends their step: a step
    ending at t uses the prices with time <= t and leaves later ones for the next step. So history
    arriving after live tickers (the usual start-up order) steps with its own prices, not live ones.
    """

    def __init__(self, book: LevelBook) -> None:
        self.book = book
        self.oi_base: float | None = None
        self.step_time: int | None = None  # time of the OI sample that ended the last step
        self.step_price: float | None = None  # the price at that sample
        self.path: list[tuple[int, float, float, float]] = []
        self.latest_price: float | None = None  # newest by time, for the view when no ticker has one
        self.latest_time: int | None = None
        self.sweeps: deque[Sweep] = deque(maxlen=SWEEPS_KEPT)  # in time order (steps only move on)
        self.longest_span = 0  # the widest half-window of any sweep kept: how far back a fill can match
        self.recent_fills = RecentFills()

    def see_price(self, low: float, high: float, last: float, time_ms: int) -> None:
        if self.step_time is not None and time_ms <= self.step_time:
            return  # a price from before the last step (late history) would corrupt the step range
        self.path.append((time_ms, low, high, last))
        if len(self.path) > PATH_KEPT:
            self._compact()
        if self.latest_time is None or time_ms >= self.latest_time:
            self.latest_price, self.latest_time = last, time_ms

    def _compact(self) -> None:
        """No OI sample for a long while (a feed down): fold the older half into one point so memory
        stays bounded; its time is the newest folded, so its range joins the step that covers it."""
        self.path.sort(key=lambda point: point[0])
        half = self.path[: len(self.path) // 2]
        folded = (half[-1][0], min(p[1] for p in half), max(p[2] for p in half), half[-1][3])
        self.path = [folded, *self.path[len(half) :]]

    def take_step_path(self, time_ms: int) -> tuple[float, float, float | None]:
        """(low, high, last price) of the path points up to ``time_ms``; they leave the path."""
        low, high, last, last_time = math.inf, -math.inf, None, None
        keep = []
        for point in self.path:
            t, lo, hi, price = point
            if t > time_ms:
                keep.append(point)
                continue
            low, high = min(low, lo), max(high, hi)
            if last_time is None or t >= last_time:
                last, last_time = price, t
        self.path = keep
        return low, high, last


class MarketState:
    """Everything the engine keeps from the events, with the few reads the engine and the projection share."""

    def __init__(self, tape_size: int, lookback_ms: int) -> None:
        self.realized = RealizedTotals()
        self.oi = OITracker(lookback_ms)
        self.tape = LiquidationTape(history_kept=tape_size)
        self.feeds: dict[tuple[str, str], FeedStatus] = {}
        # Per symbol, then venue: a view reads one symbol's few venues, however many symbols stream.
        self.books: dict[str, dict[str, BookSnapshot]] = {}
        self.tickers: dict[str, dict[str, Ticker]] = {}
        self.models: dict[tuple[str, str], VenueSymbol] = {}  # (venue, symbol) -> level-model state
        self.by_symbol: dict[str, dict[str, VenueSymbol]] = {}  # the same, per symbol then venue
        self.symbols: dict[str, None] = {}  # insertion-ordered set
        self.tape_since: int | None = None  # see RealizedView.since
        self.tape_cover = TapeCover()  # per venue: when its liquidation tape ran (sweeps compare within)
        self.positions = MeasuredPositions()  # MEASURED positions of tracked accounts (engine/positions.py)

    def symbol_states(self, symbol: str) -> list[tuple[str, VenueSymbol]]:
        return sorted(self.by_symbol.get(symbol, {}).items())

    def venue_tickers(self, symbol: str) -> list[Ticker]:
        return [t for _venue, t in sorted(self.tickers.get(symbol, {}).items())]

    def lead_ticker(self, symbol: str) -> Ticker | None:
        """The venue with the most 24h volume speaks for the symbol's price (ties: venue name)."""
        tickers = [t for t in self.venue_tickers(symbol) if t.last or t.mark]
        if not tickers:
            return None
        return max(tickers, key=lambda t: (t.volume_24h_usd or 0.0, -venue_rank(t.venue)))

    def price(self, symbol: str) -> float | None:
        lead = self.lead_ticker(symbol)
        if lead is not None:
            return lead.last or lead.mark
        prices = [s.latest_price for _v, s in self.symbol_states(symbol) if s.latest_price]
        return prices[0] if prices else None


def venue_rank(venue: str) -> int:
    return VENUE_IDS.index(venue) if venue in VENUE_IDS else len(VENUE_IDS)
