"""ReplaySource: plays a recording back through the same pipeline as live data, on a replay clock.

    source = ReplaySource(path, speed=1.0, start_ms=None)   # StoreError for an unusable file
    source.on_reset = rebuild_engine                         # see "Seeking backward" below
    await source.run(emit)

The clock: ``now_ms()`` is the replay time. It starts at ``from_ms`` (the ``start_ms`` argument,
default where the live part of the recording starts, see below) and advances at ``speed`` x wall
time; it stops while ``paused`` and does not run past the last event. ``speed = 0`` (or
``realtime=False``) plays as fast as possible, the clock following the events (tests, benchmarks).
Speeds are 0 to ``MAX_SPEED``; anything else (NaN, infinite, negative) is a ValueError.

Where it starts: a recording begins with the session's backfill (a day or more of OI and price
history fetched at start), then the live part. ``live_start_ms`` is the first event of a kind no
venue backfills (liquidations, tickers, books, feed states); the replay starts there by default.

Catching up: events before ``from_ms`` are emitted at once, unpaced, so the engine holds the same
24 h totals and OI lookback at ``from_ms`` as a desk that had been running then (every event is
applied, exactly as if played through). Until then ``warmup`` is the share done (0 to 1, for a
progress line) and ``heading_ms`` the time it catches up to; both are None when playing. Unpaced
emission gives the event loop a turn every ``_SLICE_S`` of work, so a catch-up of half a million
events never freezes the desk.

With ``read_ahead`` (the desk's), a catch-up over a large recording is read by a child process from
the source's construction on (``child``: one the desk started before, ready sooner), while this one
applies what it read (``feeds/replay_ahead.py``).

Seeking: ``seek(time_ms)`` forward emits everything up to ``time_ms`` at once (a catch-up, as
above). Seeking backward cannot un-apply events: the source calls ``on_reset()`` (from inside
``run``, on the event loop, before the first event of the rebuild) and sets ``reset_needed`` until
then; the desk must replace its engine with a fresh one in that callback. The source then catches
up from the recording's first event to ``time_ms`` and plays on. ``seek_by(delta_ms)`` seeks from
where the replay is heading (a pending seek or catch-up counts), so keys pressed during a catch-up
add up instead of jumping back into it.

A catch-up's end: ``on_caught_up()`` (if set) is called from inside ``run`` once its last event is
emitted, before any event after it: the desk draws its frame then, not at its next render tick.

``recorded_mode`` says what the file holds, "LIVE" or "DEMO" data: a replay of a demo session
must say so ("REPLAY of DEMO data"). ``recorded_alerts`` are the alerts the session said live
(None when it holds none): the desk shows them as the replay reaches them.

Recording span: ``start_ms`` and ``end_ms`` are the first and last event times in the file.
At the end ``run`` waits (clock held at ``end_ms``, ``finished`` true) for a seek, unless the
source was built with ``hold_at_end=False``, in which case ``run`` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from liqtui.config import Range
from liqtui.domain.alerts import Alert
from liqtui.domain.events import Event
from liqtui.engine.batch import LiquidationBatch, load_numpy
from liqtui.feeds.event_source import Emit, emit_all
from liqtui.feeds.replay_ahead import WAIT, ReadAhead, discard
from liqtui.feeds.replay_ahead import cores as _cores
from liqtui.storage.layouts import event_time
from liqtui.storage.reader import (
    RecordingInfo,
    RunStream,
    check_soon,
    count_events,
    describe,
    read_alerts,
    read_runs,
)
from liqtui.storage.schema import StoreError

# What the clock can do: an hour of recording a second at most (the desk's keys stop at 300). The
# command line checks the same span (commands/_args.REPLAY_SPEED) before a source is built.
SPEEDS = Range(0, 3600, "x real time", zero="as fast as it reads")
MAX_SPEED = float(SPEEDS.high)
_SLICE_S = 0.02  # unpaced emission gives the event loop a turn after this much work
_MAX_WAIT_S = 0.5
AHEAD_ROWS = 100_000  # a catch-up of this many events or more is read ahead (if asked)
_AHEAD_WAIT_S = 0.002  # the wait for a read-ahead's next chunk
_CATCH_RUN = 64  # a catch-up's other events handed to the desk as one list, at most (``_catch_events``)
Item = Event | LiquidationBatch  # what the recording's reader hands out (``read_runs``)


def checked_speed(value: float) -> float:
    """A replay speed inside SPEEDS (finite, 0 to MAX_SPEED); ValueError with words otherwise."""
    if value not in SPEEDS:
        raise ValueError(f"replay speed {value!r}: expected a number in {SPEEDS}")
    return float(value)


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
        read_ahead: bool = False,
        child: subprocess.Popen[bytes] | None = None,
        info: RecordingInfo | None = None,
    ) -> None:
        # ``child``: a reading child started before (``replay_ahead.spare_child``), the read-ahead's, or ended
        self._child = child
        self.path = Path(path).expanduser()
        # ``info``: the file's ``describe``, when the caller read it already (it validates the file:
        # StoreError for an unusable one)
        info = info if info is not None else describe(self.path)
        if info.start_ms is None or info.end_ms is None:
            raise StoreError(f"{self.path}: the recording holds no events")
        self.start_ms: int = info.start_ms
        self.end_ms: int = info.end_ms
        self.live_start_ms: int | None = info.live_start_ms  # None: the file holds only history
        self._symbols = list(info.symbols)
        self._rows = sum(info.rows.values())
        self._blocks = info.blocks  # the liquidations read in ~0.1 s here: no child reads them
        self.read_ahead = read_ahead  # a large catch-up read by a child process (``replay_ahead``)
        self.recorded_mode = info.source_mode  # "LIVE" or "DEMO": what was recorded (label it)
        # The alerts its session said live (the desk shows them again); None: the file holds none
        # (made before liqtui recorded alerts, by `collect --record`, or no rule fired): rules run again.
        self.recorded_alerts: list[Alert] | None = read_alerts(self.path) or None
        default_start = self.live_start_ms if self.live_start_ms is not None else self.start_ms
        self.from_ms = min(
            max(start_ms if start_ms is not None else default_start, self.start_ms), self.end_ms
        )
        self.realtime = realtime
        self.hold_at_end = hold_at_end
        self.on_reset = on_reset
        self.on_caught_up: Callable[[], None] | None = None  # see "A catch-up's end" above
        self.focus: str | None = None
        self.finished = False
        self.reset_needed = False
        self.emitted = 0
        self._clock = clock
        self._speed = checked_speed(speed)
        self._paused = False
        self._pos_ms = self.from_ms  # replay time at the anchor
        self._anchor = clock()
        self._seek_to: int | None = None
        self._wake: asyncio.Event | None = None
        # A catch-up: events up to _target_ms go out unpaced, the clock following them. The first
        # is to from_ms, pending from now: until run has applied it, the engine holds nothing.
        self._target_ms: int | None = self.from_ms
        self._caught = 0  # events of this catch-up emitted so far
        self._catch_total: int | None = None  # events it holds, once counted
        self._count_task: asyncio.Task[None] | None = None
        self._slice_start = time.perf_counter()
        self._stream: RunStream | ReadAhead | None = None
        self._counted: tuple[int, int] | None = None  # (until, events from the start): the read-ahead's count
        self._failed: Exception | None = None  # the reader's, raised once what it read before is in
        # The first catch-up's reading starts now, in a child, while the desk starts (``read_ahead``).
        self._ahead = self._read_ahead(self.from_ms) if read_ahead else None
        discard(self._take_child())  # not needed: no read-ahead, or not first
        # A file held in blocks is read here: its blocks checked meanwhile, in a thread (the first read's).
        self._checked = check_soon(self.path) if self._blocks and self._ahead is None else None

    # -- the clock -----------------------------------------------------------------------------

    @property
    def paced(self) -> bool:
        return self.realtime and self._speed > 0

    def now_ms(self) -> int:
        if (
            self._paused
            or not self.paced
            or self.finished
            or self._target_ms is not None
            or self._wake is None
        ):
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
        speed = checked_speed(value)
        self._reanchor()
        self._speed = speed

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

    @property
    def heading_ms(self) -> int | None:
        """The time a catch-up is heading to; None while playing."""
        return self._target_ms

    @property
    def warmup(self) -> float | None:
        """The share of a catch-up done, 0 to 1 (0 until its events are counted); None while playing."""
        if self._target_ms is None:
            return None
        if not self._catch_total:
            return 0.0
        return min(self._caught / self._catch_total, 1.0)

    def seek(self, time_ms: int) -> None:
        """Jump the replay clock to ``time_ms`` (clamped to the recording); see the module notes."""
        self._seek_to = min(max(int(time_ms), self.start_ms), self.end_ms)
        self.finished = False  # until the run loop has played to the end again
        if self._wake is not None:
            self._wake.set()

    def seek_by(self, delta_ms: int) -> None:
        """Seek ``delta_ms`` from where the replay is heading (a pending seek, a catch-up's end)."""
        if self._seek_to is not None:
            base = self._seek_to
        elif self._target_ms is not None:
            base = self._target_ms
        else:
            base = self.now_ms()
        self.seek(base + delta_ms)

    # -- EventSource ---------------------------------------------------------------------------

    def set_focus(self, symbol: str) -> None:
        self.focus = symbol  # every recorded book is replayed; nothing to subscribe to

    def symbols(self) -> list[str]:
        return list(self._symbols)

    async def run(self, emit: Emit) -> None:
        self._wake = asyncio.Event()  # also starts the clock (it stands still until run)
        try:
            await asyncio.to_thread(load_numpy)  # the catch-up's columns: imported off the loop
            await self._play(emit)
        finally:
            if self._count_task is not None:
                self._count_task.cancel()
            if self._stream is not None:
                self._stream.close()  # a read-ahead's child ends with it

    async def _play(self, emit: Emit) -> None:
        self._catch_up(self.start_ms, self.from_ms)
        events = self._read()
        pending: Item | None = None
        while True:
            if self._seek_to is not None:
                events, pending = self._apply_seek(events, pending)
            item = pending if pending is not None else await self._next(events)
            pending = None
            if item is None:
                if self._target_ms is not None:
                    self._caught_up(reanchor=False)
                if not await self._at_end():
                    return
                continue
            event: Event
            rest: LiquidationBatch | None = None
            if isinstance(item, LiquidationBatch):
                if self._target_ms is not None and item.time[0] <= self._target_ms:
                    pending = await self._catch_batch(emit, item, self._target_ms)
                    continue
                event, rest = item[0], (item[1:] if len(item) > 1 else None)  # played one at a time
            else:
                event = item
            t = event_time(event)
            if self._target_ms is not None:
                if t <= self._target_ms:
                    self._pos_ms = max(self._pos_ms, t)
                    self._caught += 1
                    run = [event]
                    pending = self._catch_events(events, run, self._target_ms)
                    await self._emit_batch(emit, run)
                    if self._failed is not None:
                        failed, self._failed = self._failed, None
                        raise failed
                    continue
                self._caught_up(reanchor=True)
            if self.paced and not await self._wait_until(t):
                pending = item  # a seek came in while waiting: decide again
                continue
            if not self.paced:
                self._pos_ms = max(self._pos_ms, t)
            await self._emit(emit, event)
            pending = rest

    async def _catch_batch(
        self, emit: Emit, batch: LiquidationBatch, target_ms: int
    ) -> LiquidationBatch | None:
        """A catch-up's run of liquidations, its rows up to ``target_ms`` at once (the bulk path:
        columns, no object per row for a desk); the rows after it, if any."""
        import numpy as np

        cut = int(np.searchsorted(batch.time, target_ms, side="right"))
        head = batch if cut == len(batch) else batch[:cut]
        self._pos_ms = max(self._pos_ms, int(head.time[-1]))
        self._caught += cut
        await self._emit_batch(emit, head)
        return batch[cut:] if cut < len(batch) else None

    def _catch_events(self, events: Iterator[Item], run: list[Event], target_ms: int) -> Item | None:
        """A catch-up's other events after ``run``'s first, up to ``target_ms``, taken into ``run`` while
        the reader hands them out without a wait (``_CATCH_RUN`` at most): the desk applies them as one
        list, in the same order (a backfill's ~14,500 went one list each). Returns the item read after
        them (a run of liquidations, an event after ``target_ms``), None when there is none yet."""
        poll = events.poll if isinstance(events, ReadAhead) else events.__next__
        pos, taken = self._pos_ms, 0
        while len(run) < _CATCH_RUN:
            try:
                item = poll()
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001 - the reader's failure: the events read before it go in first
                self._failed = exc
                break
            if item is None or item is WAIT:
                break
            if isinstance(item, LiquidationBatch) or (t := event_time(item)) > target_ms:
                self._pos_ms, self._caught = max(self._pos_ms, pos), self._caught + taken
                return item
            run.append(item)
            pos, taken = max(pos, t), taken + 1
        self._pos_ms, self._caught = max(self._pos_ms, pos), self._caught + taken
        return None

    def _read(self) -> Iterator[Item]:
        """The recording from its start, with a fresh engine: its catch-up's runs of liquidations may go
        past other markets' events (``RunStream.merge_until``), the engine's state the same. Only this
        catch-up: at a forward seek the desk's alerts may have groups open, whose updates follow the
        events' order. With ``read_ahead``, a catch-up of ``AHEAD_ROWS`` or more is read by a child
        process while this one applies what it read (``replay_ahead``; the same items)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead.until_ms != self._target_ms:
            ahead.close()
            ahead = None
        if ahead is None and self.read_ahead and self._target_ms is not None:
            ahead = self._read_ahead(self._target_ms)
        if ahead is not None:
            self._stream = ahead
            return ahead
        checked, self._checked = self._checked, None
        self._stream = read_runs(self.path, checked=checked)
        self._stream.merge_until = self._target_ms
        return self._stream

    def _read_ahead(self, until_ms: int) -> ReadAhead | None:
        """A child reading the recording up to ``until_ms`` when that holds ``AHEAD_ROWS`` or more and a
        second core can run it (on one, or for a short catch-up, the child's own costs would come on
        top); None: read here."""
        if self._rows < AHEAD_ROWS or _cores() < 2 or self._blocks:
            return None
        try:
            self._counted = (until_ms, count_events(self.path, None, until_ms))  # the time indexes: ~20 ms
            if self._counted[1] < AHEAD_ROWS:
                return None
            return ReadAhead(self.path, until_ms, self._take_child())
        except (OSError, StoreError):  # no child process to be had; a file that fails says so when read
            return None

    def _take_child(self) -> subprocess.Popen[bytes] | None:
        child, self._child = self._child, None
        return child

    async def _next(self, events: Iterator[Item]) -> Item | None:
        """The next item; from a read-ahead, the loop keeps turning while its child reads on."""
        if not isinstance(events, ReadAhead):
            return next(events, None)
        while (item := events.poll()) is WAIT:  # noqa: ASYNC110 - the child's chunks come from a thread
            await asyncio.sleep(_AHEAD_WAIT_S)
        return item

    @property
    def damage_note(self) -> str | None:
        """One line about the damaged rows the replay skipped so far (None: there were none)."""
        return self._stream.note() if self._stream is not None else None

    def _catch_up(self, since_ms: int, until_ms: int) -> None:
        """Emit everything up to ``until_ms`` unpaced; count its events for ``warmup`` meanwhile."""
        if self._count_task is not None:
            self._count_task.cancel()
            self._count_task = None
        self._target_ms, self._caught, self._catch_total = until_ms, 0, None
        counted = self._counted
        if counted is not None and counted[0] == until_ms and since_ms <= self.start_ms:
            self._catch_total = counted[1]  # counted already, when the read-ahead was weighed
            return
        self._count_task = asyncio.ensure_future(self._count(since_ms, until_ms))

    async def _count(self, since_ms: int, until_ms: int) -> None:
        # StoreError: progress stays unknown (0 %); reading the events reports the problem.
        with contextlib.suppress(StoreError):
            # Off the event loop: a count over half a million rows takes tens of milliseconds.
            self._catch_total = await asyncio.to_thread(count_events, self.path, since_ms, until_ms)

    def _caught_up(self, *, reanchor: bool) -> None:
        target, self._target_ms = self._target_ms, None
        assert target is not None
        if self._stream is not None:
            self._stream.merge_until = None  # playing: one event at a time, in order
        if self._count_task is not None:
            self._count_task.cancel()
            self._count_task = None
        if reanchor:
            self._reanchor(target)  # the clock runs from the catch-up's end
        else:
            self._pos_ms = target
        if self.on_caught_up is not None:
            self.on_caught_up()

    def _apply_seek(self, events: Iterator[Item], pending: Item | None) -> tuple[Iterator[Item], Item | None]:
        target, self._seek_to = self._seek_to, None
        assert target is not None
        current = self.now_ms()
        if target >= current:
            self._pos_ms = current
            self._catch_up(current, target)
            return events, pending
        # Backward: the engine must be rebuilt from the first event.
        self.reset_needed = True
        if self.on_reset is not None:
            self.on_reset()
        self.reset_needed = False
        if hasattr(events, "close"):
            events.close()
        self._pos_ms = self.start_ms
        self._catch_up(self.start_ms, target)
        return self._read(), None

    async def _emit(self, emit: Emit, event: Event) -> None:
        emit(event)
        self.emitted += 1
        await self._turn()

    async def _emit_batch(self, emit: Emit, batch: Sequence[Event]) -> None:
        emit_all(emit, batch)
        self.emitted += len(batch)
        await self._turn()

    async def _turn(self) -> None:
        """Give the event loop a turn once ``_SLICE_S`` of work went by since the last one."""
        if time.perf_counter() - self._slice_start >= _SLICE_S:
            await asyncio.sleep(0)
            self._slice_start = time.perf_counter()

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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _at_end(self) -> bool:
        """The recording is played out: hold the clock at the end and wait for a seek (or stop)."""
        self._pos_ms = self.end_ms
        self.finished = True
        if not self.hold_at_end:
            return False
        assert self._wake is not None
        while self._seek_to is None:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _MAX_WAIT_S)
        return True
