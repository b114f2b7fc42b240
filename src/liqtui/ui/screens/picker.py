"""The symbol picker: fuzzy search over every market the source offers."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from liqtui.ui.screens.modal import AnswerOnce

MAX_SHOWN = 200  # a long list of weak matches helps nobody and costs a repaint


def rank_symbols(query: str, symbols: list[str], watchlist: list[str]) -> list[str]:
    """Symbols matching ``query`` best first; with no query, the watchlist then the rest A-Z."""
    query = query.strip()
    if not query:
        rest = sorted(set(symbols) - set(watchlist))
        return [*watchlist, *rest][:MAX_SHOWN]
    matcher = Matcher(query)
    bonus = set(watchlist)
    scored = []
    for symbol in set(symbols) | bonus:
        score = matcher.match(symbol)
        if score > 0:
            # A symbol that starts with the query (BTC -> BTC/USDT) beats one that merely contains it.
            starts = symbol.upper().startswith(query.upper())
            scored.append((-(score + starts + 0.5 * (symbol in bonus)), len(symbol), symbol))
    return [symbol for *_, symbol in sorted(scored)[:MAX_SHOWN]]


class SymbolPicker(AnswerOnce[str | None]):
    """A screen of its own, not a command-palette provider, for a measured reason
    (``bench/bench_picker.py``, 1,500 markets, two shared cores): per keystroke the picker took
    139 ms median and 176 ms at worst, a palette provider over the same markets 175 ms and 633 ms
    at worst. The palette builds a prompt from markup and queues every hit, with no cap (the
    picker ranks once and shows MAX_SHOWN); it also has no place for "N of M markets" or the
    watchlist-first order of an empty query."""

    BINDINGS = [
        Binding("escape", "cancel", "cancel", show=False),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
    ]
    DEFAULT_CSS = """
    SymbolPicker { align: center top; }
    SymbolPicker > Vertical {
        width: 60; max-width: 100%; height: auto; max-height: 90%; margin-top: 2;
        border: round $primary; background: $surface;
    }
    SymbolPicker #picker-input { border: none; height: 1; padding: 0 1; background: $boost; }
    SymbolPicker OptionList { height: auto; max-height: 20; border: none; }
    SymbolPicker #picker-count { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, symbols: list[str], watchlist: list[str], current: str) -> None:
        super().__init__()
        self._symbols = symbols
        self._watchlist = watchlist
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "symbol · Enter picks · Esc cancels"
            search = Input(placeholder="symbol: btc, eth/usdt, sol perp…", id="picker-input")
            search.cursor_blink = False  # over SSH every blink is a repaint
            yield search
            yield OptionList(id="picker-list")
            yield Static("", id="picker-count", markup=False)

    def on_mount(self) -> None:
        self._fill("")

    def _fill(self, query: str) -> None:
        ranked = rank_symbols(query, self._symbols, self._watchlist)
        options = self.query_one(OptionList)
        options.set_options(Option(symbol, id=symbol) for symbol in ranked)
        if ranked:
            options.highlighted = 0
        total = len(set(self._symbols) | set(self._watchlist))
        self.query_one("#picker-count", Static).update(f"{len(ranked)} of {total} markets")

    @on(Input.Changed, "#picker-input")
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-input")
    def _submitted(self, event: Input.Submitted) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is not None and option.id:
            self.answer(option.id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.answer(event.option.id)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    def action_cancel(self) -> None:
        self.answer(None)
