"""The alerts log: every alert the desk heard this session, newest first, updates included; on a
replay, the alerts its session said live (recorded), or those the rules say again on a recording
made before liqtui recorded alerts."""

from __future__ import annotations

import time
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from liqtui.domain.alerts import Alert
from liqtui.domain.text import printable
from liqtui.ui.screens.modal import DeskModal


def log_line(alert: Alert) -> str:
    """ "12:05:42  ALERT   ETH cascade: ...  [cascade]": when it was said, new or update, the words, the rule."""
    clock = time.strftime("%H:%M:%S", time.gmtime(alert.at / 1000))
    return printable(f"{clock}  {'update' if alert.update else 'ALERT '}  {alert.text}  [{alert.rule}]")


class AlertsScreen(DeskModal[None]):
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

    def __init__(self, alerts: Sequence[Alert], rules: int, mode: str, recorded: bool = False) -> None:
        super().__init__()
        self._alerts = list(alerts)
        self._rules = rules
        self._mode = mode
        self._recorded = recorded

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title(), classes="title", markup=False)
            if self._alerts:
                yield OptionList(*(Option(log_line(a)) for a in reversed(self._alerts)), id="alerts-log")
            elif self._recorded or self._rules:
                yield Static("none yet", id="alerts-empty", markup=False)
            else:
                words = "no rule is enabled: [[alerts.rules]] in the config"
                yield Static(words, id="alerts-empty", markup=False)

    def _title(self) -> str:
        count = len(self._alerts)
        if self._recorded:
            return f"Alerts on {self._mode} data, recorded live: {count} so far, newest first  (Esc closes)"
        said = (
            "said again by the config's rules (the recording holds no alerts)"
            if self._mode == "REPLAY"
            else ""
        )
        return (
            f"Alerts on {self._mode} data{', ' + said if said else ''}: {count} this session, newest "
            f"first  ({self._rules} rules; Esc closes)"
        )
