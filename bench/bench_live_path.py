"""The live desk's bulk path at stress, apart from the screen: prints figures, asserts nothing.

    PYTHONPATH=src .venv/bin/python bench/bench_live_path.py [--seconds 45] [--repeats 2]

The stress demo (seed 7, no backfill) for ``--seconds`` simulated seconds, handed out as the desk
does (each tick's liquidations in chunks of 250, other events one by one) to the engine
(``Engine.apply_liquidations``) and the default alert rules (``AlertEvaluator.see_liquidations``);
prints the CPU of each per liquidation over the last third (the rules' windows full, the burst
rule triggering), the best of ``--repeats`` passes over the same events, and the alerts said (the
same for two builds of the same rules). Run it from each tree (PYTHONPATH=src) to compare builds:
it times the CPU of its thread, so it holds while other programs load the machine.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=45)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
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
