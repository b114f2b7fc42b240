"""Asked when the live desk hears from no venue: offer the demo, never switch to it silently."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from liqtui.ui.screens.modal import AnswerOnce


class OfferDemoScreen(AnswerOnce[bool]):
    BINDINGS = [
        Binding("d", "choose(True)", "run the demo"),
        Binding("escape,w", "choose(False)", "keep waiting"),
        Binding("q", "app.quit", "quit"),
    ]
    DEFAULT_CSS = """
    OfferDemoScreen { align: center middle; }
    OfferDemoScreen > Vertical {
        width: 64; max-width: 100%; height: auto; border: round $error;
        background: $surface; padding: 0 1;
    }
    """

    def __init__(self, reason: str, asked_again_in: str) -> None:
        """``asked_again_in``: how long "keep waiting" waits before the desk asks again ("2m")."""
        super().__init__()
        self._reason = reason
        self._again = asked_again_in

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._reason, markup=False, id="offer-reason")
            yield Static(
                "d  run the DEMO instead (a simulated market, marked DEMO)\n"
                f"w  keep waiting for the venues (asked again in {self._again})\n"
                "q  quit",
                markup=False,
            )

    def action_choose(self, demo: bool) -> None:
        self.answer(demo)
