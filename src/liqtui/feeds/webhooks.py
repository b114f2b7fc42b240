"""Alerts pushed to phones and chats through apprise (``ntfy://``, ``tgram://``, ``discord://``,
``slack://``, ``json://`` ... one URL per service, `[alerts] webhooks`; docs/alerts.md).

    pusher = WebhookPusher(urls, batch_seconds=3.0)   # ValueError for a URL apprise does not know
    pusher.add(alert)                                  # never blocks: a list append under a lock
    pusher.close(timeout=10)                           # at the end: what is pending is sent (or said)

Per service and symbol, alerts are gathered for ``batch_seconds`` from the first one and sent as one
message (a burst of alerts on BTC is one push, so a service's rate limit holds). A batch a service
refuses (apprise reports failure: an HTTP 500, a timeout) is tried again after ``BACKOFF_S`` (1, 2, 4
... 60 s, then every 60 s) until it goes through: services are independent, so a failing one never
delays another, and one thread does the sending, so neither the desk nor `liqtui alerts` waits.
The alert itself is never lost locally: it is on the desk's log and in `liqtui alerts`' output
whatever a webhook does; ``failures`` and ``last_error`` say what went wrong.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from liqtui.domain.alerts import Alert
from liqtui.domain.terminal import notice_title
from liqtui.domain.text import printable

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 60.0)


@dataclass
class _Batch:
    service: int
    symbol: str
    due: float  # monotonic time it is sent (or tried again)
    alerts: list[Alert] = field(default_factory=list)
    attempts: int = 0


class WebhookPusher:
    def __init__(
        self,
        urls: Sequence[str],
        *,
        batch_seconds: float = 3.0,
        backoff_s: Sequence[float] = BACKOFF_S,
        label: str = "",
    ) -> None:
        """``label``: what the data is when it is not live ("DEMO"), said in every push's title."""
        import apprise  # here: only a run with webhooks pays for it

        self.urls = list(urls)
        self.label = label
        self._services: list[Any] = []
        for url in self.urls:
            service = apprise.Apprise()
            if not service.add(url):
                raise ValueError(
                    f"webhook {_shown(url)}: not a URL apprise can send to (see its list of services)"
                )
            self._services.append(service)
        self.batch_seconds = batch_seconds
        self.backoff_s = tuple(backoff_s)
        self.sent = 0  # batches delivered
        self.failures = 0  # attempts refused
        self.last_error = ""
        self._batches: list[_Batch] = []
        self._cond = threading.Condition()
        self._closing = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="liqtui-webhooks", daemon=True)
        self._thread.start()

    def add(self, alert: Alert) -> None:
        now = time.monotonic()
        with self._cond:
            for service in range(len(self._services)):
                batch = next(
                    (
                        b
                        for b in self._batches
                        if b.service == service and b.symbol == alert.symbol and b.attempts == 0
                    ),
                    None,
                )
                if batch is None:
                    batch = _Batch(service, alert.symbol, now + self.batch_seconds)
                    self._batches.append(batch)
                batch.alerts.append(alert)
            self._cond.notify()

    @property
    def pending(self) -> int:
        with self._cond:
            return sum(len(b.alerts) for b in self._batches)

    def close(self, timeout: float = 10.0) -> bool:
        """Send what is pending now (tried again until ``timeout``); True when nothing is left."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closing = True
            for batch in self._batches:
                batch.due = min(batch.due, time.monotonic())
            self._cond.notify_all()
            while self._batches and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(min(0.05, left))
            done = not self._batches
            self._stopped = True
            self._cond.notify_all()
        return done

    def _run(self) -> None:
        while True:
            with self._cond:
                batch = self._next_due()
                while batch is None or self._stopped:
                    if self._stopped:
                        return
                    self._cond.wait(self._wait_s())
                    batch = self._next_due()
            ok = self._send(batch)
            with self._cond:
                if ok:
                    self._batches.remove(batch)
                    self.sent += 1
                else:
                    self.failures += 1
                    step = min(batch.attempts, len(self.backoff_s) - 1)
                    batch.due = time.monotonic() + (
                        self.backoff_s[0] if self._closing else self.backoff_s[step]
                    )
                    batch.attempts += 1
                self._cond.notify_all()

    def _next_due(self) -> _Batch | None:
        now = time.monotonic()
        due = [b for b in self._batches if b.due <= now]
        return min(due, key=lambda b: b.due) if due else None

    def _wait_s(self) -> float:
        now = time.monotonic()
        return max(0.01, min((b.due - now for b in self._batches), default=1.0))

    def _send(self, batch: _Batch) -> bool:
        title, body = message(batch.alerts, self.label)
        try:
            ok = bool(self._services[batch.service].notify(title=title, body=body))
        except Exception as exc:  # noqa: BLE001 - a plugin's own error is a failed attempt, tried again
            ok, self.last_error = False, f"{type(exc).__name__}: {exc}"
        if not ok and not self.last_error:
            self.last_error = f"{_shown(self.urls[batch.service])} refused the alerts"
        return ok


def message(alerts: Sequence[Alert], label: str = "") -> tuple[str, str]:
    """(title, body) of one push: "liqtui: BTC alert" with the alert's words, or "liqtui: BTC, 3
    alerts" with one line each (updates marked); "liqtui DEMO: ..." on simulated data."""
    coin = alerts[0].symbol.split("/", 1)[0]
    head = notice_title(label)
    title = f"{head}: {coin} alert" if len(alerts) == 1 else f"{head}: {coin}, {len(alerts)} alerts"
    lines = [("update: " if a.update else "") + a.text + f" [{a.rule}]" for a in alerts]
    return printable(title), printable("\n".join(lines), keep="\n")


def _shown(url: str) -> str:
    """A webhook URL as a message may show it: the scheme and host, never the token after them."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].split('@')[-1]}/..." if rest else repr(url)
