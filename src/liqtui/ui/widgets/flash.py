"""The desk's flash line: a key's short answer on the footer's row for a few seconds, like vim's
message line.

A key whose change no pane's title says (`w` where the layout has no totals pane, `f`, `c`, `t`, a
key whose pane is not on screen...) was answered by a Textual toast, and mounting a toast waits for
the loop to be idle (~40 ms at 80x24 busy: the key's p95 was 72 ms, bench/README.md "The flash
line"). The flash line is mounted hidden with the desk and only shown: its text is on screen with
the key's own frame. Warnings, errors and alerts stay toasts (they stack and stay until read).

It sits on the desk's ``bar`` layer, docked at the bottom over the footer, so it takes no row from
the panes; a long answer wraps upwards (two lines at 60 columns), and the footer's keys come back when
it clears. A command bar opening clears it (the bars, the screen's first children, lie under it), and
an answer while a bar is open is a toast, above the bar (``LiqtuiApp.flash``).
"""

from __future__ import annotations

from collections import deque

from textual.content import Content
from textual.timer import Timer
from textual.widget import Widget

SAID_KEPT = 16  # the last answers, newest last (the desk's tests read them; toasts expire)


class Flash(Widget):
    """One short answer at a time on the footer's row; a newer one replaces it."""

    DEFAULT_CSS = """
    Flash {
        layer: bar; dock: bottom; display: none;
        width: 100%; height: auto; max-height: 3;
        background: $panel; color: $foreground; padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own keyword
        super().__init__(id=id)
        self.message = ""
        self.said: deque[str] = deque(maxlen=SAID_KEPT)
        self._clear: Timer | None = None
        self._lines = 0  # the height it was laid out at
        self._joining = False  # said once already in the frame being drawn

    def say(self, message: str, seconds: float) -> None:
        """Show ``message`` with the frame being drawn, for ``seconds``. Two answers in one frame (a
        key pressed while paused: "the change shows when you resume", then the key's own) read
        together; a later one replaces it."""
        self.said.append(message)
        if self._joining:
            message = f"{self.message} · {message}"
        else:
            self._joining = True
            self.call_after_refresh(self._drawn)
        if self._clear is not None:
            self._clear.stop()
        self._clear = self.set_timer(seconds, self.clear)
        self.message = message
        lines = self._text().get_height({}, max(1, self.app.size.width - 2))  # padding 0 1, wrapped
        if self.display and lines == self._lines:
            self.refresh()  # the same height: a repaint, no layout of the screen
        else:
            self._lines = lines
            self.display = True
            self.refresh(layout=True)

    def _drawn(self) -> None:
        self._joining = False

    def clear(self) -> None:
        if self._clear is not None:
            self._clear.stop()
            self._clear = None
        self.message = ""
        self.display = False

    def on_click(self) -> None:
        """A click on it (meant for the footer's keys beneath) clears it at once."""
        self.clear()

    def _text(self) -> Content:
        return Content.assemble(("▸ ", "bold $accent"), self.message)

    def render(self) -> Content:
        return self._text()
