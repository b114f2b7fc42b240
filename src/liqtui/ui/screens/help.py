"""The help screen: every key of the desk, as currently bound (remaps included)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "close", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen .title { text-style: bold; color: $accent; }
    """

    def __init__(self, rows: list[tuple[str, str]], notes: list[str]) -> None:
        super().__init__()
        self._rows = rows
        self._notes = notes

    def compose(self) -> ComposeResult:
        width = max((len(keys) for keys, _ in self._rows), default=4) + 2
        lines = [f"{keys:<{width}}{description}" for keys, description in self._rows]
        with VerticalScroll():
            yield Static("liqtui keys  (Esc closes)", classes="title")
            yield Static("\n".join(lines), markup=False, id="help-keys")
            if self._notes:
                yield Static("\n".join(self._notes), markup=False, id="help-notes")
