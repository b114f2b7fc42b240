"""A one-line question with a parsed answer: the at-risk target, the tape's minimum size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[tuple[Any] | None]):
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

    def __init__(self, question: str, parse: Callable[[str], Any], *, placeholder: str = "",
                 value: str = "") -> None:
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
        self.dismiss((value,))

    def action_cancel(self) -> None:
        self.dismiss(None)


_UNITS = {"k": 1e3, "m": 1e6, "b": 1e9}


def parse_amount(text: str) -> float:
    """ "92000", "92,000", "92k", "1.5M" -> a positive number; ValueError with words otherwise."""
    cleaned = text.strip().lower().replace(",", "").replace("_", "").replace("$", "").replace(" ", "")
    scale = 1.0
    if cleaned and cleaned[-1] in _UNITS:
        scale = _UNITS[cleaned[-1]]
        cleaned = cleaned[:-1]
    try:
        value = float(cleaned) * scale
    except ValueError:
        raise ValueError(f"not a number: {text!r} (try 92000, 92k or 1.5M)") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"not a usable amount: {text!r}")
    return value


def parse_target(text: str, price: float | None) -> float | None:
    """A target price: absolute ("92000", "92k") or relative to ``price`` ("+11%", "-5 %").

    Empty text means "no target". Returns the target price.
    """
    cleaned = text.strip().replace(" ", "")
    if not cleaned:
        return None
    if cleaned.endswith("%"):
        if price is None:
            raise ValueError("no price yet: give an absolute target such as 92000")
        try:
            change = float(cleaned[:-1])
        except ValueError:
            raise ValueError(f"not a percent: {text!r} (try +11% or -5%)") from None
        target = price * (1 + change / 100)
    else:
        target = parse_amount(cleaned)
    if target <= 0:
        raise ValueError(f"a target must be above zero: {text!r}")
    return target
