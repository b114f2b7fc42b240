"""A recording as pandas frames, one per event kind, for ``liqtui export``.

Every frame starts with ``time`` (ms epoch) and ``time_utc``; venue and symbol are spelled out.
Order books come out long: one row per level (``side`` bid/ask, ``level`` 0 = best).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from liqtui.storage.rows import BY_KIND, check_kinds, has_market, unpack_levels
from liqtui.storage.schema import open_for_reading, store_errors

EXPORT_KINDS = ("liquidations", "oi", "tickers", "books", "bars", "status")


def frame(path: str | Path, kind: str) -> pd.DataFrame:
    """All rows of one kind, in time order."""
    (kind,) = check_kinds([kind])
    layout = BY_KIND[kind]
    conn = open_for_reading(path)
    try:
        with store_errors(path):
            if has_market(layout):
                sql = (
                    f"SELECT t.time, m.venue, m.symbol, {', '.join('t.' + c for c in layout.columns)} "
                    f"FROM {layout.table} t JOIN markets m ON m.id = t.market ORDER BY t.time, t.seq"
                )
            else:
                sql = f"SELECT time, {', '.join(layout.columns)} FROM {layout.table} ORDER BY time, seq"
            cursor = conn.execute(sql)
            df = pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])
    finally:
        conn.close()
    df = _SHAPERS.get(kind, lambda d: d)(df)
    df.insert(1, "time_utc", pd.to_datetime(df["time"], unit="ms", utc=True))
    return df


def _liquidations(df: pd.DataFrame) -> pd.DataFrame:
    df["side"] = df["side"].map({0: "long", 1: "short"})
    df["sampled"] = df["sampled"].astype(bool)
    df.insert(1, "recv_time", df["time"] + df.pop("recv_delay"))
    return df


def _tickers(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns={"index_price": "index"})


def _books(df: pd.DataFrame) -> pd.DataFrame:
    # Vectorised: a month of books is tens of millions of levels.
    parts = []
    for side, column in (("bid", "bids"), ("ask", "asks")):
        levels = [np.asarray(unpack_levels(blob), dtype=np.float64).reshape(-1, 2) for blob in df[column]]
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
    """Write ``df`` as csv or parquet. Parquet needs pyarrow: ImportError when it is missing."""
    if fmt == "csv":
        df.to_csv(out, index=False)
    elif fmt == "parquet":
        df.to_parquet(out, index=False)
    else:
        raise ValueError(f"unknown format {fmt!r} (expected csv or parquet)")
