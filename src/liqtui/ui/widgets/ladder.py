"""The price ladder: one row per price step, book depth and ESTIMATED liquidation heat side by side.

Reads ``view.book`` (bids/asks summed across venues into rows of ``grid``) and ``view.levels``
(estimated long/short liquidation USD per row, what sweeps consumed and what the tape realized there).
Highest price on top. Columns, mirrored around the price::

    EST LONG liq | bid depth  bid size | PRICE | ask size  ask depth | EST SHORT liq | HL MEAS | note

Where a venue's positions are public (Hyperliquid) the MEAS column gives the USD of its tracked
accounts' positions liquidated in each row (``view.measured``), never added to the ESTIMATED
columns, and the last line says what the measurement covers (the coverage line).

Line API: only visible rows are drawn, each row's drawn Strip is kept in an LRU keyed on what the
row shows (texts, bar lengths, flags, width), and ``show`` refreshes only the lines whose key changed,
so a tick where 4 rows move repaints 4 lines.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field, replace

from textual.binding import Binding
from textual.cache import LRUCache
from textual.events import MouseScrollDown, MouseScrollUp
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip

from liqtui.domain import format as fmt
from liqtui.domain.events import Side
from liqtui.engine.positions import level_rows
from liqtui.engine.views import BookView, LevelsView, MeasuredView, SymbolView
from liqtui.ui.widgets.bars import bar_left, bar_right, eighths
from liqtui.ui.widgets.line_pane import _NOTHING, KeptLines, LinePane, Part
from liqtui.ui.widgets.measured import coverage_texts, measured_cell

CLUSTERS_PER_SIDE = 3  # rows marked with their USD, per side
MAX_HEAT_W = 28  # cells; wider bars add nothing a trader reads
MAX_DEPTH_W = 16
NOTE_MIN_W = 12  # "swept $54.9M", "  S $54.9M": a narrower note would have to drop the amount
NOTE_W = 20  # "swept $54.9M no tape", "swept $450M real $0": the note takes this before bars grow
NOTE_MAX_W = 26  # "swept L $450M, real $30.0M"
MAX_ROWS = 200_000  # a sanity bound on the ladder's height (a bad grid must not freeze the desk)
MEAS_W = 9  # " LS $1.6M": the MEASURED column, taken before the note when the width allows
_Measured = dict[int, tuple[float, float]]  # k -> MEASURED (long USD, short USD)


@dataclass(slots=True)
class _HeatRow:
    """ESTIMATED levels summed into one ladder row."""

    long_usd: float = 0.0
    short_usd: float = 0.0
    swept_long_usd: float = 0.0
    swept_short_usd: float = 0.0
    realized_usd: float | None = None  # None: the tape watched none of the sweeps here
    taped_swept_usd: float = 0.0  # what realized compares with: the estimate of the watched sweeps


_NO_HEAT = _HeatRow()


@dataclass(slots=True)
class _Heat:
    """What view.levels puts on the ladder. Levels move at the OI-sampling pace, the book every tick,
    so this part is rebuilt only when the levels change (2,500 rows cost ~15 ms to re-sum)."""

    levels: LevelsView
    grid: float
    rows: dict[int, _HeatRow] = field(default_factory=dict)
    heat_max: float = 0.0
    clusters: dict[int, str] = field(default_factory=dict)  # k -> "L" / "S" / "LS"


@dataclass(slots=True)
class _Ladder:
    """Ladder rows keyed by k (row price = k x grid), plus what scales the bars."""

    grid: float
    decimals: int
    price: float | None
    current_k: int | None
    top_k: int
    bottom_k: int
    heat: _Heat
    book: dict[int, tuple[float, float]] = field(default_factory=dict)  # k -> (bid size, ask size)
    depth_max: float = 0.0
    measured: _Measured | None = None  # None: no venue of the symbol publishes positions

    @property
    def row_count(self) -> int:
        return self.top_k - self.bottom_k + 1


@dataclass(frozen=True, slots=True)
class _Columns:
    heat: int
    size: int
    depth: int
    price: int
    note: int
    pad: int = 0
    meas: int = 0


def _row_k(price: float, grid: float) -> int:
    # Row k covers [k x grid, (k + 1) x grid); the epsilon keeps 82,800 in row 8,280 despite float noise.
    return math.floor(price / grid + 1e-9)


def _cells(strip: Strip) -> list[tuple[str, object]]:
    """A drawn line as (character, style) per cell; ladder text is single-width (digits, bars, arrows)."""
    return [(char, segment.style) for segment in strip for char in segment.text]


def _heat_notes(row: _HeatRow, marked: bool, alerted: bool = False) -> tuple[str, ...]:
    """A row's ESTIMATED USD per side, longest first; a narrower one keeps the larger side."""
    sides = [(side, usd) for side, usd in (("L", row.long_usd), ("S", row.short_usd)) if usd > 0]
    if not sides:
        return ()
    lead = "◆ " if marked else "  "  # ◆: one of the side's largest clusters
    if alerted:  # !: a cluster_near alert is on this row
        lead = "!◆ " if marked else "! "
    both = " ".join(f"{side} {fmt.usd(usd)}" for side, usd in sides)
    side, usd = max(sides, key=lambda pair: pair[1])
    short = f"{side} {fmt.usd(usd)}"
    return (lead + both, lead + short, ("!" if alerted else "") + short, fmt.usd(usd))


def _swept_notes(row: _HeatRow, swept: float) -> tuple[str, ...]:
    """A swept row's notes, preferred first; every one says "swept". The tape's figure outlasts the
    estimate, which the bar shows: "no tape" when the tape watched none of the sweeps here, and
    "real $68 of $40.0k" when it watched only some (the realized USD compares with their estimate)."""
    side = "L" if row.swept_long_usd >= row.swept_short_usd else "S"
    estimate = fmt.usd(swept)
    if row.realized_usd is None or row.taped_swept_usd <= 0:
        real = "no tape"
    elif row.taped_swept_usd < swept * 0.999:
        real = f"real {fmt.usd(row.realized_usd)} of {fmt.usd(row.taped_swept_usd)}"
    else:
        real = f"real {fmt.usd(row.realized_usd)}"
    return (
        f"swept {side} {estimate}, {real}",
        f"swept {estimate} {real}",
        f"swept, {real}",
        f"swept {side} {estimate}",
        f"swept {estimate}",
        "swept",
    )


def build_heat(levels: LevelsView, grid: float) -> _Heat:
    """Sum the ESTIMATED levels into ladder rows, scale them, and mark the largest clusters per side."""
    heat = _Heat(levels=levels, grid=grid)
    rows = heat.rows
    for level in levels.rows:
        row = rows.get(k := _row_k(level.price, grid))
        if row is None:
            row = rows[k] = _HeatRow()
        row.long_usd += level.long_usd
        row.short_usd += level.short_usd
        row.swept_long_usd += level.swept_long_usd
        row.swept_short_usd += level.swept_short_usd
        if level.realized_usd is not None:
            row.realized_usd = (row.realized_usd or 0.0) + level.realized_usd
        row.taped_swept_usd += level.taped_swept_usd
    heat.heat_max = max(
        (max(r.long_usd, r.short_usd, r.swept_long_usd, r.swept_short_usd) for r in rows.values()),
        default=0.0,
    )
    for side, attr in (("L", "long_usd"), ("S", "short_usd")):
        largest = heapq.nlargest(
            CLUSTERS_PER_SIDE, ((getattr(r, attr), k) for k, r in rows.items() if getattr(r, attr) > 0)
        )
        for _, k in largest:
            heat.clusters[k] = heat.clusters.get(k, "") + side
    return heat


def build_ladder(view: SymbolView, padding: int, heat: _Heat | None = None) -> _Ladder | None:
    """Merge the book with the (possibly cached) heat rows; None when there is nothing to show yet."""
    grid = view.levels.grid or view.book.grid
    if not grid or grid <= 0 or not math.isfinite(grid):
        return None
    if heat is None or heat.grid != grid or heat.levels.rows is not view.levels.rows:
        heat = build_heat(view.levels, grid)
    elif heat.levels is not view.levels:  # the same rows (the engine keeps a table until it changes):
        heat = replace(heat, levels=view.levels)  # the same sums; the titles read the new view's venues
    price = view.levels.price or view.market.last or view.market.mark
    book: dict[int, tuple[float, float]] = {}
    for book_price, amount in view.book.bids:
        bid, ask = book.get(k := _row_k(book_price, grid), (0.0, 0.0))
        book[k] = (bid + amount, ask)
    for book_price, amount in view.book.asks:
        bid, ask = book.get(k := _row_k(book_price, grid), (0.0, 0.0))
        book[k] = (bid, ask + amount)
    current_k = _row_k(price, grid) if price else None
    ks = [k for k in (min(heat.rows, default=None), max(heat.rows, default=None), current_k) if k is not None]
    ks += [min(book), max(book)] if book else []
    if not ks:
        return None
    top_k, bottom_k = max(ks) + padding, min(ks) - padding
    if top_k - bottom_k + 1 > MAX_ROWS:
        centre = current_k if current_k is not None else (top_k + bottom_k) // 2
        top_k, bottom_k = centre + MAX_ROWS // 2, centre - MAX_ROWS // 2
    return _Ladder(
        grid=grid,
        decimals=fmt.step_decimals(grid),
        price=price,
        current_k=current_k,
        top_k=top_k,
        bottom_k=bottom_k,
        heat=heat,
        book=book,
        depth_max=max((max(pair) for pair in book.values()), default=0.0),
    )


def measured_rows(measured: MeasuredView, grid: float) -> _Measured:
    """The tracked positions' USD per ladder row and side."""
    rows = level_rows(measured.positions, grid)
    longs, shorts = rows[Side.LONG], rows[Side.SHORT]
    return {k: (longs.get(k, 0.0), shorts.get(k, 0.0)) for k in longs.keys() | shorts.keys()}


_Shown = tuple[BookView, LevelsView, float | None, MeasuredView | None]  # book, levels, price, measured


class LadderPane(LinePane[_Shown]):
    """Price ladder with bid/ask depth and ESTIMATED liquidation heat per row; centred on price when following."""

    can_focus = True

    BINDINGS = [
        Binding("up", "scroll_rows(-1)", "Up", show=False),
        Binding("down", "scroll_rows(1)", "Down", show=False),
        Binding("pageup", "scroll_rows(-10)", "Page up", show=False),
        Binding("pagedown", "scroll_rows(10)", "Page down", show=False),
        Binding("home", "follow_price", "Centre on price", show=False),
    ]

    PANE_TITLE = "Ladder · liquidations ESTIMATED"

    follow: reactive[bool] = reactive(True)
    """Keep the current price row centred; scrolling by hand turns it off, `home` turns it back on."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._ladder: _Ladder | None = None
        self._top_line = 0  # ladder line shown on the first body row
        self._line_keys: list[tuple] = []
        self._keys_fit = False  # while Textual asks for lines: the keys above are the pane's (render_lines)
        self._row_cache: LRUCache[tuple, Strip] = LRUCache(2048)
        self._styles_cache = KeptLines(2048)  # each kept row as Textual styled it, found again with it
        self._cols_key: tuple = ()
        self._cols = _Columns(0, 0, 0, 0, 0)
        self._alert_prices: frozenset[float] = frozenset()  # rows a cluster_near alert is on
        self._alert_ks: frozenset[int] = frozenset()
        # (symbol, grid, positions version) -> MEASURED rows: positions change far less often than the book
        self._measured_key: tuple = ()
        self._measured_rows: _Measured = {}
        # A view the next show may bring (the picker's match, the next symbol after `]`), its rows built
        self._prepared: tuple[SymbolView, int, _Ladder | None] | None = None

    # --- data in --------------------------------------------------------------------------------

    def displayed(self, view: SymbolView) -> _Shown:
        return (
            view.book,
            view.levels,
            view.levels.price or view.market.last or view.market.mark,
            view.measured,
        )

    def show(self, view: SymbolView) -> None:
        self._view = view
        shown = self.displayed(view)
        if shown == self._shown:
            return
        self._shown = shown
        self._rebuild()

    def prepare(self, view: SymbolView | None) -> None:
        """Build the rows of ``view`` now (its book merged, its heat summed), for a ``show`` of that same
        view to come (the picker's highlighted match, or the next symbol along the watchlist after `]`
        or `[`), which then swaps them in. None: drop them."""
        if view is None:
            self._prepared = None
            return
        padding = max(20, self.size.height)
        self._prepared = (view, padding, build_ladder(view, padding=padding))

    def mark_alert_prices(self, prices: frozenset[float]) -> None:
        """The rows holding these prices carry "!" in their note: a cluster_near alert is on them."""
        if prices == self._alert_prices:
            return
        self._alert_prices = prices
        self._rebuild()

    def _rebuild(self) -> None:
        old = self._ladder
        view = self._view
        if view is None:
            return
        padding = max(20, self.size.height)
        prepared = self._prepared
        if prepared is not None and prepared[0] is view and prepared[1] == padding:
            self._ladder = prepared[2]  # built before the key that shows it (``prepare``)
        else:
            self._ladder = build_ladder(view, padding=padding, heat=old.heat if old else None)
        new = self._ladder
        if new is not None and view.measured is not None:
            new.measured = self._measured_for(view.measured, new.grid)
        self._alert_ks = frozenset(_row_k(p, new.grid) for p in self._alert_prices) if new else frozenset()
        if new is not None and old is not None and not self.follow:
            if (new.heat.levels.symbol, new.grid) != (old.heat.levels.symbol, old.grid):
                self.follow = True  # another symbol or step: start centred on its price
            else:
                self._top_line += new.top_k - old.top_k  # keep the same prices on screen as the ladder grows
        self._update_titles()
        self._place()
        self._refresh_changed_lines()

    def _measured_for(self, measured: MeasuredView, grid: float) -> _Measured:
        key = (measured.symbol, grid, measured.version)
        if key != self._measured_key:
            self._measured_key, self._measured_rows = key, measured_rows(measured, grid)
        return self._measured_rows

    def _update_titles(self) -> None:
        ladder = self._ladder
        covered = ladder.heat.levels.venues if ladder else ()
        venues = " ".join(fmt.venue_tag(v) for v in sorted(covered, key=fmt.venue_sort_key))
        subtitle = None
        if ladder is not None:
            step = fmt.price(ladder.grid, ladder.decimals)
            subtitle = f"step {step} · {'follow' if self.follow else 'scroll (home: follow)'}"
        venues = venues or "no venue"
        titles = (
            f"Ladder · liquidations ESTIMATED ({venues})",
            f"Ladder · ESTIMATED ({venues})",
            "Ladder · ESTIMATED",
            "ESTIMATED",
        )
        self.set_titles(fmt.fitting(titles, self.size.width - 4) or titles[-1], subtitle)

    # --- scrolling ------------------------------------------------------------------------------

    @property
    def body_height(self) -> int:
        # The first line is the column header; the last, the coverage line when positions are measured.
        footer = 1 if self._ladder is not None and self._ladder.measured is not None else 0
        return max(0, self.size.height - 1 - footer)

    def _place(self) -> None:
        ladder = self._ladder
        if ladder is None:
            return
        body = self.body_height
        if self.follow and ladder.current_k is not None:
            self._top_line = (ladder.top_k - ladder.current_k) - body // 2
        self._top_line = max(0, min(self._top_line, ladder.row_count - body))

    def watch_follow(self, follow: bool) -> None:
        self._update_titles()
        self._place()
        self._refresh_changed_lines()

    def action_scroll_rows(self, rows: int) -> None:
        self.follow = False
        self._top_line += rows
        self._place()
        self._refresh_changed_lines()

    def scroll_to_price(self, price: float) -> None:
        """Stop following and put the row holding ``price`` in the middle (to read a far cluster)."""
        ladder = self._ladder
        if ladder is None:
            return
        self.follow = False
        self._top_line = (ladder.top_k - _row_k(price, ladder.grid)) - self.body_height // 2
        self._place()
        self._refresh_changed_lines()

    def action_follow_price(self) -> None:
        self.follow = True

    def on_mouse_scroll_down(self, event: MouseScrollDown) -> None:
        event.stop()
        self.action_scroll_rows(3)

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        event.stop()
        self.action_scroll_rows(-3)

    def on_resize(self) -> None:
        self._rebuild_on_resize()

    def _rebuild_on_resize(self) -> None:
        if self._view is not None:
            self._shown = _NOTHING  # whatever the view holds is drawn again at the new size
            self.show(self._view)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._row_cache.clear()
        self._line_keys = []

    # --- what each line shows -------------------------------------------------------------------

    def _columns(self, width: int) -> _Columns:
        ladder = self._ladder
        key = (width, ladder.top_k, ladder.grid, ladder.measured is not None) if ladder else (width,)
        if self._cols_key != key:
            self._cols_key, self._cols = key, self._layout_columns(width)
        return self._cols

    def _layout_columns(self, width: int) -> _Columns:
        ladder = self._ladder
        sample = fmt.price(ladder.top_k * ladder.grid, ladder.decimals) if ladder else "00,000"
        price_w = len(sample) + 4  # room for the current-row markers and a space each side
        size_w = 6 if width >= 60 else 5
        # What a narrow ladder gives up first: depth bars, then heat bars, then the tape's figure in
        # the note; the note (the cluster and sweep USD) keeps room for "swept $54.9M" while it can.
        free = width - price_w - 2 * size_w - 2
        # The MEASURED column only where the estimate keeps its note and 2-cell bars beside it.
        measured = ladder is not None and ladder.measured is not None
        meas_w = MEAS_W if measured and free >= MEAS_W + NOTE_MIN_W + 6 else 0
        free -= meas_w
        if free >= NOTE_MIN_W:
            note_w = max(NOTE_MIN_W, min(NOTE_MAX_W, free // 2), min(NOTE_W, free - 8))  # 8: 2-cell bars
        else:
            note_w = free if free >= len("swept") else 0
        rest = free - note_w
        heat_w = min(MAX_HEAT_W, rest * 3 // 10) if rest >= 6 else 0
        depth_w = min(MAX_DEPTH_W, (rest - 2 * heat_w) // 2) if rest >= 6 else 0
        # A very wide ladder does not stretch bars across the screen: it centres.
        pad = max(0, (rest - 2 * heat_w - 2 * depth_w) // 2)
        return _Columns(
            heat=heat_w, size=size_w, depth=depth_w, price=price_w, note=note_w, pad=pad, meas=meas_w
        )

    def _note(self, k: int, row: _HeatRow, width: int) -> tuple[str, str | None]:
        """The row's note, narrowed by dropping words: an amount is shown whole or not at all."""
        if width <= 0:
            return ("", None)
        swept = row.swept_long_usd + row.swept_short_usd
        if swept > 0 and row.long_usd + row.short_usd == 0:
            return (fmt.fitting(_swept_notes(row, swept), width), "pane--swept")
        ladder = self._ladder
        marked = bool(ladder.heat.clusters.get(k, "")) if ladder else False
        alerted = k in self._alert_ks
        text = fmt.fitting(_heat_notes(row, marked, alerted), width)
        if not text:
            return ("", None)
        return (text, "pane--heat" if marked or alerted else "pane--dim")

    def _line_key(self, line: int, width: int) -> tuple:
        """Everything a body line shows, as a hashable key (drawn strips are cached on it)."""
        ladder = self._ladder
        assert ladder is not None
        k = ladder.top_k - line
        if k < ladder.bottom_k:
            return ("blank", width)
        cols = self._columns(width)
        row = ladder.heat.rows.get(k, _NO_HEAT)
        bid, ask = ladder.book.get(k, (0.0, 0.0))
        heat_max = ladder.heat.heat_max
        long_live, short_live = row.long_usd > 0, row.short_usd > 0
        long_len = eighths(row.long_usd if long_live else row.swept_long_usd, heat_max, cols.heat)
        short_len = eighths(row.short_usd if short_live else row.swept_short_usd, heat_max, cols.heat)
        return (
            cols,
            fmt.price(k * ladder.grid, ladder.decimals),
            k == ladder.current_k,
            fmt.size(bid) if bid else "",
            eighths(bid, ladder.depth_max, cols.depth),
            fmt.size(ask) if ask else "",
            eighths(ask, ladder.depth_max, cols.depth),
            long_len,
            long_live,
            short_len,
            short_live,
            not (long_live or short_live) and row.swept_long_usd + row.swept_short_usd > 0,  # swept: dimmed
            self._note(k, row, cols.note),
            self._measured_cell(k) if cols.meas else "",
        )

    def _measured_cell(self, k: int) -> str:
        measured = self._ladder.measured if self._ladder else None
        long_usd, short_usd = measured.get(k, (0.0, 0.0)) if measured else (0.0, 0.0)
        return measured_cell(long_usd, short_usd)

    def _coverage_key(self, width: int) -> tuple:
        view = self._view
        if view is None or view.measured is None:
            return ("blank", width)
        measured = view.measured
        return ("coverage", fmt.fitting(coverage_texts(measured, view.now), width), width)

    def _header_key(self, width: int) -> tuple:
        coin = fmt.base_coin(self._ladder.heat.levels.symbol) if self._ladder else ""
        return ("header", self._columns(width) if self._ladder else None, width, coin)

    # --- drawing --------------------------------------------------------------------------------

    def _draw_header(self, width: int) -> Strip:
        if self._ladder is None:
            return self.to_strip([("waiting for data", "pane--dim")], width)
        cols = self._columns(width)
        parts: list[Part] = [(" " * cols.pad, None)]
        if cols.heat:
            parts.append(
                (fmt.fitting(("EST L liq", "EST L", "L"), cols.heat).rjust(cols.heat) + " ", "pane--long")
            )
        coin, book_w = fmt.base_coin(self._ladder.heat.levels.symbol), cols.size + cols.depth
        # The book's sizes are in the coin (every venue's, OKX's contracts converted).
        parts.append((fmt.fitting((f"bid {coin}", "bid"), book_w).rjust(book_w), "pane--bid"))
        parts.append(("price".center(cols.price), "pane--head"))
        parts.append((fmt.fitting((f"{coin} ask", "ask"), book_w).ljust(book_w), "pane--ask"))
        if cols.heat:
            parts.append(
                (" " + fmt.fitting(("EST S liq", "EST S", "S"), cols.heat).ljust(cols.heat), "pane--short")
            )
        if cols.meas:
            tags = (
                " ".join(fmt.venue_tag(v) for v in self._view.measured.venues)
                if self._view and self._view.measured
                else ""
            )
            parts.append(
                (
                    " " + fmt.fitting((f"{tags} MEAS", "MEAS"), cols.meas - 1).ljust(cols.meas - 1),
                    "pane--head",
                )
            )
        if cols.note:
            parts.append((fmt.fitting(("ESTIMATED", "EST."), cols.note).rjust(cols.note), "pane--dim"))
        return self.to_strip(parts, width)

    def _draw_row(self, key: tuple, width: int) -> Strip:
        if key[0] == "blank":
            return Strip.blank(width, self.style_of(None))
        if key[0] == "coverage":
            return self.to_strip([(key[1], "pane--head")], width)
        (cols, price_text, current, bid_text, bid_len, ask_text, ask_len,
         long_len, long_live, short_len, short_live, swept_only, (note, note_style), meas) = key  # fmt: skip
        price_cell = (f"▶{price_text}◀" if current else price_text).center(cols.price)
        parts: list[Part] = [(" " * cols.pad, None)]
        if cols.heat:
            parts.append((bar_right(long_len, cols.heat), "pane--long" if long_live else "pane--swept"))
            parts.append((" ", None))
        parts.append((bar_right(bid_len, cols.depth), "pane--bid"))
        parts.append((bid_text.rjust(cols.size), "pane--bid"))
        parts.append((price_cell, "pane--current" if current else ("pane--swept" if swept_only else None)))
        parts.append((ask_text.ljust(cols.size), "pane--ask"))
        parts.append((bar_left(ask_len, cols.depth), "pane--ask"))
        if cols.heat:
            parts.append((" ", None))
            parts.append((bar_left(short_len, cols.heat), "pane--short" if short_live else "pane--swept"))
        if cols.meas:
            meas_style = (
                {"L": "pane--long", "S": "pane--short"}.get(meas[:1]) if meas[:2] != "LS" else "pane--head"
            )
            parts.append((" " + meas.ljust(cols.meas - 1), meas_style))
        if cols.note:
            parts.append((note.ljust(cols.note), note_style))
        return self.to_strip(parts, width)

    def _refresh_changed_lines(self) -> None:
        """Repaint only what changed since the last paint, in ONE refresh: each changed body line is
        narrowed to the cells that differ (a bid size that moved repaints that size, not the row).

        One call, not one per line: every ``refresh`` clears the widget's layout and style caches and
        wakes the idle check, and the compositor writes only the dirty spans to the terminal."""
        if self._ladder is None:
            self._line_keys = []
            self.refresh()
            return
        width = self.size.width
        keys = self._keys(width)
        old_keys = self._line_keys
        self._line_keys = keys
        if len(keys) != len(old_keys) or keys[0] != old_keys[0]:
            self.refresh()
            return
        regions = []
        for y in range(1, len(keys)):
            if keys[y] != old_keys[y]:
                span = self._changed_cells(old_keys[y], keys[y], width)
                if span is not None:
                    regions.append(Region(span[0], y, span[1] - span[0], 1))
        if regions:
            self.refresh(*regions)

    def _keys(self, width: int) -> list[tuple]:
        """Every line's key: the header, the body, and the coverage line when positions are measured."""
        keys = [self._header_key(width)] + [
            self._line_key(self._top_line + y, width) for y in range(self.body_height)
        ]
        if self._ladder is not None and self._ladder.measured is not None:
            keys.append(self._coverage_key(width))
        return keys

    def _strip_for(self, key: tuple, width: int) -> Strip:
        strip = self._row_cache.get(key)
        if strip is None:
            strip = self._draw_row(key, width)
            self._row_cache[key] = strip
        return strip

    def _changed_cells(self, old_key: tuple, new_key: tuple, width: int) -> tuple[int, int] | None:
        """[start, end) of the cells that differ between two drawn lines; None when they look the same."""
        old_strip = self._row_cache.get(old_key)
        if old_strip is None:
            return (0, width)  # the old line left the cache: repaint all of it
        old_cells = _cells(old_strip)
        new_cells = _cells(self._strip_for(new_key, width))
        if len(old_cells) != len(new_cells):
            return (0, width)
        start = next((x for x, (a, b) in enumerate(zip(old_cells, new_cells, strict=True)) if a != b), None)
        if start is None:
            return None
        end = len(new_cells)
        while old_cells[end - 1] == new_cells[end - 1]:
            end -= 1
        return (start, end)

    def render_lines(self, crop: Region) -> list[Strip]:
        """Whether the last show()'s keys fit the pane is asked once for the lines Textual asks for,
        not at each line (~40 us a line, 1.8 ms a symbol switch)."""
        keys = self._line_keys
        self._keys_fit = (
            self._ladder is not None
            and len(keys) == self.size.height
            and keys[0] == self._header_key(self.size.width)
        )
        try:
            return super().render_lines(crop)
        finally:
            self._keys_fit = False

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._draw_header(width)
        if self._ladder is None:
            return Strip.blank(width, self.style_of(None))
        keys = self._line_keys
        if self._keys_fit or (len(keys) == self.size.height and keys[0] == self._header_key(width)):
            key = keys[y]  # computed by the last show(): the same ladder, offset and width
        elif y > self.body_height:
            key = self._coverage_key(width)
        else:
            key = self._line_key(self._top_line + y - 1, width)
        return self._strip_for(key, width)

    # --- for tests and the app ------------------------------------------------------------------

    def visible_prices(self) -> list[float]:
        """Row prices currently on screen, top to bottom."""
        ladder = self._ladder
        if ladder is None:
            return []
        return [(ladder.top_k - (self._top_line + y)) * ladder.grid for y in range(self.body_height)]
