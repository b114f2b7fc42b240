"""What every event source (live venues, demo, replay) offers the desk and headless commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from liqtui.domain.events import Event

Emit = Callable[[Event], None]


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
