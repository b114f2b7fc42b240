"""ReplaySource: plays a recording back through the same pipeline as live data, on a replay clock.

    source = ReplaySource(path, speed=1.0, start_ms=None)   # StoreError for an unusable file
    source.on_reset = rebuild_engine                         # see "Seeking backward" below
    await source.run(emit)

The clock: ``now_ms()`` is the replay time. It starts at ``from_ms`` (the ``start_ms`` argument,
default the first event) and advances at ``speed`` x wall time; it stops while ``paused`` and
does not run past the last event. ``speed = 0`` (or ``realtime=False``) plays as fast as possible,
the clock following the events (tests, benchmarks).

Events before ``from_ms`` are emitted at once, unpaced, so the engine holds the same 24 h totals
and OI lookback at ``from_ms`` as a desk that had been running then.

Seeking: ``seek(time_ms)`` forward emits everything up to ``time_ms`` at once (the engine sees every
event, as if played). Seeking backward cannot un-apply events: the source calls ``on_reset()``
(from inside ``run``, on the event loop, before the first event of the rebuild) and sets
``reset_needed`` until then; the desk must replace its engine with a fresh one in that callback.
The source then re-emits the recording from its first event up to ``time_ms`` at once and plays on.

``recorded_mode`` says what the file holds, "LIVE" or "DEMO" data: a replay of a demo session
must say so ("REPLAY of DEMO data").

Recording span: ``start_ms`` and ``end_ms`` are the first and last event times in the file.
At the end ``run`` waits (clock held at ``end_ms``, ``finished`` true) for a seek, unless the
source was built with ``hold_at_end=False``, in which case ``run`` returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from liqtui.domain.events import Event
from liqtui.feeds.base import Emit
from liqtui.storage.reader import EventStream, describe, read_events
from liqtui.storage.rows import event_time
from liqtui.storage.schema import StoreError

_YIELD_EVERY = 2000  # unpaced emission gives the event loop a turn this often
_MAX_WAIT_S = 0.5


class ReplaySource:
    mode = "REPLAY"

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float = 1.0,
        start_ms: int | None = None,
        realtime: bool = True,
        hold_at_end: bool = True,
        on_reset: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path).expanduser()
        info = describe(self.path)  # validates the file: StoreError for an unusable one
        if info.start_ms is None or info.end_ms is None:
            raise StoreError(f"{self.path}: the recording holds no events")
        self.start_ms: int = info.start_ms
        self.end_ms: int = info.end_ms
        self._symbols = list(info.symbols)
        self.recorded_mode = info.source_mode  # "LIVE" or "DEMO": what was recorded (label it)
        self.from_ms = min(max(start_ms if start_ms is not None else self.start_ms, self.start_ms), self.end_ms)
        self.realtime = realtime
        self.hold_at_end = hold_at_end
        self.on_reset = on_reset
        self.focus: str | None = None
        self.finished = False
        self.reset_needed = False
        self.emitted = 0
        self._clock = clock
        self._speed = max(0.0, float(speed))
        self._paused = False
        self._pos_ms = self.from_ms  # replay time at the anchor
        self._anchor = clock()
        self._seek_to: int | None = None
        self._wake: asyncio.Event | None = None
        self._fast = False  # emitting unpaced up to a start or seek time: the clock follows events
        self._stream: EventStream | None = None

    # -- the clock -----------------------------------------------------------------------------

    @property
    def paced(self) -> bool:
        return self.realtime and self._speed > 0

    def now_ms(self) -> int:
        if self._paused or not self.paced or self.finished or self._fast or self._wake is None:
            return self._pos_ms
        elapsed_ms = (self._clock() - self._anchor) * 1000.0 * self._speed
        return min(self._pos_ms + int(elapsed_ms), self.end_ms)

    def _reanchor(self, pos_ms: int | None = None) -> None:
        self._pos_ms = self.now_ms() if pos_ms is None else pos_ms
        self._anchor = self._clock()
        if self._wake is not None:
            self._wake.set()

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._reanchor()
        self._speed = max(0.0, float(value))

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        if not self._paused:
            self._reanchor()
            self._paused = True

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self._reanchor(self._pos_ms)

    def seek(self, time_ms: int) -> None:
        """Jump the replay clock to ``time_ms`` (clamped to the recording); see the module notes."""
        self._seek_to = min(max(int(time_ms), self.start_ms), self.end_ms)
        self.finished = False  # until the run loop has played to the end again
        if self._wake is not None:
            self._wake.set()

    # -- EventSource ---------------------------------------------------------------------------

    def set_focus(self, symbol: str) -> None:
        self.focus = symbol  # every recorded book is replayed; nothing to subscribe to

    def symbols(self) -> list[str]:
        return list(self._symbols)

    async def run(self, emit: Emit) -> None:
        self._wake = asyncio.Event()  # also starts the clock (it stands still until run)
        events = self._read()
        fast_until: int | None = self.from_ms  # events up to here go out unpaced
        pending: Event | None = None
        while True:
            if self._seek_to is not None:
                events, fast_until, pending = self._apply_seek(events, pending)
            event = pending if pending is not None else next(events, None)
            pending = None
            if event is None:
                self._fast = False
                if fast_until is not None:
                    self._pos_ms = fast_until
                    fast_until = None
                if not await self._at_end():
                    return
                continue
            t = event_time(event)
            if fast_until is not None and t <= fast_until:
                self._fast = True
                self._pos_ms = max(self._pos_ms, t)
                await self._emit(emit, event)
                continue
            if fast_until is not None:
                self._fast = False
                self._reanchor(fast_until)
                fast_until = None
            if self.paced and not await self._wait_until(t):
                pending = event  # a seek came in while waiting: decide again
                continue
            if not self.paced:
                self._pos_ms = max(self._pos_ms, t)
            await self._emit(emit, event)

    def _read(self) -> Iterator[Event]:
        self._stream = read_events(self.path)
        return self._stream

    @property
    def damage_note(self) -> str | None:
        """One line about the damaged rows the replay skipped so far (None: there were none)."""
        return self._stream.note() if self._stream is not None else None

    def _apply_seek(
        self, events: Iterator[Event], pending: Event | None
    ) -> tuple[Iterator[Event], int, Event | None]:
        target, self._seek_to = self._seek_to, None
        assert target is not None
        current = self.now_ms()
        if target >= current:
            self._pos_ms = current
            return events, target, pending
        # Backward: the engine must be rebuilt from the first event.
        self.reset_needed = True
        if self.on_reset is not None:
            self.on_reset()
        self.reset_needed = False
        if hasattr(events, "close"):
            events.close()  # type: ignore[union-attr]
        self._pos_ms = self.start_ms
        return self._read(), target, None

    async def _emit(self, emit: Emit, event: Event) -> None:
        emit(event)
        self.emitted += 1
        if self.emitted % _YIELD_EVERY == 0:
            await asyncio.sleep(0)

    async def _wait_until(self, t: int) -> bool:
        """Sleep until the replay clock reaches ``t``; False if a seek interrupted the wait."""
        assert self._wake is not None
        while True:
            if self._seek_to is not None:
                return False
            if not self._paused:
                ahead_ms = t - self.now_ms()
                if ahead_ms <= 0 or not self.paced:
                    return True
                timeout = min(ahead_ms / 1000.0 / self._speed, _MAX_WAIT_S)
            else:
                timeout = _MAX_WAIT_S
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    async def _at_end(self) -> bool:
        """The recording is played out: hold the clock at the end and wait for a seek (or stop)."""
        self._pos_ms = self.end_ms
        self.finished = True
        if not self.hold_at_end:
            return False
        assert self._wake is not None
        while self._seek_to is None:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), _MAX_WAIT_S)
            except TimeoutError:
                pass
        return True
