"""The notebook API: the liquidation-level model over a pandas table of OI samples.

    >>> from liqtui.api import estimate_levels, at_risk
    >>> levels = estimate_levels(samples)            # time, price, open_interest[, high, low]
    >>> at_risk(levels, price=87_000, target=92_000)  # ESTIMATED shorts between 87k and 92k

A thin wrapper over the engine's ``LevelBook`` (one way to compute levels, shared with the desk):
each row after the first is one step from the row before, applied in the model's order (consume,
then add or remove), see ``liqtui.engine.levels``. The numbers are ESTIMATES of where positions
would be liquidated, not data any exchange publishes.
"""

from __future__ import annotations

import os
import warnings
from array import array
from collections.abc import Callable, Iterable, Mapping
from typing import TypeAlias

import numpy as np  # ships with pandas
import pandas as pd

from liqtui.domain.events import Side
from liqtui.engine.levels import (
    DEFAULT_MMR,
    LevelBook,
    LevelModel,
    LevelModelError,
    LevelSnapshot,
    LeverageWeights,
    lookback_ms,
)
from liqtui.engine.levels import at_risk as _at_risk

REQUIRED_COLUMNS = ("time", "price", "open_interest")
OPTIONAL_COLUMNS = ("high", "low")
LEVEL_COLUMNS = ("price", "side", "leverage", "notional_usd")


class SamplesError(ValueError):
    """Samples that cannot be read as OI steps; the message names the column and the row."""


class SamplesWarning(UserWarning):
    """Samples that were read, but not as given (sorted by time) or that look wrong (OI in USD)."""


# Far beyond any market: BTC's open interest over every venue together has stayed near $0.1T.
OI_USD_IMPLAUSIBLE = 1e12
STEPS_PER_CHUNK = 65_536  # steps handed to the book per progress report
# A DataFrame, a mapping of column -> values, or a list of records (column -> value).
Samples: TypeAlias = pd.DataFrame | Mapping[str, Iterable[float]] | list[Mapping[str, float]]


def read_samples(samples: Samples) -> pd.DataFrame:
    """Check and normalize the samples: numeric columns, positive prices, non-negative OI, one
    sample per time, in time order (rows out of order are sorted, with a ``SamplesWarning``).

    Missing ``high``/``low`` values (NaN) fall back to the two rows' prices for that step."""
    frame = samples if isinstance(samples, pd.DataFrame) else pd.DataFrame(samples)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise SamplesError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(need {', '.join(REQUIRED_COLUMNS)}; optional {', '.join(OPTIONAL_COLUMNS)})"
        )
    if len(frame) == 0:
        raise SamplesError("no samples (need at least one row)")
    out = pd.DataFrame(index=range(len(frame)))
    for column in (*REQUIRED_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in frame.columns)):
        given = frame[column].reset_index(drop=True)
        values = given if given.dtype == np.float64 else pd.to_numeric(given, errors="coerce")
        optional = column in OPTIONAL_COLUMNS
        bad = ~np.isfinite(values.to_numpy(dtype="f8"))
        if optional:
            bad &= ~given.isna().to_numpy()
        if bad.any():
            row = int(bad.nonzero()[0][0])
            value = given.iloc[row]
            shown = repr(value) if isinstance(value, str) else str(value)
            raise SamplesError(f"column {column}, row {row + 1}: not a finite number: {shown}")
        out[column] = values.astype(float)
    _check_positive(out, "price", strict=True)
    _check_positive(out, "open_interest", strict=False)
    for column in OPTIONAL_COLUMNS:
        if column in out:
            _check_positive(out.dropna(subset=[column]), column, strict=True)
    if "high" in out and "low" in out:
        both = out.dropna(subset=["high", "low"])
        inverted = both.index[both["high"] < both["low"]]
        if len(inverted):
            raise SamplesError(
                f"row {inverted[0] + 1}: high {both.at[inverted[0], 'high']} is below low {both.at[inverted[0], 'low']}"
            )
    out = _in_time_order(out)
    _warn_if_oi_looks_like_usd(out)
    return out


def _in_time_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows by time (the model steps from each sample to the next); a repeated time is an error."""
    times = frame["time"].to_numpy()
    if len(times) > 1 and not (times[1:] > times[:-1]).all():
        order = np.argsort(times, kind="stable")
        ordered = times[order]
        same = (ordered[1:] == ordered[:-1]).nonzero()[0]
        if len(same):
            a, b = sorted((int(order[same[0]]), int(order[same[0] + 1])))
            raise SamplesError(
                f"rows {a + 1} and {b + 1} have the same time {times[a]:.0f}: one OI sample per time"
            )
        moved = int((order != np.arange(len(order))).sum())
        warnings.warn(
            SamplesWarning(
                f"the rows were not in time order: sorted by time ({moved:,} of {len(order):,} rows moved)"
            ),
            stacklevel=3,
        )
        frame = frame.iloc[order].reset_index(drop=True)
    return frame


def _warn_if_oi_looks_like_usd(frame: pd.DataFrame) -> None:
    notional = frame["open_interest"].to_numpy() * frame["price"].to_numpy()
    row = int(notional.argmax())
    if notional[row] > OI_USD_IMPLAUSIBLE:
        warnings.warn(
            SamplesWarning(
                f"open_interest x price reaches ${notional[row] / 1e12:,.1f}T (row {row + 1} after sorting): more "
                "than any market's open interest (BTC's over every venue is about $0.1T). open_interest must be "
                "in coins (base currency), not USD"
            ),
            stacklevel=3,
        )


def _check_positive(frame: pd.DataFrame, column: str, *, strict: bool) -> None:
    values = frame[column]
    bad = values <= 0 if strict else values < 0
    if bad.any():
        row = bad.idxmax()
        word = "positive" if strict else "zero or more"
        raise SamplesError(f"column {column}, row {row + 1}: must be {word}, got {values[row]}")


def read_samples_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The samples columns of a CSV, read as float64 in one pass (a bad value falls back to a slower
    read so ``read_samples`` can name its row). Raises what ``pandas.read_csv`` raises."""
    wanted = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    try:
        return pd.read_csv(path, usecols=lambda c: c in wanted, dtype="float64")
    except ValueError:  # a value that is not a number: read it as text so the message can quote it
        return pd.read_csv(path, usecols=lambda c: c in wanted, dtype=str)


def coarser(samples: pd.DataFrame, every: int) -> pd.DataFrame:
    """Every ``every``-th sample (and the last), as if OI had been sampled that much less often; each
    step keeps the lowest and highest price of the rows it spans (price is watched all along)."""
    keep = np.unique(np.append(np.arange(0, len(samples), every), len(samples) - 1))
    price = samples["price"].to_numpy()
    lows = np.fmin(samples["low"].to_numpy(), price) if "low" in samples else price
    highs = np.fmax(samples["high"].to_numpy(), price) if "high" in samples else price
    starts = np.append(0, keep[:-1] + 1)  # step k spans the rows after the last kept one, up to keep[k]
    out = samples.iloc[keep].reset_index(drop=True)
    out["low"] = np.minimum.reduceat(lows, starts)
    out["high"] = np.maximum.reduceat(highs, starts)
    return out


def build_book(
    samples: Samples,
    *,
    leverage_weights: LeverageWeights | None = None,
    mmr: float = DEFAULT_MMR,
    long_share: float = 0.5,
    lookback_days: float | None = None,
    half_life_hours: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> LevelBook:
    """Run the samples through a ``LevelBook`` and return it (for ``estimate_levels`` and ``liqtui risk``).

    The steps are the desk engine's: each runs from one sample to the next over the lowest and highest
    price seen (the ``low``/``high`` given, and both samples' prices), levels older than
    ``lookback_days`` leave, and with ``half_life_hours`` every level decays first. ``progress`` is
    called with the number of steps done after each chunk of steps."""
    return model_book(
        read_samples(samples),
        leverage_weights=leverage_weights,
        mmr=mmr,
        long_share=long_share,
        lookback_days=lookback_days,
        half_life_hours=half_life_hours,
        progress=progress,
    )


def model_book(
    frame: pd.DataFrame,
    *,
    leverage_weights: LeverageWeights | None = None,
    mmr: float = DEFAULT_MMR,
    long_share: float = 0.5,
    lookback_days: float | None = None,
    half_life_hours: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> LevelBook:
    """``build_book`` over samples ``read_samples`` already checked (read once, run several models)."""
    try:
        model = LevelModel.create(leverage_weights, mmr=mmr, long_share=long_share)
    except LevelModelError as exc:
        raise ValueError(str(exc)) from None
    book = LevelBook(model, lookback_ms=lookback_ms(lookback_days))
    _run_steps(book, frame, half_life_hours * 3_600_000, progress)
    return book


def _run_steps(
    book: LevelBook, frame: pd.DataFrame, half_life_ms: float, progress: Callable[[int], None] | None
) -> None:
    """The steps, a chunk at a time: each chunk's arrays are computed vectorized and handed to the book
    as Python floats (memory stays at one chunk beyond the samples)."""
    columns = {c: frame[c].to_numpy() for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in frame}
    steps = len(frame) - 1
    for start in range(0, steps, STEPS_PER_CHUNK):
        end = min(start + STEPS_PER_CHUNK, steps)
        chunk = _step_arrays(columns, start, end)
        if half_life_ms > 0:
            for low, high, price, change, t, t0 in zip(*chunk, strict=True):
                book.decay(0.5 ** ((t - t0) / half_life_ms))
                book.step(low, high, price, change, t)
        else:
            step = book.step
            for low, high, price, change, t, _t0 in zip(*chunk, strict=True):
                step(low, high, price, change, t)
        if progress is not None:
            progress(end)


def _step_arrays(columns: dict[str, np.ndarray], start: int, end: int) -> tuple[list[float], ...]:
    """Steps ``start``..``end`` (step k runs from sample k to k + 1) as lists: low, high, price,
    OI change, time and the time of the sample before. The range covers both samples' prices and
    the given ``low``/``high`` (``fmin``: a missing one, NaN, leaves the prices')."""
    before, after = slice(start, end), slice(start + 1, end + 1)
    price = columns["price"]
    lows = np.minimum(price[before], price[after])
    highs = np.maximum(price[before], price[after])
    if "low" in columns:
        lows = np.fmin(columns["low"][after], lows)
    if "high" in columns:
        highs = np.fmax(columns["high"][after], highs)
    oi, times = columns["open_interest"], columns["time"]
    return (
        lows.tolist(),
        highs.tolist(),
        price[after].tolist(),
        (oi[after] - oi[before]).tolist(),
        times[after].tolist(),
        times[before].tolist(),
    )


def estimate_levels(
    samples: Samples,
    *,
    leverage_weights: LeverageWeights | None = None,
    mmr: float = DEFAULT_MMR,
    long_share: float = 0.5,
    lookback_days: float | None = None,
    half_life_hours: float = 0.0,
    grid: float | None = None,
) -> pd.DataFrame:
    """ESTIMATED liquidation levels left after the samples: columns price, side, leverage, notional_usd.

    The model's parameters are ``build_book``'s. With ``grid=None`` every level is exact (sorted by
    price); with a grid step the levels are summed per row ``floor(price / grid) x grid``, side and
    leverage."""
    book = build_book(
        samples,
        leverage_weights=leverage_weights,
        mmr=mmr,
        long_share=long_share,
        lookback_days=lookback_days,
        half_life_hours=half_life_hours,
    )
    return levels_frame(book, grid)


def levels_frame(book: LevelBook, grid: float | None = None) -> pd.DataFrame:
    """The book's live levels as a DataFrame sorted by price (rows of ``grid`` when given)."""
    prices: list[np.ndarray] = []
    sides: list[np.ndarray] = []
    leverages: list[np.ndarray] = []
    usds: list[np.ndarray] = []
    for side, tier_leverage, sign, keys, raws in book.tier_arrays():
        if not keys:
            continue
        # np.array over array('d') copies through the buffer protocol (no float objects).
        prices.append(np.array(keys, dtype="f8") * sign)
        usds.append(np.array(raws, dtype="f8") * book.scale)
        sides.append(np.full(len(keys), 0 if side is Side.LONG else 1, dtype="i1"))
        leverages.append(np.full(len(keys), tier_leverage, dtype="f8"))
    if prices:
        price, usd = np.concatenate(prices), np.concatenate(usds)
        side_codes, leverage = np.concatenate(sides), np.concatenate(leverages)
    else:
        price = usd = leverage = np.empty(0, dtype="f8")
        side_codes = np.empty(0, dtype="i1")
    if grid is not None:
        if not grid > 0:
            raise ValueError(f"grid must be a positive price step, got {grid!r}")
        price = np.floor(price / grid) * grid
    order = np.lexsort((leverage, side_codes, price))
    frame = pd.DataFrame(
        {
            "price": price[order],
            "side": pd.Categorical.from_codes(side_codes[order], categories=["long", "short"]),
            "leverage": leverage[order],
            "notional_usd": usd[order],
        }
    )
    if grid is not None:
        frame = frame.groupby(["price", "side", "leverage"], as_index=False, sort=True, observed=True)[
            "notional_usd"
        ].sum()
    if len(frame) and (frame["leverage"] % 1 == 0).all():
        frame["leverage"] = frame["leverage"].astype("int64")
    return frame


def at_risk(levels: pd.DataFrame, price: float, target: float) -> float:
    """ESTIMATED notional between ``price`` and ``target``: for a target above the price the shorts with
    ``price < level <= target``; below it the longs with ``target <= level < price``. The engine's one
    computation (``liqtui.engine.at_risk``, what the desk and ``liqtui risk`` show) over the table."""
    return _at_risk((levels_snapshot(levels),), price, target)


def levels_snapshot(levels: pd.DataFrame) -> LevelSnapshot:
    """A levels table (``estimate_levels``) as the engine's frozen levels: one sorted tier per side."""
    price = levels["price"].to_numpy(dtype="f8")
    usd = levels["notional_usd"].to_numpy(dtype="f8")
    side = levels["side"].astype(str).to_numpy()
    tiers = []
    for name, sign in (("long", 1.0), ("short", -1.0)):
        mine = side == name
        keys = price[mine] * sign
        order = np.argsort(keys, kind="stable")
        tiers.append(((_doubles(keys[order]), _doubles(usd[mine][order])),))
    return LevelSnapshot(tiers[0], tiers[1])


def _doubles(values: np.ndarray) -> array[float]:
    out = array("d")
    out.frombytes(np.ascontiguousarray(values, dtype="f8").tobytes())
    return out
