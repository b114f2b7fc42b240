"""The live desk's bulk path at stress, apart from the screen: prints figures, asserts nothing.

    PYTHONPATH=src .venv/bin/python bench/bench_live_path.py [--seconds 45] [--repeats 2]
    PYTHONPATH=src .venv/bin/python bench/bench_live_path.py --desk [--seconds 25]

The stress demo (seed 7, no backfill) for ``--seconds`` simulated seconds, handed out as the desk
does (each tick's liquidations in chunks of 250, other events one by one) to the engine
(``Engine.apply_liquidations``) and the default alert rules (``AlertEvaluator.see_liquidations``);
prints the CPU of each per liquidation over the last third (the rules' windows full, the burst
rule triggering), the best of ``--repeats`` passes over the same events, and the alerts said (the
same for two builds of the same rules). Run it from each tree (PYTHONPATH=src) to compare builds:
it times the CPU of its thread, so it holds while other programs load the machine.

With ``--desk``, as the desk runs it: the demo with its 25 h history applied first (the engine's
sweeps, the realized sums' and heatmap's buckets, the tape's tiers all full), then its ticks handed
out in chunks of 250 events (``feeds/demo/source.py``), each chunk's runs to the engine and the rules,
the collector as the desk sets it (the history frozen, the youngest generation at 10,000); one pass,
timed after 10 simulated seconds: the engine's, the rules' and the demo's ticks' CPU per liquidation.
The demo's code is the same in two builds, so its figure is the yardstick of the machine's speed in
that run (it moves by up to 1.5x between runs of minutes here): compare the engine's and the rules'
figures as shares of it.
"""

from __future__ import annotations

import argparse
import gc
import time

from liqtui.config import Settings
from liqtui.domain.events import Event
from liqtui.engine.alerts import AlertEvaluator
from liqtui.engine.engine import Engine, liquidation_runs
from liqtui.feeds.demo import DemoMarket

CHUNK = 250  # the demo source's chunk (feeds/demo/source.py)


def one_pass(events: list[Event], timed_from: int) -> tuple[float, float, int, int]:
    """CPU seconds of the engine and of the rules over the liquidations from ``timed_from``, how many
    liquidations that is, and the alerts said."""
    engine = Engine()
    alerts = AlertEvaluator(Settings().alerts.active_rules(), engine, 0)
    cpu_engine = cpu_rules = 0.0
    timed = said = 0
    for item in liquidation_runs(events):
        if not isinstance(item, list):
            engine.apply(item)
            said += len(alerts.see(item))
            continue
        for k in range(0, len(item), CHUNK):
            chunk = item[k : k + CHUNK]
            c0 = time.thread_time()
            engine.apply_liquidations(chunk)
            c1 = time.thread_time()
            said += len(alerts.see_liquidations(chunk))
            c2 = time.thread_time()
            if chunk[0].time >= timed_from:
                cpu_engine, cpu_rules, timed = cpu_engine + c1 - c0, cpu_rules + c2 - c1, timed + len(chunk)
    return cpu_engine, cpu_rules, timed, said + len(alerts.flush())


def desk_pass(seconds: int) -> None:
    """``--desk``: the desk's way through the live path (see the module docstring)."""
    settings = Settings()
    market = DemoMarket(settings, seed=7, rate="stress", log_size=0)
    engine = Engine(settings.levels)  # as the desk's (ui/app.py, default_engine)
    alerts = AlertEvaluator(settings.alerts.active_rules(), engine, 0)
    engine.apply_many(market.start_events())
    gc.freeze()
    gc.set_threshold(10_000, *gc.get_threshold()[1:])  # as the desk once its history is in (ui/app.py)
    cpu_demo = cpu_engine = cpu_rules = 0.0
    timed = 0
    for tick in range(seconds * 10):
        c0 = time.thread_time()
        events = market.step(100)
        c1 = time.thread_time()
        on = tick >= 100  # after 10 simulated seconds
        cpu_demo += (c1 - c0) if on else 0.0
        for k in range(0, len(events), CHUNK):
            for item in liquidation_runs(events[k : k + CHUNK]):
                if not isinstance(item, list):
                    engine.apply(item)
                    alerts.see(item)
                    continue
                c0 = time.thread_time()
                engine.apply_liquidations(item)
                c1 = time.thread_time()
                alerts.see_liquidations(item)
                c2 = time.thread_time()
                if on:
                    cpu_engine, cpu_rules, timed = (
                        cpu_engine + c1 - c0,
                        cpu_rules + c2 - c1,
                        timed + len(item),
                    )
    per = 1e6 / timed
    print(
        f"{timed:,} liquidations timed ({timed / (seconds - 10):,.0f} a second): engine {cpu_engine * per:.2f} us, "
        f"alert rules {cpu_rules * per:.2f} us, the demo's ticks {cpu_demo * per:.2f} us CPU each"
    )
    print(
        f"as shares of the demo's ticks: engine {cpu_engine / cpu_demo:.3f}, rules {cpu_rules / cpu_demo:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=None, help="simulated seconds (45; --desk 25)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--desk", action="store_true", help="as the desk: history first, chunks of 250 events"
    )
    args = parser.parse_args()
    if args.desk:
        desk_pass(args.seconds or 25)
        return
    args.seconds = args.seconds or 45
    market = DemoMarket(Settings(), seed=7, rate="stress", backfill_hours=0, log_size=0)
    events: list[Event] = []
    for _ in range(args.seconds * 10):
        events += market.step(100)
    start, end = events[0].time, events[-1].time
    passes = [one_pass(events, end - (end - start) // 3) for _ in range(args.repeats)]
    timed, said = passes[0][2], passes[0][3]
    engine_us = min(p[0] for p in passes) / timed * 1e6
    rules_us = min(p[1] for p in passes) / timed * 1e6
    print(f"{timed:,} liquidations timed: engine {engine_us:.2f} us, alert rules {rules_us:.2f} us CPU each")
    print(f"alerts said (with updates): {said}")


if __name__ == "__main__":
    main()
