"""The desk's side of the alerts: the rules over the events it takes, the log the alerts screen shows,
the ladder rows a cluster_near alert marks, and the webhooks (never on a replay). The app makes the
toasts and the terminal's notices."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from liqtui.config import Settings
from liqtui.domain.alerts import Alert
from liqtui.domain.events import Event

LOG_KEPT = 500  # alerts the log screen keeps (updates included)
MARK_MS = 600_000  # a cluster_near alert marks its ladder row this long (or its rule's cooldown)


class DeskAlerts:
    def __init__(
        self,
        settings: Settings,
        engine: Any,
        since_ms: int,
        *,
        push: bool = True,
        history: Callable[[], bool] | None = None,
    ) -> None:
        """``history()``: True while the source hands out history (a replay catching up, the demo's
        backfill): its events warm the rules but fire nothing (those alerts are not news)."""
        self.settings = settings
        self.history = history
        self.rules = settings.alerts.active_rules()
        self.notices = settings.alerts.notices()
        self.log: deque[Alert] = deque(maxlen=LOG_KEPT)
        self.marks: dict[str, dict[float, int]] = {}  # symbol -> row price -> marked until (ms)
        self.problem = ""  # why the webhooks are off (a URL apprise does not know)
        self.pusher = self._pusher(settings) if push else None
        self.reset(engine, since_ms)

    def _pusher(self, settings: Settings) -> Any:
        if not settings.alerts.webhooks:
            return None
        from liqtui.feeds.webhooks import WebhookPusher

        try:
            return WebhookPusher(
                settings.alerts.webhooks, batch_seconds=settings.alerts.webhook_batch_seconds
            )
        except ValueError as exc:
            self.problem = f"Webhooks are off: {exc}"
            return None

    def close(self) -> None:
        """At the desk's end: what the webhooks still hold is sent (a few seconds at most)."""
        if self.pusher is not None:
            self.pusher.close(timeout=5)

    def reset(self, engine: Any, since_ms: int) -> None:
        """A fresh engine (a replay seeking back): the rules start over on it."""
        from liqtui.engine.alerts import AlertEvaluator

        self.evaluator = AlertEvaluator(self.rules, engine, since_ms=since_ms, history=self.history)

    def see(self, event: Event) -> list[Alert]:
        """The alerts ``event`` fires (none from history: see ``__init__``)."""
        fired = self.evaluator.see(event) if self.rules else []
        if not fired:
            return []
        for alert in fired:
            self.log.append(alert)
            if self.pusher is not None:
                self.pusher.add(alert)
            if alert.kind == "cluster_near" and alert.price is not None and not alert.update:
                rule = next((r for r in self.rules if r.name == alert.rule), None)
                until = alert.at + max(MARK_MS, rule.cooldown_ms if rule else 0)
                self.marks.setdefault(alert.symbol, {})[alert.price] = until
        return fired

    def marked_prices(self, symbol: str, now_ms: int) -> frozenset[float]:
        marks = self.marks.get(symbol, {})
        for price in [p for p, until in marks.items() if until < now_ms]:
            del marks[price]
        return frozenset(marks)
