"""The collector's side of the bus: every event a source emits, published once with its content id.

    publisher = Publisher(link, root="liqtui", collector="host-1234", now_ms=source.now_ms)
    source.run(publisher.add)            # add() is a deque append: it never blocks the feeds
    await publisher.run()                # until cancelled: publishes, and a heartbeat every BEAT_S

Messages go out as core NATS publishes on subjects the stream captures, with the content id in
``Nats-Msg-Id``: JetStream stores each id once within its duplicate window, so two collectors on
the same venues store each liquidation once. No per-message acknowledgement is awaited (at
thousands of events a second that round trip is the bottleneck); while the bus reconnects the
client buffers up to ``client.PENDING_BYTES`` and sends it on reconnect. What cannot be sent or
encoded is counted (``lost``, ``unencodable``) and said at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import Callable

from liqtui.domain.events import Event
from liqtui.feeds.bus.client import BusLink
from liqtui.feeds.bus.codec import BEAT_S, KINDS, Beat, encode, encode_beat

QUEUE_LIMIT = 200_000  # events held while the bus is slow; the oldest are dropped (and counted) past it
BATCH = 500  # publishes between yields to the event loop


class Publisher:
    def __init__(self, link: BusLink, *, root: str, collector: str, now_ms: Callable[[], int]) -> None:
        self.link = link
        self.root = root
        self.collector = collector
        self.now_ms = now_ms
        self.queue: deque[Event] = deque()
        self.wake = asyncio.Event()
        self.published: Counter[str] = Counter()
        self.lost = 0
        self.unencodable = 0

    def add(self, event: Event) -> None:
        if len(self.queue) >= QUEUE_LIMIT:
            self.queue.popleft()
            self.lost += 1
        self.queue.append(event)
        self.wake.set()

    async def run(self) -> None:
        beat = asyncio.create_task(self._beat())
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                await self._drain()
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)

    async def _drain(self) -> None:
        sent = 0
        while self.queue:
            event = self.queue.popleft()
            try:
                subject, msg_id, payload = encode(event, self.root)
            except ValueError:  # NaN or infinity: no JSON for it
                self.unencodable += 1
                continue
            try:
                await self.link.nc.publish(subject, payload, headers={"Nats-Msg-Id": msg_id})
            except Exception:  # noqa: BLE001 - buffer full while reconnecting, connection closed: counted, the feeds go on
                self.lost += 1
                continue
            self.published[KINDS[type(event)]] += 1
            sent += 1
            if sent % BATCH == 0:
                await asyncio.sleep(0)

    async def _beat(self) -> None:
        while True:
            beat = Beat(self.collector, int(time.time() * 1000), self.now_ms(), sum(self.published.values()))
            subject, payload = encode_beat(beat, self.root)
            # The bus is away: the next beat tries again.
            with contextlib.suppress(Exception):
                await self.link.nc.publish(subject, payload)
            await asyncio.sleep(BEAT_S)

    async def flush(self, timeout: float = 5.0) -> None:
        """Send what is queued and wait until the server has it (at the end of a run)."""
        await self._drain()
        # The bus is away: what was not sent is counted by the caller.
        with contextlib.suppress(Exception):
            await self.link.nc.flush(timeout)
