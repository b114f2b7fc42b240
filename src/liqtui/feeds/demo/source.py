"""The DEMO event source: the simulated market of ``market.py`` paced for the desk.

``DemoSource`` implements the EventSource protocol (``liqtui.feeds.event_source``). Its venues carry the real
ccxt ids (binanceusdm, bybit, okx, hyperliquid) so the desk runs exactly the code path it runs live;
what marks the data as simulated is ``mode = "DEMO"`` (the desk's badge) and the feed states'
"simulated" detail. ``now_ms`` is the simulated clock: views must be asked for at this time.

With ``realtime=True`` the market advances one tick (100 ms of simulated time by default) per
``tick / speed`` of wall time; with ``realtime=False`` it runs as fast as it can, yielding to the
event loop after every tick (tests, benches, recording a demo session quickly).
"""

from __future__ import annotations

import asyncio

from liqtui.config import Settings
from liqtui.domain.events import Event
from liqtui.feeds.demo.instruments import RATES
from liqtui.feeds.demo.market import DEFAULT_BACKFILL_HOURS, DEFAULT_START_MS, DemoMarket, demo_symbols
from liqtui.feeds.event_source import Emit, emit_all

# Events emitted between yields to the event loop, for the history and for each tick: a stress tick
# holds ~1,000 events (25-30 ms of the desk's CPU in one go, which a key pressed meanwhile waited
# for; the history's chunks were 2,000); 250 keeps each stretch to a few ms.
_CHUNK = 250


class DemoSource:
    """A simulated market as an event source, deterministic for a given seed."""

    mode = "DEMO"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        seed: int = 0,
        rate: str = "busy",
        start_ms: int = DEFAULT_START_MS,
        realtime: bool = True,
        speed: float = 1.0,
        backfill_hours: float = DEFAULT_BACKFILL_HOURS,
        tick_ms: int = 100,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"demo speed must be positive, got {speed}")
        if rate not in RATES:
            raise ValueError(f"unknown demo rate {rate!r} (expected one of: {', '.join(RATES)})")
        # log_size=0: the desk reads only the events, not the log of every forced order (at stress
        # 30,000 objects a second that nobody reads).
        self._options = dict(
            seed=seed,
            rate=rate,
            start_ms=start_ms,
            backfill_hours=backfill_hours,
            tick_ms=tick_ms,
            log_size=0,
        )
        self._settings = settings
        self._market: DemoMarket | None = None
        self._building = False
        self._progress = 0.0
        self._history_sent = False  # run handed out the history: what follows is live
        self._focus: str | None = None
        self.start_ms = int(start_ms)
        self.realtime = realtime
        self.speed = speed
        self.tick_ms = tick_ms

    @property
    def market(self) -> DemoMarket:
        """The simulated market, built here on first use unless ``run`` is building it."""
        if self._market is None:
            if self._building:
                raise RuntimeError("the demo market is still being built")
            self._market = self._build()
        return self._market

    def _build(self) -> DemoMarket:
        market = DemoMarket(self._settings, progress=self._set_progress, **self._options)  # type: ignore[arg-type]
        if self._focus is not None:
            market.set_focus(self._focus)
        return market

    def _set_progress(self, share: float) -> None:
        self._progress = share

    @property
    def warmup(self) -> float | None:
        """While the market builds its 25 h of history and ``run`` hands it out: the share built (0 to
        1); then None. The history's last OI samples fall on the start time itself, so the desk and
        ``liqtui alerts`` ask this, not the clock, to tell history from news."""
        return None if self._history_sent else self._progress

    def now_ms(self) -> int:
        return self._market.now_ms if self._market is not None else self.start_ms

    def symbols(self) -> list[str]:
        return self._market.symbols() if self._market is not None else demo_symbols(self._settings)

    def set_focus(self, symbol: str) -> None:
        self._focus = symbol
        if self._market is not None:
            self._market.set_focus(symbol)

    async def run(self, emit: Emit) -> None:
        if self._market is None:
            # The history takes about a second of CPU: built off the event loop, after the desk's
            # first frame, while the header shows how far it is (``warmup``).
            self._building = True
            try:
                market = await asyncio.to_thread(self._build)
            finally:
                self._building = False
            if self._market is None:
                self._market = market
        await _emit_chunked(self.market.start_events(), emit)
        await asyncio.sleep(0)
        self._history_sent = True
        loop = asyncio.get_running_loop()
        wall_start, sim_start = loop.time(), self.market.now_ms
        while True:
            await _emit_chunked(self.market.step(self.tick_ms), emit)
            if not self.realtime:
                await asyncio.sleep(0)
                continue
            # Pace against the start so that slow ticks do not make the clock drift behind.
            due = wall_start + (self.market.now_ms - sim_start) / 1000 / self.speed
            await asyncio.sleep(max(0.0, due - loop.time()))


async def _emit_chunked(events: list[Event], emit: Emit) -> None:
    """Emit ``events``, a chunk of ``_CHUNK`` at a time (a list each, for a bulk emit), yielding to the
    event loop between chunks."""
    for i in range(0, len(events), _CHUNK):
        if i:
            await asyncio.sleep(0)
        emit_all(emit, events[i : i + _CHUNK])
