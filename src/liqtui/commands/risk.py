"""`liqtui risk`: ESTIMATED liquidations at risk between the price and a target price.

Forms: ``liqtui risk SYMBOL --to PRICE [--venues ...] [--json]`` backfills SYMBOL live on every
venue that lists it and prints the estimate per venue and in total (``risk_from_venues.py``).
``liqtui risk --samples FILE.csv --to PRICE [--json]`` runs the OI samples of a CSV
(columns time, price, open_interest, optional high, low; see ``liqtui.api``) through the desk's level
model (the ``[levels]`` settings, lookback and decay included) and prints, for the CSV's last price,
the shorts at risk up to a higher target or the longs down to a lower one, with the model's
assumptions and how much the figure moves with the sampling step and the leverage mix.
PRICE takes the desk's forms: ``92000``, ``92,000``, ``92k``, ``+11%``, ``-5%``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from liqtui.commands._bus import add_bus_arguments
from liqtui.config import LevelSettings, Settings
from liqtui.domain import format as fmt
from liqtui.domain.prices import parse_target

SAMPLING_STEPS = (1, 2, 4)  # the sensitivity: every sample, every 2nd, every 4th
# The sensitivity reruns the model 2.75 more times: by default only up to this many steps.
SENSITIVITY_AUTO_STEPS = 500_000
PROGRESS_FROM_STEPS = 200_000  # a progress line on a terminal for inputs at least this long
READING_NOTE_BYTES = 20_000_000  # and a "reading" line for files at least this large


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "symbol",
        nargs="?",
        metavar="SYMBOL",
        help="estimate live for this symbol (BTC, BTCUSDT, BTC/USDT:USDT)",
    )
    parser.add_argument(
        "--venues", nargs="+", metavar="VENUE", help="venues for the live form (default: the enabled ones)"
    )
    add_bus_arguments(parser)
    parser.add_argument(
        "--samples",
        metavar="FILE.csv",
        help="OI samples: columns time (ms), price, open_interest (base coin), optional high, low",
    )
    parser.add_argument(
        "--to",
        dest="target",
        metavar="PRICE",
        required=True,
        help="the target price: 92000, 92k, +11%%, -5%% (relative to the last price)",
    )
    parser.add_argument(
        "--sensitivity",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=(
            "--samples: rerun the model to show how the figure moves with the sampling step and the "
            f"leverage mix (default: when the file has at most {SENSITIVITY_AUTO_STEPS:,} steps)"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    # "-5%" and "-2k" are prices here, not options (argparse takes only "-5" and "-5.5" as numbers).
    parser._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)\s*(%|[kKmMbB])?$")


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    if getattr(args, "samples", None):
        return run_samples(args, settings)
    if getattr(args, "symbol", None):
        from liqtui.commands.risk_from_venues import run_live

        try:
            _target(
                args.target, 1.0
            )  # the form is checked before the backfill; a % applies to the live price
        except ValueError as exc:
            return _fail(f"--to: {exc}")
        return run_live(args, settings or Settings())
    return _fail("give a SYMBOL to estimate live, or the samples to estimate from: --samples FILE.csv")


def run_samples(args: argparse.Namespace, settings: Settings | None) -> int:
    import pandas as pd

    from liqtui.api import SamplesError, SamplesWarning, read_samples, read_samples_csv

    settings = settings or Settings()
    try:
        _target(args.target, 1.0)  # a typo fails before a long read (a % applies to the last price)
    except ValueError as exc:
        return _fail(f"--to: {exc}")
    shown = _say_reading(args.samples)
    try:
        raw = read_samples_csv(args.samples)
    except FileNotFoundError:
        return _fail(erase=shown, message=f"{args.samples}: file not found")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        return _fail(erase=shown, message=f"{args.samples}: not a readable CSV: {_first_line(exc)}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SamplesWarning)
        try:
            frame = read_samples(raw)
        except SamplesError as exc:
            return _fail(erase=shown, message=f"{args.samples}: {exc}")
    del raw
    price = float(frame["price"].iloc[-1])
    try:
        target = _target(args.target, price)
    except ValueError as exc:
        return _fail(erase=shown, message=f"--to: {exc}")
    try:
        result = _estimate(frame, price, target, settings.levels, args.sensitivity, shown)
    except ValueError as exc:  # the model's parameters from the config file
        return _fail(erase=shown, message=f"level model ({settings.source}): {exc}")
    result["samples"] = str(args.samples)
    result["warnings"] = [str(w.message) for w in caught if issubclass(w.category, SamplesWarning)]
    result["assumptions"]["source"] = settings.source
    if args.json:
        print(json.dumps(result))
    else:
        print(_describe(result))
    return 0


def _target(text: str, price: float | None) -> float:
    target = parse_target(text, price)
    if target is None:
        raise ValueError("give a target price such as 92000, 92k or +11%")
    return target


def _estimate(
    frame: pd.DataFrame,
    price: float,
    target: float,
    levels: LevelSettings,
    sensitivity: bool | None,
    shown: int = 0,
) -> dict[str, Any]:
    """The figure, and with ``sensitivity`` (None: for inputs up to SENSITIVITY_AUTO_STEPS) the same
    figure over coarser sampling and over the leverage mix shifted one tier either way."""
    from liqtui.api import coarser, model_book

    steps = len(frame) - 1
    auto = sensitivity is None
    sensitivity = steps <= SENSITIVITY_AUTO_STEPS if auto else sensitivity
    mixes = {
        "lower": shifted_mix(levels.leverage_weights, -1),
        "higher": shifted_mix(levels.leverage_weights, +1),
    }
    runs: list[tuple[int, str | None]] = [(1, None)]
    extra: list[tuple[int, str | None]] = [
        (every, None) for every in SAMPLING_STEPS[1:] if steps >= 2 * every
    ]
    extra += [(1, name) for name, mix in mixes.items() if mix != _floats(levels.leverage_weights)]
    if sensitivity:
        runs += extra
    progress = _Progress(sum(steps // every for every, _mix in runs), shown)
    figures: dict[tuple[int, str | None], float] = {}
    try:
        for every, mix in runs:
            samples = frame if every == 1 else coarser(frame, every)
            weights = mixes[mix] if mix else levels.leverage_weights
            book = model_book(
                samples, **_model(levels, weights), progress=progress.at if progress.shown else None
            )
            figures[(every, mix)] = book.at_risk(price, target)
            progress.finish_pass(len(samples) - 1)
    finally:
        progress.close()
    usd = figures[(1, None)]
    result = {
        "price": price,
        "target": target,
        "side": _side(price, target),
        "usd": usd,
        "estimated": True,
        "steps": steps,
        "assumptions": {
            "leverage_weights": {f"{L:g}": w for L, w in sorted(_floats(levels.leverage_weights).items())},
            "long_share": levels.long_share,
            "maintenance_margin": levels.maintenance_margin,
            "lookback_days": levels.lookback_days,
            "half_life_hours": levels.half_life_hours,
        },
        "sensitivity": None,
        "sensitivity_note": None,
    }
    if sensitivity:
        result["sensitivity"] = {
            "sampling": {str(every): u for (every, mix), u in figures.items() if mix is None},
            "leverage_mix": {
                name: figures[(1, mix)]
                for name, mix in (("lower", "lower"), ("configured", None), ("higher", "higher"))
                if (1, mix) in figures
            },
        }
    elif auto:
        more = sum(steps // every for every, _mix in extra) * progress.seconds_per_step()
        result["sensitivity_note"] = (
            f"not computed for {steps:,} steps (about {_duration(more)} more); --sensitivity computes it"
        )
    else:
        result["sensitivity_note"] = "not computed (--no-sensitivity)"
    return result


def _model(levels: LevelSettings, weights: Mapping[Any, float]) -> dict[str, Any]:
    return {
        "leverage_weights": weights,
        "mmr": levels.maintenance_margin,
        "long_share": levels.long_share,
        "lookback_days": levels.lookback_days,
        "half_life_hours": levels.half_life_hours,
    }


def shifted_mix(weights: Mapping[Any, float], by: int) -> dict[float, float]:
    """The leverage mix moved ``by`` tiers (-1: one tier lower, +1: higher) along the configured
    tiers: each tier's weight goes to its neighbour, and the end tier keeps what would fall off."""
    tiers = sorted(_floats(weights).items())
    out = dict.fromkeys((L for L, _w in tiers), 0.0)
    for i, (_L, w) in enumerate(tiers):
        out[tiers[min(max(i + by, 0), len(tiers) - 1)][0]] += w
    return out


def _floats(weights: Mapping[Any, float]) -> dict[float, float]:
    return {float(L): float(w) for L, w in weights.items()}


def _side(price: float, target: float) -> str:
    return "short" if target > price else "long" if target < price else "none"


class _Progress:
    """One line on stderr when it is a terminal and the input is long: steps done over every pass,
    and the time left at the rate so far. Rewritten in place, erased at the end."""

    def __init__(self, total_steps: int, shown: int = 0) -> None:
        self.total = total_steps
        self.done = 0
        self.started = time.monotonic()
        self.shown = bool(shown) or (total_steps >= PROGRESS_FROM_STEPS and sys.stderr.isatty())
        self.width = shown  # a line already on the terminal ("reading ..."): overwritten, then erased

    def at(self, done_in_pass: int) -> None:
        done = self.done + done_in_pass
        elapsed = time.monotonic() - self.started
        left = elapsed / done * (self.total - done) if done else math.inf
        line = f"liqtui risk: {done:,} of {self.total:,} model steps ({done / self.total:.0%}), about {_duration(left)} left"
        self.width = max(self.width, len(line))
        print(f"\r{line:<{self.width}}", end="", file=sys.stderr, flush=True)

    def finish_pass(self, steps: int) -> None:
        self.done += steps

    def seconds_per_step(self) -> float:
        return (time.monotonic() - self.started) / self.done if self.done else 0.0

    def close(self) -> None:
        if self.shown and self.width:
            print(f"\r{'':<{self.width}}\r", end="", file=sys.stderr, flush=True)


def _say_reading(path: str) -> int:
    """On a terminal, "reading FILE (169 MB)" for a large file while pandas reads it; its length."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return 0
    if size < READING_NOTE_BYTES or not sys.stderr.isatty():
        return 0
    line = f"liqtui risk: reading {path} ({size / 1e6:,.0f} MB)"
    print(line, end="", file=sys.stderr, flush=True)
    return len(line)


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _describe(result: dict[str, Any]) -> str:
    price, target, side, usd = result["price"], result["target"], result["side"], result["usd"]
    if side == "none":
        head = f"ESTIMATED: the target equals the last price {price:,.2f}; nothing lies between them."
    else:
        direction = "up" if side == "short" else "down"
        head = (
            f"ESTIMATED {side}s at risk from {price:,.2f} {direction} to {target:,.2f}: "
            f"${usd:,.0f} ({_short_usd(usd)}), OI-delta model over {result['steps']:,} steps"
        )
    lines = [head, "  assumptions: " + _assumptions(result["assumptions"])]
    if result["sensitivity"] is None:
        lines.append(f"  sensitivity: {result['sensitivity_note']}")
    else:
        lines += _sensitivity(result["sensitivity"])
    lines += [f"warning: {text}" for text in result["warnings"]]
    return "\n".join(lines)


def _assumptions(a: dict[str, Any]) -> str:
    total = sum(a["leverage_weights"].values())
    mix = ", ".join(f"{L}x {w / total:.0%}" for L, w in a["leverage_weights"].items())
    lookback = (
        f"levels older than {a['lookback_days']:g} days dropped"
        if a["lookback_days"]
        else "levels never age out"
    )
    decay = f"half-life {a['half_life_hours']:g} h" if a["half_life_hours"] else "no decay"
    return (
        f"leverage mix {mix}; {a['long_share']:.0%} of new OI long; maintenance margin "
        f"{a['maintenance_margin']:.2%}; {lookback}; {decay} ([levels] of {a['source']})"
    )


def _sensitivity(sens: dict[str, Any]) -> list[str]:
    lines = []
    words = {"1": "every sample", "2": "every 2nd", "4": "every 4th"}
    for title, figures, names in (
        ("the sampling step", sens["sampling"], words),
        (
            "the leverage mix",
            sens["leverage_mix"],
            {"lower": "one tier lower", "configured": "as configured", "higher": "one tier higher"},
        ),
    ):
        if len(figures) < 2:
            continue
        low, high = min(figures.values()), max(figures.values())
        each = ", ".join(f"{names[k]} {_short_usd(v)}" for k, v in figures.items())
        span = (
            f"{_short_usd(low)} to {_short_usd(high)}"
            if _short_usd(low) != _short_usd(high)
            else f"{_short_usd(low)} throughout"
        )
        lines.append(f"  {span} over {title} ({each})")
    if not lines:
        return ["  sensitivity: too few samples to vary the sampling, and one leverage tier"]
    lines[0] = "  sensitivity:" + lines[0][1:]
    return [lines[0], *("              " + line[1:] for line in lines[1:])]


def _short_usd(value: float) -> str:
    return fmt.usd(value, 1)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _fail(message: str, erase: int = 0) -> int:
    """The message on stderr, exit code 2; ``erase``: the width of a status line to clear first."""
    prefix = f"\r{'':<{erase}}\r" if erase else ""
    print(f"{prefix}liqtui risk: {message}", file=sys.stderr)
    return 2
