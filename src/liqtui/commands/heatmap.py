"""`liqtui heatmap SYMBOL --out FILE.csv|.parquet|.svg`: the ESTIMATED liquidation heatmap, headless.

The matrix the desk's heatmap pane draws at 160 columns (the same time buckets: ``PANE_COLUMNS``):
one row per non-empty cell with columns ``time`` (bucket start, ms), ``price`` (the row's lower
edge), ``side`` (long/short) and ``usd``, for pandas; or the pane itself as an SVG, drawn as the
screenshots are. From a recording (``--from-file``: every event through the engine, as a replay does,
up to the recording's last event) or live (the history each venue backfills, as ``liqtui risk`` reads
it). pandas is imported only for a parquet file, Textual only for an SVG.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

from liqtui.config import Settings
from liqtui.engine.heatmap import RANGES, HeatmapView, bucket_for

PANE_COLUMNS = 151  # the heatmap pane's time columns at 160 terminal columns (less its price axis)
SVG_SIZE = (160, 45)
FORMATS = (".csv", ".parquet", ".svg")


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("symbol", metavar="SYMBOL", help="BTC, BTCUSDT or BTC/USDT:USDT")
    parser.add_argument("--range", choices=tuple(RANGES), default="24h", help="time range (default 24h)")
    parser.add_argument(
        "--venues", nargs="+", metavar="VENUE", help="venues summed (default: every one with data)"
    )
    parser.add_argument("--out", required=True, metavar="FILE", help="FILE.csv, FILE.parquet or FILE.svg")
    parser.add_argument("--from-file", metavar="REC", help="a recording to read instead of backfilling live")
    parser.add_argument("--force", action="store_true", help="replace the output file if it exists")


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    settings = settings or Settings()
    out = Path(args.out).expanduser()
    if out.suffix.lower() not in FORMATS:
        return _fail(f"--out {out}: the file name must end in {', '.join(FORMATS)}", 2)
    if out.exists() and not args.force:
        return _fail(f"--out {out}: already exists; --force replaces it", 2)
    if out.suffix.lower() == ".parquet" and importlib.util.find_spec("pyarrow") is None:
        return _fail("a parquet file needs pyarrow, which this install lacks; write .csv instead", 2)
    try:
        engine, symbol, now_ms, mode = _from_recording(args) if args.from_file else _live(args, settings)
    except ValueError as exc:
        return _fail(str(exc), 2)
    range_ms = RANGES[args.range]
    venues = tuple(args.venues) if args.venues else None
    view = engine.heatmap(symbol, now_ms, range_ms, bucket_for(range_ms, PANE_COLUMNS), venues)
    if view is None or not view.venues:
        return _fail(
            f"no price or levels of {symbol} to draw" + (f" on {', '.join(venues)}" if venues else ""), 1
        )
    try:
        if out.suffix.lower() == ".svg":
            _write_svg(out, engine, settings, symbol, now_ms, mode, args.range, venues)
        else:
            count = write_matrix(view, out)
            print(
                f"wrote {count:,} ESTIMATED cells of {symbol} ({args.range}, {view.bucket_ms // 60_000} min columns) to {out}"
            )
            return 0
    except OSError as exc:
        return _fail(f"cannot write {out}: {exc.strerror or exc}", 1)
    print(f"wrote the ESTIMATED heatmap of {symbol} ({args.range}) to {out}")
    return 0


def rows_of(view: HeatmapView) -> list[tuple[int, float, str, float]]:
    """(time, price, side, usd) of every non-empty cell: what the file holds."""
    return [(t, price, side.value, usd) for t, price, side, usd in view.cells()]


def write_matrix(view: HeatmapView, out: Path) -> int:
    rows = rows_of(view)
    if out.suffix.lower() == ".csv":
        with out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(("time", "price", "side", "usd"))
            writer.writerows((t, repr(p), s, repr(u)) for t, p, s, u in rows)
    else:
        import pandas as pd

        pd.DataFrame(rows, columns=["time", "price", "side", "usd"]).to_parquet(out, index=False)
    return len(rows)


def _from_recording(args: argparse.Namespace) -> tuple[Any, str, int, str]:
    """Every event of the recording through an engine, as a replay reads them; its last event is now."""
    from liqtui.engine import Engine
    from liqtui.storage import StoreError
    from liqtui.storage.reader import describe, read_events

    path = Path(args.from_file).expanduser()
    try:
        info = describe(path)
        symbol = recorded_symbol(args.symbol, info.symbols, path)
        _check_venues(args.venues, info.venues, str(path))
        engine = Engine()
        for event in read_events(path):
            engine.apply(event)
    except StoreError as exc:
        raise ValueError(str(exc)) from None
    if info.end_ms is None:
        raise ValueError(f"{path}: holds no events")
    return engine, symbol, info.end_ms, "DEMO" if info.source_mode == "DEMO" else "REPLAY"


def recorded_symbol(text: str, symbols: tuple[str, ...], path: Path) -> str:
    """The recording's unified symbol for ``BTC``, ``btcusdt`` or ``BTC/USDT:USDT``."""
    from liqtui.feeds.symbols import candidates, closest

    if text in symbols:
        return text
    base, quote = candidates(text)
    matches = [
        s for s in symbols if candidates(s)[0] == base and (quote is None or candidates(s)[1] == quote)
    ]
    if matches:
        return min(matches, key=lambda s: (not s.startswith(f"{base}/USDT"), s))
    near = closest(text, symbols)
    raise ValueError(
        f"{path}: holds no {text}"
        + (f" (closest: {', '.join(near)})" if near else f" (holds: {', '.join(symbols[:8])})")
    )


def _check_venues(asked: list[str] | None, held: tuple[str, ...], where: str) -> None:
    unknown = [v for v in asked or () if v not in held]
    if unknown:
        raise ValueError(
            f"--venues: {where} holds no {unknown[0]} (it holds {', '.join(held) or 'no venue'})"
        )


def _live(args: argparse.Namespace, settings: Settings) -> tuple[Any, str, int, str]:
    """The history each venue backfills (as `liqtui risk` reads it), through an engine."""
    import asyncio

    from liqtui.commands.headless_live import CommandError
    from liqtui.commands.risk_from_venues import _collect

    try:
        rows, unavailable, engine = asyncio.run(_collect(args, settings, 90.0))
    except CommandError as exc:
        raise ValueError(str(exc)) from None
    if not rows:
        raise ValueError(
            "no venue could be read: " + "; ".join(f"{v}: {why}" for v, why in unavailable.items())
        )
    lead = max(rows, key=lambda r: r.volume_24h_usd or 0.0)
    return engine, lead.symbol, int(time.time() * 1000), "LIVE"


class _Still:
    """A source that emits nothing, its clock stopped at ``now``: the desk draws what the engine holds."""

    def __init__(self, mode: str, now_ms: int, symbol: str) -> None:
        self.mode, self._now, self._symbol = mode, now_ms, symbol

    def now_ms(self) -> int:
        return self._now

    async def run(self, emit: Any) -> None:
        import asyncio

        await asyncio.Event().wait()

    def set_focus(self, symbol: str) -> None:
        pass

    def symbols(self) -> list[str]:
        return [self._symbol]


def _write_svg(
    out: Path,
    engine: Any,
    settings: Settings,
    symbol: str,
    now_ms: int,
    mode: str,
    range_name: str,
    venues: tuple[str, ...] | None,
) -> None:
    import asyncio
    import dataclasses

    from liqtui.ui.app import LiqtuiApp
    from liqtui.ui.widgets import HeatmapPane

    settings = dataclasses.replace(settings, watchlist=[symbol])
    app = LiqtuiApp(settings, _Still(mode, now_ms, symbol), engine=engine, layout="heatmap")

    async def shoot() -> str:
        async with app.run_test(size=SVG_SIZE) as pilot:
            await pilot.pause()
            pane = app.screen.query_one(HeatmapPane)
            pane.venues = venues
            pane.range_name = range_name
            app.render_tick()
            await pilot.pause()
            return app.export_screenshot(title=f"liqtui heatmap · {symbol} · {range_name}")

    out.write_text(asyncio.run(shoot()), encoding="utf-8")


def _fail(message: str, code: int) -> int:
    print(f"liqtui heatmap: {message}", file=sys.stderr)
    return code
