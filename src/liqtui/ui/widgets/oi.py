"""Open-interest gauges: per venue the coin and USD amount, change over the OI windows, where OI sits
between its lookback low and high, and the change versus that low ("+31.9 % from 93,600 BTC low").

Reads ``view.oi`` (one OIView per venue, then the "all" row in USD) and the regime word.
"""

from __future__ import annotations

from liqtui.engine.views import OI_WINDOWS, OIView, SymbolView
from liqtui.ui.widgets import format as fmt
from liqtui.ui.widgets.bars import range_gauge
from liqtui.ui.widgets.base import LinePane, Part


def _change_parts(oi: OIView) -> list[Part]:
    parts: list[Part] = []
    for window in OI_WINDOWS:
        change = oi.change_pct.get(window) if oi.change_pct else None
        style = None if change is None else ("pane--up" if change >= 0 else "pane--down")
        parts.append((f" {window} ", "pane--dim"))
        parts.append((fmt.pct(change).rjust(8), style))
    return parts


def vs_low_text(oi: OIView, coin: str) -> str:
    """ "+31.9 % from 93,600 BTC low" (or from the high when that is all we know)."""
    if oi.vs_low_pct is not None and oi.low is not None:
        return f"{fmt.pct(oi.vs_low_pct)} from {fmt.coin(oi.low)} {coin} low"
    if oi.vs_high_pct is not None and oi.high is not None:
        return f"{fmt.pct(oi.vs_high_pct)} from {fmt.coin(oi.high)} {coin} high"
    return "lookback low/high: —"


STALE_AFTER_MS = 120_000  # OI is polled every few seconds to a minute; older than this is called stale


class OIPane(LinePane):
    """Open interest per venue and in total, with its lookback range and regime."""

    PANE_TITLE = "Open interest"

    def displayed(self, view: SymbolView):
        # Ages only when old enough to matter, in whole minutes: a fresh pane does not repaint per tick.
        ages = tuple(
            fmt.age(view.now - oi.time) if oi.time is not None and view.now - oi.time >= STALE_AFTER_MS else None
            for oi in view.oi
        )
        return (fmt.base_coin(view.symbol), view.oi, ages)

    def update_titles(self) -> None:
        coin, rows, _ = self._shown
        regime = next((r.regime for r in rows if r.venue == "all" and r.regime), None)
        regime = regime or next((r.regime for r in rows if r.regime), None)
        self.set_titles(f"Open interest · {coin}" + (f" · {regime}" if regime else ""))

    def draw(self, width: int, height: int) -> list[list[Part]]:
        coin, rows, ages = self._shown
        if not rows:
            return self.waiting_lines("open interest: waiting for data")
        lines: list[list[Part]] = []
        for oi, old in zip(rows, ages):
            lines.extend(self._venue_lines(oi, coin, width, old))
        return lines

    def _venue_lines(self, oi: OIView, coin: str, width: int, old: str | None) -> list[list[Part]]:
        is_total = oi.venue == "all"
        head: list[Part] = [(fmt.venue_tag(oi.venue).ljust(4), "pane--head")]
        if not is_total:
            head.append(((fmt.coin(oi.base) + f" {coin}").rjust(13), "pane--stale" if old else None))
        head.append((fmt.usd(oi.usd).rjust(9 if not is_total else 22), "pane--head" if is_total else None))
        changes = _change_parts(oi)
        wide = width >= 26 + 4 * 12
        lines = [head + changes] if wide else [head, [("    ", None)] + changes]
        if old:
            lines[0].append((f" stale {old}", "pane--stale"))
        if is_total:
            if oi.regime:
                lines.append([("    regime: ", "pane--dim"), (oi.regime, "pane--head")])
            return lines
        gauge_w = max(5, min(24, width // 4))
        gauge: list[Part] = [("    ", None), (range_gauge(oi.range_position, gauge_w), "pane--heat")]
        gauge.append((" " + vs_low_text(oi, coin), None))
        if oi.regime and wide:
            gauge.append((f" · {oi.regime}", "pane--dim"))
        lines.append(gauge)
        return lines
