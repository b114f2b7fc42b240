"""Hyperliquid's info endpoint by weight: every ``POST /info`` liqtui makes (markets, the market poll,
the backfill, margin tiers, the account poller, fill lookups) is charged to ONE budget of
``[venues.hyperliquid] weight_budget`` a minute, never exceeded in any 60-second window
(docs/exchanges.md: the venue allows 1200 a minute per IP).

Weights as the venue publishes them: 2 for ``clearinghouseState``, ``l2Book``, ``allMids``,
``orderStatus``, ``exchangeStatus``; 20 for the others; fills and funding lists add 1 per 20 rows
returned, candles 1 per 60. A request is charged its largest weight when it leaves and settled to
its real weight when its answer is in, stamped then (so the venue, which counts it on arrival, never
sees it in a later window than liqtui does). Background work (the account poller) leaves
``headroom`` of the budget to the market poll and the rest. A 429 halves what is spent (down to an
eighth) until a minute passes without one.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from collections.abc import Callable
from typing import Any

WINDOW_S = 60.0
LIGHT = {"clearinghouseState", "l2Book", "allMids", "orderStatus", "exchangeStatus", "spotClearinghouseState"}
PER_ROWS = {
    "userFills": 20,
    "userFillsByTime": 20,
    "fundingHistory": 20,
    "userFunding": 20,
    "candleSnapshot": 60,
}
MAX_ROWS = {
    "userFills": 2000,
    "userFillsByTime": 2000,
    "fundingHistory": 500,
    "userFunding": 500,
    "candleSnapshot": 5000,
}
MAX_SLOWDOWN = 8.0

background: contextvars.ContextVar[bool] = contextvars.ContextVar("liqtui_hl_background", default=False)


def weight(kind: str, rows: int = 0) -> int:
    """The weight of one info request of ``kind`` that answered ``rows`` rows."""
    base = 2 if kind in LIGHT else 20
    per = PER_ROWS.get(kind)
    return base + (rows // per if per else 0)


def most_weight(kind: str) -> int:
    return weight(kind, MAX_ROWS.get(kind, 0))


class WeightBudget:
    """Weight spent in the last minute, held at or below ``limit`` (a 429 lowers it for a while)."""

    def __init__(
        self, limit: float, headroom: float | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self.limit = limit
        self.headroom = headroom if headroom is not None else min(100.0, limit / 5)
        self.slowdown = 1.0
        self.clock = clock
        self._log: list[list[float]] = []  # [time, weight] of each request of the last minute
        self._last_429 = -1e18

    def spent(self) -> float:
        """Weight of the last 60 seconds (requests in flight included, at their largest)."""
        now = self.clock()
        self._log = [entry for entry in self._log if entry[0] > now - WINDOW_S]
        return sum(entry[1] for entry in self._log)

    def cap(self) -> float:
        if self.slowdown > 1 and self.clock() - self._last_429 >= WINDOW_S:
            self.slowdown = max(1.0, self.slowdown / 2)
            self._last_429 = self.clock()
        return self.limit / self.slowdown

    async def take(self, most: float) -> list[float]:
        """Wait until ``most`` fits in the budget (less the headroom for background work); charge it."""
        while True:
            room = self.cap() - (self.headroom if background.get() else 0.0) - self.spent()
            if most <= room or (not self._log and most > self.limit):
                entry = [self.clock(), float(most)]
                self._log.append(entry)
                return entry
            oldest = min(entry[0] for entry in self._log) if self._log else self.clock()
            await asyncio.sleep(max(0.05, oldest + WINDOW_S - self.clock() + 0.01))

    def settle(self, entry: list[float], real: float) -> None:
        """A request's answer is in: its real weight, counted from now."""
        entry[0], entry[1] = self.clock(), float(real)

    def rate_limited(self) -> None:
        self.slowdown = min(MAX_SLOWDOWN, self.slowdown * 2)
        self._last_429 = self.clock()


def info_kind(url: str, body: Any) -> str | None:
    """The ``type`` of a ``POST /info`` body, or None for any other request."""
    if not str(url).split("?", 1)[0].endswith("/info"):
        return None
    try:
        payload = json.loads(body) if isinstance(body, (str, bytes)) else body
    except ValueError:
        return "unknown"
    kind = payload.get("type") if isinstance(payload, dict) else None
    return str(kind) if kind is not None else "unknown"


def install(exchange: Any, budget: WeightBudget) -> None:
    """Every info request of ``exchange`` (a ccxt client) waits for and is charged to ``budget``."""
    from ccxt.base.errors import DDoSProtection

    fetch = exchange.fetch

    async def budgeted(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        kind = info_kind(url, body)
        if kind is None:
            return await fetch(url, method, headers, body)
        entry = await budget.take(most_weight(kind))
        try:
            result = await fetch(url, method, headers, body)
        except DDoSProtection:  # 429/418: the venue wants less
            budget.settle(entry, weight(kind))
            budget.rate_limited()
            raise
        except BaseException:
            budget.settle(entry, weight(kind))
            raise
        budget.settle(entry, weight(kind, len(result) if isinstance(result, list) else 0))
        return result

    exchange.fetch = budgeted
