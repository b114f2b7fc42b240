"""Estimated liquidation levels: the OI-delta model of docs/level-model.md, one book per venue and symbol.

``LevelModel`` holds the model's parameters (leverage tiers capped at a venue's max leverage and
renormalized, maintenance rate, long share). ``LevelBook`` holds the live levels of one venue and
symbol and applies one step at a time, in the order the model fixes:

1. consume every long level >= the step's low and every short level <= the step's high;
2. OI rose by dOI: add ``dOI x price`` of new positions at ``price``, ``long_share`` of it long, spread
   over the tiers at ``P(1-1/L)/(1-m)`` (long) and ``P(1+1/L)/(1+m)`` (short);
3. OI fell: remove ``|dOI| x price`` proportionally from every live level, never below zero.

Why this layout: each (side, tier) keeps its levels in one price-sorted ``array('d')`` ordered so that
the levels price reaches first sit at the END (longs by price, shorts by minus price). Consumption is
then a bisect and a slice delete, insertion is a bisect near the end, and a range sum for ``at_risk``
is two bisects and a C-level ``sum`` over a slice: 8,640 steps take tens of ms, and a level costs 16
bytes. Proportional removal multiplies one lazy scale factor per book (stored notionals are "raw";
the USD value is ``raw x scale``), so it is O(1) however many levels are live.

Lookback (``lookback_ms``, the desk's ``LevelSettings.lookback_days``): each ``add`` is one cohort,
kept in a time-ordered deque as (step time, price, raw notional, the slots it was spread over, fold
count). A step at time t first drops every cohort added before ``t - lookback_ms``: each of its levels
is recomputed with the same float operations as ``add`` (and any later folds of the scale), found by
bisect among its tier's equal keys (same key and same raw: an identical level, either copy is the
same) and deleted; levels already swept are simply not found. Cost: one tuple per add and a few
bisects per expired cohort, so the book stays O(1) amortized per step and bounded to the lookback.

The book is pure and deterministic: the same steps in the same order give the same floats.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from liqtui.domain.events import Side

# Leverage (10, 10.0 or "10", as TOML and notebooks write it) -> share of new positions. A union, not
# Mapping[float | int | str, float]: a Mapping is invariant in its key, so that would refuse a dict[str, float].
LeverageWeights = Mapping[str, float] | Mapping[int, float] | Mapping[float, float]
DEFAULT_LEVERAGE_WEIGHTS: dict[float, float] = {5: 0.15, 10: 0.30, 25: 0.25, 50: 0.20, 100: 0.10}
DEFAULT_MMR = 0.004
# Below this the lazy scale factor is folded into the stored notionals, so floats never underflow.
_RENORMALIZE_BELOW = 1e-150


class LevelParams(Protocol):
    """The model's settings as the engine reads them: ``liqtui.config.LevelSettings`` ([levels]) is one.
    A protocol, so the engine depends on nothing above the domain."""

    @property
    def leverage_weights(self) -> LeverageWeights: ...
    @property
    def maintenance_margin(self) -> float: ...
    @property
    def long_share(self) -> float: ...
    @property
    def lookback_days(self) -> float: ...
    @property
    def half_life_hours(self) -> float: ...


@dataclass(frozen=True)
class DefaultLevelParams:
    """The model's defaults, for an engine built without settings (the config's [levels] defaults
    are the same numbers: tests/unit/engine/test_level_params.py holds them equal)."""

    leverage_weights: LeverageWeights = field(default_factory=lambda: dict(DEFAULT_LEVERAGE_WEIGHTS))
    maintenance_margin: float = DEFAULT_MMR
    long_share: float = 0.5
    lookback_days: float = 30.0
    half_life_hours: float = 0.0


def lookback_ms(days: float | None) -> int | None:
    """``LevelSettings.lookback_days`` as a book's ``lookback_ms``: 0 or None, levels never age out."""
    return int(days * 86_400_000) if days and days > 0 else None


class LevelModelError(ValueError):
    """Model parameters that cannot describe positions (no tiers, negative weight, mmr >= 1...)."""


@dataclass(frozen=True, slots=True)
class Tier:
    leverage: float
    weight: float  # fraction of a side's new notional, the tiers sum to 1
    long_factor: float  # liquidation price / entry price, long
    short_factor: float


@dataclass(frozen=True, slots=True)
class LevelModel:
    tiers: tuple[Tier, ...]
    maintenance_margin: float = DEFAULT_MMR
    long_share: float = 0.5

    @classmethod
    def create(
        cls,
        leverage_weights: LeverageWeights | None = None,
        *,
        mmr: float = DEFAULT_MMR,
        long_share: float = 0.5,
        max_leverage: float | None = None,
    ) -> LevelModel:
        """Tiers above ``max_leverage`` are dropped and the rest renormalized to sum to 1."""
        raw = DEFAULT_LEVERAGE_WEIGHTS if leverage_weights is None else leverage_weights
        if not 0.0 <= mmr < 1.0 or math.isnan(mmr):
            raise LevelModelError(f"maintenance margin must be in [0, 1), got {mmr!r}")
        if not 0.0 <= long_share <= 1.0:
            raise LevelModelError(f"long share must be in [0, 1], got {long_share!r}")
        weights: dict[float, float] = {}
        for key, weight in raw.items():
            try:
                leverage, weight = float(key), float(weight)
            except (TypeError, ValueError):
                raise LevelModelError(f"leverage tier {key!r}: expected numbers, got {weight!r}") from None
            if not leverage >= 1.0 or not math.isfinite(leverage):
                raise LevelModelError(f"leverage tier {key!r}: leverage must be >= 1")
            if not weight >= 0.0 or not math.isfinite(weight):
                raise LevelModelError(f"leverage tier {key!r}: weight must be >= 0, got {weight!r}")
            if max_leverage is not None and leverage > max_leverage:
                continue
            weights[leverage] = weights.get(leverage, 0.0) + weight
        total = sum(weights.values())
        if total <= 0.0:
            if max_leverage is None or not raw:
                raise LevelModelError("leverage weights: at least one tier needs a positive weight")
            weights, total = {float(max_leverage): 1.0}, 1.0  # every tier was above the venue's cap
        tiers = tuple(
            Tier(L, w / total, (1.0 - 1.0 / L) / (1.0 - mmr), (1.0 + 1.0 / L) / (1.0 + mmr))
            for L, w in sorted(weights.items(), reverse=True)
            if w > 0.0
        )
        return cls(tiers, mmr, long_share)


@dataclass(frozen=True, slots=True)
class Consumed:
    """What one step's price swept off one side of a book."""

    side: Side
    usd: float
    price_low: float
    price_high: float
    prices: array[
        float
    ]  # the consumed levels' liquidation prices and USD, kept only when the book is asked to
    usds: array[float]


@dataclass(frozen=True, slots=True)
class LevelSnapshot:
    """Live levels frozen for reading: per tier (keys, raw notionals), keys sorted ascending, with
    key = price for longs and -price for shorts, USD = raw x ``scale``. The engine hands out the same
    object until the book changes, so comparing two views stays cheap (tuples compare by identity first)."""

    longs: tuple[tuple[array[float], array[float]], ...]
    shorts: tuple[tuple[array[float], array[float]], ...]
    scale: float = 1.0

    @classmethod
    def of_levels(cls, levels: Iterable[tuple[float, Side, float]]) -> LevelSnapshot:
        """From (liquidation price, side, USD) triples, one tier per side (the API's tables, test views)."""
        by_side: dict[Side, list[tuple[float, float]]] = {Side.LONG: [], Side.SHORT: []}
        for price, side, usd in levels:
            by_side[side].append((price if side is Side.LONG else -price, usd))
        longs, shorts = (sorted(by_side[side]) for side in (Side.LONG, Side.SHORT))
        return cls(
            ((array("d", (k for k, _u in longs)), array("d", (u for _k, u in longs))),),
            ((array("d", (k for k, _u in shorts)), array("d", (u for _k, u in shorts))),),
        )

    def tiers(self, side: Side) -> tuple[tuple[array[float], array[float]], ...]:
        return self.longs if side is Side.LONG else self.shorts


def at_risk(books: Iterable[LevelBook | LevelSnapshot], price: float, target: float) -> float:
    """ESTIMATED USD a move from ``price`` to ``target`` liquidates (docs/level-model.md, derived numbers): shorts with
    ``price < level <= target`` above the price, longs with ``target <= level < price`` below it.

    The one computation of the figure: the desk's chart (over the view's snapshots), ``Engine.at_risk``,
    ``liqtui risk`` and ``liqtui.api.at_risk`` all call it, so one set of levels gives one number to
    the cent. Per book, two bisects and a C-level slice sum per tier, times the book's scale; books are
    added in the order given (the engine gives them by venue name)."""
    if target > price:
        side, lo_key, hi_key = Side.SHORT, -target, -price
    elif target < price:
        side, lo_key, hi_key = Side.LONG, target, price
    else:
        return 0.0
    total = 0.0
    for book in books:
        raw = 0.0
        for keys, raws in book.tiers(side):
            i, j = bisect_left(keys, lo_key), bisect_left(keys, hi_key)
            if j > i:
                raw += sum(raws[i:j])
        total += raw * book.scale
    return total


class _SideLevels:
    """One side's levels, per tier: sorted keys (price for longs, -price for shorts) and raw notionals."""

    __slots__ = ("sign", "keys", "raws", "raw_total", "top")

    def __init__(self, sign: float, n_tiers: int) -> None:
        self.sign = sign  # +1 longs, -1 shorts: key = sign x price, price reaches the highest keys first
        self.keys = [array("d") for _ in range(n_tiers)]
        self.raws = [array("d") for _ in range(n_tiers)]
        self.raw_total = 0.0
        self.top = -math.inf  # the highest key of any tier: one comparison tells a step sweeps nothing

    def reset_top(self) -> None:
        self.top = max((keys[-1] for keys in self.keys if keys), default=-math.inf)


# (key factor, share of new notional, keys, raws) of one side and tier: what ``LevelBook.add`` walks.
_Slot = tuple[float, float, "array[float]", "array[float]"]


class LevelBook:
    """Live estimated levels of one venue and symbol (see the module docstring for the step order)."""

    def __init__(
        self, model: LevelModel, *, keep_swept_levels: bool = False, lookback_ms: int | None = None
    ) -> None:
        self.model = model
        self.keep_swept_levels = keep_swept_levels
        self.lookback_ms = lookback_ms  # None: levels never age out (the API's default)
        # (time, price, base raw, slots, folds so far) per add, oldest first; only kept with a lookback.
        self._cohorts: deque[tuple[int, float, float, list[_Slot], int]] = deque()
        self._folds: list[float] = []  # every scale folded into the raws, in order
        self._longs = _SideLevels(1.0, len(model.tiers))
        self._shorts = _SideLevels(-1.0, len(model.tiers))
        self._sides = {Side.LONG: self._longs, Side.SHORT: self._shorts}
        self._scale = 1.0
        self._rebuild_slots()
        self.added_usd = 0.0  # everything ever added (the invariant: live <= added)
        self.version = 0  # bumps on every change, for caches
        self._rows: dict[
            float, dict[int, list[float]]
        ] = {}  # grid -> row -> [long raw, short raw, n long, n short]

    def set_model(self, model: LevelModel) -> None:
        """New parameters for positions added from now on; live levels keep their prices."""
        old = {t.leverage: i for i, t in enumerate(self.model.tiers)}
        order = [old.get(t.leverage) for t in model.tiers]
        kept = [i for i in range(len(self.model.tiers)) if i not in order]
        tiers = list(model.tiers) + [Tier(self.model.tiers[i].leverage, 0.0, 0.0, 0.0) for i in kept]
        for levels in self._sides.values():
            levels.keys = [levels.keys[i] if i is not None else array("d") for i in order] + [
                levels.keys[i] for i in kept
            ]
            levels.raws = [levels.raws[i] if i is not None else array("d") for i in order] + [
                levels.raws[i] for i in kept
            ]
        # Tiers that no longer get new positions stay (weight 0) until their levels are swept.
        self.model = LevelModel(tuple(tiers), model.maintenance_margin, model.long_share)
        self._rebuild_slots()
        for levels in self._sides.values():
            levels.reset_top()
        self.version += 1

    # --- the step -----------------------------------------------------------------------------

    def step(
        self, low: float, high: float, price: float, oi_change: float, time_ms: int | None = None
    ) -> list[Consumed]:
        """One model step: drop levels older than the lookback (when ``time_ms`` is given), consume
        what the price range crossed, then add or remove ``oi_change`` x price."""
        if time_ms is not None and self.lookback_ms is not None:
            self.expire(time_ms - self.lookback_ms)
        swept = self.consume(low, high) if (self._longs.top >= low or self._shorts.top >= -high) else []
        if oi_change > 0.0:
            self.add(price, oi_change * price, time_ms)
        elif oi_change < 0.0:
            self.remove(-oi_change * price)
        return swept

    def consume(self, low: float, high: float) -> list[Consumed]:
        """Sweep every long level >= ``low`` and every short level <= ``high``."""
        out = []
        if self._longs.top >= low:
            out.append(self._consume_side(Side.LONG, self._longs, low))
        if self._shorts.top >= -high:
            out.append(self._consume_side(Side.SHORT, self._shorts, -high))
        return out

    def _consume_side(self, side: Side, levels: _SideLevels, threshold: float) -> Consumed:
        hit = [t for t, keys in enumerate(levels.keys) if keys and keys[-1] >= threshold]
        usd_raw, lo_key, hi_key = 0.0, math.inf, -math.inf
        kept_keys, kept_raws = array("d"), array("d")
        for t in hit:
            keys, raws = levels.keys[t], levels.raws[t]
            j = bisect_left(keys, threshold)
            gone_keys, gone_raws = keys[j:], raws[j:]
            usd_raw += sum(gone_raws)
            if gone_keys[0] < lo_key:
                lo_key = gone_keys[0]
            if gone_keys[-1] > hi_key:
                hi_key = gone_keys[-1]
            del keys[j:]
            del raws[j:]
            if self._rows:
                self._forget_rows(levels.sign, gone_keys, gone_raws)
            if self.keep_swept_levels:
                kept_keys.extend(gone_keys)
                kept_raws.extend(gone_raws)
        levels.raw_total -= usd_raw
        levels.reset_top()
        if levels.top == -math.inf:
            levels.raw_total = 0.0  # no float residue once a side is empty
        self.version += 1
        sign, scale = levels.sign, self._scale
        prices = (lo_key * sign, hi_key * sign)
        if kept_keys:
            kept_keys = array("d", [k * sign for k in kept_keys])
            kept_raws = array("d", [r * scale for r in kept_raws])
        return Consumed(side, usd_raw * scale, min(prices), max(prices), kept_keys, kept_raws)

    def add(self, price: float, usd: float, time_ms: int | None = None) -> None:
        """New positions of ``usd`` notional opened at ``price`` (both sides, per ``long_share``).
        With a lookback and ``time_ms``, the levels leave the book once older than the lookback."""
        if not (usd > 0.0 and price > 0.0):
            return
        base = usd / self._scale
        if time_ms is not None and self.lookback_ms is not None:
            self._cohorts.append((time_ms, price, base, self._slots, len(self._folds)))
        for factor, share, keys, raws in self._slots:
            key = price * factor
            # A level above every older one of its tier (common after a rise) needs no bisect.
            if not keys or key >= keys[-1]:
                keys.append(key)
                raws.append(base * share)
            else:
                j = bisect_right(keys, key)
                keys.insert(j, key)
                raws.insert(j, base * share)
        if self._rows:
            self._rows_add(price, base)
        longs, shorts = self._longs, self._shorts
        long_share = self.model.long_share
        longs.raw_total += base * long_share
        shorts.raw_total += base * (1.0 - long_share)
        if self._top_long_factor * price > longs.top:
            longs.top = self._top_long_factor * price
        if -self._top_short_factor * price > shorts.top:
            shorts.top = -self._top_short_factor * price
        self.added_usd += usd
        self.version += 1

    def _rebuild_slots(self) -> None:
        """The flat (key factor, share of new notional, keys, raws) list ``add`` walks, one per side and tier."""
        share = self.model.long_share
        slots: list[_Slot] = []
        for t, tier in enumerate(self.model.tiers):
            if tier.weight > 0.0 and share > 0.0:
                slots.append(
                    (tier.long_factor, tier.weight * share, self._longs.keys[t], self._longs.raws[t])
                )
            if tier.weight > 0.0 and share < 1.0:
                slots.append(
                    (
                        -tier.short_factor,
                        tier.weight * (1.0 - share),
                        self._shorts.keys[t],
                        self._shorts.raws[t],
                    )
                )
        self._slots = slots
        live = [t for t in self.model.tiers if t.weight > 0.0]
        self._top_long_factor = max((t.long_factor for t in live), default=0.0) if share > 0.0 else -math.inf
        self._top_short_factor = min((t.short_factor for t in live), default=0.0) if share < 1.0 else math.inf

    def expire(self, before_ms: int) -> None:
        """Drop every level added before ``before_ms`` (whole cohorts, oldest first)."""
        cohorts = self._cohorts
        if not cohorts or cohorts[0][0] >= before_ms:
            return
        touched = set()
        folds = self._folds
        while cohorts and cohorts[0][0] < before_ms:
            _time, price, base, slots, folded = cohorts.popleft()
            for factor, share, keys, raws in slots:
                key, raw = price * factor, base * share  # the very floats ``add`` stored
                for scale in folds[folded:]:
                    raw *= scale
                sign = 1.0 if factor > 0 else -1.0
                i, j = bisect_left(keys, key), bisect_right(keys, key)
                while i < j and raws[i] != raw:
                    i += 1
                if i == j:
                    continue  # swept (or cleared) already
                del keys[i]
                del raws[i]
                levels = self._longs if sign > 0 else self._shorts
                levels.raw_total -= raw
                touched.add(sign)
                if self._rows:
                    self._row_add(sign, key, -raw, -1)
        for levels in (self._longs, self._shorts):
            if levels.sign in touched:
                levels.reset_top()
                if levels.top == -math.inf:
                    levels.raw_total = 0.0  # no float residue once a side is empty
        if touched:
            self.version += 1

    def remove(self, usd: float) -> None:
        """Positions of ``usd`` notional closed: every live level shrinks by the same fraction."""
        live = self.live_usd()
        if not usd > 0.0 or live <= 0.0:
            return
        self.version += 1
        if usd >= live * (1.0 - 1e-12):
            self.clear()
            return
        self._scale *= 1.0 - usd / live
        if self._scale < _RENORMALIZE_BELOW:
            self._fold_scale()

    def decay(self, kept: float) -> None:
        """Optional ageing (docs/level-model.md, step 8): every live level keeps the fraction ``kept`` (O(1))."""
        if not 0.0 <= kept < 1.0 or not self.count():
            return
        if kept == 0.0:
            self.clear()
            return
        self._scale *= kept
        if self._scale < _RENORMALIZE_BELOW:
            self._fold_scale()
        self.version += 1

    def clear(self) -> None:
        n = len(self.model.tiers)
        self._longs, self._shorts = _SideLevels(1.0, n), _SideLevels(-1.0, n)
        self._sides = {Side.LONG: self._longs, Side.SHORT: self._shorts}
        self._scale = 1.0
        self._cohorts.clear()
        self._folds.clear()
        self._rows = {grid: {} for grid in self._rows}
        self._rebuild_slots()
        self.version += 1

    def _fold_scale(self) -> None:
        scale = self._scale
        for levels in self._sides.values():
            for raws in levels.raws:
                raws[:] = array("d", (r * scale for r in raws))  # in place: cohorts hold these arrays
            levels.raw_total *= scale
        if self._cohorts:
            self._folds.append(scale)
        self._rebuild_slots()
        for rows in self._rows.values():
            for row in rows.values():
                row[0] *= scale
                row[1] *= scale
        self._scale = 1.0

    # --- reading ------------------------------------------------------------------------------

    def live_usd(self, side: Side | None = None) -> float:
        sides = self._sides.values() if side is None else (self._sides[side],)
        return max(0.0, sum(levels.raw_total for levels in sides) * self._scale)

    def count(self) -> int:
        return sum(len(keys) for levels in self._sides.values() for keys in levels.keys)

    def at_risk(self, price: float, target: float) -> float:
        """This book's part of ``at_risk`` (the module function: the one computation)."""
        return at_risk((self,), price, target)

    def tiers(self, side: Side) -> Iterator[tuple[array[float], array[float]]]:
        """(keys, raw notionals) per tier of one side, as ``at_risk`` reads them (the book's own arrays)."""
        levels = self._sides[side]
        return zip(levels.keys, levels.raws, strict=True)

    def snapshot(self) -> LevelSnapshot:
        """A frozen copy of the live levels (a memcpy per tier), for views that outlive the next step."""
        return LevelSnapshot(
            tuple((keys[:], raws[:]) for keys, raws in self.tiers(Side.LONG)),
            tuple((keys[:], raws[:]) for keys, raws in self.tiers(Side.SHORT)),
            self._scale,
        )

    def levels(self) -> Iterator[tuple[float, Side, float, float]]:
        """Every live level as (liquidation price, side, leverage, USD); order: side, tier, price."""
        scale = self._scale
        for side, levels in self._sides.items():
            for tier, keys, raws in zip(self.model.tiers, levels.keys, levels.raws, strict=True):
                for key, raw in zip(keys, raws, strict=True):
                    yield key * levels.sign, side, tier.leverage, raw * scale

    @property
    def scale(self) -> float:
        return self._scale

    def tier_arrays(self) -> Iterator[tuple[Side, float, float, array[float], array[float]]]:
        """Per side and tier: (side, leverage, sign, keys, raw notionals). Price = key x sign and
        USD = raw x ``scale``. The arrays are the book's own: copy them before the next step."""
        for side, levels in self._sides.items():
            for tier, keys, raws in zip(self.model.tiers, levels.keys, levels.raws, strict=True):
                yield side, tier.leverage, levels.sign, keys, raws

    # --- rows of a display grid, kept up to date incrementally ---------------------------------

    def track_rows(self, grid: float) -> None:
        """Keep per-row sums for ``grid`` current on every change (cheap views at that grid)."""
        if grid not in self._rows:
            self._rows[grid] = self._sum_rows(grid)

    def _sum_rows(self, grid: float) -> dict[int, list[float]]:
        rows: dict[int, list[float]] = {}
        for levels in self._sides.values():
            for keys, raws in zip(levels.keys, levels.raws, strict=True):
                for key, raw in zip(keys, raws, strict=True):
                    self._row_add_one(rows, grid, levels.sign, key, raw, 1)
        return rows

    def untrack_rows(self, grid: float) -> None:
        self._rows.pop(grid, None)

    def tracked_grids(self) -> tuple[float, ...]:
        return tuple(self._rows)

    def rows(self, grid: float) -> dict[int, tuple[float, float]]:
        """Row index (floor(price / grid)) -> (long USD, short USD); a grid not tracked is summed now
        and nothing is kept (reading never changes the book)."""
        scale = self._scale
        rows = self._rows.get(grid)
        if rows is None:
            rows = self._sum_rows(grid)
        return {i: (r[0] * scale, r[1] * scale) for i, r in rows.items()}

    def row_band(
        self, grid: float, lo: int, hi: int
    ) -> tuple[tuple[int, array[float]], tuple[int, array[float]]]:
        """Long and short USD of rows ``lo`` .. ``hi`` at ``grid``, each as (first row, float32 USD per
        row from it) from its lowest to its highest row with USD (0 between; an empty array when no
        row has any): what the heatmap keeps, read in one pass over the rows, without copying them."""
        scale = self._scale
        rows = self._rows.get(grid)
        if rows is None:
            rows = self._sum_rows(grid)
        n = hi - lo + 1
        longs, shorts = array("f", bytes(4 * n)), array("f", bytes(4 * n))
        long_lo = short_lo = n
        long_hi = short_hi = -1
        for i, r in rows.items():
            if lo <= i <= hi:
                k = i - lo
                if r[0] > 0.0:
                    longs[k] = r[0] * scale
                    if k < long_lo:  # ifs, not min/max: this loop is most of a snapshot's cost
                        long_lo = k
                    if k > long_hi:
                        long_hi = k
                if r[1] > 0.0:
                    shorts[k] = r[1] * scale
                    if k < short_lo:
                        short_lo = k
                    if k > short_hi:
                        short_hi = k
        return (lo + long_lo, longs[long_lo : long_hi + 1]), (lo + short_lo, shorts[short_lo : short_hi + 1])

    def _rows_add(self, price: float, base: float) -> None:
        """``_row_add`` of each slot's new level (``add``), the grids outermost: an OI step adds one per
        side and tier to each tracked grid, ~10 a step, one call less each. A grid's rows take its
        slots' levels in the same order (only the grids' order is swapped, and they share no row)."""
        add_one, slots = self._row_add_one, self._slots
        for grid, rows in self._rows.items():
            for factor, share, _keys, _raws in slots:
                add_one(rows, grid, 1.0 if factor > 0 else -1.0, price * factor, base * share, 1)

    def _row_add(self, sign: float, key: float, raw: float, n: int) -> None:
        for grid, rows in self._rows.items():
            self._row_add_one(rows, grid, sign, key, raw, n)

    @staticmethod
    def _row_add_one(
        rows: dict[int, list[float]], grid: float, sign: float, key: float, raw: float, n: int
    ) -> None:
        i = math.floor(key * sign / grid)
        row = rows.get(i)
        if row is None:
            row = rows[i] = [0.0, 0.0, 0, 0]
        slot = 0 if sign > 0 else 1
        row[2 + slot] += n
        # A row whose last level left holds exactly zero, not a float residue.
        row[slot] = row[slot] + raw if row[2 + slot] else 0.0
        if not row[2] and not row[3]:
            del rows[i]

    def _forget_rows(self, sign: float, keys: array[float], raws: array[float]) -> None:
        for key, raw in zip(keys, raws, strict=True):
            self._row_add(sign, key, -raw, -1)
