"""The cross-asset strip: one line of configured symbols with last price and 24h change.

Reads ``view.cross``. The sign is written (+/-, with ▲/▼) as well as coloured.
"""

from __future__ import annotations

from liqtui.domain import format as fmt
from liqtui.engine.views import CrossAsset, SymbolView
from liqtui.ui.widgets.line_pane import LinePane, Part


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
        for entry in entries:
            parts.extend(cross_parts(entry))
        return [parts]
