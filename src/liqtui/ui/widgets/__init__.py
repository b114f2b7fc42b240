"""The desk's panes, and its command bar (the symbol picker and the prompts: ``command_bar``).

Each pane is a Textual widget with ``show(view: SymbolView)``, called on the render tick.

Panes read only the SymbolView they are given, repaint only when what they show changed, and take
their colours from the app's theme variables ($bid, $ask, $liq-long, $liq-short, $heat, $stale, $big).
"""

from liqtui.ui.widgets.cross import CrossAssetStrip
from liqtui.ui.widgets.heatmap import HeatmapPane
from liqtui.ui.widgets.ladder import LadderPane
from liqtui.ui.widgets.oi import OIPane
from liqtui.ui.widgets.picker import SymbolPicker, rank_symbols
from liqtui.ui.widgets.prompt import PromptBar, parse_amount, parse_target
from liqtui.ui.widgets.risk_chart import RiskChartPane
from liqtui.ui.widgets.tape import TapePane
from liqtui.ui.widgets.totals import TotalsPane
from liqtui.ui.widgets.volume import VolumeSharePane

THEME_VARIABLES = (
    "bid",
    "ask",
    "liq-long",
    "liq-short",
    "heat",
    "stale",
    "big",
    "heatmap-long",
    "heatmap-short",
    "heatmap-price",
)
"""Theme variables the panes' CSS uses; the app must define them (get_theme_variable_defaults)."""

__all__ = [
    "THEME_VARIABLES",
    "CrossAssetStrip",
    "HeatmapPane",
    "LadderPane",
    "OIPane",
    "PromptBar",
    "RiskChartPane",
    "SymbolPicker",
    "TapePane",
    "TotalsPane",
    "VolumeSharePane",
    "parse_amount",
    "parse_target",
    "rank_symbols",
]
