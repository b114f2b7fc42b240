"""Realized liquidation totals: per venue x symbol x side, rolling windows from 1 minute to 24 hours.

For every window (``views.WINDOWS``) the totals are USD, count, largest and counts per size bucket.
A window of W seconds ending at ``now`` covers the whole seconds ``(now_s - W, now_s]`` where
``now_s = now_ms // 1000`` and an event at ``time`` ms falls in second ``time // 1000``: edges are
exact to one second.

Why three bucket sizes: every event lands in its second, minute and hour bucket (sparse dicts),
and a window is read as ragged seconds + ragged minutes + whole hours + ragged minutes + ragged
seconds, so a 24 h window reads at most ~260 buckets however many events it holds. The largest
event of a window is the max over exactly the buckets that tile it, so it is right at every edge.
Buckets older than 25 h (behind the newest event seen) are dropped: memory is bounded by the
number of keys times 86,400 + 1,500 + 25 buckets, however long the engine runs.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from functools import reduce
from itertools import chain, repeat
from operator import add
from typing import TYPE_CHECKING

from liqtui.domain.events import Liquidation, Side
from liqtui.engine.batch import SIDE_OF_CODE, LiquidationBatch, column_sums, concat, groups, in_time_order
from liqtui.engine.views import SIZE_BUCKET_EDGES, WINDOW_MS, RealizedCell

if TYPE_CHECKING:
    from liqtui.engine.batch import Floats, Ints

ALL = "all"
KEEP_SECONDS = 86_400 + 3_600  # the longest window, plus slack for events arriving late
# Rows of batches (``add_batch``) held before they are summed: each of the six bucket levels takes a
# copy of the columns then, so a larger bound costs memory more than it saves time.
PENDING_ROWS = 16_384
_USD, _COUNT, _LARGEST, _SAMPLED, _B0 = 0, 1, 2, 3, 4
Bucket = list[float]  # see _Series


class _Series:
    """Second, minute and hour buckets of one (venue, symbol, side). A bucket is
    [usd, count, largest, sampled, n<1k, n1k-10k, n10k-100k, n100k-1M, n>1M]: one flat list of numbers
    (counts and the flag included) because it is updated in place on every event."""

    __slots__ = ("sec", "min", "hour")

    def __init__(self) -> None:
        self.sec: dict[int, Bucket] = {}
        self.min: dict[int, Bucket] = {}
        self.hour: dict[int, Bucket] = {}

    def prune(self, oldest_second: int) -> None:
        for buckets, edge in (
            (self.sec, oldest_second),
            (self.min, oldest_second // 60),
            (self.hour, oldest_second // 3600),
        ):
            # Dicts keep insertion order; events arrive roughly in time order, so the old ones are first.
            while buckets:
                first = next(iter(buckets))
                if first >= edge:
                    break
                del buckets[first]

    def buckets_for(self, first: int, last: int) -> list[Bucket]:
        """The buckets that tile the whole seconds [first, last]."""
        out: list[Bucket] = []
        sec, minute, hour = self.sec, self.min, self.hour
        s = first
        while s <= last and s % 60:
            _take(out, sec, s)
            s += 1
        while s + 59 <= last and s % 3600:
            _take(out, minute, s // 60)
            s += 60
        while s + 3599 <= last:
            _take(out, hour, s // 3600)
            s += 3600
        while s + 59 <= last:
            _take(out, minute, s // 60)
            s += 60
        while s <= last:
            _take(out, sec, s)
            s += 1
        return out

    def total(self, first: int, last: int) -> Bucket:
        acc: Bucket = [0.0, 0, 0.0, False, 0, 0, 0, 0, 0]
        for b in self.buckets_for(first, last):
            acc[0] += b[0]
            acc[1] += b[1]
            if b[2] > acc[2]:
                acc[2] = b[2]
            acc[3] = acc[3] or b[3]
            for i in range(_B0, _B0 + 5):
                acc[i] += b[i]
        return acc


def _fold(buckets: tuple[Bucket, ...], usd: float, size: int, sampled: bool) -> None:
    """One liquidation into its six buckets (``RealizedTotals._buckets``); ``size`` is its count's index."""
    for b in buckets:
        b[0] += usd
        b[1] += 1
        if usd > b[2]:
            b[2] = usd
        if sampled:
            b[3] = True
        b[size] += 1


def _fold_groups(
    held: list[Bucket], levels: list[Ints], fine: Ints, usd: Floats, sizes: Ints, sampled: Ints
) -> None:
    """Rows into their buckets, as ``_fold`` one row at a time would leave them: a row of group
    ``fine[row]`` goes into ``held[level[fine[row]]]`` for each of ``levels``. The USD adds the rows
    in order per bucket (``column_sums``); counts, the largest and the flags, which no order changes,
    are taken per group first, then per bucket."""
    import numpy as np

    n, k, deep = len(held), len(levels[0]), len(levels)
    stacked = np.stack(levels)  # each group's bucket at each level
    totals = column_sums([b[0] for b in held], stacked[:, fine].ravel(), np.tile(usd, deep))
    place = stacked.ravel()
    largest_of = np.full(k, -np.inf)
    np.maximum.at(largest_of, fine, usd)
    largest = np.full(n, -np.inf)
    np.maximum.at(largest, place, np.tile(largest_of, deep))
    of_group = np.empty((k, 7), dtype=np.int64)  # per group: rows, sampled rows, rows per size
    of_group[:, 0] = np.bincount(fine, minlength=k)
    of_group[:, 1] = np.bincount(fine[sampled != 0], minlength=k)
    of_group[:, 2:] = np.bincount(fine * 5 + sizes, minlength=k * 5).reshape(k, 5)
    counts = np.zeros((n, 7), dtype=np.int64)
    np.add.at(counts, place, np.tile(of_group, (deep, 1)))
    for b, total, top, (count, flag, *by_size) in zip(
        held, totals, largest.tolist(), counts.tolist(), strict=True
    ):
        b[0] = total
        b[1] += count
        if top > b[2]:
            b[2] = top
        if flag:
            b[3] = True
        for i, extra in enumerate(by_size):
            b[_B0 + i] += extra


def _take(out: list[Bucket], buckets: dict[int, Bucket], key: int) -> None:
    b = buckets.get(key)
    if b is not None:
        out.append(b)


def size_bucket(usd: float) -> int:
    """Index into ``views.SIZE_BUCKETS`` (<1k, 1k-10k, 10k-100k, 100k-1M, >1M USD)."""
    return bisect_right(SIZE_BUCKET_EDGES, usd)


class RealizedTotals:
    """Rolling realized liquidation totals, fed one liquidation at a time (``add``)."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, Side], _Series] = {}
        self._venues: dict[str, list[str]] = {}  # symbol (or "all") -> venues seen, sorted
        self._newest_second = -(1 << 62)
        self._next_prune = -(1 << 62)
        self._pending: list[LiquidationBatch] = []  # batches not summed yet (``add_batch``)
        self._pending_rows = 0

    def add(
        self, venue: str, symbol: str, side: Side, usd: float, time_ms: int, sampled: bool = False
    ) -> None:
        if self._pending:
            self._settle()
        second = time_ms // 1000
        if second < self._newest_second - KEEP_SECONDS:
            return  # older than any window can reach
        _fold(
            self._buckets((venue, symbol, side, second)),
            usd,
            _B0 + bisect_right(SIZE_BUCKET_EDGES, usd),
            sampled,
        )
        if second > self._newest_second:
            self._newest_second = second
            if second >= self._next_prune:
                self._prune()

    def add_many(self, liqs: Iterable[Liquidation]) -> None:
        """``add`` for each liquidation in order, with the same result to the last bit (every bucket
        sums its events in the same order; pruning ends where it would have): the bulk path of
        ``Engine.apply_many``. A (venue, symbol, side, second)'s six buckets are looked up once, and
        the run is folded into them at its end (``_fold_run``), not a liquidation at a time."""
        if self._pending:
            self._settle()
        liqs = liqs if isinstance(liqs, list) else list(liqs)
        if not self._fold_run(liqs):
            self._fold_each(liqs)

    def _fold_run(self, liqs: list[Liquidation]) -> bool:
        """``_fold_each`` for a run in time order (to the second), folded at its end. As they come, each
        liquidation's USD is only appended to two lists: its (venue, symbol, side, second)'s and its
        venue's "all" second's. In time order each minute and hour bucket takes its seconds' lists one
        after another, so at the end each bucket adds its lists in order (``reduce``: the same float as
        ``+=`` one at a time), and each (venue, symbol, side, second) its count, largest, flag and
        sizes, which no order changes, to its six buckets. False, having folded nothing, for a run out
        of time order or with a liquidation whose symbol is "all" (its series is its venue's "all"
        series): ``_fold_each`` takes those."""
        keys: dict[tuple[str, str, Side, int], tuple[list[float], list[float], tuple[Bucket, ...]]] = {}
        lists_of: dict[int, tuple[Bucket, list[list[float]]]] = {}  # id of a bucket -> it, its lists in order
        flagged: set[tuple[str, str, Side, int]] = set()
        newest, next_prune, prune_at, last = self._newest_second, self._next_prune, None, -(1 << 62)
        oldest = newest - KEEP_SECONDS  # moves with newest
        for liq in liqs:
            usd, second = liq.usd, liq.time // 1000
            if second < oldest:
                continue
            if second < last:
                return False
            last = second
            key = (liq.venue, liq.symbol, liq.side, second)
            held = keys.get(key)
            if held is None:
                if key[1] == ALL:
                    return False
                held = keys[key] = self._lists(key, lists_of)
            held[0].append(usd)
            held[1].append(usd)
            if liq.sampled:
                flagged.add(key)
            if second > newest:
                newest, oldest = second, second - KEEP_SECONDS
                if second >= next_prune:
                    prune_at, next_prune = second, second + 60
        for bucket, lists in lists_of.values():
            bucket[_USD] = reduce(add, chain.from_iterable(lists), bucket[_USD])
        edges = SIZE_BUCKET_EDGES
        for key, (usds, _, buckets) in keys.items():
            count, largest, flag = len(usds), max(usds), key in flagged
            sizes = Counter(map(bisect_right, repeat(edges), usds)).items()
            for bucket in buckets:
                bucket[_COUNT] += count
                if largest > bucket[_LARGEST]:
                    bucket[_LARGEST] = largest
                if flag:
                    bucket[_SAMPLED] = True
                for size, n in sizes:
                    bucket[_B0 + size] += n
        self._end_run(newest, prune_at)
        return True

    def _lists(
        self, key: tuple[str, str, Side, int], lists_of: dict[int, tuple[Bucket, list[list[float]]]]
    ) -> tuple[list[float], list[float], tuple[Bucket, ...]]:
        """For ``_fold_run``: ``key``'s six buckets (made as ``_buckets`` makes them), its own list and
        its venue's "all" second's list, each list given to the buckets it goes into, in time order."""
        buckets = self._buckets(key)
        own: list[float] = []
        for bucket in buckets[:3]:
            lists_of.setdefault(id(bucket), (bucket, []))[1].append(own)
        all_second = lists_of.get(id(buckets[3]))
        if all_second is None:
            shared: list[float] = []
            for bucket in buckets[3:]:
                lists_of.setdefault(id(bucket), (bucket, []))[1].append(shared)
        else:
            shared = all_second[1][0]
        return own, shared, buckets

    def _fold_each(self, liqs: Iterable[Liquidation]) -> None:
        """``add`` for each, in order: each liquidation into its six buckets (``_fold``)."""
        cache: dict[tuple[str, str, Side, int], tuple[Bucket, ...]] = {}
        edges = SIZE_BUCKET_EDGES
        newest, next_prune, prune_at = self._newest_second, self._next_prune, None
        for liq in liqs:
            usd, second = liq.usd, liq.time // 1000
            if second < newest - KEEP_SECONDS:
                continue
            key = (liq.venue, liq.symbol, liq.side, second)
            buckets = cache.get(key)
            if buckets is None:
                buckets = cache[key] = self._buckets(key)
            _fold(buckets, usd, _B0 + bisect_right(edges, usd), liq.sampled)
            if second > newest:
                newest = second
                if second >= next_prune:
                    prune_at, next_prune = second, second + 60
        self._end_run(newest, prune_at)

    def _end_run(self, newest: int, prune_at: int | None) -> None:
        self._newest_second = newest
        if prune_at is not None:  # the last prune the one-by-one path made covers every earlier one
            self._newest_second = prune_at
            self._prune()
            self._newest_second = newest

    def add_batch(self, batch: LiquidationBatch) -> None:
        """``add_many`` for a batch in time order, read as columns: held until the totals are read (or
        ``PENDING_ROWS`` wait), then the waiting batches at once (``_settle``)."""
        self._pending.append(batch)
        self._pending_rows += len(batch)
        if self._pending_rows >= PENDING_ROWS:
            self._settle()

    def _settle(self) -> None:
        pending, self._pending, self._pending_rows = self._pending, [], 0
        joined = concat(pending)
        for batch in [joined] if in_time_order(joined) else pending:
            self._add_columns(batch)

    def _add_columns(self, batch: LiquidationBatch) -> None:
        """A batch in time order into the buckets: each bucket's USD sums its rows in their order after
        what it held (``batch.column_sums``), so the totals are those of ``add`` to the bit."""
        import numpy as np

        second = batch.time // 1000
        keep = second >= self._newest_second - KEEP_SECONDS  # in time order, only the newest before counts
        if not keep.all():
            batch, second = batch.take(keep), second[keep]
        if not len(batch):
            return
        prune_at = self._prune_point(np.unique(second).tolist())
        # Rows grouped by (market, side, second); each group's six buckets (its series' and its venue's
        # "all" series', second, minute and hour) found or made in the order one by one makes them.
        first, fine = groups(batch.market, batch.side, second)
        held: list[Bucket] = []
        index: dict[int, int] = {}  # id of a bucket -> its place in held
        maps: list[list[int]] = [[] for _ in range(6)]
        for row in first:
            venue, symbol = batch.markets[int(batch.market[row])]
            side, sec = SIDE_OF_CODE[int(batch.side[row])], int(second[row])
            for n, b in enumerate(self._buckets((venue, symbol, side, sec))):
                place = index.setdefault(id(b), len(held))
                if place == len(held):
                    held.append(b)
                maps[n].append(place)
        sizes = np.searchsorted(np.array(SIZE_BUCKET_EDGES), batch.usd, side="right")
        levels = [np.array(m, dtype=np.int64) for m in maps]
        _fold_groups(held, levels, fine, batch.usd, sizes, batch.flags & 1)
        if prune_at is not None:  # as in add_many: the last prune covers every earlier one
            newest, self._newest_second = self._newest_second, prune_at
            self._prune()
            self._newest_second = newest

    def _prune_point(self, seconds: list[int]) -> int | None:
        """Move the newest second over ``seconds`` (ascending) as ``add`` would; the last prune's second."""
        newest, next_prune, prune_at = self._newest_second, self._next_prune, None
        for second in seconds:
            if second > newest:
                newest = second
                if second >= next_prune:
                    prune_at, next_prune = second, second + 60
        self._newest_second = newest
        return prune_at

    def _series_of(self, series_key: tuple[str, str, Side]) -> _Series:
        s = self._series.get(series_key)
        if s is None:
            s = self._series[series_key] = _Series()
            self._venues[series_key[1]] = sorted({*self._venues.get(series_key[1], ()), series_key[0]})
        return s

    def _buckets(self, key: tuple[str, str, Side, int]) -> tuple[Bucket, ...]:
        """The second, minute and hour buckets of ``key``'s series and of its venue's "all" series,
        made empty where missing (an empty bucket plus one event equals the bucket ``add`` makes)."""
        venue, symbol, side, second = key
        out: list[Bucket] = []
        for series_key in ((venue, symbol, side), (venue, ALL, side)):
            s = self._series_of(series_key)
            for buckets, k in ((s.sec, second), (s.min, second // 60), (s.hour, second // 3600)):
                b = buckets.get(k)
                if b is None:
                    b = buckets[k] = [0.0, 0, 0.0, False, 0, 0, 0, 0, 0]
                out.append(b)
        return tuple(out)

    def _prune(self) -> None:
        oldest = self._newest_second - KEEP_SECONDS
        for s in self._series.values():
            s.prune(oldest)
        self._next_prune = self._newest_second + 60  # pruning once a minute keeps add() O(1)

    def venues(self, symbol: str = ALL) -> list[str]:
        if self._pending:
            self._settle()
        return list(self._venues.get(symbol, ()))

    def bucket_count(self) -> int:
        """How many buckets are held (memory stays bounded: this does not grow with run time)."""
        if self._pending:
            self._settle()
        return sum(len(s.sec) + len(s.min) + len(s.hour) for s in self._series.values())

    def cell(self, venue: str, symbol: str, side: Side, window: str, now_ms: int) -> RealizedCell:
        """One venue's totals, or all venues' when ``venue`` is ``"all"``."""
        if self._pending:
            self._settle()
        last = now_ms // 1000
        first = last - WINDOW_MS[window] // 1000 + 1
        venues = self.venues(symbol) if venue == ALL else [venue]
        acc: Bucket = [0.0, 0, 0.0, False, 0, 0, 0, 0, 0]
        for v in venues:
            s = self._series.get((v, symbol, side))
            if s is None:
                continue
            t = s.total(first, last)
            acc[0] += t[0]
            acc[1] += t[1]
            acc[2] = max(acc[2], t[2])
            acc[3] = acc[3] or t[3]
            for i in range(_B0, _B0 + 5):
                acc[i] += t[i]
        return RealizedCell(
            venue=venue,
            symbol=symbol,
            side=side,
            usd=acc[0],
            count=int(acc[1]),
            largest_usd=acc[2],
            buckets=tuple(int(n) for n in acc[_B0:]),
            sampled=bool(acc[3]),
        )
