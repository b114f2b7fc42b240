"""Reading a recording back: events in time order, a summary of what the file holds, engine warm-up.

- ``read_events(path, since_ms, until_ms, kinds)``: validates the file at the call (raising
  ``StoreError``), then iterates events ordered by (time, arrival); both bounds are inclusive.
- ``describe(path)``: first and last event time, rows per kind, venues and symbols.
- ``warm(engine, path, now_ms)``: applies what the engine needs at start, so 24 h totals and the
  30 d OI lookback are right straight after a restart (see ``WARM_SPANS_MS``).
"""

from __future__ import annotations

import heapq
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from liqtui.domain.events import Event, OpenInterest
from liqtui.storage.rows import BY_KIND, KINDS, Layout, Market, check_kinds, has_market
from liqtui.storage.schema import StoreError, open_for_reading, recorded_mode, store_errors

DAY_MS = 86_400_000
HOUR_MS = 3_600_000

# How far back the engine is warmed, per kind. Liquidations: the longest realized window (24 h).
# OI and price bars: the level model's lookback (`levels.lookback_days`, 30 d by default).
# Tickers: the last few minutes give the current price, mark and funding. Order books and feed
# states of an earlier session are stale by definition and are not replayed into a live desk.
WARM_SPANS_MS = {"liquidations": 24 * HOUR_MS, "oi": 30 * DAY_MS, "bars": 30 * DAY_MS, "tickers": 300_000}


@dataclass(frozen=True)
class RecordingInfo:
    path: Path
    start_ms: int | None  # first event, None for an empty recording
    end_ms: int | None  # last event
    rows: dict[str, int]  # per kind
    venues: tuple[str, ...]
    symbols: tuple[str, ...]
    source_mode: str = "LIVE"  # "DEMO" for a recording of the simulated market


class Applies(Protocol):
    def apply(self, event: Event) -> object: ...


def read_events(
    path: str | Path,
    since_ms: int | None = None,
    until_ms: int | None = None,
    kinds: Iterable[str] | None = None,
) -> Iterator[Event]:
    """Events of ``kinds`` (default all) with ``since_ms <= time <= until_ms``, in time order."""
    spans = {kind: (since_ms, until_ms) for kind in check_kinds(kinds)}
    conn = open_for_reading(path)  # validates now, not at the first next()
    return _events(conn, Path(path), spans)


def describe(path: str | Path) -> RecordingInfo:
    conn = open_for_reading(path)
    try:
        with store_errors(path):
            rows = {}
            starts, ends = [], []
            for kind in KINDS:
                table = BY_KIND[kind].table
                count, first, last = conn.execute(
                    f"SELECT count(*), min(time), max(time) FROM {table}"
                ).fetchone()
                rows[kind] = count
                if count:
                    starts.append(first)
                    ends.append(last)
            markets = conn.execute("SELECT venue, symbol FROM markets ORDER BY symbol, venue").fetchall()
            source_mode = recorded_mode(conn)
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
    )


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
    if missing_ok and not Path(path).expanduser().exists():
        return 0
    spans = {}
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
    count = 0
    for event in thin_old_open_interest(_events(conn, Path(path), spans), now_ms - DAY_MS):
        engine.apply(event)
        count += 1
    return count


WARM_OI_STEP_MS = 300_000


def thin_old_open_interest(events: Iterable[Event], before_ms: int, step_ms: int = WARM_OI_STEP_MS) -> Iterator[Event]:
    """Keep one OI sample per market every ``step_ms`` among those older than ``before_ms``.

    The desk polls OI every 15 s, so 30 days of recording hold ~170,000 samples per market; at a
    restart they took 10-30 s through the engine while the trader waited. Older than a day, the
    level model and the lookback low/high only need the 5-minute resolution the venues' own OI
    history has (Binance ``openInterestHist`` 5m), which is what a fresh start backfills anyway.
    OI is a level, not a flow: a skipped sample loses no notional, the next kept one carries it.
    The last 24 h stay whole so the short OI windows (5m, 1h) are exact.
    """
    last_kept: dict[tuple[str, str], int] = {}
    for event in events:
        if isinstance(event, OpenInterest) and event.time < before_ms:
            key = (event.venue, event.symbol)
            previous = last_kept.get(key)
            if previous is not None and event.time - previous < step_ms:
                continue
            last_kept[key] = event.time
        yield event


def _events(
    conn: sqlite3.Connection, path: Path, spans: dict[str, tuple[int | None, int | None]]
) -> Iterator[Event]:
    try:
        with store_errors(path):
            markets = _markets(conn)
            streams = [_stream(conn, path, BY_KIND[kind], markets, *span) for kind, span in spans.items()]
            for _time, _seq, event in heapq.merge(*streams, key=_order):
                yield event
    finally:
        conn.close()


def _order(item: tuple[int, int, Event]) -> tuple[int, int]:
    return item[0], item[1]


def _markets(conn: sqlite3.Connection) -> dict[int, Market]:
    return {mid: (venue, symbol) for mid, venue, symbol in conn.execute("SELECT id, venue, symbol FROM markets")}


def _stream(
    conn: sqlite3.Connection,
    path: Path,
    layout: Layout,
    markets: dict[int, Market],
    since_ms: int | None,
    until_ms: int | None,
) -> Iterator[tuple[int, int, Event]]:
    head = "seq, time, market" if has_market(layout) else "seq, time, NULL"
    sql = f"SELECT {head}, {', '.join(layout.columns)} FROM {layout.table}"
    where, params = [], []
    if since_ms is not None:
        where.append("time >= ?")
        params.append(since_ms)
    if until_ms is not None:
        where.append("time <= ?")
        params.append(until_ms)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY time, seq"
    build = layout.from_row
    cursor = conn.execute(sql, params)
    while True:
        chunk = cursor.fetchmany(2048)
        if not chunk:
            return
        for row in chunk:
            seq, time, market = row[0], row[1], row[2]
            try:
                event = build(markets.get(market, ("?", "?")), time, row[3:])
            except (ValueError, TypeError, KeyError, IndexError, zlib.error) as exc:
                raise StoreError(f"{path}: damaged row {seq} in {layout.table}: {exc}") from None
            yield time, seq, event
