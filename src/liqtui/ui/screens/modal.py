"""The base of the desk's modals: the tinted desk behind them drawn once, and answering once."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")


class DeskModal(ModalScreen[ResultT]):
    """A modal over the desk whose tinted copy of the desk beneath is drawn once, not per layout.

    Textual draws a modal's background by rendering the whole screen beneath and tinting every
    segment, again whenever the modal is refreshed: each keystroke in the symbol picker (its list
    and count change size) and each step of a modal's mount redrew all 7,200 cells of a 160x45 desk
    (~20 ms CPU each, three or more per opening). The desk holds still while a modal is on top
    (``LiqtuiApp._covered``), so the copy is kept until the size or the theme changes."""

    _background_key: tuple[object, ...] | None = None

    def _render_content(self) -> None:
        key = (self.size, self.app.theme)
        if key == self._background_key and self._render_cache.size == self.size:
            self._dirty_regions.clear()  # the desk beneath did not change: keep the tinted copy
            return
        super()._render_content()
        self._background_key = key


class AnswerOnce(DeskModal[ResultT]):
    """A modal that answers once. Keys that arrive in one read (Enter then Escape, a paste) queue
    two answers; the second would find the modal already gone and pop the desk's own screen
    (Textual's ScreenStackError, the desk dies). Only the modal on top may answer."""

    def answer(self, result: ResultT | None) -> None:
        if self.is_active:
            self.dismiss(result)
