"""The desk's command bar: a question typed at the bottom of the desk's own screen, like less or vim.

The symbol picker (`/`) and the one-line prompts (`g` at-risk target, `m` tape minimum) were modal
screens. A modal is a new Screen: its first paint (the screen, its widgets, styles, layout and a tinted
copy of the whole desk beneath) cost 40-60 ms of CPU at p50, and closing it repainted every cell of
the desk before the key's own frame (bench/README.md, "Key to screen in-process, and the modals").
A bar is a widget on the desk's screen, on a layer of its own above the panes (``layers: default bar``
in desk.tcss) and docked at the bottom across the footer (whose letter keys go to the bar's input while
it is open): it takes no room from the panes' layout, so showing and hiding it changes only the cells
it covers, and the panes beneath keep their drawn lines.

The desk keeps updating while a bar is open: a trader typing a target or a symbol still sees the tape,
the ladder and the clock move (each pane repaints only its changed lines, as on any tick, and only
where the bar does not cover it). Under a modal screen (help, the alerts log, the positions view) the
desk still holds still (``LiqtuiApp._covered``): those cover most of it.

A bar answers once: keys that arrive in one read (Enter then Escape, a paste) queue two answers, and
only the first is taken. Focus returns to where it was when the bar opened, unless the focus left the
bar for another widget (a click on a pane): that closes the bar as cancelled, with the focus left where
the trader put it (Escape, sent to that widget, would no longer reach the bar). Focus lost to nothing
(the terminal's window losing the focus) keeps the bar open: Textual gives the focus back on return.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from textual import events
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.geometry import Size
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.widgets._toast import ToastRack

AnswerT = TypeVar("AnswerT")


class BarInput(Input):
    """The bar's input: its size is fixed by the bar's CSS (one line, the bar's width), so a keystroke
    repaints it and lays out nothing. Textual's Input sets its virtual size (its text's width, for
    scrolling) at each keystroke, and Widget.virtual_size asks for a layout of the whole screen at each
    change (~5 ms p50 a keystroke, the desk's every widget placed again). Here the change only repaints:
    the input scrolls with its cursor as before (its scroll reads the virtual size, set all the same)."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), repaint=True)

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:  # noqa: A002 - Textual's
        super().__init__(placeholder=placeholder, id=id)
        self.cursor_blink = False  # over SSH every blink is a repaint

    @property
    def bar(self) -> CommandBar[Any] | None:
        return next((node for node in self.ancestors if isinstance(node, CommandBar)), None)

    async def _on_key(self, event: events.Key) -> None:
        """Every key in the order it came. Textual's Input inserts a character where it is; any other
        key (Backspace, Enter, Escape, Down) goes back up to the App, which runs the key's binding
        later, after the characters queued behind it: over SSH keys typed fast arrive in one read, and
        `/ethx` Backspace Enter lost the `h`; `/eth` Enter `]` searched "eth]". So the bindings of this
        input and of its bar (the bar's keys) run here, in order, and what they change reaches the bar
        at once (``_watch_value``, ``action_submit``), not as messages behind the queued keys. A key that
        reaches a bar closed by a key before it (Enter, Escape in the same read) is the desk's again:
        handed back to the App as if typed now."""
        bar = self.bar
        if bar is not None and not bar.is_open:
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))
            return
        if event.is_printable:
            return  # Input's own handler inserts it
        for node in (self, *([bar] if bar is not None else [])):
            for binding in node._bindings.key_to_bindings.get(event.key, ()):  # noqa: SLF001 - Textual's map
                if await self.app.run_action(binding.action, node):
                    event.stop()
                    event.prevent_default()
                    return

    def watch_has_focus(self, has_focus: bool) -> None:
        """No restyle when the focus leaves the input of a closed bar: the bar is hidden, and Textual
        restyles a widget at each move of its focus (~1.5 ms of CPU in each close of the picker or a
        prompt, in the key's frame at busy, 160x45). The opening restyles it, as it takes the focus."""
        bar = self.bar
        if not has_focus and bar is not None and not bar.is_open:
            return
        super().watch_has_focus(has_focus)

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        bar = self.bar
        if bar is not None and bar.is_open:
            bar.typed(value)

    async def action_submit(self) -> None:
        bar = self.bar
        if bar is not None and bar.is_open:
            bar.submitted(self.value)


TOAST_MARGIN = 1  # Textual's own: the toasts sit just above the footer


def lift_toasts(screen: Screen[Any], bars: Iterable[CommandBar[Any]]) -> None:
    """The toasts (an alert's, a key's answer) above the open command bar, not over it: both sit at the
    bottom of the screen, and at 80x24 a toast covered half the picker's matches, its count and its
    input for its few seconds. Down above the footer again once no bar is open. A change of the toast
    rack's margin lays out the screen, so it is made only where it changes."""
    rack = _toast_rack(screen)
    if rack is None:
        return
    heights = [bar.outer_size.height for bar in bars if bar.is_open]
    wanted = max([TOAST_MARGIN, *heights])
    if rack.styles.margin.bottom != wanted:
        rack.styles.margin = (0, 0, wanted, 0)


def _toast_rack(screen: Screen[Any]) -> ToastRack | None:
    try:
        return screen.get_child_by_type(ToastRack)
    except NoMatches:
        return None


def in_command_bar(widget: Widget | None) -> bool:
    """``widget`` (the focused one, say) is inside a command bar: keys typed there are the bar's."""
    return widget is not None and any(isinstance(node, CommandBar) for node in widget.ancestors_with_self)


class CommandBar(Vertical, Generic[AnswerT]):
    """A hidden box on the desk's ``bar`` layer, shown by ``ask`` and hidden by its one answer."""

    BINDINGS = [Binding("escape", "cancel", "cancel", show=False)]
    DEFAULT_CSS = """
    CommandBar {
        layer: bar; dock: bottom; display: none;
        width: 100%; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    CommandBar Input, CommandBar Input:focus { border: none; height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own keyword
        super().__init__(id=id)
        self._on_answer: Callable[[AnswerT | None], None] | None = None
        self._back: Widget | None = None  # what had the focus before the bar opened

    @property
    def is_open(self) -> bool:
        return self._on_answer is not None

    def ask(self, on_answer: Callable[[AnswerT | None], None]) -> None:
        """Show the bar and take the focus; ``on_answer`` gets the answer (None: cancelled), once."""
        if not self.is_open:
            self._back = self.screen.focused
        self._on_answer = on_answer
        self.display = True
        # The focus moves now, not after the queued messages (``Widget.focus`` waits for them): keys
        # that came in the same read as the bar's own key are handed to the input, not to the desk.
        self.screen.set_focus(self.query_one(Input))
        rack = _toast_rack(self.screen)
        if rack is not None and rack.display:  # toasts on screen: above the bar, once it has its size
            self.call_after_refresh(lift_toasts, self.screen, [self])

    def answer(self, result: AnswerT | None) -> None:
        """Hide the bar, give the focus back, then hand ``result`` on; a second answer is dropped."""
        on_answer, self._on_answer = self._on_answer, None
        if on_answer is None:
            return
        self.display = False
        lift_toasts(self.screen, [self])  # back down, if they were lifted
        self.screen.set_focus(self._back)
        self._back = None
        on_answer(result)

    def action_cancel(self) -> None:
        self.answer(None)

    def typed(self, text: str) -> None:
        """The input's text changed to ``text`` while the bar is open (told at once, in key order)."""

    def submitted(self, text: str) -> None:
        """Enter on ``text``: answer (``answer``) or keep asking."""

    def _on_descendant_blur(self, event: events.DescendantBlur) -> None:
        """The focus went elsewhere (posted after Textual moved it): outside the bar, a cancel."""
        focused = self.screen.focused
        if self.is_open and focused is not None and self not in focused.ancestors_with_self:
            self._back = focused  # the focus stays where the trader put it
            self.answer(None)
