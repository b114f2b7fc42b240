"""BusSource: the events a collector published, behind the EventSource protocol of ``feeds/event_source.py``.

    source = BusSource(settings, history=("liq",), since_ms=now - 600_000)   # tail --since 10m
    await source.open()                   # BusError: unreachable, credentials, no stream
    await source.run(emit)                # history, then the latest of each subject, then live

No exchange connection is opened. The stream is read in three passes that meet at one stream
sequence ``S``, read by ``open`` (what is published after it returns is live), so nothing is missing or twice at the seams:

1. history: the kinds in ``history`` published since ``since_ms``, up to ``S``;
2. latest: the last message of each subject of the kinds in ``latest`` up to ``S`` (each venue's
   last ticker, book and feed state, without replaying a day of them);
3. live: the kinds in ``live`` from ``S + 1`` on, with nats-py's ordered consumer, which resumes
   from the last sequence it delivered when the bus goes away and comes back.

Each message's content id (``Nats-Msg-Id``) is remembered (``RecentIds``): a copy that JetStream's
duplicate window let through (a collector restarted and sent its backfill again) is dropped. A
message that does not decode is counted (``malformed``) and skipped.

Health: the venues' chips show each venue's state as the collector reported it (its FeedStatus
events), except when the bus itself is reconnecting, or no collector's heartbeat came for
``stale_after_seconds``: then every venue reads RECONNECTING or STALE with why, until it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Iterable
from typing import Any

from liqtui.config import Settings
from liqtui.domain.events import Event, FeedState, FeedStatus
from liqtui.feeds.bus.client import BusError, BusLink, find_stream, stream_spec, subject_root
from liqtui.feeds.bus.codec import CLASSES, Beat, DecodeError, RecentIds, decode
from liqtui.feeds.event_source import BusHealth, Emit

ALL = tuple(CLASSES)
HEALTH_TICK_S = 1.0
READ_WAIT_S = 30.0  # the longest pause between two history messages before the pass gives up
EMPTY_WAIT_S = 0.5
CONSUMER_ATTEMPTS = 3


class BusSource:
    def __init__(
        self,
        settings: Settings,
        *,
        demo: bool = False,
        history: Iterable[str] = (),
        since_ms: int | None = None,
        latest: Iterable[str] = ("ticker", "book", "status"),
        live: Iterable[str] = ALL,
        link: BusLink | None = None,
    ) -> None:
        """``history``/``latest``/``live``: event kinds (``codec.KINDS``: liq, oi, ticker, book, bar,
        status) for each pass; ``since_ms``: where history starts (wall clock ms; None: no history)."""
        self.settings = settings
        self.mode = "DEMO" if demo else "LIVE"
        self.root = subject_root(demo)
        self.stream = stream_spec(settings.bus, demo=demo).name
        self.link = link or BusLink(settings.bus, name="liqtui desk")
        self.history, self.latest, self.live = tuple(history), tuple(latest), tuple(live)
        self.since_ms = since_ms
        self.recent = RecentIds()
        self.malformed = 0
        self.duplicates = 0
        self.last_problem = ""
        self.beats: dict[str, Beat] = {}  # collector -> its last beat
        self.reported: dict[tuple[str, str], FeedStatus] = {}  # (venue, kind) -> the collector's last word
        self.override = ""  # why every venue's chip is not the collector's report ("" = it is)
        self.history_done = asyncio.Event()
        self._expected = 0  # messages the history passes counted when they started
        self._read = 0  # and those delivered so far
        self.focus: str | None = None
        self._markets: set[tuple[str, str]] = set()
        self.seam: int | None = (
            None  # the stream's last sequence when opened: history ends, live starts after it
        )

    async def open(self) -> None:
        """Connect, and fix the seam: what is published after this returns is delivered live."""
        if self.link.nc is None:
            await self.link.open()
        spec = stream_spec(self.settings.bus, demo=self.mode == "DEMO")
        self.seam = (await find_stream(self.link, spec)).state.last_seq

    @property
    def warmup(self) -> float | None:
        """The share of the stream's history read so far, 0 to 1; None once it is all in and live
        follows. The desk says "building history N %", draws its panes after, and keeps the
        alerts of history quiet (their moment is past), as for a replay catching up."""
        if self.history_done.is_set():
            return None
        return min(0.99, self._read / self._expected) if self._expected else 0.0

    def now_ms(self) -> int:
        """Wall clock; the demo's simulated clock, from the newest collector beat, when DEMO."""
        wall = int(time.time() * 1000)
        newest = self._newest_beat()
        if self.mode != "DEMO" or newest is None:
            return wall
        return newest.source_now + max(0, wall - newest.time)

    def _newest_beat(self) -> Beat | None:
        """The beat sent last (by the collector's clock: the latest pass delivers old collectors'
        last beats at the same moment as the live one's)."""
        return max(self.beats.values(), key=lambda beat: beat.time, default=None)

    def set_focus(self, symbol: str) -> None:
        self.focus = symbol  # the collector publishes every book it holds: nothing to ask for

    def symbols(self) -> list[str]:
        return sorted({venue_symbol[1] for venue_symbol in self._markets})

    async def run(self, emit: Emit) -> None:
        if self.seam is None:
            await self.open()
        seam = self.seam or 0
        if self.history and self.since_ms is not None and seam:
            start = dt.datetime.fromtimestamp(self.since_ms / 1000, dt.UTC)
            await self._read_to(seam, self.history, emit, deliver="by_start_time", opt_start_time=start)
        if self.latest and seam:
            # Not capped at the seam: a subject's last message may be newer (a ticker a second); the
            # live pass then sends it again under the same id, and the copy is dropped.
            await self._read_to(None, (*self.latest, "beat"), emit, deliver="last_per_subject")
        self.history_done.set()
        health = asyncio.create_task(self._health(emit))
        try:
            await self._follow(seam + 1, emit)
        finally:
            health.cancel()
            await asyncio.gather(health, return_exceptions=True)

    def _subjects(self, kinds: Iterable[str]) -> list[str]:
        return [f"{self.root}.{kind}.>" for kind in kinds]

    async def _subscribe(self, kinds: Iterable[str], *, cb: Any, **config: Any) -> Any:
        from nats.js.api import ConsumerConfig, DeliverPolicy

        policy = DeliverPolicy(config.pop("deliver"))
        cfg = ConsumerConfig(filter_subjects=self._subjects(kinds), deliver_policy=policy, **config)
        return await self._retry(
            lambda: self.link.js.subscribe("", stream=self.stream, ordered_consumer=True, config=cfg, cb=cb)
        )

    async def _retry(self, make: Any) -> Any:
        """A consumer, asked for again when the server's answer does not come in time (seen on a
        loaded machine while a collector published its backfill)."""
        from nats.errors import TimeoutError as NatsTimeout

        for _attempt in range(CONSUMER_ATTEMPTS - 1):
            with contextlib.suppress(NatsTimeout):
                return await make()
        return await make()

    async def _read_to(self, seam: int | None, kinds: Iterable[str], emit: Emit, **config: Any) -> None:
        """Deliver what the stream holds of ``kinds`` up to sequence ``seam`` (inclusive; None: all
        there is), through a callback consumer like the live pass (2.5 times a pull consumer's rate
        here, bench_bus.py); the desk draws between the chunks nats-py reads."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        got, last = 0, loop.time()

        async def deliver(msg: Any) -> None:
            nonlocal got, last
            if done.done():
                return
            meta = msg.metadata
            if seam is not None and meta.sequence.stream > seam:
                done.set_result(None)
                return
            got, last = got + 1, loop.time()
            self._read += 1
            try:
                self._handle(msg, emit)
            except Exception as exc:  # the reader's own failure ends the source
                done.set_exception(exc)
                raise
            if meta.sequence.stream == seam or meta.num_pending == 0:
                done.set_result(None)

        sub = await self._subscribe(kinds, cb=deliver, **config)
        # The consumer's count just after it is made may not be final yet: with nothing counted,
        # still wait a moment for a first message before taking the pass as empty.
        pending = (await sub.consumer_info()).num_pending
        self._expected += pending
        empty = EMPTY_WAIT_S if not pending else READ_WAIT_S
        last = max(last, loop.time())
        try:
            while not done.done() and loop.time() - last < (READ_WAIT_S if got else empty):
                await asyncio.wait([done], timeout=min(empty, HEALTH_TICK_S))
            if done.done():
                done.result()  # the reader's failure, raised here
        finally:
            await sub.unsubscribe()

    async def _follow(self, start_seq: int, emit: Emit) -> None:
        """Live from ``start_seq`` until cancelled. A callback subscription: nats-py's message
        iterator costs an asyncio task per message (about 40 % more CPU per event, bench_bus.py)."""
        stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def deliver(msg: Any) -> None:
            try:
                self._handle(msg, emit)
            except Exception as exc:  # the reader's own failure ends the source, as it would inline
                if not stopped.done():
                    stopped.set_exception(exc)
                raise

        # Heartbeats always: the collector's age is part of every reader's health.
        sub = await self._subscribe(
            (*self.live, "beat"), deliver="by_start_sequence", opt_start_seq=start_seq, cb=deliver
        )
        try:
            await stopped
        finally:
            await sub.unsubscribe()

    def _handle(self, msg: Any, emit: Emit) -> None:
        msg_id = (msg.headers or {}).get("Nats-Msg-Id")
        if msg_id and self.recent.seen(msg_id):
            self.duplicates += 1
            return
        try:
            event = decode(msg.data)
        except DecodeError as exc:
            self.malformed += 1
            self.last_problem = f"{msg.subject}: {exc}"
            return
        if isinstance(event, Beat):
            self.beats[event.collector] = event
            return
        if isinstance(event, FeedStatus):
            self.reported[(event.venue, event.kind)] = event
            if self.override:
                return  # the chips say the bus's trouble until it is over
        else:
            self._markets.add((event.venue, event.symbol))
        emit(event)

    async def _health(self, emit: Emit) -> None:
        while True:
            why = self._trouble()
            if why != self.override:
                self.override = why
                for event in self._chips(why):
                    emit(event)
            await asyncio.sleep(HEALTH_TICK_S)

    def _trouble(self) -> str:
        """Why the collector's report cannot be trusted now, or ""."""
        if self.link.state != "connected":
            return f"bus {self.link.describe()}"
        newest = self._newest_beat()
        if newest is None:
            return ""
        age = time.time() - newest.time / 1000
        if age >= self.settings.stale_after_seconds:
            return f"collector silent for {age:.0f} s"
        return ""

    def bus_health(self) -> BusHealth:
        """The bus chip: connected with the collector's age, reconnecting, or stale; and what
        could not be decoded."""
        newest = self._newest_beat()
        age = None if newest is None else max(0, int(time.time() * 1000) - newest.time)
        why = self._trouble()
        if self.link.state == "closed":
            state = FeedState.DOWN
        elif why:
            state = FeedState.RECONNECTING if why.startswith("bus") else FeedState.STALE
        elif newest is None:
            state, why = FeedState.CONNECTING, "no collector heartbeat yet"
        else:
            state = FeedState.LIVE
        return BusHealth(state, why, age, self.malformed, self.last_problem)

    def _chips(self, why: str) -> list[Event]:
        """Every venue's chip: the bus's trouble (``why``), or the collector's own reports again."""
        if not why:
            return list(self.reported.values())
        now = int(time.time() * 1000)
        state = FeedState.RECONNECTING if why.startswith("bus") else FeedState.STALE
        venues = dict.fromkeys(venue for venue, _kind in self.reported) or dict.fromkeys(
            self.settings.enabled_venues
        )
        last = max((beat.time for beat in self.beats.values()), default=None)
        return [FeedStatus(venue, state, now, why, "all", last) for venue in venues]

    async def close(self) -> None:
        await self.link.close()


__all__ = ["ALL", "BusError", "BusSource"]
