"""The machine's own speed, so that figures taken on different days can be compared.

    .venv/bin/python bench/bench_machine.py [--quick]

This 2-core machine has run the same code at about half its usual speed for hours at a time (in CPU
time, not load: bench/README.md, "The machine's speed"). A desk figure from such a day cannot be put
beside one from a usual day. Run this first and quote its lines with any figure: three fixed
workloads that touch nothing of liqtui, each the best of a few runs, in CPU time of the thread
(``time.thread_time``), so a busy neighbour moves them less than wall time:

- a pure-Python loop (the interpreter's own speed);
- objects made and dropped (the allocator and the young collector, as the desk's frames do);
- SQLite rows fetched as tuples (a recording's reading: the warm-up's and a replay's floor).

Not a test: nothing passes or fails here.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import time
from collections.abc import Callable


def loop(n: int) -> None:
    total = 0
    for i in range(n):
        total += i
    if total < 0:  # keeps the loop's result used
        raise AssertionError


def objects(n: int) -> None:
    kept = [(i, float(i), str(i)) for i in range(n)]
    index = {text: number for number, _, text in kept}
    if len(index) != n:
        raise AssertionError


def sqlite_rows(db: sqlite3.Connection) -> Callable[[], None]:
    def fetch() -> None:
        rows = 0
        cursor = db.execute("SELECT seq, time, market, side, price, qty, usd, delay, flags FROM t")
        while chunk := cursor.fetchmany(4096):
            rows += len(chunk)
        if rows == 0:
            raise AssertionError

    return fetch


def table(rows: int) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE TABLE t (seq INTEGER PRIMARY KEY, time INTEGER, market INTEGER, side INTEGER,"
        " price REAL, qty REAL, usd REAL, delay INTEGER, flags INTEGER)"
    )
    db.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (i, 1_700_000_000_000 + i * 3, i % 16, i & 1, 80_000.0 + i % 997, 0.001 * (i % 89 + 1),
             80.0 * (i % 89 + 1), i % 250, 0)
            for i in range(rows)
        ),
    )  # fmt: skip
    return db


def best(work: Callable[[], None], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.thread_time()
        work()
        times.append(time.thread_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs of each (best of 2)")
    args = parser.parse_args()
    runs = 2 if args.quick else 5
    rows = 500_000
    db = table(rows)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} (figures above ~1 move more)")
    for label, work in (
        ("python loop, 10M additions", lambda: loop(10_000_000)),
        ("1M tuples made, indexed, freed", lambda: objects(1_000_000)),
        (f"SQLite, {rows:,} rows of 9 fetched", sqlite_rows(db)),
    ):
        print(f"  {label:<36} {best(work, runs):6.3f} s CPU")


if __name__ == "__main__":
    main()
