"""The live desk's warm-up from a stress recording, as a user launches it: `liqtui live` in a tmux pane.

    .venv/bin/python bench/bench_warmup.py [--file F.sqlite] [--seconds 60] [--size 160x45] [--runs 2]
        [--desk-src OTHER/src [OTHER/src ...]] [--command liqtui]

Without --file it first records `liqtui record --demo --rate stress --seed 7 --duration SECONDS` (real
time; its events are then within the warm-up's bounds, ``storage.reader.WARM_SPANS_MS``, for a day).
Before each launch the recording is copied (SQLite's backup) to where the live desk records
(``$XDG_DATA_HOME/liqtui/liqtui.sqlite``, a fresh temporary home with an empty config, the user's files
untouched), stamped LIVE in the copy (the live desk warms only from live data; the demo's events
stand in for a live session's) and its times moved by whole hours to end within the hour before the
launch (the demo's clock starts at a fixed time; the hour keeps its bars and heatmap buckets aligned).
The desk's recorder then writes to that copy. No network is needed: the
venues show as down. The bench times launch -> the header's "building history N %" -> gone (the
history in), with the CPU of the desk and any process it started (a reading child) to then.
With several ``--desk-src`` the launches alternate between them (an A/B at the same minutes).
Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from bench_desk import find_command
from tmux_pane import CLOCK_TICKS, Pane

from liqtui.storage import blocks

BUILDING = re.compile(r"building history \d+ %")
HOUR_MS = 3_600_000
# The columns holding a time (ms epoch), per table: moved alike.
TIMES = {
    "liquidations": ("time",),
    "open_interest": ("time",),
    "tickers": ("time", "next_funding_time"),
    "price_bars": ("time",),
    "books": ("time",),
    "feed_status": ("time", "since", "last_message"),
    "heatmap_buckets": ("time", "bucket"),
    "positions": ("time",),
    "alerts": ("time", "first_time"),
}


def record(command: str, seconds: float, out: Path) -> None:
    argv = [command, "record", "--demo", "--rate", "stress", "--seed", "7", "--duration", f"{seconds:g}"]
    print(f"recording {seconds:.0f} s of the stress demo to {out} ...", flush=True)
    subprocess.run([*argv, "--out", str(out)], check=True, stdout=subprocess.DEVNULL)


def place(recording: Path, home: Path) -> Path:
    """The recording copied to where the live desk records, stamped LIVE; the config left empty."""
    (home / "config" / "liqtui").mkdir(parents=True)
    (home / "config" / "liqtui" / "config.toml").write_text("")
    target = home / "data" / "liqtui" / "liqtui.sqlite"
    target.parent.mkdir(parents=True)
    source, copy = sqlite3.connect(f"file:{recording}?mode=ro", uri=True), sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("UPDATE meta SET value = 'LIVE' WHERE key = 'source_mode'")
        end = max(copy.execute(f"SELECT max(time) FROM {table}").fetchone()[0] or 0 for table in TIMES)
        shift = (int(time.time() * 1000) - end) // HOUR_MS * HOUR_MS
        moved = _moved_blocks(copy, shift)
        for table, columns in TIMES.items():
            copy.execute(f"UPDATE {table} SET " + ", ".join(f"{c} = {c} + {shift}" for c in columns))
        for part in moved:  # the update's trigger deleted every block of a row it changed
            blocks.insert(copy, [part])
        copy.commit()
    finally:
        source.close()
        copy.close()
    return target


def _moved_blocks(conn: sqlite3.Connection, shift: int) -> list:
    """The file's packed blocks of liquidations (storage/blocks.py), their times moved by ``shift``."""
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if blocks.TABLE not in tables:
        return []
    moved = []
    for block in conn.execute(
        f"SELECT first_seq, last_seq, first_time, last_time, n, crc, data FROM {blocks.TABLE}"
    ):
        table = blocks.decode(block)
        if table is not None:
            moved.append(blocks.part_of({**table, "time": table["time"] + shift}))
    return moved


def own_cpu(pid: int) -> float:
    """CPU seconds of the process itself (not of its children: a reading child)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def launch(command: str, recording: Path, size: str, src: str | None) -> dict[str, float | None]:
    cols, rows = (int(x) for x in size.split("x"))
    with tempfile.TemporaryDirectory(prefix="liqtui-warmup-") as tmp:
        home = Path(tmp)
        place(recording, home)
        env = {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "PYTHONPATH": src or os.environ.get("PYTHONPATH", ""),
        }
        load = os.getloadavg()[0]
        with Pane([command, "live"], cols, rows, env, unset=("LIQTUI_CONFIG",)) as pane:
            shown = pane.wait_for(lambda s: BUILDING.search(s) is not None, 30.0, since=pane.launched)
            done = pane.wait_for(
                lambda s: " LIVE " in s and BUILDING.search(s) is None, 120.0, since=pane.launched, poll=0.005
            )
            cpu, rss = pane.usage()
            desk = own_cpu(pane.pid)
    return {
        "shown": shown,
        "done": done,
        "cpu": cpu,
        "desk": desk,
        "child": cpu - desk,
        "rss": rss / 1e6,
        "load": load,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a stress recording (default: record one first)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the recording made")
    parser.add_argument("--size", default="160x45")
    parser.add_argument("--runs", type=int, default=2, help="launches per --desk-src (alternated)")
    parser.add_argument("--command", help="the liqtui executable (default: beside this Python, else on PATH)")
    parser.add_argument(
        "--desk-src", nargs="+", default=[None], help="the desk runs these sources, alternately"
    )
    args = parser.parse_args()
    command = find_command(args.command)
    with tempfile.TemporaryDirectory(prefix="liqtui-warmup-rec-") as tmp:
        path = args.file
        if path is None:
            path = Path(tmp) / "stress-demo.sqlite"
            record(command, args.seconds, path)
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            count = conn.execute("SELECT count(*) FROM liquidations").fetchone()[0]
        print(f"{path}: {count:,} liquidations; `liqtui live` at {args.size}")
        for run in range(args.runs):
            for src in args.desk_src:
                got = launch(command, path, args.size, src)
                said = "never" if got["shown"] is None else f"{got['shown']:.2f} s"
                ended = "not within 120 s" if got["done"] is None else f"{got['done']:.2f} s"
                print(
                    f"run {run + 1} {src or 'PYTHONPATH'}: load {got['load']:.2f}, building history on screen "
                    f"after {said}, gone after {ended}; CPU {got['cpu']:.2f} s (the desk's {got['desk']:.2f}, "
                    f"its child's {got['child']:.2f}), RSS {got['rss']:.0f} MB",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
