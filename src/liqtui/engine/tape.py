"""The liquidation tape the desk shows: the liquidations that pass one filter, folded into rows as
they arrive, the newest ``ROWS_KEPT`` rows kept whatever the rate.

A cascade prints thousands of liquidations a second: a tape capped in events (the last 2,000) held
a fraction of a second of it, and with a minimum size set it held none of the big prints the totals
counted. So the filter applies before the cap, and the cap counts rows, a burst of 500 being one.

A burst is ``BURST_MIN`` or more liquidations of one symbol and side, on any venues, spanning at most
``BURST_MS``: it is one row such as ``14 x BTC longs $4.2M in 2 s  BIN BYB``; fewer stay single rows.
When the filter changes, the rows are folded again from the raw history kept per size (the newest
``HISTORY_KEPT`` liquidations at or above each of ``SIZE_TIERS``), so a new minimum size finds the
big prints of the last minutes at once. Pure: every time comes from the liquidations.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from liqtui.domain.events import Liquidation, Side
from liqtui.engine.views import TapeEntry, TapeFilter, TapeRows

BURST_MS = 2_000
BURST_MIN = 3  # fewer than this stay as single rows: two liquidations are not a burst
ROWS_KEPT = 512  # folded groups; a pane shows at most its height
HISTORY_KEPT = 2_000  # raw liquidations per size tier
SIZE_TIERS = (0.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0)  # USD


class _Group:
    """Liquidations of one symbol and side within ``BURST_MS``; its rows are rebuilt only when it changes."""

    __slots__ = (
        "key",
        "first_time",
        "time",
        "price",
        "usd",
        "count",
        "venues",
        "sampled",
        "singles",
        "_rows",
    )

    def __init__(self, liq: Liquidation) -> None:
        self.key = (liq.symbol, liq.side)
        self.first_time = self.time = liq.time
        self.price, self.usd, self.count = liq.price, 0.0, 0
        self.venues: set[str] = set()
        self.sampled: set[str] = set()
        self.singles: list[Liquidation] | None = []  # kept until the group is a burst
        self._rows: tuple[TapeEntry, ...] | None = None
        self.add(liq)

    def takes(self, liq: Liquidation, burst_ms: int) -> bool:
        return max(self.time, liq.time) - min(self.first_time, liq.time) <= burst_ms

    def add(self, liq: Liquidation) -> None:
        if liq.time >= self.time:
            self.time, self.price = liq.time, liq.price
        self.first_time = min(self.first_time, liq.time)
        self.usd += liq.usd
        self.count += 1
        self.venues.add(liq.venue)
        if liq.sampled:
            self.sampled.add(liq.venue)
        if self.singles is not None:
            self.singles.append(liq)
            if len(self.singles) >= BURST_MIN:
                self.singles = None
        self._rows = None

    def rows(self) -> tuple[TapeEntry, ...]:
        if self._rows is None:
            if self.singles is None:
                self._rows = (self._entry(),)
            else:
                newest_first = sorted(self.singles, key=lambda liq: liq.time, reverse=True)
                self._rows = tuple(_single(liq) for liq in newest_first)
        return self._rows

    def _entry(self) -> TapeEntry:
        symbol, side = self.key
        return TapeEntry(
            self.time,
            self.first_time,
            symbol,
            side,
            tuple(sorted(self.venues)),
            tuple(sorted(self.sampled)),
            self.price,
            self.usd,
            self.count,
        )


def _single(liq: Liquidation) -> TapeEntry:
    sampled = (liq.venue,) if liq.sampled else ()
    return TapeEntry(liq.time, liq.time, liq.symbol, liq.side, (liq.venue,), sampled, liq.price, liq.usd, 1)


class _Folded:
    """The newest ``rows_kept`` groups of the liquidations that passed one filter."""

    def __init__(self, tape_filter: TapeFilter, rows_kept: int, burst_ms: int) -> None:
        self.filter = tape_filter
        self._groups: deque[_Group] = deque()
        self._open: dict[tuple[str, Side], _Group] = {}  # the newest group per symbol and side
        self._rows_kept, self._burst_ms = rows_kept, burst_ms
        self._rows: TapeRows | None = None

    def add(self, liq: Liquidation) -> None:
        self._rows = None
        group = self._open.get((liq.symbol, liq.side))
        if group is not None and group.takes(liq, self._burst_ms):
            group.add(liq)
            return
        if len(self._groups) >= self._rows_kept:
            gone = self._groups.popleft()
            if self._open.get(gone.key) is gone:
                del self._open[gone.key]
        group = _Group(liq)
        self._groups.append(group)
        self._open[group.key] = group

    def add_many(self, liqs: Iterable[Liquidation]) -> None:
        """``add`` for each that passes the filter, in order (the bulk path: one call per event fewer)."""
        self._rows = None
        min_usd, symbol = self.filter.min_usd, self.filter.symbol
        open_groups, burst_ms = self._open, self._burst_ms
        for liq in liqs:
            if liq.usd < min_usd or (symbol is not None and liq.symbol != symbol):
                continue
            group = open_groups.get((liq.symbol, liq.side))
            if group is not None and group.takes(liq, burst_ms):
                group.add(liq)
            else:
                self.add(liq)

    def rows(self) -> TapeRows:
        if self._rows is None:
            groups = sorted(self._groups, key=lambda g: g.time, reverse=True)
            self._rows = TapeRows(self.filter, tuple(row for g in groups for row in g.rows()))
        return self._rows


class LiquidationTape:
    """Every liquidation goes in (``add``); ``rows()`` gives the ones that pass ``filter``, folded."""

    def __init__(
        self, *, history_kept: int = HISTORY_KEPT, rows_kept: int = ROWS_KEPT, burst_ms: int = BURST_MS
    ) -> None:
        self._history: dict[float, deque[Liquidation]] = {
            tier: deque(maxlen=history_kept) for tier in SIZE_TIERS
        }  # oldest first
        self._rows_kept, self._burst_ms = rows_kept, burst_ms
        self._folded = _Folded(TapeFilter(), rows_kept, burst_ms)

    @property
    def filter(self) -> TapeFilter:
        return self._folded.filter

    def add(self, liq: Liquidation) -> None:
        for tier, history in self._history.items():
            if liq.usd >= tier:
                history.append(liq)
        if self._folded.filter.passes(liq):
            self._folded.add(liq)

    def add_many(self, liqs: Sequence[Liquidation]) -> None:
        """``add`` for each, in order, with the same rows and history (the engine's bulk path): each
        size tier keeps only its newest ``history_kept``, so a long run hands it only those."""
        for tier, history in self._history.items():
            kept = [liq for liq in liqs if liq.usd >= tier]
            history.extend(kept[-history.maxlen :] if history.maxlen is not None else kept)
        self._folded.add_many(liqs)

    def set_filter(self, tape_filter: TapeFilter) -> None:
        """Show what passes ``tape_filter`` from now on, folded again from the history kept."""
        if tape_filter == self._folded.filter:
            return
        self._folded = _Folded(tape_filter, self._rows_kept, self._burst_ms)
        tier = max(t for t in SIZE_TIERS if t <= max(0.0, tape_filter.min_usd))
        for liq in self._history[tier]:
            if tape_filter.passes(liq):
                self._folded.add(liq)

    def rows(self) -> TapeRows:
        return self._folded.rows()

    def recent(self) -> tuple[Liquidation, ...]:
        """The newest ``history_kept`` liquidations of any size and market, newest first."""
        return tuple(reversed(self._history[0.0]))


def fold_tape(
    events: Iterable[Liquidation], limit: int, tape_filter: TapeFilter | None = None, burst_ms: int = BURST_MS
) -> list[TapeEntry]:
    """The first ``limit`` rows of newest-first ``events`` that pass ``tape_filter`` (default: all), folded
    as the tape does."""
    tape_filter = tape_filter or TapeFilter()
    folded = _Folded(tape_filter, rows_kept=max(1, limit), burst_ms=burst_ms)
    for liq in reversed(list(events)):
        if tape_filter.passes(liq):
            folded.add(liq)
    return list(folded.rows().entries[:limit])
