"""Realized liquidation totals per venue x side for the chosen window, with the total row.

Reads ``view.realized`` (cells per venue and side, totals) and ``view.feeds`` (to tell "no public feed"
and unhealthy feeds from a quiet market). Sampled venues' numbers are lower bounds and read "≥$30.0M".
"""

from __future__ import annotations

from dataclasses import dataclass

from liqtui.domain.events import Side
from liqtui.engine.views import RealizedCell, SymbolView
from liqtui.ui.widgets import format as fmt
from liqtui.ui.widgets.base import LinePane, Part
from liqtui.ui.widgets.coverage import is_unhealthy, liquidation_feed_state, no_public_liquidation_feed

LOWER_BOUND = "≥"


@dataclass(frozen=True, slots=True)
class TotalsRow:
    label: str
    long: RealizedCell | None
    short: RealizedCell | None
    no_feed: bool = False
    stale: bool = False
    is_total: bool = False


def _cell_usd(cell: RealizedCell | None) -> str:
    if cell is None:
        return fmt.usd(0.0)
    return (LOWER_BOUND if cell.sampled else "") + fmt.usd(cell.usd)


def _largest(long: RealizedCell | None, short: RealizedCell | None) -> str:
    best = max((c for c in (long, short) if c is not None and c.count), key=lambda c: c.largest_usd, default=None)
    if best is None:
        return fmt.MISSING
    return f"{fmt.usd(best.largest_usd)} {'L' if best.side is Side.LONG else 'S'}"


def totals_rows(view: SymbolView) -> tuple[TotalsRow, ...]:
    """One row per venue (known from the realized cells or the feed statuses), then the total row."""
    by_venue: dict[str, dict[Side, RealizedCell]] = {}
    for cell in view.realized.cells:
        if cell.venue != "all":
            by_venue.setdefault(cell.venue, {})[cell.side] = cell
    venues = set(by_venue) | {status.venue for status in view.feeds if status.venue != "all"}
    rows = []
    for venue in sorted(venues, key=fmt.venue_sort_key):
        cells = by_venue.get(venue, {})
        has_data = any(c.count for c in cells.values())
        rows.append(
            TotalsRow(
                label=fmt.venue_name(venue),
                long=cells.get(Side.LONG),
                short=cells.get(Side.SHORT),
                no_feed=no_public_liquidation_feed(venue, view.feeds, has_data),
                stale=is_unhealthy(liquidation_feed_state(venue, view.feeds)),
            )
        )
    rows.append(TotalsRow("Total", view.realized.total_long, view.realized.total_short, is_total=True))
    return tuple(rows)


def _scope(view: SymbolView) -> str:
    symbol = view.realized.total_long.symbol
    return "all markets" if symbol == "all" else fmt.base_coin(symbol)


def realized_summary(view: SymbolView) -> str:
    """The total row in one line, for a layout without the pane: "Realized 4h · BTC: LONG ≥$30.0M · SHORT $4.0M · 150 liquidations"."""
    long, short = view.realized.total_long, view.realized.total_short
    return (
        f"Realized {view.realized.window} · {_scope(view)}: LONG {_cell_usd(long)} · SHORT {_cell_usd(short)}"
        f" · {long.count + short.count:,} liquidations"
    )


class TotalsPane(LinePane):
    """Realized liquidations by venue and side: LONG $, SHORT $, count, largest."""

    PANE_TITLE = "Realized liquidations"

    def displayed(self, view: SymbolView):
        return (view.realized.window, _scope(view), totals_rows(view))

    def update_titles(self) -> None:
        window, scope, _ = self._shown
        self.set_titles(f"Realized liquidations · {window} · {scope}")

    def draw(self, width: int, height: int) -> list[list[Part]]:
        _, _, rows = self._shown
        name_w = max(6, min(12, width - 36))
        wide = width >= name_w + 38
        lines: list[list[Part]] = [self._header(name_w, wide)]
        if len(rows) == 1 and not rows[0].long.count and not rows[0].short.count:
            lines.append([("no venue reporting yet", "pane--dim")])
        lines.extend(self._row(row, name_w, wide) for row in rows)
        if any(c is not None and c.sampled for row in rows for c in (row.long, row.short)):
            lines.append([(f"{LOWER_BOUND} lower bound: sampled feed", "pane--dim")])
        return lines

    @staticmethod
    def _header(name_w: int, wide: bool) -> list[Part]:
        parts: list[Part] = [("venue".ljust(name_w), "pane--head")]
        parts.append(("LONG".rjust(9), "pane--long"))
        parts.append(("SHORT".rjust(9), "pane--short"))
        parts.append(("count".rjust(7), "pane--head"))
        if wide:
            parts.append(("largest".rjust(11), "pane--head"))
        return parts

    @staticmethod
    def _row(row: TotalsRow, name_w: int, wide: bool) -> list[Part]:
        label = (row.label + (" stale" if row.stale else ""))[:name_w].ljust(name_w)
        label_style = "pane--head" if row.is_total else ("pane--stale" if row.stale else None)
        if row.no_feed:
            return [(label, "pane--dim"), ("no public feed".rjust(18), "pane--dim")]
        count = sum(c.count for c in (row.long, row.short) if c is not None)
        parts: list[Part] = [(label, label_style)]
        parts.append((_cell_usd(row.long).rjust(9), "pane--long"))
        parts.append((_cell_usd(row.short).rjust(9), "pane--short"))
        parts.append((f"{count:,}".rjust(7), "pane--head" if row.is_total else None))
        if wide:
            parts.append((_largest(row.long, row.short).rjust(11), None))
        return parts
