"""The cross-asset strip: one line of configured symbols with last price and 24h change.

Reads ``view.cross``. The sign is written (+/-, with ▲/▼) as well as coloured; the changes say their
window where there is room, and a narrow strip drops whole entries, never part of a number.
"""

from __future__ import annotations

from liqtui.domain import format as fmt
from liqtui.engine.views import CrossAsset, SymbolView
from liqtui.ui.widgets.line_pane import LinePane, Part

WINDOW_NOTE = "(24h change)"


def cross_parts(entry: CrossAsset) -> list[Part]:
    change = entry.change_24h_pct
    arrow = "" if change is None else ("▲" if change >= 0 else "▼")
    style = None if change is None else ("pane--up" if change >= 0 else "pane--down")
    return [
        (fmt.base_coin(entry.symbol) + " ", "pane--head"),
        (fmt.price(entry.last) + " ", None),
        (f"{arrow}{fmt.pct(change)}", style),
        ("   ", None),
    ]


class CrossAssetStrip(LinePane[tuple[CrossAsset, ...]]):
    """BTC 82,800 ▼-9.0 %   ETH 2,750.3 ▼-7.1 %   XAU 4,890.0 ▼-8.0 %"""

    DEFAULT_CSS = """
    CrossAssetStrip {
        height: 1;
    }
    """

    def displayed(self, view: SymbolView) -> tuple[CrossAsset, ...]:
        return view.cross

    def draw(self, width: int, height: int) -> list[list[Part]]:
        entries = self._shown
        if not entries:
            return [[("cross assets: none configured", "pane--dim")]]
        parts: list[Part] = []
        used = 0
        for entry in entries:  # whole entries only: a narrow strip never cuts a price or a change
            entry_parts = cross_parts(entry)
            size = sum(len(text) for text, _ in entry_parts[:-1])
            if used + size > width:
                break
            parts.extend(entry_parts)
            used += size + len(entry_parts[-1][0])
        if parts and used + len(WINDOW_NOTE) <= width:
            parts.append((WINDOW_NOTE, "pane--dim"))  # what the changes cover, where there is room
        return [parts]
