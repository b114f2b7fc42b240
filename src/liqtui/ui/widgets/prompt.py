"""A one-line question with a parsed answer, in the desk's command bar: the at-risk target, the tape's
minimum size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.widgets import Input, Static

from liqtui.domain.prices import parse_amount, parse_target  # noqa: F401 - the desk's prompts parse with these
from liqtui.ui.widgets.command_bar import BarInput, CommandBar


class PromptBar(CommandBar[tuple[Any]]):
    """Answers ``(parse(text),)``, or None when cancelled; a ValueError from parse is shown under the
    input and the prompt stays, so a typo costs nothing. One bar serves every question (``prompt``)."""

    DEFAULT_CSS = """
    PromptBar #prompt-error { color: $error; height: auto; }
    PromptBar #prompt-error.-empty { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own keyword
        super().__init__(id=id)
        self._parse: Callable[[str], Any] = str

    def compose(self) -> ComposeResult:
        yield Static("", id="prompt-question", markup=False)
        yield BarInput(id="prompt-input")
        yield Static("", id="prompt-error", markup=False, classes="-empty")

    def prompt(
        self,
        question: str,
        parse: Callable[[str], Any],
        on_answer: Callable[[tuple[Any] | None], None],
        *,
        placeholder: str = "",
    ) -> None:
        """Ask ``question`` on an empty input; Enter answers what ``parse`` makes of the text."""
        self._parse = parse
        self.query_one("#prompt-question", Static).update(question)
        answer = self.query_one(Input)
        answer.value, answer.placeholder = "", placeholder
        self._say_error("")
        self.ask(on_answer)

    def _say_error(self, text: str) -> None:
        error = self.query_one("#prompt-error", Static)
        error.update(text)
        error.set_class(not text, "-empty")

    def submitted(self, text: str) -> None:
        try:
            value = self._parse(text)
        except ValueError as exc:
            self._say_error(str(exc))
            return
        self.answer((value,))
