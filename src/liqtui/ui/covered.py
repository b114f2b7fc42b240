"""Textual's compositor without drawing what the widgets in front cover whole, nor what lies outside
every part of an update.

To update a part of the screen, Textual (8.2) asks every widget that overlaps it for its lines, front
to back, and keeps for each cell the front-most widget's: a widget lying whole under others was drawn,
filtered and cut into pieces at every update, then dropped. So were the footer's keys, the panes'
lines and the desk's grid under the open command bar (about a third of an opening's drawing), and at
every frame that spans the desk (a symbol switch, most render ticks) the desk's grid container and
the screen itself, whose every cell the panes, the header, the strip and the footer cover
(bench/README.md, "What the widgets in front cover, not drawn").

``install`` leaves such a widget out of the update: its part of the update lies inside the region of
one widget in front of it (the command bar over the footer's keys), or, for a widget of some size,
inside the regions of those in front together (the panes over their grid), so it gives no cell and
the screen is the same. Its lines are drawn when it is uncovered (they stay marked to draw). Only
widgets of some size are asked whether they cover another (``COVER_CELLS``), and only large ones
whether several cover them (``UNION_CELLS``): the tests are rectangles', a few per widget.

Nor a widget that no part of a partial update touches: Textual crops an update to the one rectangle
around all its parts, and a frame that changes the header (the top row) and a pane (the ladder, on the
left) spans the whole screen, so every other pane, the strip and the footer were drawn and cut at
every cut of their lines for it, then not written (only the parts' cells are). At a symbol switch
that was ~2-3 ms of the update's ~12 (bench/README.md, "What no part of an update touches").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from textual._compositor import Compositor
from textual.geometry import Region

COVER_CELLS = 40  # a widget shown on at least this many cells is asked whether it covers another
ALONE_CELLS = 400  # ... and whether it covers another on its own (the command bar, a pane)
UNION_CELLS = 1_000  # a widget drawn on at least this many cells is asked whether several cover it


def _outside(region: Region, cover: Region) -> list[Region]:
    """The parts of ``region`` outside ``cover``: up to four rectangles."""
    inside = region.intersection(cover)
    if not inside.area:
        return [region]
    x, y, right, bottom = region.x, region.y, region.right, region.bottom
    parts = []
    if inside.y > y:
        parts.append(Region(x, y, region.width, inside.y - y))
    if inside.bottom < bottom:
        parts.append(Region(x, inside.bottom, region.width, bottom - inside.bottom))
    if inside.x > x:
        parts.append(Region(x, inside.y, inside.x - x, inside.height))
    if inside.right < right:
        parts.append(Region(inside.right, inside.y, right - inside.right, inside.height))
    return parts


def _under(drawn: Region, covers: list[Region]) -> bool:
    """``drawn`` lies whole inside the union of ``covers``."""
    rest = [drawn]
    for cover in covers:
        rest = [part for region in rest for part in _outside(region, cover)]
        if not rest:
            return True
    return False


# The parts of the partial update being drawn, by its compositor (``_noting_parts``): Textual hands
# ``_get_renders`` only the rectangle around them. Frames are drawn on the loop's thread, one at a time.
_parts: tuple[Compositor, Sequence[Region]] | None = None


def _touches(shown: Region, parts: Sequence[Region]) -> bool:
    """Some of ``parts`` overlaps ``shown`` (Region.overlaps, inline: a frame asks it of ~20 widgets)."""
    x, y, width, height = shown
    right, bottom = x + width, y + height
    return any(px < right and x < px + pw and py < bottom and y < py + ph for px, py, pw, ph in parts)


def _noting_parts(render_partial_update: Callable[[Compositor], Any]) -> Callable[[Compositor], Any]:
    def _render_partial_update(self: Compositor) -> Any:
        global _parts
        _parts = (self, list(self._dirty_regions))
        try:
            return render_partial_update(self)
        finally:
            _parts = None

    _render_partial_update.__wrapped__ = render_partial_update  # type: ignore[attr-defined]
    return _render_partial_update


def _leaving_covered(get_renders: Callable[..., Iterable[Any]]) -> Callable[..., Iterable[Any]]:
    def _get_renders(self: Compositor, crop: Region | None = None) -> Iterable[Any]:
        if not crop:
            yield from get_renders(self, crop)
            return
        visible = self.visible_widgets  # front to back, as Textual draws them
        parts = _parts[1] if _parts is not None and _parts[0] is self else None
        covered = set()
        alone: list[Region] = []  # what covers on its own
        front: list[Region] = []  # what may cover with others
        overlaps, intersection = crop.overlaps, Region.intersection
        for widget, (region, clip) in visible.items():
            if not overlaps(clip):
                continue
            shown = intersection(region, clip)
            drawn = intersection(shown, crop)
            if parts is not None and not _touches(shown, parts):
                covered.add(widget)  # none of its cells is written
            elif any(cover.contains_region(drawn) for cover in alone) or (
                drawn.area >= UNION_CELLS and _under(drawn, [intersection(c, drawn) for c in front])
            ):
                covered.add(widget)
            area = shown.area
            if area >= COVER_CELLS:
                front.append(shown)
                if area >= ALONE_CELLS:
                    alone.append(shown)
        if not covered:
            yield from get_renders(self, crop)
            return
        # Textual's own loop, over the widgets left (it reads the map through ``visible_widgets``)
        saved = self._visible_widgets
        self._visible_widgets = {w: placed for w, placed in visible.items() if w not in covered}
        try:
            renders = list(get_renders(self, crop))
        finally:
            self._visible_widgets = saved
        yield from renders

    _get_renders.__wrapped__ = get_renders  # type: ignore[attr-defined]
    return _get_renders


def install() -> None:
    """Wrap the compositor's ``_get_renders`` and ``render_partial_update`` once (a second call does
    nothing)."""
    method = Compositor._get_renders
    if not hasattr(method, "__wrapped__"):
        Compositor._get_renders = _leaving_covered(method)  # type: ignore[method-assign]
    partial = Compositor.render_partial_update
    if not hasattr(partial, "__wrapped__"):
        Compositor.render_partial_update = _noting_parts(partial)  # type: ignore[method-assign,assignment]
