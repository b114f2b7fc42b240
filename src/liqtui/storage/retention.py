"""Retention: rows older than the retention window are deleted so a recording stays bounded.

The window is measured back from the newest event in the file (not from the wall clock), so the
same file prunes the same way wherever and whenever it is opened. Freed pages are reused by new
rows; when more than a quarter of the file is free it is handed back to the filesystem.
"""

from __future__ import annotations

import sqlite3

from liqtui.storage.schema import EVENT_TABLES

DAY_MS = 86_400_000


def newest_time(conn: sqlite3.Connection) -> int | None:
    """The time of the newest event in the file, or None when it holds none."""
    times = [conn.execute(f"SELECT max(time) FROM {table}").fetchone()[0] for table in EVENT_TABLES]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def prune(conn: sqlite3.Connection, retention_days: float, now_ms: int | None = None) -> int:
    """Delete rows older than ``retention_days`` before ``now_ms`` (default: the newest event).

    Returns the number of rows deleted. ``retention_days <= 0`` keeps everything.
    """
    if retention_days <= 0:
        return 0
    now_ms = newest_time(conn) if now_ms is None else now_ms
    if now_ms is None:
        return 0
    cutoff = now_ms - int(retention_days * DAY_MS)
    deleted = 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in EVENT_TABLES:
            deleted += conn.execute(f"DELETE FROM {table} WHERE time < ?", (cutoff,)).rowcount
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
