"""The alert stream at the demo's rates: prints figures, asserts nothing (tests never time things).

    .venv/bin/python bench/bench_alerts.py [--quick] [--rate stress] [--minutes M]

Runs the default rules of `liqtui config init` (and a set tuned low so every kind fires on the demo)
over the demo market (seed 5) for M simulated minutes after its backfill, as `liqtui alerts --demo`
does, and prints per rule set: alerts and updates per simulated minute, the largest number said in
any one minute, liquidations per simulated second, and the CPU the rules cost per event (the
engine's own work measured apart, on the same events).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from liqtui.config import Settings, settings_from_dict  # noqa: E402
from liqtui.domain.events import Liquidation  # noqa: E402
from liqtui.engine import Engine  # noqa: E402
from liqtui.engine.alerts import AlertEvaluator  # noqa: E402
from liqtui.feeds.demo import DemoMarket  # noqa: E402

LOW = {
    "alerts": {
        "rules": [
            {"kind": "liquidation", "min_usd": 150_000},
            {"kind": "burst", "min_usd": 1_000_000},
            {"kind": "cascade", "window": 10},
            {"kind": "cluster_near", "min_usd": 5e6, "pct": 0.3},
            {"kind": "cluster_swept", "min_usd": 1e6},
            {"kind": "oi_change", "pct": 0.5, "scope": "total"},
            {"kind": "funding", "rate": 0.03},
        ]
    }
}


def run(rate: str, minutes: float, settings: Settings) -> dict:
    market = DemoMarket(settings, seed=5, rate=rate, backfill_hours=1, log_size=0)
    events = list(market.start_events())
    since = market.now_ms
    events += market.advance_to(since + int(minutes * 60_000))
    engine = Engine(settings.levels)
    alerts = AlertEvaluator(settings.alerts.active_rules(), engine, since_ms=since)
    fired = []
    cpu_engine = cpu_rules = 0.0
    for event in events:
        c0 = time.process_time()
        engine.apply(event)
        c1 = time.process_time()
        fired += alerts.see(event)
        cpu_engine += c1 - c0
        cpu_rules += time.process_time() - c1
    fired += alerts.flush()
    per_minute = Counter((a.at - since) // 60_000 for a in fired)
    live = [e for e in events if getattr(e, "time", 0) >= since]
    return {
        "alerts": sum(not a.update for a in fired),
        "updates": sum(a.update for a in fired),
        "busiest_minute": max(per_minute.values(), default=0),
        "liquidations_per_s": sum(type(e) is Liquidation for e in live) / (minutes * 60),
        "events": len(events),
        "us_rules": cpu_rules / len(events) * 1e6,
        "us_engine": cpu_engine / len(events) * 1e6,
        "kinds": Counter(a.kind for a in fired if not a.update),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rate", default="stress", choices=("calm", "busy", "stress"))
    parser.add_argument("--minutes", type=float, default=None)
    args = parser.parse_args()
    minutes = args.minutes or (1.0 if args.quick else 5.0)
    for label, settings in (("default rules", Settings()), ("low thresholds", settings_from_dict(LOW))):
        r = run(args.rate, minutes, settings)
        print(
            f"{args.rate}, {minutes:g} simulated min, {label}: {r['liquidations_per_s']:,.0f} liquidations/s; "
            f"{r['alerts']} alerts + {r['updates']} updates ({(r['alerts'] + r['updates']) / minutes:.1f} a minute, "
            f"busiest minute {r['busiest_minute']}); rules {r['us_rules']:.1f} us/event CPU "
            f"(engine {r['us_engine']:.1f}); {dict(r['kinds'])}"
        )


if __name__ == "__main__":
    main()
