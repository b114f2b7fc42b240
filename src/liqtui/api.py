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

import math
from collections.abc import Mapping

import numpy as np  # ships with pandas
import pandas as pd

from liqtui.domain.events import Side
from liqtui.engine.levels import DEFAULT_MMR, LevelBook, LevelModel, LevelModelError

REQUIRED_COLUMNS = ("time", "price", "open_interest")
OPTIONAL_COLUMNS = ("high", "low")
LEVEL_COLUMNS = ("price", "side", "leverage", "notional_usd")


class SamplesError(ValueError):
    """Samples that cannot be read as OI steps; the message names the column and the row."""


def read_samples(samples: pd.DataFrame | Mapping | list) -> pd.DataFrame:
    """Check and normalize the samples: numeric columns, positive prices, non-negative OI.

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
        values = pd.to_numeric(frame[column].reset_index(drop=True), errors="coerce")
        optional = column in OPTIONAL_COLUMNS
        bad = values.isna() & ~(frame[column].reset_index(drop=True).isna() & optional)
        bad |= values.isin([math.inf, -math.inf])
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            value = frame[column].iloc[row]
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
            raise SamplesError(f"row {inverted[0] + 1}: high {both.at[inverted[0], 'high']} is below low {both.at[inverted[0], 'low']}")
    return out


def _check_positive(frame: pd.DataFrame, column: str, *, strict: bool) -> None:
    values = frame[column]
    bad = values <= 0 if strict else values < 0
    if bad.any():
        row = bad.idxmax()
        word = "positive" if strict else "zero or more"
        raise SamplesError(f"column {column}, row {row + 1}: must be {word}, got {values[row]}")


def build_book(
    samples: pd.DataFrame | Mapping | list,
    *,
    leverage_weights: Mapping[float | int | str, float] | None = None,
    mmr: float = DEFAULT_MMR,
    long_share: float = 0.5,
) -> LevelBook:
    """Run the samples through a ``LevelBook`` and return it (for ``estimate_levels`` and ``liqtui risk``)."""
    frame = read_samples(samples)
    try:
        book = LevelBook(LevelModel.create(leverage_weights, mmr=mmr, long_share=long_share))
    except LevelModelError as exc:
        raise ValueError(str(exc)) from None
    prices = frame["price"].tolist()
    ois = frame["open_interest"].tolist()
    lows = _step_edge(frame, "low", prices, min)
    highs = _step_edge(frame, "high", prices, max)
    step = book.step
    prev_oi = ois[0]
    for i in range(1, len(prices)):
        oi = ois[i]
        step(lows[i], highs[i], prices[i], oi - prev_oi)
        prev_oi = oi
    return book


def _step_edge(frame: pd.DataFrame, column: str, prices: list[float], pick) -> list[float]:
    """Per row, the low (or high) of the step that the row ends."""
    fallback = [prices[0]] + [pick(a, b) for a, b in zip(prices, prices[1:])]
    if column not in frame:
        return fallback
    given = frame[column].tolist()
    return [f if g != g else g for g, f in zip(given, fallback)]  # g != g: NaN, not given for this row


def estimate_levels(
    samples: pd.DataFrame | Mapping | list,
    *,
    leverage_weights: Mapping[float | int | str, float] | None = None,
    mmr: float = DEFAULT_MMR,
    long_share: float = 0.5,
    grid: float | None = None,
) -> pd.DataFrame:
    """ESTIMATED liquidation levels left after the samples: columns price, side, leverage, notional_usd.

    With ``grid=None`` every level is exact (sorted by price); with a grid step the levels are summed
    per row ``floor(price / grid) x grid``, side and leverage."""
    book = build_book(samples, leverage_weights=leverage_weights, mmr=mmr, long_share=long_share)
    return levels_frame(book, grid)


def levels_frame(book: LevelBook, grid: float | None = None) -> pd.DataFrame:
    """The book's live levels as a DataFrame sorted by price (rows of ``grid`` when given)."""
    prices, sides, leverages, usds = [], [], [], []
    for side, leverage, sign, keys, raws in book.tier_arrays():
        if not keys:
            continue
        # np.array over array('d') copies through the buffer protocol (no float objects).
        prices.append(np.array(keys, dtype="f8") * sign)
        usds.append(np.array(raws, dtype="f8") * book.scale)
        sides.append(np.full(len(keys), 0 if side is Side.LONG else 1, dtype="i1"))
        leverages.append(np.full(len(keys), leverage, dtype="f8"))
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
    frame = pd.DataFrame({
        "price": price[order],
        "side": pd.Categorical.from_codes(side_codes[order], categories=["long", "short"]),
        "leverage": leverage[order],
        "notional_usd": usd[order],
    })
    if grid is not None:
        frame = frame.groupby(["price", "side", "leverage"], as_index=False, sort=True, observed=True)["notional_usd"].sum()
    if len(frame) and (frame["leverage"] % 1 == 0).all():
        frame["leverage"] = frame["leverage"].astype("int64")
    return frame


def at_risk(levels: pd.DataFrame, price: float, target: float) -> float:
    """ESTIMATED notional between ``price`` and ``target``: for a target above the price the shorts with
    ``price < level <= target``; below it the longs with ``target <= level < price``."""
    if target == price:
        return 0.0
    p = levels["price"].to_numpy()
    usd = levels["notional_usd"].to_numpy()
    side = levels["side"]
    if isinstance(side.dtype, pd.CategoricalDtype):
        codes = side.cat.codes.to_numpy()
        wanted = side.cat.categories.get_loc("short" if target > price else "long")
        is_side = codes == wanted
    else:
        is_side = side.to_numpy() == ("short" if target > price else "long")
    if target > price:
        mask = is_side & (p > price) & (p <= target)
    else:
        mask = is_side & (p >= target) & (p < price)
    return float(usd[mask].sum())
