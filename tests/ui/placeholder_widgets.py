"""Stand-ins for the WIDGETS engineer's panes, used ONLY while `liqtui.ui.widgets` does not export
them yet. They honour the contract (``show(view)`` and the reactives the app drives) and render one
line saying what they got, so the app's own behaviour can be tested."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widget import Widget


class _Pane(Widget):
    DEFAULT_CSS = "_Pane { height: 1fr; border: round $primary; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.views: list = []

    def show(self, view) -> None:
        self.views.append(view)
        self.refresh()

    def render(self) -> str:
        view = self.views[-1] if self.views else None
        return f"{type(self).__name__} {view.symbol if view else '-'}"


class LadderPane(_Pane):
    follow = reactive(True)


class TapePane(_Pane):
    min_usd = reactive(0.0)
    current_only = reactive(False)


class TotalsPane(_Pane):
    pass


class OIPane(_Pane):
    pass


class RiskChartPane(_Pane):
    target = reactive(None)


class VolumeSharePane(_Pane):
    pass


class CrossAssetStrip(_Pane):
    DEFAULT_CSS = "CrossAssetStrip { height: 1; }"


NAMES = ("LadderPane", "TapePane", "TotalsPane", "OIPane", "RiskChartPane", "VolumeSharePane",
         "CrossAssetStrip")
