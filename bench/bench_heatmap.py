"""The liquidation heatmap (issue 10): drawing, memory and recording size.

- drawing the pane at 160x45 from 30 days of history on 4 venues, per range: the first draw (every
  column summed), a tick where a price moved (the column in progress summed again, lines redrawn)
  and a tick where nothing changed (the engine hands back the same view)        [< 10 ms a tick]
- memory of the heatmap's history: 30 days for 20 symbols x 4 venues (tracemalloc, allocations made
  by engine/heatmap.py: snapshots, price arrays, realized marks, the view caches)
- bytes in the recording per day: one day of closed buckets of 20 symbols x 4 venues written by the
  recorder (the heatmap_buckets table's pages, from SQLite's dbstat when it has it)

Synthetic data as bench_engine.py's worst case: a random-walk price and OI rising at every 5-minute
step, so every step adds levels and every bucket's snapshot differs from the last.

    .venv/bin/python bench/bench_heatmap.py [--quick] [--symbols N]   # --quick: 5 symbols for memory and bytes
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bench_engine import best_of, engine_events, line  # noqa: E402 (bench/ is on the path as the script's dir)
from textual.app import App, ComposeResult  # noqa: E402

from liqtui.domain.events import Ticker  # noqa: E402
from liqtui.engine import Engine  # noqa: E402
from liqtui.engine.heatmap import RANGES, bucket_for  # noqa: E402
from liqtui.storage.recorder import Recorder  # noqa: E402
from liqtui.ui.widgets import THEME_VARIABLES, HeatmapPane  # noqa: E402
from liqtui.ui.widgets.heatmap import AXIS_W  # noqa: E402

SYMBOL = "BTC/USDT:USDT"
SIZE = (160, 45)


def build(symbols: int, *, record_last_ms: int = 0) -> tuple[Engine, int, list]:
    """The engine after 30 days of ``symbols`` x 4 venues; with ``record_last_ms``, the buckets
    closed in that last stretch (what a recording desk writes), else none are kept."""
    events = engine_events(symbols)
    engine, now, buckets = Engine(), events[-1][0], []
    for t, _k, event in events:
        if record_last_ms and t >= now - record_last_ms and not engine.heat.recording:
            engine.take_heatmap_buckets()  # from here on, as a recording desk does
        engine.apply(event)
        buckets.extend(engine.take_heatmap_buckets() if engine.heat.recording else ())
    return engine, now, buckets


class _Desk(App[None]):
    def __init__(self, pane: HeatmapPane) -> None:
        super().__init__()
        self.pane = pane

    def get_theme_variable_defaults(self) -> dict[str, str]:
        from liqtui.ui.theme import APP_VARIABLES

        return {k: APP_VARIABLES[k] for k in THEME_VARIABLES}

    def compose(self) -> ComposeResult:
        yield self.pane


def bench_draw(engine: Engine, now: int, runs: int) -> None:
    pane = HeatmapPane()

    async def measure() -> None:
        async with _Desk(pane).run_test(size=SIZE) as pilot:
            await pilot.pause()
            for name, range_ms in RANGES.items():
                _measure_range(pane, engine, now, name, range_ms, runs)

    line(f"Drawing the heatmap pane at {SIZE[0]}x{SIZE[1]}, 30 days on 4 venues", "best of runs")
    asyncio.run(measure())


def _measure_range(pane: HeatmapPane, engine: Engine, now: int, name: str, range_ms: int, runs: int) -> None:
    size = pane.size
    bucket = bucket_for(range_ms, size.width - AXIS_W)
    tick = [now]

    def draw(view):
        pane._shown = (SYMBOL, view, name, "log", False, None)
        return pane._draw_strips(size)

    def first():
        engine.heat._views.clear()
        pane._kept.clear()
        return draw(engine.heatmap(SYMBOL, now, range_ms, bucket))

    def price_tick():
        tick[0] += 250
        price = 90_000.0 + (tick[0] % 7_000) / 10
        engine.apply(Ticker("bybit", SYMBOL, tick[0], last=price, mark=price))
        return draw(engine.heatmap(SYMBOL, tick[0], range_ms, bucket))

    cold, cold_cpu, _ = best_of(first, runs)
    moved, moved_cpu, _ = best_of(price_tick, runs * 4)
    view = engine.heatmap(SYMBOL, tick[0], range_ms, bucket)
    still, still_cpu, same = best_of(
        lambda: engine.heatmap(SYMBOL, tick[0], range_ms, bucket) is view, runs * 4
    )
    columns = len(view.columns) if view else 0
    line(
        f"  {name}: {columns} columns of {bucket // 60_000} min, first draw",
        f"{cold:.1f} ms ({cold_cpu:.1f} CPU)",
    )
    line(f"  {name}: a tick where the price moved", f"{moved:.2f} ms ({moved_cpu:.2f} CPU)", "[< 10 ms]")
    line(
        f"  {name}: a tick where nothing changed{'' if same else ' (NOT the same view)'}",
        f"{still * 1e3:.0f} us ({still_cpu * 1e3:.0f} CPU)",
    )


def bench_memory(symbols: int) -> tuple[Engine, int]:
    gc.collect()
    tracemalloc.start()
    engine, now, _none = build(symbols)
    for n in range(symbols):
        symbol = SYMBOL if n == 0 else f"S{n}/USDT:USDT"
        engine.heatmap(
            symbol, now, RANGES["30d"], bucket_for(RANGES["30d"], 151)
        )  # a view per symbol, as drawn
    snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "*engine/heatmap.py")])
    tracemalloc.stop()
    used = sum(stat.size for stat in snap.statistics("filename"))
    kept = sum(len(t.snapshots) for tracks in engine.heat._tracks.values() for t in tracks.values())
    line(f"Heatmap history memory, 30 days, {symbols} symbols x 4 venues", f"{used / 1e6:.1f} MB")
    line(
        f"  ({kept:,} snapshots kept, {used / max(kept, 1) / 1e3:.1f} kB each with their share of prices)", ""
    )
    return engine, now


def bench_bytes(symbols: int) -> None:
    _engine, _now, day = build(symbols, record_last_ms=86_400_000)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "heat.sqlite"
        with Recorder(path, background=False) as recorder:
            for b in day:
                recorder.add(b)
            recorder.flush()
        conn = sqlite3.connect(path)
        try:
            size = conn.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name IN ('heatmap_buckets', 'heatmap_buckets_time')"
            ).fetchone()[0]
            how = "table and index pages"
        except sqlite3.OperationalError:  # SQLite built without dbstat
            size = os.path.getsize(path)
            how = "whole file"
        finally:
            conn.close()
    line(
        f"Recording bytes per day, {symbols} symbols x 4 venues ({len(day):,} buckets)",
        f"{size / 1e6:.1f} MB ({how})",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 symbols for memory and bytes, fewer runs")
    parser.add_argument("--symbols", type=int, default=None, help="symbols for memory and bytes (default 20)")
    args = parser.parse_args()
    symbols, runs = (5, 2) if args.quick else (20, 3)
    symbols = args.symbols or symbols
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    started = time.perf_counter()
    engine, now = bench_memory(symbols)
    bench_draw(engine, now, runs)
    del engine
    bench_bytes(symbols)
    print(f"load average at the end: {os.getloadavg()[0]:.2f} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
