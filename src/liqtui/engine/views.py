"""Read-only views the engine hands to the panes and to headless commands.

This is the contract between the engine (which builds these) and everything that shows numbers
(the desk's widgets, ``liqtui stats``, ``liqtui risk``). Plain frozen dataclasses: cheap to build
on each render tick, safe to pass across tasks, trivially comparable in tests.
All USD figures are notionals; all times are ms epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from liqtui.domain.events import FeedStatus, Liquidation, PositionSnapshot, Side
from liqtui.engine.fidelity import Fidelity
from liqtui.engine.funding import FUNDING_BASIS_HOURS
from liqtui.engine.levels import LevelSnapshot

WINDOWS = ("1m", "5m", "1h", "4h", "12h", "24h")
WINDOW_MS = {
    "1m": 60_000,
    "5m": 300_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "12h": 43_200_000,
    "24h": 86_400_000,
}
OI_WINDOWS = ("5m", "1h", "4h", "24h")
SIZE_BUCKETS = ("<1k", "1k-10k", "10k-100k", "100k-1M", ">1M")  # USD
SIZE_BUCKET_EDGES = (1_000.0, 10_000.0, 100_000.0, 1_000_000.0)
IMBALANCE_BANDS_PCT = (2.0, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class RealizedCell:
    """Realized liquidations of one venue (or "all"), one symbol (or "all"), one side, one window."""

    venue: str
    symbol: str
    side: Side
    usd: float = 0.0
    count: int = 0
    largest_usd: float = 0.0
    buckets: tuple[int, ...] = (0, 0, 0, 0, 0)  # counts per SIZE_BUCKETS
    sampled: bool = False  # any contributing event came from a sampled stream (a lower bound)


@dataclass(frozen=True, slots=True)
class RealizedView:
    window: str
    cells: tuple[RealizedCell, ...]  # per venue x side (for the view's symbol, or all symbols)
    total_long: RealizedCell
    total_short: RealizedCell
    # When the liquidation tape started covering: the first liquidation feed that went live, or the
    # oldest liquidation held (warmed from a recording). None: no feed has answered, nothing is known.
    since: int | None = None
    tracked: tuple[tuple[str, int], ...] = ()  # (venue, accounts whose positions are measured), when any


@dataclass(frozen=True, slots=True)
class OIView:
    """Open interest of one venue (or "all" for the USD total) and symbol."""

    venue: str
    symbol: str
    base: float | None
    usd: float | None
    time: int | None
    change_pct: dict[str, float | None]  # per OI_WINDOWS, change of the base amount in %
    low: float | None  # lowest base OI within the lookback
    high: float | None
    low_time: int | None = None
    high_time: int | None = None
    vs_low_pct: float | None = None  # (now - low) / low * 100: "up 31 % from the 93,600 BTC low"
    vs_high_pct: float | None = None
    range_position: float | None = None  # 0 at the low, 1 at the high
    regime: str | None = None  # "new longs" | "short covering" | "new shorts" | "long flush"
    regime_window: str | None = None  # the OI_WINDOWS entry the regime compares against
    regime_price_pct: float | None = None  # the price's change over regime_window, in % (with a regime)
    since: int | None = None  # the oldest sample within the lookback: low and high cover from here


@dataclass(frozen=True, slots=True)
class LevelRow:
    """Estimated liquidation notional in one price row [price, price + grid)."""

    price: float
    long_usd: float = 0.0
    short_usd: float = 0.0
    swept_long_usd: float = 0.0  # estimate consumed here when price crossed
    swept_short_usd: float = 0.0
    # Liquidations the tape printed in this row for the sweeps it watched; None when no sweep here
    # was watched (swept during the backfill, or while the venue's liquidation feed was not running).
    realized_usd: float | None = None
    taped_swept_usd: float = 0.0  # the part of the swept estimate whose sweeps the tape watched


@dataclass(frozen=True, slots=True)
class Cluster:
    side: Side
    price: float
    usd: float
    distance_pct: float  # signed, from the current price


@dataclass(frozen=True, slots=True)
class SweepRecord:
    """A range of estimated levels consumed by price, and what the tape showed in that range."""

    venue: str
    symbol: str
    side: Side
    time: int
    price_low: float
    price_high: float
    estimated_usd: float
    realized_usd: float  # matched on the tape; compare with the estimate only when ``taped``
    taped: bool = False  # the venue's liquidation tape ran over the sweep's whole window


@dataclass(frozen=True, slots=True)
class LevelsView:
    """ESTIMATED liquidation levels of one symbol, summed over the covered venues."""

    symbol: str
    price: float | None
    grid: float
    rows: tuple[LevelRow, ...]  # ascending price; only rows with something in them
    venues: tuple[str, ...]  # venues that contribute (coverage)
    max_pain_long: Cluster | None = None
    max_pain_short: Cluster | None = None
    nearest_long: Cluster | None = None
    nearest_short: Cluster | None = None
    imbalance: dict[float, float | None] = field(default_factory=dict)  # band % -> (S-L)/(S+L)
    sweeps: tuple[SweepRecord, ...] = ()
    # Each covered venue's live levels, frozen, by venue name: ``levels.at_risk(level_books, price,
    # target)`` is the at-risk figure (the rows above are for drawing: they round levels to the grid).
    level_books: tuple[LevelSnapshot, ...] = ()


@dataclass(frozen=True, slots=True)
class VenueMarket:
    venue: str
    last: float | None = None
    mark: float | None = None
    index: float | None = None
    funding_rate: float | None = None  # per this venue's own interval, below
    next_funding_time: int | None = None
    change_24h_pct: float | None = None
    volume_24h_usd: float | None = None
    volume_share: float | None = None  # fraction of the symbol's 24h volume across venues
    funding_interval_hours: float | None = None  # 8 (Binance, Bybit, OKX), 1 (Hyperliquid); None: unknown


@dataclass(frozen=True, slots=True)
class MarketView:
    symbol: str
    last: float | None
    mark: float | None
    change_24h_pct: float | None
    funding_rate_oi_weighted: float | None  # every venue's rate restated per ``funding_basis_hours``
    next_funding_time: int | None  # the lead venue's (the one whose price the view shows), see below
    total_oi_usd: float | None
    venues: tuple[VenueMarket, ...]
    funding_basis_hours: float = FUNDING_BASIS_HOURS
    next_funding_venue: str | None = None  # whose settlement ``next_funding_time`` is


@dataclass(frozen=True, slots=True)
class BookView:
    """Order-book depth summed across venues into price rows of ``grid`` (base coin sizes)."""

    symbol: str
    grid: float
    bids: tuple[tuple[float, float], ...]  # (row price, size), best first
    asks: tuple[tuple[float, float], ...]
    venues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CrossAsset:
    """One entry of the cross-asset strip: a symbol's last price and 24h change."""

    symbol: str
    last: float | None
    change_24h_pct: float | None


@dataclass(frozen=True, slots=True)
class TapeFilter:
    """Which liquidations the tape shows: at least ``min_usd``, of ``symbol`` or of every market (None)."""

    min_usd: float = 0.0
    symbol: str | None = None

    def passes(self, liq: Liquidation) -> bool:
        return liq.usd >= self.min_usd and (self.symbol is None or liq.symbol == self.symbol)


@dataclass(frozen=True, slots=True)
class TapeEntry:
    """One tape row: a single liquidation (count 1) or a folded burst."""

    time: int  # newest liquidation's time
    first_time: int  # oldest liquidation's time in the row
    symbol: str
    side: Side
    venues: tuple[str, ...]  # sorted by name; the desk orders them for display
    sampled_venues: tuple[str, ...]  # venues whose liquidations here came from a sampled stream
    price: float  # the newest liquidation's price
    usd: float
    count: int


@dataclass(frozen=True, slots=True)
class TapeRows:
    """The tape's rows, newest first, and the filter they passed."""

    filter: TapeFilter
    entries: tuple[TapeEntry, ...]


@dataclass(frozen=True, slots=True)
class MeasuredView:
    """MEASURED positions of one symbol on the venues whose positions are public (Hyperliquid), never
    mixed with the estimate: the tracked accounts' positions, what they cover of those venues' OI,
    and the estimate's score against them (engine/fidelity.py)."""

    symbol: str
    venues: tuple[str, ...]  # the public-position venues that trade the symbol
    positions: tuple[PositionSnapshot, ...]  # largest first
    accounts: int
    usd: float  # the positions' USD
    oldest: int | None  # the oldest snapshot's time; None: no position
    oi_usd: float | None  # those venues' OI in USD; None: not sampled yet
    version: int  # equal versions hold the same positions (readers cache on it)
    fidelity: Fidelity | None = None  # None: nothing to score yet (no position, price, OI or estimate)


@dataclass(frozen=True, slots=True)
class SymbolView:
    """Everything the desk shows for the current symbol at one instant."""

    symbol: str
    now: int
    market: MarketView
    realized: RealizedView
    oi: tuple[OIView, ...]  # per venue, then the "all" row (USD only)
    levels: LevelsView
    book: BookView
    tape: tuple[Liquidation, ...]  # the newest liquidations, newest first, all symbols and sizes
    feeds: tuple[FeedStatus, ...]  # latest status per venue and kind
    cross: tuple[CrossAsset, ...] = ()  # the symbols asked for with view(..., cross_assets=...)
    tape_rows: TapeRows | None = None  # the tape folded for the engine's filter (Engine.set_tape_filter)
    measured: MeasuredView | None = None  # None: no venue that publishes positions trades the symbol
