"""`liqtui risk --samples` on a large CSV: wall time, CPU time and peak memory of the real command.
Prints figures; never fails on timing.

    .venv/bin/python bench/bench_risk.py                 # 5,000,000 rows (the file is ~170 MB, in a temp dir)
    .venv/bin/python bench/bench_risk.py --quick         # 500,000 rows
    .venv/bin/python bench/bench_risk.py --src OLD/src   # the same run with another checkout's sources

The samples: OI every 15 s, a random-walk price (0.05 % a step) and OI (+-20 coins a step around a
slow rise), columns time, price, open_interest. The command runs in a fresh process per run (its
peak RSS from ``wait4``), with an empty config (the model's defaults: 30-day lookback, no decay),
once without the sensitivity reruns and once with them (``--sensitivity``, 2.75 more model passes).
The generated file is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def write_samples(path: Path, rows: int) -> None:
    rng = np.random.default_rng(7)
    price = 90_000 * np.exp(np.cumsum(rng.normal(0, 0.0005, rows)))
    oi = np.maximum(0, 90_000 + np.cumsum(rng.normal(0.02, 20.0, rows)))
    times = 1_700_000_000_000 + np.arange(rows, dtype=np.int64) * 15_000
    pd.DataFrame({"time": times, "price": price.round(2), "open_interest": oi.round(3)}).to_csv(
        path, index=False
    )


def measure(src: Path, csv: Path, config: Path, *extra: str) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MB, first output line) of one `liqtui risk --samples` run."""
    env = {**os.environ, "PYTHONPATH": str(src), "LIQTUI_CONFIG": str(config)}
    argv = [sys.executable, "-m", "liqtui", "risk", "--samples", str(csv), "--to", "100000", *extra]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    first = out.splitlines()[0] if out else f"(exit {proc.returncode}, no output)"
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, first


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="500,000 rows instead of 5,000,000")
    parser.add_argument("--rows", type=int, help="rows of the generated CSV")
    parser.add_argument(
        "--src", type=Path, default=ROOT / "src", help="the liqtui sources to run (default: this tree)"
    )
    args = parser.parse_args()
    rows = args.rows or (500_000 if args.quick else 5_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        csv, config = Path(tmp) / "samples.csv", Path(tmp) / "config.toml"
        config.write_text("")
        started = time.perf_counter()
        write_samples(csv, rows)
        print(
            f"{rows:,} rows, {csv.stat().st_size / 1e6:.0f} MB, written in {time.perf_counter() - started:.1f} s; sources {args.src}"
        )
        runs = [("default", ())]
        if (
            "--sensitivity"
            in subprocess.run(
                [sys.executable, "-m", "liqtui", "risk", "--help"],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(args.src)},
            ).stdout
        ):
            runs = [("--no-sensitivity", ("--no-sensitivity",)), ("--sensitivity", ("--sensitivity",))]
        for name, extra in runs:
            wall, cpu, rss, first = measure(args.src, csv, config, *extra)
            print(f"  {name:<17} wall {wall:6.1f} s  CPU {cpu:6.1f} s  peak RSS {rss:5.0f} MB  | {first}")


if __name__ == "__main__":
    main()
