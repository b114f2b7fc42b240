"""Modal screens of the desk: help, symbol picker, value prompts, the live-to-demo offer, the alerts log, the MEASURED positions."""

from liqtui.ui.screens.alerts import AlertsScreen
from liqtui.ui.screens.help import HelpScreen, sampled_venue_names
from liqtui.ui.screens.offer import OfferDemoScreen
from liqtui.ui.screens.picker import SymbolPicker, rank_symbols
from liqtui.ui.screens.positions import PositionsScreen
from liqtui.ui.screens.prompt import PromptScreen, parse_amount, parse_target

__all__ = [
    "AlertsScreen",
    "HelpScreen",
    "OfferDemoScreen",
    "PositionsScreen",
    "PromptScreen",
    "SymbolPicker",
    "parse_amount",
    "parse_target",
    "rank_symbols",
    "sampled_venue_names",
]
