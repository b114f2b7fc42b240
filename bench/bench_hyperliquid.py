"""Tracking Hyperliquid accounts (MEASURED positions): prints figures, asserts nothing.

    .venv/bin/python bench/bench_hyperliquid.py [--quick] [--accounts 5000] [--seconds 120] [--budget 600]

1. In process: the tracker holding ``--accounts`` accounts with 3 watched positions each (memory by
   tracemalloc), and the CPU of one look (a ``clearinghouseState`` answer parsed, compared with the
   last one, rescheduled).
2. End to end: ``liqtui positions BTC --duration S`` in a child process against the loopback fake
   Hyperliquid (real ccxt client) holding ``--accounts`` accounts, all listed in an accounts file:
   the fake's weight per minute (the most in any 60 s window) against the budget, accounts read,
   and the child's CPU share and peak RSS. At a 600 budget a full pass over 5,000 accounts takes
   about 25 minutes (2 weight a look, a fifth of the budget left to the market poll and the rest).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from liqtui.feeds.live.hyperliquid_accounts import MarkHistory, Tracker, snapshots_from_state  # noqa: E402
from liqtui.feeds.live.markets import MarketIndex  # noqa: E402

COINS = {"BTC": 95_000.0, "ETH": 3_500.0, "SOL": 150.0}


def _address(i: int) -> str:
    return f"0x{i + 1:040x}"


def _state(rng: random.Random) -> dict:
    rows = []
    for coin, price in COINS.items():
        szi = rng.uniform(0.2, 20) * 95_000 / price * rng.choice((1, -1))
        liq = price * (1 - rng.uniform(0.01, 0.3) * (1 if szi > 0 else -1))
        rows.append(
            {
                "type": "oneWay",
                "position": {
                    "coin": coin,
                    "szi": f"{szi:.4f}",
                    "entryPx": f"{price:.1f}",
                    "positionValue": f"{abs(szi) * price:.2f}",
                    "liquidationPx": f"{liq:.1f}",
                    "leverage": {"type": "cross", "value": rng.choice((5, 10, 20))},
                    "marginUsed": "1.0",
                },
            }
        )
    return {"assetPositions": rows, "time": 1_800_000_000_000}


def in_process(accounts: int) -> None:
    rng = random.Random(5)
    markets = MarketIndex.from_ccxt(
        {
            f"{c}/USDC:USDC": {
                "id": str(i),
                "baseName": c,
                "base": c,
                "symbol": f"{c}/USDC:USDC",
                "swap": True,
            }
            for i, c in enumerate(COINS)
        },
        by_coin=True,
    ).by_id
    watched = {f"{c}/USDC:USDC" for c in COINS}
    marks = MarkHistory()
    for coin, price in COINS.items():
        marks.see(f"{coin}/USDC:USDC", 1_800_000_000_000, price)
    states = [_state(rng) for _ in range(200)]
    tracemalloc.start()
    tracker = Tracker(min_usd=10_000)
    now = 1_800_000_000_000
    for i in range(accounts):
        tracker.add(_address(i), now)
    started = time.process_time()
    for i in range(accounts):
        account = tracker.next_due(now)
        snaps = snapshots_from_state(states[i % len(states)], account.address, markets, now)
        tracker.looked(account, snaps, watched, now, marks)
    per_look = (time.process_time() - started) / accounts * 1e6
    size, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"tracker: {accounts:,} accounts, {tracker.positions():,} positions: {size / 1e6:.1f} MB (tracemalloc)"
    )
    print(f"one look (parse + compare + reschedule): {per_look:.0f} us CPU")


async def end_to_end(accounts: int, seconds: float, budget: float) -> None:
    from fakes import FakeExchange

    fake = FakeExchange("hyperliquid")
    await fake.start()
    rng = random.Random(7)
    addresses = [_address(i) for i in range(accounts)]
    for address in addresses:
        size = rng.uniform(0.2, 20) * rng.choice((1, -1))
        fake.set_position(
            address, "BTC", size, 95_000, 95_000 * (1 - rng.uniform(0.01, 0.3) * (1 if size > 0 else -1))
        )
    with tempfile.TemporaryDirectory() as tmp:
        accounts_file = Path(tmp) / "accounts.txt"
        accounts_file.write_text("\n".join(addresses) + "\n")
        config = Path(tmp) / "c.toml"
        rewrite = ", ".join(f'"{k}" = "{v}"' for k, v in fake.url_rewrite.items())
        disabled = "".join(f"[venues.{v}]\nenabled = false\n" for v in ("binanceusdm", "bybit", "okx"))
        config.write_text(
            f"{disabled}[venues.hyperliquid]\nurl_rewrite = {{ {rewrite} }}\n"
            f'ccxt = {{ "rateLimit" = 1, "timeout_on_exit" = 0 }}\naccounts_file = "{accounts_file}"\n'
            f"weight_budget = {budget}\n"
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "liqtui",
            "positions",
            "BTC",
            "--json",
            "--duration",
            str(seconds),
            "--config",
            str(config),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        out, err = await proc.communicate()
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    await fake.close()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    looks = sum(r.query.get("type") == "clearinghouseState" for r in fake.requests)
    rows = [json.loads(line) for line in out.decode().splitlines()]
    print(f"end to end: liqtui positions over {accounts:,} accounts for {seconds:g} s, budget {budget:g}/min")
    print(f"  weight: at most {fake.max_weight_per_minute()} in any 60 s window (budget {budget:g})")
    print(f"  looks: {looks:,} ({looks / wall * 60:,.0f} a minute), positions printed: {len(rows):,}")
    print(
        f"  child: CPU {cpu:.1f} s over {wall:.1f} s ({cpu / wall * 100:.1f} % of a core), peak RSS {after.ru_maxrss / 1024:.0f} MB"
    )
    print(f"  stderr: {err.decode().strip().splitlines()[-1] if err.strip() else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="30 s end to end")
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--budget", type=float, default=600.0)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    in_process(args.accounts)
    asyncio.run(end_to_end(args.accounts, 30.0 if args.quick else args.seconds, args.budget))


if __name__ == "__main__":
    main()
