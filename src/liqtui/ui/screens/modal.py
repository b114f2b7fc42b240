"""The base of the desk's modals that answer with a value (the picker, the prompts, the demo offer)."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")


class AnswerOnce(ModalScreen[ResultT]):
    """A modal that answers once. Keys that arrive in one read (Enter then Escape, a paste) queue
    two answers; the second would find the modal already gone and pop the desk's own screen
    (Textual's ScreenStackError, the desk dies). Only the modal on top may answer."""

    def answer(self, result: ResultT | None) -> None:
        if self.is_active:
            self.dismiss(result)
