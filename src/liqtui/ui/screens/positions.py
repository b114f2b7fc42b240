"""The positions view: the largest MEASURED positions of the tracked accounts (Hyperliquid), nearest
to liquidation first, with the coverage line; redrawn every second from the desk's newest view."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from liqtui.domain import format as fmt
from liqtui.domain.events import PositionSnapshot
from liqtui.engine.views import SymbolView
from liqtui.ui.screens.modal import DeskModal
from liqtui.ui.widgets.measured import coverage_texts, distance_pct, nearest_first

SHOWN = 30  # the largest positions listed
# 55 columns: the view fits a 60-column tmux pane (border and padding take 4).
HEADER = f"{'account':<12} {'side':<5} {'size USD':>9} {'liq. price':>10} {'distance':>9} {'age':>5}"


def short_account(address: str) -> str:
    """ "0x3f2a…91bc": enough to tell accounts apart and find one in an explorer."""
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


def position_line(p: PositionSnapshot, price: float | None, now: int) -> str:
    liq = fmt.price(p.liquidation_price) if p.liquidation_price is not None else "none"
    distance = fmt.pct(distance_pct(p, price))
    side = p.side.value.upper()
    return (
        f"{short_account(p.account):<12} {side:<5} {fmt.usd(p.usd):>9} {liq:>10} {distance:>9} "
        f"{fmt.age(now - p.time):>5}"
    )


def positions_lines(view: SymbolView | None, mode: str, width: int) -> tuple[str, list[str]]:
    """(title, lines) of the view for ``view``'s symbol."""
    coin = fmt.base_coin(view.symbol) if view is not None else ""
    measured = view.measured if view is not None else None
    if view is None or measured is None:
        return (
            f"MEASURED positions · {coin} · {mode}",
            ["No venue that publishes positions trades this symbol."],
        )
    venues = ", ".join(fmt.venue_name(v) for v in measured.venues)
    title = f"MEASURED positions · {venues} · {coin} · {mode}"
    coverage = fmt.fitting(coverage_texts(measured, view.now), width)
    if not measured.positions:
        return (title, [coverage, "", "No tracked account holds this symbol yet."])
    price = view.market.last or view.market.mark
    rows = [position_line(p, price, view.now) for p in nearest_first(measured, price, SHOWN)]
    note = f"the {min(SHOWN, len(measured.positions))} largest of {len(measured.positions)}, nearest to liquidation first"
    return (title, [coverage, note, "", HEADER, *rows])


class PositionsScreen(DeskModal[None]):
    BINDINGS = [Binding("escape,o,q", "dismiss", "close", show=False)]
    DEFAULT_CSS = """
    PositionsScreen { align: center middle; }
    PositionsScreen > VerticalScroll {
        width: 110; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 0 0 1;
        scrollbar-size-vertical: 1;
    }
    PositionsScreen .title { text-style: bold; color: $accent; }
    """

    def __init__(self, view: Callable[[], SymbolView | None], mode: str) -> None:
        super().__init__()
        self._view = view
        self._mode = mode

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", classes="title", id="positions-title", markup=False)
            yield Static("", id="positions-body", markup=False)

    def on_mount(self) -> None:
        self._redraw()
        self.set_interval(1.0, self._redraw)

    def _redraw(self) -> None:
        width = max(20, min(110, self.app.size.width) - 4)
        title, lines = positions_lines(self._view(), self._mode, width)
        closes = "  (Esc closes)" if len(title) + 14 <= width else ""
        self.query_one("#positions-title", Static).update(title + closes)
        self.query_one("#positions-body", Static).update("\n".join(lines))
