"""The engine facade: one object fed every event (``apply``) and read as a ``SymbolView`` (``view``).

Owns the latest feed statuses, books and tickers, the liquidation tape, and the per-venue state of
the level model (the running price low/high between two OI samples). Pure and deterministic: time
comes from the events and from the ``now_ms`` a caller passes in, never from a clock, so a replay of
the same events reproduces the same numbers exactly.

``apply`` is O(1) per event apart from the level-model step on an OI sample (a few bisects).
``view`` only reads: it is built from incrementally kept aggregates (a symbol's level rows at the
grids ``track_rows`` asked for, which the desk calls before each view), cached until one of the
symbol's books changes. ``view("all", now)`` gives the realized totals across every symbol.

Symbols are grouped by their exact ccxt unified symbol: venues quoting the same coin under another
symbol (``BTC/USDC:USDC`` on Hyperliquid) are summed with ``BTC/USDT:USDT`` only if the feed maps them.
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass, field
from typing import TypeVar

from liqtui.domain.events import (
    BookSnapshot,
    Event,
    FeedState,
    FeedStatus,
    Liquidation,
    MarginLimits,
    OpenInterest,
    PriceBar,
    Side,
    Ticker,
)
from liqtui.domain.venues import VENUE_IDS
from liqtui.engine.funding import FUNDING_BASIS_HOURS, funding_interval_hours, per_basis
from liqtui.engine.levels import (
    Consumed,
    DefaultLevelParams,
    LevelBook,
    LevelModel,
    LevelModelError,
    LevelParams,
    LevelSnapshot,
    at_risk,
    lookback_ms,
)
from liqtui.engine.oi import OITracker, oi_regime, pct_change
from liqtui.engine.realized import ALL, RealizedTotals
from liqtui.engine.tape import LiquidationTape
from liqtui.engine.tape_cover import TapeCover
from liqtui.engine.views import (
    IMBALANCE_BANDS_PCT,
    OI_WINDOWS,
    WINDOW_MS,
    BookView,
    Cluster,
    CrossAsset,
    LevelRow,
    LevelsView,
    MarketView,
    OIView,
    RealizedView,
    SweepRecord,
    SymbolView,
    TapeFilter,
    VenueMarket,
)

_K = TypeVar("_K")
_V = TypeVar("_V")
_Versions = tuple[tuple[str, int], ...]  # (venue, book version) per venue of a symbol
_Limits = tuple[float | None, float | None]  # (max leverage, maintenance rate); None: the settings'
_SweepsShown = tuple[tuple[int, int, bool], ...]  # (id, fills so far, watched by the tape) per sweep shown

SWEEPS_KEPT = 64  # per venue and symbol
PATH_KEPT = 1_024  # price points waiting for the OI sample that ends their step
SWEEP_MATCH_TOLERANCE = 0.005  # a fill can print a little beyond the level (slippage, bankruptcy price)
SIGNIFICANT_SHARE = 0.25  # a cluster is "significant" at >= this share of the side's largest row
REGIME_WINDOW = {"1m": "5m", "5m": "5m", "1h": "1h", "4h": "4h", "12h": "24h", "24h": "24h"}


def auto_grid(price: float) -> float:
    """A ladder step of about 0.05 % of price, rounded up to 1, 2 or 5 x 10^k (BTC 90k -> 50)."""
    if not price > 0:
        return 1.0
    raw = price * 0.0005
    power = 10.0 ** math.floor(math.log10(raw))
    for mult in (1.0, 2.0, 5.0, 10.0):
        if mult * power >= raw * (1 - 1e-9):
            return _clean(mult * power)
    return _clean(10.0 * power)  # pragma: no cover


def _clean(x: float) -> float:
    return float(f"{x:.12g}")


@dataclass
class _Sweep:
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

    def add_fill(self, price: float, usd: float) -> None:
        self.realized_usd += usd
        self.fills[price] = self.fills.get(price, 0.0) + usd
        self.fill_count += 1

    def matches(self, side: Side, price: float, time_ms: int) -> bool:
        return (
            side is self.side
            and self.window_start <= time_ms <= self.window_end
            and self.price_low * (1 - SWEEP_MATCH_TOLERANCE) <= price <= self.price_high * (1 + SWEEP_MATCH_TOLERANCE)
        )

    def record(self, taped: bool) -> SweepRecord:
        return SweepRecord(
            self.venue, self.symbol, self.side, self.time, self.price_low, self.price_high,
            self.estimated_usd, self.realized_usd, taped,
        )


class _LevelTable:
    """The price-independent part of a LevelsView (rows, largest and significant rows per side),
    cached until a book or the shown sweeps change; clusters are placed against the price per view."""

    def __init__(self, rows: tuple[LevelRow, ...]) -> None:
        self.rows = rows
        self._largest: dict[Side, tuple[float, float] | None] = {}
        self._significant: dict[Side, tuple[list[float], list[float]]] = {}
        for side, attr in ((Side.LONG, "long_usd"), (Side.SHORT, "short_usd")):
            live = [(getattr(r, attr), r.price) for r in rows if getattr(r, attr) > 0]
            largest = max(live, key=lambda x: (x[0], -x[1])) if live else None
            self._largest[side] = largest
            cut = SIGNIFICANT_SHARE * largest[0] if largest else 0.0
            significant = [(p, u) for u, p in live if u >= cut]  # ascending price, as the rows are
            self._significant[side] = ([p for p, _u in significant], [u for _p, u in significant])

    def max_pain(self, side: Side, price: float | None) -> Cluster | None:
        largest = self._largest[side]
        return None if largest is None else Cluster(side, largest[1], largest[0], _distance(largest[1], price))

    def nearest(self, side: Side, price: float | None) -> Cluster | None:
        """The significant row closest to the price on the side where that side liquidates."""
        prices, usds = self._significant[side]
        if price is None or not prices:
            return None
        if side is Side.LONG:
            i = bisect_left(prices, price) - 1  # longs below the price
        else:
            i = bisect_right(prices, price)  # shorts above it
        if not 0 <= i < len(prices):
            return None
        return Cluster(side, prices[i], usds[i], _distance(prices[i], price))


class _VenueSymbol:
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
        self.sweeps: deque[_Sweep] = deque(maxlen=SWEEPS_KEPT)
        self.recent_fills: deque[tuple[int, Side, float, float]] = deque(maxlen=2_000)

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
        self.path = [folded, *self.path[len(half):]]

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


class Engine:
    def __init__(
        self,
        levels: LevelParams | None = None,
        *,
        tape_size: int = 2000,
        lookback_ms: int = 30 * 86_400_000,
    ) -> None:
        self.level_settings = levels if levels is not None else DefaultLevelParams()
        # (venue, symbol or None for all its symbols) -> (max leverage, maintenance rate)
        self._venue_limits: dict[tuple[str, str | None], _Limits] = {}
        self._models: dict[_Limits, LevelModel] = {}
        self.realized = RealizedTotals()
        self.oi = OITracker(lookback_ms)
        self._tape = LiquidationTape(history_kept=tape_size)
        self._feeds: dict[tuple[str, str], FeedStatus] = {}
        # Per symbol, then venue: a view reads one symbol's few venues, however many symbols stream.
        self._books: dict[str, dict[str, BookSnapshot]] = {}
        self._tickers: dict[str, dict[str, Ticker]] = {}
        self._models_state: dict[tuple[str, str], _VenueSymbol] = {}
        self._states_by_symbol: dict[str, dict[str, _VenueSymbol]] = {}
        self._symbols: dict[str, None] = {}  # insertion-ordered set
        self.rejected = 0  # events dropped for impossible numbers (NaN, negative, infinite)
        self._tape_since: int | None = None  # see RealizedView.since
        self._tape_cover = TapeCover()  # per venue: when its liquidation tape ran (sweeps compare within)
        self._grids: dict[str, float] = {}
        # (symbol, grid) -> (the books' versions, rows) and ((versions, sweeps shown), table)
        self._rows_cache: dict[tuple[str, float], tuple[_Versions, dict[int, list[float]]]] = {}
        self._levels_cache: dict[tuple[str, float], tuple[tuple[_Versions, _SweepsShown], _LevelTable]] = {}
        self._snapshots: dict[tuple[str, str], tuple[int, LevelSnapshot]] = {}  # (venue, symbol) -> (version, copy)

    # --- configuration ------------------------------------------------------------------------

    def set_venue_limits(
        self, venue: str, *, symbol: str | None = None, max_leverage: float | None = None,
        maintenance_margin: float | None = None,
    ) -> None:
        """A venue's max leverage (tiers above it are dropped and the rest renormalized) and maintenance
        rate, for one of its symbols or (``symbol=None``) those without their own. Applies to
        positions added from now on; levels already estimated keep their prices. LevelModelError
        for limits no model can take (a rate outside [0, 1)); nothing changes then."""
        limits = (max_leverage, maintenance_margin)
        self._model_for(limits)
        self._venue_limits[(venue, symbol)] = limits
        for (v, s), state in self._models_state.items():
            if v == venue and (symbol is None or s == symbol):
                state.book.set_model(self._model(v, s))

    def _model(self, venue: str, symbol: str) -> LevelModel:
        return self._model_for(self._venue_limits.get((venue, symbol)) or self._venue_limits.get((venue, None), (None, None)))

    def _model_for(self, limits: _Limits) -> LevelModel:
        model = self._models.get(limits)
        if model is None:
            s = self.level_settings
            max_leverage, mmr = limits
            model = self._models[limits] = LevelModel.create(
                s.leverage_weights,
                mmr=s.maintenance_margin if mmr is None else mmr,
                long_share=s.long_share,
                max_leverage=max_leverage,
            )
        return model

    def set_tape_filter(self, tape_filter: TapeFilter) -> None:
        """The liquidations ``view().tape_rows`` holds from now on (the desk's minimum size and scope):
        filtered before the tape's cap, so a cascade of small ones never pushes out the big prints."""
        self._tape.set_filter(tape_filter)

    # --- events -------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        # ``type(event) is`` rather than isinstance: as fast as one type() call kept aside, and mypy narrows it.
        if type(event) is Liquidation:
            self._on_liquidation(event)
        elif type(event) is Ticker:
            self._on_ticker(event)
        elif type(event) is OpenInterest:
            self._on_open_interest(event)
        elif type(event) is PriceBar:
            self._on_bar(event)
        elif type(event) is BookSnapshot:
            self._books.setdefault(event.symbol, {})[event.venue] = event
            self._see_symbol(event.symbol)
        elif type(event) is MarginLimits:
            self._on_limits(event)
        elif type(event) is FeedStatus:
            self._feeds[(event.venue, event.kind)] = event
            live = event.state is FeedState.LIVE and self._carries_liquidations(event)
            if live:
                self._tape_covers_from(event.since)
            if event.kind in ("all", "liquidations"):
                self._tape_cover.see(event.venue, live, event.since)
        else:
            raise TypeError(f"not an engine event: {event!r}")

    def _on_limits(self, limits: MarginLimits) -> None:
        try:
            self.set_venue_limits(limits.venue, symbol=limits.symbol, max_leverage=limits.max_leverage,
                                  maintenance_margin=limits.maintenance_rate)
        except LevelModelError:
            self.rejected += 1  # the model's settings stand

    def _carries_liquidations(self, status: FeedStatus) -> bool:
        """A live status that means liquidations flow: the venue's liquidation feed, or its
        connection unless the venue said it has no liquidation feed (Hyperliquid)."""
        if status.kind == "liquidations":
            return True
        own = self._feeds.get((status.venue, "liquidations"))
        return status.kind == "all" and (own is None or own.state is not FeedState.DOWN)

    def _tape_covers_from(self, time_ms: int) -> None:
        if self._tape_since is None or time_ms < self._tape_since:
            self._tape_since = time_ms

    def _see_symbol(self, symbol: str) -> None:
        if symbol not in self._symbols:
            self._symbols[symbol] = None

    def _state(self, venue: str, symbol: str) -> _VenueSymbol:
        state = self._models_state.get((venue, symbol))
        if state is None:
            lookback = lookback_ms(self.level_settings.lookback_days)
            book = LevelBook(self._model(venue, symbol), keep_swept_levels=True, lookback_ms=lookback)
            state = self._models_state[(venue, symbol)] = _VenueSymbol(book)
            self._states_by_symbol.setdefault(symbol, {})[venue] = state
            self._see_symbol(symbol)
        return state

    def _on_liquidation(self, liq: Liquidation) -> None:
        if not (_positive(liq.price) and 0.0 <= liq.usd < math.inf):
            self.rejected += 1  # a NaN would poison every total it joins
            return
        self._see_symbol(liq.symbol)
        self._tape_covers_from(liq.time)
        self.realized.add(liq.venue, liq.symbol, liq.side, liq.usd, liq.time, liq.sampled)
        self._tape.add(liq)
        state = self._models_state.get((liq.venue, liq.symbol))
        if state is None:
            return
        # Liquidation prices are not fed to the price path: Bybit reports the bankruptcy price,
        # beyond where the market traded, which would sweep levels price never reached.
        state.recent_fills.append((liq.time, liq.side, liq.price, liq.usd))
        for sweep in reversed(state.sweeps):
            if sweep.window_end < liq.time - 86_400_000:
                break
            if sweep.matches(liq.side, liq.price, liq.time):
                sweep.add_fill(liq.price, liq.usd)

    def _on_ticker(self, ticker: Ticker) -> None:
        ticker = _finite_ticker(ticker)
        tickers = self._tickers.setdefault(ticker.symbol, {})
        old = tickers.get(ticker.venue)
        if old is None or ticker.time >= old.time:
            tickers[ticker.venue] = ticker
        prices = [p for p in (ticker.last, ticker.mark) if p is not None and _positive(p)]
        if prices:
            last = prices[0]  # last when it is usable, else mark
            self._state(ticker.venue, ticker.symbol).see_price(min(prices), max(prices), last, ticker.time)
        else:
            self._see_symbol(ticker.symbol)

    def _on_bar(self, bar: PriceBar) -> None:
        if _positive(bar.low, bar.high, bar.close):
            # A bar's prices happen after its open time: they belong to the step after ``bar.time``.
            self._state(bar.venue, bar.symbol).see_price(bar.low, bar.high, bar.close, bar.time + 1)

    def _on_open_interest(self, oi: OpenInterest) -> None:
        if not (0.0 <= oi.base < math.inf and 0.0 <= oi.usd < math.inf):
            self.rejected += 1
            return
        self.oi.add(oi.venue, oi.symbol, oi.base, oi.usd, oi.time)
        state = self._state(oi.venue, oi.symbol)
        if state.step_time is not None and oi.time <= state.step_time:
            return  # history older than the model: used for the OI lookback only
        low, high, last = state.take_step_path(oi.time)
        implied = oi.usd / oi.base if oi.base > 0 and oi.usd > 0 else None
        price = last or implied or state.step_price
        if price is None:
            return  # no price yet: this sample cannot place positions; the next one will
        if state.oi_base is not None and state.step_time is not None:
            half_life_ms = self.level_settings.half_life_hours * 3_600_000
            if half_life_ms > 0:
                state.book.decay(0.5 ** ((oi.time - state.step_time) / half_life_ms))
            edges = (price, state.step_price or price)
            low, high = min(low, *edges), max(high, *edges)
            swept = state.book.step(low, high, price, oi.base - state.oi_base, oi.time)
            for consumed in swept:
                self._record_sweep(oi.venue, oi.symbol, state, consumed, oi.time)
        state.oi_base, state.step_time, state.step_price = oi.base, oi.time, price

    def _record_sweep(self, venue: str, symbol: str, state: _VenueSymbol, consumed: Consumed, time_ms: int) -> None:
        span = time_ms - (state.step_time or time_ms)
        sweep = _Sweep(
            venue, symbol, consumed.side, time_ms, consumed.price_low, consumed.price_high, consumed.usd,
            window_start=time_ms - span, window_end=time_ms + span, consumed=consumed,
        )
        for t, side, price, usd in state.recent_fills:
            if sweep.matches(side, price, t):
                sweep.add_fill(price, usd)
        state.sweeps.append(sweep)

    # --- reading ------------------------------------------------------------------------------

    def symbols(self) -> list[str]:
        return list(self._symbols)

    def at_risk(self, symbol: str, price: float, target: float, venues: list[str] | tuple[str, ...] | None = None) -> float:
        """ESTIMATED notional between ``price`` and ``target`` over the venues (all when None), by
        ``levels.at_risk``: the number the desk's chart reads off the view's ``level_books``."""
        books = [s.book for v, s in self._symbol_states(symbol) if venues is None or v in venues]
        return at_risk(books, price, target)

    def grid_for(self, symbol: str) -> float:
        """The symbol's automatic ladder step: the one ``track_rows`` fixed, else from the price now."""
        grid = self._grids.get(symbol)
        if grid is None:
            price = self._price(symbol)
            return auto_grid(price) if price is not None else 1.0
        return grid

    def track_rows(self, symbol: str, grid: float | None = None) -> float:
        """The reader will view ``symbol`` at ``grid`` (None: its automatic step, fixed from the first
        price on): every venue book of the symbol keeps that grid's row sums current from now on (a
        few grids each, the zoom levels), so a view at it copies sums instead of passing over every
        level. The desk calls this before each view; ``view`` itself never changes the engine.
        Returns the grid."""
        if grid is None or grid <= 0:
            price = self._price(symbol)
            if symbol not in self._grids and price is not None:
                self._grids[symbol] = auto_grid(price)
            grid = self.grid_for(symbol)
        for _venue, state in self._symbol_states(symbol):
            book = state.book
            if grid not in book.tracked_grids():
                for old in book.tracked_grids()[2:]:
                    book.untrack_rows(old)  # a few grids at most (zoom levels), each kept exact
                book.track_rows(grid)
        return grid

    def view(
        self,
        symbol: str,
        now_ms: int,
        *,
        window: str = "1h",
        grid: float | None = None,
        cross_assets: tuple[str, ...] | list[str] = (),
    ) -> SymbolView:
        if window not in WINDOW_MS:
            raise ValueError(f"window must be one of {', '.join(WINDOW_MS)}, got {window!r}")
        grid = grid if grid and grid > 0 else self.grid_for(symbol)
        market = self._market(symbol, now_ms)
        return SymbolView(
            symbol=symbol,
            now=now_ms,
            market=market,
            realized=self._realized(symbol, window, now_ms),
            oi=self._oi(symbol, now_ms, window),
            levels=self._levels(symbol, market.last, grid, window, now_ms),
            book=self._book(symbol, grid),
            tape=self._tape.recent(),
            tape_rows=self._tape.rows(),
            feeds=tuple(self._feeds[k] for k in sorted(self._feeds)),
            cross=tuple(self._cross(s) for s in cross_assets),
        )

    def _venue_tickers(self, symbol: str) -> list[Ticker]:
        return [t for _venue, t in sorted(self._tickers.get(symbol, {}).items())]

    def _lead_ticker(self, symbol: str) -> Ticker | None:
        """The venue with the most 24h volume speaks for the symbol's price (ties: venue name)."""
        tickers = [t for t in self._venue_tickers(symbol) if t.last or t.mark]
        if not tickers:
            return None
        return max(tickers, key=lambda t: (t.volume_24h_usd or 0.0, -_order(t.venue)))

    def _price(self, symbol: str) -> float | None:
        lead = self._lead_ticker(symbol)
        if lead is not None:
            return lead.last or lead.mark
        prices = [s.latest_price for _v, s in self._symbol_states(symbol) if s.latest_price]
        return prices[0] if prices else None

    def _market(self, symbol: str, now_ms: int) -> MarketView:
        tickers = self._venue_tickers(symbol)
        volumes = [t.volume_24h_usd for t in tickers if t.volume_24h_usd]
        total_volume = sum(volumes)
        intervals = {t.venue: funding_interval_hours(t.venue, t.funding_interval_hours) for t in tickers}
        venues = tuple(
            VenueMarket(
                t.venue, t.last, t.mark, t.index, t.funding_rate, t.next_funding_time, t.change_24h_pct,
                t.volume_24h_usd,
                volume_share=(t.volume_24h_usd / total_volume) if total_volume and t.volume_24h_usd else None,
                funding_interval_hours=intervals[t.venue],
            )
            for t in tickers
        )
        oi_usd = {v: self.oi.latest(v, symbol, now_ms) for v in self.oi.venues(symbol)}
        # Hyperliquid's hourly rate and the others' 8-hourly ones averaged as they are would be off 8x.
        weighted = [(per_basis(t.funding_rate, hours), sample[2]) for t in tickers
                    if t.funding_rate is not None and (hours := intervals[t.venue])
                    and (sample := oi_usd.get(t.venue)) and sample[2] > 0]
        weight = sum(w for _f, w in weighted)
        totals = [s[2] for s in oi_usd.values() if s is not None]
        lead = self._lead_ticker(symbol)
        settles = self._next_funding(symbol, now_ms)
        return MarketView(
            symbol=symbol,
            last=self._price(symbol),
            mark=lead.mark if lead else None,
            change_24h_pct=lead.change_24h_pct if lead else None,
            funding_rate_oi_weighted=sum(f * w for f, w in weighted) / weight if weight else None,
            next_funding_time=settles.next_funding_time if settles else None,
            total_oi_usd=sum(totals) if totals else None,
            venues=venues,
            funding_basis_hours=FUNDING_BASIS_HOURS,
            next_funding_venue=settles.venue if settles else None,
        )

    def _next_funding(self, symbol: str, now_ms: int) -> Ticker | None:
        """The ticker whose next settlement the header counts down to: the lead venue's (the price the
        view shows), else the next venue by 24 h volume that has an upcoming one."""
        upcoming = [t for t in self._venue_tickers(symbol) if t.next_funding_time and t.next_funding_time >= now_ms]
        lead = self._lead_ticker(symbol)
        if lead is not None and lead in upcoming:
            return lead
        return max(upcoming, key=lambda t: (t.volume_24h_usd or 0.0, -_order(t.venue)), default=None)

    def _realized(self, symbol: str, window: str, now_ms: int) -> RealizedView:
        cells = tuple(
            self.realized.cell(venue, symbol, side, window, now_ms)
            for venue in self.realized.venues(symbol)
            for side in (Side.LONG, Side.SHORT)
        )
        return RealizedView(
            window=window,
            cells=cells,
            total_long=self.realized.cell(ALL, symbol, Side.LONG, window, now_ms),
            total_short=self.realized.cell(ALL, symbol, Side.SHORT, window, now_ms),
            since=self._tape_since,
        )

    def _oi(self, symbol: str, now_ms: int, window: str) -> tuple[OIView, ...]:
        regime_window = REGIME_WINDOW.get(window, "1h")
        rows = [self.oi.view(v, symbol, now_ms, regime_window) for v in self.oi.venues(symbol)]
        rows = [r for r in rows if r.time is not None]
        return (*rows, self._oi_all(symbol, rows, now_ms, regime_window))

    def _oi_all(self, symbol: str, rows: list[OIView], now_ms: int, regime_window: str) -> OIView:
        if not rows:
            return OIView(ALL, symbol, None, None, None, {w: None for w in OI_WINDOWS}, None, None)
        changes: dict[str, float | None] = {}
        for w in OI_WINDOWS:
            now_sum = then_sum = 0.0
            for r in rows:
                then = self.oi.latest(r.venue, symbol, r.time - WINDOW_MS[w])  # type: ignore[operator]
                if then is not None:
                    now_sum += r.base or 0.0
                    then_sum += then[1]
            changes[w] = pct_change(now_sum, then_sum) if then_sum else None
        # The regime of the total: OI summed over venues, price from the venue holding the most OI.
        lead = max(rows, key=lambda r: (r.usd or 0.0, -_order(r.venue)))
        then = self.oi.latest(lead.venue, symbol, (lead.time or 0) - WINDOW_MS[regime_window])
        price_change = None
        if then is not None and then[1] > 0 and then[2] > 0 and lead.base and lead.usd:
            price_change = lead.usd / lead.base - then[2] / then[1]
        return OIView(
            ALL, symbol, None, sum(r.usd or 0.0 for r in rows), max(r.time or 0 for r in rows), changes,
            None, None, regime=oi_regime(price_change, changes.get(regime_window)), regime_window=regime_window,
        )

    # --- levels -------------------------------------------------------------------------------

    def _symbol_states(self, symbol: str) -> list[tuple[str, _VenueSymbol]]:
        return sorted(self._states_by_symbol.get(symbol, {}).items())

    def _level_rows(self, symbol: str, grid: float, states: list[tuple[str, _VenueSymbol]]) -> dict[int, list[float]]:
        versions = tuple((v, s.book.version) for v, s in states)
        cached = self._rows_cache.get((symbol, grid))
        if cached is not None and cached[0] == versions:
            return cached[1]
        merged: dict[int, list[float]] = {}
        for _venue, state in states:
            for i, (long_usd, short_usd) in state.book.rows(grid).items():
                row = merged.get(i)
                if row is None:
                    merged[i] = [long_usd, short_usd]
                else:
                    row[0] += long_usd
                    row[1] += short_usd
        _bounded_put(self._rows_cache, (symbol, grid), (versions, merged))
        return merged

    def _levels(self, symbol: str, price: float | None, grid: float, window: str, now_ms: int) -> LevelsView:
        states = self._symbol_states(symbol)
        sweeps = sorted(
            (sw for _v, s in states for sw in s.sweeps),
            key=lambda sw: (sw.time, sw.venue, sw.side.value), reverse=True,
        )
        since = now_ms - WINDOW_MS[window]
        shown = [sw for sw in sweeps if since <= sw.time <= now_ms]
        taped = {id(sw): self._taped(sw, now_ms) for sw in sweeps}
        key = (
            tuple((v, s.book.version) for v, s in states),
            tuple((id(sw), sw.fill_count, taped[id(sw)]) for sw in shown),
        )
        cached = self._levels_cache.get((symbol, grid))
        if cached is None or cached[0] != key:
            cached = (key, self._level_table(symbol, grid, states, [(sw, taped[id(sw)]) for sw in shown]))
            _bounded_put(self._levels_cache, (symbol, grid), cached)
        table = cached[1]
        return LevelsView(
            symbol=symbol, price=price, grid=grid, rows=table.rows,
            venues=tuple(v for v, s in states if s.step_time is not None),
            max_pain_long=table.max_pain(Side.LONG, price),
            max_pain_short=table.max_pain(Side.SHORT, price),
            nearest_long=table.nearest(Side.LONG, price),
            nearest_short=table.nearest(Side.SHORT, price),
            imbalance=self._imbalance(symbol, price),
            sweeps=tuple(sw.record(taped[id(sw)]) for sw in sweeps),
            level_books=tuple(self._snapshot(v, symbol, s.book) for v, s in states),
        )

    def _snapshot(self, venue: str, symbol: str, book: LevelBook) -> LevelSnapshot:
        """The book's frozen copy, taken again only when the book changed (the same object until then)."""
        cached = self._snapshots.get((venue, symbol))
        if cached is None or cached[0] != book.version:
            cached = (book.version, book.snapshot())
            _bounded_put(self._snapshots, (venue, symbol), cached)
        return cached[1]

    def _taped(self, sweep: _Sweep, now_ms: int) -> bool:
        """The venue's tape ran over the sweep's whole matching window (up to now)."""
        return self._tape_cover.covers(sweep.venue, sweep.window_start, min(sweep.window_end, now_ms))

    def _level_table(
        self, symbol: str, grid: float, states: list[tuple[str, _VenueSymbol]], shown: list[tuple[_Sweep, bool]]
    ) -> _LevelTable:
        """``shown``: the sweeps in the window, each with whether the tape watched it; a row's realized
        USD sums the watched sweeps only, and stays None (unknown) when none of its sweeps was watched;
        its taped estimate is the part of the swept estimate that realized USD compares with."""
        merged = self._level_rows(symbol, grid, states)
        swept: dict[int, list[float]] = {}  # row -> [long, short] estimate consumed
        realized: dict[int, float] = {}  # row -> USD the tape printed, for rows where a watched sweep was
        taped_swept: dict[int, float] = {}  # row -> estimate consumed by the watched sweeps
        for sw, taped in shown:
            slot = 0 if sw.side is Side.LONG else 1
            for p, usd in zip(sw.consumed.prices, sw.consumed.usds, strict=True):
                i = math.floor(p / grid)
                swept.setdefault(i, [0.0, 0.0])[slot] += usd
                if taped:
                    realized.setdefault(i, 0.0)
                    taped_swept[i] = taped_swept.get(i, 0.0) + usd
            if taped:
                for p, usd in sw.fills.items():
                    i = math.floor(p / grid)
                    swept.setdefault(i, [0.0, 0.0])
                    realized[i] = realized.get(i, 0.0) + usd
        rows = []
        for i in sorted(set(merged) | set(swept)):
            long_usd, short_usd = merged.get(i) or (0.0, 0.0)
            swept_long, swept_short = swept.get(i) or (0.0, 0.0)
            rows.append(LevelRow(
                _clean(i * grid), long_usd, short_usd, swept_long, swept_short, realized.get(i), taped_swept.get(i, 0.0)
            ))
        return _LevelTable(tuple(rows))

    def _imbalance(self, symbol: str, price: float | None) -> dict[float, float | None]:
        out: dict[float, float | None] = {}
        for band in IMBALANCE_BANDS_PCT:
            if not price:
                out[band] = None
                continue
            shorts = self.at_risk(symbol, price, price * (1 + band / 100))
            longs = self.at_risk(symbol, price, price * (1 - band / 100))
            out[band] = (shorts - longs) / (shorts + longs) if shorts + longs > 0 else None
        return out

    # --- book, cross assets ---------------------------------------------------------------------

    def _book(self, symbol: str, grid: float) -> BookView:
        bids: dict[int, float] = {}
        asks: dict[int, float] = {}
        venues = []
        for venue, snap in sorted(self._books.get(symbol, {}).items()):
            venues.append(venue)
            for p, size in snap.bids:
                i = math.floor(p / grid + 1e-9)  # a bid rounds down to its row
                bids[i] = bids.get(i, 0.0) + size
            for p, size in snap.asks:
                i = math.ceil(p / grid - 1e-9)  # an ask rounds up, so no row holds both sides
                asks[i] = asks.get(i, 0.0) + size
        return BookView(
            symbol, grid,
            tuple((_clean(i * grid), bids[i]) for i in sorted(bids, reverse=True)),
            tuple((_clean(i * grid), asks[i]) for i in sorted(asks)),
            tuple(venues),
        )

    def _cross(self, symbol: str) -> CrossAsset:
        lead = self._lead_ticker(symbol)
        if lead is None:
            return CrossAsset(symbol, None, None)
        return CrossAsset(symbol, lead.last or lead.mark, lead.change_24h_pct)


def _finite(value: float | None) -> float | None:
    return value if value is None or -math.inf < value < math.inf else None


def _finite_ticker(ticker: Ticker) -> Ticker:
    """The ticker with NaN/infinite numbers blanked (shown as missing, never as "nan")."""
    t = ticker
    numbers = (t.last, t.mark, t.index, t.funding_rate, t.change_24h_pct, t.volume_24h_usd, t.funding_interval_hours)
    if all(v is None or -math.inf < v < math.inf for v in numbers):
        return ticker
    return dataclasses.replace(
        t, last=_finite(t.last), mark=_finite(t.mark), index=_finite(t.index), funding_rate=_finite(t.funding_rate),
        change_24h_pct=_finite(t.change_24h_pct), volume_24h_usd=_finite(t.volume_24h_usd),
        funding_interval_hours=_finite(t.funding_interval_hours),
    )


CACHE_ENTRIES = 32  # (symbol, grid) pairs whose level rows are kept between views


def _bounded_put(cache: dict[_K, _V], key: _K, value: _V) -> None:
    """Insert, dropping the oldest entry beyond CACHE_ENTRIES (zooming through grids stays bounded)."""
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > CACHE_ENTRIES:
        del cache[next(iter(cache))]


def _positive(*values: float) -> bool:
    return all(isinstance(v, (int, float)) and 0.0 < v < math.inf for v in values)


def _distance(level: float, price: float | None) -> float:
    return (level - price) / price * 100.0 if price else 0.0


def _order(venue: str) -> int:
    return VENUE_IDS.index(venue) if venue in VENUE_IDS else len(VENUE_IDS)
