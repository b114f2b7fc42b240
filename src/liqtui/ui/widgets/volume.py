"""24h volume share by venue as bars with USD and percent, plus the OI-weighted funding rate.

Reads ``view.market`` (per-venue 24h volume, share, funding with its interval; the OI-weighted
funding, restated per 8 h by the engine).
"""

from __future__ import annotations

from liqtui.domain import format as fmt
from liqtui.engine.views import MarketView, SymbolView, VenueMarket
from liqtui.ui.widgets.bars import bar_left, eighths
from liqtui.ui.widgets.line_pane import LinePane, Part


def _share(market: MarketView, venue_volume: float | None, share: float | None) -> float | None:
    """The venue's share of 24h volume; derived from the volumes when the engine left it out."""
    if share is not None:
        return share
    total = sum(v.volume_24h_usd or 0.0 for v in market.venues)
    return venue_volume / total if venue_volume is not None and total > 0 else None


FUNDING_W = 13  # "+0.0100 %/8h" with its sign


# (coin, per venue, OI-weighted funding rate, the hours it is restated per)
_VolumeSlice = tuple[str, tuple[VenueMarket, ...], float | None, float]


class VolumeSharePane(LinePane[_VolumeSlice]):
    """Who trades the symbol: 24h volume per venue, and the OI-weighted funding."""

    PANE_TITLE = "24h volume share"

    def displayed(self, view: SymbolView) -> _VolumeSlice:
        market = view.market
        return (
            fmt.base_coin(view.symbol),
            market.venues,
            market.funding_rate_oi_weighted,
            market.funding_basis_hours,
        )

    def update_titles(self) -> None:
        self.set_titles(f"24h volume share · {self._shown[0]}")

    def draw(self, width: int, height: int) -> list[list[Part]]:
        _, venues, funding, basis_hours = self._shown
        market = self._view.market if self._view is not None else None
        lines: list[list[Part]] = []
        show_funding = width >= 48
        bar_w = max(0, width - 4 - 8 - 8 - (FUNDING_W + 6 if show_funding else 0) - 2)
        ordered = sorted(venues, key=lambda v: -(v.volume_24h_usd or 0.0))
        for venue in ordered:
            share = _share(market, venue.volume_24h_usd, venue.volume_share) if market else venue.volume_share
            parts: list[Part] = [(fmt.venue_tag(venue.venue).ljust(4), "pane--head")]
            parts.append((bar_left(eighths(share, 1.0, bar_w), bar_w) + " ", "pane--heat"))
            parts.append((("—" if share is None else f"{share * 100:.1f} %").rjust(7) + " ", None))
            parts.append((fmt.usd(venue.volume_24h_usd).rjust(8), None))
            if show_funding:
                rate = venue.funding_rate
                parts.append(("  fund", "pane--dim"))
                parts.append(
                    (fmt.funding(rate, venue.funding_interval_hours).rjust(FUNDING_W), _sign_style(rate))
                )
            lines.append(parts)
        if not ordered:
            lines.append([("volume: waiting for data", "pane--dim")])
        lines.append(
            [("OI-weighted funding ", "pane--dim"), (fmt.funding(funding, basis_hours), _sign_style(funding))]
        )
        return lines


def _sign_style(value: float | None) -> str | None:
    if value is None:
        return None
    return "pane--up" if value >= 0 else "pane--down"
