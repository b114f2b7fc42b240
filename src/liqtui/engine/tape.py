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
from typing import TYPE_CHECKING

from liqtui.domain.events import Liquidation, Side
from liqtui.engine.batch import SIDE_OF_CODE, LiquidationBatch, concat, groups, in_time_order, per_market
from liqtui.engine.views import TapeEntry, TapeFilter, TapeRows

if TYPE_CHECKING:
    from liqtui.engine.batch import Ints

BURST_MS = 2_000
BURST_MIN = 3  # fewer than this stay as single rows: two liquidations are not a burst
ROWS_KEPT = 512  # folded groups; a pane shows at most its height
HISTORY_KEPT = 2_000  # raw liquidations per size tier
SIZE_TIERS = (0.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0)  # USD
PENDING_ROWS = 65_536  # rows of batches (``add_batch``) held before they are cut to what the history takes
FOLD_ROWS = 16_384  # and before they are folded (a warm-up's step stays short)


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

    def takes(self, time_ms: int, burst_ms: int) -> bool:
        # max(self.time, time_ms) - min(self.first_time, time_ms), without the builtins' calls
        newest = time_ms if time_ms > self.time else self.time
        return newest - (time_ms if time_ms < self.first_time else self.first_time) <= burst_ms

    def add(self, liq: Liquidation) -> None:
        self.fold(liq.time, liq.price, liq.usd, liq.venue, liq.sampled)
        if self.singles is not None:
            self.singles.append(liq)
            if len(self.singles) >= BURST_MIN:
                self.singles = None

    def fold(self, time_ms: int, price: float, usd: float, venue: str, sampled: bool) -> None:
        """A liquidation into the row's sums (``add`` also keeps it while the group is not a burst)."""
        if time_ms >= self.time:
            self.time, self.price = time_ms, price
        if time_ms < self.first_time:  # min(), without its call
            self.first_time = time_ms
        self.usd += usd
        self.count += 1
        self.venues.add(venue)
        if sampled:
            self.sampled.add(venue)
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


def _fold_rows(group: _Group, batch: LiquidationBatch, rows: Ints) -> None:
    """``group.add`` for each of ``rows`` (in time order, none older than the group's newest): the
    first while the group keeps single rows, then the rest's sums at once (USD added in order)."""
    import numpy as np

    while len(rows) and group.singles is not None:
        group.add(batch[int(rows[0])])
        rows = rows[1:]
    if not len(rows):
        return
    last = int(rows[-1])
    group.time, group.price = int(batch.time[last]), float(batch.price[last])
    usd = batch.usd[rows]
    group.usd = float(np.cumsum(np.concatenate(([group.usd], usd)))[-1])
    group.count += len(rows)
    markets = batch.market[rows]  # codes into batch.markets: counted, not sorted (np.unique)
    group.venues.update(batch.markets[m][0] for m in np.flatnonzero(np.bincount(markets)).tolist())
    sampled = markets[(batch.flags[rows] & 1) == 1]
    group.sampled.update(batch.markets[m][0] for m in np.flatnonzero(np.bincount(sampled)).tolist())
    group._rows = None


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
        if group is not None and group.takes(liq.time, self._burst_ms):
            group.add(liq)
            return
        self._open_group(liq)

    def _open_group(self, liq: Liquidation) -> _Group:
        """A new group for ``liq``, the oldest kept one pushed out when the rows are full."""
        if len(self._groups) >= self._rows_kept:
            gone = self._groups.popleft()
            if self._open.get(gone.key) is gone:
                del self._open[gone.key]
        group = _Group(liq)
        self._groups.append(group)
        self._open[group.key] = group
        return group

    def add_many(self, liqs: Iterable[Liquidation]) -> None:
        """``add`` for each that passes the filter, in order (the bulk path): a liquidation that joins
        its open group is folded here, ``_Group.takes``, ``add`` and ``fold`` written out (three calls
        a liquidation fewer at stress, where nearly every one joins a burst); the rest go to ``add``."""
        self._rows = None
        min_usd, symbol = self.filter.min_usd, self.filter.symbol
        open_groups, burst_ms = self._open, self._burst_ms
        for liq in liqs:
            usd = liq.usd
            if usd < min_usd or (symbol is not None and liq.symbol != symbol):
                continue
            group = open_groups.get((liq.symbol, liq.side))
            if group is None:
                self.add(liq)
                continue
            time_ms, newest, first = liq.time, group.time, group.first_time
            if (time_ms if time_ms > newest else newest) - (time_ms if time_ms < first else first) > burst_ms:
                self.add(liq)  # group.takes: no
                continue
            if time_ms >= newest:
                group.time, group.price = time_ms, liq.price
            if time_ms < first:
                group.first_time = time_ms
            group.usd += usd
            group.count += 1
            group.venues.add(liq.venue)
            if liq.sampled:
                group.sampled.add(liq.venue)
            group._rows = None
            singles = group.singles
            if singles is not None:
                singles.append(liq)
                if len(singles) >= BURST_MIN:
                    group.singles = None

    def add_batch(self, batch: LiquidationBatch) -> None:
        """``add_many`` for a batch in time order, folded from its columns: each symbol and side's rows
        split where ``add`` would open a group (``_plan``); an object is built only for a group's single
        rows (its first ``BURST_MIN``). A batch where that split cannot be planned goes row by row."""
        self._rows = None
        passing = batch.usd >= self.filter.min_usd
        if self.filter.symbol is not None:
            passing &= per_market(batch, lambda m: batch.markets[m][1] == self.filter.symbol) > 0
        if not passing.all():
            batch = batch.take(passing)
        if not len(batch):
            return
        plan = self._plan(batch)
        if plan is None:
            self.add_many(batch)
            return
        for group, rows in plan:
            if group is None:
                group = self._open_group(batch[int(rows[0])])
                rows = rows[1:]
            _fold_rows(group, batch, rows)

    def _plan(self, batch: LiquidationBatch) -> list[tuple[_Group | None, Ints]] | None:
        """Where ``add`` one row at a time would put the rows: (an open group or None for a new one, the
        rows it takes), in the order ``add`` opens the groups; None when a group would be pushed out
        of the kept rows while still taking rows, or a row is older than its group's newest."""
        import numpy as np

        symbols = {m: symbol for m, (_venue, symbol) in batch.markets.items()}
        code = {symbol: k for k, symbol in enumerate(dict.fromkeys(symbols.values()))}
        key_of_row = per_market(batch, lambda m: code[symbols[m]]).astype(np.int64) * 2 + batch.side
        first, group_of_row = groups(key_of_row)
        by_key = np.argsort(group_of_row, kind="stable")
        ends = np.cumsum(np.bincount(group_of_row, minlength=len(first))).tolist()
        joins: list[tuple[_Group | None, Ints]] = []
        opened: list[tuple[_Group | None, Ints]] = []
        burst, times, start = self._burst_ms, batch.time, 0
        for row, end in zip(first, ends, strict=True):
            rows = by_key[start:end]
            start, t, pos = end, times[rows], 0
            key = (symbols[int(batch.market[row])], SIDE_OF_CODE[int(batch.side[row])])
            group = self._open.get(key)
            if group is not None:
                if int(t[0]) < group.time:
                    return None
                pos = int(np.searchsorted(t, group.first_time + burst, side="right"))
                if pos:
                    joins.append((group, rows[:pos]))
            while pos < len(rows):
                end_pos = int(np.searchsorted(t, int(t[pos]) + burst, side="right"))
                opened.append((None, rows[pos:end_pos]))
                pos = end_pos
        opened.sort(key=lambda item: int(item[1][0]))
        return joins + opened if self._fits(joins, opened) else None

    def _fits(
        self, joins: list[tuple[_Group | None, Ints]], opened: list[tuple[_Group | None, Ints]]
    ) -> bool:
        """No group the new ones push out of the kept rows would still take a row after that."""
        last_row = {id(group): rows[-1] for group, rows in joins}
        kept = [last_row.get(id(group), -1) for group in self._groups] + [rows[-1] for _g, rows in opened]
        held = len(self._groups)
        for n, (_none, rows) in enumerate(opened):
            if held + n >= self._rows_kept and kept[held + n - self._rows_kept] > rows[0]:
                return False
        return True

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
        self._unfolded: list[LiquidationBatch] = []  # batches not folded yet (``_fold``)
        self._unfolded_rows = 0
        self._pending: list[LiquidationBatch] = []  # batches not in the history yet (``_settle``)
        self._pending_rows = 0
        self._trim_at = PENDING_ROWS

    @property
    def filter(self) -> TapeFilter:
        return self._folded.filter

    def add(self, liq: Liquidation) -> None:
        if self._pending:
            self._settle()
        for tier, history in self._history.items():
            if liq.usd >= tier:
                history.append(liq)
        if self._folded.filter.passes(liq):
            self._folded.add(liq)

    def add_many(self, liqs: Sequence[Liquidation]) -> None:
        """``add`` for each, in order, with the same rows and history (the engine's bulk path): each
        size tier keeps only its newest ``history_kept``, so a long run hands it only those."""
        if self._pending:
            self._settle()
        kept = liqs
        for tier, history in self._history.items():  # SIZE_TIERS ascend: a tier's are among the one's before
            kept = [liq for liq in kept if liq.usd >= tier]
            history.extend(kept[-history.maxlen :] if history.maxlen is not None else kept)
        self._folded.add_many(liqs)

    def add_batch(self, batch: LiquidationBatch) -> None:
        """``add_many`` for a batch: held until the tape is read, then folded from the columns (or
        every ``FOLD_ROWS``, ``_fold``) and into the history, each size tier building objects only for
        the newest it keeps (``_settle``; every ``PENDING_ROWS`` the batches are cut to those, ``_trim``)."""
        self._unfolded.append(batch)
        self._unfolded_rows += len(batch)
        self._pending.append(batch)
        self._pending_rows += len(batch)
        if self._unfolded_rows >= FOLD_ROWS:
            self._fold()
        if self._pending_rows >= self._trim_at:
            self._trim()

    def _trim(self) -> None:
        """The waiting batches cut to the rows a size tier would still take (its newest ``history_kept``
        at or above it), as one batch: the history takes the same rows when read (``_settle``), and
        builds objects only then."""
        import numpy as np

        joined = concat(self._pending)
        keep = np.zeros(len(joined), dtype=bool)
        for tier, history in self._history.items():
            rows = np.flatnonzero(joined.usd >= tier)
            keep[rows if history.maxlen is None else rows[max(0, len(rows) - history.maxlen) :]] = True
        self._pending = [joined.take(keep)]
        self._pending_rows = len(self._pending[0])
        self._trim_at = self._pending_rows + PENDING_ROWS

    def _fold(self) -> None:
        """The batches not folded yet, folded (at once when they are in time order)."""
        unfolded, self._unfolded, self._unfolded_rows = self._unfolded, [], 0
        joined = concat(unfolded) if unfolded else None
        for batch in [joined] if joined is not None and in_time_order(joined) else unfolded:
            self._folded.add_batch(batch)

    def _settle(self) -> None:
        """Every batch folded, and into the history: per tier, the newest ``history_kept`` of their rows."""
        import numpy as np

        self._fold()
        pending, self._pending, self._pending_rows, self._trim_at = self._pending, [], 0, PENDING_ROWS
        built: dict[tuple[int, int], Liquidation] = {}
        for tier, history in self._history.items():
            need, picks = history.maxlen, []
            for k in range(len(pending) - 1, -1, -1):
                rows: list[int] = np.flatnonzero(pending[k].usd >= tier).tolist()
                if need is not None:
                    rows = rows[len(rows) - need :] if len(rows) > need else rows
                    need -= len(rows)
                picks.append((k, rows))
                if need == 0:
                    break
            for k, kept in reversed(picks):
                for i in kept:
                    liq = built.get((k, i))
                    if liq is None:
                        liq = built[k, i] = pending[k][i]
                    history.append(liq)

    def set_filter(self, tape_filter: TapeFilter) -> None:
        """Show what passes ``tape_filter`` from now on, folded again from the history kept."""
        if tape_filter == self._folded.filter:
            return
        self._settle()
        self._folded = _Folded(tape_filter, self._rows_kept, self._burst_ms)
        tier = max(t for t in SIZE_TIERS if t <= max(0.0, tape_filter.min_usd))
        for liq in self._history[tier]:
            if tape_filter.passes(liq):
                self._folded.add(liq)

    def rows(self) -> TapeRows:
        if self._unfolded:
            self._fold()
        return self._folded.rows()

    def recent(self) -> tuple[Liquidation, ...]:
        """The newest ``history_kept`` liquidations of any size and market, newest first."""
        if self._pending:
            self._settle()
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
