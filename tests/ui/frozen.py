"""A desk frozen at one instant of the seeded demo: deterministic screens for snapshot tests and
for ``scripts/screenshots.py`` (which imports it from here by path). A test fixture: not shipped.

The demo market is stepped synchronously to a fixed simulated time and every event goes into a
real engine; the source the app then gets emits nothing more and keeps its clock at that time, so
two runs draw the same screen to the character.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from liqtui.config import Settings
from liqtui.domain.events import Event, FeedStatus, Liquidation
from liqtui.engine import Engine
from liqtui.feeds.demo import DemoMarket
from liqtui.feeds.event_source import Emit

DEFAULT_SEED = 7
DEFAULT_MINUTES = 5.0


class FrozenSource:
    """The demo market stopped at ``now``: the badge says DEMO, the clock does not move."""

    mode = "DEMO"

    def __init__(self, market: DemoMarket) -> None:
        self.market = market
        self._now = market.now_ms

    def now_ms(self) -> int:
        return self._now

    async def run(self, emit: Emit) -> None:
        await asyncio.Event().wait()  # nothing more happens; cancelled when the desk closes

    def set_focus(self, symbol: str) -> None:
        self.market.set_focus(symbol)

    def symbols(self) -> list[str]:
        return self.market.symbols()


def seeded_events(
    settings: Settings, *, seed: int, rate: str, minutes: float
) -> tuple[DemoMarket, list[Event]]:
    market = DemoMarket(settings, seed=seed, rate=rate)
    events = list(market.start_events())
    events += market.advance_to(market.now_ms + int(minutes * 60_000))
    return market, events


@dataclass
class FrozenDesk:
    source: FrozenSource
    engine: Any
    last_message: dict[str, int]  # venue -> newest event time, for the header's chip ages


@lru_cache(maxsize=4)
def _frozen(seed: int, rate: str, minutes: float) -> tuple[DemoMarket, tuple[Event, ...]]:
    market, events = seeded_events(Settings(), seed=seed, rate=rate, minutes=minutes)
    return market, tuple(events)


def frozen_desk(
    *,
    seed: int = DEFAULT_SEED,
    rate: str = "busy",
    minutes: float = DEFAULT_MINUTES,
    settings: Settings | None = None,
    skip: tuple[type, ...] = (),
) -> FrozenDesk:
    """The seeded demo after ``minutes`` of simulated trading, in a fresh engine.

    The simulation is run once per (seed, rate, minutes) in a process; each desk gets its own engine.
    The market always runs on the default settings so that a layout or theme never changes the data.
    Events of the ``skip`` types never reach the engine (a desk without the demo's tracked accounts).
    """
    market, events = _frozen(seed, rate, minutes)
    engine = Engine((settings or Settings()).levels)
    last: dict[str, int] = {}
    for event in events:
        if isinstance(event, skip):
            continue
        engine.apply(event)
        if not isinstance(event, FeedStatus):
            at = event.recv_time if isinstance(event, Liquidation) else event.time
            last[event.venue] = max(last.get(event.venue, 0), at)
    return FrozenDesk(FrozenSource(market), engine, last)


def frozen_app(
    *,
    layout: str | None = None,
    theme: str = "dark",
    seed: int = DEFAULT_SEED,
    rate: str = "busy",
    minutes: float = DEFAULT_MINUTES,
    theme_dir: Any = None,
    skip: tuple[type, ...] = (),
) -> Any:
    """A LiqtuiApp on the frozen demo, ready for ``run_test`` or a snapshot."""
    from liqtui.ui.app import LiqtuiApp

    settings = Settings()
    settings = dataclasses.replace(settings, ui=dataclasses.replace(settings.ui, theme=theme))
    desk = frozen_desk(seed=seed, rate=rate, minutes=minutes, settings=settings, skip=skip)
    app = LiqtuiApp(settings, desk.source, engine=desk.engine, layout=layout, theme_dir=theme_dir)
    app.last_message.update(desk.last_message)
    return app
