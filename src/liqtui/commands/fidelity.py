"""`liqtui fidelity`: the ESTIMATED levels scored against MEASURED positions (engine/fidelity.py).

``liqtui fidelity FILE`` plays a recording through the engine and scores, per symbol, the estimate
of the venues whose positions are public (Hyperliquid) against the tracked accounts' positions the
file holds, at the file's end. ``liqtui fidelity --demo`` runs the simulated market instead and
scores the estimate against the demo's own positions (all of them: the truth, known there).
``--fit`` searches the ``[levels]`` leverage weights and long share that minimize the at-risk error
and prints them as a config block (docs/level-model.md says when to trust it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from liqtui.commands._args import NumberIn
from liqtui.config import LevelSettings, Range, Settings
from liqtui.domain import format as fmt
from liqtui.domain.events import (
    Event,
    FeedStatus,
    MarginLimits,
    OpenInterest,
    PriceBar,
    Side,
    Ticker,
)
from liqtui.domain.venues import PUBLIC_POSITION_VENUES
from liqtui.engine import Engine
from liqtui.engine.fidelity import Fidelity, Mass, score
from liqtui.engine.measured import masses
from liqtui.engine.projection import auto_grid

DEMO_MINUTES = 10.0
MINUTES = Range(0, 24 * 60, "minutes", low_open=True)
FIT_LONG_SHARES = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)
FIT_FACTORS = (0.0, 0.5, 2.0)  # each leverage's weight tried at these multiples, one at a time
FIT_ROUNDS = 2


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("file", metavar="FILE", nargs="?", help="a recording holding tracked positions")
    parser.add_argument(
        "--demo", action="store_true", help="score against the simulated market's own positions instead"
    )
    parser.add_argument("--seed", type=int, default=0, help="the demo's seed (default 0)")
    parser.add_argument("--rate", choices=("calm", "busy", "stress"), default="busy", help="the demo's rate")
    parser.add_argument(
        "--minutes",
        type=NumberIn(MINUTES),
        default=DEMO_MINUTES,
        help=f"the demo runs this long, in {MINUTES} (default {DEMO_MINUTES:g})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--fit",
        action="store_true",
        help="search the [levels] leverage weights and long share minimizing the error; print a config block",
    )


def needs_settings(args: argparse.Namespace) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Case:
    """One symbol to score: where the truth comes from, and the events the estimate is built from."""

    symbol: str
    venues: tuple[str, ...]
    truth: tuple[Mass, ...]
    covered_usd: float
    accounts: int | None  # tracked accounts (None: the demo's truth, every position)


@dataclass(frozen=True, slots=True)
class Scored:
    case: Case
    fidelity: Fidelity | None


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    settings = settings or Settings()
    if args.demo == bool(args.file):
        return _fail("give a recording FILE, or --demo (not both)", 2)
    try:
        events, cases, against = (
            _demo(args, settings) if args.demo else _recording(Path(args.file).expanduser())
        )
    except ValueError as exc:
        return _fail(str(exc), 2)
    if not cases:
        return _fail("nothing to score: no tracked position of a venue whose positions are public", 1)
    scored = evaluate(events, cases, settings.levels)
    fitted = fit(events, cases, settings.levels) if args.fit else None
    doc = as_dict(scored, against, args, settings.levels, fitted)
    print(json.dumps(doc, indent=2) if args.json else render(doc))
    return 0


# ----- inputs -------------------------------------------------------------------------------------


def _recording(path: Path) -> tuple[list[Event], list[Case], str]:
    from liqtui.storage import StoreError
    from liqtui.storage.reader import read_events

    try:
        events: list[Event] = [e for e in read_events(path) if not isinstance(e, FeedStatus)]
    except StoreError as exc:
        raise ValueError(str(exc)) from None
    engine = Engine()
    for event in events:
        engine.apply(event)
    cases = []
    for symbol in engine.symbols():
        held = [p for p in engine.state.positions.of(symbol) if p.venue in PUBLIC_POSITION_VENUES]
        if held:
            venues = tuple(sorted({p.venue for p in held}))
            cases.append(
                Case(
                    symbol,
                    venues,
                    tuple(masses(held)),
                    sum(p.usd for p in held),
                    len({p.account for p in held}),
                )
            )
    return events, cases, "measured"


def _demo(args: argparse.Namespace, settings: Settings) -> tuple[list[Event], list[Case], str]:
    from liqtui.feeds.demo.market import DemoMarket

    market = DemoMarket(settings, seed=args.seed, rate=args.rate, log_size=0)
    events: list[Event] = [e for e in market.start_events() if not isinstance(e, FeedStatus)]
    for _ in range(int(args.minutes * 60)):
        events += market.step(1000)
    cases = []
    for pair in market.public_pairs():
        truth = tuple(
            Mass(side, (low + high) / 2, qty * pair.price)
            for side in (Side.LONG, Side.SHORT)
            for low, high, qty in pair.book.rows(side)
        )
        cases.append(Case(pair.symbol, (pair.venue,), truth, sum(m.usd for m in truth), None))
    return events, cases, "truth"


# ----- scoring ------------------------------------------------------------------------------------

_MODEL_INPUTS = (OpenInterest, PriceBar, Ticker, MarginLimits)


def evaluate(events: Iterable[Event], cases: Sequence[Case], levels: LevelSettings) -> list[Scored]:
    """Every case's score with the estimate built under ``levels`` from the venues' events."""
    venues = {v for c in cases for v in c.venues}
    symbols = {c.symbol for c in cases}
    engine = Engine(levels)
    for e in events:
        if isinstance(e, _MODEL_INPUTS) and e.venue in venues and e.symbol in symbols:
            engine.apply(e)
    out = []
    for case in cases:
        price = _price(engine, case)
        oi = sum(
            r.usd or 0.0 for r in engine.view(case.symbol, _now(engine, case)).oi if r.venue in case.venues
        )
        fid = None
        if price:
            estimate = engine.projection.measured.estimate(case.symbol, case.venues, auto_grid(price))
            fid = score(case.truth, estimate, price, oi, case.covered_usd)
        out.append(Scored(case, fid))
    return out


def _now(engine: Engine, case: Case) -> int:
    states = [s for v, s in engine.state.symbol_states(case.symbol) if v in case.venues]
    return max((s.latest_time or 0 for s in states), default=0)


def _price(engine: Engine, case: Case) -> float | None:
    tickers = engine.state.tickers.get(case.symbol, {})
    for venue in case.venues:
        ticker = tickers.get(venue)
        if ticker is not None and (ticker.last or ticker.mark):
            return ticker.last or ticker.mark
    return None


def mean_error(scored: Sequence[Scored]) -> float | None:
    errors = [s.fidelity.curve_error for s in scored if s.fidelity and s.fidelity.curve_error is not None]
    return sum(errors) / len(errors) if errors else None


def fit(
    events: list[Event], cases: Sequence[Case], levels: LevelSettings
) -> tuple[LevelSettings, float | None]:
    """Coordinate search from ``levels``: the long share over ``FIT_LONG_SHARES``, then each leverage's
    weight at ``FIT_FACTORS`` of itself, ``FIT_ROUNDS`` times; keeps what lowers the mean error."""
    wanted = [e for e in events if isinstance(e, _MODEL_INPUTS)]
    best, best_error = levels, mean_error(evaluate(wanted, cases, levels))
    if best_error is None:
        return best, None

    def better(candidate: LevelSettings) -> None:
        nonlocal best, best_error
        error = mean_error(evaluate(wanted, cases, candidate))
        if error is not None and best_error is not None and error < best_error - 1e-9:
            best, best_error = candidate, error

    for _ in range(FIT_ROUNDS):
        for share in FIT_LONG_SHARES:
            better(replace(best, long_share=share))
        for key in list(best.leverage_weights):
            for factor in FIT_FACTORS:
                weights = dict(best.leverage_weights)
                weights[key] = round(weights[key] * factor, 4)
                if any(w > 0 for w in weights.values()):
                    better(replace(best, leverage_weights=weights))
    return best, best_error


# ----- output -------------------------------------------------------------------------------------


def as_dict(
    scored: Sequence[Scored],
    against: str,
    args: argparse.Namespace,
    levels: LevelSettings,
    fitted: tuple[LevelSettings, float | None] | None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "source": "demo" if args.demo else "recording",
        "file": None if args.demo else str(args.file),
        "against": against,  # truth: every simulated position; measured: the tracked accounts'
        "demo": {"seed": args.seed, "rate": args.rate, "minutes": args.minutes} if args.demo else None,
        "mean_curve_error": mean_error(scored),
        "symbols": [_symbol_dict(s) for s in scored],
        "levels": _levels_dict(levels),
    }
    if fitted is not None:
        doc["fit"] = {"mean_curve_error": fitted[1], "levels": _levels_dict(fitted[0])}
    return doc


def _levels_dict(levels: LevelSettings) -> dict[str, Any]:
    return {"leverage_weights": dict(levels.leverage_weights), "long_share": levels.long_share}


def _symbol_dict(s: Scored) -> dict[str, Any]:
    fid, case = s.fidelity, s.case
    return {
        "symbol": case.symbol,
        "venues": list(case.venues),
        "accounts": case.accounts,
        "measured_usd": case.covered_usd,
        "oi_usd": fid.oi_usd if fid else None,
        "covered_share": fid.covered_share if fid else None,
        "price": fid.price if fid else None,
        "curve_error": fid.curve_error if fid else None,
        "near_share": fid.near_share if fid else None,
        "clusters": fid.clusters if fid else None,
        "curve": [
            {
                "target_pct": p.target_pct,
                "target": p.target,
                "estimated_usd": p.estimated_usd,
                "measured_usd": p.measured_usd,
            }
            for p in (fid.curve if fid else ())
        ],
    }


def render(doc: dict[str, Any]) -> str:
    if doc["against"] == "truth":
        demo = doc["demo"]
        head = (
            f"ESTIMATED levels against the demo's simulated positions (every one: the truth), DEMO seed "
            f"{demo['seed']}, {demo['rate']}, {demo['minutes']:g} min after its backfill"
        )
    else:
        head = f"ESTIMATED levels against the MEASURED positions of tracked accounts in {doc['file']}"
    lines = [head, "", f"{'symbol':<16} {'covered':>9} {'at-risk error':>14} {'near ◆':>7}  measured"]
    for s in doc["symbols"]:
        covered = f"{s['covered_share'] * 100:.2f} %" if s["covered_share"] is not None else "n/a"
        error = f"{s['curve_error'] * 100:.1f} %" if s["curve_error"] is not None else "n/a"
        near = f"{s['near_share'] * 100:.0f} %" if s["near_share"] is not None else "n/a"
        who = f"{s['accounts']} accounts" if s["accounts"] is not None else "all positions"
        lines.append(
            f"{s['symbol']:<16} {covered:>9} {error:>14} {near:>7}  {fmt.usd(s['measured_usd'])} ({who})"
        )
    mean = doc["mean_curve_error"]
    lines += [
        "",
        f"mean at-risk error: {mean * 100:.1f} %" if mean is not None else "mean at-risk error: n/a",
    ]
    lines.append(
        "error: mean |estimate x covered share - measured| at -15..+15 % of price, over the measured USD "
        "at risk in that range (docs/level-model.md)"
    )
    if "fit" in doc:
        lines += ["", _fit_block(doc["fit"])]
    return "\n".join(lines)


def _fit_block(fitted: dict[str, Any]) -> str:
    error = fitted["mean_curve_error"]
    levels = fitted["levels"]
    weights = ", ".join(f'"{k}" = {v:g}' for k, v in levels["leverage_weights"].items())
    said = f"{error * 100:.1f} %" if error is not None else "n/a"
    return "\n".join(
        [
            f"# fitted by liqtui fidelity --fit (mean at-risk error {said}); see docs/level-model.md before using it",
            "[levels]",
            f"leverage_weights = {{ {weights} }}",
            f"long_share = {levels['long_share']:g}",
        ]
    )


def _fail(message: str, code: int) -> int:
    print(f"liqtui fidelity: {message}", file=sys.stderr)
    return code
