"""Textual's compositor without drawing what another widget covers whole.

To update a part of the screen, Textual (8.2) asks every widget that overlaps it for its lines, front
to back, and keeps for each cell the front-most widget's: a widget lying whole under another (the
footer's keys, the panes' lines and the desk's grid under the open command bar) was drawn, filtered and
cut into pieces at every update, then dropped. An opening of the symbol picker drew ~25 widgets under
it, about a third of the opening's drawing (bench/README.md, "What the command bar covers, not drawn").

``install`` leaves such a widget out: one whose part of the update lies inside the region of a single
widget in front of it (the command bar, a pane) gives no cell of the frame, so the screen is the same.
Its lines are drawn when it is uncovered (its lines still marked to draw). Only widgets of some size are
asked whether they cover another (``COVER_CELLS``): the test is a rectangle's, cheap, and the small
widgets (a footer's key, a one-line strip) seldom cover anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual._compositor import Compositor
from textual.geometry import Region

COVER_CELLS = 400  # a widget shown on at least this many cells is asked whether it covers another


def _leaving_covered(get_renders: Callable[..., Iterable[Any]]) -> Callable[..., Iterable[Any]]:
    def _get_renders(self: Compositor, crop: Region | None = None) -> Iterable[Any]:
        if not crop:
            yield from get_renders(self, crop)
            return
        visible = self.visible_widgets  # front to back, as Textual draws them
        covered = set()
        covers: list[Region] = []
        overlaps, intersection = crop.overlaps, Region.intersection
        for widget, (region, clip) in visible.items():
            if not overlaps(clip):
                continue
            shown = intersection(region, clip)
            drawn = intersection(shown, crop)
            if any(cover.contains_region(drawn) for cover in covers):
                covered.add(widget)
            elif shown.area >= COVER_CELLS:
                covers.append(shown)
        if not covered:
            yield from get_renders(self, crop)
            return
        # Textual's own loop, over the widgets left (the map is read through ``visible_widgets``)
        saved = self._visible_widgets
        self._visible_widgets = {w: rc for w, rc in visible.items() if w not in covered}
        try:
            renders = list(get_renders(self, crop))
        finally:
            self._visible_widgets = saved
        yield from renders

    _get_renders.__wrapped__ = get_renders  # type: ignore[attr-defined]
    return _get_renders


def install() -> None:
    """Wrap the compositor's ``_get_renders`` once (a second call does nothing)."""
    method = Compositor._get_renders
    if not hasattr(method, "__wrapped__"):
        Compositor._get_renders = _leaving_covered(method)  # type: ignore[method-assign]
