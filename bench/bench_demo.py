"""Demo market speed and output at each rate: prints figures, asserts nothing (tests never time things).

    .venv/bin/python bench/bench_demo.py [--quick] [--seeds N]

Per rate (calm, busy, stress), on the default settings (4 venues; BTC, ETH, SOL + XRP):
- start-up: building the market with its 25 h backfill (wall and CPU seconds, backfill events);
- speed: simulated seconds per wall second, and the share of one core the generator needs to run
  in real time (CPU seconds per simulated second) [target: well below one core at stress];
- output: events per simulated second by kind, and liquidations on the tapes per simulated second
  (mean, and min / median / max over the seconds) [targets: calm a few per minute, busy tens per
  second, stress >= 2,000 every second], per venue; forced orders executed (seen or not).

With ``--seeds N`` the stress figures are repeated over N seeds (the tests pin one seed).
Times are best-effort on a shared 2-core machine: CPU time is printed beside wall time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from liqtui.domain.events import Liquidation  # noqa: E402
from liqtui.feeds.demo import DemoMarket  # noqa: E402

SIMULATED_S = {"calm": 1_800, "busy": 600, "stress": 60}
QUICK_S = {"calm": 300, "busy": 120, "stress": 15}


def run_rate(rate: str, seconds: int, seed: int) -> dict:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    market = DemoMarket(seed=seed, rate=rate, log_size=0)
    backfill = market.start_events()
    wall1, cpu1 = time.perf_counter(), time.process_time()
    kinds: Counter[str] = Counter()
    venues: Counter[str] = Counter()
    per_second: Counter[int] = Counter()
    start_s = market.now_ms // 1000
    forced = 0
    wall_sim = cpu_sim = 0.0
    for _ in range(seconds):
        w, c = time.perf_counter(), time.process_time()
        events = market.step(1_000)
        wall_sim += time.perf_counter() - w
        cpu_sim += time.process_time() - c
        for event in events:
            kinds[type(event).__name__] += 1
            if type(event) is Liquidation:
                venues[event.venue] += 1
                per_second[event.time // 1000] += 1
        forced += market.forced_orders
        market.forced_orders = 0
    counts = [per_second.get(start_s + i, 0) for i in range(seconds)]
    return {
        "startup_wall": wall1 - wall0,
        "startup_cpu": cpu1 - cpu0,
        "backfill_events": len(backfill),
        "wall": wall_sim,
        "cpu": cpu_sim,
        "kinds": kinds,
        "venues": venues,
        "counts": counts,
        "forced": forced,
        "seconds": seconds,
    }


def report(rate: str, r: dict) -> None:
    s = r["seconds"]
    events = sum(r["kinds"].values())
    counts = r["counts"]
    liq = sum(counts)
    print(f"-- {rate}: {s} simulated s")
    print(
        f"   start-up (25 h backfill): {r['startup_wall']:.2f} s wall, {r['startup_cpu']:.2f} s CPU, {r['backfill_events']:,} events"
    )
    print(
        f"   speed: {s / r['wall']:,.0f} simulated s per wall s; real time needs {r['cpu'] / s:.1%} of a core (CPU)"
    )
    print(
        f"   events: {events / s:,.1f}/simulated s, {events / r['wall']:,.0f}/wall s; "
        + ", ".join(f"{k} {v / s:,.1f}/s" for k, v in sorted(r["kinds"].items()))
    )
    print(
        f"   liquidations on the tapes: {liq / s:,.2f}/s ({liq / s * 60:,.1f}/min); per second min {min(counts):,}"
        f" median {statistics.median(counts):,.0f} max {max(counts):,}"
    )
    print(
        "   per venue: "
        + ", ".join(f"{v} {n / s:,.2f}/s" for v, n in sorted(r["venues"].items()))
        + "; hyperliquid: no public feed"
    )
    print(f"   forced orders executed (all venues, seen or not): {r['forced'] / s:,.1f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--seeds", type=int, default=1, help="repeat the stress run over this many seeds")
    args = parser.parse_args()
    durations = QUICK_S if args.quick else SIMULATED_S
    for rate in ("calm", "busy", "stress"):
        report(rate, run_rate(rate, durations[rate], seed=0))
    if args.seeds > 1:
        print(f"-- stress over seeds 0..{args.seeds - 1}: liquidations per simulated second")
        for seed in range(args.seeds):
            counts = run_rate("stress", durations["stress"], seed)["counts"]
            print(
                f"   seed {seed}: min {min(counts):,} median {statistics.median(counts):,.0f} mean {sum(counts) / len(counts):,.0f}"
            )


if __name__ == "__main__":
    main()
