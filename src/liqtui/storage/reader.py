"""Reading a recording back: events in time order, a summary of what the file holds, engine warm-up.

- ``read_events(path, since_ms, until_ms, kinds)``: validates the file at the call (raising
  ``StoreError``), then iterates events ordered by (time, arrival); both bounds are inclusive.
  Damaged rows (a text time, a NULL price, a book that does not decode) are skipped and counted
  in the stream's ``skipped``. It reads what the file held when it was opened, in chunks, each
  its own short read transaction: a replay left open beside a running recorder never holds the
  write-ahead log, which the recorder then folds back into the file as it goes.
- ``describe(path)``: first and last event time, where the live part starts, rows per kind, venues
  and symbols, and how many alerts the session said.
- ``read_alerts(path)``: the alerts a session said live, in the order it said them (None for a file
  made before liqtui recorded them).
- ``count_events(path, since_ms, until_ms)``: how many events ``read_events`` would yield (progress).
- ``warm(engine, path, now_ms)``: applies what the engine needs at start, so 24 h totals and the
  30 d OI lookback are right straight after a restart (see ``WARM_SPANS_MS``); ``start_warm`` does
  the same a batch per step, for the live desk, which applies it after its first frame.
"""

from __future__ import annotations

import heapq
import itertools
import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from liqtui.domain.alerts import Alert
from liqtui.domain.events import (
    BookSnapshot,
    Event,
    HeatmapBucket,
    OpenInterest,
    PositionSnapshot,
    PriceBar,
    Ticker,
)
from liqtui.engine.batch import LiquidationBatch
from liqtui.engine.heatmap import MEASURED
from liqtui.storage import blocks
from liqtui.storage.layouts import (
    ALERTS,
    BY_KIND,
    DAMAGE,
    KINDS,
    MAX_TIME_MS,
    Layout,
    Market,
    Row,
    check_kinds,
    damage_note,
    has_market,
)
from liqtui.storage.retention import time_edge
from liqtui.storage.schema import (
    EVENT_TABLES,
    StoreError,
    open_for_reading,
    recorded_mode,
    store_errors,
    table_names,
)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000

# How far back the engine is warmed, per kind. Liquidations: the longest realized window (24 h).
# OI and price bars: the level model's lookback (`levels.lookback_days`, 30 d by default).
# Tickers: the last few minutes give the current price, mark and funding. Heatmap buckets: the heatmap's
# 30 days as the desk drew them (its prices and realized marks beyond what the other spans hold). Order books and feed
# states of an earlier session are stale by definition and are not replayed into a live desk.
WARM_SPANS_MS = {
    "liquidations": 24 * HOUR_MS,
    "oi": 30 * DAY_MS,
    "bars": 30 * DAY_MS,
    "tickers": 300_000,
    "heatmap": 30 * DAY_MS,
    "positions": 6 * HOUR_MS,  # MEASURED positions: the engine keeps each account's newest
}
CHUNK_ROWS = 4096  # rows per read transaction and kind
# A recorded heatmap bucket's row is ~4x an OI sample's (its runs' blobs): 4,096 of them took a stress
# warm-up's step ~29 ms to fetch (in a slow spell). And the first read of each kind is smaller: a read
# primes every kind's stream at once (the warm-up's first step fetched ~70 ms of first chunks).
HEATMAP_CHUNK_ROWS = 1024
FIRST_CHUNK_ROWS = 1024
# A warm-up's step (``Warming.step``) spends a budget: a liquidation row (read and applied as columns,
# ~5 us) costs 1, any other event ``EVENT_COST`` (an OI step, most of the others, takes the level model
# ~0.2-0.3 ms). ``WARM_STEP``, a step of the desk's warm-up after its first frame, is ~20 ms of CPU
# (with 1,024 events a step the backfill's OI steps held one up to ~120 ms: keys waited); ``warm``,
# which blocks anyway, takes larger steps.
EVENT_COST = 40
WARM_STEP = 4096
WARM_BATCH = 65_536

# Kinds no venue (nor the demo) ever backfills: the first of them is where a session went live.
# OI and price bars are also backfilled, hours to days before the session started.
LIVE_ONLY_KINDS = ("liquidations", "tickers", "books", "status")


@dataclass(frozen=True)
class RecordingInfo:
    path: Path
    start_ms: int | None  # first event, None for an empty recording
    end_ms: int | None  # last event
    rows: dict[str, int]  # per kind
    venues: tuple[str, ...]
    symbols: tuple[str, ...]
    source_mode: str = "LIVE"  # "DEMO" for a recording of the simulated market
    live_start_ms: int | None = None  # first event of a LIVE_ONLY_KINDS: before it, only backfill
    alerts: int | None = None  # alerts the session said (updates included); None: not recorded then
    blocks: bool = False  # liquidations held as packed blocks too (storage/blocks.py): read in ~0.1 s


Span = tuple[int | None, int | None]  # (since, until) ms, inclusive; None: open on that side


class Applies(Protocol):
    def apply(self, event: Event) -> object: ...


class Reads(Protocol):
    """What a warm-up applies (``Warming``): ``read_runs``' items, polled. ``poll()`` is the next item
    (an event or a ``LiquidationBatch``), None at the end, or any other object when the next one is not
    read yet (a read-ahead's child, feeds/replay_ahead.py: the step ends, the desk's loop turns)."""

    def poll(self) -> Any: ...

    def close(self) -> None: ...


# Reads of a warm-up made elsewhere (``start_warm``'s ``ahead``): the file, each kind's span, the newest
# time; None: read here.
ReadsAhead = Callable[[Path, Mapping[str, Span], int], "Reads | None"]


T = TypeVar("T")


class _Stream(Iterator[T]):
    """What a reader returns; ``skipped`` counts the damaged rows left out, per kind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped: Counter[str] = Counter()
        self._events: Generator[T, None, None]

    def __iter__(self) -> Iterator[T]:
        return self._events  # a for loop runs on the generator itself: no call per event here

    def __next__(self) -> T:
        return next(self._events)

    def close(self) -> None:
        self._events.close()

    def note(self) -> str | None:
        """One line for the user about the damaged rows skipped so far (None: there were none)."""
        return damage_note(self.path, self.skipped)


class EventStream(_Stream[Event]):
    """The events ``read_events`` returns, in time order."""

    def __init__(self, conn: sqlite3.Connection, path: Path, spans: Mapping[str, Span]) -> None:
        super().__init__(path)
        self._events = _events(conn, path, spans, self.skipped)


class RunStream(_Stream["Event | LiquidationBatch"]):
    """What ``read_runs`` returns: the events in time order, each run of liquidations between two
    other events as ``LiquidationBatch`` columns (up to ``RUN_ROWS`` rows each).

    ``merge_until`` (None: never) lets a run of rows up to that time go on past another market's
    event that neither reads nor changes what the run does (``_crosses``): the run comes first, then
    the events it went past, in their order. The engine's state is the same as one event at a time;
    what watches the events' order (the alerts of a replay that plays) must leave it None.

    ``liquidations`` (None: read here): the liquidations' reads of the same span read elsewhere, as
    ``read_liquidations`` hands them out; ``top_seq`` then the newest row both read (``newest_seq``).
    ``checked``: the file's packed blocks checked ahead (``check_soon``), taken at the first read of them."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        spans: Mapping[str, Span],
        *,
        top_seq: int | None = None,
        liquidations: Iterator[tuple[Any, LiquidationBatch]] | None = None,
        checked: Soon[blocks.Check] | None = None,
    ) -> None:
        super().__init__(path)
        self.merge_until: int | None = None
        self._events = _runs(conn, path, spans, self.skipped, self, (top_seq, liquidations), checked)

    def poll(self) -> Event | LiquidationBatch | None:
        """The next item, None at the end (``Reads``: it is always read)."""
        return next(self._events, None)


class LiquidationStream(_Stream[tuple[Any, LiquidationBatch]]):
    """What ``read_liquidations`` returns: (each row's seq, the batch), a read of ``RUN_ROWS`` rows each."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        span: Span,
        top_seq: int | None,
        checked: Soon[blocks.Check] | None = None,
    ) -> None:
        super().__init__(path)
        self._events = _liquidations(conn, path, span, top_seq, self.skipped, checked)


def read_events(
    path: str | Path,
    since_ms: int | None = None,
    until_ms: int | None = None,
    kinds: Iterable[str] | None = None,
) -> EventStream:
    """Events of ``kinds`` (default all) with ``since_ms <= time <= until_ms``, in time order."""
    spans = {kind: (since_ms, until_ms) for kind in check_kinds(kinds)}
    conn = open_for_reading(path)  # validates now, not at the first next()
    return EventStream(conn, Path(path), spans)


def read_runs(
    path: str | Path,
    since_ms: int | None = None,
    until_ms: int | None = None,
    *,
    top_seq: int | None = None,
    liquidations: Iterator[tuple[Any, LiquidationBatch]] | None = None,
    spans: Mapping[str, Span] | None = None,
    checked: Soon[blocks.Check] | None = None,
) -> RunStream:
    """``read_events`` of every kind for the bulk path: the liquidations come as batches of columns
    (``RunStream``), no object built per row; the same events, in the same order. ``liquidations``
    (with ``top_seq``): those of the span read elsewhere (``read_liquidations``, a child process).
    ``spans``: each kind's own (since, until) instead, the kinds not in it left out (a warm-up's).
    ``checked``: the file's packed blocks checked ahead (``check_soon``): not checked again."""
    conn = open_for_reading(path)
    if spans is None:
        spans = {kind: (since_ms, until_ms) for kind in KINDS}
    return RunStream(conn, Path(path), spans, top_seq=top_seq, liquidations=liquidations, checked=checked)


class Soon(Generic[T]):
    """``made()`` made in a thread from now on, ``take``n when needed (it waits for it then): None when it
    raised (the reader then does that work itself, and says what fails)."""

    def __init__(self, made: Callable[[], T], name: str) -> None:
        self._made: T | None = None
        self._done = threading.Event()
        threading.Thread(target=self._make, args=(made,), name=name, daemon=True).start()

    def _make(self, made: Callable[[], T]) -> None:
        try:
            self._made = made()
        except Exception:  # noqa: BLE001, S110 - made again where it is needed, which reports it
            pass
        finally:
            self._done.set()

    def take(self) -> T | None:
        self._done.wait()
        return self._made


def check_soon(
    path: str | Path, since_ms: int | None = None, until_ms: int | None = None
) -> Soon[blocks.Check]:
    """The packed blocks of ``path`` in the span checked in a thread from now on (``blocks.check``: their
    bytes fetched and their CRCs, ~30-60 ms of CPU on a stress minute's ~60 blocks, most of it without
    the interpreter's lock), so that the first read of the liquidations does not (a desk's first step of
    its warm-up or catch-up, on its loop)."""

    def made() -> blocks.Check:
        conn = open_for_reading(path)
        try:
            with store_errors(path):
                return blocks.check(conn, since_ms, until_ms)
        finally:
            conn.close()

    return Soon(made, "liqtui-blocks-check")


def read_liquidations(
    path: str | Path,
    since_ms: int | None = None,
    until_ms: int | None = None,
    *,
    top_seq: int | None = None,
    checked: Soon[blocks.Check] | None = None,
) -> LiquidationStream:
    """The liquidations of ``read_runs`` as it reads them: (each row's seq, a ``LiquidationBatch``) a read,
    the damaged rows skipped and counted; none written after ``top_seq`` (None: after the call).
    ``checked``: as ``read_runs``'."""
    conn = open_for_reading(path)
    return LiquidationStream(conn, Path(path), (since_ms, until_ms), top_seq, checked)


def newest_seq(path: str | Path) -> int:
    """The newest row's seq: two reads bounded by it read the same rows (``read_runs``' ``top_seq``)."""
    conn = open_for_reading(path)
    try:
        with store_errors(path):
            return _snapshot(conn)[1]
    finally:
        conn.close()


def describe(path: str | Path) -> RecordingInfo:
    conn = open_for_reading(path)
    try:
        with store_errors(path):
            rows = {}
            starts, ends, live_starts = [], [], []
            for kind in _present(conn, KINDS):
                table = BY_KIND[kind].table
                rows[kind] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                first, last = time_edge(conn, table, newest=False), time_edge(conn, table, newest=True)
                if first is not None and last is not None:
                    starts.append(first)
                    ends.append(last)
                    if kind in LIVE_ONLY_KINDS:
                        live_starts.append(first)
            markets = conn.execute(
                "SELECT venue, symbol FROM markets WHERE typeof(venue) = 'text' AND typeof(symbol) = 'text' "
                "ORDER BY symbol, venue"
            ).fetchall()
            source_mode = recorded_mode(conn)
            alerts: int | None = None
            if ALERTS.table in table_names(conn):
                alerts = conn.execute(f"SELECT count(*) FROM {ALERTS.table}").fetchone()[0]
            held_in_blocks = blocks.has_blocks(conn)
    finally:
        conn.close()
    return RecordingInfo(
        path=Path(path),
        start_ms=min(starts) if starts else None,
        end_ms=max(ends) if ends else None,
        rows=rows,
        venues=tuple(sorted({v for v, _ in markets})),
        symbols=tuple(dict.fromkeys(s for _, s in markets)),
        source_mode=source_mode,
        live_start_ms=min(live_starts) if live_starts else None,
        alerts=alerts,
        blocks=held_in_blocks,
    )


def read_alerts(path: str | Path) -> list[Alert] | None:
    """The alerts the recorded session said, in the order it said them (``Alert.at``); None when the
    file was made before liqtui recorded alerts. Damaged rows are left out."""
    conn = open_for_reading(path)
    try:
        with store_errors(path):
            if ALERTS.table not in table_names(conn):
                return None
            markets, top_seq = _snapshot(conn)
            rows = _stream(conn, ALERTS, markets, top_seq, Counter(), None, None)
            return [alert for _t, _s, alert in rows]
    finally:
        conn.close()


def count_events(path: str | Path, since_ms: int | None = None, until_ms: int | None = None) -> int:
    """How many events have ``since_ms <= time <= until_ms`` (from the time indexes: cheap)."""
    conn = open_for_reading(path)
    try:
        with store_errors(path):
            return sum(
                _count(conn, BY_KIND[kind].table, since_ms, until_ms) for kind in _present(conn, KINDS)
            )
    finally:
        conn.close()


def _spans_counted(conn: sqlite3.Connection, spans: Mapping[str, Span]) -> int:
    """The rows of each kind in its span (a warm-up's), from the time indexes."""
    return sum(_count(conn, BY_KIND[kind].table, *spans[kind]) for kind in _present(conn, spans))


def _count_spans(path: str | Path, spans: Mapping[str, Span]) -> int:
    """``_spans_counted`` on a connection of its own (a thread's: ``start_warm``)."""
    conn = open_for_reading(path)
    try:
        with store_errors(path):
            return _spans_counted(conn, spans)
    finally:
        conn.close()


def _count(conn: sqlite3.Connection, table: str, since_ms: int | None, until_ms: int | None) -> int:
    low = -(1 << 63) if since_ms is None else since_ms
    high = (1 << 63) - 1 if until_ms is None else until_ms
    if since_ms is None and high >= (time_edge(conn, table, newest=True) or high + 1):
        # Up to the end (a late replay's catch-up): every row but those outside the span, which the
        # index visits alone; the same count as BETWEEN (a text or blob time is above any number).
        # Counted one by one, half a million rows took ~25 ms before the desk's first frame.
        rows = f"(SELECT count(*) FROM {table}"
        outside = f"{rows} WHERE time IS NULL) - {rows} WHERE time < ?) - {rows} WHERE time > ?)"
        query = f"SELECT {rows}) - {outside}"
    else:
        query = f"SELECT count(*) FROM {table} WHERE time BETWEEN ? AND ?"
    return int(conn.execute(query, (low, high)).fetchone()[0])


def warm(
    engine: Applies,
    path: str | Path,
    now_ms: int,
    *,
    lookback_days: float = 30.0,
    missing_ok: bool = True,
    source_mode: str = "LIVE",
) -> int:
    """Apply the recorded history the engine needs at ``now_ms``; returns the number of events.

    A recording that does not exist yet (first start) warms nothing when ``missing_ok``. A file
    that exists but cannot be read, or holds data of another ``source_mode`` (demo data never warms
    a live desk), raises ``StoreError``.
    """
    warming = start_warm(
        engine,
        path,
        now_ms,
        lookback_days=lookback_days,
        missing_ok=missing_ok,
        source_mode=source_mode,
        batch=WARM_BATCH,
    )
    while warming.step():
        pass
    return warming.count


def start_warm(
    engine: Applies,
    path: str | Path,
    now_ms: int,
    *,
    lookback_days: float = 30.0,
    missing_ok: bool = True,
    source_mode: str = "LIVE",
    batch: int = WARM_STEP,
    ahead: ReadsAhead | None = None,
) -> Warming:
    """``warm`` in steps, for a desk that draws between them: the file is checked now (``StoreError``
    as in ``warm``), each ``Warming.step`` applies the next ``batch`` events. ``ahead``: the reads made
    elsewhere from now on (a child process reading the liquidations, feeds/replay_ahead.py), the
    same items; called only for a file that warms."""
    if missing_ok and not Path(path).expanduser().exists():
        return Warming(engine, None, {}, now_ms, Path(path), batch)
    spans: dict[str, Span] = {}
    for kind, span in WARM_SPANS_MS.items():
        if kind in ("oi", "bars"):
            span = int(lookback_days * DAY_MS)
        spans[kind] = (now_ms - span, now_ms)
    conn = open_for_reading(path)
    with store_errors(path):
        held = recorded_mode(conn)
    if held != source_mode:
        conn.close()
        raise StoreError(f"{path}: holds {held} data, not {source_mode} data: not used to warm the desk")
    with store_errors(path):
        # A file whose liquidations are in blocks reads them here in ~0.1 s: a child's start and pickles
        # would cost more (bench/README.md, "The liquidations read as packed blocks").
        here = blocks.has_blocks(conn)
    reads = ahead(Path(path), spans, now_ms) if ahead is not None and not here else None
    # What the first step would do before its first rows (the rows counted, the blocks checked: ~50-70 ms
    # of a stress minute's), in threads from now on, while the desk starts.
    ready = (
        Soon(lambda: _count_spans(path, spans), "liqtui-warm-count"),
        check_soon(path, *spans["liquidations"]) if here and reads is None else None,
    )
    return Warming(engine, conn, spans, now_ms, Path(path), batch, reads, ready)


class Warming:
    """A warm-up applied a step at a time (``step``); ``share`` is how far it is (0 to 1, against the
    rows counted at the first step; old OI samples thinned make it end short of 1) and ``count`` the
    events applied. A step spends a budget of ``batch``: 1 a liquidation (they come as
    ``LiquidationBatch`` columns, applied without an object each), ``EVENT_COST`` any other event.
    ``reads``: the items read elsewhere (``start_warm``'s ``ahead``); else read here, from ``conn``.
    ``ready``: the rows counted and the packed blocks checked ahead, in threads (``Soon``), or None.
    ``waiting``: the last step ended early, its next item not read yet."""

    def __init__(
        self,
        engine: Applies,
        conn: sqlite3.Connection | None,
        spans: Mapping[str, Span],
        now_ms: int,
        path: Path,
        batch: int,
        reads: Reads | None = None,
        ready: tuple[Soon[int] | None, Soon[blocks.Check] | None] = (None, None),
    ) -> None:
        self.engine, self.batch = engine, batch
        self.count = 0
        self.waiting = False
        self._conn, self._spans, self._path = conn, spans, path
        self._counted = ready[0]
        if reads is None and conn is not None:
            # Only the engine reads a warm-up: its runs may cross other markets' events.
            stream = RunStream(conn, path, spans, checked=ready[1])
            stream.merge_until = now_ms
            reads = stream
        self._reads = reads
        self._thinned = _OldOpenInterest(now_ms - DAY_MS)
        self._total: int | None = None

    @property
    def share(self) -> float:
        return min(self.count / self._total, 1.0) if self._total else 0.0

    def step(self) -> bool:
        """Apply the next step's events; False once everything is in (the file is closed then)."""
        if self._total is None:
            counted, self._counted = self._counted, None
            total = counted.take() if counted is not None else None
            self._total = total if total is not None else self._rows()
        # The engine's bulk path (``Engine.apply_liquidations`` takes a batch as columns); one event at
        # a time, objects built, for any other sink.
        apply_batch = getattr(self.engine, "apply_liquidations", None)
        budget = self.batch
        poll, keep = (self._reads.poll if self._reads is not None else lambda: None), self._thinned.keep
        self.waiting = False
        while (item := poll()) is not None:
            if type(item) is not LiquidationBatch:
                if not isinstance(item, Event):
                    self.waiting = True  # not read yet: the next step goes on
                    return True
                if not keep(item):
                    continue
                self.engine.apply(item)
                budget -= EVENT_COST
                self.count += 1
            else:
                if apply_batch is not None:
                    apply_batch(item)
                else:
                    for liq in item:
                        self.engine.apply(liq)
                budget -= len(item)
                self.count += len(item)
            if budget <= 0:
                return True
        self.close()
        return budget < self.batch  # this step applied some: the next one says False

    def _rows(self) -> int:
        conn = self._conn
        if conn is None:
            return 0
        with store_errors(self._path):
            return _spans_counted(conn, self._spans)

    def close(self) -> None:
        """Stop early (the desk quit or switched source): the file is closed."""
        if self._reads is not None:
            self._reads.close()
        if self._conn is not None:
            self._conn.close()


def latest_positions(path: str | Path, since_ms: int) -> list[PositionSnapshot]:
    """Each tracked account's newest position per market recorded since ``since_ms``, those still
    open (size > 0): what a restart resumes. [] for a recording made before positions were kept."""
    conn = open_for_reading(path)
    try:
        with store_errors(path):
            if "positions" not in table_names(conn):
                return []
            markets, _ = _snapshot(conn)
            layout = BY_KIND["positions"]
            rows = conn.execute(
                f"SELECT market, max(time), {layout.valid_sql()}, {', '.join(layout.columns)} "
                "FROM positions WHERE time >= ? GROUP BY market, account",
                [since_ms],
            ).fetchall()
    finally:
        conn.close()
    out = []
    for market, time, sound, *values in rows:
        known = markets.get(market)
        if not sound or known is None:
            continue
        try:
            snap = layout.from_row(known, time, tuple(values))
        except DAMAGE:
            continue
        if isinstance(snap, PositionSnapshot) and snap.size > 0:
            out.append(snap)
    return out


WARM_OI_STEP_MS = 300_000


def thin_old_open_interest(
    events: Iterable[T], before_ms: int, step_ms: int = WARM_OI_STEP_MS
) -> Iterator[T]:
    """Keep one OI sample per market every ``step_ms`` among those older than ``before_ms``.

    The desk polls OI every 15 s, so 30 days of recording hold ~170,000 samples per market; at a
    restart they took 10-30 s through the engine while the trader waited. Older than a day, the
    level model and the lookback low/high only need the 5-minute resolution the venues' own OI
    history has (Binance ``openInterestHist`` 5m), which is what a fresh start backfills anyway.
    OI is a level, not a flow: a skipped sample loses no notional, the next kept one carries it.
    The last 24 h stay whole so the short OI windows (5m, 1h) are exact.
    """
    thinned = _OldOpenInterest(before_ms, step_ms)
    return (event for event in events if thinned.keep(event))


class _OldOpenInterest:
    """``thin_old_open_interest``'s choice an event at a time: ``keep(event)``."""

    def __init__(self, before_ms: int, step_ms: int = WARM_OI_STEP_MS) -> None:
        self.before_ms, self.step_ms = before_ms, step_ms
        self.last_kept: dict[tuple[str, str], int] = {}

    def keep(self, event: object) -> bool:
        if not isinstance(event, OpenInterest) or event.time >= self.before_ms:
            return True
        key = (event.venue, event.symbol)
        previous = self.last_kept.get(key)
        if previous is not None and event.time - previous < self.step_ms:
            return False
        self.last_kept[key] = event.time
        return True


def _events(
    conn: sqlite3.Connection,
    path: Path,
    spans: Mapping[str, Span],
    skipped: Counter[str],
) -> Generator[Event, None, None]:
    try:
        with store_errors(path):
            markets, top_seq = _snapshot(conn)
            streams = [
                (_ahead if kind == "heatmap" else iter)(
                    _stream(conn, BY_KIND[kind], markets, top_seq, skipped, *spans[kind])
                )
                for kind in _present(conn, spans)
            ]
            for _time, _seq, event in heapq.merge(*streams, key=_order):
                yield event
    finally:
        conn.close()


def _present(conn: sqlite3.Connection, kinds: Iterable[str]) -> list[str]:
    """The kinds whose table the file has (a recording made before the heatmap has no heatmap rows)."""
    tables = table_names(conn)
    return [kind for kind in kinds if BY_KIND[kind].table in tables]


def _order(item: tuple[int, int, Event]) -> tuple[int, int]:
    return item[0], item[1]


_AHEAD = 1 << 62  # below every seq: a heatmap bucket comes before the other events of its time


def _ahead(rows: Iterator[tuple[int, int, Any]]) -> Iterator[tuple[int, int, Any]]:
    """A heatmap bucket recorded at ``t`` is the one the OI step at ``t`` closed (recorded right after
    it): read before that step, it stands as recorded and the engine does not snapshot its book for it
    again (engine/heatmap.py, ``HeatmapHistory.load``). Nothing else of time ``t`` belongs to it."""
    for time, seq, event in rows:
        yield time, seq - _AHEAD, event


def _snapshot(conn: sqlite3.Connection, top_seq: int | None = None) -> tuple[dict[int | None, Market], int]:
    """The markets, and the newest row's seq (``top_seq`` at most): the reader reads no row written
    after it opened."""
    conn.execute("BEGIN")
    try:
        markets: dict[int | None, Market] = {None: ("", "")}  # feed states belong to no market
        markets |= {
            mid: (venue, symbol)
            for mid, venue, symbol in conn.execute(
                "SELECT id, venue, symbol FROM markets WHERE typeof(venue) = 'text' AND typeof(symbol) = 'text'"
            )
        }
        tables = table_names(conn)
        top = max(
            conn.execute(f"SELECT coalesce(max(seq), 0) FROM {table}").fetchone()[0]
            for table in EVENT_TABLES
            if table in tables
        )
    finally:
        conn.execute("COMMIT")
    return markets, top if top_seq is None else min(top, top_seq)


def _stream(
    conn: sqlite3.Connection,
    layout: Layout,
    markets: dict[int | None, Market],
    top_seq: int,
    skipped: Counter[str],
    since_ms: int | None,
    until_ms: int | None,
) -> Iterator[tuple[int, int, Any]]:
    """Rows of one kind in (time, seq) order (``_chunks``): events (an Alert for ``ALERTS``)."""
    build = layout.from_row
    size = HEATMAP_CHUNK_ROWS if layout.kind == "heatmap" else CHUNK_ROWS
    for chunk, _made in _chunks(
        conn, layout, top_seq, since_ms, until_ms, size, first=min(FIRST_CHUNK_ROWS, size)
    ):
        for row in chunk:
            seq, time, market, sound = row[0], row[1], row[2], row[3]
            if not sound:
                skipped[layout.kind] += 1
                continue
            known = markets.get(market)
            if known is None:  # a market id the file does not name
                skipped[layout.kind] += 1
                continue
            try:
                event = build(known, time, row[4:])
            except DAMAGE:
                skipped[layout.kind] += 1
                continue
            yield time, seq, event


def _chunks(
    conn: sqlite3.Connection,
    layout: Layout,
    top_seq: int,
    since_ms: int | None,
    until_ms: int | None,
    size: int,
    quick: tuple[str, Callable[[list[Row]], T | None]] | None = None,
    seqs: tuple[int, int] | None = None,
    by_rowid: bool = False,
    first: int | None = None,
) -> Iterator[tuple[list[Row], T | None]]:
    """Rows of one kind in (time, seq) order, ``size`` at a time (``first`` the first time, if given):
    (seq, time, market, sound, columns...).

    Each chunk is fetched whole, so no statement (and no read transaction) stays open between
    chunks. ``+seq`` keeps SQLite on the time index rather than the rowid. A chunk after the first
    starts at the last one's time, the only lower bound it is given: with ``since_ms`` beside it,
    SQLite started its index search at ``since_ms`` and stepped over every row read so far, each chunk
    (a 24 h warm-up of 450,000 liquidations read them twice as slowly as without a bound).

    With ``quick`` (SQL for the ``sound`` column, and a check of a chunk read with it: what it made of
    the chunk, or None for a row in doubt), a chunk is read with that column first and read again with
    the layout's own checks (``Layout.valid_sql``) only when the check said None. Yields each chunk with
    what ``quick`` made of it (None: read with the layout's checks).

    ``seqs``: only the rows of that seq range (inclusive); ``by_rowid``: found by their seqs and sorted
    (a few rows: the time index would step over every row of the span), not along the time index.
    """
    head = "seq, time, market" if has_market(layout) else "seq, time, NULL"
    where, params = ["+seq <= ?"], [top_seq]
    if seqs is not None:
        where.append("seq BETWEEN ? AND ?" if by_rowid else "+seq BETWEEN ? AND ?")
        params.extend(seqs)
    on = "+time" if by_rowid else "time"
    if until_ms is not None:
        where.append(f"{on} <= ?")
        params.append(until_ms)
    since = ([] if since_ms is None else [f"{on} >= ?"], [] if since_ms is None else [since_ms])
    table = f"{layout.table} NOT INDEXED" if by_rowid else layout.table
    tail = f" FROM {table} WHERE " + " AND ".join([*where, *since[0]])
    later = f" FROM {table} WHERE " + " AND ".join([*where, f"{on} >= ?", f"({on} > ? OR +seq > ?)"])
    limit = size if first is None else first

    def read(sound: str, where: str, bounds: list[int]) -> list[Row]:
        select = f"SELECT {head}, {sound}, {', '.join(layout.columns)}"
        return conn.execute(f"{select}{where} ORDER BY time, seq LIMIT {limit}", bounds).fetchall()

    where_now, bounds = tail, [*params, *since[1]]
    while True:
        made = None
        if quick is None:
            chunk = read(layout.valid_sql(), where_now, bounds)
        else:
            chunk = read(quick[0], where_now, bounds)
            made = quick[1](chunk) if chunk else None
            if chunk and made is None:
                chunk = read(layout.valid_sql(), where_now, bounds)
        if not chunk:
            return
        yield chunk, made
        if len(chunk) < limit:
            return
        limit = size
        last_seq, last_time = chunk[-1][0], chunk[-1][1]
        where_now, bounds = later, [*params, last_time, last_time, last_seq]


# Liquidation rows per read of the bulk path (``read_runs``): a read of 4,096 takes SQLite ~6 ms of CPU,
# and a run is at most one read, so a desk's step of warm-up stays short.
RUN_ROWS = 4096


def _liquidation_runs(
    conn: sqlite3.Connection,
    markets: dict[int | None, Market],
    top_seq: int,
    skipped: Counter[str],
    since_ms: int | None,
    until_ms: int | None,
    checked: Soon[blocks.Check] | None = None,
) -> Iterator[tuple[Any, LiquidationBatch]]:
    """The liquidations as columns, ``RUN_ROWS`` rows a read: (each row's seq, the batch). Damaged rows
    and unknown markets are skipped and counted, as ``_stream`` skips them. ``checked``: the blocks
    checked ahead (``check_soon``)."""
    import numpy as np

    known: dict[int, Market] = {m: market for m, market in markets.items() if m is not None}
    # A row with no market (a damaged file: the column is NOT NULL) reads as ``_stream`` builds it.
    no_market = _no_market(markets)
    known[no_market] = markets[None]
    layout = BY_KIND["liquidations"]
    # True at each market id (an id out of 0-65,535, a damaged file's, leaves its rows to the checks in SQL).
    ids = [m for m in markets if m is not None and 0 <= m < 1 << 16]
    ids_known = np.zeros(max(ids, default=-1) + 1, dtype=bool)
    ids_known[ids] = True
    quick = (_NUMBERS_SQL, lambda chunk: _numbers(chunk, ids_known))

    def tables(seqs: tuple[int, int] | None = None, size: int = RUN_ROWS) -> Iterator[Any]:
        """The rows (of ``seqs`` only) as tables of columns, read ``size`` at a time; damaged rows counted."""
        for chunk, columns in _chunks(
            conn, layout, top_seq, since_ms, until_ms, size, quick, seqs, by_rowid=size > RUN_ROWS
        ):
            # A chunk with a row in doubt was read with the rows' checks in SQL: its rows as ``_stream`` reads them.
            table: Any = columns if columns is not None else _checked(chunk, markets, no_market)
            skipped[layout.kind] += len(chunk) - len(table["seq"])
            yield table

    def gap(low: int, high: int) -> Iterator[blocks.Table]:
        """The rows of seqs ``low``-``high`` no valid block holds: a few (a crash's, a damaged block's)
        found by their seqs at once, many (a file recorded before blocks) along the time index."""
        few = conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {layout.table} WHERE seq BETWEEN ? AND ? LIMIT ?)",
            (low, high, _FEW_ROWS + 1),
        ).fetchone()[0]
        for table in tables((low, high), _FEW_ROWS + 1 if few <= _FEW_ROWS else RUN_ROWS):
            yield {name: table[name] for name in blocks.NAMES}

    blocked = blocks.runs(
        conn, top_seq, since_ms, until_ms, skipped, gap, checked.take() if checked is not None else None
    )
    source = tables() if blocked is None else _in_runs(blocked, known, skipped)
    for table in source:
        kept = len(table["seq"])
        if not kept:
            continue
        time = table["time"]
        batch = LiquidationBatch(
            known,
            _ints(table["market"]),
            _ints(table["side"]),
            table["price"],
            table["qty"],
            table["usd"],
            time,
            time + table["delay"],
            _ints(table["flags"]),
        )
        yield table["seq"], batch


_FEW_ROWS = 65_536  # a seq range without blocks read at once, sorted, up to this many rows


def _ints(column: Any) -> Any:
    import numpy as np

    return column if column.dtype == np.int64 else column.astype(np.int64)


def _in_runs(tables: Iterator[Any], known: Mapping[int, Market], skipped: Counter[str]) -> Iterator[Any]:
    """The merged tables of blocks and rows in reads of ``RUN_ROWS`` (as the rows alone are read), a
    block's rows of a market the file does not name left out and counted (as ``_checked`` leaves a row's)."""
    import numpy as np

    ids = np.array(sorted(known), dtype=np.int64)
    held: list[Any] = []
    rows = 0
    for table in tables:
        known_rows = np.isin(table["market"], ids)
        if not known_rows.all():
            skipped["liquidations"] += int((~known_rows).sum())
            table = {name: column[known_rows] for name, column in table.items()}
        held.append(table)
        rows += len(table["seq"])
        while rows >= RUN_ROWS:
            whole = blocks.concat(held) if len(held) > 1 else held[0]
            assert whole is not None
            yield {name: column[:RUN_ROWS] for name, column in whole.items()}
            held = [{name: column[RUN_ROWS:] for name, column in whole.items()}]
            rows -= RUN_ROWS
    if rows:
        yield blocks.concat(held) if len(held) > 1 else held[0]


def _no_market(markets: Mapping[int | None, Market]) -> int:
    """The id a batch gives a row with no market (NULL): one no market of the file has."""
    return next(m for m in itertools.count(-1, -1) if m not in markets)


def _checked(chunk: list[Row], markets: dict[int | None, Market], no_market: int) -> Any:
    """The rows of a chunk read with the layout's checks that pass them and name a known market (a
    market of 1.5 is none), as ``_LIQUIDATION_ROW`` columns; a row with no market takes ``no_market``."""
    import numpy as np

    rows = [row for row in chunk if row[3] and row[2] in markets]
    rows = [row if row[2] is not None else (*row[:2], no_market, *row[3:]) for row in rows]
    return np.fromiter(rows, dtype=_LIQUIDATION_ROW, count=len(rows))


# (seq, time, market, sound, side, price, qty, usd, recv_delay, sampled): a liquidations row as it is read
_LIQUIDATION_ROW = [
    ("seq", "i8"),
    ("time", "i8"),
    ("market", "i8"),
    ("sound", "i8"),
    ("side", "i8"),
    ("price", "f8"),
    ("qty", "f8"),
    ("usd", "f8"),
    ("delay", "i8"),
    ("flags", "i8"),
]


# The quick read of a chunk of liquidations (``_numbers``): its sound column says only that every value
# of the row is a number (SQLite's multi-argument max() is NULL when one is NULL, and a text or a blob
# when one is, as numbers sort before text and blobs), cheaper than the layout's checks; the rest of them
# (a time in range and whole, a side, flags, finite prices, a whole delay) are made on the columns.
_NUMBERS_SQL = "coalesce(max(time, market, side, price, qty, usd, recv_delay, sampled) < '', 0)"
_FIELDS = [name for name, _type in _LIQUIDATION_ROW]
_WHOLE = [_FIELDS.index(name) for name in ("seq", "time", "market", "side", "delay", "flags")]
_FLOATS = [_FIELDS.index(name) for name in ("price", "qty", "usd")]
_EXACT = float(1 << 53)  # an integer up to this is exact as a float


def _numbers(chunk: list[Row], known: Any) -> dict[str, Any] | None:
    """A chunk read with ``_NUMBERS_SQL`` as ``_LIQUIDATION_ROW``'s columns when every row passes the
    layout's checks (``Layout.valid_sql``, made here on the columns) and names a known market (``known``:
    True at each market id); None when any row does not (the chunk is then read again with the checks in
    SQL).

    The values are read as floats: a fraction or a number out of range in an integer column shows
    before the columns become integers (numpy would truncate 1.5 read as an integer)."""
    import numpy as np

    width = len(_FIELDS)
    try:
        flat = np.fromiter(itertools.chain.from_iterable(chunk), dtype=np.float64, count=len(chunk) * width)
    except (TypeError, ValueError, OverflowError):
        return None
    rows = np.ascontiguousarray(flat.reshape(len(chunk), width).T)
    seq, time, market, sound, side, _price, _qty, _usd, delay, flags = rows
    whole = rows[_WHOLE]
    if not (
        (sound == 1).all()
        and (np.floor(whole) == whole).all()
        and np.isfinite(rows[_FLOATS]).all()
        and 0 <= time.min() <= time.max() <= MAX_TIME_MS
        and 0 <= seq.min() <= seq.max() <= _EXACT
        and ((side == 0) | (side == 1)).all()
        and 0 <= flags.min() <= flags.max() <= 5
        and np.abs(delay).max() <= MAX_TIME_MS
        and 0 <= market.min() <= market.max() < len(known)
    ):
        return None
    columns = {name: rows[i] for i, name in enumerate(_FIELDS)}
    for i in _WHOLE:
        columns[_FIELDS[i]] = rows[i].astype(np.int64)
    return columns if known[columns["market"]].all() else None


def _runs(
    conn: sqlite3.Connection,
    path: Path,
    spans: Mapping[str, Span],
    skipped: Counter[str],
    gate: RunStream,
    elsewhere: tuple[int | None, Iterator[tuple[Any, LiquidationBatch]] | None],
    checked: Soon[blocks.Check] | None = None,
) -> Generator[Event | LiquidationBatch, None, None]:
    """``_events`` with the liquidations as batches: each run of them between two other events (in
    (time, seq) order, as ``_events`` merges them) as a ``LiquidationBatch`` of up to ``RUN_ROWS``;
    a run goes on past the events ``_Runs`` lets it cross while ``gate.merge_until`` allows.
    ``elsewhere``: (``top_seq``, the liquidations' reads) when they are read elsewhere."""
    top, liquidations = elsewhere
    try:
        with store_errors(path):
            markets, top_seq = _snapshot(conn, top)
            kinds = _present(conn, spans)
            others = heapq.merge(
                *[
                    (_ahead if kind == "heatmap" else iter)(
                        _stream(conn, BY_KIND[kind], markets, top_seq, skipped, *spans[kind])
                    )
                    for kind in kinds
                    if kind != "liquidations"
                ],
                key=_order,
            )
            runs = _Runs(markets, others, gate)
            if liquidations is None and "liquidations" in kinds:
                liquidations = _liquidation_runs(
                    conn, markets, top_seq, skipped, *spans["liquidations"], checked=checked
                )
            for seqs, batch in liquidations or ():
                yield from runs.split(seqs, batch)
            yield from runs.rest()
    finally:
        conn.close()


def _liquidations(
    conn: sqlite3.Connection,
    path: Path,
    span: Span,
    top_seq: int | None,
    skipped: Counter[str],
    checked: Soon[blocks.Check] | None,
) -> Generator[tuple[Any, LiquidationBatch], None, None]:
    try:
        with store_errors(path):
            markets, top = _snapshot(conn, top_seq)
            if _present(conn, ["liquidations"]):
                yield from _liquidation_runs(conn, markets, top, skipped, *span, checked=checked)
    finally:
        conn.close()


# The events a run of liquidations may go past (``_Runs``): each belongs to one market (venue and
# symbol), and what it changes of the engine (that market's model, fills, book, heatmap track) no
# liquidation of another market reads, nor does such a liquidation change what it reads
# (engine/engine.py ``apply``), once its symbol is listed and has its heatmap grid (``_Runs.settled``).
# The MEASURED heatmap track is the symbol's: its bucket ends a run holding the symbol. Feed states (the
# tape's cover) and margin limits (a venue's every symbol) always end a run.
_CROSSABLE = (Ticker, OpenInterest, PriceBar, BookSnapshot, HeatmapBucket, PositionSnapshot)
# Of those, the events a run may go past with rows of their own market (positions: symbol) on both
# sides: what they change (a book; positions and the MEASURED track; a ticker's price in the model's
# step path and the heatmap's price track) no liquidation reads or changes (the fills, the tape, the
# realized sums, the heatmap's marks at each row's own price). A ticker only once its market's model
# and heatmap track are there (a positive bar or ticker of it handed out: ``_Runs.priced``): one that
# made them would change where a liquidation's fills go. A stress recording's live part holds ~1,600
# of them among its liquidations (806 runs for its 471,778 rows before, 155 now).
_BESIDE_ITS_ROWS = (Ticker, BookSnapshot, PositionSnapshot)
# The events that always list their symbol in the engine (a rejected OI sample lists none).
_NAMING = (Ticker, BookSnapshot, PositionSnapshot)


class _Runs:
    """Splits each read of liquidations at the other events between its rows, keeping those events'
    order: a run ends at an event it may not cross, or before a row of a market it crossed an event
    of (or a row after ``gate.merge_until``); the events it crossed follow it."""

    def __init__(
        self,
        markets: Mapping[int | None, tuple[str, str]],
        others: Iterator[tuple[int, int, Any]],
        gate: RunStream,
    ) -> None:
        import numpy as np

        self.gate, self.others = gate, others
        self.pending = next(others, None)
        self.markets = {m: market for m, market in markets.items() if m is not None}
        # A market's place in a mask of markets: its id's rank among them and ``_no_market`` (a damaged
        # file's ids can be any integers: not the id itself).
        self.ids = np.array(sorted([*self.markets, _no_market(markets)]), dtype=np.int64)
        self.masks: dict[tuple[str, str | None], Any] = {}  # (symbol, venue or None: all) -> mask
        # Symbols the engine has listed, and those whose grid it has fixed, by what was handed out.
        self.named: set[str] = set()
        self.gridded: set[str] = set()
        self.priced: set[tuple[str, str]] = set()  # markets the engine holds a model and a heatmap track of
        self.nothing = np.zeros(len(self.ids), dtype=bool)  # no market: what an event beside its rows holds
        self.symbols = {symbol for _venue, symbol in self.markets.values()}

    def split(self, seqs: Any, batch: LiquidationBatch) -> Iterator[Event | LiquidationBatch]:
        import numpy as np

        times, markets, n = batch.time, batch.market, len(batch)
        start = scan = 0  # the run is rows [start:scan) so far
        crossed: list[Event] = []
        crossed_ids = np.zeros(len(self.ids), dtype=bool)  # the markets the run crossed an event of
        while True:
            if start == scan < n:  # an empty run (none crossed): the events before its first row go out
                yield from self._before(int(times[scan]), int(seqs[scan]))
            cut = n
            if self.pending is not None:  # rows up to the next other event's (time, seq): before it
                # The arrays' own searchsorted (np.searchsorted's wrapper costs as much); rows of the
                # event's time are looked at only where there are some (those of a lower seq come first).
                t = self.pending[0]
                cut = int(times.searchsorted(t))
                if cut < n and times[cut] == t:
                    high = int(times.searchsorted(t, "right"))
                    cut += int(seqs[cut:high].searchsorted(self.pending[1], "right"))
            if crossed and cut > scan:  # a row of a crossed market, or after merge_until, ends the run
                limit = self.gate.merge_until
                stop = crossed_ids[self.ids.searchsorted(markets[scan:cut])]
                if limit is not None:
                    stop |= times[scan:cut] > limit
                if stop.any():
                    scan += int(stop.argmax())
                    yield from self._out(batch, start, scan, crossed)
                    start, crossed = scan, []
                    crossed_ids[:] = False
                    continue
            scan, pending = cut, self.pending
            if cut == n or pending is None:
                break
            time, event = pending[0], pending[2]
            self.pending = next(self.others, None)
            mask = self._crossing(event, time, markets[start:scan]) if scan > start else None
            if mask is not None:
                crossed.append(event)
                crossed_ids |= mask
            else:
                yield from self._out(batch, start, scan, [*crossed, event])
                start, crossed = scan, []
                crossed_ids[:] = False
        yield from self._out(batch, start, scan, crossed)

    def _before(self, time: int, seq: int) -> Iterator[Event]:
        """The other events before the row at (``time``, ``seq``), one after the other, where no run is
        open (a backfill's thousands: no run of their own, which ``split`` took each through)."""
        pending = self.pending
        while pending is not None and (pending[0] < time or (pending[0] == time and pending[1] < seq)):
            self.pending = next(self.others, None)
            self._note(pending[2])
            yield pending[2]
            pending = self.pending

    def _crossing(self, event: Event, time: int, run: Any) -> Any:
        """The markets ``event`` (at ``time``, after the rows of markets ``run``) holds (a mask), when
        the run may go past it; None when it ends the run."""
        import numpy as np

        limit = self.gate.merge_until
        if limit is None or time > limit or type(event) not in _CROSSABLE:
            return None
        venue = event.venue
        symbol: str = event.symbol  # type: ignore[union-attr]
        if symbol not in self.named or symbol not in self.gridded:
            return None
        if type(event) in _BESIDE_ITS_ROWS and (type(event) is not Ticker or (venue, symbol) in self.priced):
            return self.nothing
        whole = type(event) is PositionSnapshot or venue == MEASURED  # the symbol's, not one venue's
        key = (symbol, None if whole else venue)
        mask = self.masks.get(key)
        if mask is None:
            mask = self.masks[key] = np.zeros(len(self.ids), dtype=bool)
            for m, (v, s) in self.markets.items():
                mask[np.searchsorted(self.ids, m)] = s == symbol and (whole or v == venue)
        return None if mask[self.ids.searchsorted(run)].any() else mask

    def _out(
        self, batch: LiquidationBatch, start: int, stop: int, events: list[Event]
    ) -> Iterator[Event | LiquidationBatch]:
        """The run (``batch``'s rows ``start:stop``, when it has any: mostly none), then ``events``,
        noting what the engine lists and grids."""
        if stop > start:
            run = batch[start:stop]
            if len(self.gridded) < len(self.symbols):  # rows the engine takes list and grid a symbol
                price, usd = run.price, run.usd
                sound = (price > 0.0) & (price < math.inf) & (usd >= 0.0) & (usd < math.inf)
                for m in run.take(sound).market_ids():
                    self.named.add(run.markets[m][1])
                    self.gridded.add(run.markets[m][1])
            yield run
        for event in events:
            self._note(event)
            yield event

    def _note(self, event: Event) -> None:
        """What the engine lists and grids once ``event`` is handed out."""
        if type(event) in _NAMING:
            self.named.add(event.symbol)  # type: ignore[union-attr]
            if type(event) is Ticker and (_positive(event.last) or _positive(event.mark)):
                self.priced.add((event.venue, event.symbol))
        elif type(event) is PriceBar and all(_positive(p) for p in (event.low, event.high, event.close)):
            self.priced.add((event.venue, event.symbol))
        elif type(event) is HeatmapBucket:
            self.gridded.add(event.symbol)

    def rest(self) -> Iterator[Event]:
        while self.pending is not None:
            yield self.pending[2]
            self.pending = next(self.others, None)


def _positive(value: float | None) -> bool:
    """A price the engine takes (engine/engine.py ``_positive``): a number above 0, finite."""
    return isinstance(value, (int, float)) and 0.0 < value < math.inf
