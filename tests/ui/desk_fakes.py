"""Test doubles for the desk: a source and an engine with fixed, hand-made numbers.

They let the pilot tests drive every key without the simulator's timing; the snapshot tests use the
real demo and engine. PEPE is listed by Bybit only, to check a symbol only some venues list.
"""

from __future__ import annotations

import asyncio
import dataclasses

from liqtui.domain.events import FeedState, FeedStatus, Liquidation, Side
from liqtui.engine.levels import LevelSnapshot
from liqtui.engine.oi import OITracker
from liqtui.engine.views import (
    BookView,
    Cluster,
    CrossAsset,
    LevelRow,
    LevelsView,
    MarketView,
    OIView,
    RealizedCell,
    RealizedView,
    SymbolView,
    VenueMarket,
)

NOW = 1_769_874_660_000  # 2026-01-31 15:51 UTC, the article's day
VENUES = ("binanceusdm", "bybit", "okx", "hyperliquid")
LISTED = {
    "BTC/USDT:USDT": VENUES,
    "ETH/USDT:USDT": VENUES,
    "SOL/USDT:USDT": VENUES,
    "XRP/USDT:USDT": VENUES,
    "PEPE/USDT:USDT": ("bybit",),
}
PRICES = {
    "BTC/USDT:USDT": 82_800.0,
    "ETH/USDT:USDT": 2_750.3,
    "SOL/USDT:USDT": 118.42,
    "XRP/USDT:USDT": 1.8421,
    "PEPE/USDT:USDT": 0.00001234,
}


class FakeSource:
    """An EventSource that emits what the test queues and keeps a fixed clock."""

    def __init__(self, mode: str = "DEMO", now: int = NOW) -> None:
        self.mode = mode
        self.now = now
        self.focus: list[str] = []
        self.queue: asyncio.Queue = asyncio.Queue()
        self.fail_with: Exception | None = None
        # replay controls
        self.speed = 1.0
        self.paused = False
        self.seeks: list[int] = []
        self.on_reset = None
        self.on_caught_up = None
        self.heading_ms: int | None = None  # no catch-up under way
        self.warmup: float | None = None
        self.recorded_mode = "LIVE"
        self.damage_note: str | None = None

    def now_ms(self) -> int:
        return self.now

    async def run(self, emit) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        while True:
            emit(await self.queue.get())

    def set_focus(self, symbol: str) -> None:
        self.focus.append(symbol)

    def symbols(self) -> list[str]:
        return list(LISTED)

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def seek(self, time_ms: int) -> None:
        self.seeks.append(time_ms)
        self.now = time_ms

    def seek_by(self, delta_ms: int) -> None:
        self.seek(self.now + delta_ms)


class FakeEngine:
    """Builds a fixed view per symbol; records what it was asked."""

    def __init__(self) -> None:
        self.applied: list = []
        self.calls: list[dict] = []
        self.fail_views = 0  # raise on the next N view() calls
        self.feeds: tuple | None = None  # replaces the views' feed statuses when set
        self.oi = OITracker()  # empty: the alert rules that read OI find nothing

    def book_sides(self, symbol, reach=None):
        levels = sample_view(symbol).levels
        rows = {Side.LONG: [(r.price, r.long_usd) for r in levels.rows]}
        rows[Side.SHORT] = [(r.price, r.short_usd) for r in levels.rows]
        return levels.price, levels.grid, rows

    def apply(self, event) -> None:
        self.applied.append(event)

    def apply_liquidations(self, liqs) -> None:
        self.applied.extend(liqs)

    def set_tape_filter(self, tape_filter) -> None:
        self.tape_filter = tape_filter

    def track_rows(self, symbol, grid=None) -> float:
        return grid or sample_view(symbol).levels.grid

    def view(self, symbol, now_ms, *, window="1h", grid=None, cross_assets=()):
        self.calls.append({"symbol": symbol, "now": now_ms, "window": window, "grid": grid})
        if self.fail_views:
            self.fail_views -= 1
            raise RuntimeError("engine hiccup")
        view = sample_view(symbol, now_ms, window=window, grid=grid, cross_assets=cross_assets)
        return view if self.feeds is None else dataclasses.replace(view, feeds=self.feeds)

    def take_heatmap_buckets(self):
        return []

    def heatmap(self, symbol, now_ms, range_ms, bucket_ms, venues=None):
        return None  # no history: the heatmap pane waits


def _cell(venue: str, symbol: str, side: Side, usd: float, count: int) -> RealizedCell:
    return RealizedCell(venue, symbol, side, usd=usd, count=count, largest_usd=usd / max(1, count) * 3)


def sample_view(
    symbol: str, now: int = NOW, *, window: str = "1h", grid: float | None = None, cross_assets=()
) -> SymbolView:
    venues = LISTED.get(symbol, ())
    price = PRICES.get(symbol, 100.0)
    grid = grid or (50.0 if price > 10_000 else price / 1000)
    market = MarketView(
        symbol=symbol,
        last=price,
        mark=price * 0.9999,
        change_24h_pct=-9.12,
        funding_rate_oi_weighted=0.0001,
        next_funding_time=now + 3 * 3_600_000 + 12 * 60_000,
        total_oi_usd=28.4e9 if venues else None,
        venues=tuple(VenueMarket(v, last=price, volume_share=1 / len(venues)) for v in venues),
    )
    cells = tuple(
        _cell(v, symbol, side, 1e6 * (i + 1), 10 * (i + 1))
        for i, v in enumerate(venues)
        if v != "hyperliquid"
        for side in Side
    )
    realized = RealizedView(
        window, cells, _cell("all", symbol, Side.LONG, 30e6, 120), _cell("all", symbol, Side.SHORT, 4e6, 30)
    )
    oi = tuple(
        OIView(
            v,
            symbol,
            1000.0 * (i + 1),
            1000.0 * (i + 1) * price,
            now,
            {"5m": 0.1, "1h": -0.5, "4h": 1.0, "24h": 3.0},
            900.0,
            1300.0,
            vs_low_pct=31.0,
            range_position=0.6,
        )
        for i, v in enumerate(venues)
    )
    rows = tuple(
        LevelRow(price + k * grid, long_usd=(5e6 if k < 0 else 0.0), short_usd=(7e6 if k > 0 else 0.0))
        for k in range(-10, 11)
        if k
    )
    books = (
        LevelSnapshot.of_levels(
            [(r.price, Side.LONG, r.long_usd) for r in rows if r.long_usd]
            + [(r.price, Side.SHORT, r.short_usd) for r in rows if r.short_usd]
        ),
    )
    levels = LevelsView(
        symbol,
        price,
        grid,
        rows,
        venues,
        max_pain_long=Cluster(Side.LONG, price - 5 * grid, 5e6, -0.3),
        max_pain_short=Cluster(Side.SHORT, price + 5 * grid, 7e6, 0.3),
        level_books=books,
    )
    book = BookView(
        symbol,
        grid,
        tuple((price - k * grid, 1.0 + k) for k in range(1, 6)),
        tuple((price + k * grid, 1.0 + k) for k in range(1, 6)),
        venues,
    )
    tape = (
        tuple(
            Liquidation(
                "binanceusdm",
                symbol,
                Side.LONG,
                price,
                0.5,
                price * 0.5,
                now - k * 1000,
                now - k * 1000,
                sampled=True,
            )
            for k in range(5)
        )
        if "binanceusdm" in venues
        else ()
    )
    feeds = tuple(
        FeedStatus(
            v,
            FeedState.STALE if v == "okx" else FeedState.LIVE,
            now - 60_000,
            last_message=now - (42_000 if v == "okx" else 1_000),
        )
        for v in VENUES
    )
    cross = tuple(CrossAsset(s, PRICES.get(s), -1.5) for s in cross_assets)
    return SymbolView(symbol, now, market, realized, oi, levels, book, tape, feeds, cross)
