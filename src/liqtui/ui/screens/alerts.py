"""The alerts log: every alert the desk heard this session, newest first, updates included."""

from __future__ import annotations

import time
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from liqtui.domain.alerts import Alert
from liqtui.domain.text import printable


def log_line(alert: Alert) -> str:
    """ "12:05:42  ALERT   ETH cascade: ...  [cascade]": when it was said, new or update, the words, the rule."""
    clock = time.strftime("%H:%M:%S", time.gmtime(alert.at / 1000))
    return printable(f"{clock}  {'update' if alert.update else 'ALERT '}  {alert.text}  [{alert.rule}]")


class AlertsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,a,q", "dismiss", "close", show=False)]
    DEFAULT_CSS = """
    AlertsScreen { align: center middle; }
    AlertsScreen > Vertical {
        width: 120; max-width: 100%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    AlertsScreen .title { text-style: bold; color: $accent; }
    AlertsScreen OptionList { height: auto; max-height: 40; border: none; }
    AlertsScreen #alerts-empty { color: $text-muted; }
    """

    def __init__(self, alerts: Sequence[Alert], rules: int, mode: str) -> None:
        super().__init__()
        self._alerts = list(alerts)
        self._rules = rules
        self._mode = mode

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"Alerts on {self._mode} data: {len(self._alerts)} this session, newest first  "
                f"({self._rules} rules; Esc closes)",
                classes="title",
                markup=False,
            )
            if self._alerts:
                yield OptionList(*(Option(log_line(a)) for a in reversed(self._alerts)), id="alerts-log")
            else:
                words = "none yet" if self._rules else "no rule is enabled: [[alerts.rules]] in the config"
                yield Static(words, id="alerts-empty", markup=False)
