"""The recording file: its SQLite schema, its version stamp, and the checks every reader runs first.

A recording is an SQLite database stamped ``PRAGMA application_id = LQTU`` and ``PRAGMA
user_version = SCHEMA_VERSION`` (both in the 100-byte file header, so a foreign file is recognised
without trusting its tables), plus a ``meta`` table (app name, schema version, creation time).

``open_for_writing`` creates or opens a recording; ``open_for_reading`` opens an existing one
read-only (it works in a read-only directory too). Both raise ``StoreError`` (a message meant for
the user as is) for a file that is missing, not SQLite, truncated, corrupt, from another
application, or written by a newer liqtui. Any ``sqlite3.DatabaseError`` met later while reading
is turned into ``StoreError`` by ``store_errors``. ``lock_for_writing`` makes sure one writer at a
time records into a file.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

APPLICATION_ID = 0x4C515455  # "LQTU"
SCHEMA_VERSION = 1
APP_NAME = "liqtui"

WAL_SIZE_LIMIT = 16 * 1024 * 1024
_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100

# Added after schema 1 shipped: a writer creates it in an older file, a reader of a file without it
# reads no heatmap rows (the file stays readable both ways, so the schema version is unchanged).
_HEATMAP_DDL = """
CREATE TABLE IF NOT EXISTS heatmap_buckets (
    seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, market INTEGER NOT NULL,
    bucket INTEGER NOT NULL, grid REAL NOT NULL,
    longs BLOB, shorts BLOB,  -- zlib(int64 first row + float32 USD per row), NULL: as the last bucket's
    low REAL, high REAL, realized BLOB NOT NULL);  -- realized: float64 triples (row, side 0/1, USD)
CREATE INDEX IF NOT EXISTS heatmap_buckets_time ON heatmap_buckets (time);
"""
# Added the same way: MEASURED positions of tracked accounts (Hyperliquid; size 0: it closed).
_POSITIONS_DDL = """
CREATE TABLE IF NOT EXISTS positions (
    seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, market INTEGER NOT NULL,
    account TEXT NOT NULL, side INTEGER NOT NULL,  -- 0 long, 1 short
    size REAL NOT NULL, usd REAL NOT NULL, entry REAL NOT NULL, liquidation_price REAL,
    leverage REAL NOT NULL, margin INTEGER NOT NULL);  -- margin: 0 cross, 1 isolated
CREATE INDEX IF NOT EXISTS positions_time ON positions (time);
"""

# Added after schema 1 shipped, like the heatmap's table: the alerts a session said live (engine/alerts.py),
# shown again by a replay. ``time`` is when it was said (the alert's ``at``), ``first_time`` its own time.
_ALERTS_DDL = """
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, first_time INTEGER NOT NULL,
    rule TEXT NOT NULL, kind TEXT NOT NULL, venue TEXT, symbol TEXT NOT NULL,
    side INTEGER, usd REAL, price REAL, n INTEGER,  -- side 0 long, 1 short (NULL: none), n the count
    text TEXT NOT NULL, is_update INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_time ON alerts (time);
"""
# Added the same way: the liquidations as packed blocks (storage/blocks.py), the bulk reader's fast path.
# Each holds the rows of liquidations with seq first_seq-last_seq (a reader of a file without the table,
# or of rows no valid block holds, reads the rows as before).
_BLOCKS_DDL = """
CREATE TABLE IF NOT EXISTS liquidation_blocks (
    first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL,
    first_time INTEGER NOT NULL, last_time INTEGER NOT NULL,  -- the rows' least and greatest time
    n INTEGER NOT NULL, crc INTEGER NOT NULL,  -- crc: CRC32 of the five numbers (int64 LE) and data
    data BLOB NOT NULL);  -- the rows as little-endian columns (blocks.COLUMNS)
"""
_ADDED_DDL = (
    _HEATMAP_DDL + _POSITIONS_DDL + _ALERTS_DDL + _BLOCKS_DDL
)  # tables a writer adds to a recording made before them
# A block never holds a row the table lost or changed, whatever program deletes or changes it (a liqtui
# before blocks pruning the file, a user's own SQL): the block holding it goes, its rows read from the
# table. One statement each (their bodies hold semicolons).
_BLOCK_TRIGGERS = tuple(
    f"""CREATE TRIGGER IF NOT EXISTS liquidation_blocks_{event.lower()} AFTER {event} ON liquidations BEGIN
    DELETE FROM liquidation_blocks WHERE first_seq = (
        SELECT first_seq FROM liquidation_blocks WHERE first_seq <= OLD.seq ORDER BY first_seq DESC LIMIT 1
    ) AND last_seq >= OLD.seq;{extra}
END"""
    for event, extra in (
        ("DELETE", ""),
        (
            "UPDATE",
            """
    DELETE FROM liquidation_blocks WHERE first_seq = (
        SELECT first_seq FROM liquidation_blocks WHERE first_seq <= NEW.seq ORDER BY first_seq DESC LIMIT 1
    ) AND last_seq >= NEW.seq;""",
        ),
    )
)

# Each event kind has its own table; `seq` (the rowid) is one counter across all tables, so
# events that share a millisecond replay in the order they arrived. Venue and symbol are interned
# in `markets` (a one-byte id instead of ~25 bytes of text per row). Sides and flags are 0/1,
# which SQLite stores in zero bytes.
_DDL = (
    """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE markets (
    id INTEGER PRIMARY KEY, venue TEXT NOT NULL, symbol TEXT NOT NULL, UNIQUE (venue, symbol));
CREATE TABLE liquidations (
    seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, market INTEGER NOT NULL,
    side INTEGER NOT NULL,  -- 0 long, 1 short: the side of the liquidated position
    price REAL NOT NULL, qty REAL NOT NULL, usd REAL NOT NULL,
    recv_delay INTEGER NOT NULL,  -- recv_time - time, ms
    sampled INTEGER NOT NULL);  -- flags: bit 0 sampled, bits 1-2 source (0 feed, 1 backstop, 2 tracked)
CREATE INDEX liquidations_time ON liquidations (time);
CREATE TABLE open_interest (
    seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, market INTEGER NOT NULL,
    base REAL NOT NULL, usd REAL NOT NULL);
CREATE INDEX open_interest_time ON open_interest (time);
CREATE TABLE tickers (
    seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, market INTEGER NOT NULL,
    last REAL, mark REAL, index_price REAL, funding_rate REAL, next_funding_time INTEGER,
    change_24h_pct REAL, volume_24h_usd REAL);
CREATE INDEX tickers_time ON tickers (time);
CREATE TABLE price_bars (
    seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, market INTEGER NOT NULL,
    open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,
    volume_usd REAL NOT NULL);
CREATE INDEX price_bars_time ON price_bars (time);
CREATE TABLE books (
    seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, market INTEGER NOT NULL,
    bids BLOB NOT NULL, asks BLOB NOT NULL);  -- see layouts.pack_levels
CREATE INDEX books_time ON books (time);
CREATE TABLE feed_status (
    seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, venue TEXT NOT NULL, state TEXT NOT NULL,
    since INTEGER NOT NULL, detail TEXT NOT NULL, kind TEXT NOT NULL, last_message INTEGER);
CREATE INDEX feed_status_time ON feed_status (time);
"""
    + "\n"
    + _ADDED_DDL
)

OPTIONAL_TABLES = (  # tables a recording made before them lacks
    "heatmap_buckets",
    "alerts",
    "positions",
    "liquidation_blocks",
)
EVENT_TABLES = (
    "liquidations",
    "open_interest",
    "tickers",
    "price_bars",
    "books",
    "feed_status",
    "heatmap_buckets",
    "alerts",
    "positions",
)


class StoreError(Exception):
    """A recording that cannot be used; the message names the file and is meant for the user as is."""


SOURCE_MODES = ("LIVE", "DEMO")


def open_for_writing(path: str | Path, source_mode: str = "LIVE") -> sqlite3.Connection:
    """Open (creating if needed) a recording for the recorder: WAL mode, validated, stamped.

    A recording holds one kind of data: ``source_mode`` "LIVE" or "DEMO" is stamped into a new file,
    and a file stamped with the other is refused (simulated prices must never warm a live desk).
    """
    if source_mode not in SOURCE_MODES:
        raise ValueError(f"unknown source mode {source_mode!r} (expected one of {SOURCE_MODES})")
    path = Path(path).expanduser()
    refuse_dangling_link(path)
    fresh = not path.exists() or (path.is_file() and path.stat().st_size == 0)
    if not fresh:
        _check_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(path, mode="rwc")
        if fresh:
            _create(conn, source_mode)
        _check_stamp(conn, path)
        _check_mode(conn, path, source_mode)
        if not fresh:
            for statement in _ADDED_DDL.split(";"):  # a recording made before these tables
                if statement.strip():
                    conn.execute(statement)
            for trigger in _BLOCK_TRIGGERS:
                conn.execute(trigger)
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a committed batch survives a killed process (only an OS crash or
        # power loss can drop the last commits), at a fraction of the cost of FULL.
        conn.execute("PRAGMA synchronous = NORMAL")
        # A log that grew while a long read held it (an export) is cut back once it is folded in.
        conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise _as_store_error(path, exc) from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot write the recording: {exc.strerror or exc}") from None
    return conn


def open_for_reading(path: str | Path) -> sqlite3.Connection:
    """Open an existing recording read-only; never changes the file, works in a read-only directory.

    A recording in WAL mode needs its ``-shm`` index beside it, which SQLite cannot create in a
    read-only directory; with no write-ahead log there (the last writer closed cleanly) nothing can
    be writing into the file, and it is read as immutable.
    """
    path = Path(path).expanduser()
    _check_file(path)
    try:
        conn = _connect(path, mode="ro")
        try:
            _check_stamp(conn, path)
        except sqlite3.OperationalError as exc:
            if not _cannot_open_shm(path, exc):
                raise
            conn.close()
            conn = _connect(path, mode="ro&immutable=1")
            _check_stamp(conn, path)
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise _as_store_error(path, exc) from None
    return conn


def _cannot_open_shm(path: Path, exc: sqlite3.OperationalError) -> bool:
    wal = path.with_name(path.name + "-wal")
    no_log = not wal.exists() or wal.stat().st_size == 0
    return (
        no_log
        and not os.access(path.parent, os.W_OK)
        and ("readonly" in str(exc) or "unable to open" in str(exc))
    )


class WriteLock:
    """An exclusive lock on ``<recording>.lock``, held while a recorder has the file open."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None


def lock_for_writing(path: str | Path) -> WriteLock:
    """Take the recording's write lock, or raise ``StoreError`` naming the process that holds it.

    The lock is on a file beside the recording (never the recording itself: SQLite's own locks
    on it would be dropped when another descriptor of it is closed), and the kernel releases it
    when the holder exits, even by SIGKILL.
    """
    path = Path(path).expanduser()
    refuse_dangling_link(path)
    lock = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StoreError(f"{path}: cannot write the recording: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        raise StoreError(
            f"{path}: already being recorded by another liqtui{f' (pid {pid})' if pid else ''}; one "
            "recorder per file: stop that one, or record to another file (--out PATH)"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
    return WriteLock(fd)


def refuse_dangling_link(path: Path) -> None:
    """A symlink to nothing is refused: writing through it would create a file somewhere else."""
    if path.is_symlink() and not path.exists():
        raise StoreError(
            f"{path}: a symbolic link to {os.readlink(path)}, which does not exist; "
            "not creating it (give a real path, or create the target first)"
        )


@contextmanager
def store_errors(path: str | Path) -> Iterator[None]:
    """Turn SQLite's errors while reading ``path`` into one clear ``StoreError``."""
    try:
        yield
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise _as_store_error(Path(path), exc) from None


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE in the recorder).
    uri = f"file:{quote(path.as_posix())}?mode={mode}"  # quoted: a name may hold '?', '#' or '%'
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=10.0)
    conn.text_factory = _text  # a damaged file can hold bytes that are not UTF-8 where text belongs
    return conn


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def recorded_mode(conn: sqlite3.Connection) -> str:
    """What the file holds: "LIVE" or "DEMO" data."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'source_mode'").fetchone()
    return row[0] if row else "LIVE"


def _check_mode(conn: sqlite3.Connection, path: Path, source_mode: str) -> None:
    held = recorded_mode(conn)
    if held != source_mode:
        raise StoreError(
            f"{path}: holds {held} data; {source_mode} data goes to another recording (--out PATH)"
        )


def _create(conn: sqlite3.Connection, source_mode: str) -> None:
    # The schema and the stamp are committed in rollback-journal mode, before WAL is switched on:
    # the main file then always carries the header a reader checks, even if the first session is
    # killed before SQLite ever checkpoints its write-ahead log.
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # lets retention hand freed pages back
    conn.execute("BEGIN IMMEDIATE")
    for statement in _DDL.split(";"):
        if statement.strip():
            conn.execute(statement)
    for trigger in _BLOCK_TRIGGERS:
        conn.execute(trigger)
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [
            ("app", APP_NAME),
            ("schema_version", str(SCHEMA_VERSION)),
            ("created_ms", str(int(time.time() * 1000))),
            ("source_mode", source_mode),
        ],
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute("COMMIT")


def _check_file(path: Path) -> None:
    """Cheap checks on the raw bytes: exists, is SQLite, is not shorter than its header says."""
    if not path.exists():
        raise StoreError(f"{path}: no such recording")
    if not path.is_file():
        raise StoreError(f"{path}: not a file")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            header = fh.read(_HEADER_SIZE)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if size == 0:
        raise StoreError(f"{path}: empty file, not a liqtui recording")
    if not header.startswith(_SQLITE_MAGIC):
        raise StoreError(f"{path}: not a liqtui recording (not an SQLite database)")
    if len(header) < _HEADER_SIZE:
        raise StoreError(f"{path}: truncated recording ({size} bytes, shorter than its header)")
    _check_length(path, header, size)


def _check_length(path: Path, header: bytes, size: int) -> None:
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):  # SQLite writes a power of two, 512 to 65,536
        raise StoreError(
            f"{path}: damaged recording (its header's page size, {page_size}, is none SQLite writes)"
        )
    change_counter, page_count = struct.unpack(">II", header[24:32])
    valid_for = struct.unpack(">I", header[92:96])[0]
    wal = path.with_name(path.name + "-wal")
    # With a non-empty write-ahead log beside it, the main file may legitimately lag its header
    # (a checkpoint interrupted by a kill is redone on open), so only SQLite can judge it.
    if wal.exists() and wal.stat().st_size > 0:
        return
    if valid_for == change_counter and page_count and size < page_count * page_size:
        raise StoreError(
            f"{path}: truncated recording ({size} bytes, its header says {page_count * page_size})"
        )
    if size % page_size:
        raise StoreError(f"{path}: truncated or damaged recording ({size} bytes is not whole pages)")


def table_names(conn: sqlite3.Connection) -> set[str]:
    """The names of the tables a recording (or any SQLite file) holds."""
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _check_stamp(conn: sqlite3.Connection, path: Path) -> None:
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if application_id != APPLICATION_ID:
        tables = table_names(conn)
        if not tables and application_id == 0:
            raise StoreError(f"{path}: an empty SQLite database, not a liqtui recording")
        what = f"tables: {', '.join(sorted(tables)[:5])}" if tables else f"application id {application_id:#x}"
        raise StoreError(
            f"{path}: not a liqtui recording (an SQLite database of another application; {what})"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: recorded by a newer liqtui (schema version {version}; this liqtui reads up to "
            f"{SCHEMA_VERSION}); upgrade liqtui to read it"
        )
    if version < 1:
        raise StoreError(f"{path}: damaged recording (no schema version)")
    found = table_names(conn)
    missing = [t for t in ("meta", "markets", *EVENT_TABLES) if t not in found and t not in OPTIONAL_TABLES]
    if missing:
        raise StoreError(f"{path}: damaged recording (missing tables: {', '.join(missing)})")
    _probe(conn, found)


def _probe(conn: sqlite3.Connection, found: set[str]) -> None:
    # Touches the root and the newest pages of every table and time index: cheap at any file size,
    # and finds a file whose pages were overwritten before anything is read or written.
    # (A full `PRAGMA quick_check` reads the whole file: seconds for a month of recording.)
    conn.execute("SELECT count(*) FROM meta").fetchone()
    conn.execute("SELECT count(*) FROM markets").fetchone()
    for table in (t for t in EVENT_TABLES if t in found):
        # One aggregate per query: SQLite answers a lone min/max from the index edge.
        for probe in ("max(seq)", "min(time)", "max(time)"):
            conn.execute(f"SELECT {probe} FROM {table}").fetchone()
    if "liquidation_blocks" in found:
        conn.execute("SELECT max(first_seq) FROM liquidation_blocks").fetchone()


def _as_store_error(path: Path, exc: sqlite3.DatabaseError | UnicodeDecodeError) -> StoreError:
    if isinstance(exc, UnicodeDecodeError):  # SQLite's own message quoted bytes that are not UTF-8
        return StoreError(f"{path}: corrupt recording (its schema holds bytes that are not text)")
    text = str(exc)
    if "not a database" in text:
        return StoreError(f"{path}: not a liqtui recording, or damaged beyond reading ({text})")
    if "locked" in text or "busy" in text:
        return StoreError(f"{path}: the recording is locked by another process ({text})")
    if "unable to open" in text or "readonly" in text:
        return StoreError(f"{path}: cannot open the recording for writing here ({text}); check permissions")
    if "full" in text or "disk I/O" in text:
        return StoreError(f"{path}: cannot write the recording ({text})")
    return StoreError(f"{path}: corrupt recording ({text})")
