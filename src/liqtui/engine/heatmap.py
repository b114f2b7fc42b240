"""The liquidation heatmap's history: each symbol's ESTIMATED level book through time, per venue.

Every 5-minute bucket (``BUCKET_MS``) a venue's level book is snapshotted as USD per price row per
side (rows of the symbol's ``grid``, fixed at the first price seen; only rows within ``BAND`` of the
price, where a chart of the window can show them). Beside it, per bucket: the price's low and high
and the realized liquidations (USD per row and side). ``view`` sums the venues asked for into the
columns of a time range; that matrix is what the desk's heatmap pane draws and ``liqtui heatmap``
exports (see docs/level-model.md for the model the levels come from).

When a snapshot is taken: a book changes only at an OI step, so the book just before the first step
of a later bucket is the book at the end of the earlier bucket. ``before_step`` commits it then;
the bucket in progress reads the live book (``view``'s ``books``). A bucket with no step keeps the
last snapshot (the model's state did not change), so snapshots are stored only when they differ.

Memory is bounded: ``KEPT_MS`` (30 days) of buckets; prices in two float32 arrays per venue (8 bytes
a bucket); level snapshots as float32 runs of rows, and older ones thinned to the last of each
period of ``THINNING`` (5 minutes for a day, 30 minutes to 3 days, 1 hour to 7 days, 4 hours
beyond): a chart of 7 or 30 days draws one column per hour or more, so it reads the same snapshots.
Snapshots older than 4 days are also coarsened (``COARSENING``): rows merged 2 to 1, and 4 to 1
after 7 days, each merged cell's USD read at its middle row; a chart of 7 or 30 days has rows of
several grid rows, and a 12h, 24h or 3d chart reads exact snapshots only. The USD is kept.
Thinning keeps the last snapshot of each period whatever order the snapshots came in, and merging
goes by pairs, so a restart that loads them from a recording holds what the live desk held.

The tracked accounts' MEASURED levels (Hyperliquid positions) are kept the same way per bucket
(``before_positions``) and recorded as buckets of the pseudo-venue ``MEASURED``, which ``load``
takes back, so a restart draws them even when their positions are older than the warm-up replays.

Pure and deterministic: time comes from the events.
"""

from __future__ import annotations

import math
import operator
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from liqtui.domain.events import HeatmapBucket, Liquidation, Side
from liqtui.engine.batch import SIDE_OF_CODE, LiquidationBatch, column_sums, concat, groups, per_market
from liqtui.engine.levels import LevelBook

if TYPE_CHECKING:
    from liqtui.engine.batch import Ints

BUCKET_MS = 300_000
MARKS_WAITING = 16_384  # liquidation rows (``see_batch``) whose marks wait before they are summed
DAY_MS = 86_400_000
KEPT_MS = 30 * DAY_MS
BAND = 0.12  # rows kept within 12 % of the price at the snapshot (a 30-day window rarely spans more)
# (age below which, keep the last snapshot of each period of) ms; the periods nest (each divides the next)
THINNING = (
    (DAY_MS, BUCKET_MS),
    (3 * DAY_MS, 1_800_000),
    (7 * DAY_MS, 3_600_000),
    (KEPT_MS + DAY_MS, 14_400_000),
)
# (age from which, price rows merged into one) in old snapshots, where a 7-day or 30-day chart's row
# spans several rows anyway; younger snapshots (a 12h, 24h or 3d chart's) keep every row
COARSENING = ((4 * DAY_MS, 2), (7 * DAY_MS, 4))
THIN_EVERY_MS = 3_600_000
RANGES = {"12h": DAY_MS // 2, "24h": DAY_MS, "3d": 3 * DAY_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS}
TOUCHED_KEPT = 256  # per symbol, the buckets whose last change is remembered (older: every column is dirty)
VIEWS_KEPT = 4  # (symbol, range, column width, venues) views kept for reuse (a range key, back)
_TRIM_SLACK = 288  # buckets the price arrays may grow past KEPT_MS before their front is cut (a day)


@dataclass(frozen=True, slots=True)
class Run:
    """USD of consecutive price rows ``first``, ``first + 1``, ... (float32: a colour needs no more).
    A coarse run (``width`` > 1, an old snapshot's) holds ``width`` rows per cell, from a ``first``
    that is a multiple of ``width``; its USD is read at each cell's middle row (``items``)."""

    first: int
    usd: array[float]
    width: int = 1

    @classmethod
    def of_array(cls, first: int, usd: array[float], width: int = 1) -> Run:
        """The run of ``usd`` (cells of ``width`` rows from ``first``) without its zero cells at either end."""
        live = [k for k, u in enumerate(usd) if u > 0.0]
        if not live:
            return EMPTY_RUN
        return cls(first + live[0] * width, usd[live[0] : live[-1] + 1], width)

    @classmethod
    def of_band(cls, first: int, usd: array[float]) -> Run:
        """The run of ``usd`` from row ``first``, whose ends hold USD before float32 (``LevelBook.row_band``)."""
        if usd and usd[0] > 0.0 and usd[-1] > 0.0:
            return cls(first, usd)
        return cls.of_array(first, usd)  # empty, or an end too small for float32

    def items(self) -> Iterable[tuple[int, float]]:
        at, w = self.first + self.width // 2, self.width
        return ((at + k * w, u) for k, u in enumerate(self.usd) if u > 0.0)

    def coarser(self) -> Run:
        """Pairs of cells merged into one (``width`` doubled): the same USD on half the cells. Always
        by pairs, so a run merged twice holds the same floats whenever each merge ran."""
        width = 2 * self.width
        first = self.first - self.first % width
        cells = [0.0] * ((self.first - first) // self.width) + list(self.usd) + [0.0]
        return Run.of_array(first, array("f", map(operator.add, cells[0:-1:2], cells[1::2])), width)


EMPTY_RUN = Run(0, array("f"))


class Rows:
    """One side of a column: USD per price row from ``first``, summed over venues (float64; 0: no
    level), read as the (row, USD) pairs of its rows with levels, ascending. An array, not a tuple of
    pairs: a 30-day view holds ~2,000 rows per column (bench/README.md, heatmap memory)."""

    __slots__ = ("first", "usd")

    def __init__(self, first: int, usd: array[float]) -> None:
        self.first = first
        self.usd = usd

    @classmethod
    def summed(cls, runs: Iterable[Run]) -> Rows:
        runs = [r for r in runs if r.usd]
        if not runs:
            return cls(0, array("d"))
        first = min(r.first for r in runs)
        usd = array("d", bytes(8 * (max(r.first + len(r.usd) * r.width for r in runs) - first)))
        for run in runs:  # in the venues' order, as a sum in float64 of float32 rows (none negative:
            at, w = run.first - first + run.width // 2, run.width  # adding a 0 row changes nothing); a
            end = at + (len(run.usd) - 1) * w + 1  # coarse run's cells on their middle rows
            usd[at:end:w] = array("d", map(operator.add, usd[at:end:w], run.usd))
        return cls(first, usd)

    @classmethod
    def of_pairs(cls, pairs: Iterable[tuple[int, float]]) -> Rows:
        """The rows of (row, USD) pairs (a hand-built column's)."""
        cells = dict(pairs)
        if not cells:
            return cls(0, array("d"))
        first = min(cells)
        return cls(first, array("d", (cells.get(i, 0.0) for i in range(first, max(cells) + 1))))

    def __iter__(self) -> Iterator[tuple[int, float]]:
        first = self.first
        return ((first + k, u) for k, u in enumerate(self.usd) if u > 0.0)

    def __bool__(self) -> bool:
        return any(u > 0.0 for u in self.usd)

    def __eq__(self, other: object) -> bool:
        """Equal to Rows or a tuple of the same (row, USD) pairs."""
        if isinstance(other, Rows | tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Rows({tuple(self)!r})"


MEASURED = "measured"  # the name of a symbol's MEASURED level track in a view
_NONE: list[HeatmapBucket] = []  # what take_committed returns when nothing closed (never appended to)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One venue's level book at the end of a bucket: long and short USD per row."""

    bucket: int  # bucket start, ms
    longs: Run
    shorts: Run

    @classmethod
    def of_book(cls, bucket: int, book: LevelBook, grid: float, price: float) -> Snapshot:
        lo, hi = math.floor(price * (1 - BAND) / grid), math.floor(price * (1 + BAND) / grid)
        longs, shorts = book.row_band(grid, lo, hi)
        return cls(bucket, Run.of_band(*longs), Run.of_band(*shorts))

    @classmethod
    def of_levels(
        cls, bucket: int, levels: Mapping[Side, Mapping[int, float]], grid: float, price: float
    ) -> Snapshot:
        """MEASURED levels (USD by row per side, engine/positions.py) within ``BAND`` of ``price``."""
        lo, hi = math.floor(price * (1 - BAND) / grid), math.floor(price * (1 + BAND) / grid)
        runs = []
        for side in (Side.LONG, Side.SHORT):
            usd = array("f", bytes(4 * (hi - lo + 1)))
            for i, u in levels.get(side, {}).items():
                if lo <= i <= hi and u > 0.0:
                    usd[i - lo] = u
            runs.append(Run.of_array(lo, usd))
        return cls(bucket, runs[0], runs[1])


@dataclass(frozen=True, slots=True)
class HeatColumn:
    """One column of the heatmap: the time bucket [time, time + bucket_ms) summed over the venues.
    Levels are those standing at the column's end; None where no venue had a book yet (unknown)."""

    time: int
    longs: Rows | None  # (row, USD), ascending rows
    shorts: Rows | None
    low: float | None  # the price's range in the column, None when no price was seen
    high: float | None
    realized: tuple[tuple[int, Side, float], ...] = ()  # (row, side, USD) liquidated there


@dataclass(frozen=True, slots=True)
class HeatmapView:
    """The heatmap's matrix of one symbol over a time range: ESTIMATED (the level model)."""

    symbol: str
    grid: float  # price of row i is i x grid
    bucket_ms: int
    venues: tuple[str, ...]  # the venues summed (those with data among the ones asked for)
    columns: tuple[HeatColumn, ...]  # oldest first
    measured: bool = False  # levels of tracked accounts' positions (MEASURED), not the level model
    since: int | None = None  # MEASURED: the first bucket with tracked positions (earlier columns: unknown)

    def cells(self) -> Iterable[tuple[int, float, Side, float]]:
        """(bucket start, row price, side, USD) of every non-empty cell: the export's rows."""
        for col in self.columns:
            for side, rows in ((Side.LONG, col.longs), (Side.SHORT, col.shorts)):
                for i, usd in rows or ():
                    yield col.time, _clean(i * self.grid), side, usd


def bucket_for(range_ms: int, columns: int) -> int:
    """The column width for ``columns`` columns over ``range_ms``: a whole number of buckets."""
    per = math.ceil(range_ms / max(1, columns) / BUCKET_MS)
    return max(1, per) * BUCKET_MS


def _period(age_ms: int) -> int:
    for below, period in THINNING:
        if age_ms < below:
            return period
    return THINNING[-1][1]


def _width(age_ms: int) -> int:
    return max((w for since, w in COARSENING if age_ms >= since), default=1)


def _age_runs() -> list[tuple[int, int, int, int]]:
    """(youngest age, oldest age excluded, period, width) of the runs of ages thinned alike: every age
    where the period, the width or the history's edge (KEPT_MS) changes starts a run."""
    edges = sorted({0, KEPT_MS, *(below for below, _p in THINNING), *(since for since, _w in COARSENING)})
    return [
        (young, old, _period(young), _width(young))
        for young, old in zip(edges, [*edges[1:], 2**62], strict=True)
    ]


class _Prices:
    """Low and high per bucket of one venue, float32 arrays from bucket index ``base`` (NaN: none)."""

    __slots__ = ("base", "lows", "highs")

    def __init__(self, index: int) -> None:
        self.base = index
        self.lows: array[float] = array("f")
        self.highs: array[float] = array("f")

    def see(self, index: int, low: float, high: float) -> None:
        k = self._slot(index)
        if not self.lows[k] <= low:  # NaN compares false
            self.lows[k] = low
        if not self.highs[k] >= high:
            self.highs[k] = high

    def put(self, index: int, low: float | None, high: float | None) -> None:
        k = self._slot(index)
        self.lows[k] = math.nan if low is None else low
        self.highs[k] = math.nan if high is None else high

    def _slot(self, index: int) -> int:
        """The array index of bucket ``index``, growing (or cutting) the arrays to hold it."""
        k = index - self.base
        if k < 0:
            pad = array("f", [math.nan]) * -k
            self.lows, self.highs = pad + self.lows, pad + self.highs
            self.base, k = index, 0
        if k >= len(self.lows):
            pad = array("f", [math.nan]) * (k + 1 - len(self.lows))
            self.lows.extend(pad)
            self.highs.extend(pad)
            if len(self.lows) > KEPT_MS // BUCKET_MS + _TRIM_SLACK:
                cut = len(self.lows) - KEPT_MS // BUCKET_MS
                del self.lows[:cut]
                del self.highs[:cut]
                self.base += cut
                k -= cut
        return k

    def span(self, first: int, end: int) -> tuple[float, float] | None:
        """(low, high) over bucket indexes [first, end)."""
        i, j = max(0, first - self.base), max(0, end - self.base)
        lows = [x for x in self.lows[i:j] if x == x]
        if not lows:
            return None
        return min(lows), max(x for x in self.highs[i:j] if x == x)


class _Track:
    """One venue and symbol: its snapshots (sorted, one per change), prices and realized USD."""

    __slots__ = ("snapshots", "buckets", "open_bucket", "prices", "realized", "thinned", "loaded_until")

    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []
        self.buckets: list[int] = []  # the snapshots' buckets, for bisects
        self.open_bucket: int | None = None  # the bucket of the last step (its end is not known yet)
        self.prices: _Prices | None = None
        self.realized: dict[int, dict[tuple[int, Side], float]] = {}  # bucket -> (row, side) -> USD
        self.thinned = -1  # the hour of the newest snapshot at the last thinning
        self.loaded_until = (
            -1
        )  # the newest bucket loaded from a recording (it and older ones stand as recorded)

    def add(self, snap: Snapshot) -> int | None:
        """Keep ``snap`` in time order, then thin what aged (see the module docstring). Returns the
        oldest bucket whose standing snapshot changed (None: none did)."""
        snaps = self.snapshots
        k = bisect_left(self.buckets, snap.bucket)
        if k < len(snaps) and snaps[k].bucket == snap.bucket:
            snaps[k] = snap
        elif k == len(snaps) and snaps and _same(snaps[-1], snap):
            return None
        else:
            snaps.insert(k, snap)
            self.buckets.insert(k, snap.bucket)
        hour = snaps[-1].bucket // THIN_EVERY_MS
        if hour == self.thinned:
            return snap.bucket
        self.thinned = hour
        return min(snap.bucket, self._thin(snaps[-1].bucket))

    def _thin(self, newest: int) -> int:
        """Drop what the thinning rule drops (once an hour of data: the rule keeps the same snapshots
        whenever it runs, as the periods nest). Each snapshot is judged with its successor; the
        snapshots are taken in runs of ages with one period and one width (``_age_runs``), so the
        pass reads two bucket numbers per snapshot and coarsens only in the old runs."""
        snaps, buckets = self.snapshots, self.buckets
        last = len(snaps) - 1  # the newest stands whatever its age
        gone: list[int] = []
        coarse: list[tuple[int, Snapshot]] = []
        edge = newest - KEPT_MS
        for young, old, period, width in _age_runs():
            # ages in [young, old): buckets in (newest - old, newest - young]
            start = bisect_right(buckets, newest - old)
            end = min(bisect_right(buckets, newest - young), last)
            for i in range(start, end):
                bucket, nxt = buckets[i], buckets[i + 1]
                if (young >= KEPT_MS and nxt <= edge) or bucket // period == nxt // period:
                    # older than the history and not the book standing at its start, or a later
                    # snapshot of the same period stands for it
                    gone.append(i)
                elif width > 1 and (snap := _coarsened(snaps[i], width)) is not snaps[i]:
                    coarse.append((i, snap))
        dropped = min([newest, *(buckets[i] for i in gone), *(buckets[i] for i, _s in coarse)])
        for i, snap in coarse:
            snaps[i] = snap
        for i in sorted(gone, reverse=True):
            del snaps[i], buckets[i]
        if self.realized and min(self.realized) < edge:
            for bucket in [b for b in self.realized if b < edge]:
                del self.realized[bucket]
        return dropped

    def drop(self, bucket: int) -> int | None:
        """Forget the snapshot of ``bucket`` (the one standing before it stands for it again); returns
        ``bucket`` if there was one."""
        k = bisect_left(self.buckets, bucket)
        if k == len(self.buckets) or self.buckets[k] != bucket:
            return None
        del self.snapshots[k], self.buckets[k]
        return bucket

    def at(self, end: int) -> Snapshot | None:
        """The snapshot standing at ``end`` (the last one of a bucket before it)."""
        k = bisect_right(self.buckets, end - BUCKET_MS)
        return self.snapshots[k - 1] if k else None


def _coarsened(snap: Snapshot, width: int) -> Snapshot:
    """``snap`` with its rows merged ``width`` to 1 (by pairs, see Run.coarser); itself if they are."""
    longs, shorts = snap.longs, snap.shorts
    while longs.usd and longs.width < width:
        longs = longs.coarser()
    while shorts.usd and shorts.width < width:
        shorts = shorts.coarser()
    return snap if longs is snap.longs and shorts is snap.shorts else Snapshot(snap.bucket, longs, shorts)


def _runs(snap: Snapshot) -> tuple[tuple[int, tuple[float, ...]], tuple[int, tuple[float, ...]]]:
    """A fresh snapshot's runs as a HeatmapBucket holds them (first row, USD per row)."""
    return (snap.longs.first, tuple(snap.longs.usd)), (snap.shorts.first, tuple(snap.shorts.usd))


def _same(a: Snapshot, b: Snapshot) -> bool:
    return a.longs == b.longs and a.shorts == b.shorts


# symbol, range, bucket_ms, venues asked for, MEASURED levels
_ViewKey = tuple[str, int, int, tuple[str, ...] | None, bool]


@dataclass(slots=True)
class _Cached:
    version: int
    view: HeatmapView
    lives: dict[int, tuple[Snapshot, ...]]  # column start -> the live snapshots it read (empty: none)


_UNSEEN: dict[tuple[int, Side], float] = {}  # see_liquidations: a (venue, symbol, bucket) not looked up yet


class HeatmapHistory:
    """Per symbol and venue, the heatmap's bounded history; ``view`` reads it as a ``HeatmapView``."""

    def __init__(self, grid_for: Callable[[float], float]) -> None:
        self._grid_for = grid_for  # a symbol's row height from its first price (the ladder's automatic step)
        # Liquidation batches whose marks are not summed yet (``see_batch``): (batch, rows, buckets).
        self._waiting: list[tuple[LiquidationBatch, Ints, Ints]] = []
        self._waiting_rows = 0
        self._grids: dict[str, float] = {}
        self._tracks: dict[str, dict[str, _Track]] = {}
        self.version = 0  # bumps on every change
        self._touched: dict[str, dict[int, int]] = {}  # symbol -> bucket -> version that last changed it
        self._forgot: dict[str, int] = {}  # symbol -> the newest version dropped from _touched
        self._live: dict[tuple[str, str], tuple[int, float, Snapshot]] = {}  # book version, price, snapshot
        self._views: dict[_ViewKey, _Cached] = {}
        self._measured: dict[str, _Track] = {}  # symbol -> tracked accounts' MEASURED levels per bucket
        self.recording = False  # keep closed buckets in ``committed`` for a recorder
        self.committed: list[HeatmapBucket] = []

    def grid(self, symbol: str, price: float | None = None) -> float | None:
        """The symbol's row height, fixed from ``price`` when it has none yet."""
        grid = self._grids.get(symbol)
        if grid is None and price is not None and 0 < price < math.inf:
            grid = self._grids[symbol] = self._grid_for(price)
        return grid

    def _track(self, venue: str, symbol: str) -> _Track:
        tracks = self._tracks.setdefault(symbol, {})
        track = tracks.get(venue)
        if track is None:
            track = tracks[venue] = _Track()
        return track

    def _touch(self, symbol: str, bucket: int) -> None:
        self.version += 1
        touched = self._touched.setdefault(symbol, {})
        touched.pop(bucket, None)
        touched[bucket] = self.version  # insertion order = version order
        if len(touched) > TOUCHED_KEPT:
            for old in list(touched)[: TOUCHED_KEPT // 2]:
                self._forgot[symbol] = touched.pop(old)  # a view older than this sums every column again

    # --- what the engine feeds -------------------------------------------------------------------

    def before_step(
        self, venue: str, symbol: str, time_ms: int, book: LevelBook, price: float | None
    ) -> None:
        """An OI step at ``time_ms`` is about to change ``book`` (its price now ``price``): when the
        step opens a later bucket, the book as it stands ends the bucket of the previous step."""
        bucket = time_ms - time_ms % BUCKET_MS
        track = self._track(venue, symbol)
        opened = track.open_bucket
        if opened is not None and bucket <= opened:
            return
        track.open_bucket = bucket
        grid = self.grid(symbol, price)
        if grid is None or price is None:
            return
        if opened is not None and opened > track.loaded_until:  # a recording's bucket stands as recorded
            # Snapshots copy row sums kept current, not every level; kept from the first snapshot on:
            # a warm-up's or a replay's recorded buckets take none, so their OI steps keep no rows.
            if grid not in book.tracked_grids():
                book.track_rows(grid)
            if self._waiting:
                self._sum_marks()  # the bucket's marks as it closes (recorded, and thinned with it)
            snap = Snapshot.of_book(opened, book, grid, price)
            changed = track.add(snap)
            if changed is not None:
                self._touch(symbol, changed)
            if self.recording:
                self.committed.append(
                    self._bucket_event(venue, symbol, time_ms, grid, track, snap, changed is not None)
                )
        self._touch(symbol, bucket)

    def _bucket_event(
        self, venue: str, symbol: str, time_ms: int, grid: float, track: _Track, snap: Snapshot, changed: bool
    ) -> HeatmapBucket:
        span = (
            track.prices.span(snap.bucket // BUCKET_MS, snap.bucket // BUCKET_MS + 1)
            if track.prices
            else None
        )
        marks = tuple((i, side, usd) for (i, side), usd in track.realized.get(snap.bucket, {}).items())
        runs = _runs(snap) if changed else (None, None)
        return HeatmapBucket(
            venue,
            symbol,
            time_ms,
            snap.bucket,
            grid,
            runs[0],
            runs[1],
            span[0] if span else None,
            span[1] if span else None,
            marks,
        )

    def load(self, event: HeatmapBucket) -> None:
        """A recorded bucket (a warm-up or a replay): it stands as recorded, and what the engine
        computes again for it or older buckets of its venue (from thinned OI, fewer prices) is left out.
        The reader hands a bucket over before the OI step that closed it (same time), so ``before_step``
        finds it loaded and takes no snapshot of the book for it; read after that step, it replaces the
        snapshot taken, or (recorded as unchanged) drops it: the same history either way."""
        if self._waiting:
            self._sum_marks()
        if self._grids.setdefault(event.symbol, event.grid) != event.grid:
            return  # rows of another grid are not this symbol's rows
        measured = event.venue == MEASURED  # the tracked accounts' levels (before_positions)
        track = self._measured.setdefault(event.symbol, _Track()) if measured else None
        track = track or self._track(event.venue, event.symbol)
        track.loaded_until = max(track.loaded_until, event.bucket)
        if event.longs is not None and event.shorts is not None:
            longs, shorts = (Run(first, array("f", usd)) for first, usd in (event.longs, event.shorts))
            changed = track.add(Snapshot(event.bucket, longs, shorts))
        else:  # as the last bucket's: a snapshot computed for it before it was read leaves
            changed = track.drop(event.bucket)
        if changed is not None:
            self._touch(event.symbol, changed)
        if measured:
            track.open_bucket = max(track.open_bucket or event.bucket, event.bucket)
            self._touch(event.symbol, event.bucket)
            return
        index = event.bucket // BUCKET_MS
        if track.prices is None:
            track.prices = _Prices(index)
        track.prices.put(index, event.low, event.high)
        track.realized[event.bucket] = {(i, side): usd for i, side, usd in event.realized}
        self._touch(event.symbol, event.bucket)

    def see_price(self, venue: str, symbol: str, time_ms: int, low: float, high: float) -> None:
        track = self._track(venue, symbol)
        index = time_ms // BUCKET_MS
        if index * BUCKET_MS <= track.loaded_until:
            return
        if track.prices is None:
            track.prices = _Prices(index)
        track.prices.see(index, low, high)
        self.grid(symbol, high)
        self._touch(symbol, index * BUCKET_MS)

    def see_liquidation(
        self, venue: str, symbol: str, time_ms: int, side: Side, price: float, usd: float
    ) -> None:
        if self._waiting:
            self._sum_marks()
        grid = self.grid(symbol, price)
        bucket = time_ms - time_ms % BUCKET_MS
        track = self._track(venue, symbol)
        if grid is None or bucket <= track.loaded_until:
            return
        cells = track.realized.setdefault(bucket, {})
        key = (math.floor(price / grid), side)
        cells[key] = cells.get(key, 0.0) + usd
        self._touch(symbol, bucket)

    def see_liquidations(self, liqs: Iterable[Liquidation]) -> None:
        """``see_liquidation`` for each, in order (the engine's bulk path): the same marks, each
        (venue, symbol, bucket) looked up and touched once."""
        if self._waiting:
            self._sum_marks()
        cells_of: dict[tuple[str, str, int], dict[tuple[int, Side], float] | None] = {}
        grids, floor, bucket_ms, unseen = self._grids, math.floor, BUCKET_MS, _UNSEEN
        for liq in liqs:
            symbol, price, time_ms = liq.symbol, liq.price, liq.time
            grid = grids.get(symbol) or self.grid(symbol, price)
            if grid is None:
                continue
            bucket = time_ms - time_ms % bucket_ms
            key = (liq.venue, symbol, bucket)
            cells = cells_of.get(key, unseen)
            if cells is unseen:
                track = self._track(liq.venue, symbol)
                late = bucket <= track.loaded_until
                cells = cells_of[key] = None if late else track.realized.setdefault(bucket, {})
            if cells is not None:
                row = (floor(price / grid), liq.side)
                cells[row] = cells.get(row, 0.0) + liq.usd
        for (_venue, symbol, bucket), cells in cells_of.items():
            if cells is not None:
                self._touch(symbol, bucket)

    def see_batch(self, batch: LiquidationBatch) -> None:
        """``see_liquidations`` for a batch, read as columns: each symbol's grid and each row's place
        (a bucket loaded from a recording takes none) now; the marks wait until the history is read
        (or ``MARKS_WAITING`` rows), then each cell sums its rows in their order after what it held
        (``_sum_marks``), so the marks are the same to the bit."""
        import numpy as np

        for market in batch.market_ids():  # each symbol's grid from its first row, as one by one
            venue, symbol = batch.markets[market]
            if symbol not in self._grids:
                self.grid(symbol, float(batch.price[batch.market == market][0]))
            self._track(venue, symbol)
        grids = per_market(batch, lambda m: self._grids[batch.markets[m][1]])
        rows = np.floor(batch.price / grids)
        if not (np.abs(rows) < 2.0**62).all():  # rows beyond int64: the objects' path
            self.see_liquidations(list(batch))
            return
        buckets = batch.time - batch.time % BUCKET_MS
        loaded = per_market(batch, lambda m: self._track(*batch.markets[m]).loaded_until)
        use = buckets > loaded  # a bucket loaded from a recording stands as recorded
        if not use.all():
            batch, rows, buckets = batch.take(use), rows[use], buckets[use]
        if len(batch):
            self._waiting.append((batch, rows.astype(np.int64), buckets))
            self._waiting_rows += len(batch)
            if self._waiting_rows >= MARKS_WAITING:
                self._sum_marks()

    def _sum_marks(self) -> None:
        """The waiting batches' rows into their cells (``see_batch``)."""
        import numpy as np

        waiting, self._waiting, self._waiting_rows = self._waiting, [], 0
        if not waiting:
            return
        batch = concat([b for b, _r, _b in waiting])
        rows = np.concatenate([r for _b, r, _k in waiting])
        buckets = np.concatenate([k for _b, _r, k in waiting])
        first, group = groups(batch.market, buckets, rows, batch.side)
        cells_of: list[tuple[dict[tuple[int, Side], float], tuple[int, Side]]] = []
        keys_of: list[tuple[int, int]] = []  # (market, bucket) of each cell
        for row in first:
            market = int(batch.market[row])
            keys_of.append((market, int(buckets[row])))
            venue, symbol = batch.markets[market]
            cells = self._track(venue, symbol).realized.setdefault(int(buckets[row]), {})
            key = (int(rows[row]), SIDE_OF_CODE[int(batch.side[row])])
            cells[key] = cells.get(key, 0.0)
            cells_of.append((cells, key))
        sums = column_sums([cells[key] for cells, key in cells_of], group, batch.usd)
        for (cells, key), usd in zip(cells_of, sums, strict=True):
            cells[key] = usd
        for market, bucket in dict.fromkeys(keys_of):  # each (venue, symbol, bucket) once, in order
            self._touch(batch.markets[market][1], bucket)

    def before_positions(
        self,
        symbol: str,
        time_ms: int,
        levels: Callable[[float], Mapping[Side, Mapping[int, float]]],
        price: float | None,
    ) -> None:
        """Tracked positions of ``symbol`` are about to change at ``time_ms``: when this opens a later
        bucket, the MEASURED levels as they stand (``levels(grid)``) end the bucket of the last change.
        One snapshot a bucket at most, so the positions are binned once per 5 minutes, not per event."""
        bucket = time_ms - time_ms % BUCKET_MS
        track = self._measured.setdefault(symbol, _Track())
        opened = track.open_bucket
        if opened is not None and bucket <= opened:
            return
        track.open_bucket = bucket
        grid = self.grid(symbol, price)
        if opened is not None and grid is not None and price is not None and opened > track.loaded_until:
            snap = Snapshot.of_levels(opened, levels(grid), grid, price)
            changed = track.add(snap)
            if changed is not None:
                self._touch(symbol, changed)
            if self.recording:  # recorded as a bucket of the pseudo-venue MEASURED (no prices, no marks)
                longs, shorts = _runs(snap) if changed is not None else (None, None)
                self.committed.append(
                    HeatmapBucket(MEASURED, symbol, time_ms, opened, grid, longs, shorts, None, None, ())
                )
        self._touch(symbol, bucket)

    def has_measured(self, symbol: str) -> bool:
        return symbol in self._measured

    def venues(self, symbol: str) -> list[str]:
        return list(self._tracks.get(symbol, {}))

    def take_committed(self) -> list[HeatmapBucket]:
        """The buckets closed since the last call, as events for the recording (kept once ``recording``)."""
        if not self.committed:
            return _NONE
        out, self.committed = self.committed, []
        return out

    # --- reading ---------------------------------------------------------------------------------

    def view(
        self,
        symbol: str,
        end_ms: int,
        range_ms: int,
        bucket_ms: int,
        books: Mapping[str, tuple[LevelBook, float | None]],
        venues: Iterable[str] | None = None,
        measured: Callable[[float], Mapping[Side, Mapping[int, float]]] | None = None,
        budget: int | None = None,
    ) -> HeatmapView | None:
        """The columns of width ``bucket_ms`` (a multiple of BUCKET_MS) covering ``range_ms`` up to
        ``end_ms``; ``books``: each venue's live book and price, read for its bucket in progress.
        With ``measured`` (the tracked positions' levels now, by grid), the levels are the MEASURED
        ones instead of the estimate (the price path and realized marks stay the venues').
        None when the symbol has no grid yet (no price seen). The same object as the last call
        when nothing it shows changed; otherwise only the columns that changed are summed again.
        With ``budget``, at most that many columns are summed: a view that needs more keeps them for
        the next call and returns None (a view is readied ahead of a key over a few idle moments)."""
        if self._waiting:
            self._sum_marks()
        grid = self._grids.get(symbol)
        if grid is None:
            return None
        asked = None if venues is None else tuple(sorted(set(venues)))
        tracks = sorted(
            (v, t) for v, t in self._tracks.get(symbol, {}).items() if asked is None or v in asked
        )
        last = end_ms - end_ms % bucket_ms
        starts = range(last - (math.ceil(range_ms / bucket_ms) - 1) * bucket_ms, last + 1, bucket_ms)
        key = (symbol, range_ms, bucket_ms, asked, measured is not None)
        cached = self._views.get(key)
        dirty = self._dirty_from(symbol, cached.version if cached else -1)
        old = {c.time: c for c in cached.view.columns} if cached else {}
        if measured is None:
            live = {v: self._live_snapshot(symbol, v, b, grid, p) for v, (b, p) in books.items() if p}
            level_tracks = tracks
        else:
            price = next((p for _b, p in books.values() if p), None)
            live = {MEASURED: Snapshot.of_levels(0, measured(grid), grid, price)} if price else {}
            level_tracks = [(MEASURED, self._measured[symbol])] if symbol in self._measured else []
        columns: list[HeatColumn] = []
        lives: dict[int, tuple[Snapshot, ...]] = {}
        summed = 0
        for start in starts:
            col = old.get(start)
            end = start + bucket_ms
            used = tuple(
                live[v]
                for v, t in level_tracks
                if v in live and t.open_bucket is not None and t.open_bucket < end
            )
            if col is None or end > dirty or (cached is not None and cached.lives.get(start, ()) != used):
                if budget is not None and summed >= budget:
                    self._keep(key, HeatmapView(symbol, grid, bucket_ms, (), tuple(columns)), lives)
                    return None
                col = self._column(level_tracks, tracks, start, end, live)
                summed += 1
            columns.append(col)
            if used:
                lives[start] = used
        names = tuple(v for v, _t in tracks)
        if (
            cached
            and cached.view.venues == names
            and len(columns) == len(old)
            and all(a is b for a, b in zip(columns, cached.view.columns, strict=True))
        ):
            cached.version = self.version
            return cached.view
        since = None
        if measured is not None and level_tracks:
            track = level_tracks[0][1]
            since = track.snapshots[0].bucket if track.snapshots else track.open_bucket
        view = HeatmapView(symbol, grid, bucket_ms, names, tuple(columns), measured is not None, since)
        self._keep(key, view, lives)
        return view

    def _keep(self, key: _ViewKey, view: HeatmapView, lives: dict[int, tuple[Snapshot, ...]]) -> None:
        """Keep ``view`` (or the columns summed so far) for the next call with ``key``."""
        self._views.pop(key, None)
        self._views[key] = _Cached(self.version, view, lives)
        while len(self._views) > VIEWS_KEPT:
            del self._views[next(iter(self._views))]

    def _dirty_from(self, symbol: str, version: int) -> int:
        """The oldest bucket changed after ``version`` (a column ending after it is summed again)."""
        if version < self._forgot.get(symbol, -1):
            return -(2**62)
        dirty = math.inf
        for bucket, v in reversed(self._touched.get(symbol, {}).items()):
            if v <= version:
                break
            dirty = min(dirty, bucket)
        return int(dirty) if dirty < math.inf else 2**62

    def _live_snapshot(self, symbol: str, venue: str, book: LevelBook, grid: float, price: float) -> Snapshot:
        cached = self._live.get((symbol, venue))
        if cached is None or cached[0] != book.version or cached[1] != price:
            cached = (book.version, price, Snapshot.of_book(0, book, grid, price))
            self._live[(symbol, venue)] = cached
        return cached[2]

    @staticmethod
    def _column(
        level_tracks: list[tuple[str, _Track]],
        tracks: list[tuple[str, _Track]],
        start: int,
        end: int,
        live: Mapping[str, Snapshot],
    ) -> HeatColumn:
        """Levels standing at ``end`` from ``level_tracks``, prices and realized marks from ``tracks``."""
        longs: list[Run] = []
        shorts: list[Run] = []
        known = False
        low, high = math.inf, -math.inf
        realized: dict[tuple[int, Side], float] = {}
        for name, level_track in level_tracks:
            in_progress = level_track.open_bucket is not None and level_track.open_bucket < end
            snap = live.get(name) if in_progress else None
            snap = snap if snap is not None else level_track.at(end)
            if snap is not None:
                known = True
                longs.append(snap.longs)
                shorts.append(snap.shorts)
        for _venue, track in tracks:
            if track.prices is not None:
                span = track.prices.span(start // BUCKET_MS, end // BUCKET_MS)
                if span is not None:
                    low, high = min(low, span[0]), max(high, span[1])
            for bucket in range(start, end, BUCKET_MS):
                for cell, usd in track.realized.get(bucket, {}).items():
                    realized[cell] = realized.get(cell, 0.0) + usd
        return HeatColumn(
            start,
            Rows.summed(longs) if known else None,
            Rows.summed(shorts) if known else None,
            low if low < math.inf else None,
            high if high > -math.inf else None,
            tuple(
                (i, side, usd)
                for (i, side), usd in sorted(realized.items(), key=lambda kv: (kv[0][0], kv[0][1].value))
            ),
        )


def _clean(x: float) -> float:
    return float(f"{x:.12g}")
