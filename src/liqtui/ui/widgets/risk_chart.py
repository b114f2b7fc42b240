"""The at-risk chart: cumulative ESTIMATED liquidations against price, and what a target price puts at risk.

Reads ``view.levels`` (rows of estimated long/short USD per price row, max pain, imbalance). Longs
liquidate below price, shorts above: the chart draws, from the current price outwards, how much
estimated notional a move to each price would liquidate, and a line reads the article's sentence
"$6.5B shorts at risk to 92,000 (+11.1 %)" for the ``target`` price.

The figure is the engine's ``at_risk`` over the view's frozen levels (the number ``liqtui risk`` and
the API give for the same data); the curves are drawn from the grid rows (``cumulative_curves``).
The chart is plotext rendered to text, coloured by side here (left of the price column longs,
right shorts), cached by (data, size).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import ClassVar

from textual.reactive import reactive

from liqtui.domain import format as fmt
from liqtui.domain.imports import import_frozen
from liqtui.engine.levels import at_risk
from liqtui.engine.views import IMBALANCE_BANDS_PCT, Cluster, LevelRow, LevelsView, SymbolView
from liqtui.ui.widgets.line_pane import LinePane, Part

CHART_SPAN = 0.30  # the chart shows price +-30 % (plus the target): where estimated levels matter
# chart_lines' arguments: the long and short curves, the price (the row's centre), target, width, height
ChartKey = tuple[
    tuple[tuple[float, float], ...], tuple[tuple[float, float], ...], float, float | None, int, int
]
# plotext's "hd" marker: quarter blocks draw in every terminal font (braille is often missing over SSH).
PLOT_GLYPHS = frozenset("▖▗▘▙▚▛▜▝▞▟▀▄▌▐█")


def cumulative_curves(
    rows: Sequence[LevelRow], price: float
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(longs, shorts): cumulative estimated USD from ``price`` outwards, as (row price, total so far)."""
    longs, shorts = [], []
    total = 0.0
    for row in sorted((r for r in rows if r.price < price and r.long_usd > 0), key=lambda r: -r.price):
        total += row.long_usd
        longs.append((row.price, total))
    total = 0.0
    for row in sorted((r for r in rows if r.price > price and r.short_usd > 0), key=lambda r: r.price):
        total += row.short_usd
        shorts.append((row.price, total))
    return longs, shorts


def at_risk_sentence(levels: LevelsView, price: float, target: float) -> str:
    """ "$6.5B shorts at risk to 92,000 (+11.1 %)"."""
    usd = at_risk(levels.level_books, price, target)
    move = (target - price) / price * 100
    return f"{fmt.usd(usd)} {'shorts' if target >= price else 'longs'} at risk to {fmt.price(target)} ({fmt.pct(move)})"


def at_risk_note(view: SymbolView, target: float) -> str:
    """The chart's sentence for a layout without the chart: "ESTIMATED: $6.5B shorts at risk to 92,000 (+11.1 %)"."""
    price = chart_price(view)
    if not price or not view.levels.rows:
        return "At risk: no ESTIMATED levels yet (needs OI history)"
    return f"ESTIMATED: {at_risk_sentence(view.levels, price, target)}"


def chart_price(view: SymbolView) -> float | None:
    return view.levels.price or view.market.last or view.market.mark


def _pain(cluster: Cluster | None, word: str) -> str:
    if cluster is None:
        return f"{word} —"
    return f"{word} {fmt.usd(cluster.usd)} at {fmt.price(cluster.price)} ({fmt.pct(cluster.distance_pct)})"


def _imbalance(levels: LevelsView, short: bool = False) -> str:
    parts = []
    for band in IMBALANCE_BANDS_PCT:
        value = levels.imbalance.get(band) if levels.imbalance else None
        parts.append(f"±{band:g} % {'—' if value is None else f'{value:+.2f}'}")
    return ("imb " if short else "imbalance (S−L)/(S+L): ") + "  ".join(parts)


@lru_cache(maxsize=32)
def chart_lines(
    longs: tuple[tuple[float, float], ...],
    shorts: tuple[tuple[float, float], ...],
    price: float,
    target: float | None,
    width: int,
    height: int,
) -> tuple[tuple[Part, ...], ...]:
    """The plotext chart as lines of parts, the curves coloured by side; cached by (data, size)."""
    try:
        raw = _plot(longs, shorts, price, target, width, height)
    except Exception:  # noqa: BLE001 - a plotting glitch at an odd size must not take the desk down
        return ((("chart unavailable at this size", "pane--dim"),),)
    price_col = raw[0].find("┬") if raw else -1
    return tuple(_colour_by_side(line[:width], price_col) for line in raw)


def _plot(longs, shorts, price: float, target: float | None, width: int, height: int) -> list[str]:
    import plotext  # 0.13 s to import: not at every start-up; the pane imports it beside the loop

    plotext.terminal.limit(False, False)  # the pane, not the real terminal, decides the size
    figure = plotext.figure
    figure.clear.all()
    figure.plot_size(width, height)
    figure.theme("colorless")
    figure.legend(False)
    low = min([p for p, _ in longs] + [price * (1 - CHART_SPAN / 3)] + ([target] if target else []))
    high = max([p for p, _ in shorts] + [price * (1 + CHART_SPAN / 3)] + ([target] if target else []))
    top = max([u for _, u in longs] + [u for _, u in shorts] + [1.0])
    for points in (longs, shorts):
        if points:
            # Start each curve at zero on the price so it reads as "from here".
            signal = figure.signal(
                [price] + [p for p, _ in points], [0.0] + [u for _, u in points], marker="hd"
            )
            signal.lines()
            figure.draw(signal)
    figure.line(price, orientation="vertical")
    ticks = sorted({low, price, high} | ({target} if target else set()))
    figure.ruler(0).ticks(ticks, [_short_price(t) for t in ticks])
    figure.ruler(0).lim(low, high)
    figure.ruler(1).ticks([0.0, top / 2, top], ["$0", fmt.usd(top / 2), fmt.usd(top)])
    figure.ruler(1).lim(0.0, top)
    return figure.build().string(colorless=True).rstrip().split("\n")


def _plotext_imported() -> bool:
    """plotext imported whole: a module being imported (in another thread) is in ``sys.modules``
    already, flagged by its spec until its code has run."""
    module = sys.modules.get("plotext")
    return module is not None and not getattr(module.__spec__, "_initializing", False)


def _colour_by_side(line: str, price_col: int) -> tuple[Part, ...]:
    """Curve cells left of the price column are longs, right of it shorts; the frame is dim."""
    parts: list[Part] = []
    run, run_style = "", None
    for col, char in enumerate(line):
        if char in PLOT_GLYPHS and price_col >= 0:
            style = "pane--long" if col < price_col else "pane--short"
        else:
            style = "pane--dim"
        if style != run_style and run:
            parts.append((run, run_style))
            run = ""
        run, run_style = run + char, style
    if run:
        parts.append((run, run_style))
    return tuple(parts)


def _short_price(value: float) -> str:
    return f"{value / 1000:.1f}k" if value >= 10_000 else fmt.price(value)


class RiskChartPane(LinePane[tuple[LevelsView, float | None, float | None]]):  # levels, price, target
    """Cumulative ESTIMATED liquidations vs price, at-risk to ``target``, max pain and imbalance."""

    PANE_TITLE = "At risk · ESTIMATED"

    target: reactive[float | None] = reactive(None)
    """A price to read "$X shorts/longs at risk to <target>" for; None shows the +-10 % moves."""

    _chart: tuple[ChartKey, tuple[tuple[Part, ...], ...]] | None = None  # the chart drawn, and its key
    _wanted: ChartKey | None = None  # the chart to plot next, in a turn of the loop of its own

    _importing = False  # plotext's import started (_importing_plotext)
    _plotext_failed: ClassVar[bool] = False  # plotext could not be imported: chart_lines says so

    def watch_target(self) -> None:
        self._settings_changed()

    def _importing_plotext(self) -> bool:
        """plotext takes ~0.13 s of CPU to import: beside the loop (on it, at the first chart, it
        stalled every key and frame for that long), and only once there is a chart to draw. Started
        at mount, it held the interpreter while a live desk started and applied its recording (the
        history came that much later); the chart draws when it is in. False: imported here, no loop."""
        if self._importing:
            return True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self._importing = True

        def load() -> None:
            with contextlib.suppress(Exception):  # a failed import: the chart says it is unavailable
                import_frozen("plotext")  # no collector's pass over it meanwhile
            with contextlib.suppress(RuntimeError):  # the desk has closed meanwhile
                loop.call_soon_threadsafe(self._plotext_in)

        threading.Thread(target=load, name="plotext-import", daemon=True).start()
        return True

    def _plotext_in(self) -> None:
        RiskChartPane._plotext_failed = not _plotext_imported()
        if self.is_mounted:
            self._redraw()

    def displayed(self, view: SymbolView) -> tuple[LevelsView, float | None, float | None]:
        return (view.levels, chart_price(view), self.target)

    def update_titles(self) -> None:
        levels = self._shown[0]
        venues = " ".join(fmt.venue_tag(v) for v in sorted(levels.venues, key=fmt.venue_sort_key))
        self.set_titles(f"At risk · ESTIMATED ({venues or 'no venue'})")

    def draw(self, width: int, height: int) -> list[list[Part]]:
        levels, price, target = self._shown
        if not price:
            return self.waiting_lines("at risk: waiting for a price")
        if not levels.rows:
            return self.waiting_lines("at risk: no ESTIMATED levels yet (needs OI history)")
        text = self._text_lines(levels, price, target, width)
        chart_h = height - len(text)
        lines: list[list[Part]] = []
        if chart_h >= 5 and width >= 24:
            lines.extend(self._chart_lines(levels, price, target, width, chart_h))
        return lines + text

    def _text_lines(
        self, levels: LevelsView, price: float, target: float | None, width: int
    ) -> list[list[Part]]:
        risk: list[list[Part]]
        if target:
            risk = [
                [
                    (
                        at_risk_sentence(levels, price, target),
                        "pane--short" if target >= price else "pane--long",
                    )
                ]
            ]
        else:
            risk = [
                [(at_risk_sentence(levels, price, price * 1.10), "pane--short")],
                [(at_risk_sentence(levels, price, price * 0.90), "pane--long")],
            ]
        short_pain, long_pain = _pain(levels.max_pain_short, "S"), _pain(levels.max_pain_long, "L")
        pain: list[list[Part]]
        if len(short_pain) + len(long_pain) + 12 <= width:
            pain = [
                [
                    ("max pain ", "pane--head"),
                    (short_pain, "pane--short"),
                    (" · ", None),
                    (long_pain, "pane--long"),
                ]
            ]
        else:
            pain = [[("max pain ", "pane--head"), (short_pain, "pane--short")],
                    [("max pain ", "pane--head"), (long_pain, "pane--long")]]  # fmt: skip
        return risk + pain + [[(_imbalance(levels, short=width < 60), "pane--dim")]]

    def _chart_lines(
        self, levels: LevelsView, price: float, target: float | None, width: int, height: int
    ) -> list[list[Part]]:
        # The curves only change when price crosses a row: key the chart on the current row's centre.
        if not (_plotext_imported() or self._plotext_failed) and self._importing_plotext():
            return [[] for _ in range(height)]  # for a moment, the first time: the text lines stand
        grid = levels.grid if levels.grid > 0 else price * 1e-4
        row_centre = (math.floor(price / grid + 1e-9) + 0.5) * grid
        in_span = [r for r in levels.rows if abs(r.price - price) <= price * CHART_SPAN]
        longs, shorts = cumulative_curves(in_span, row_centre)
        key = (tuple(longs), tuple(shorts), row_centre, target, width, height)
        drawn = self._chart
        if drawn is not None and drawn[0] != key and drawn[0][4] == width:
            # A new plot (plotext: 10-20 ms at 160x45, stress) waits for a turn of the loop of its own,
            # after the screen showed the rest: `g`'s "at risk to" sentence (the key's answer, one
            # line instead of the two +-10 % ones) and the frame's other panes do not wait for it; the
            # last chart stays until then, its top cut or padded to the height.
            if self._wanted is None:
                self.call_after_refresh(self._plot_wanted)
            self._wanted = key
            last = drawn[1][-height:]
            return [[] for _ in range(height - len(last))] + [list(line) for line in last]
        self._chart = (key, chart_lines(*key))
        return [list(line) for line in self._chart[1]]

    def _plot_wanted(self) -> None:
        key, self._wanted = self._wanted, None
        if key is not None and self.is_mounted:
            self._chart = (key, chart_lines(*key))
            self._redraw()
