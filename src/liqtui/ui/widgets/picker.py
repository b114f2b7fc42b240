"""The symbol picker: fuzzy search over every market the source offers, in the desk's command bar."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.fuzzy import Matcher
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from liqtui.ui.widgets.command_bar import BarInput, CommandBar

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


class MatchList(OptionList):
    """The picker's matches. Its height is fixed by the bar's CSS, so a change in the number of matches
    only repaints it: Textual's OptionList sets its virtual size (its lines' count, for scrolling) at
    each change of its options, and Widget.virtual_size asks for a layout of the whole screen at each
    change (the desk's every widget placed again, ~1.5-2 ms of CPU in a typed symbol's frame at busy,
    160x45). The scroll bar still comes and goes with a layout (its own reactive), as before."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), repaint=True)


class SymbolPicker(CommandBar[str]):
    """The list of matches over the input, which stays on the desk's bottom line as the list changes
    (the list's height is fixed: a keystroke moves no layout). Not a command-palette provider, for a
    measured reason (``bench/bench_picker.py``, 1,500 markets, two shared cores): per keystroke the
    picker took 139 ms median and 176 ms at worst, a palette provider over the same markets 175 ms
    and 633 ms at worst. The palette builds a prompt from markup and queues every hit, with no cap
    (the picker ranks once and shows MAX_SHOWN); it also has no place for "N of M markets" or the
    watchlist-first order of an empty query."""

    BINDINGS = [
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
        # The list takes no focus (a click on a match picks it), so Tab would leave the bar and
        # cancel it: it steps through the matches instead, as a search box's completion does.
        Binding("tab", "move(1)", show=False),
        Binding("shift+tab", "move(-1)", show=False),
    ]
    DEFAULT_CSS = """
    SymbolPicker { padding: 0; }
    SymbolPicker OptionList { height: 12; border: none; }
    SymbolPicker #picker-count { color: $text-muted; padding: 0 1; height: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own keyword
        super().__init__(id=id)
        self._symbols: list[str] = []
        self._watchlist: list[str] = []
        self._listed: list[str] = []  # the symbols the list holds now
        self._prepare: Callable[[], None] | None = None  # told when the symbol Enter would pick changes

    def compose(self) -> ComposeResult:
        self.border_title = "symbol · Enter picks · Esc cancels"
        matches = MatchList(id="picker-list")
        # The focus stays in the search: a click on a match picks it (OptionList selects the option
        # under the click). A list that took the focus on the mouse's press grew its focus border
        # there, moving every match a line down under the pointer before the click landed.
        matches.can_focus = False
        yield matches
        yield Static("", id="picker-count", markup=False)
        yield BarInput(placeholder="symbol: btc, eth/usdt, sol perp…", id="picker-input")

    def pick(
        self,
        symbols: list[str],
        watchlist: list[str],
        on_answer: Callable[[str | None], None],
        prepare: Callable[[], None] | None = None,
    ) -> None:
        """Open on an empty query: the watchlist first, then every other market A-Z. ``prepare`` is
        called whenever the symbol Enter would pick (``candidate``) may have changed, for the desk to
        build that symbol's view before Enter comes."""
        self._symbols, self._watchlist = symbols, watchlist
        self._prepare = prepare
        self._empty()
        self.ask(on_answer)
        self._candidate_changed()

    @property
    def candidate(self) -> str | None:
        """The symbol Enter would pick now (the highlighted match); None while the picker is closed."""
        if not self.is_open:
            return None
        try:
            option = self.query_one(OptionList).highlighted_option
        except NoMatches:  # its widgets already removed: the desk quitting with the picker open
            return None
        return option.id if option is not None else None

    def _candidate_changed(self) -> None:
        if self._prepare is not None and self.is_open:
            self._prepare()

    def answer(self, result: str | None) -> None:
        super().answer(result)
        self._prepare = None
        self.call_after_refresh(self._after_close)

    def _after_close(self) -> None:
        """Once the key's frame is out: the empty query's matches, so that the next opening (on the
        same markets) finds its list built and drawn."""
        if not self.is_open:
            self._empty()

    def _empty(self) -> None:
        self.query_one(Input).value = ""  # closed: its text goes to no one (``BarInput._watch_value``)
        self._fill("")

    def _fill(self, query: str) -> None:
        ranked = rank_symbols(query, self._symbols, self._watchlist)
        options = self.query_one(OptionList)
        if ranked != self._listed:  # the same matches keep their options and their drawn lines
            self._listed = ranked
            options.set_options(Option(symbol, id=symbol) for symbol in ranked)
        if ranked:
            options.highlighted = 0
        total = len(set(self._symbols) | set(self._watchlist))
        self.query_one("#picker-count", Static).update(f"{len(ranked)} of {total} markets", layout=False)

    def typed(self, text: str) -> None:
        self._fill(text)
        self._candidate_changed()

    def submitted(self, text: str) -> None:
        option = self.query_one(OptionList).highlighted_option  # the list is ``text``'s (``typed``)
        if option is not None and option.id:
            self.answer(option.id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.answer(event.option.id)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))
            self._candidate_changed()
