"""The engine facade: one object fed every event (``apply``) and read as a ``SymbolView`` (``view``).

It writes what it is told into a ``MarketState`` (``state.py``: the latest feed statuses, books and
tickers, the liquidation tape, the per-venue state of the level model) and hands reads to its
``Projection`` (``projection.py``: the views, and the caches that keep them cheap). Pure and
deterministic: time comes from the events and from the ``now_ms`` a caller passes in, never from a clock, so a replay of
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
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from liqtui.domain.events import (
    BookSnapshot,
    Event,
    FeedState,
    FeedStatus,
    HeatmapBucket,
    Liquidation,
    MarginLimits,
    OpenInterest,
    PositionSnapshot,
    PriceBar,
    Side,
    Ticker,
)
from liqtui.domain.venues import venue_order
from liqtui.engine.batch import SIDE_OF_CODE, LiquidationBatch, column_sums, concat, groups
from liqtui.engine.heatmap import HeatmapHistory, HeatmapView
from liqtui.engine.levels import (
    Consumed,
    DefaultLevelParams,
    LevelBook,
    LevelModel,
    LevelModelError,
    LevelParams,
    at_risk,
    lookback_ms,
)
from liqtui.engine.projection import Projection, auto_grid
from liqtui.engine.state import FILLS_KEPT, SWEEP_MATCH_TOLERANCE, MarketState, Sweep, VenueSymbol
from liqtui.engine.views import WINDOW_MS, SweepRecord, SymbolView, TapeFilter

if TYPE_CHECKING:
    from liqtui.engine.batch import Floats

__all__ = ["Engine", "auto_grid", "liquidation_runs"]

_Limits = tuple[float | None, float | None]  # (max leverage, maintenance rate); None: the settings'


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
        self.state = MarketState(tape_size, lookback_ms)
        self.realized = self.state.realized
        self.oi = self.state.oi
        self.rejected = 0  # events dropped for impossible numbers (NaN, negative, infinite)
        self._grids: dict[str, float] = {}  # symbol -> the automatic ladder step track_rows fixed
        self.projection = Projection(self.state)
        self.heat = HeatmapHistory(auto_grid)  # the level books through time (engine/heatmap.py)
        # Per market, batches whose rows are not in its recent fills yet (``_settle_fills``).
        self._waiting_fills: dict[tuple[str, str], list[LiquidationBatch]] = {}

    # --- configuration ------------------------------------------------------------------------

    def set_venue_limits(
        self,
        venue: str,
        *,
        symbol: str | None = None,
        max_leverage: float | None = None,
        maintenance_margin: float | None = None,
    ) -> None:
        """A venue's max leverage (tiers above it are dropped and the rest renormalized) and maintenance
        rate, for one of its symbols or (``symbol=None``) those without their own. Applies to
        positions added from now on; levels already estimated keep their prices. LevelModelError
        for limits no model can take (a rate outside [0, 1)); nothing changes then."""
        limits = (max_leverage, maintenance_margin)
        self._model_for(limits)
        self._venue_limits[(venue, symbol)] = limits
        for (v, s), state in self.state.models.items():
            if v == venue and (symbol is None or s == symbol):
                state.book.set_model(self._model(v, s))

    def _model(self, venue: str, symbol: str) -> LevelModel:
        return self._model_for(
            self._venue_limits.get((venue, symbol)) or self._venue_limits.get((venue, None), (None, None))
        )

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
        self.state.tape.set_filter(tape_filter)

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
            self.state.books.setdefault(event.symbol, {})[event.venue] = event
            self._see_symbol(event.symbol)
        elif type(event) is MarginLimits:
            self._on_limits(event)
        elif type(event) is HeatmapBucket:
            self.heat.load(event)
        elif type(event) is PositionSnapshot:
            symbol = event.symbol
            self.heat.before_positions(
                symbol,
                event.time,
                lambda grid: self.state.positions.levels(symbol, grid),
                self.state.price(symbol) or event.entry,
            )
            self.state.positions.see(event)
            self._see_symbol(event.symbol)
        elif type(event) is FeedStatus:
            self.state.feeds[(event.venue, event.kind)] = event
            live = event.state is FeedState.LIVE and self._carries_liquidations(event)
            if live:
                self._tape_covers_from(event.since)
            if event.kind in ("all", "liquidations"):
                self.state.tape_cover.see(event.venue, live, event.since)
        else:
            raise TypeError(f"not an engine event: {event!r}")

    def apply_many(self, events: Iterable[Event]) -> None:
        """``apply`` each event in order, leaving the same state; each run of liquidations between two
        other events goes in at once (``apply_liquidations``). The warm-up's and a replay's bulk path."""
        if type(events) is LiquidationBatch:
            self._apply_batch(events)
            return
        for item in liquidation_runs(events):
            if isinstance(item, list):
                self.apply_liquidations(item)
            else:
                self.apply(item)

    def apply_liquidations(self, liqs: Sequence[Liquidation]) -> None:
        """``apply`` each liquidation in order, with the same state to the last bit (totals, tape,
        heatmap marks, sweep fills), at a fraction of the cost: each part takes the run in one call.
        A ``LiquidationBatch`` (a warm-up's, a replay's catch-up) is read as columns (``_apply_batch``)."""
        if type(liqs) is LiquidationBatch:
            self._apply_batch(liqs)
            return
        inf = math.inf  # _sound, written out for a float price (a call a liquidation fewer)
        sound = [
            liq
            for liq in liqs
            if (0.0 < liq.price < inf if type(liq.price) is float else _positive(liq.price))
            and 0.0 <= liq.usd < inf
        ]
        self.rejected += len(liqs) - len(sound)  # a NaN would poison every total it joins
        if not sound:
            return
        by_market: dict[tuple[str, str], list[Liquidation]] = {}
        for liq in sound:
            market = (liq.venue, liq.symbol)
            run = by_market.get(market)
            if run is None:
                by_market[market] = [liq]
            else:
                run.append(liq)
        for _venue, symbol in by_market:  # each symbol first seen in the order of its first liquidation
            self._see_symbol(symbol)
        self._tape_covers_from(min([liq.time for liq in sound]))
        self.realized.add_many(sound)
        self.heat.see_liquidations(sound)
        self.state.tape.add_many(sound)
        for market, run in by_market.items():
            state = self.state.models.get(market)
            if state is not None:
                self._see_fills(state, run)

    def _apply_batch(self, batch: LiquidationBatch) -> None:
        """``apply_liquidations`` for a batch in time order, without an object per row (the tape's kept
        rows excepted); any other order goes through the objects."""
        import numpy as np

        if len(batch) and not (batch.time[1:] >= batch.time[:-1]).all():
            self.apply_liquidations(list(batch))
            return
        price, usd = batch.price, batch.usd
        sound = (price > 0.0) & (price < math.inf) & (usd >= 0.0) & (usd < math.inf)  # NaN fails each
        if not sound.all():
            self.rejected += int(np.count_nonzero(~sound))  # a NaN would poison every total it joins
            batch = batch.take(sound)
        if not len(batch):
            return
        ids, group = batch.by_market()
        for m in ids:
            self._see_symbol(batch.markets[m][1])
        self._tape_covers_from(int(batch.time[0]))
        self.realized.add_batch(batch)
        self.heat.see_batch(batch)
        self.state.tape.add_batch(batch)
        by_market = np.argsort(group, kind="stable")
        ends = np.cumsum(np.bincount(group, minlength=len(ids))).tolist()
        for m, start, end in zip(ids, [0, *ends], ends, strict=False):
            market = batch.markets[m]
            state = self.state.models.get(market)
            if state is not None:
                self._see_fill_batch(market, state, batch.take(by_market[start:end]))

    def _see_fill_batch(self, market: tuple[str, str], state: VenueSymbol, batch: LiquidationBatch) -> None:
        """``_see_fills`` for one market's batch: it waits as columns until its sweeps or recent fills
        are read, or a sweep is made (``_settle_fills``; ``FILLS_WAITING`` batches at most)."""
        waiting = self._waiting_fills.setdefault(market, [])
        waiting.append(batch)
        if len(waiting) >= FILLS_WAITING:
            self._settle_fills(market, state)

    def _match_sweeps(self, state: VenueSymbol, batch: LiquidationBatch) -> None:
        """Each of ``state``'s sweeps takes the rows of ``batch`` (in time order) it matches, in order:
        every sweep there is older than every row (a new sweep first settles what waits)."""
        import numpy as np

        first, last = int(batch.time[0]), int(batch.time[-1])
        reach = first - state.longest_span  # as _see_fills: no older sweep's window reaches a row
        for sweep in reversed(state.sweeps):
            if sweep.time < reach:
                break
            if sweep.window_end < first or sweep.window_start > last:
                continue
            low = np.searchsorted(batch.time, sweep.window_start, side="left")
            high = np.searchsorted(batch.time, sweep.window_end, side="right")
            window = batch[low:high]
            price = window.price
            match = (
                (window.side == SIDE_OF_CODE.index(sweep.side))
                & (price >= sweep.price_low * (1 - SWEEP_MATCH_TOLERANCE))
                & (price <= sweep.price_high * (1 + SWEEP_MATCH_TOLERANCE))
            )
            if match.any():
                _add_fills(sweep, price[match], window.usd[match])

    def _on_limits(self, limits: MarginLimits) -> None:
        try:
            self.set_venue_limits(
                limits.venue,
                symbol=limits.symbol,
                max_leverage=limits.max_leverage,
                maintenance_margin=limits.maintenance_rate,
            )
        except LevelModelError:
            self.rejected += 1  # the model's settings stand

    def _carries_liquidations(self, status: FeedStatus) -> bool:
        """A live status that means liquidations flow: the venue's liquidation feed, or its
        connection unless the venue said it has no liquidation feed."""
        if status.kind == "liquidations":
            return True
        own = self.state.feeds.get((status.venue, "liquidations"))
        return status.kind == "all" and (own is None or own.state is not FeedState.DOWN)

    def _tape_covers_from(self, time_ms: int) -> None:
        if self.state.tape_since is None or time_ms < self.state.tape_since:
            self.state.tape_since = time_ms

    def _see_symbol(self, symbol: str) -> None:
        if symbol not in self.state.symbols:
            self.state.symbols[symbol] = None

    def _state(self, venue: str, symbol: str) -> VenueSymbol:
        state = self.state.models.get((venue, symbol))
        if state is None:
            lookback = lookback_ms(self.level_settings.lookback_days)
            book = LevelBook(self._model(venue, symbol), keep_swept_levels=True, lookback_ms=lookback)
            state = self.state.models[(venue, symbol)] = VenueSymbol(book)
            self.state.by_symbol.setdefault(symbol, {})[venue] = state
            self._see_symbol(symbol)
        return state

    def _on_liquidation(self, liq: Liquidation) -> None:
        if not _sound(liq):
            self.rejected += 1  # a NaN would poison every total it joins
            return
        self._see_symbol(liq.symbol)
        self._tape_covers_from(liq.time)
        self.realized.add(liq.venue, liq.symbol, liq.side, liq.usd, liq.time, liq.sampled)
        self.heat.see_liquidation(liq.venue, liq.symbol, liq.time, liq.side, liq.price, liq.usd)
        self.state.tape.add(liq)
        state = self.state.models.get((liq.venue, liq.symbol))
        if state is not None:
            self._see_fills(state, (liq,))

    def _settle_fills(self, market: tuple[str, str], state: VenueSymbol) -> None:
        """The market's waiting batches: matched to its sweeps, then into ``state.recent_fills`` (only
        the newest it keeps)."""
        waiting = self._waiting_fills.pop(market, None)
        if not waiting:
            return
        joined = concat(waiting)
        if state.sweeps:
            self._match_sweeps(state, joined)
        tail = joined[-FILLS_KEPT:]  # no more are kept
        sides = [SIDE_OF_CODE[s] for s in tail.side.tolist()]
        state.recent_fills.extend(tail.time.tolist(), sides, tail.price.tolist(), tail.usd.tolist())

    def _settle_all_fills(self) -> None:
        """Every market's waiting batches into its sweeps and recent fills (before a read of them)."""
        for market in list(self._waiting_fills):
            self._settle_fills(market, self.state.models[market])

    def _see_fills(self, state: VenueSymbol, liqs: Sequence[Liquidation]) -> None:
        """Liquidations of the market ``state`` models, in order: kept as recent fills and matched to
        its sweeps. Liquidation prices are not fed to the price path: Bybit reports the bankruptcy
        price, beyond where the market traded, which would sweep levels price never reached."""
        if self._waiting_fills:
            self._settle_fills((liqs[0].venue, liqs[0].symbol), state)
        state.recent_fills.extend_liquidations(liqs)
        sweeps = state.sweeps
        if not sweeps:
            return
        times = [liq.time for liq in liqs]
        first, last = min(times), max(times)
        # Sweeps come in time order and no window reaches further than ``longest_span`` past its
        # sweep: once a sweep's time plus that is before the run's first time, no older one holds a fill.
        reach = first - state.longest_span
        for sweep in reversed(sweeps):
            if sweep.time < reach:
                break
            if sweep.window_end >= first and sweep.window_start <= last:
                _take_fills(sweep, liqs)

    def _on_ticker(self, ticker: Ticker) -> None:
        ticker = _finite_ticker(ticker)
        tickers = self.state.tickers.setdefault(ticker.symbol, {})
        old = tickers.get(ticker.venue)
        if old is None or ticker.time >= old.time:
            tickers[ticker.venue] = ticker
        prices = [p for p in (ticker.last, ticker.mark) if p is not None and _positive(p)]
        if prices:
            last = prices[0]  # last when it is usable, else mark
            self._state(ticker.venue, ticker.symbol).see_price(min(prices), max(prices), last, ticker.time)
            self.heat.see_price(ticker.venue, ticker.symbol, ticker.time, min(prices), max(prices))
        else:
            self._see_symbol(ticker.symbol)

    def _on_bar(self, bar: PriceBar) -> None:
        if _positive(bar.low, bar.high, bar.close):
            # A bar's prices happen after its open time: they belong to the step after ``bar.time``.
            self._state(bar.venue, bar.symbol).see_price(bar.low, bar.high, bar.close, bar.time + 1)
            self.heat.see_price(bar.venue, bar.symbol, bar.time, bar.low, bar.high)

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
            self.heat.before_step(oi.venue, oi.symbol, oi.time, state.book, price)
            swept = state.book.step(low, high, price, oi.base - state.oi_base, oi.time)
            for consumed in swept:
                self._record_sweep(oi.venue, oi.symbol, state, consumed, oi.time)
        state.oi_base, state.step_time, state.step_price = oi.base, oi.time, price

    def _record_sweep(
        self, venue: str, symbol: str, state: VenueSymbol, consumed: Consumed, time_ms: int
    ) -> None:
        span = time_ms - (state.step_time or time_ms)
        sweep = Sweep(
            venue,
            symbol,
            consumed.side,
            time_ms,
            consumed.price_low,
            consumed.price_high,
            consumed.usd,
            window_start=time_ms - span,
            window_end=time_ms + span,
            consumed=consumed,
        )
        self._settle_fills((venue, symbol), state)
        for t, side, price, usd in state.recent_fills:
            if sweep.matches(side, price, t):
                sweep.add_fill(price, usd)
        state.sweeps.append(sweep)
        state.longest_span = max(state.longest_span, span)

    # --- reading ------------------------------------------------------------------------------

    def symbols(self) -> list[str]:
        return list(self.state.symbols)

    def at_risk(
        self, symbol: str, price: float, target: float, venues: list[str] | tuple[str, ...] | None = None
    ) -> float:
        """ESTIMATED notional between ``price`` and ``target`` over the venues (all when None), by
        ``levels.at_risk``: the number the desk's chart reads off the view's ``level_books``."""
        books = [s.book for v, s in self.state.symbol_states(symbol) if venues is None or v in venues]
        return at_risk(books, price, target)

    def heatmap(
        self,
        symbol: str,
        now_ms: int,
        range_ms: int,
        bucket_ms: int,
        venues: tuple[str, ...] | None = None,
        measured: bool = False,
        budget: int | None = None,
    ) -> HeatmapView | None:
        """The ESTIMATED heatmap's columns up to ``now_ms`` (engine/heatmap.py), over ``venues`` (None: all);
        with ``measured``, the tracked accounts' MEASURED levels instead of the estimate; with
        ``budget``, None until at most that many columns a call have been summed (HeatmapHistory.view)."""
        books = {v: (s.book, s.step_price) for v, s in self.state.symbol_states(symbol)}
        positions = self.state.positions
        levels = (lambda grid: positions.levels(symbol, grid)) if measured else None
        return self.heat.view(symbol, now_ms, range_ms, bucket_ms, books, venues, levels, budget)

    def heatmap_has_measured(self, symbol: str) -> bool:
        """True once tracked accounts' positions of ``symbol`` were seen (a MEASURED heatmap exists)."""
        return self.heat.has_measured(symbol)

    def heatmap_venues(self, symbol: str) -> list[str]:
        """The venues the heatmap holds levels or prices of for ``symbol``, in the desk's venue order."""
        return sorted(self.heat.venues(symbol), key=venue_order)

    def take_heatmap_buckets(self) -> list[HeatmapBucket]:
        """The heatmap's buckets closed since the last call, for the recorder (kept from the first call on)."""
        self.heat.recording = True
        return self.heat.take_committed()

    def sweeps_since(self, symbol: str, since_ms: int, now_ms: int) -> list[SweepRecord]:
        """The symbol's sweeps after ``since_ms``, newest first, each with whether the tape watched it
        (what the cluster_swept rule reads at every OI step: no level table is built)."""
        if self._waiting_fills:
            self._settle_all_fills()
        return self.projection.sweeps_since(symbol, since_ms, now_ms)

    def book_sides(
        self, symbol: str, reach: float | None = None
    ) -> tuple[float | None, float, dict[Side, list[tuple[float, float]]]]:
        """The symbol's price, ladder grid and ESTIMATED rows per side at that grid, (row price, USD)
        ascending: the level books alone (what the cluster_near rule reads once a second; changes nothing).
        With ``reach`` (a fraction) and a price: only the rows from price * (1 - reach) to price * (1 +
        reach), perhaps with a row either side."""
        grid, price = self.grid_for(symbol), self.state.price(symbol)
        if reach is not None and price:
            low, high = price * (1 - reach), price * (1 + reach)
            return price, grid, self.projection.book_sides_near(symbol, grid, low, high)
        return price, grid, self.projection.book_sides(symbol, grid)

    def grid_for(self, symbol: str) -> float:
        """The symbol's automatic ladder step: the one ``track_rows`` fixed, else from the price now."""
        grid = self._grids.get(symbol)
        if grid is None:
            price = self.state.price(symbol)
            return auto_grid(price) if price is not None else 1.0
        return grid

    def track_rows(self, symbol: str, grid: float | None = None) -> float:
        """The reader will view ``symbol`` at ``grid`` (None: its automatic step, fixed from the first
        price on): every venue book of the symbol keeps that grid's row sums current from now on (a
        few grids each, the zoom levels), so a view at it copies sums instead of passing over every
        level. The desk calls this before each view; ``view`` itself never changes the engine.
        Returns the grid."""
        if grid is None or grid <= 0:
            price = self.state.price(symbol)
            if symbol not in self._grids and price is not None:
                self._grids[symbol] = auto_grid(price)
            grid = self.grid_for(symbol)
        for _venue, state in self.state.symbol_states(symbol):
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
        """The symbol as the engine knows it at ``now_ms`` (``"all"``: the realized totals across
        every symbol); reads only (``track_rows`` is the reader's say in what is kept)."""
        if window not in WINDOW_MS:
            raise ValueError(f"window must be one of {', '.join(WINDOW_MS)}, got {window!r}")
        if self._waiting_fills:
            self._settle_all_fills()  # the sweeps' fills as the view reads them
        grid = grid if grid and grid > 0 else self.grid_for(symbol)
        return self.projection.view(symbol, now_ms, window, grid, tuple(cross_assets))


FILLS_WAITING = 64  # batches of a market waiting for its recent fills at most
RUN_MAX = 4096  # liquidations per run at most: a recording's long runs are not all held at once


def liquidation_runs(events: Iterable[Event]) -> Iterator[Event | list[Liquidation]]:
    """``events`` in order, each run of consecutive liquidations (up to ``RUN_MAX``) as one list: what
    ``Engine.apply_liquidations`` takes. Other events come one by one, between the runs, so everything
    that reads or changes what a liquidation meets (an OI step's sweeps, a price's grid) keeps its order."""
    run: list[Liquidation] = []
    for event in events:
        if type(event) is Liquidation:
            run.append(event)
            if len(run) >= RUN_MAX:
                yield run
                run = []
            continue
        if run:
            yield run
            run = []
        yield event
    if run:
        yield run


def _take_fills(sweep: Sweep, liqs: Sequence[Liquidation]) -> None:
    """``sweep.add_fill`` for each of ``liqs`` it ``matches``, in order: a sweep at a time over the run,
    not the run a liquidation at a time over the sweeps (each sweep's sums add its fills in the
    same order, and no sweep reads another's), with ``matches``' bounds read once."""
    side, start, end = sweep.side, sweep.window_start, sweep.window_end
    low = sweep.price_low * (1 - SWEEP_MATCH_TOLERANCE)
    high = sweep.price_high * (1 + SWEEP_MATCH_TOLERANCE)
    realized, fills, count = sweep.realized_usd, sweep.fills, 0
    for liq in liqs:
        if liq.side is side and start <= liq.time <= end and low <= liq.price <= high:
            price, usd = liq.price, liq.usd
            realized += usd
            fills[price] = fills.get(price, 0.0) + usd
            count += 1
    if count:
        sweep.realized_usd = realized
        sweep.fill_count += count


def _add_fills(sweep: Sweep, price: Floats, usd: Floats) -> None:
    """``sweep.add_fill`` for each row, in order: the same sums (each adds its rows in their order)."""
    import numpy as np

    sweep.realized_usd = float(np.cumsum(np.concatenate(([sweep.realized_usd], usd)))[-1])
    first, group = groups(price.view(np.int64))  # sound prices: equal floats, equal bits
    prices: list[float] = price[first].tolist()
    fills = sweep.fills
    held = [fills.setdefault(p, 0.0) for p in prices]  # new prices in the order of their first fill
    fills.update(zip(prices, column_sums(held, group, usd), strict=True))
    sweep.fill_count += len(price)


def _finite(value: float | None) -> float | None:
    return value if value is None or -math.inf < value < math.inf else None


def _finite_ticker(ticker: Ticker) -> Ticker:
    """The ticker with NaN/infinite numbers blanked (shown as missing, never as "nan")."""
    t = ticker
    numbers = (
        t.last,
        t.mark,
        t.index,
        t.funding_rate,
        t.change_24h_pct,
        t.volume_24h_usd,
        t.funding_interval_hours,
    )
    if all(v is None or -math.inf < v < math.inf for v in numbers):
        return ticker
    return dataclasses.replace(
        t,
        last=_finite(t.last),
        mark=_finite(t.mark),
        index=_finite(t.index),
        funding_rate=_finite(t.funding_rate),
        change_24h_pct=_finite(t.change_24h_pct),
        volume_24h_usd=_finite(t.volume_24h_usd),
        funding_interval_hours=_finite(t.funding_interval_hours),
    )


def _sound(liq: Liquidation) -> bool:
    """A liquidation the totals can take: a positive finite price, a finite USD of at least 0."""
    price = liq.price
    return (
        0.0 < price < math.inf if type(price) is float else _positive(price)
    ) and 0.0 <= liq.usd < math.inf


def _positive(*values: float) -> bool:
    return all(isinstance(v, (int, float)) and 0.0 < v < math.inf for v in values)
