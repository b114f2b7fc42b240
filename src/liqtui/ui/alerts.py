"""The desk's side of the alerts: the rules over the events it takes, the log the alerts screen shows,
the ladder rows a cluster_near alert marks, and the webhooks (never on a replay). The app makes the
toasts and the terminal's notices, and writes the alerts to the recording.

A replay of a recording that holds the alerts its session said (``recorded``) shows those, as they
were said, when the replay's events reach their time; the rules run again only on a recording made
before liqtui recorded alerts."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from liqtui.config import Settings
from liqtui.domain.alerts import Alert
from liqtui.domain.events import Event, Liquidation
from liqtui.engine.batch import newest_time

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
        recorded: Sequence[Alert] | None = None,
        label: str = "",
    ) -> None:
        """``history()``: True while the source hands out history (a replay catching up, the demo's
        backfill): its events warm the rules but fire nothing (those alerts are not news), and
        recorded alerts they pass go to the log without a toast. ``recorded``: a replay's alerts."""
        self.settings = settings
        self.label = label  # "DEMO", "REPLAY": what the data is when not live, in notices and pushes
        self.history = history
        self.recorded = list(recorded) if recorded is not None else None
        self._next_recorded = 0
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
                settings.alerts.webhooks,
                batch_seconds=settings.alerts.webhook_batch_seconds,
                label=self.label,
            )
        except ValueError as exc:
            self.problem = f"Webhooks are off: {exc}"
            return None

    def relabel(self, label: str) -> None:
        """The data changed kind (the live desk switched to the demo): notices and pushes say so."""
        self.label = label
        if self.pusher is not None:
            self.pusher.label = label

    def close(self) -> None:
        """At the desk's end: what the webhooks still hold is sent (a few seconds at most)."""
        if self.pusher is not None:
            self.pusher.close(timeout=5)

    def reset(self, engine: Any, since_ms: int) -> None:
        """A fresh engine (a replay seeking back): the rules start over on it."""
        from liqtui.engine.alerts import AlertEvaluator

        self.evaluator = AlertEvaluator(self.rules, engine, since_ms=since_ms, history=self.history)
        if self.recorded is not None:  # a replay from its start: the log shows what it reaches again
            self._next_recorded = 0
            self.log.clear()
            self.marks.clear()

    def see(self, event: Event) -> list[Alert]:
        """The alerts ``event`` fires (none from history: see ``__init__``), or on a replay that
        recorded them, the recorded alerts said up to its time."""
        if self.recorded is not None:
            return self._replayed(getattr(event, "time", None))
        fired = self.evaluator.see(event) if self.rules else []
        return self._take(fired) if fired else []

    def see_liquidations(self, liqs: Sequence[Liquidation]) -> list[Alert]:
        """``see`` for each of a run of liquidations, the same alerts (the desk's bulk path)."""
        if self.recorded is not None:  # the recorded alerts up to the newest: what one call each says
            return self._replayed(newest_time(liqs)) if len(liqs) else []
        fired = self.evaluator.see_liquidations(liqs) if self.rules else []
        return self._take(fired) if fired else []

    def _replayed(self, time_ms: int | None) -> list[Alert]:
        recorded, start = self.recorded or [], self._next_recorded
        if time_ms is None or start >= len(recorded) or recorded[start].at > time_ms:
            return []
        end = start
        while end < len(recorded) and recorded[end].at <= time_ms:
            end += 1
        self._next_recorded = end
        said = self._take(recorded[start:end])
        return [] if self.history is not None and self.history() else said

    def _take(self, fired: list[Alert]) -> list[Alert]:
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
