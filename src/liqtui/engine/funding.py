"""Funding rates on one interval: venues settle funding every 8 h (Binance, Bybit, OKX by default)
or every hour (Hyperliquid), so their rates only compare, or average, once put on one interval.

``funding_interval_hours`` is a venue's interval: the one its feed reported (``Ticker.
funding_interval_hours``: Bybit's instrument, OKX's two settlement times) or else the venue's usual
one; None for a venue liqtui does not know (its rate is then shown alone and left out of averages).
``per_basis`` restates a rate per ``FUNDING_BASIS_HOURS`` (the desk's OI-weighted figure);
``apr`` annualizes one (simple, 365 days).
"""

from __future__ import annotations

import math

from liqtui.domain.venues import VENUES

FUNDING_BASIS_HOURS = 8.0
VENUE_FUNDING_HOURS = {
    v.id: float(v.funding_hours) for v in VENUES.values()
}  # the registry's usual intervals
HOURS_PER_YEAR = 24.0 * 365.0


def funding_interval_hours(venue: str, reported: float | None = None) -> float | None:
    if reported is not None and 0.0 < reported < math.inf:
        return reported
    return VENUE_FUNDING_HOURS.get(venue)


def per_basis(rate: float, interval_hours: float, basis_hours: float = FUNDING_BASIS_HOURS) -> float:
    """``rate`` paid every ``interval_hours`` as the rate every ``basis_hours`` (0.0000125 / 1 h -> 0.0001 / 8 h)."""
    return rate * basis_hours / interval_hours


def apr(rate: float, interval_hours: float) -> float:
    """``rate`` paid every ``interval_hours`` over a year of 365 days, as a fraction (0.0001 / 8 h -> 0.1095)."""
    return rate * HOURS_PER_YEAR / interval_hours
