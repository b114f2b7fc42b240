"""Open-interest gauges: per venue the coin and USD amount, change over the OI windows, where OI sits
between its lookback low and high, and the change versus that low ("+31.9 % from 93,600 BTC 30d low":
the span is what the samples cover, 25h on a fresh demo, not the configured lookback).

Reads ``view.oi`` (one OIView per venue, then the "all" row in USD) and the regime with its window.
"""

from __future__ import annotations

from liqtui.domain import format as fmt
from liqtui.engine.oi import REGIMES
from liqtui.engine.views import OI_WINDOWS, OIView, SymbolView
from liqtui.ui.widgets.bars import range_gauge
from liqtui.ui.widgets.line_pane import LinePane, Part

PCT_W = 8
KEEP_FIRST = ("1h", "24h", "4h", "5m")  # a narrow pane drops whole windows, 5m first
CHANGES_W = sum(len(f" {w} ") + PCT_W for w in OI_WINDOWS)  # every window: 49 cells


def _change_parts(oi: OIView, room: int = CHANGES_W) -> list[Part]:
    """The OI change per window, as many whole windows as ``room`` holds (in window order)."""
    kept: set[str] = set()
    for window in KEEP_FIRST:
        room -= len(f" {window} ") + PCT_W
        if room < 0 and kept:
            break
        kept.add(window)
    parts: list[Part] = []
    for window in OI_WINDOWS:
        if window not in kept:
            continue
        change = oi.change_pct.get(window) if oi.change_pct else None
        style = None if change is None else ("pane--up" if change >= 0 else "pane--down")
        parts.append((f" {window} ", "pane--dim"))
        parts.append((fmt.pct(change).rjust(PCT_W), style))
    return parts


# What each regime word says happened over its window (any move counts: there is no threshold).
REGIME_MEANING = {
    word: f"price {'up' if price_up else 'down'}, OI {'up' if oi_up else 'down'}"
    for (price_up, oi_up), word in REGIMES.items()
}


def lookback_words(ms: int | None) -> str:
    """The span the low/high cover, rounded as a trader says it: 30d, 25h, 12m."""
    if ms is None:
        return ""
    if ms >= 48 * 3_600_000:
        return f"{round(ms / 86_400_000)}d"
    if ms >= 3_600_000:
        return f"{round(ms / 3_600_000)}h"
    return fmt.age(ms)


def vs_low_texts(oi: OIView, coin: str, span: str = "") -> list[str]:
    """ "+31.9 % from 93,600 BTC 30d low" (or from the high when that is all we know), then shorter
    forms for a narrow pane, longest first: the amount goes before the span."""
    for pct, amount, word in ((oi.vs_low_pct, oi.low, "low"), (oi.vs_high_pct, oi.high, "high")):
        if pct is not None and amount is not None:
            spanned = f"{span} {word}" if span else word
            return [
                f"{fmt.pct(pct)} from {fmt.coin(amount)} {coin} {spanned}",
                f"{fmt.pct(pct)} from {spanned}",
                fmt.pct(pct),
            ]
    return ["lookback low/high: —", "—"]


def regime_words(oi: OIView) -> str:
    """ "new shorts (1h)": the regime names the window it compares against."""
    return f"{oi.regime} ({oi.regime_window})" if oi.regime_window else str(oi.regime)


STALE_AFTER_MS = 120_000  # OI is polled every few seconds to a minute; older than this is called stale


# (coin, a row per venue and the "all" row, each row's age when stale, each row's lookback words)
_OISlice = tuple[str, tuple[OIView, ...], tuple[str | None, ...], tuple[str, ...]]


class OIPane(LinePane[_OISlice]):
    """Open interest per venue and in total, with its lookback range and regime."""

    PANE_TITLE = "Open interest"

    def displayed(self, view: SymbolView) -> _OISlice:
        # Ages only when old enough to matter, in whole minutes: a fresh pane does not repaint per tick.
        ages = tuple(
            fmt.age(view.now - oi.time)
            if oi.time is not None and view.now - oi.time >= STALE_AFTER_MS
            else None
            for oi in view.oi
        )
        spans = tuple(lookback_words(None if oi.since is None else view.now - oi.since) for oi in view.oi)
        return (fmt.base_coin(view.symbol), view.oi, ages, spans)

    def update_titles(self) -> None:
        coin, rows, _, _ = self._shown
        lead = next((r for r in rows if r.venue == "all" and r.regime), None)
        lead = lead or next((r for r in rows if r.regime), None)
        regime = f" · {regime_words(lead)}" if lead else ""
        self.fit_title(
            f"Open interest · {coin}{regime}",
            f"OI · {coin}{regime}",
            f"Open interest · {coin}",
            f"OI · {coin}",
        )

    def draw(self, width: int, height: int) -> list[list[Part]]:
        coin, rows, ages, spans = self._shown
        if not rows:
            return self.waiting_lines("open interest: waiting for data")
        lines: list[list[Part]] = []
        for oi, old, span in zip(rows, ages, spans, strict=True):
            lines.extend(self._venue_lines(oi, coin, width, old, span))
        return lines

    def _venue_lines(self, oi: OIView, coin: str, width: int, old: str | None, span: str) -> list[list[Part]]:
        is_total = oi.venue == "all"
        head: list[Part] = [(fmt.venue_tag(oi.venue).ljust(4), "pane--head")]
        if not is_total:
            head.append(((fmt.coin(oi.base) + f" {coin}").rjust(13), "pane--stale" if old else None))
        head.append((fmt.usd(oi.usd).rjust(9 if not is_total else 22), "pane--head" if is_total else None))
        stale = fmt.fitting([f" stale {old}", " stale"], width - 26) if old else ""
        wide = width >= 26 + CHANGES_W
        if wide:  # the windows make room for the stale mark, whole
            lines = [head + _change_parts(oi, width - 26 - len(stale))]
        else:  # under the amounts, indented by the windows' own space
            lines = [head, _change_parts(oi, width)]
        if stale:
            lines[0].append((stale, "pane--stale"))
        if is_total:
            if oi.regime:
                lines.append(self._regime_line(oi, width))
            return lines
        gauge_w = max(5, min(24, width // 4))
        gauge: list[Part] = [("    ", None), (range_gauge(oi.range_position, gauge_w), "pane--heat")]
        room = width - 5 - gauge_w
        against = fmt.fitting(vs_low_texts(oi, coin, span), room)
        gauge.append((" " + against, None))
        regime = f" · {regime_words(oi)}" if oi.regime else ""
        if regime and len(against) + len(regime) <= room:
            gauge.append((regime, "pane--dim"))
        lines.append(gauge)
        return lines

    @staticmethod
    def _regime_line(oi: OIView, width: int) -> list[Part]:
        """ "regime over 1h: new shorts (price -4.80 %, OI +1.10 %) · any move counts": what it compares and
        its threshold (none), narrowed by whole phrases."""
        window = f" over {oi.regime_window}" if oi.regime_window else ""
        head, meaning = f"    regime{window}: ", REGIME_MEANING.get(str(oi.regime), "")
        oi_pct = oi.change_pct.get(oi.regime_window or "")
        if oi.regime_price_pct is not None and oi_pct is not None:
            meaning = f"price {fmt.pct(oi.regime_price_pct, 2)}, OI {fmt.pct(oi_pct, 2)}"
        line: list[Part] = [(head, "pane--dim"), (str(oi.regime), "pane--head")]
        room = width - len(head) - len(str(oi.regime))
        for extra in (
            f" ({meaning}) · any move counts",
            f" ({meaning})",
            f" ({REGIME_MEANING.get(str(oi.regime), '')})",
        ):
            if len(extra) <= room:
                line.append((extra, "pane--dim"))
                break
        return line
