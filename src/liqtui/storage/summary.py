"""What ``liqtui stats`` reports, computed in SQL straight from a recording (not through the engine).

The window ends at the newest event in the file and reaches back 1 h, 4 h or 24 h (``all``: the
whole file); an event belongs to it when ``end - window < time <= end``.

- realized liquidations per venue x symbol x side: count, USD, largest, and whether any came from a
  sampled stream (Binance, OKX push at most one per symbol per second: a lower bound);
- open interest per venue and symbol: first and last sample in the window, change in base coin and
  USD, in % of the first sample.

Damaged rows (a text time, a NULL price: ``Layout.valid_sql``) are left out of both and counted in
``damaged``: those in the window, and those whose time no recording can hold.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path

from liqtui.storage.layouts import BY_KIND, MAX_TIME_MS, Layout, damage_note
from liqtui.storage.retention import newest_time
from liqtui.storage.schema import open_for_reading, recorded_mode, store_errors

STATS_WINDOWS_MS: dict[str, int | None] = {"1h": 3_600_000, "4h": 14_400_000, "24h": 86_400_000, "all": None}


@dataclass(frozen=True)
class LiquidationRow:
    venue: str
    symbol: str
    side: str  # "long" | "short": the side of the liquidated positions
    count: int
    usd: float
    largest_usd: float
    sampled: bool


@dataclass(frozen=True)
class OIChangeRow:
    venue: str
    symbol: str
    first_time: int
    last_time: int
    first_base: float
    last_base: float
    change_base: float
    change_base_pct: float | None
    first_usd: float
    last_usd: float
    change_usd: float
    change_usd_pct: float | None


@dataclass(frozen=True)
class Summary:
    path: str
    window: str
    from_ms: int | None  # exclusive; None for "all"
    to_ms: int | None  # inclusive: the newest event; None for an empty recording
    liquidations: tuple[LiquidationRow, ...]
    open_interest: tuple[OIChangeRow, ...]
    source_mode: str = "LIVE"  # "DEMO": the recording holds the simulated market
    damaged: dict[str, int] = field(default_factory=dict)  # rows left out, per kind

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def damage_note(self) -> str | None:
        return damage_note(self.path, self.damaged)


_KNOWN_MARKETS = "(SELECT id FROM markets WHERE typeof(venue) = 'text' AND typeof(symbol) = 'text')"
_LIQUIDATIONS = BY_KIND["liquidations"]
_OI = BY_KIND["oi"]

_LIQUIDATIONS_SQL = f"""
SELECT m.venue, m.symbol, l.side, count(*), sum(l.usd), max(l.usd), max(l.sampled & 1)
FROM liquidations l JOIN markets m ON m.id = l.market
WHERE l.time > ? AND l.time <= ? AND {_LIQUIDATIONS.valid_sql()} AND l.market IN {_KNOWN_MARKETS}
GROUP BY m.venue, m.symbol, l.side
ORDER BY m.symbol, m.venue, l.side
"""

# First and last sample per market in the window (ties broken by arrival order).
_OI_SQL = f"""
WITH w AS (
    SELECT market, time, base, usd,
        row_number() OVER (PARTITION BY market ORDER BY time, seq) AS from_first,
        row_number() OVER (PARTITION BY market ORDER BY time DESC, seq DESC) AS from_last
    FROM open_interest
    WHERE time > ? AND time <= ? AND {_OI.valid_sql()} AND market IN {_KNOWN_MARKETS}
)
SELECT m.venue, m.symbol, f.time, l.time, f.base, l.base, f.usd, l.usd
FROM w f
JOIN w l ON l.market = f.market AND l.from_last = 1
JOIN markets m ON m.id = f.market
WHERE f.from_first = 1
ORDER BY m.symbol, m.venue
"""


def summarize(path: str | Path, window: str = "24h") -> Summary:
    if window not in STATS_WINDOWS_MS:
        raise ValueError(f"unknown window {window!r} (expected one of: {', '.join(STATS_WINDOWS_MS)})")
    conn = open_for_reading(path)
    try:
        with store_errors(path):
            end = newest_time(conn)
            span = STATS_WINDOWS_MS[window]
            start = None if end is None or span is None else end - span
            # Every time a recording holds is >= 0: -1 takes the whole file ("all"), nothing at all
            # when it holds no events.
            bounds = (start if start is not None else -1, end if end is not None else -1)
            liquidations = tuple(
                LiquidationRow(
                    venue, symbol, "long" if side == 0 else "short", count, usd, largest, bool(sampled)
                )
                for venue, symbol, side, count, usd, largest, sampled in conn.execute(
                    _LIQUIDATIONS_SQL, bounds
                )
            )
            oi = tuple(_oi_row(*row) for row in conn.execute(_OI_SQL, bounds))
            source_mode = recorded_mode(conn)
            damaged = {layout.kind: _damaged(conn, layout, bounds) for layout in (_LIQUIDATIONS, _OI)}
    finally:
        conn.close()
    damaged = {kind: count for kind, count in damaged.items() if count}
    return Summary(str(path), window, start, end, liquidations, oi, source_mode, damaged)


def _damaged(conn: sqlite3.Connection, layout: Layout, bounds: tuple[int, int]) -> int:
    """Rows of the window left out as damaged, and rows whose time no recording can hold (text and
    blobs sort above every number, so ``time > MAX_TIME_MS`` finds them on the time index)."""
    table = layout.table
    in_window = conn.execute(
        f"SELECT count(*) FROM {table} WHERE time > ? AND time <= ? "
        f"AND NOT ({layout.valid_sql()} AND market IN {_KNOWN_MARKETS})",
        bounds,
    ).fetchone()[0]
    out_of_range = conn.execute(
        f"SELECT count(*) FROM {table} WHERE time < 0 OR time > {MAX_TIME_MS}"
    ).fetchone()[0]
    return int(in_window + out_of_range)


def _pct(first: float, last: float) -> float | None:
    return (last - first) / first * 100.0 if first else None


def _oi_row(
    venue: str,
    symbol: str,
    first_time: int,
    last_time: int,
    first_base: float,
    last_base: float,
    first_usd: float,
    last_usd: float,
) -> OIChangeRow:
    return OIChangeRow(
        venue,
        symbol,
        first_time,
        last_time,
        first_base,
        last_base,
        last_base - first_base,
        _pct(first_base, last_base),
        first_usd,
        last_usd,
        last_usd - first_usd,
        _pct(first_usd, last_usd),
    )
