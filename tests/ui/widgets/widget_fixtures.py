"""Hand-built SymbolViews with the seed article's BTC numbers, and a tiny app to mount one pane in.

Article figures used: BTC 82,800 (-9.0 %); shorts $6.5B at risk to 92,000; longs $1.2B to 72,600;
Binance OI 123,500 BTC vs the 93,600 BTC low; Binance longs ~$30M (sampled); Hyperliquid: its
backstop vault's fills only (partial), none yet; gold -8 %, silver -12 %.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from textual.app import App, ComposeResult
from textual.widget import Widget

from liqtui.domain.events import FeedState, FeedStatus, Liquidation, Side
from liqtui.engine.levels import LevelSnapshot
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

BTC = "BTC/USDT:USDT"
NOW = 1_769_874_660_000  # 2026-01-31 15:51:00 UTC
PRICE = 82_800.0
GRID = 100.0

# Estimated shorts above price: sums to $6.5B in (82,800, 92,000]; $0.7B more beyond 92,000.
SHORT_ROWS = {
    84_000.0: 0.8e9,
    86_000.0: 1.2e9,
    88_000.0: 1.5e9,
    90_000.0: 1.0e9,
    92_000.0: 2.0e9,
    95_000.0: 0.7e9,
}
# Estimated longs below price: sums to $1.2B in [72,600, 82,800); $0.5B more below 72,600.
LONG_ROWS = {
    82_000.0: 0.15e9,
    80_000.0: 0.30e9,
    78_000.0: 0.25e9,
    75_000.0: 0.20e9,
    72_600.0: 0.30e9,
    70_000.0: 0.5e9,
}


def level_rows() -> tuple[LevelRow, ...]:
    rows = [LevelRow(price=p, short_usd=usd) for p, usd in SHORT_ROWS.items()]
    rows += [LevelRow(price=p, long_usd=usd) for p, usd in LONG_ROWS.items()]
    # The $80-83k swing lows were swept: estimate consumed there and what the tape showed.
    rows.append(LevelRow(price=83_000.0, swept_long_usd=450e6, realized_usd=30e6, taped_swept_usd=450e6))
    rows.append(LevelRow(price=81_500.0, swept_long_usd=300e6, realized_usd=12e6, taped_swept_usd=300e6))
    return tuple(sorted(rows, key=lambda r: r.price))


def level_books(rows: Iterable[LevelRow]) -> tuple[LevelSnapshot, ...]:
    """The live levels behind hand-made rows: each row's estimate as one level at the row's price."""
    return (
        LevelSnapshot.of_levels(
            [(r.price, Side.LONG, r.long_usd) for r in rows if r.long_usd]
            + [(r.price, Side.SHORT, r.short_usd) for r in rows if r.short_usd]
        ),
    )


def _cell(
    venue: str, side: Side, usd: float, count: int, largest: float, sampled: bool = False
) -> RealizedCell:
    return RealizedCell(
        venue=venue, symbol=BTC, side=side, usd=usd, count=count, largest_usd=largest, sampled=sampled
    )


def realized() -> RealizedView:
    cells = (
        _cell("binanceusdm", Side.LONG, 30.0e6, 412, 2.1e6, sampled=True),
        _cell("binanceusdm", Side.SHORT, 1.5e6, 35, 0.2e6, sampled=True),
        _cell("bybit", Side.LONG, 21.4e6, 980, 1.4e6),
        _cell("bybit", Side.SHORT, 0.9e6, 51, 0.1e6),
        _cell("okx", Side.LONG, 9.8e6, 133, 0.9e6, sampled=True),
        _cell("okx", Side.SHORT, 0.4e6, 12, 0.05e6, sampled=True),
    )
    total_long = _cell("all", Side.LONG, 61.2e6, 1525, 2.1e6, sampled=True)
    total_short = _cell("all", Side.SHORT, 2.8e6, 98, 0.2e6, sampled=True)
    return RealizedView(window="24h", cells=cells, total_long=total_long, total_short=total_short)


def open_interest() -> tuple[OIView, ...]:
    changes = {"5m": 0.1, "1h": 0.8, "4h": 2.5, "24h": 6.0}
    binance = OIView(
        venue="binanceusdm", symbol=BTC, base=123_500.0, usd=123_500.0 * PRICE, time=NOW,
        change_pct=changes, low=93_600.0, high=125_000.0,
        vs_low_pct=(123_500 - 93_600) / 93_600 * 100, vs_high_pct=(123_500 - 125_000) / 125_000 * 100,
        range_position=(123_500 - 93_600) / (125_000 - 93_600), regime="new shorts",
    )  # fmt: skip
    bybit = OIView(venue="bybit", symbol=BTC, base=55_000.0, usd=55_000.0 * PRICE, time=NOW,
                   change_pct={"5m": -0.2, "1h": None, "4h": 1.0, "24h": 3.0}, low=None, high=None)  # fmt: skip
    total = OIView(venue="all", symbol=BTC, base=None, usd=178_500.0 * PRICE, time=NOW,
                   change_pct={"5m": 0.0, "1h": 0.5, "4h": 2.0, "24h": 5.0}, low=None, high=None,
                   regime="new shorts")  # fmt: skip
    return (binance, bybit, total)


def burst(start: int, venues: Iterable[str], count: int = 14, usd: float = 300_000.0) -> list[Liquidation]:
    """``count`` BTC long liquidations, newest first, 100 ms apart, cycling over ``venues``."""
    names = list(venues)
    return [
        Liquidation(
            venue=names[i % len(names)],
            symbol=BTC,
            side=Side.LONG,
            price=PRICE - i * 5,
            qty=usd / PRICE,
            usd=usd,
            time=start - i * 100,
            recv_time=start - i * 100 + 50,
            sampled=names[i % len(names)] != "bybit",
        )  # fmt: skip
        for i in range(count)
    ]


def tape() -> tuple[Liquidation, ...]:
    older = NOW - 10_000
    singles = [
        Liquidation("bybit", "ETH/USDT:USDT", Side.SHORT, 2_750.5, 18.0, 49_509.0, older, older + 40),
        Liquidation(
            "binanceusdm", BTC, Side.LONG, 82_950.0, 3.0, 248_850.0, older - 5_000, older - 4_950, True
        ),
        Liquidation(
            "okx", "SOL/USDT:USDT", Side.LONG, 101.25, 50.0, 5_062.5, older - 9_000, older - 8_950, True
        ),
    ]
    return tuple(burst(NOW, ("binanceusdm", "bybit", "okx")) + singles)


def market() -> MarketView:
    venues = (
        VenueMarket("binanceusdm", last=PRICE, funding_rate=0.0001, volume_24h_usd=12.6e9, volume_share=0.45),
        VenueMarket("okx", last=PRICE, funding_rate=0.00008, volume_24h_usd=5.6e9, volume_share=0.20),
        VenueMarket("bybit", last=PRICE, funding_rate=-0.00002, volume_24h_usd=5.2e9, volume_share=0.186),
        VenueMarket(
            "hyperliquid", last=PRICE, funding_rate=0.0000125, volume_24h_usd=4.6e9, volume_share=0.164
        ),
    )
    return MarketView(symbol=BTC, last=PRICE, mark=82_790.0, change_24h_pct=-9.0, funding_rate_oi_weighted=0.000071,
                      next_funding_time=NOW + 3_600_000, total_oi_usd=178_500.0 * PRICE, venues=venues)  # fmt: skip


def feeds() -> tuple[FeedStatus, ...]:
    return (
        FeedStatus("binanceusdm", FeedState.LIVE, NOW - 60_000, last_message=NOW - 200),
        FeedStatus("bybit", FeedState.LIVE, NOW - 60_000, last_message=NOW - 300),
        FeedStatus("okx", FeedState.LIVE, NOW - 60_000, last_message=NOW - 900),
        FeedStatus("hyperliquid", FeedState.LIVE, NOW - 60_000, kind="oi", last_message=NOW - 2_000),
        FeedStatus(
            "hyperliquid", FeedState.LIVE, NOW - 60_000, detail="backstop vault fills", kind="liquidations"
        ),
    )


def article_view() -> SymbolView:
    levels = LevelsView(
        symbol=BTC, price=PRICE, grid=GRID, rows=level_rows(), venues=("binanceusdm", "bybit", "okx"),
        max_pain_long=Cluster(Side.LONG, 70_000.0, 0.5e9, (70_000 - PRICE) / PRICE * 100),
        max_pain_short=Cluster(Side.SHORT, 92_000.0, 2.0e9, (92_000 - PRICE) / PRICE * 100),
        imbalance={2.0: 0.40, 5.0: 0.55, 10.0: 0.69}, level_books=level_books(level_rows()),
    )  # fmt: skip
    book = BookView(
        symbol=BTC, grid=GRID,
        bids=((82_700.0, 12.5), (82_600.0, 30.1), (82_500.0, 8.0)),
        asks=((82_800.0, 9.2), (82_900.0, 20.0), (83_000.0, 14.0)),
        venues=("binanceusdm", "bybit", "okx"),
    )  # fmt: skip
    cross = (
        CrossAsset(BTC, PRICE, -9.0),
        CrossAsset("ETH/USDT:USDT", 2_750.25, -7.1),
        CrossAsset("XAU/USDT:USDT", 4_890.0, -8.0),
        CrossAsset("XAG/USDT:USDT", 104.2, -11.9),
    )
    return SymbolView(
        symbol=BTC, now=NOW, market=market(), realized=realized(), oi=open_interest(), levels=levels, book=book,
        tape=tape(), feeds=feeds(), cross=cross,
    )  # fmt: skip


def empty_view(symbol: str = BTC) -> SymbolView:
    """A view before any data arrived: no price, no rows, empty tuples, None everywhere."""
    nothing_long = RealizedCell("all", symbol, Side.LONG)
    nothing_short = RealizedCell("all", symbol, Side.SHORT)
    return SymbolView(
        symbol=symbol, now=NOW,
        market=MarketView(symbol, None, None, None, None, None, None, ()),
        realized=RealizedView("1h", (), nothing_long, nothing_short),
        oi=(), levels=LevelsView(symbol, None, 0.0, (), ()), book=BookView(symbol, 0.0, (), (), ()),
        tape=(), feeds=(),
    )  # fmt: skip


def replace(view: SymbolView, **changes) -> SymbolView:
    return dataclasses.replace(view, **changes)


THEME_DEFAULTS = {
    "bid": "#3fb950",
    "ask": "#f85149",
    "liq-long": "#ff7b72",
    "liq-short": "#56d364",
    "heat": "#f0b429",
    "stale": "#8b949e",
    "big": "#d2a8ff",
    "heatmap-long": "#f08c2e",
    "heatmap-short": "#9b7bff",
    "heatmap-price": "#e6e6e6",
}


class PaneApp(App):
    """Mounts one pane filling the screen, with the theme variables the panes need."""

    CSS = "Screen { layout: vertical; }"

    def __init__(self, pane: Widget) -> None:
        super().__init__()
        self.pane = pane

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield self.pane


def lines_of(pane) -> list[str]:
    """The pane's rendered content lines as plain text."""
    return [pane.render_line(y).text for y in range(pane.size.height)]


@dataclasses.dataclass
class DemoTick:
    """One render tick of a pane fed by the busy demo through the real engine."""

    show_calls: int  # refresh() calls made by show() itself
    refreshes: list[tuple]  # the regions of every refresh() call of the tick (() = whole pane)
    full: bool  # a whole-pane repaint happened
    patched: list[str]  # the previous screen updated only inside the refreshed regions
    fresh: list[str]  # the pane drawn from scratch


async def run_busy_demo(pane: Widget, size: tuple[int, int], ticks: int = 40) -> list[DemoTick]:
    """Show ``ticks`` views (4 per simulated second) of the seeded busy demo on ``pane``, recording
    what each tick repainted, so tests can check that repainting only those regions is enough."""
    from liqtui.config import Settings
    from liqtui.engine import Engine
    from liqtui.feeds.demo import DemoMarket

    settings = Settings()
    market = DemoMarket(settings, seed=7, rate="busy", backfill_hours=1)
    engine = Engine(settings.levels)
    for event in market.start_events():
        engine.apply(event)
    symbol = market.symbols()[0]
    out: list[DemoTick] = []
    async with PaneApp(pane).run_test(size=size) as pilot:
        pane.show(engine.view(symbol, market.now_ms))
        await pilot.pause()
        screen = [pane.render_line(y).text for y in range(pane.size.height)]
        calls: list[tuple] = []
        original = pane.refresh
        pane.refresh = lambda *regions, **kw: (calls.append(regions), original(*regions, **kw))[1]
        for _ in range(ticks):
            for event in market.step(250):
                engine.apply(event)
            calls.clear()
            pane.show(engine.view(symbol, market.now_ms))
            show_calls = len(calls)
            await pilot.pause()
            fresh = [pane.render_line(y).text for y in range(pane.size.height)]
            refreshes = list(calls)
            full = any(not regions for regions in refreshes)
            if full:
                screen = list(fresh)
            else:
                for regions in refreshes:
                    for region in regions:
                        y, x0, x1 = region.y, region.x, region.right
                        screen[y] = screen[y][:x0] + fresh[y][x0:x1] + screen[y][x1:]
            out.append(DemoTick(show_calls, refreshes, full, list(screen), fresh))
    return out
