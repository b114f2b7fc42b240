"""Views from the engine's state: ``Projection.view`` builds one ``SymbolView`` from a ``MarketState``.

It only reads. What makes a view cheap at any event rate is kept here: a symbol's merged level rows
per grid (from the rows each book keeps current at the grids ``Engine.track_rows`` asked for) and its
level table, both until one of the symbol's books or the shown sweeps change, and each book's frozen
copy until the book changes. Every cache is bounded (``CACHE_ENTRIES``), so zooming through grids
never grows memory.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import TypeVar

from liqtui.domain.events import Side, Ticker
from liqtui.engine.funding import FUNDING_BASIS_HOURS, funding_interval_hours, per_basis
from liqtui.engine.levels import LevelBook, LevelSnapshot, at_risk
from liqtui.engine.measured import MeasuredProjection
from liqtui.engine.oi import oi_regime, pct_change
from liqtui.engine.realized import ALL
from liqtui.engine.state import MarketState, Sweep, VenueSymbol, venue_rank
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
    VenueMarket,
)

_K = TypeVar("_K")
_V = TypeVar("_V")
_Versions = tuple[tuple[str, int], ...]  # (venue, book version) per venue of a symbol
_SweepsShown = tuple[tuple[int, int, bool], ...]  # (id, fills so far, watched by the tape) per sweep shown

SIGNIFICANT_SHARE = 0.25  # a cluster is "significant" at >= this share of the side's largest row
REGIME_WINDOW = {"1m": "5m", "5m": "5m", "1h": "1h", "4h": "4h", "12h": "24h", "24h": "24h"}
CACHE_ENTRIES = 32  # (symbol, grid) pairs whose level rows are kept between views


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


def _sweep_order(sweep: Sweep) -> tuple[int, str, str]:
    """Sweeps newest first (with reverse=True), ties by venue and side: one order for every reader."""
    return (sweep.time, sweep.venue, sweep.side.value)


_SideStats = tuple[dict[Side, tuple[float, float] | None], dict[Side, tuple[list[float], list[float]]]]


def side_stats(rows: tuple[LevelRow, ...]) -> _SideStats:
    """Per side, the largest row (USD, price) and the significant rows' prices and USD, ascending:
    read from the rows' estimates alone (a sweep's columns do not change them)."""
    largest_of: dict[Side, tuple[float, float] | None] = {}
    significant_of: dict[Side, tuple[list[float], list[float]]] = {}
    for side, attr in ((Side.LONG, "long_usd"), (Side.SHORT, "short_usd")):
        live = [(getattr(r, attr), r.price) for r in rows if getattr(r, attr) > 0]
        largest = max(live, key=lambda x: (x[0], -x[1])) if live else None
        largest_of[side] = largest
        cut = SIGNIFICANT_SHARE * largest[0] if largest else 0.0
        significant = [(p, u) for u, p in live if u >= cut]  # ascending price, as the rows are
        significant_of[side] = ([p for p, _u in significant], [u for _p, u in significant])
    return largest_of, significant_of


class LevelTable:
    """The price-independent part of a LevelsView (rows, largest and significant rows per side),
    cached until a book or the shown sweeps change; clusters are placed against the price per view."""

    def __init__(self, rows: tuple[LevelRow, ...], sides: _SideStats | None = None) -> None:
        """``sides``: ``side_stats`` of rows with the same estimates (the books'), where already known."""
        self.rows = rows
        self._largest, self._significant = side_stats(rows) if sides is None else sides

    def max_pain(self, side: Side, price: float | None) -> Cluster | None:
        largest = self._largest[side]
        return (
            None if largest is None else Cluster(side, largest[1], largest[0], _distance(largest[1], price))
        )

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


class Projection:
    """Reads a ``MarketState`` into views, keeping the caches that make a view cheap."""

    def __init__(self, state: MarketState) -> None:
        self.state = state
        # (symbol, grid) -> (the books' versions, rows) and ((versions, sweeps shown), table)
        self.rows_cache: dict[tuple[str, float], tuple[_Versions, dict[int, list[float]]]] = {}
        self.levels_cache: dict[tuple[str, float], tuple[tuple[_Versions, _SweepsShown], LevelTable]] = {}
        self._snapshots: dict[
            tuple[str, str], tuple[int, LevelSnapshot]
        ] = {}  # (venue, symbol) -> (version, copy)
        # grid -> row -> its price, cleaned once (``_clean`` of every row was a third of a table's build)
        self._row_prices: dict[float, dict[int, float]] = {}
        # (symbol, grid) -> (the rows book_sides read, its lists per side)
        self._sides_cache: dict[tuple[str, float], tuple[dict[int, list[float]], _BookSides]] = {}
        # (symbol, grid) -> (the rows the books' rows came from, those rows unswept and their side stats)
        self._unswept: dict[tuple[str, float], tuple[dict[int, list[float]], _Unswept]] = {}
        self.measured = MeasuredProjection(state)

    def view(
        self, symbol: str, now_ms: int, window: str, grid: float, cross_assets: tuple[str, ...]
    ) -> SymbolView:
        state = self.state
        market = self._market(symbol, now_ms)
        oi = self._oi(symbol, now_ms, window)
        price = market.last or market.mark
        return SymbolView(
            symbol=symbol,
            now=now_ms,
            market=market,
            realized=self._realized(symbol, window, now_ms),
            oi=oi,
            levels=self._levels(symbol, market.last, grid, window, now_ms),
            book=self._book(symbol, grid),
            tape=state.tape.recent(),
            tape_rows=state.tape.rows(),
            feeds=tuple(state.feeds[k] for k in sorted(state.feeds)),
            cross=tuple(self._cross(s) for s in cross_assets),
            measured=self.measured.view(symbol, oi, price, auto_grid(price) if price else 0.0),
        )

    def _market(self, symbol: str, now_ms: int) -> MarketView:
        tickers = self.state.venue_tickers(symbol)
        volumes = [t.volume_24h_usd for t in tickers if t.volume_24h_usd]
        total_volume = sum(volumes)
        intervals = {t.venue: funding_interval_hours(t.venue, t.funding_interval_hours) for t in tickers}
        venues = tuple(
            VenueMarket(
                t.venue,
                t.last,
                t.mark,
                t.index,
                t.funding_rate,
                t.next_funding_time,
                t.change_24h_pct,
                t.volume_24h_usd,
                volume_share=(t.volume_24h_usd / total_volume) if total_volume and t.volume_24h_usd else None,
                funding_interval_hours=intervals[t.venue],
            )
            for t in tickers
        )
        oi_usd = {v: self.state.oi.latest(v, symbol, now_ms) for v in self.state.oi.venues(symbol)}
        # Hyperliquid's hourly rate and the others' 8-hourly ones averaged as they are would be off 8x.
        weighted = [
            (per_basis(t.funding_rate, hours), sample[2])
            for t in tickers
            if t.funding_rate is not None
            and (hours := intervals[t.venue])
            and (sample := oi_usd.get(t.venue))
            and sample[2] > 0
        ]
        weight = sum(w for _f, w in weighted)
        totals = [s[2] for s in oi_usd.values() if s is not None]
        lead = self.state.lead_ticker(symbol)
        settles = self._next_funding(symbol, now_ms)
        return MarketView(
            symbol=symbol,
            last=self.state.price(symbol),
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
        upcoming = [
            t
            for t in self.state.venue_tickers(symbol)
            if t.next_funding_time and t.next_funding_time >= now_ms
        ]
        lead = self.state.lead_ticker(symbol)
        if lead is not None and lead in upcoming:
            return lead
        return max(upcoming, key=lambda t: (t.volume_24h_usd or 0.0, -venue_rank(t.venue)), default=None)

    def _realized(self, symbol: str, window: str, now_ms: int) -> RealizedView:
        cells = tuple(
            self.state.realized.cell(venue, symbol, side, window, now_ms)
            for venue in self.state.realized.venues(symbol)
            for side in (Side.LONG, Side.SHORT)
        )
        return RealizedView(
            window=window,
            cells=cells,
            total_long=self.state.realized.cell(ALL, symbol, Side.LONG, window, now_ms),
            total_short=self.state.realized.cell(ALL, symbol, Side.SHORT, window, now_ms),
            since=self.state.tape_since,
            tracked=tuple(
                (venue, n)
                for venue in self.state.realized.venues(symbol)
                if (n := self.state.positions.accounts(venue))
            ),
        )

    def _oi(self, symbol: str, now_ms: int, window: str) -> tuple[OIView, ...]:
        regime_window = REGIME_WINDOW.get(window, "1h")
        rows = [self.state.oi.view(v, symbol, now_ms, regime_window) for v in self.state.oi.venues(symbol)]
        rows = [r for r in rows if r.time is not None]
        return (*rows, self._oi_all(symbol, rows, now_ms, regime_window))

    def _oi_all(self, symbol: str, rows: list[OIView], now_ms: int, regime_window: str) -> OIView:
        if not rows:
            return OIView(ALL, symbol, None, None, None, {w: None for w in OI_WINDOWS}, None, None)
        changes: dict[str, float | None] = {}
        for w in OI_WINDOWS:
            now_sum = then_sum = 0.0
            for r in rows:
                then = self.state.oi.latest(r.venue, symbol, r.time - WINDOW_MS[w])  # type: ignore[operator]
                if then is not None:
                    now_sum += r.base or 0.0
                    then_sum += then[1]
            changes[w] = pct_change(now_sum, then_sum) if then_sum else None
        # The regime of the total: OI summed over venues, price from the venue holding the most OI.
        lead = max(rows, key=lambda r: (r.usd or 0.0, -venue_rank(r.venue)))
        then = self.state.oi.latest(lead.venue, symbol, (lead.time or 0) - WINDOW_MS[regime_window])
        price_change = None
        if then is not None and then[1] > 0 and then[2] > 0 and lead.base and lead.usd:
            price_change = pct_change(lead.usd / lead.base, then[2] / then[1])
        regime = oi_regime(price_change, changes.get(regime_window))
        return OIView(
            ALL,
            symbol,
            None,
            sum(r.usd or 0.0 for r in rows),
            max(r.time or 0 for r in rows),
            changes,
            None,
            None,
            regime=regime,
            regime_window=regime_window,
            regime_price_pct=price_change if regime else None,
        )

    # --- levels -------------------------------------------------------------------------------

    def _level_rows(
        self, symbol: str, grid: float, states: list[tuple[str, VenueSymbol]]
    ) -> dict[int, list[float]]:
        versions = tuple((v, s.book.version) for v, s in states)
        cached = self.rows_cache.get((symbol, grid))
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
        _bounded_put(self.rows_cache, (symbol, grid), (versions, merged))
        return merged

    def book_sides(self, symbol: str, grid: float) -> _BookSides:
        """The symbol's ESTIMATED rows at ``grid`` per side, (row price, USD) ascending: the level books
        alone, without the sweeps a view's level table joins (their fills change at every liquidation at
        stress, so the cluster_near rule built that table again at each read: ~6 ms a second per symbol).
        Kept until a book changes."""
        merged = self._level_rows(symbol, grid, self.state.symbol_states(symbol))
        cached = self._sides_cache.get((symbol, grid))
        if cached is not None and cached[0] is merged:
            return cached[1]
        prices = self._prices(grid)
        rows = [(_row_price(prices, i, grid), merged[i]) for i in sorted(merged)]
        sides = {Side.LONG: [(p, usd[0]) for p, usd in rows], Side.SHORT: [(p, usd[1]) for p, usd in rows]}
        _bounded_put(self._sides_cache, (symbol, grid), (merged, sides))
        return sides

    def book_sides_near(self, symbol: str, grid: float, low: float, high: float) -> _BookSides:
        """``book_sides``' rows whose price is from ``low`` to ``high`` (and perhaps a row either side),
        ascending: looked up by their row numbers, not the whole book sorted and copied (the
        cluster_near rule reads a few rows near the price once a second per symbol; at stress the books
        change between its reads, so ``book_sides`` sorted every row again at each)."""
        merged = self._level_rows(symbol, grid, self.state.symbol_states(symbol))
        if not (math.isfinite(low / grid) and math.isfinite(high / grid)):
            return self.book_sides(symbol, grid)
        first, last = math.floor(low / grid) - 1, math.ceil(high / grid) + 1
        if last - first < len(merged):
            wanted = [i for i in range(first, last + 1) if i in merged]
        else:
            wanted = sorted(i for i in merged if first <= i <= last)
        prices = self._prices(grid)
        rows = [(_row_price(prices, i, grid), merged[i]) for i in wanted]
        return {Side.LONG: [(p, usd[0]) for p, usd in rows], Side.SHORT: [(p, usd[1]) for p, usd in rows]}

    def _prices(self, grid: float) -> dict[int, float]:
        """Row -> its price at ``grid``, each cleaned once."""
        prices = self._row_prices.get(grid)
        if prices is None:
            prices = {}
            _bounded_put(self._row_prices, grid, prices)
        return prices

    def sweeps_since(self, symbol: str, since_ms: int, now_ms: int) -> list[SweepRecord]:
        fresh = [sw for _v, s in self.state.symbol_states(symbol) for sw in s.sweeps if sw.time > since_ms]
        fresh.sort(key=_sweep_order, reverse=True)
        return [sw.record(self._taped(sw, now_ms)) for sw in fresh]

    def _levels(self, symbol: str, price: float | None, grid: float, window: str, now_ms: int) -> LevelsView:
        states = self.state.symbol_states(symbol)
        sweeps = sorted((sw for _v, s in states for sw in s.sweeps), key=_sweep_order, reverse=True)
        since = now_ms - WINDOW_MS[window]
        shown = [sw for sw in sweeps if since <= sw.time <= now_ms]
        taped = {id(sw): self._taped(sw, now_ms) for sw in sweeps}
        key = (
            tuple((v, s.book.version) for v, s in states),
            tuple((id(sw), sw.fill_count, taped[id(sw)]) for sw in shown),
        )
        cached = self.levels_cache.get((symbol, grid))
        if cached is None or cached[0] != key:
            cached = (key, self._level_table(symbol, grid, states, [(sw, taped[id(sw)]) for sw in shown]))
            _bounded_put(self.levels_cache, (symbol, grid), cached)
        table = cached[1]
        return LevelsView(
            symbol=symbol,
            price=price,
            grid=grid,
            rows=table.rows,
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

    def _taped(self, sweep: Sweep, now_ms: int) -> bool:
        """The venue's tape ran over the sweep's whole matching window (up to now)."""
        return self.state.tape_cover.covers(sweep.venue, sweep.window_start, min(sweep.window_end, now_ms))

    def _level_table(
        self, symbol: str, grid: float, states: list[tuple[str, VenueSymbol]], shown: list[tuple[Sweep, bool]]
    ) -> LevelTable:
        """``shown``: the sweeps in the window, each with whether the tape watched it; a row's realized
        USD sums the watched sweeps only, and stays None (unknown) when none of its sweeps was watched;
        its taped estimate is the part of the swept estimate that realized USD compares with."""
        merged = self._level_rows(symbol, grid, states)
        unswept, sides = self._unswept_rows(symbol, grid, merged)
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
        if not swept:
            return LevelTable(tuple(unswept.values()), sides)
        rows = dict(unswept)  # a row no shown sweep crossed is its books' row as it is
        prices = self._prices(grid)
        for i, (swept_long, swept_short) in swept.items():
            long_usd, short_usd = merged.get(i) or (0.0, 0.0)
            rows[i] = LevelRow(
                _row_price(prices, i, grid),
                long_usd,
                short_usd,
                swept_long,
                swept_short,
                realized.get(i),
                taped_swept.get(i, 0.0),
            )
        if len(rows) == len(unswept):  # every swept row is a book's row: the order stands
            return LevelTable(tuple(rows.values()), sides)
        return LevelTable(tuple(rows[i] for i in sorted(rows)), sides)

    def _unswept_rows(self, symbol: str, grid: float, merged: dict[int, list[float]]) -> _Unswept:
        """The books' rows as LevelRows with nothing swept, ascending, and their side stats, kept until a
        book changes: at stress the shown sweeps' fills change at every view, the books seldom, and a
        table built every row again (600-1,500 rows, ~2 ms of the view's ~4)."""
        cached = self._unswept.get((symbol, grid))
        if cached is not None and cached[0] is merged:
            return cached[1]
        prices = self._prices(grid)
        rows: dict[int, LevelRow] = {}
        for i in sorted(merged):
            long_usd, short_usd = merged[i]
            rows[i] = LevelRow(_row_price(prices, i, grid), long_usd, short_usd)
        unswept = (rows, side_stats(tuple(rows.values())))
        _bounded_put(self._unswept, (symbol, grid), (merged, unswept))
        return unswept

    def _imbalance(self, symbol: str, price: float | None) -> dict[float, float | None]:
        out: dict[float, float | None] = {}
        books = [s.book for _v, s in self.state.symbol_states(symbol)]
        for band in IMBALANCE_BANDS_PCT:
            if not price:
                out[band] = None
                continue
            shorts = at_risk(books, price, price * (1 + band / 100))
            longs = at_risk(books, price, price * (1 - band / 100))
            out[band] = (shorts - longs) / (shorts + longs) if shorts + longs > 0 else None
        return out

    # --- book, cross assets ---------------------------------------------------------------------

    def _book(self, symbol: str, grid: float) -> BookView:
        bids: dict[int, float] = {}
        asks: dict[int, float] = {}
        venues = []
        for venue, snap in sorted(self.state.books.get(symbol, {}).items()):
            venues.append(venue)
            for p, size in snap.bids:
                i = math.floor(p / grid + 1e-9)  # a bid rounds down to its row
                bids[i] = bids.get(i, 0.0) + size
            for p, size in snap.asks:
                i = math.ceil(p / grid - 1e-9)  # an ask rounds up, so no row holds both sides
                asks[i] = asks.get(i, 0.0) + size
        return BookView(
            symbol,
            grid,
            tuple((_clean(i * grid), bids[i]) for i in sorted(bids, reverse=True)),
            tuple((_clean(i * grid), asks[i]) for i in sorted(asks)),
            tuple(venues),
        )

    def _cross(self, symbol: str) -> CrossAsset:
        lead = self.state.lead_ticker(symbol)
        if lead is None:
            return CrossAsset(symbol, None, None)
        return CrossAsset(symbol, lead.last or lead.mark, lead.change_24h_pct)


_BookSides = dict[Side, list[tuple[float, float]]]
_Unswept = tuple[dict[int, LevelRow], _SideStats]


def _row_price(prices: dict[int, float], i: int, grid: float) -> float:
    """Row ``i``'s price at ``grid`` from ``prices`` (``Projection._prices``), cleaned the first time."""
    price = prices.get(i)
    if price is None:
        price = prices[i] = _clean(i * grid)
    return price


def _bounded_put(cache: dict[_K, _V], key: _K, value: _V) -> None:
    """Insert, dropping the oldest entry beyond CACHE_ENTRIES (zooming through grids stays bounded)."""
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > CACHE_ENTRIES:
        del cache[next(iter(cache))]


def _distance(level: float, price: float | None) -> float:
    return (level - price) / price * 100.0 if price else 0.0
