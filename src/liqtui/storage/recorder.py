"""The recorder: buffers events in memory and commits them to the recording at least once a second.

Used in-process by the desk (``record = true``) and by ``liqtui record``::

    recorder = Recorder(settings.recording_path, retention_days=settings.retention_days)
    source.run(recorder.add)   # add() is a deque append: safe from any thread, never blocks
    ...
    recorder.close()           # flushes everything, checkpoints the WAL, closes the file

A background thread commits the buffer every ``flush_interval`` seconds (0.25 s), one transaction
per batch, so a killed process loses at most the events of the last interval. Order books are
stored at most once per ``book_interval_ms`` per venue and symbol (by event time), cut to 50
levels per side, and kept ``book_retention_days`` (3) instead of ``retention_days`` (30).
A row that cannot be stored (a time of 10^30, a NaN price, a value of the wrong type: whatever it
raises) is skipped and counted in ``rejected``; the others of its batch are written. An error of
the file itself (disk full, I/O error) stops recording and is kept in ``error`` (a ``StoreError``)
for the caller to show; the caller's loop keeps running and later events are counted in ``dropped``.

One writer per file: the recorder holds an exclusive lock on ``<file>.lock`` while it is open, and
a second recorder on the same file gets a ``StoreError`` saying so.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections import Counter, deque
from pathlib import Path

from liqtui.config import Settings
from liqtui.domain.alerts import Alert
from liqtui.domain.events import BookSnapshot, Event, FeedStatus, MarginLimits
from liqtui.storage import blocks, retention
from liqtui.storage.layouts import (
    BOOK_LEVELS,
    BY_TYPE,
    RECORDED,
    Layout,
    Market,
    Row,
    event_time,
    has_market,
    valid_time,
)
from liqtui.storage.schema import EVENT_TABLES, StoreError, lock_for_writing, open_for_writing

PRUNE_EVERY_S = 600.0
_BY_KIND = {layout.kind: layout for layout in RECORDED}


def default_path(settings: Settings, source_mode: str = "LIVE") -> Path:
    """Where a session is recorded by default: the configured file, or its "-demo" sibling for the
    demo market (a recording holds one kind of data, see ``schema.open_for_writing``)."""
    path = settings.recording_path
    return path if source_mode == "LIVE" else path.with_name(f"{path.stem}-demo{path.suffix}")


class Recorder:
    def __init__(
        self,
        path: str | Path,
        *,
        retention_days: float = 30.0,
        book_retention_days: float | None = 3.0,
        flush_interval: float = 0.25,
        book_interval_ms: int = 1000,
        background: bool = True,
        source_mode: str = "LIVE",
    ) -> None:
        self.path = Path(path).expanduser()
        self.retention_days = retention_days
        # Books are ~80 % of a recording's bytes: a month of them is ~16 GB for the default
        # watchlist, three days ~1.6 GB (README "Recording"). Never longer than everything else.
        self.book_retention_days = (
            None
            if book_retention_days is None or retention_days <= 0
            else min(book_retention_days, retention_days)
        )
        self.flush_interval = flush_interval
        self.book_interval_ms = book_interval_ms
        self.written: Counter[str] = Counter()  # rows committed per kind
        self.dropped = 0  # events not recorded because recording had stopped
        self.rejected = 0  # malformed events skipped (not a known event type, a None price, ...)
        self.error: StoreError | None = None
        self.source_mode = source_mode
        self._lock = lock_for_writing(self.path)
        try:
            self._conn: sqlite3.Connection | None = open_for_writing(self.path, source_mode)
        except BaseException:
            self._lock.close()
            raise
        self._buffer: deque[Event | Alert] = deque()
        self._last_book: dict[Market, int] = {}
        self._markets: dict[Market, int] = {}
        self._write_lock = threading.Lock()
        self._blocks = blocks.Collector()  # the liquidations written and not yet in a block
        self._closed = False
        self._stop = threading.Event()
        self._prune()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._flush_loop, name="liqtui-recorder", daemon=True)
            self._thread.start()

    # -- the hot path -------------------------------------------------------------------------

    def add(self, event: Event | Alert) -> None:
        """Queue one event (or an alert the session said) for the next commit. Cheap; safe from any thread."""
        if self._closed or self.error is not None:
            self.dropped += 1
            return
        if type(event) not in BY_TYPE:
            if type(event) is not MarginLimits:  # the model's inputs, read again at each start: not recorded
                self.rejected += 1
            return
        if isinstance(event, BookSnapshot):
            try:
                event = self._book_to_keep(event)  # type: ignore[assignment]
            except Exception:  # noqa: BLE001 - a malformed book (a time that is not a number, ...): counted, never raised
                self.rejected += 1
                return
            if event is None:
                return
        self._buffer.append(event)

    def _book_to_keep(self, book: BookSnapshot) -> BookSnapshot | None:
        key = (book.venue, book.symbol)
        last = self._last_book.get(key)
        # A book older than the last stored one (another source's clock) starts the throttle anew.
        if last is not None and 0 <= book.time - last < self.book_interval_ms:
            return None
        self._last_book[key] = book.time
        if len(book.bids) > BOOK_LEVELS or len(book.asks) > BOOK_LEVELS:
            book = BookSnapshot(
                book.venue, book.symbol, book.bids[:BOOK_LEVELS], book.asks[:BOOK_LEVELS], book.time
            )
        return book

    # -- committing ---------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def flush(self) -> int:
        """Commit everything queued so far; returns the number of events written."""
        with self._write_lock:
            if self.error is not None or self._conn is None:
                return 0
            count = len(self._buffer)
            if not count:
                return 0
            batch = [self._buffer.popleft() for _ in range(count)]
            try:
                self._write(batch)
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    self._buffer.extendleft(reversed(batch))  # a reader's checkpoint: retry next tick
                    return 0
                self._fail(exc, len(batch))
                return 0
            except Exception as exc:  # noqa: BLE001 - the file cannot take more: said in `error`, never a silent stop
                self._fail(exc, len(batch))
                return 0
            return count

    def _db(self) -> sqlite3.Connection:
        """The open connection: writes happen under the write lock, before ``close`` drops it."""
        if self._conn is None:
            raise StoreError(f"{self.path}: recording is closed")
        return self._conn

    def _write(self, batch: list[Event | Alert]) -> None:
        conn = self._db()
        conn.execute("BEGIN IMMEDIATE")
        try:
            first_seq = self._next_seq()
            written: Counter[str] = Counter()
            collected = None
            for kind, values in self._rows(batch, first_seq).items():
                if values:
                    given = len(values)
                    self._insert(_BY_KIND[kind], values)
                    dropped = self._drop_unsound(_BY_KIND[kind], first_seq)
                    written[kind] = len(values) - dropped
                    if kind == "liquidations" and written[kind]:
                        collected = self._blocks.take(
                            conn, values, first_seq, dropped == 0 and len(values) == given
                        )
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # SQLite already rolled back (disk full, I/O error)
                conn.execute("ROLLBACK")
            self._markets.clear()  # ids inserted in the rolled-back transaction are gone
            raise
        if collected is not None:
            self._blocks.keep(collected)
        self.written.update(written)

    def _rows(self, batch: list[Event | Alert], seq: int) -> dict[str, list[Row]]:
        rows: dict[str, list[Row]] = {layout.kind: [] for layout in RECORDED}
        for event in batch:
            layout = BY_TYPE[type(event)]
            try:
                time_ms = event_time(event)
                if not valid_time(time_ms):
                    raise ValueError(f"time {time_ms!r} out of range")
                head: Row = (seq, time_ms)
                if not isinstance(event, (FeedStatus, Alert)):  # the kinds without a market (``has_market``)
                    head += (self._market_id(event.venue, event.symbol),)
                rows[layout.kind].append(head + layout.to_row(event))
            except Exception as exc:
                if not _row_fault(exc):
                    raise
                self.rejected += 1  # a malformed event (a side that is not a Side, ...) is skipped
                continue
            seq += 1
        return rows

    def _insert(self, layout: Layout, values: list[Row]) -> None:
        sql = _insert_sql(layout)
        conn = self._db()
        conn.execute("SAVEPOINT batch")
        try:
            conn.executemany(sql, values)
            conn.execute("RELEASE batch")
        except Exception as exc:
            if not _row_fault(exc):
                raise
            # One row cannot be stored (a None price, an integer SQLite cannot hold): undo the rows
            # before it, then insert them one by one so the others are kept, and count the bad ones.
            conn.execute("ROLLBACK TO batch")
            conn.execute("RELEASE batch")
            kept = []
            for row in values:
                try:
                    conn.execute(sql, row)
                    kept.append(row)
                except Exception as row_exc:
                    if not _row_fault(row_exc):
                        raise
                    self.rejected += 1
            values[:] = kept

    def _drop_unsound(self, layout: Layout, first_seq: int) -> int:
        """Delete the rows of this batch readers would skip as damaged (an infinite price, a value
        of the wrong type): the file holds only rows every reader can use (``Layout.valid_sql``)."""
        deleted: int = (
            self._db()
            .execute(f"DELETE FROM {layout.table} WHERE seq >= ? AND NOT {layout.valid_sql()}", (first_seq,))
            .rowcount
        )
        self.rejected += deleted
        return deleted

    def _next_seq(self) -> int:
        # Read inside the write transaction, so two recorders on one file never share a seq.
        top = 0
        conn = self._db()
        for table in EVENT_TABLES:
            value = conn.execute(f"SELECT max(seq) FROM {table}").fetchone()[0]
            top = max(top, value or 0)
        return top + 1

    def _market_id(self, venue: str, symbol: str) -> int:
        key = (venue, symbol)
        found = self._markets.get(key)
        if found is None:
            conn = self._db()
            conn.execute("INSERT OR IGNORE INTO markets (venue, symbol) VALUES (?, ?)", key)
            found = int(
                conn.execute("SELECT id FROM markets WHERE venue = ? AND symbol = ?", key).fetchone()[0]
            )
            self._markets[key] = found
        return found

    def _fail(self, exc: BaseException, lost: int) -> None:
        self.error = StoreError(f"{self.path}: recording stopped: {str(exc) or type(exc).__name__}")
        self.dropped += lost + len(self._buffer)
        self._buffer.clear()

    # -- retention and lifecycle ---------------------------------------------------------------

    def _prune(self) -> None:
        with self._write_lock:
            if self._conn is None or self.error is not None:
                return
            try:
                # The rows collected go into a block first: a prune cuts blocks, never what is collected.
                self._blocks.write(self._conn)
                newest = retention.newest_time(self._conn)
                if newest is None:
                    return
                # One event stamped far in the future (a venue's broken clock) must not make
                # retention wipe the file: "now" is never later than a day past the wall clock.
                now = min(newest, int(time.time() * 1000) + retention.DAY_MS)
                retention.prune(
                    self._conn, self.retention_days, now, book_retention_days=self.book_retention_days
                )
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    self._fail(exc, 0)  # else a reader's checkpoint held it: the next round prunes
            except Exception as exc:  # noqa: BLE001 - pruning failed: said in `error`, as a write failure is
                self._fail(exc, 0)

    def _flush_loop(self) -> None:
        elapsed = 0.0
        while not self._stop.wait(self.flush_interval):
            self.flush()
            elapsed += self.flush_interval
            if elapsed >= PRUNE_EVERY_S:
                elapsed = 0.0
                self._prune()

    def close(self) -> None:
        """Flush everything, prune, checkpoint the WAL into the file and close. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()
        self._prune()
        with self._write_lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with contextlib.suppress(
                    sqlite3.Error
                ):  # a reader holds the log open; SQLite checkpoints later
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.close()
            self._lock.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _row_fault(exc: BaseException) -> bool:
    """An error of one row (skip it and count it), not of the file (stop recording and say why)."""
    if isinstance(
        exc, (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError, sqlite3.ProgrammingError)
    ):
        return True  # a constraint, or a value SQLite cannot bind
    return isinstance(exc, Exception) and not isinstance(exc, (sqlite3.Error, OSError, MemoryError))


_INSERT_CACHE: dict[str, str] = {}


def _insert_sql(layout: Layout) -> str:
    sql = _INSERT_CACHE.get(layout.kind)
    if sql is None:
        head = ("seq", "time", "market") if has_market(layout) else ("seq", "time")
        columns = head + layout.columns
        sql = f"INSERT INTO {layout.table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        _INSERT_CACHE[layout.kind] = sql
    return sql
