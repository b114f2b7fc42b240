"""The pure engine: deterministic state built from normalized events. Time is passed in; no I/O.

Public surface:
- ``Engine.apply(event)`` takes any ``liqtui.domain`` event;
- ``Engine.view(symbol, now_ms, window=..., grid=...)`` returns a ``views.SymbolView`` and changes
  nothing; ``Engine.track_rows(symbol, grid)`` keeps a symbol's level rows current at the grid a
  reader views it at (the desk calls it before each view);
- ``Engine.at_risk(symbol, price, target)`` the ESTIMATED notional between price and target;
- ``at_risk(books, price, target)``: that figure's one computation, over books or the frozen
  ``LevelSnapshot`` copies a view carries (``view.levels.level_books``);
- ``LevelBook`` / ``LevelModel``: the liquidation-level model itself (shared with ``liqtui.api``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from liqtui.domain.imports import names_on_first_use

if TYPE_CHECKING:
    from liqtui.engine.engine import Engine
    from liqtui.engine.levels import LevelBook, LevelModel, LevelModelError, LevelSnapshot, at_risk
    from liqtui.engine.projection import auto_grid

__all__ = ["Engine", "LevelBook", "LevelModel", "LevelModelError", "LevelSnapshot", "at_risk", "auto_grid"]

# Each name's module, imported at the name's first use (PEP 562): a module of the engine (the reading
# child's ``batch``) does not import the whole engine with its package (~27 ms of that child's start).
_HOME = {
    "Engine": "liqtui.engine.engine",
    "auto_grid": "liqtui.engine.projection",
    **dict.fromkeys(
        ["LevelBook", "LevelModel", "LevelModelError", "LevelSnapshot", "at_risk"], "liqtui.engine.levels"
    ),
}


__getattr__ = names_on_first_use(__name__, _HOME)
