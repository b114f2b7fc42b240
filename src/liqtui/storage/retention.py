"""Retention: rows older than the retention window are deleted so a recording stays bounded.

Order books take most of the bytes (bench/bench_storage.py), so the recorder keeps them for a
shorter time (``Recorder(book_retention_days=...)``, 3 days by default).

The window is measured back from the newest event in the file (not from the wall clock), so the
same file prunes the same way wherever and whenever it is opened. Freed pages are reused by new
rows; when more than a quarter of the file is free it is handed back to the filesystem.
"""

from __future__ import annotations

import sqlite3

from liqtui.storage import blocks
from liqtui.storage.layouts import TIME_OK_SQL
from liqtui.storage.schema import EVENT_TABLES

DAY_MS = 86_400_000


def newest_time(conn: sqlite3.Connection) -> int | None:
    """The time of the newest event in the file, or None when it holds none."""
    times = [time_edge(conn, table, newest=True) for table in EVENT_TABLES]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def time_edge(conn: sqlite3.Connection, table: str, *, newest: bool) -> int | None:
    """The newest (or oldest) event time in ``table``, among the times a recording can hold
    (``layouts.MAX_TIME_MS``): a damaged row's text or 10^30 is never the end of the file."""
    order = "DESC" if newest else "ASC"
    row = conn.execute(
        f"SELECT time FROM {table} WHERE {TIME_OK_SQL} ORDER BY time {order} LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def prune(
    conn: sqlite3.Connection,
    retention_days: float,
    now_ms: int | None = None,
    book_retention_days: float | None = None,
) -> int:
    """Delete rows older than ``retention_days`` before ``now_ms`` (default: the newest event).

    Order books, four fifths of the bytes of a recording, can be kept for a shorter
    ``book_retention_days`` (None: as long as everything else). A retention ``<= 0`` keeps
    everything. Returns the number of rows deleted.
    """
    now_ms = newest_time(conn) if now_ms is None else now_ms
    if now_ms is None:
        return 0
    cutoffs = {}
    for table in EVENT_TABLES:
        days = book_retention_days if table == "books" and book_retention_days is not None else retention_days
        if days > 0:
            cutoffs[table] = now_ms - int(days * DAY_MS)
    deleted = 0
    has_blocks = "liquidations" in cutoffs and blocks.has_blocks(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        # The blocks cut into, as the rows they keep: the rows' delete deletes every block that held
        # one of them (schema.py's trigger), these are written again after it.
        kept = blocks.cut(conn, cutoffs["liquidations"]) if has_blocks else []
        for table, cutoff in cutoffs.items():
            deleted += conn.execute(f"DELETE FROM {table} WHERE time < ?", (cutoff,)).rowcount
        for part in kept:
            blocks.insert(conn, [part])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if deleted:
        _release_free_pages(conn)
    return deleted


def _release_free_pages(conn: sqlite3.Connection) -> None:
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    if pages and free * 4 > pages:
        conn.execute("PRAGMA incremental_vacuum")
