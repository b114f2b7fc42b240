"""Deterministic history series (candles, open interest) that end exactly at the current state.

A value ``k`` periods before now is ``current * wave(k)`` with ``wave(0) == 1``, so the newest point
equals what the fake was set to and older points wander a few percent around it.
"""

from __future__ import annotations

import math

INTERVAL_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}


def wave(k: float, amplitude: float = 0.01) -> float:
    return 1 + amplitude * (math.sin(k / 7) * 0.6 + math.sin(k / 23) * 0.4)


def window(
    now: int,
    step: int,
    limit: int,
    max_limit: int,
    start: int | None,
    end: int | None,
    keep_ms: int | None = None,
) -> list[int]:
    """Open times (ascending) of the periods a venue returns for start/end/limit.

    With a start the first ``limit`` periods from it; otherwise the last ``limit`` up to ``end``
    (default now). ``keep_ms`` is how far back the venue keeps data (Binance OI: 30 days)."""
    limit = max(1, min(int(limit), max_limit))
    newest = (min(end, now) if end is not None else now) // step * step
    oldest_kept = (now - keep_ms) // step * step + step if keep_ms else 0
    if start is not None:
        first = max(-(-int(start) // step) * step, oldest_kept)
        times = list(range(first, newest + 1, step))[:limit]
    else:
        times = [t for t in range(newest - (limit - 1) * step, newest + 1, step) if t >= oldest_kept]
    return times


def candle(
    price_now: float, now: int, open_time: int, step: int, tick: float
) -> tuple[float, float, float, float]:
    """(open, high, low, close) of the period opening at ``open_time``; the current one closes at price_now."""
    k = (now // step * step - open_time) / step
    close = price_now * wave(k)
    open_ = price_now * wave(k + 1)
    high = max(open_, close) * 1.002
    low = min(open_, close) * 0.998
    return tuple(round(v / tick) * tick for v in (open_, high, low, close))


def oi_at(oi_now: float, now: int, t: int, step: int) -> float:
    k = (now // step * step - t) / step
    return oi_now * wave(k / 3, amplitude=0.03)
