"""A one-line question with a parsed answer: the at-risk target, the tape's minimum size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from liqtui.domain.prices import parse_amount, parse_target  # noqa: F401 - the desk's prompts parse with these
from liqtui.ui.screens.modal import AnswerOnce


class PromptScreen(AnswerOnce[tuple[Any] | None]):
    """Dismisses with ``(parse(text),)``, or None when cancelled; a ValueError from parse is shown
    under the input and the prompt stays, so a typo costs nothing."""

    BINDINGS = [Binding("escape", "cancel", "cancel", show=False)]
    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical {
        width: 60; max-width: 100%; height: auto; border: round $primary;
        background: $surface; padding: 0 1;
    }
    PromptScreen #prompt-error { color: $error; height: auto; }
    """

    def __init__(
        self, question: str, parse: Callable[[str], Any], *, placeholder: str = "", value: str = ""
    ) -> None:
        super().__init__()
        self._question = question
        self._parse = parse
        self._placeholder = placeholder
        self._value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._question, markup=False)
            answer = Input(value=self._value, placeholder=self._placeholder, id="prompt-input")
            answer.cursor_blink = False  # over SSH every blink is a repaint
            yield answer
            yield Static("", id="prompt-error", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            value = self._parse(event.value)
        except ValueError as exc:
            self.query_one("#prompt-error", Static).update(str(exc))
            return
        self.answer((value,))

    def action_cancel(self) -> None:
        self.answer(None)
