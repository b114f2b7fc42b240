"""Modal screens of the desk: help, the live-to-demo offer, the alerts log, the MEASURED positions (the symbol
picker and the value prompts are in the desk's command bar: liqtui.ui.widgets.command_bar)."""

from liqtui.ui.screens.alerts import AlertsScreen
from liqtui.ui.screens.help import HelpScreen, sampled_venue_names
from liqtui.ui.screens.offer import OfferDemoScreen
from liqtui.ui.screens.positions import PositionsScreen

__all__ = [
    "AlertsScreen",
    "HelpScreen",
    "OfferDemoScreen",
    "PositionsScreen",
    "sampled_venue_names",
]
