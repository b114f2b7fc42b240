"""The ESTIMATE scored against the MEASUREMENT (docs/level-model.md, "The estimate, scored").

Where positions are public (Hyperliquid) both exist for one venue and symbol: the level model's
estimate from the venue's open interest, and the liquidation prices of the tracked accounts. The
measurement covers a part of the venue's OI (``covered_share`` = measured USD / OI USD); the
estimate describes all of it, so it is scaled by that share before the two are compared:

- the at-risk curve: USD a move to each target from -15 % to +15 % of price (1 % steps) liquidates,
  estimated (scaled) and measured; ``curve_error`` is the mean absolute difference over the targets
  divided by the measured USD at risk over the whole range (both ends): 0 is a perfect estimate,
  0.5 means off by half of what is really there on average;
- where the mass sits: ``near_share``, the share of measured USD whose liquidation price is within
  0.5 % of an estimated cluster of the same side (one of the estimate's three largest rows of that
  side at the desk's default step, the rows the ladder marks ◆).

Pure: numbers in, numbers out; the engine, the desk and ``liqtui fidelity`` call ``score``.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from liqtui.domain.events import Side

TARGETS_PCT: tuple[int, ...] = tuple(range(-15, 16))
NEAR_PCT = 0.5  # a measured position this close (% of its price) to an estimated cluster "sits" there
CLUSTERS_PER_SIDE = 3  # the estimate's clusters: its largest rows per side, as the ladder marks them (◆)


@dataclass(frozen=True, slots=True)
class Mass:
    """USD liquidated at one price on one side: a measured position or a piece of the estimate."""

    side: Side
    price: float
    usd: float


@dataclass(frozen=True, slots=True)
class CurvePoint:
    target_pct: int
    target: float
    estimated_usd: float  # scaled to the covered share
    measured_usd: float


@dataclass(frozen=True, slots=True)
class Fidelity:
    """One score of the estimate against the measurement (see the module's docstring)."""

    price: float
    measured_usd: float
    oi_usd: float
    covered_share: float  # measured USD / the venue's OI USD: what the estimate is scaled by
    curve: tuple[CurvePoint, ...]
    curve_error: float | None  # None: nothing measured within the range
    near_share: float  # of the measured USD
    clusters: int  # estimated clusters the near share looked at, both sides


class Levels:
    """Masses sorted by price per side with running sums: at-risk in two bisects, and the clusters of
    the rows of ``grid``. Built once per set of levels (the desk keeps the estimate's until it changes)."""

    __slots__ = ("_prices", "_sums", "mids", "total")

    def __init__(self, masses: Iterable[Mass], grid: float) -> None:
        by_side: dict[Side, list[tuple[float, float]]] = {Side.LONG: [], Side.SHORT: []}
        for m in masses:
            if m.usd > 0 and math.isfinite(m.price):
                by_side[m.side].append((m.price, m.usd))
        self._prices: dict[Side, list[float]] = {}
        self._sums: dict[Side, list[float]] = {}
        for side, pairs in by_side.items():
            pairs.sort()
            self._prices[side] = [p for p, _u in pairs]
            self._sums[side] = [0.0, *accumulate(u for _p, u in pairs)]
        self.total = sum(sums[-1] for sums in self._sums.values())
        self.mids = _cluster_mids(by_side, grid)

    def at_risk(self, price: float, target: float) -> float:
        """USD a move from ``price`` to ``target`` liquidates, as ``levels.at_risk`` counts it: shorts
        with ``price < level <= target``, longs with ``target <= level < price``."""
        if target > price:
            prices, sums = self._prices[Side.SHORT], self._sums[Side.SHORT]
            return sums[bisect_right(prices, target)] - sums[bisect_right(prices, price)]
        if target < price:
            prices, sums = self._prices[Side.LONG], self._sums[Side.LONG]
            return sums[bisect_left(prices, price)] - sums[bisect_left(prices, target)]
        return 0.0

    def near_cluster(self, side: Side, price: float) -> bool:
        """``price`` is within ``NEAR_PCT`` of a cluster of ``side``."""
        mids = self.mids[side]
        i = bisect_left(mids, price)
        reach = price * NEAR_PCT / 100
        return any(abs(mids[j] - price) <= reach for j in (i - 1, i) if 0 <= j < len(mids))


def _cluster_mids(by_side: dict[Side, list[tuple[float, float]]], grid: float) -> dict[Side, list[float]]:
    """Mid prices of the cluster rows (rows of ``grid``), ascending, per side."""
    out: dict[Side, list[float]] = {}
    for side, pairs in by_side.items():
        rows: dict[int, float] = {}
        for price, usd in pairs:
            k = math.floor(price / grid)
            rows[k] = rows.get(k, 0.0) + usd
        largest = heapq.nlargest(CLUSTERS_PER_SIDE, rows.items(), key=lambda kv: (kv[1], -kv[0]))
        out[side] = sorted((k + 0.5) * grid for k, _usd in largest)
    return out


def at_risk_of(masses: Iterable[Mass], price: float, target: float) -> float:
    """``Levels.at_risk`` of a few masses (tests, one-off figures)."""
    return Levels(masses, 1.0).at_risk(price, target)


def score(
    measured: Sequence[Mass], estimated: Levels, price: float, oi_usd: float, covered_usd: float | None = None
) -> Fidelity | None:
    """The estimate against the measurement at ``price``; None without a price, OI, measurement or
    estimate (a model that has not stepped yet holds no level: that is no estimate, not a zero one).
    ``covered_usd``: the measured positions' USD, those without a liquidation price included (default:
    the masses'); ``estimated``'s grid decides its clusters."""
    truth = Levels(measured, 1.0)
    measured_usd = truth.total if covered_usd is None else covered_usd
    if not (price > 0 and oi_usd > 0 and measured_usd > 0 and estimated.total > 0):
        return None
    share = min(1.0, measured_usd / oi_usd)
    curve = tuple(
        CurvePoint(
            pct,
            target := price * (1 + pct / 100),
            share * estimated.at_risk(price, target),
            truth.at_risk(price, target),
        )
        for pct in TARGETS_PCT
    )
    in_range = curve[0].measured_usd + curve[-1].measured_usd
    error = None
    if in_range > 0:
        error = sum(abs(p.estimated_usd - p.measured_usd) for p in curve) / len(curve) / in_range
    near = sum(m.usd for m in measured if m.usd > 0 and estimated.near_cluster(m.side, m.price))
    priced = truth.total
    return Fidelity(
        price=price,
        measured_usd=measured_usd,
        oi_usd=oi_usd,
        covered_share=share,
        curve=curve,
        curve_error=error,
        near_share=near / priced if priced > 0 else 0.0,
        clusters=sum(len(v) for v in estimated.mids.values()),
    )
