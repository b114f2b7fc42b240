"""Facts about each venue's public liquidation stream, in one place for the feeds, the desk and ``tail``.

From DOMAIN.md section 2: Binance's ``!forceOrder`` carries the average fill price (``ap``); Bybit's
``allLiquidation`` (``p``) and OKX's ``liquidation-orders`` (``bkPx``) carry the position's bankruptcy
price, beyond where the order filled; Hyperliquid has no public liquidation stream.
"""

from __future__ import annotations

from enum import Enum


class PriceKind(str, Enum):
    """What the price of a venue's liquidation event is."""

    FILL = "fill"  # the order's average fill price
    BANKRUPTCY = "bankruptcy"  # the price at which the position's margin is zero


LIQUIDATION_PRICE_KIND: dict[str, PriceKind] = {
    "binanceusdm": PriceKind.FILL,
    "bybit": PriceKind.BANKRUPTCY,
    "okx": PriceKind.BANKRUPTCY,
}


def liquidation_price_kind(venue: str) -> PriceKind | None:
    """The kind of price ``venue`` reports for a liquidation; None when unknown (or no public stream)."""
    return LIQUIDATION_PRICE_KIND.get(venue)


# DOMAIN.md section 2: Binance's and OKX's streams push at most one liquidation per symbol per second,
# so what they deliver is a sample: every total of theirs, even an empty one, is a lower bound.
SAMPLED_LIQUIDATION_VENUES = frozenset({"binanceusdm", "okx"})


def samples_liquidations(venue: str) -> bool:
    return venue in SAMPLED_LIQUIDATION_VENUES
