"""The liquidation heatmap: ESTIMATED long and short levels through time, with the price path over them.

Each column is a time bucket of the engine's ``HeatmapView`` (newest on the right, the bucket as wide
as the range over the columns that fit), each half line a price row: ``▀`` with the upper row's
colour as foreground and the lower row's as background gives two rows per terminal line. A cell's
colour is the hue of the side with more USD there (longs and shorts from the theme's
``heatmap-long`` / ``heatmap-short``), its strength the USD on a linear or a log scale (3 decades
under the top; the legend gives the top's USD and the scale). The price's low..high of each column
is drawn over as ``│`` and realized liquidations as ``·`` ``•`` ``●`` (by size) in the side's colour.
The ANSI theme and NO_COLOR draw strength as shade characters (`` ░▒▓█``) instead of blended colours.

The vertical range is the price range of the window with a margin above and below (a quarter of it,
at least 0.5 % of the price), so the clusters price would run into next are in view; a row is at
least one engine row (the ladder's automatic step). When the ladder is zoomed (``zoom_step``: ``+`` /
``-``), a row is the ladder's step instead, centred on the latest price. ``venues`` (key ``v`` steps
through each venue; ``liqtui heatmap --venues`` sets several) shows those venues' levels instead of
every venue's sum; the title says which. Where tracked accounts' positions were seen (Hyperliquid),
``v`` also steps to their MEASURED levels (``measured``), shown instead of the estimate and titled
MEASURED; the price path and realized marks stay the venues'. The pane redraws only when the view it was given
changed (the engine hands back the same object otherwise), and then repaints only the changed lines.

Keys answer from columns already drawn: after a frame, the drawings `r` (the next range) and `]` (the
next symbol) would show are readied in steps of a few columns (summed by the engine, binned, drawn),
again every 2 s or when a key changed them, so the key draws only the columns changed since
(bench/README.md, the heatmap's keys). A frame row sums a slice of the engine's rows (its bounds
found once per frame), not each row.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rich.color import Color as RichColor
from rich.style import Style
from textual.reactive import reactive
from textual.timer import Timer

from liqtui.domain import format as fmt
from liqtui.domain.events import Side
from liqtui.engine.heatmap import RANGES, HeatColumn, HeatmapView, Rows, bucket_for
from liqtui.engine.views import SymbolView
from liqtui.ui.widgets.line_pane import LinePane, Part

RANGE_NAMES = tuple(RANGES)  # 12h 24h 3d 7d 30d
SCALES = ("log", "linear")
AXIS_W = 9  # " 102,350 " price labels on the right
STEPS = 8  # colour strengths above empty
LOG_DECADES = 3.0  # the log scale spans 3 decades under the top
SHADES = " ░▒▓█"
MARGIN = 0.25  # of the window's price range, above and below it
MIN_MARGIN = 0.005  # of the price

# symbol, matrix, range, scale, shade characters, the zoomed step (None: the window's range)
_Slice = tuple[str, HeatmapView | None, str, str, bool, float | None]
# symbol, now, range ms, column ms, venues (None: all), MEASURED levels instead of the estimate, and a
# budget: None until at most that many columns a call were summed (Engine.heatmap)
HeatSource = Callable[[str, int, int, int, tuple[str, ...] | None, bool, int | None], HeatmapView | None]
SHOWN = "shown"  # the drawing on screen, beside the ones readied ahead of a key ((symbol, range))
PREPARE_EVERY_S = 2.0  # the next range's and the next symbol's drawings are readied again this often
PREPARE_STEP_S = 0.02  # between two steps of readying (a key or a frame can run in between)
PREPARE_BUDGET = 30  # columns summed, binned or drawn per step and target (a few ms)
PREPARE_STEPS = 40  # steps per readying at most (a symbol with no price yet is never ready)


@dataclass(frozen=True, slots=True)
class _Drawn:
    """One column's drawing: its rows in the frame and, once drawn in ``looks``, its glyphs per line
    (plain and with the realized mark)."""

    col: HeatColumn
    frame: Frame
    bins: list[tuple[float, float]] | None
    looks: tuple[object, ...] | None = None
    glyphs: list[tuple[tuple[str, str], tuple[str, str]]] | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    """The price rows shown: row r (0 at the bottom) covers [lo + r x step, lo + (r + 1) x step)."""

    lo: float
    step: float
    rows: int  # two per terminal line

    def row_of(self, price: float) -> int | None:
        r = math.floor((price - self.lo) / self.step)
        return r if 0 <= r < self.rows else None


def frame_for(
    view: HeatmapView, columns: tuple[HeatColumn, ...], rows: int, zoom_step: float | None = None
) -> Frame | None:
    """The window's price range plus its margin, in ``rows`` rows of at least the engine's grid; with
    ``zoom_step`` (the ladder zoomed), rows of that step (at least the grid) around the latest price."""
    lows = [c.low for c in columns if c.low is not None]
    highs = [c.high for c in columns if c.high is not None]
    if not lows or not highs or rows <= 0:
        return None
    if zoom_step is not None:
        step = max(zoom_step, view.grid)
        mid = round((lows[-1] + highs[-1]) / 2 / step) * step  # the latest column's middle, on the step
        return Frame(mid - step * (rows // 2), step, rows)
    lo, hi = min(lows), max(highs)
    margin = max((hi - lo) * MARGIN, hi * MIN_MARGIN)
    lo, hi = lo - margin, hi + margin
    step = max((hi - lo) / rows, view.grid)
    mid = (lo + hi) / 2
    return Frame(mid - step * rows / 2, step, rows)


def bin_column(col: HeatColumn, grid: float, frame: Frame) -> list[tuple[float, float]] | None:
    """(long USD, short USD) per frame row of one column; None when the column is unknown."""
    if col.longs is None or col.shorts is None:
        return None
    return list(zip(_bin_side(col.longs, grid, frame), _bin_side(col.shorts, grid, frame), strict=True))


def _bin_side(rows: Rows, grid: float, frame: Frame) -> list[float]:
    """USD per frame row of one side: each frame row sums one slice of the grid rows (its bounds)."""
    out = [0.0] * frame.rows
    if not isinstance(rows, Rows):  # a hand-built column's (row, USD) pairs
        rows = Rows.of_pairs(rows)
    usd, first = rows.usd, rows.first
    n = len(usd)
    bounds = _bounds(grid, frame)
    for r in range(max(0, bisect_right(bounds, first) - 1), frame.rows):
        a, b = max(bounds[r] - first, 0), min(bounds[r + 1] - first, n)
        if a >= n:
            break
        if b > a:
            out[r] = sum(usd[a:b], 0.0)  # in row order, as adding them one by one
    return out


@lru_cache(maxsize=16)
def _bounds(grid: float, frame: Frame) -> list[int]:
    """Per frame row r (and ``frame.rows``), the first grid row i with ``frame.row_of((i + 0.5) x grid)``
    at r or above: a rising function of i, estimated, then settled by row_of's own arithmetic."""

    def row(i: int) -> int:
        return math.floor(((i + 0.5) * grid - frame.lo) / frame.step)

    out = []
    for r in range(frame.rows + 1):
        i = math.ceil((frame.lo + r * frame.step) / grid - 0.5)
        while row(i - 1) >= r:
            i -= 1
        while row(i) < r:
            i += 1
        out.append(i)
    return out


def strength(usd: float, top: float, scale: str) -> int:
    """0 (nothing) .. STEPS (the top) on the scale."""
    if usd <= 0.0 or top <= 0.0:
        return 0
    if scale == "linear":
        t = usd / top
    else:
        t = 1.0 + math.log10(usd / top) / LOG_DECADES
    return max(1, min(STEPS, math.ceil(t * STEPS))) if t > 0 else 0


class HeatmapPane(LinePane[_Slice]):
    """ESTIMATED liquidation levels through time (issue 10): range ``r``, scale ``s``."""

    PANE_TITLE = "Heatmap · ESTIMATED"
    COMPONENT_CLASSES = LinePane.COMPONENT_CLASSES | {"heatmap--long", "heatmap--short", "heatmap--price"}
    DEFAULT_CSS = """
    HeatmapPane > .heatmap--long { color: $heatmap-long; }
    HeatmapPane > .heatmap--short { color: $heatmap-short; }
    HeatmapPane > .heatmap--price { color: $heatmap-price; text-style: bold; }
    """

    range_name: reactive[str] = reactive("24h")
    scale: reactive[str] = reactive("log")

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.source: HeatSource | None = None  # the app gives the engine's heatmap
        self.zoom_step: float | None = None  # the ladder's step when zoomed (the app sets it)
        self.venues: tuple[str, ...] | None = None  # the venues summed; None: every venue
        self.measured = False  # tracked accounts' MEASURED levels instead of the estimate
        self._cell_styles: dict[tuple[object, ...], Style] = {}
        # what is drawn (SHOWN) or readied ahead of a key ((symbol, range)): column id -> its drawing
        self._kept: dict[object, dict[int, _Drawn]] = {}
        self.neighbour: Callable[[], str | None] | None = None  # the symbol `]` would show (the app's)
        self._prepare_timer: Timer | None = None
        self._prepared: tuple[float, list[tuple[str, str]]] = (-math.inf, [])  # when, which targets

    def watch_range_name(self) -> None:
        self._settings_changed()

    def watch_scale(self) -> None:
        self._settings_changed()

    def cycle_range(self) -> str:
        self.range_name = RANGE_NAMES[(RANGE_NAMES.index(self.range_name) + 1) % len(RANGE_NAMES)]
        return self.range_name

    def toggle_scale(self) -> str:
        self.scale = SCALES[(SCALES.index(self.scale) + 1) % len(SCALES)]
        return self.scale

    def cycle_venue(self, venues: list[str], measured: bool = False) -> str:
        """The next of: all venues, each of ``venues`` (those with levels) alone, the MEASURED levels
        (when ``measured``: tracked positions exist), back to all. Says what is shown now."""
        order: list[tuple[tuple[str, ...] | None, bool]] = [(None, False), *(((v,), False) for v in venues)]
        if measured:
            order.append((None, True))
        now = (self.venues, self.measured)
        at = order.index(now) if now in order else 0
        self.venues, self.measured = order[(at + 1) % len(order)]
        self._settings_changed()
        if self.measured:
            return "MEASURED levels of tracked accounts"
        return f"{fmt.venue_name(self.venues[0])} only" if self.venues else "all venues"

    # --- the slice ---------------------------------------------------------------------------------

    def heat_view(self, symbol: str, now_ms: int) -> HeatmapView | None:
        if self.source is None:
            return None
        range_ms = RANGES[self.range_name]
        bucket_ms = bucket_for(range_ms, self.chart_width())
        return self.source(symbol, now_ms, range_ms, bucket_ms, self.venues, self.measured, None)

    # --- readied ahead of a key ---------------------------------------------------------------------

    def show(self, view: SymbolView) -> None:
        super().show(view)
        when, targets = self._prepared
        due = time.monotonic() - when >= PREPARE_EVERY_S or targets != self._targets(view.symbol)
        if self._prepare_timer is None and due:  # a key changed the targets: ready the new ones now
            self._prepare_timer = self.set_timer(PREPARE_STEP_S, lambda: self._prepare_step(PREPARE_STEPS))

    def _prepare_step(self, steps_left: int) -> None:
        """Ready the drawings `r` (the next range) and `]` (the next symbol) would show, a few
        columns a step, so those keys draw from columns already summed and drawn."""
        self._prepare_timer = None
        view = self._view
        if view is None or self.source is None or not self.is_mounted or not self.display:
            return  # hidden (h swapped the ladder back): readied again once shown
        targets = self._targets(view.symbol)
        self._kept = {k: v for k, v in self._kept.items() if k == SHOWN or k in targets}
        ready = all([self._prepare(view.now, *target) for target in targets])
        if ready or steps_left <= 1:
            self._prepared = (time.monotonic(), targets)
        else:
            self._prepare_timer = self.set_timer(PREPARE_STEP_S, lambda: self._prepare_step(steps_left - 1))

    def _targets(self, symbol: str) -> list[tuple[str, str]]:
        """(symbol, range) of the next range and of the next symbol."""
        range_next = RANGE_NAMES[(RANGE_NAMES.index(self.range_name) + 1) % len(RANGE_NAMES)]
        targets = [(symbol, range_next)]
        neighbour = self.neighbour() if self.neighbour is not None else None
        if neighbour is not None and neighbour != symbol:
            targets.append((neighbour, self.range_name))
        return targets

    def _prepare(self, now_ms: int, symbol: str, range_name: str) -> bool:
        """One step of readying ``symbol`` over ``range_name``: True once every column is drawn."""
        assert self.source is not None
        range_ms = RANGES[range_name]
        chart_w, lines = self.size.width - AXIS_W, self.size.height - 1
        bucket_ms = bucket_for(range_ms, self.chart_width())
        heat = self.source(symbol, now_ms, range_ms, bucket_ms, self.venues, self.measured, PREPARE_BUDGET)
        if heat is None or chart_w < 8 or lines < 3:
            return heat is not None
        columns = heat.columns[-chart_w:]
        frame = frame_for(heat, columns, 2 * lines, self.zoom_step)
        if frame is None:
            return True
        target = (symbol, range_name)
        laid = self._lay_out(
            target, heat, columns, frame, self.scale, self._shade_mode(), lines, PREPARE_BUDGET
        )
        return laid is not None

    def chart_width(self) -> int:
        return max(1, self.size.width - AXIS_W)

    def displayed(self, view: SymbolView) -> _Slice:
        return (
            view.symbol,
            self.heat_view(view.symbol, view.now),
            self.range_name,
            self.scale,
            self._shade_mode(),
            self.zoom_step,
        )

    def update_titles(self) -> None:
        symbol, heat, range_name, scale, _shade, zoom = self._shown
        coin = fmt.base_coin(symbol)
        if self.venues is not None:
            venues = f" · {'+'.join(fmt.venue_name(v) for v in self.venues)} only"
        else:
            venues = f" · {len(heat.venues)} venues" if heat is not None and len(heat.venues) > 1 else ""
        step = f" · step {fmt.price(zoom)}" if zoom is not None else ""
        only = venues if self.venues is not None else ""
        if heat is not None and heat.measured:
            since = f" since {fmt.hhmmss(heat.since)[:5]}" if heat.since is not None else ""
            kind, short, venues, only = "MEASURED", "MEAS.", f" · tracked accounts{since}", ""
        else:
            kind, short = "ESTIMATED", "EST."
        self.fit_title(
            f"Heatmap · {coin} · {kind} · {range_name} · {scale}{venues}{step}",
            f"Heatmap · {coin} · {kind} · {range_name} · {scale}{only}{step}",
            f"Heatmap · {coin} · {short} · {range_name} · {scale}{only}{step}",
            f"{coin} · {short} · {range_name}{only}{step}",
            f"{coin} · {short} · {range_name}",
        )

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cell_styles = {}

    def _shade_mode(self) -> bool:
        """Strength as shade characters: the ANSI theme (no colours to blend) and NO_COLOR."""
        app = self.app
        return bool(app.no_color or app.current_theme.ansi)

    # --- drawing -----------------------------------------------------------------------------------

    def draw(self, width: int, height: int) -> list[list[Part]]:
        _symbol, heat, _range, scale, shade, zoom = self._shown
        if heat is None:
            return self.waiting_lines("waiting for prices")
        chart_w, lines = width - AXIS_W, height - 1
        if chart_w < 8 or lines < 3:
            return self.waiting_lines("too small for the heatmap")
        columns = heat.columns[-chart_w:]
        frame = frame_for(heat, columns, 2 * lines, zoom)
        if frame is None:
            return self.waiting_lines("waiting for prices")
        laid = self._lay_out(SHOWN, heat, columns, frame, scale, shade, lines)
        assert laid is not None  # no budget: every column is drawn
        drawn, top = laid
        grid_lines = self._cells([drawn[id(col)] for col in columns], lines, chart_w)
        out: list[list[Part]] = []
        decimals = fmt.price_decimals(frame.lo + frame.step * frame.rows)
        for y, cells in enumerate(grid_lines):
            label = ""
            if y % 4 == 0 or y == lines - 1:
                label = fmt.price(frame.lo + frame.step * (frame.rows - 2 * y - 1), decimals)
            out.append([*cells, (f" {label}".ljust(AXIS_W)[:AXIS_W], "pane--dim")])
        out.append(self._legend(heat, top, scale, width))
        return out

    def _lay_out(
        self,
        target: object,
        heat: HeatmapView,
        columns: tuple[HeatColumn, ...],
        frame: Frame,
        scale: str,
        shade: bool,
        lines: int,
        budget: int | None = None,
    ) -> tuple[dict[int, _Drawn], float] | None:
        """Each column's rows in the frame and glyphs, kept for ``target`` (SHOWN or a readied key's):
        a column drawn before in the same looks (for any target) is not drawn again, so a tick draws
        one column, and a key whose columns were readied draws none. With ``budget``, at most that
        many columns are binned or drawn; None when more were needed (what was done is kept)."""
        kept = list(self._kept.values())
        out: dict[int, _Drawn] = {}
        self._kept[target] = out
        work = 0
        for col in columns:
            done = next((c[id(col)] for c in kept if id(col) in c and c[id(col)].col is col), None)
            if done is None or done.frame != frame:
                if budget is not None and work >= budget:
                    return None
                done, work = _Drawn(col, frame, bin_column(col, heat.grid, frame)), work + 1
            out[id(col)] = done
        top = max((lg + sh for d in out.values() if d.bins for lg, sh in d.bins), default=0.0)
        big = max((usd for col in columns for _r, _s, usd in col.realized), default=0.0)
        looks = (frame, top, scale, shade, big, heat.grid, lines)
        for key, done in out.items():
            if done.looks != looks:
                if budget is not None and work >= budget:
                    return None
                glyphs = self._column_glyphs(done.col, done.bins, looks)
                out[key], work = _Drawn(done.col, frame, done.bins, looks, glyphs), work + 1
        return out, top

    @staticmethod
    def _cells(drawn: list[_Drawn], lines: int, width: int) -> list[list[Part]]:
        """One list of parts per line: each column's glyphs with the price path and marks over them,
        the columns spread over ``width`` cells (a column as wide as its share; its mark on its first cell)."""
        grid: list[list[tuple[str, str]]] = [[] for _ in range(lines)]
        n = len(drawn)
        spans = [0] * n
        for x in range(width if n else 0):
            spans[x * n // width] += 1
        for done, span in zip(drawn, spans, strict=True):
            if span:
                for y, (plain, marked) in enumerate(done.glyphs or ()):
                    grid[y].append(marked)
                    grid[y].extend([plain] * (span - 1))
        return [_merge(row) for row in grid]

    def _column_glyphs(
        self, col: HeatColumn, cells: list[tuple[float, float]] | None, looks: tuple[object, ...]
    ) -> list[tuple[tuple[str, str], tuple[str, str]]]:
        """Per line, a column's (glyph, style key) and the same with its realized mark, if any (drawn
        again only when the column or the frame, scale or top changed: a tick redraws one column)."""
        frame, top, scale, shade, big, grid_size, lines = looks
        assert isinstance(frame, Frame) and isinstance(top, float) and isinstance(scale, str)
        assert isinstance(big, float) and isinstance(grid_size, float) and isinstance(lines, int)
        path = self._path_lines(col, frame)
        marks = self._marks(col, grid_size, frame, big)
        out = []
        for y in range(lines):
            upper = cells[frame.rows - 1 - 2 * y] if cells else None
            lower = cells[frame.rows - 2 - 2 * y] if cells else None
            glyph, key = self._cell(upper, lower, top, scale, bool(shade))
            plain = ("│", f"{key}|price") if y in path else (glyph, key)
            out.append((plain, (marks[y][0], f"{key}|{marks[y][1]}") if y in marks else plain))
        return out

    @staticmethod
    def _path_lines(col: HeatColumn, frame: Frame) -> set[int]:
        if col.low is None or col.high is None:
            return set()
        lo = math.floor((col.low - frame.lo) / frame.step)
        hi = math.floor((col.high - frame.lo) / frame.step)
        lo, hi = max(lo, 0), min(hi, frame.rows - 1)
        return {(frame.rows - 1 - r) // 2 for r in range(lo, hi + 1)} if lo <= hi else set()

    @staticmethod
    def _marks(col: HeatColumn, grid: float, frame: Frame, big: float) -> dict[int, tuple[str, str]]:
        """Line -> (glyph, side) of the largest realized liquidation there, sized against the window's largest."""
        marks: dict[int, tuple[str, str]] = {}
        best: dict[int, float] = {}
        for row, side, usd in col.realized:
            r = frame.row_of((row + 0.5) * grid)
            if r is None:
                continue
            y = (frame.rows - 1 - r) // 2
            if usd <= best.get(y, 0.0):
                continue
            best[y] = usd
            glyph = "●" if usd >= big / 2 else ("•" if usd >= big / 10 else "·")
            marks[y] = (glyph, "long" if side is Side.LONG else "short")
        return marks

    def _cell(
        self,
        upper: tuple[float, float] | None,
        lower: tuple[float, float] | None,
        top: float,
        scale: str,
        shade: bool,
    ) -> tuple[str, str]:
        """(glyph, style key) of one cell from its two rows."""
        if upper is None or lower is None:
            return " ", "none"
        (ul, us), (ll, ls) = upper, lower
        if shade:
            total = max(ul + us, ll + ls)
            side = "long" if ul + ll >= us + ls else "short"
            k = strength(total, top, scale)
            return SHADES[math.ceil(k * (len(SHADES) - 1) / STEPS)], f"shade:{side}"
        ku, kl = strength(ul + us, top, scale), strength(ll + ls, top, scale)
        su = "long" if ul >= us else "short"
        sl = "long" if ll >= ls else "short"
        if not ku and not kl:
            return " ", "none"
        return "▀", f"{su}{ku}:{sl}{kl}"

    def _legend(self, heat: HeatmapView, top: float, scale: str, width: int) -> list[Part]:
        parts: list[Part] = [
            ("▀", "heatmap--long"),
            (" longs ", "pane--dim"),
            ("▀", "heatmap--short"),
            (" shorts ", "pane--dim"),
            ("│", "heatmap--price"),
            (" price ", "pane--dim"),
            ("●", "pane--big"),
            (" realized ", "pane--dim"),
        ]
        kind = "MEASURED" if heat.measured else "ESTIMATED"
        scale_text = f"top {fmt.usd(top)} ({scale})" if top > 0 else f"no {kind} levels yet"
        used = sum(len(t) for t, _c in parts)
        if used + len(scale_text) + 3 > width:
            parts = parts[:4]
        return [*parts, ("· ", "pane--dim"), (scale_text, None)]

    # --- styles ------------------------------------------------------------------------------------

    def style_of(self, component: str | None) -> Style:
        if component is None or component.startswith(("pane--", "heatmap--")):
            return super().style_of(component)
        style = self._cell_styles.get((component,))
        if style is None:
            style = self._cell_styles[(component,)] = self._compose_style(component)
        return style

    def _compose_style(self, key: str) -> Style:
        base = super().style_of(None)
        cell, _bar, over = key.partition("|")
        if cell == "none":
            style = base
        elif cell.startswith("shade:"):
            style = base + Style(color=super().style_of(f"heatmap--{cell[6:]}").color)
        else:
            upper, lower = cell.split(":")
            style = base + Style(color=self._blend(upper), bgcolor=self._blend(lower))
        if over == "price":
            style += Style(color=super().style_of("heatmap--price").color, bold=True)
        elif over:
            style += Style(color=super().style_of(f"pane--{over}").color, bold=True)
        return style

    def _blend(self, side_step: str) -> RichColor | None:
        """The pane's background blended toward the side's hue by the step (0: the background)."""
        side, k = side_step.rstrip("0123456789"), int(side_step.lstrip("longshrt"))
        back = super().style_of(None).bgcolor
        hue = super().style_of(f"heatmap--{side}").color
        if back is None or hue is None:
            return hue if k else back
        b, h = back.get_truecolor(), hue.get_truecolor()
        t = (k / STEPS) ** 0.8
        return RichColor.from_rgb(*(round(bc + (hc - bc) * t) for bc, hc in zip(b, h, strict=True)))


def _merge(row: list[tuple[str, str]]) -> list[Part]:
    """Adjacent cells of one style as one part (fewer segments, fewer bytes to the terminal)."""
    out: list[Part] = []
    text, key = "", None
    for glyph, k in row:
        if k == key:
            text += glyph
            continue
        if text:
            out.append((text, key))
        text, key = glyph, k
    if text:
        out.append((text, key))
    return out
