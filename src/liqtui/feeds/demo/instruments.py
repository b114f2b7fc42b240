"""The facts the demo market is built from: instruments, venues and the three activity rates.

Figures are chosen to look like late January 2026 (reference/seed-article.txt): BTC near 82,800,
Binance > OKX > Bybit > Hyperliquid by volume, Hyperliquid with lower maximum leverage and hourly
funding. They are the demo's assumptions, not data: the desk marks every demo number DEMO.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from liqtui.domain.venues import (
    LIQUIDATION_PRICE_KIND,
    NO_LIQUIDATION_FEED_VENUES,
    PARTIAL_LIQUIDATION_VENUES,
    SAMPLED_LIQUIDATION_VENUES,
    VENUE_IDS,
    VENUES,
    PriceKind,
)
from liqtui.feeds.symbols import candidates

# The venue facts come from the registry (domain/venues.py); the tables below are the demo's own
# invented figures (market shares, spreads, leverage caps), one entry per registry venue.
DEMO_VENUES = VENUE_IDS

# Venues whose public liquidation stream pushes at most one order per symbol per second, and those
# liqtui sees only a part of (Hyperliquid's backstop fills): the demo shows a part of each.
SAMPLED_VENUES = SAMPLED_LIQUIDATION_VENUES | PARTIAL_LIQUIDATION_VENUES
# Venues whose liquidation stream reports the position's bankruptcy price, not the fill (docs/exchanges.md).
BANKRUPTCY_PRICE_VENUES = frozenset(
    v for v, kind in LIQUIDATION_PRICE_KIND.items() if kind is PriceKind.BANKRUPTCY
)
# Venues with no public liquidation stream at all (liquidations still happen there, unseen).
NO_LIQUIDATION_FEED = NO_LIQUIDATION_FEED_VENUES


@dataclass(frozen=True, slots=True)
class DemoVenue:
    """The demo's figures for one venue."""

    volume_share: float  # share of a symbol's 24h volume
    oi_share: float  # share of its open interest
    depth_share: float  # share of its book depth
    book_levels: int  # order-book levels per side the venue's public stream gives
    basis_sd: float  # typical spread of its price around the common mid (log units, standard deviation)
    offset_ms: int  # stagger of its periodic samples, so venues do not tick in lock step like a robot
    max_leverage_major: float  # BTC, ETH and the like
    max_leverage_minor: float


# One row per venue of the registry (a test checks it); Hyperliquid l2Book gives 20 levels.
DEMO_PROFILE: dict[str, DemoVenue] = {
    "binanceusdm": DemoVenue(0.44, 0.40, 0.45, 50, 0.00008, 0, 125, 75),
    "bybit": DemoVenue(0.19, 0.24, 0.22, 50, 0.00012, 310, 100, 75),
    "okx": DemoVenue(0.21, 0.14, 0.20, 50, 0.00012, 570, 100, 50),
    "hyperliquid": DemoVenue(0.16, 0.22, 0.13, 20, 0.00025, 830, 40, 20),
}
VOLUME_SHARE = {v: p.volume_share for v, p in DEMO_PROFILE.items()}
OI_SHARE = {v: p.oi_share for v, p in DEMO_PROFILE.items()}
DEPTH_SHARE = {v: p.depth_share for v, p in DEMO_PROFILE.items()}
BOOK_LEVELS = {v: p.book_levels for v, p in DEMO_PROFILE.items()}
BASIS_SD = {v: p.basis_sd for v, p in DEMO_PROFILE.items()}
VENUE_OFFSET_MS = {v: p.offset_ms for v, p in DEMO_PROFILE.items()}
# Funding interval in hours.
FUNDING_HOURS = {v.id: v.funding_hours for v in VENUES.values()}


@dataclass(frozen=True, slots=True)
class Instrument:
    """One perpetual as the demo prices it, summed over the four venues."""

    symbol: str
    price: float  # at the demo's start time
    tick: float
    vol_annual: float  # annualized volatility of the common mid
    beta: float  # exposure to the market-wide factor
    oi_usd: float  # open interest, all venues
    volume_usd: float  # 24h volume, all venues
    depth_1pct_usd: float  # book depth within 1 % of the mid, all venues, one side
    max_leverage: dict[str, float]


def _max_leverage(major: bool) -> dict[str, float]:
    return {v: p.max_leverage_major if major else p.max_leverage_minor for v, p in DEMO_PROFILE.items()}


_KNOWN = {
    "BTC": (82_800.0, 0.1, 0.45, 1.0, 19e9, 40e9, 400e6, True),
    "ETH": (2_710.0, 0.01, 0.62, 1.2, 11e9, 24e9, 180e6, True),
    "SOL": (116.4, 0.01, 0.80, 1.4, 3.2e9, 7e9, 50e6, False),
    "XRP": (1.742, 0.0001, 0.78, 1.2, 2.1e9, 4e9, 30e6, False),
    "DOGE": (0.1186, 0.00001, 0.85, 1.4, 1.2e9, 2.5e9, 15e6, False),
    "BNB": (842.0, 0.01, 0.50, 0.9, 0.9e9, 1.5e9, 12e6, False),
    "HYPE": (24.6, 0.001, 0.95, 1.5, 1.4e9, 1.8e9, 10e6, False),
    "PAXG": (4_890.0, 0.01, 0.30, 0.2, 0.15e9, 0.4e9, 4e6, False),
    "XAUT": (4_885.0, 0.01, 0.30, 0.2, 0.1e9, 0.3e9, 3e6, False),
}


def base_of(symbol: str) -> str:
    return symbol.split("/")[0].upper()


def unified(symbol: str) -> str:
    """``BTC``, ``btcusdt`` or ``BTC-PERP`` -> ``BTC/USDT:USDT``; unified symbols pass through.

    The demo lists every symbol as a USDT-margined perpetual on every venue (it has no market lists
    to look short forms up in); the short forms are read as the live feeds read them.
    """
    if "/" in symbol:
        return symbol
    base, quote = candidates(symbol)
    quote = quote or "USDT"
    return f"{base}/{quote}:{quote}"


def instrument(symbol: str) -> Instrument:
    """The demo's instrument for ``symbol``; an unknown base gets a stable made-up small cap."""
    base = base_of(symbol)
    if base in _KNOWN:
        price, tick, vol, beta, oi, volume, depth, major = _KNOWN[base]
    else:
        # crc32, not hash(): the same symbol must price the same in every process (determinism).
        h = zlib.crc32(base.encode())
        price = round(0.05 + (h % 100_000) / 1000.0, 3)
        tick, vol, beta, oi, volume, depth, major = _tick_for(price), 0.9, 1.3, 0.3e9, 0.6e9, 4e6, False
    return Instrument(symbol, price, tick, vol, beta, oi, volume, depth, _max_leverage(major))


def _tick_for(price: float) -> float:
    tick = 1.0
    while tick > price / 10_000:
        tick /= 10
    return tick


@dataclass(frozen=True, slots=True)
class Rate:
    """How lively the demo market is. Tuned so the rates' documented figures hold (tests check them)."""

    name: str
    vol_mult: float  # multiplies every instrument's base volatility
    jumps_per_hour: float  # jump arrivals (most market-wide)
    jump_sd: float  # log size of a jump (before beta)
    leveraged_share: float  # share of OI held by leveraged positions that really get liquidated
    lifetime_s: float  # mean time a leveraged position stays open when not liquidated
    # Share of new positions that are already stretched: liquidation price only ``stretched_range``
    # (fractions of the price) away: effective leverage far above the tier they opened at (margin
    # eaten by losses and funding, size added). They are the steady drizzle of small liquidations
    # every real tape shows between cascades.
    stretched_share: float
    stretched_range: tuple[float, float]
    open_median_usd: float  # median notional of one position that opens
    order_median_usd: float  # median notional of one liquidation order on the tape
    max_orders_per_row: int  # a crossed 2 bps row is liquidated as at most this many orders
    # Orders a venue's liquidation engine executes per second and symbol: a burst queues and
    # comes out over the next seconds, as on a real venue (and the price feels it as it executes).
    engine_orders_per_s: float
    impact: float  # multiplies the price impact of forced orders


RATES = {
    "calm": Rate(
        "calm", 0.55, 0.15, 0.004, 0.02, 8 * 3600, 0.003, (0.001, 0.006), 20_000, 20_000, 20, 50, 0.35
    ),
    "busy": Rate(
        "busy", 1.25, 1.0, 0.005, 0.08, 2 * 3600, 0.50, (0.0001, 0.0015), 12_000, 400, 60, 300, 0.25
    ),
    "stress": Rate(
        "stress", 4.5, 20.0, 0.008, 0.15, 300, 0.85, (0.00005, 0.0008), 6_000, 45, 1000, 3000, 0.3
    ),
}
