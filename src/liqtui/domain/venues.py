"""The venue registry: every fact about a venue that is not its wire format, in one place.

Config's venue list, the exchange and source construction, the engine's venue order, the desk's names
and tags, the demo, the panes' "no public feed" rule, the help text and the margin tiers all read it.
A venue's wire shapes live in its adapter, ``feeds/live/<ccxt id>.py``, which takes its facts from here.
docs/adding-a-venue.md lists what a fifth venue adds.

From docs/exchanges.md: Binance's ``!forceOrder`` carries the average fill price (``ap``); Bybit's
``allLiquidation`` (``p``) and OKX's ``liquidation-orders`` (``bkPx``) carry the position's bankruptcy
price, beyond where the order filled. Binance's and OKX's streams push at most one liquidation per
symbol per second, so what they deliver is a sample: every total of theirs, even an empty one, is a
lower bound. Hyperliquid has no liquidation stream at all: liqtui reads the fills of its backstop
liquidator vault (exact, but only the liquidations the book could not absorb; docs/exchanges.md),
so its totals are a floor too ("partial").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PriceKind(StrEnum):
    """What the price of a venue's liquidation event is."""

    FILL = "fill"  # the order's average fill price
    BANKRUPTCY = "bankruptcy"  # the price at which the position's margin is zero


class MarginSource(StrEnum):
    """Where a venue's maintenance-margin tiers come from (feeds/margin.py reads the live ones)."""

    SHIPPED = "shipped"  # the table shipped in data/maintenance_margin.json
    BYBIT_RISK_LIMIT = "bybit risk-limit"  # GET /v5/market/risk-limit
    OKX_POSITION_TIERS = "okx position-tiers"  # GET /api/v5/public/position-tiers
    HALF_MAX_LEVERAGE = "hyperliquid max leverage"  # half the initial margin at max leverage: maintenance = 1 / (2 x max leverage)


@dataclass(frozen=True, slots=True)
class Venue:
    """One venue as the rest of liqtui knows it."""

    id: str  # the ccxt id, also the venue's name in events, config and recordings
    name: str  # as traders say it
    tag: str  # short code for narrow columns
    sampled: bool  # the liquidation stream pushes at most one per symbol per second
    price_kind: PriceKind | None  # None: no liquidation stream
    funding_hours: int  # funding interval
    margin_source: MarginSource
    no_feed_reason: str = ""  # set when the venue publishes no liquidation stream
    partial_note: str = ""  # set when liqtui sees only a part of the venue's liquidations, and which part
    backstop_account: str = ""  # the account whose fills are liquidations (Hyperliquid's liquidator vault)
    public_positions: bool = False  # every account's positions are public: liqtui MEASURES them

    @property
    def has_liquidation_feed(self) -> bool:
        return not self.no_feed_reason


# In the order the desk lists them (the default venue list is this order too).
VENUES: dict[str, Venue] = {
    v.id: v
    for v in (
        Venue("binanceusdm", "Binance", "BIN", True, PriceKind.FILL, 8, MarginSource.SHIPPED),
        Venue("bybit", "Bybit", "BYB", False, PriceKind.BANKRUPTCY, 8, MarginSource.BYBIT_RISK_LIMIT),
        Venue("okx", "OKX", "OKX", True, PriceKind.BANKRUPTCY, 8, MarginSource.OKX_POSITION_TIERS),
        Venue(
            "hyperliquid",
            "Hyperliquid",
            "HL",
            False,
            PriceKind.FILL,
            1,
            MarginSource.HALF_MAX_LEVERAGE,
            partial_note="partial: backstop liquidator fills only",
            # The vault open-source trackers use; not verified against live data (no network here).
            backstop_account="0x2e3d94f0562703b25c83308a05046ddaf9a8dd14",
            public_positions=True,
        ),
    )
}
VENUE_IDS: tuple[str, ...] = tuple(VENUES)
# The venue whose accounts' positions liqtui measures (`liqtui positions`, feeds/live/hyperliquid_*.py).
POSITIONS_VENUE: str = next(v.id for v in VENUES.values() if v.public_positions)


def venue_info(venue: str) -> Venue | None:
    """The registry entry for ``venue`` (a ccxt id, or a demo id ``demo-<ccxt id>``); None when unknown."""
    return VENUES.get(venue.removeprefix("demo-"))


def venue_order(venue: str) -> int:
    """Rank of ``venue`` in the registry's order; unknown venues after all known ones."""
    plain = venue.removeprefix("demo-")
    return VENUE_IDS.index(plain) if plain in VENUES else len(VENUE_IDS)


LIQUIDATION_PRICE_KIND: dict[str, PriceKind] = {v.id: v.price_kind for v in VENUES.values() if v.price_kind}


def liquidation_price_kind(venue: str) -> PriceKind | None:
    """The kind of price ``venue`` reports for a liquidation; None when unknown (or no public stream)."""
    return LIQUIDATION_PRICE_KIND.get(venue)


SAMPLED_LIQUIDATION_VENUES = frozenset(v.id for v in VENUES.values() if v.sampled)
NO_LIQUIDATION_FEED_VENUES = frozenset(v.id for v in VENUES.values() if not v.has_liquidation_feed)


def samples_liquidations(venue: str) -> bool:
    return venue in SAMPLED_LIQUIDATION_VENUES


PARTIAL_LIQUIDATION_VENUES = frozenset(v.id for v in VENUES.values() if v.partial_note)
# Venues whose positions are public (Hyperliquid): the desk shows their MEASURED levels beside the estimate.
PUBLIC_POSITION_VENUES = frozenset(v.id for v in VENUES.values() if v.public_positions)


def partial_note(venue: str, tracked_accounts: int = 0) -> str:
    """Which part of ``venue``'s liquidations liqtui sees ("" when it sees them all, or samples them):
    Hyperliquid's backstop fills, plus its tracked accounts' once there are any."""
    info = VENUES.get(venue.removeprefix("demo-"))
    if info is None or not info.partial_note:
        return ""
    if tracked_accounts and info.backstop_account:
        return (
            f"partial: backstop + {tracked_accounts:,} tracked account{'s' if tracked_accounts != 1 else ''}"
        )
    return info.partial_note


def liquidations_are_floor(venue: str) -> bool:
    """Every total of ``venue``'s liquidations is a lower bound: a sampled stream, or a partial view."""
    plain = venue.removeprefix("demo-")
    return plain in SAMPLED_LIQUIDATION_VENUES or plain in PARTIAL_LIQUIDATION_VENUES


def has_liquidation_feed(venue: str) -> bool:
    """False only for a known venue that publishes no liquidation stream (unknown venues: assume one)."""
    info = venue_info(venue)
    return info is None or info.has_liquidation_feed
