"""The demo's leveraged positions of one venue and symbol, kept by liquidation price.

Each position that opens (entry price, side, leverage, notional) is filed under its liquidation
price on a fine logarithmic grid (2 bps rows): positions in the same row are liquidated together
when the venue's price crosses the row. A row is only swept once price is past its far edge, so
every position in it has really been crossed: a long row [lo, hi) goes when price <= lo, a short
row [lo, hi) when price >= hi.

Positions also close by themselves (profit taking, stops): modelled as an exponential decay of every
row with the rate's mean lifetime, applied through one shared scale factor so it costs O(1) per step.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from liqtui.domain.events import Side

GRID_LN = 0.0002  # 2 bps rows


def liquidation_price(entry: float, side: Side, leverage: float, maintenance: float) -> float:
    """Isolated margin, no fees (docs/level-model.md, step 4)."""
    if side is Side.LONG:
        return entry * (1 - 1 / leverage) / (1 - maintenance)
    return entry * (1 + 1 / leverage) / (1 + maintenance)


@dataclass(frozen=True, slots=True)
class SweptRow:
    """Positions of one row that price crossed: all had their liquidation price in [low, high)."""

    side: Side
    low: float
    high: float
    qty: float  # base coin


class PositionBook:
    """Open leveraged positions of one venue and symbol, in liquidation-price rows."""

    __slots__ = ("_rows", "_keys", "_scale", "_stored")

    def __init__(self) -> None:
        # Row quantities are stored divided by the decay scale (true qty = stored * scale).
        self._rows: dict[Side, dict[int, float]] = {Side.LONG: {}, Side.SHORT: {}}
        self._keys: dict[Side, list[int]] = {Side.LONG: [], Side.SHORT: []}  # ascending
        self._scale = 1.0
        self._stored = 0.0

    @property
    def open_qty(self) -> float:
        """Base coin held by every open position, both sides."""
        return self._stored * self._scale

    def add(self, side: Side, liq_price: float, qty: float) -> None:
        row = math.floor(math.log(liq_price) / GRID_LN)
        rows = self._rows[side]
        stored = qty / self._scale
        if row in rows:
            rows[row] += stored
        else:
            rows[row] = stored
            bisect.insort(self._keys[side], row)
        self._stored += stored

    def decay(self, factor: float) -> None:
        """Every position shrinks by ``factor`` (0 < factor <= 1): voluntary closes."""
        self._scale *= factor
        if self._scale < 1e-12:
            self._renormalize()

    def sweep(self, price: float) -> list[SweptRow]:
        """Remove and return every row crossed at ``price``: longs first (highest level first), then shorts."""
        return self.sweep_longs(price) + self.sweep_shorts(price)

    def rows(self, side: Side) -> list[tuple[float, float, float]]:
        """(low, high, qty) of every open row of ``side``, ascending."""
        rows = self._rows[side]
        return [(_edge(k), _edge(k + 1), rows[k] * self._scale) for k in self._keys[side]]

    def sweep_longs(self, price: float) -> list[SweptRow]:
        keys, rows = self._keys[Side.LONG], self._rows[Side.LONG]
        out: list[SweptRow] = []
        while keys and _edge(keys[-1]) >= price:
            row = keys.pop()
            stored = rows.pop(row)
            self._stored -= stored
            out.append(SweptRow(Side.LONG, _edge(row), _edge(row + 1), stored * self._scale))
        return out

    def sweep_shorts(self, price: float) -> list[SweptRow]:
        keys, rows = self._keys[Side.SHORT], self._rows[Side.SHORT]
        cut = 0
        while cut < len(keys) and _edge(keys[cut] + 1) <= price:
            cut += 1
        if not cut:
            return []
        out = []
        for row in keys[:cut]:
            stored = rows.pop(row)
            self._stored -= stored
            out.append(SweptRow(Side.SHORT, _edge(row), _edge(row + 1), stored * self._scale))
        del keys[:cut]
        return out

    def _renormalize(self) -> None:
        for rows in self._rows.values():
            for row in rows:
                rows[row] *= self._scale
        self._stored *= self._scale
        self._scale = 1.0


def _edge(row: int) -> float:
    return math.exp(row * GRID_LN)
