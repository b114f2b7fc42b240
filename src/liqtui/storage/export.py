"""A recording as pandas frames, one per event kind, for ``liqtui export``.

Every frame starts with ``time`` (ms epoch) and ``time_utc``; venue and symbol are spelled out.
Order books come out long: one row per level (``side`` bid/ask, ``level`` 0 = best).
Damaged rows (``Layout.valid_sql``, a book that does not decode) are left out and counted.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from liqtui.storage.layouts import BY_KIND, DAMAGE, check_kinds, has_market, unpack_levels
from liqtui.storage.schema import open_for_reading, store_errors

EXPORT_KINDS = ("liquidations", "oi", "tickers", "books", "bars", "status")


def frame(path: str | Path, kind: str, damaged: Counter[str] | None = None) -> pd.DataFrame:
    """All sound rows of one kind, in time order; the damaged ones left out are added to ``damaged``."""
    (kind,) = check_kinds([kind])
    layout = BY_KIND[kind]
    damaged = Counter() if damaged is None else damaged
    conn = open_for_reading(path)
    try:
        with store_errors(path):
            sound = f"{layout.valid_sql()} AS sound"
            if has_market(layout):
                sql = (
                    f"SELECT t.time, m.venue, m.symbol, {', '.join('t.' + c for c in layout.columns)}, {sound} "
                    f"FROM {layout.table} t LEFT JOIN markets m ON m.id = t.market "
                    "AND typeof(m.venue) = 'text' AND typeof(m.symbol) = 'text' ORDER BY t.time, t.seq"
                )
            else:
                sql = f"SELECT time, {', '.join(layout.columns)}, {sound} FROM {layout.table} ORDER BY time, seq"
            cursor = conn.execute(sql)
            df = pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])
    finally:
        conn.close()
    keep = df.pop("sound").astype(bool)
    if has_market(layout):
        keep &= df["venue"].notna()  # a market id the file does not name
    damaged[kind] += int((~keep).sum())
    # infer_objects: a column that held text beside numbers comes back numeric once the text is gone.
    df = df[keep].reset_index(drop=True).infer_objects()
    df = _SHAPERS.get(kind, lambda d, _damaged: d)(df, damaged)
    df.insert(1, "time_utc", pd.to_datetime(df["time"], unit="ms", utc=True))
    return df


def _liquidations(df: pd.DataFrame, _damaged: Counter[str]) -> pd.DataFrame:
    df["side"] = df["side"].map({0: "long", 1: "short"})
    flags = df.pop("sampled").astype("int64")  # bit 0 sampled, bits 1-2 the source (rows.liquidation_flags)
    df["sampled"] = (flags % 2).astype(bool)
    df["source"] = (flags // 2).map({0: "feed", 1: "backstop", 2: "tracked"})
    df.insert(1, "recv_time", df["time"] + df.pop("recv_delay"))
    return df


def _tickers(df: pd.DataFrame, _damaged: Counter[str]) -> pd.DataFrame:
    return df.rename(columns={"index_price": "index"})


def _decoded(blob: bytes) -> np.ndarray:
    return np.asarray(unpack_levels(blob), dtype=np.float64).reshape(-1, 2)


def _books(df: pd.DataFrame, damaged: Counter[str]) -> pd.DataFrame:
    sides, kept = [], []
    for i, (bids, asks) in enumerate(zip(df["bids"], df["asks"], strict=True)):
        try:
            sides.append((_decoded(bids), _decoded(asks)))
        except DAMAGE:
            damaged["books"] += 1
            continue
        kept.append(i)
    df = df.iloc[kept]
    # Vectorised: a month of books is tens of millions of levels.
    parts = []
    for index, side in enumerate(("bid", "ask")):
        levels = [pair[index] for pair in sides]
        counts = np.array([len(x) for x in levels], dtype=np.int64)
        flat = np.concatenate(levels) if levels else np.empty((0, 2))
        parts.append(
            pd.DataFrame(
                {
                    "time": np.repeat(df["time"].to_numpy(dtype=np.int64), counts),
                    "venue": np.repeat(df["venue"].to_numpy(dtype=object), counts),
                    "symbol": np.repeat(df["symbol"].to_numpy(dtype=object), counts),
                    "side": side,
                    "level": np.concatenate([np.arange(n) for n in counts]) if len(counts) else [],
                    "price": flat[:, 0],
                    "size": flat[:, 1],
                }
            )
        )
    both = pd.concat(parts, ignore_index=True)
    # Stable: within one book the bids (concatenated first) stay before the asks, best level first.
    return both.sort_values(["time", "venue", "symbol"], kind="stable", ignore_index=True)


_SHAPERS = {"liquidations": _liquidations, "tickers": _tickers, "books": _books}


def write(df: pd.DataFrame, out: Path, fmt: str) -> None:
    """Write ``df`` as csv or parquet to ``out``, whole or not at all.

    The data goes to a temporary file in the same directory, renamed over ``out`` once complete:
    a full disk or an error leaves no half-written file. Parquet needs pyarrow: ImportError when
    it is missing.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r} (expected csv or parquet)")
    fd, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    try:
        if fmt == "csv":
            df.to_csv(temporary, index=False)
        else:
            df.to_parquet(temporary, index=False)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; the result is an ordinary file
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
