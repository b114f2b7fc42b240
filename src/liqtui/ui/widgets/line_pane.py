"""The base of every desk pane: take a SymbolView each tick, repaint only when the shown slice changed.

A pane says which slice of the view it draws (``displayed``) and how to draw that slice into lines
(``draw``). ``show`` compares the slice with the last one and refreshes only on a change, so a render
tick where nothing a pane shows moved costs a tuple comparison. Lines are drawn once per change and
size, then served to Textual's Line API from a list.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual._styles_cache import StylesCache
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from liqtui.domain import format as fmt
from liqtui.engine.views import SymbolView

# ``_shown`` before the first view: draw and update_titles run only once a slice was shown.
_NOTHING: Any = object()
Shown = TypeVar("Shown", bound=Hashable)  # the slice of the view a pane draws (``displayed``)

Part = tuple[str, str | None]  # (text, component class or None for the pane's own style)


class KeptLines(StylesCache):
    """Textual's styles cache that keeps, for each line the pane drew and kept (the ladder's rows, in
    its LRU by what they show), the line as Textual styled it: its border cells on each side, its
    background, and then the terminal's colours (a filter) and the compositor's cuts, which Textual
    caches on that styled strip. Textual styles a widget's line again at every refresh of it, ~0.1
    ms a line (the border's styles, colours and segments built again), and a symbol switch draws
    each of the ladder's 43 lines, most of them rows it drew on an earlier visit
    (bench/README.md, "What no part of an update touches, and the ladder's lines styled once").

    Only the content rows of a plain box: no outline, tint, hatch or opacity (any of those: Textual
    styles every line as before). A line is found again by the strip the pane returned for it (the
    same object: kept as the key's referent); the kept lines go when the box's styles, size or
    colours change, and the oldest once ``limit`` are kept."""

    def __init__(self, limit: int = 2048) -> None:
        super().__init__()
        self._kept: dict[int, tuple[Strip, Strip]] = {}  # id(content) -> (content, styled)
        self._kept_key: tuple[Any, ...] = ()
        self._limit = limit
        self._rows = range(0)  # the content rows of this render (empty: none kept)

    def render(
        self,
        styles: Any,
        size: Size,
        base_background: Any,
        background: Any,
        render_content_line: Any,
        filters: Any,
        border_title: Any,
        border_subtitle: Any,
        content_size: Size | None = None,
        padding: Any = None,
        crop: Region | None = None,
        opacity: float = 1.0,
        ansi_theme: Any = None,
        native_ansi: bool = False,
    ) -> list[Strip]:
        self._rows = range(0)
        content = size if content_size is None else content_size
        pad = styles.padding if padding is None else padding
        plain = (
            opacity == 1.0
            and styles.text_opacity == 1.0
            and not styles.tint.a
            and not any(edge for edge, _colour in styles.outline)
            and not (styles.has_rule("hatch") and styles.hatch != "none")
        )
        if plain:
            key = (
                size,
                content,
                tuple(pad),
                styles.border,
                base_background,
                background,
                id(ansi_theme),
                native_ansi,
            )
            if key != self._kept_key:
                self._kept_key = key
                self._kept.clear()
            gutter = styles.gutter
            self._rows = range(gutter.top, min(size.height - gutter.bottom, gutter.top + content.height))
        kwargs: dict[str, Any] = {} if ansi_theme is None else {"ansi_theme": ansi_theme}
        return super().render(
            styles,
            size,
            base_background,
            background,
            render_content_line,
            filters,
            border_title,
            border_subtitle,
            content_size=content_size,
            padding=padding,
            crop=crop,
            opacity=opacity,
            native_ansi=native_ansi,
            **kwargs,
        )

    def render_line(self, styles: Any, y: int, size: Size, content_size: Size, padding: Any,
                    base_background: Any, background: Any, render_content_line: Any,
                    *rest: Any) -> Strip:  # fmt: skip
        rows = self._rows
        if y not in rows:
            return super().render_line(
                styles,
                y,
                size,
                content_size,
                padding,
                base_background,
                background,
                render_content_line,
                *rest,
            )
        line = render_content_line(y - rows.start)
        kept = self._kept.get(id(line))
        if kept is not None and kept[0] is line:
            return kept[1]
        styled = super().render_line(
            styles, y, size, content_size, padding, base_background, background, lambda _y: line, *rest
        )
        if len(self._kept) >= self._limit:
            del self._kept[next(iter(self._kept))]
        self._kept[id(line)] = (line, styled)
        return styled


class LinePane(Widget, Generic[Shown]):
    """A Line API pane fed by ``show(view)`` on the app's render tick."""

    # Shared component classes: every pane colours sides, bars and states the same way, from the
    # theme variables the app defines ($bid, $ask, $liq-long, $liq-short, $heat, $stale, $big).
    # Each also carries a text style or a glyph elsewhere, so nothing depends on colour alone.
    COMPONENT_CLASSES = {
        "pane--head",
        "pane--dim",
        "pane--bid",
        "pane--ask",
        "pane--long",
        "pane--short",
        "pane--heat",
        "pane--big",
        "pane--stale",
        "pane--up",
        "pane--down",
        "pane--current",
        "pane--swept",
    }

    PANE_TITLE: str | None = None
    """Border title before any data arrived."""

    KEPT_LINES = 256
    """Drawn lines kept by what they show (their parts and width), each with its line as Textual
    styled it (``KeptLines``): a line that shows the same again (the tape's entries as they move down,
    the totals' unchanged rows, the chart's lines) is neither built nor styled again."""

    DEFAULT_CSS = """
    LinePane {
        height: 1fr;
    }
    LinePane > .pane--head { text-style: bold; }
    LinePane > .pane--dim { text-style: dim; }
    LinePane > .pane--bid { color: $bid; }
    LinePane > .pane--ask { color: $ask; }
    LinePane > .pane--long { color: $liq-long; }
    LinePane > .pane--short { color: $liq-short; }
    LinePane > .pane--heat { color: $heat; text-style: bold; }
    LinePane > .pane--big { color: $big; text-style: bold; }
    LinePane > .pane--stale { color: $stale; text-style: italic; }
    LinePane > .pane--up { color: $success; }
    LinePane > .pane--down { color: $error; }
    LinePane > .pane--current { text-style: bold reverse; }
    LinePane > .pane--swept { text-style: dim; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._view: SymbolView | None = None
        self._shown: Shown = _NOTHING
        self._strips: list[Strip] | None = None
        self._strips_size = Size(0, 0)
        self._titles: tuple[str | None, str | None] = (None, None)
        self._title_choices: tuple[str, ...] = ()
        self._paint_styles: dict[str | None, Style] = {}
        self._kept_strips: LRUCache[tuple[Any, ...], Strip] = LRUCache(self.KEPT_LINES)
        self._styles_cache = KeptLines(self.KEPT_LINES)  # each kept line as Textual styled it
        self.set_titles(self.PANE_TITLE)

    # --- the contract with the app --------------------------------------------------------------

    def show(self, view: SymbolView) -> None:
        """Take the latest view; repaint only if what this pane shows changed."""
        self._view = view
        shown = self.displayed(view)
        if shown == self._shown:
            return
        self._shown = shown
        self.update_titles()
        self._redraw()

    # --- what subclasses provide ----------------------------------------------------------------

    def displayed(self, view: SymbolView) -> Shown:
        """The slice of ``view`` (and of the pane's settings) this pane draws; equal slices draw equal lines."""
        raise NotImplementedError

    def draw(self, width: int, height: int) -> list[list[Part]]:
        """Lines for the current slice (``self._shown``), each a list of (text, component class) parts."""
        raise NotImplementedError

    def update_titles(self) -> None:
        """Set border title/subtitle from the new slice (kept out of drawing: titles are reactive)."""

    def set_titles(self, title: str | None, subtitle: str | None = None) -> None:
        """Set the border title/subtitle only when they change (each assignment repaints the whole pane)."""
        if (title, subtitle) == self._titles:
            return
        self._titles = (title, subtitle)
        self.border_title = title
        self.border_subtitle = subtitle

    def fit_title(self, *choices: str) -> None:
        """Set the first (longest) of ``choices`` that fits the border: a title is never cut, and
        a resize picks again."""
        self._title_choices = choices
        self.set_titles(fmt.fitting(choices, self.size.width - 4) or choices[-1])

    def on_resize(self) -> None:
        if self._title_choices:
            self.fit_title(*self._title_choices)

    # --- focus: a pane looks the same with it or without it -------------------------------------
    # No rule of the desk's CSS or of a theme styles a pane by :focus. Textual's Widget restyles a
    # widget at each move of the focus (watch_has_focus) and repaints its every line (_on_focus,
    # _on_blur); the ladder has the focus on the desk and the command bar's input takes it and gives
    # it back: ~5 ms of CPU and the whole pane's cells written at each opening and each close.

    def watch_has_focus(self, _has_focus: bool) -> None:
        """No restyle: nothing a pane draws depends on the focus."""

    def _on_focus(self, event: events.Focus) -> None:
        event.prevent_default()  # Widget._on_focus (Textual 8.2.8) also repaints the whole pane
        self.has_focus = True
        if self.parent is not None:
            self.parent.post_message(events.DescendantFocus(self))

    def _on_blur(self, event: events.Blur) -> None:
        event.prevent_default()  # Widget._on_blur (Textual 8.2.8) also repaints the whole pane
        self.has_focus = False
        if self.parent is not None:
            self.parent.post_message(events.DescendantBlur(self))

    # --- machinery ------------------------------------------------------------------------------

    def _redraw(self) -> None:
        """Draw the new slice now and repaint only the lines that differ from what is on screen: a
        number that moved in one row repaints that row (a whole-pane refresh per tick was most of
        the desk's bytes to the terminal)."""
        # Not a ScrollView with refresh_lines (as Textual's Log): only the ladder moves, and it moves
        # its own window of price rows (follow, scroll_to_price) over a range with no fixed virtual
        # height; the diff below already repaints exactly the changed lines, which is what
        # refresh_lines would do. The figures it must hold are bench/README.md's desk bytes/s and CPU.
        old, size = self._strips, self.size
        if old is None or self._strips_size != size or not self.is_mounted:
            self._strips = None
            self.refresh()
            return
        new = self._draw_strips(size)
        self._strips = new
        if len(new) != len(old):
            self.refresh()
            return
        changed = [
            Region(0, y, size.width, 1)
            for y, (line, was) in enumerate(zip(new, old, strict=True))
            if line != was
        ]
        if changed:
            self.refresh(*changed)

    def _settings_changed(self) -> None:
        """A display setting changed (a reactive): recompute the slice from the last view."""
        if self._view is not None and self.is_mounted:
            self._shown = _NOTHING
            self.show(self._view)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = None  # theme changed: colours live in the drawn strips
        self._paint_styles = {}
        self._kept_strips.clear()

    def style_of(self, component: str | None) -> Style:
        """The Rich style of a component class (None: the pane's own), looked up once until the pane's
        styles change (``notify_style_update``: a theme, the pane's classes or the CSS; the drawn
        strips, which carry these styles, are dropped then too). Textual's own cache of component
        styles is cleared at every ``refresh``, so a lookup per draw rebuilt each style from the
        pane's ancestors at every tick (~0.1-0.3 ms a pane)."""
        style = self._paint_styles.get(component)
        if style is None:
            style = self.rich_style if component is None else self.get_component_rich_style(component)
            self._paint_styles[component] = style
        return style

    def to_strip(self, parts: Iterable[Part], width: int) -> Strip:
        segments = [Segment(text, self.style_of(component)) for text, component in parts if text]
        return Strip(segments).crop_extend(0, width, self.style_of(None))

    def waiting_lines(self, message: str = "waiting for data") -> list[list[Part]]:
        return [[(message, "pane--dim")]]

    def _draw_strips(self, size: Size) -> list[Strip]:
        self._strips_size = size
        lines = self.waiting_lines() if self._shown is _NOTHING else self.draw(size.width, size.height)
        width, kept = size.width, self._kept_strips
        strips = []
        for parts in lines[: max(0, size.height)]:
            key = (*parts, width)  # what the line shows: the same strip (and its styled line) again
            strip = kept.get(key)
            if strip is None:
                strip = kept[key] = self.to_strip(parts, width)
            strips.append(strip)
        return strips

    def render_line(self, y: int) -> Strip:
        size = self.size
        if self._strips is None or self._strips_size != size:
            self._strips = self._draw_strips(size)
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(size.width, self.style_of(None))
