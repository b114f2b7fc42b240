"""The liquidations of a recording as packed blocks: the bulk reader's fast path (``read_runs``).

A recording's ``liquidations`` rows stay the source of truth (export, stats, the bus history and every
reader of events read them). Beside them the recorder writes ``liquidation_blocks``: each block the
rows of a seq range (``first_seq`` to ``last_seq``) as packed little-endian columns (``pack``), with
their times' range, their count and a CRC32 of all of it. SQLite fetches a row value by value (~1.4 us
a row as tuples); a block of 8,192 rows comes out as one value, and the whole of a 60 s stress
recording's 471,778 liquidations in ~0.1 s of CPU instead of ~1.75 s (bench/README.md, "The
liquidations read as packed blocks").

What keeps the blocks and the rows in agreement:

- The recorder collects each flush's liquidations (packed from the values it inserted, or read back
  from the file when one of them was not stored as given) and writes a block in the same transaction
  as the rows that complete ``BLOCK_ROWS`` of them, and the rest at a prune and at its close. Rows a
  crash left without a block, rows written by a liqtui before blocks, are read from the table.
- A trigger (schema.py ``_BLOCK_TRIGGERS``) deletes the block of any liquidation row deleted or
  changed, by whatever program: a block never holds a row the table lost. ``retention.prune`` writes
  a block it cut into again with the rows it kept (``cut``).
- The reader (``runs``) reads a valid block's rows from the block and every row whose seq lies in no
  valid block's range from the table, merged in (time, seq) order: the same rows, in the same order,
  as the table alone gives. A block whose CRC, size or values are wrong is not valid: its rows come
  from the table and the read counts it (``BLOCK_NOTE``, said once by the damage note).

numpy is imported where a block is read, never at import: the recorder packs with ``array``.
"""

from __future__ import annotations

import sqlite3
import struct
import sys
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from liqtui.storage.layouts import BLOCK_NOTE, MAX_TIME_MS
from liqtui.storage.schema import table_names

TABLE = "liquidation_blocks"
# Rows a block holds at most (the recorder writes one once this many are collected): ~440 KB packed.
# Fewer rows a block cost more per row to read; a crash leaves at most this many to read from the rows.
BLOCK_ROWS = 8192

# The columns of a block, in this order, each ``n`` values: (name, array type code, numpy dtype).
# 8-byte columns first, so each starts aligned.
COLUMNS = (
    ("seq", "q", "<i8"),
    ("time", "q", "<i8"),
    ("price", "d", "<f8"),
    ("qty", "d", "<f8"),
    ("usd", "d", "<f8"),
    ("delay", "q", "<i8"),
    ("market", "i", "<i4"),
    ("side", "b", "i1"),
    ("flags", "b", "i1"),
)
ROW_BYTES = sum(array(code).itemsize for _name, code, _dtype in COLUMNS)
_HEADER = struct.Struct("<qqqqq")  # first_seq, last_seq, first_time, last_time, n: under the CRC
_BIG_ENDIAN = sys.byteorder == "big"
# A row as the recorder inserts it and reads it back: (seq, time, market, side, price, qty, usd,
# recv_delay, flags); the index of each block column in it.
_ROW_INDEX = {
    "seq": 0,
    "time": 1,
    "market": 2,
    "side": 3,
    "price": 4,
    "qty": 5,
    "usd": 6,
    "delay": 7,
    "flags": 8,
}
_FLOAT = frozenset(code for _name, code, _dtype in COLUMNS if code == "d")
READ_BACK_SQL = (
    "SELECT seq, time, market, side, price, qty, usd, recv_delay, sampled FROM liquidations "
    "WHERE seq >= ? ORDER BY seq"
)

Part = tuple["array[Any]", ...]  # a run of rows as the block's columns (``COLUMNS``' order)
Block = tuple[int, int, int, int, int, int, bytes]  # a row of the table: first_seq ... n, crc, data


def pack_rows(rows: Sequence[Sequence[Any]]) -> Part | None:
    """The rows (``_ROW_INDEX``'s order, seq ascending) as a block's columns, each value as SQLite holds
    it: None when one is not (a float where an integer goes, a text: SQLite's affinity would change it;
    those rows are then read back from the file). A float column's -0.0 is 0.0, as SQLite returns it."""
    if not rows:
        return None
    columns = list(zip(*rows, strict=True))  # one C-level pass; each array then takes its column at once
    part = []
    try:
        for name, code, _dtype in COLUMNS:
            values = columns[_ROW_INDEX[name]]
            column = array(code, values)  # an integer column refuses a float, any column a text
            if code in _FLOAT and 0.0 in column:  # -0.0 among them? SQLite returns 0.0
                column = array(code, [v + 0.0 for v in values])
            part.append(column)
    except (TypeError, OverflowError, ValueError):
        return None
    return tuple(part)


def encode(parts: Sequence[Part]) -> Block | None:
    """One block of ``parts`` (rows in seq order), ready to insert; None for no rows."""
    columns = []
    for k in range(len(COLUMNS)):
        column = array(COLUMNS[k][1])
        for part in parts:
            column.extend(part[k])
        columns.append(column)
    n = len(columns[0])
    if not n:
        return None
    times = columns[1]
    header = (columns[0][0], columns[0][-1], min(times), max(times), n)
    if _BIG_ENDIAN:
        for column in columns:
            column.byteswap()
    data = b"".join(column.tobytes() for column in columns)
    return (*header, zlib.crc32(data, zlib.crc32(_HEADER.pack(*header))), data)


INSERT_SQL = f"INSERT INTO {TABLE} (first_seq, last_seq, first_time, last_time, n, crc, data) VALUES (?, ?, ?, ?, ?, ?, ?)"


class Collector:
    """The recorder's liquidations not yet in a block (``parts``): ``take`` a flush's rows inside its
    write transaction (returns the parts to keep after it commits, a block written when they reach
    ``BLOCK_ROWS``), ``write`` the rest (a prune, the close)."""

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.rows = 0

    def take(
        self, conn: sqlite3.Connection, values: Sequence[Sequence[Any]], first_seq: int, all_kept: bool
    ) -> tuple[list[Part], int]:
        """``values``: the rows inserted from ``first_seq`` on, ``all_kept`` when the file holds every one
        of them (else, or when one is not held as given, they are read back). Returns (parts, rows) to
        keep once the transaction commits."""
        part = pack_rows(values) if all_kept else None
        if part is None:
            part = pack_rows(conn.execute(READ_BACK_SQL, (first_seq,)).fetchall())
            if part is None:  # not a block's values (cannot be: the rows are checked): left to the table
                return [], 0
        parts, rows = [*self.parts, part], self.rows + len(part[0])
        if rows >= BLOCK_ROWS:
            insert(conn, parts)
            return [], 0
        return parts, rows

    def keep(self, state: tuple[list[Part], int]) -> None:
        self.parts, self.rows = state

    def write(self, conn: sqlite3.Connection) -> None:
        """The rows collected as a block, now (its own transaction)."""
        if not self.rows:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            insert(conn, self.parts)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.parts, self.rows = [], 0


def insert(conn: sqlite3.Connection, parts: Sequence[Part]) -> None:
    block = encode(parts)
    if block is not None:
        conn.execute(INSERT_SQL, block)


def has_blocks(conn: sqlite3.Connection) -> bool:
    return (
        TABLE in table_names(conn) and conn.execute(f"SELECT 1 FROM {TABLE} LIMIT 1").fetchone() is not None
    )


# -- reading ------------------------------------------------------------------------------------

Table = dict[str, Any]  # column name -> numpy array, rows in (time, seq) order
NAMES = ("seq", "time", "market", "side", "price", "qty", "usd", "delay", "flags")
_EXACT = 1 << 53


def decode(block: Sequence[Any]) -> Table | None:
    """A block's columns (views of its bytes), None when anything is wrong with it: a header that is not
    whole numbers, a size or CRC that does not match, values a sound row cannot hold (``_numbers``'
    checks in reader.py), seqs out of order or outside its range."""
    import numpy as np

    if not whole(block):
        return None
    first, last, first_time, last_time, n, _crc, data = block
    table: Table = {}
    offset = 0
    for name, code, dtype in COLUMNS:
        table[name] = np.frombuffer(data, dtype=dtype, count=n, offset=offset)
        offset += n * array(code).itemsize
    seq, time = table["seq"], table["time"]
    floats = np.concatenate([table["price"], table["qty"], table["usd"]])
    sound = (
        int(seq[0]) == first
        and int(seq[-1]) == last
        and bool((np.diff(seq) > 0).all())
        and int(time.min()) == first_time
        and int(time.max()) == last_time
        and 0 <= first_time <= last_time <= MAX_TIME_MS
        and bool(np.isfinite(floats).all())
        and bool(((table["side"] == 0) | (table["side"] == 1)).all())
        and 0 <= int(table["flags"].min()) <= int(table["flags"].max()) <= 5
        and int(np.abs(table["delay"]).max()) <= MAX_TIME_MS
        and int(table["market"].min()) >= 0
    )
    return table if sound else None


def whole(block: Sequence[Any]) -> bool:
    """A block's header, size and CRC match (its values are checked by ``decode``)."""
    first, last, first_time, last_time, n, crc, data = block
    if (
        not all(type(v) is int for v in (first, last, first_time, last_time, n, crc))
        or type(data) is not bytes
    ):
        return False
    if not (n > 0 and len(data) == n * ROW_BYTES and 0 <= first <= last < _EXACT):
        return False
    return bool(zlib.crc32(data, zlib.crc32(_HEADER.pack(first, last, first_time, last_time, n))) == crc)


def _header_ok(header: Sequence[Any]) -> bool:
    first, last, first_time, last_time, n = header
    return (
        all(type(v) is int for v in header)
        and 0 <= first <= last
        and 0 < n <= last - first + 1
        and 0 <= first_time <= last_time <= MAX_TIME_MS
    )


RowReader = Callable[[int, int], Iterator[Table]]  # (low seq, high seq) -> the rows' tables in order


# A block's header (first_seq, last_seq, first_time, last_time, n) -> its CRC when its bytes are whole
# (``whole``), None when they are not: what ``check`` found, for ``runs``.
Check = dict[tuple[int, int, int, int, int], "int | None"]
_HEADERS_SQL = f"SELECT first_seq, last_seq, first_time, last_time, n FROM {TABLE} ORDER BY first_seq"


def check(conn: sqlite3.Connection, since_ms: int | None, until_ms: int | None) -> Check:
    """Each block of the span whose header is sound, checked (its size and CRC): what ``runs`` does before
    its first rows, made ahead (the fetches and CRCs let the interpreter go: a thread of the desk's makes
    it while the desk starts, reader.py ``check_soon``). A block not in it, or whose header changed since,
    is checked by ``runs`` itself."""
    low = 0 if since_ms is None else since_ms
    high = MAX_TIME_MS if until_ms is None else until_ms
    out: Check = {}
    if TABLE not in table_names(conn):
        return out
    conn.execute("BEGIN")
    try:
        for header in conn.execute(_HEADERS_SQL).fetchall():
            if _header_ok(header) and header[3] >= low and header[2] <= high:
                got = _load(conn, header[0])
                whole_ = got is not None and tuple(got[:5]) == tuple(header) and whole(got)
                out[tuple(header)] = got[5] if whole_ else None
    finally:
        conn.execute("COMMIT")
    return out


def runs(
    conn: sqlite3.Connection,
    top_seq: int,
    since_ms: int | None,
    until_ms: int | None,
    skipped: Counter[str],
    rows: RowReader,
    checked: Check | None = None,
) -> Iterator[Table] | None:
    """The liquidations of a span as tables in (time, seq) order: valid blocks' rows from the blocks, the
    rest read by ``rows`` (each seq range no valid block covers that holds a row), merged. None when the
    file holds no blocks (every row from the table, as before blocks). Damaged blocks are counted in
    ``skipped[BLOCK_NOTE]`` as they are found (all at the call: a damaged block's rows may lie anywhere
    in time, so every block is checked before the first rows). ``checked``: the blocks ``check`` found,
    not fetched nor checked again here."""
    if TABLE not in table_names(conn):
        return None
    low = 0 if since_ms is None else since_ms
    high = MAX_TIME_MS if until_ms is None else until_ms
    conn.execute("BEGIN")  # the blocks as one read: none cut by a prune between their headers and bytes
    try:
        headers = conn.execute(_HEADERS_SQL).fetchall()
        if not headers:
            return None
        covered: list[tuple[int, int]] = []  # the valid blocks' seq ranges, ascending
        # (first_time, first_seq, last_seq, crc) of the valid blocks in the span
        read: list[tuple[int, int, int, int]] = []
        sane = [_header_ok(header) for header in headers]
        before = None  # two blocks that claim a seq both: neither is believed
        for k, ok in enumerate(sane):
            if ok:
                if before is not None and headers[before][1] >= headers[k][0]:
                    sane[before] = sane[k] = False
                before = k
        for header, ok in zip(headers, sane, strict=True):
            if not ok:
                skipped[BLOCK_NOTE] += 1  # its rows, whatever they are, from the table
                continue
            first, last, first_time, last_time, _n = header
            if first > top_seq:  # written after the read began
                break
            if last_time >= low and first_time <= high:
                key = tuple(header)
                if checked is not None and key in checked:
                    crc = checked[key]
                else:  # checked now (its bytes dropped again: read once more when its rows are handed out)
                    got = _load(conn, first)
                    crc = got[5] if got is not None and whole(got) else None
                if crc is None:
                    skipped[BLOCK_NOTE] += 1
                    continue
                read.append((first_time, first, last, crc))
            covered.append((first, last))
    finally:
        conn.execute("COMMIT")
    sources: list[Iterator[Table]] = [_blocks_in_order(conn, read, (low, high, top_seq), rows, skipped)]
    start = 0
    for first, last in [*covered, (top_seq + 1, top_seq + 1)]:
        if start < first and _any_row(conn, start, min(first - 1, top_seq)):
            sources.append(rows(start, min(first - 1, top_seq)))
        start = last + 1
    return merge(sources)


def _load(conn: sqlite3.Connection, first_seq: int) -> Any:
    return conn.execute(
        f"SELECT first_seq, last_seq, first_time, last_time, n, crc, data FROM {TABLE} WHERE first_seq = ?",
        (first_seq,),
    ).fetchone()


def _any_row(conn: sqlite3.Connection, low: int, high: int) -> bool:
    return (
        conn.execute("SELECT 1 FROM liquidations WHERE seq BETWEEN ? AND ? LIMIT 1", (low, high)).fetchone()
        is not None
    )


def _blocks_in_order(
    conn: sqlite3.Connection,
    read: list[tuple[int, int, int, int]],
    span: tuple[int, int, int],
    rows: RowReader,
    skipped: Counter[str],
) -> Iterator[Table]:
    """The blocks' rows in the span (time ``low``-``high``, seq up to ``top_seq``), in (time, seq) order:
    blocks are taken by their first time, and the rows before the next block's first time are final. A
    block whose values are wrong, or changed since it was checked (a prune cut it meanwhile), gives its
    rows from the table (their times are within the block's: a prune only deletes)."""
    import numpy as np

    low, high, top_seq = span
    read.sort()
    pending: list[Table] = []
    held = 0
    for k, (_first_time, first, last, crc) in enumerate(read):
        got = _load(conn, first)
        table = decode(got) if got is not None and got[5] == crc else None
        if table is None:
            skipped[BLOCK_NOTE] += got is not None and got[5] == crc  # wrong values (not a prune's cut)
            table = concat(list(rows(first, last))) or {name: np.zeros(0, dtype=np.int64) for name in NAMES}
        time, seq = table["time"], table["seq"]
        keep = (time >= low) & (time <= high) & (seq <= top_seq)
        if not keep.all():
            table = {name: column[keep] for name, column in table.items()}
        if len(table["seq"]):
            pending.append(table)
            held += len(table["seq"])
        if held < 16_384 and k + 1 < len(read):
            continue
        bound = read[k + 1][0] if k + 1 < len(read) else MAX_TIME_MS + 1
        whole = concat(pending) if len(pending) != 1 else pending[0]
        if whole is None:
            continue
        order = np.lexsort((whole["seq"], whole["time"]))
        whole = {name: column[order] for name, column in whole.items()}
        cut = int(whole["time"].searchsorted(bound))  # rows before the next block's first time
        if cut:
            yield {name: column[:cut] for name, column in whole.items()}
        pending = [{name: column[cut:] for name, column in whole.items()}] if cut < len(whole["seq"]) else []
        held = len(whole["seq"]) - cut


def concat(tables: Sequence[Table]) -> Table | None:
    import numpy as np

    if not tables:
        return None
    return {name: np.concatenate([table[name] for table in tables]) for name in NAMES}


def merge(sources: list[Iterator[Table]]) -> Iterator[Table]:
    """Tables of several sources, each in (time, seq) order, as one such order."""
    import numpy as np

    if len(sources) == 1:
        yield from sources[0]
        return
    buffers: list[Table | None] = [None] * len(sources)
    alive = [True] * len(sources)
    while True:
        for k, source in enumerate(sources):  # every source that may yield more holds some rows
            while alive[k] and (buffers[k] is None or not len(buffers[k]["seq"])):  # type: ignore[index]
                got = next(source, None)
                if got is None:
                    alive[k] = False
                else:
                    buffers[k] = got
        held = [b for b in buffers if b is not None and len(b["seq"])]
        if not held:
            return
        # Rows up to the smallest last row of a source that may yield more are final.
        ends = [
            (int(b["time"][-1]), int(b["seq"][-1]))
            for k, b in enumerate(buffers)
            if alive[k] and b is not None and len(b["seq"])
        ]
        bound = min(ends) if ends else None
        out = []
        for k, b in enumerate(buffers):
            if b is None or not len(b["seq"]):
                continue
            if bound is None:
                cut = len(b["seq"])
            else:
                time, seq = b["time"], b["seq"]
                cut = int(((time < bound[0]) | ((time == bound[0]) & (seq <= bound[1]))).sum())
            out.append({name: column[:cut] for name, column in b.items()})
            buffers[k] = {name: column[cut:] for name, column in b.items()}
        whole = concat(out)
        assert whole is not None
        if len(whole["seq"]):
            order = np.lexsort((whole["seq"], whole["time"]))
            yield {name: column[order] for name, column in whole.items()}


def cut(conn: sqlite3.Connection, cutoff: int) -> list[Part]:
    """Inside a prune's transaction, before its rows older than ``cutoff`` are deleted: the blocks holding
    rows on both sides of it, as the rows they keep (``insert`` them after the delete, whose trigger
    deletes every block that held a deleted row). A damaged block is not kept (its rows read from the
    table)."""
    kept = []
    for block in conn.execute(
        f"SELECT first_seq, last_seq, first_time, last_time, n, crc, data FROM {TABLE} "
        "WHERE first_time < ? AND last_time >= ?",
        (cutoff, cutoff),
    ).fetchall():
        table = decode(block)
        if table is None:
            continue
        kept.append(part_of(table, table["time"] >= cutoff))
    return kept


def part_of(table: Table, keep: Any = slice(None)) -> Part:
    """The rows ``keep`` of a block's columns (``decode``) as a part to ``insert``."""
    return tuple(array(code, table[name][keep].tolist()) for name, code, _dtype in COLUMNS)
