"""What every event source (live venues, demo, replay) offers the desk and headless commands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from liqtui.domain.events import Event, FeedState

Emit = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class BulkEmit:
    """An ``Emit`` that also takes a list of events at once (``many``: the desk's bulk path, which
    applies each run of liquidations in one go). Sources hand out their lists with ``emit_all``."""

    one: Emit
    many: Callable[[Sequence[Event]], None]

    def __call__(self, event: Event) -> None:
        self.one(event)


def emit_all(emit: Emit, events: Sequence[Event]) -> None:
    """``emit`` each of ``events`` in order: as one list when ``emit`` is a ``BulkEmit``."""
    if isinstance(emit, BulkEmit):
        emit.many(events)
    else:
        for event in events:
            emit(event)


@runtime_checkable
class EventSource(Protocol):
    """A source of normalized events.

    ``mode`` is what the desk's badge says: "LIVE", "DEMO" or "REPLAY". ``now_ms`` is the source's
    clock (wall clock when live, simulated time for demo and replay): the engine is always asked
    for views at this time. ``run`` pushes events through ``emit`` until cancelled; ``emit`` is a
    plain function call that never blocks, and must be called from the event loop thread.
    """

    mode: str

    def now_ms(self) -> int: ...

    async def run(self, emit: Emit) -> None: ...

    def set_focus(self, symbol: str) -> None:
        """The desk's current symbol changed (order books follow it)."""
        ...

    def symbols(self) -> list[str]:
        """Every market this source can show, for the symbol picker."""
        ...


@runtime_checkable
class WarmingUp(Protocol):
    """A source that gets ready after the desk's first frame (the demo builds its history, a replay
    catches up): ``warmup`` is the share done, 0 to 1, and None once it is ready."""

    @property
    def warmup(self) -> float | None: ...


@runtime_checkable
class ReplayControls(Protocol):
    """What the desk asks of a source it can stop, speed up and seek (``ReplaySource``).

    ``speed`` is the replay's rate (0: as fast as it reads); ``heading_ms`` the time a catch-up is
    heading to and ``warmup`` its share done (None when not catching up); ``recorded_mode`` what the
    file holds ("LIVE" or "DEMO"); ``damage_note`` the damaged rows skipped so far, if any;
    ``on_reset`` is called before a backward seek replays from the start (the desk's engine cannot
    un-apply events, so it takes a fresh one); ``on_caught_up`` once a catch-up's last event is in
    (the desk draws then, not at its next tick).
    """

    recorded_mode: str
    on_reset: Callable[[], None] | None
    on_caught_up: Callable[[], None] | None

    @property
    def speed(self) -> float: ...

    @speed.setter
    def speed(self, value: float) -> None: ...

    @property
    def paused(self) -> bool: ...

    @property
    def heading_ms(self) -> int | None: ...

    @property
    def warmup(self) -> float | None: ...

    @property
    def damage_note(self) -> str | None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def seek_by(self, delta_ms: int) -> None: ...


@dataclass(frozen=True)
class BusHealth:
    """The bus itself as its reader sees it, for the desk's bus chip (docs/bus.md, Health).

    ``state``: LIVE (connected, a collector beats), CONNECTING (no collector heartbeat yet),
    RECONNECTING (the bus is away), STALE (no heartbeat for ``stale_after_seconds``); ``detail``
    says why when not LIVE; ``collector_age_ms`` is the age of the newest heartbeat (None: none
    yet); ``undecodable`` counts the messages skipped because they were no liqtui event, the last
    one named in ``last_problem``."""

    state: FeedState
    detail: str
    collector_age_ms: int | None
    undecodable: int = 0
    last_problem: str = ""


@runtime_checkable
class OnABus(Protocol):
    """A source that reads a collector's bus (``BusSource``) and can say how the bus is."""

    def bus_health(self) -> BusHealth: ...
