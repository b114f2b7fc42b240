"""`liqtui risk`: ESTIMATED liquidations at risk between the price and a target price.

Forms: ``liqtui risk SYMBOL --to PRICE [--venues ...] [--json]`` backfills SYMBOL live on every
venue that lists it and prints the estimate per venue and in total (``_risk_live.py``).
``liqtui risk --samples FILE.csv --to PRICE [--json]`` runs the OI samples of a CSV
(columns time, price, open_interest, optional high, low; see ``liqtui.api``) through the level model
and prints, for the CSV's last price, the shorts at risk up to a higher target or the longs down to a
lower one. A live form (``liqtui risk SYMBOL --to PRICE``) can be added beside ``run_samples``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from liqtui.config import Settings


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("symbol", nargs="?", metavar="SYMBOL", help="estimate live for this symbol (BTC, BTCUSDT, BTC/USDT:USDT)")
    parser.add_argument("--venues", nargs="+", metavar="VENUE", help="venues for the live form (default: the enabled ones)")
    parser.add_argument(
        "--samples", metavar="FILE.csv",
        help="OI samples: columns time (ms), price, open_interest (base coin), optional high, low",
    )
    parser.add_argument("--to", dest="target", metavar="PRICE", required=True, help="the target price")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    if getattr(args, "samples", None):
        return run_samples(args, settings)
    if getattr(args, "symbol", None):
        from liqtui.commands._risk_live import run_live

        target = _parse_price(args.target)
        if target is None:
            return _fail(f"--to: expected a positive price, got {args.target!r}")
        return run_live(args, settings or Settings(), target)
    return _fail("give a SYMBOL to estimate live, or the samples to estimate from: --samples FILE.csv")


def run_samples(args: argparse.Namespace, settings: Settings | None) -> int:
    import pandas as pd

    from liqtui.api import SamplesError, build_book

    target = _parse_price(args.target)
    if target is None:
        return _fail(f"--to: expected a positive price, got {args.target!r}")
    try:
        samples = pd.read_csv(args.samples)
    except FileNotFoundError:
        return _fail(f"{args.samples}: file not found")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        return _fail(f"{args.samples}: not a readable CSV: {_first_line(exc)}")
    levels = (settings or Settings()).levels
    try:
        book = build_book(
            samples,
            leverage_weights=levels.leverage_weights,
            mmr=levels.maintenance_margin,
            long_share=levels.long_share,
        )
    except SamplesError as exc:
        return _fail(f"{args.samples}: {exc}")
    except ValueError as exc:  # the model's parameters from the config file
        return _fail(f"level model ({(settings or Settings()).source}): {exc}")
    price = float(samples["price"].iloc[-1])
    usd = book.at_risk(price, target)
    side = "short" if target > price else "long" if target < price else "none"
    if args.json:
        print(json.dumps({
            "price": price, "target": target, "side": side, "usd": usd,
            "estimated": True, "samples": str(args.samples), "steps": len(samples) - 1,
        }))
    else:
        print(_describe(price, target, side, usd, len(samples) - 1))
    return 0


def _describe(price: float, target: float, side: str, usd: float, steps: int) -> str:
    if side == "none":
        return f"ESTIMATED: the target equals the last price {price:,.2f}; nothing lies between them."
    direction = "up" if side == "short" else "down"
    return (
        f"ESTIMATED {side}s at risk from {price:,.2f} {direction} to {target:,.2f}: "
        f"${usd:,.0f} ({_short_usd(usd)}), OI-delta model over {steps} steps"
    )


def _short_usd(usd: float) -> str:
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(usd) >= size:
            return f"${usd / size:.1f}{unit}"
    return f"${usd:.0f}"


def _parse_price(text: str) -> float | None:
    try:
        value = float(str(text).replace(",", "").replace("_", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _fail(message: str) -> int:
    print(f"liqtui risk: {message}", file=sys.stderr)
    return 2
