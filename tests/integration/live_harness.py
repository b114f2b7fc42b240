"""Running liqtui's LiveSource against a loopback fake exchange, and waiting on what it emits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from liqtui.config import settings_from_dict
from liqtui.domain.events import FeedState, FeedStatus, Liquidation
from liqtui.feeds.live.source import LiveSource
from liqtui.feeds.live.supervision import Timings

# The exact topic the tests' BTC liquidation frames are routed by (the fakes drop a frame pushed
# before its topic is subscribed). Bybit has one topic per symbol: waiting for any
# "allLiquidation" topic would also count the ETH and SOL ones of the same subscribe, so
# ``subscribed(count=2)`` could return before the resubscription after a reconnect.
LIQUIDATION_TOPIC = {
    "binanceusdm": "!forceOrder@arr",
    "bybit": "allLiquidation.BTCUSDT",
    "okx": "liquidation-orders",
}

# Short delays so faults resolve in seconds; history of one hour keeps the backfill small.
FAST = dict(stale_after=30.0, backoff_base=0.1, backoff_cap=1.0, watchdog_tick=0.1, history_days=1 / 24)


class LiveRun:
    def __init__(
        self,
        fake: Any,
        *,
        oi_poll_seconds: float = 15.0,
        watchlist: list[str] | None = None,
        source_options: dict[str, Any] | None = None,
        **timings: float,
    ):
        """``source_options``: more keyword arguments of LiveSource (``book_symbols=`` ...)."""
        self.fake = fake
        self.venue = fake.venue
        settings = settings_from_dict(
            {
                "watchlist": watchlist or ["BTC/USDT:USDT", "ETH/USDT:USDT"],
                "cross_assets": [],
                "oi_poll_seconds": oi_poll_seconds,
                # The loopback fake has no rate limits: ccxt's throttle (Binance's 24hr ticker
                # weighs 40 x 50 ms) would only slow the tests down.
                "venues": {
                    self.venue: {
                        "url_rewrite": fake.url_rewrite,
                        "ccxt": {"rateLimit": 1, "timeout_on_exit": 0},
                    }
                },
            }
        )
        self.source = LiveSource(
            settings, venues=[self.venue], timings=Timings(**{**FAST, **timings}), **(source_options or {})
        )
        self.events: list[Any] = []
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> LiveRun:
        self.task = asyncio.create_task(self.source.run(self.events.append))
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self.task is not None
        if self.task.done() and self.task.exception() is not None:
            raise self.task.exception()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    @property
    def feed(self):
        return self.source.feeds[self.venue]

    def liquidations(self) -> list[Liquidation]:
        return [e for e in self.events if isinstance(e, Liquidation)]

    def statuses(self, kind: str | None = None) -> list[FeedStatus]:
        return [e for e in self.events if isinstance(e, FeedStatus) and (kind is None or e.kind == kind)]

    def of_type(self, cls: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    async def until(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if self.task is not None and self.task.done():
                raise AssertionError(f"LiveSource stopped: {self.task!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; statuses: {self.statuses()[-8:]}")
            await asyncio.sleep(0.02)

    async def until_status(
        self, kind: str, state: FeedState, after: int = 0, timeout: float = 10.0, contains: str = ""
    ) -> FeedStatus:
        def found():
            for status in self.statuses(kind)[after:]:
                if status.state is state and contains in status.detail:
                    return status
            return None

        return await self.until(found, timeout, f"{kind} {state.value} {contains!r}")

    async def subscribed(self, count: int = 1) -> None:
        await self.fake.wait_subscribed(LIQUIDATION_TOPIC[self.venue], timeout=15, count=count)
