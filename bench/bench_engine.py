"""Engine speed and memory on this machine: prints figures, asserts nothing (tests never time things).

    .venv/bin/python bench/bench_engine.py [--quick]

Figures (targets in brackets, as in bench/README.md):
- realized liquidation totals: events/s through RealizedTotals.add and Engine.apply   [>= 200,000/s]
- estimate_levels: 30 days of 5-minute samples (8,640 steps)                          [< 100 ms]
  (and a naive rescan-every-level implementation on a slice of it, for comparison)
- at_risk on 30 days of levels (api DataFrame and Engine)                             [< 1 ms]
- memory of 30 days of levels for 20 symbols x 4 venues (tracemalloc)                  [< 200 MB]
- Engine: backfill of 30 days of OI history for one symbol on 4 venues, and view()    [a few ms]
- Engine memory with 30 days for 20 symbols x 4 venues (levels, swept logs, rows, OI history)
- Engine warm-up: 30 days of history (OI + PriceBar, 3 symbols x 4 venues, in time order as
  ``liqtui.storage.warm`` replays it) through Engine.apply: events/s, at 5-minute and 15-second OI

Synthetic data: a random walk price (0.2 % per 5 minutes) and OI rising ~31 % over the month with
noise ("typical"), or rising at every step ("worst": every step adds levels, the most that survive).
Times are wall-clock, best of several runs; CPU time is printed beside it because the machine is
shared (other processes inflate wall time).
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import pandas as pd  # noqa: E402

from liqtui.api import at_risk, estimate_levels  # noqa: E402
from liqtui.domain.events import Liquidation, OpenInterest, PriceBar, Side, Ticker  # noqa: E402
from liqtui.engine import Engine, LevelBook, LevelModel  # noqa: E402
from liqtui.engine.realized import RealizedTotals  # noqa: E402

STEPS = 8_640  # 30 days of 5-minute samples
T0 = 1_750_000_000_000
STEP_MS = 300_000


def samples(seed: int = 1, *, worst: bool = False, steps: int = STEPS) -> pd.DataFrame:
    rnd = random.Random(seed)
    price, oi, rows = 90_000.0, 93_600.0, []
    for i in range(steps + 1):
        price *= math.exp(rnd.gauss(0.0, 0.002))
        oi *= math.exp(abs(rnd.gauss(3e-5, 1e-4)) if worst else rnd.gauss(3e-5, 5e-4))
        rows.append((T0 + i * STEP_MS, price, oi))
    return pd.DataFrame(rows, columns=["time", "price", "open_interest"])


def best_of(fn, runs: int) -> tuple[float, float, object]:
    """(best wall ms, best CPU ms, last result)."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        gc.collect()
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append((time.perf_counter() - w) * 1e3)
        cpus.append((time.process_time() - c) * 1e3)
    return min(walls), min(cpus), result


def line(name: str, value: str, target: str = "") -> None:
    print(f"{name:<58} {value:>22}  {target}")


def bench_realized(n: int) -> None:
    rnd = random.Random(2)
    venues = ("binanceusdm", "bybit", "okx")
    symbols = [f"S{i}/USDT:USDT" for i in range(20)]
    events = [
        Liquidation(
            rnd.choice(venues),
            rnd.choice(symbols),
            rnd.choice((Side.LONG, Side.SHORT)),
            100.0,
            1.0,
            rnd.expovariate(1 / 20_000),
            T0 + i * 3,
            T0 + i * 3,
        )
        for i in range(n)
    ]

    def totals():
        r = RealizedTotals()
        add = r.add
        for e in events:
            add(e.venue, e.symbol, e.side, e.usd, e.time, e.sampled)

    def engine():
        apply = Engine().apply
        for e in events:
            apply(e)

    wall, cpu, _ = best_of(totals, 3)
    line(
        "realized totals: liquidation events/s (RealizedTotals.add)",
        f"{n / wall * 1e3:,.0f}/s (cpu {n / cpu * 1e3:,.0f}/s)",
        "[>= 200,000/s]",
    )
    wall, cpu, _ = best_of(engine, 3)
    line(
        "  same through Engine.apply (totals + tape)", f"{n / wall * 1e3:,.0f}/s (cpu {n / cpu * 1e3:,.0f}/s)"
    )


def naive_levels(frame: pd.DataFrame) -> float:
    """The naive model: rescan every level at every step (for comparison only)."""
    model = LevelModel.create()
    levels: list[list] = []  # [price, side, usd]
    prices, ois = frame["price"].tolist(), frame["open_interest"].tolist()
    for i in range(1, len(prices)):
        low, high, p = min(prices[i - 1], prices[i]), max(prices[i - 1], prices[i]), prices[i]
        levels = [
            lv for lv in levels if not ((lv[1] == 0 and lv[0] >= low) or (lv[1] == 1 and lv[0] <= high))
        ]
        d = ois[i] - ois[i - 1]
        if d > 0:
            n = d * p / 2
            for t in model.tiers:
                levels.append([p * t.long_factor, 0, n * t.weight])
                levels.append([p * t.short_factor, 1, n * t.weight])
        elif d < 0:
            total = sum(lv[2] for lv in levels)
            keep = max(0.0, 1 - (-d * p) / total) if total else 0.0
            for lv in levels:
                lv[2] *= keep
    return sum(lv[2] for lv in levels)


def bench_levels(runs: int) -> pd.DataFrame:
    for label, worst in (("typical", False), ("worst", True)):
        frame = samples(worst=worst)
        wall, cpu, levels = best_of(lambda frame=frame: estimate_levels(frame), runs)
        line(
            f"estimate_levels, 8,640 steps, {label} ({len(levels):,} levels left)",
            f"{wall:.1f} ms (cpu {cpu:.1f})",
            "[< 100 ms]",
        )
    frame = samples()
    part = frame.iloc[: STEPS // 10 + 1]
    wall, _cpu, _ = best_of(lambda: naive_levels(part), 1)
    line("  naive rescan, first 864 steps only (grows ~quadratically)", f"{wall:.1f} ms")
    levels = estimate_levels(samples(worst=True))
    price = float(frame["price"].iloc[-1])
    for target in (price * 1.05, price * 0.95):
        wall, cpu, usd = best_of(lambda target=target: at_risk(levels, price, target), 50)
        line(
            f"at_risk on {len(levels):,} levels, to {target / price - 1:+.0%}",
            f"{wall:.3f} ms (cpu {cpu:.3f})",
            "[< 1 ms]",
        )
    return levels


def bench_memory(symbols: int, venues: int) -> None:
    frames = [samples(seed, worst=True) for seed in range(symbols * venues)]
    cols = [(f["price"].tolist(), f["open_interest"].tolist()) for f in frames]
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    books = []
    for prices, ois in cols:
        book = LevelBook(LevelModel.create())
        for i in range(1, len(prices)):
            book.step(
                min(prices[i - 1], prices[i]), max(prices[i - 1], prices[i]), prices[i], ois[i] - ois[i - 1]
            )
        books.append(book)
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    count = sum(b.count() for b in books)
    line(
        f"memory, 30 days of levels, {symbols} symbols x {venues} venues (worst)",
        f"{used / 1e6:.1f} MB",
        "[< 200 MB]",
    )
    line(f"  ({count:,} live levels, {used / max(count, 1):.0f} bytes each)", "")


VENUES = ("binanceusdm", "bybit", "okx", "hyperliquid")


def engine_events(symbols: int) -> list[tuple[int, int, object]]:
    """30 days of 5-minute OI samples, each after its ticker, per venue and symbol, in time order."""
    events = []
    for n in range(symbols):
        symbol = "BTC/USDT:USDT" if n == 0 else f"S{n}/USDT:USDT"
        for k, venue in enumerate(VENUES):
            frame = samples(10 + 4 * n + k, worst=True)
            for t, p, oi in frame.itertuples(index=False):
                events.append(
                    (
                        int(t),
                        k,
                        Ticker(
                            venue,
                            symbol,
                            int(t),
                            last=p,
                            mark=p,
                            volume_24h_usd=1e9 * (k + 1),
                            funding_rate=1e-4,
                        ),
                    )
                )
                events.append((int(t), k, OpenInterest(venue, symbol, oi, oi * p, int(t))))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def bench_engine_memory(symbols: int) -> None:
    events = engine_events(symbols)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    engine = Engine()
    for _t, _k, event in events:
        engine.apply(event)
    for n in range(symbols):  # a view per symbol: rows tracked at the auto grid, as on the desk
        symbol = "BTC/USDT:USDT" if n == 0 else f"S{n}/USDT:USDT"
        engine.track_rows(symbol)
        engine.view(symbol, events[-1][0])
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    line(f"Engine memory, 30 days, {symbols} symbols x 4 venues (levels, OI, logs)", f"{used / 1e6:.1f} MB")


def bench_engine_view() -> None:
    symbol = "BTC/USDT:USDT"
    events = engine_events(1)
    engine = Engine()
    w, c = time.perf_counter(), time.process_time()
    for _t, _k, event in events:
        engine.apply(event)
    wall, cpu = (time.perf_counter() - w) * 1e3, (time.process_time() - c) * 1e3
    n_oi = len(events) // 2
    line("Engine backfill: 30 days x 4 venues (OI + ticker events)", f"{wall:.0f} ms (cpu {cpu:.0f})")
    line(f"  per OI sample and its ticker, {n_oi:,} samples", f"{cpu / n_oi * 1e3:.1f} us")
    now = events[-1][0]
    engine.track_rows(symbol)  # as the desk does before its views
    engine.view(symbol, now)
    wall, cpu, view = best_of(lambda: engine.view(symbol, now), 20)
    line(
        f"Engine.view, 4 venues, {len(view.levels.rows):,} level rows (cached rows)",
        f"{wall:.2f} ms (cpu {cpu:.2f})",
        "[a few ms]",
    )
    price = view.market.last

    def after_a_step():
        engine.apply(OpenInterest("bybit", symbol, 1e9, 1e9 * price, now + 1 + after_a_step.n))
        after_a_step.n += 1
        return engine.view(symbol, now)

    after_a_step.n = 0
    wall, cpu, _ = best_of(after_a_step, 10)
    line("Engine.view right after a level step (rows rebuilt)", f"{wall:.2f} ms (cpu {cpu:.2f})")
    wall, cpu, _ = best_of(lambda: engine.at_risk(symbol, price, price * 1.05), 50)
    line("Engine.at_risk, 4 venues, to +5 %", f"{wall:.3f} ms (cpu {cpu:.3f})")


def warm_events(days: float, oi_every_ms: int, bar_every_ms: int) -> list:
    """History as a desk restart replays it: OI samples and price bars of 3 symbols x 4 venues, by time."""
    rnd = random.Random(5)
    markets = [(v, s) for v in VENUES for s in ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")]
    oi = dict.fromkeys(markets, 10_000.0)
    price = dict.fromkeys(markets, 100.0)
    sigma = 0.002 * math.sqrt(oi_every_ms / STEP_MS)
    events = []
    for t in range(T0, T0 + int(days * 86_400_000), oi_every_ms):
        for venue, symbol in markets:
            m = (venue, symbol)
            oi[m] *= math.exp(rnd.gauss(3e-5 * oi_every_ms / STEP_MS, sigma))
            price[m] *= math.exp(rnd.gauss(0.0, sigma))
            p = price[m]
            if (t - T0) % bar_every_ms == 0:
                events.append(PriceBar(venue, symbol, t, p, p * 1.001, p * 0.999, p))
            events.append(OpenInterest(venue, symbol, oi[m], oi[m] * p, t))
    return events


def bench_warm(days: float, runs: int) -> None:
    for label, oi_every, bar_every in (
        ("5-min OI + bars", STEP_MS, STEP_MS),
        ("15-s OI + 1-min bars", 15_000, 60_000),
    ):
        events = warm_events(days, oi_every, bar_every)

        def warm(events=events):  # bound now, not looked up through the loop variable
            apply = Engine().apply
            for e in events:
                apply(e)

        wall, cpu, _ = best_of(warm, runs)
        n = len(events)
        line(
            f"Engine warm-up, {days:g} d x 12 markets, {label}",
            f"{n / wall * 1e3:,.0f} ev/s (cpu {n / cpu * 1e3:,.0f}/s)",
        )
        line(f"  {n:,} events", f"{wall / 1e3:.2f} s (cpu {cpu / 1e3:.2f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and a smaller memory case")
    args = parser.parse_args()
    print(f"liqtui engine bench (python {sys.version.split()[0]})")
    bench_realized(200_000 if args.quick else 1_000_000)
    bench_levels(3 if args.quick else 7)
    bench_memory(5 if args.quick else 20, 4)
    bench_engine_view()
    bench_engine_memory(2 if args.quick else 20)
    bench_warm(3 if args.quick else 30, 1 if args.quick else 2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
