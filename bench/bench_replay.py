"""Warm-up and a replay's catch-up from a stress recording: in-process CPU, bulk path against one by one,
and `liqtui replay FILE --from END` as a user launches it (in a tmux pane, measured from outside).

    .venv/bin/python bench/bench_replay.py [--file F.sqlite] [--seconds 60] [--size 160x45] [--no-desk]
        [--no-in-process] [--desk-src OTHER/src]

Without --file it first records `liqtui record --demo --rate stress --seed 7 --duration SECONDS`
(real time: a minute of stress holds ~540,000 events). In process (CPU time of this thread, so it
holds on a loaded machine): reading the events alone; ``warm`` into a fresh Engine through its bulk
path (``Engine.apply_many``) and one event at a time (``apply``); a ReplaySource started at the
recording's end (every event is catch-up) into an Engine, bulk and one by one, and as the desk reads it
(``read_ahead``: a child process reads, this one applies; the child's CPU beside). From outside: the
installed `liqtui` (beside this Python, else on PATH, or --command) replays the file from its end in
a private tmux server; the bench times launch to the header's "warming up N %" (the progress) and
until it is gone (caught up), with the desk's CPU to then. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from bench_desk import find_command
from tmux_pane import Pane

from liqtui.engine import Engine
from liqtui.feeds.event_source import BulkEmit
from liqtui.feeds.replay import ReplaySource
from liqtui.storage import describe, read_events, warm

WARMING = re.compile(r"warming up \d+ %")


class OneByOne:
    """The engine reached only through ``apply``: the path before the bulk one."""

    def __init__(self, engine: Engine) -> None:
        self.apply = engine.apply


def _cpu(fn) -> tuple[float, object]:
    start = time.thread_time()
    out = fn()
    return time.thread_time() - start, out


def record(command: str, seconds: float, out: Path) -> None:
    argv = [command, "record", "--demo", "--rate", "stress", "--seed", "7", "--duration", str(seconds)]
    print(f"recording {seconds:.0f} s of the stress demo to {out} ...", flush=True)
    subprocess.run([*argv, "--out", str(out)], check=True, stdout=subprocess.DEVNULL)


def _read_all(path: Path) -> int:
    return sum(1 for _ in read_events(path))


async def _catch_up(path: Path, emit, read_ahead: bool = False) -> int:
    source = ReplaySource(
        path, speed=0, start_ms=describe(path).end_ms, hold_at_end=False, read_ahead=read_ahead
    )
    await source.run(emit)
    return source.emitted


def _read_ahead(path: Path) -> None:
    """The catch-up as the desk reads it (a child process reads, this one applies): each side's CPU."""
    engine = Engine()
    children, wall = os.times(), time.monotonic()
    cpu, n = _cpu(lambda: asyncio.run(_catch_up(path, BulkEmit(engine.apply, engine.apply_many), True)))
    wall, after = time.monotonic() - wall, os.times()
    child = after.children_user + after.children_system - children.children_user - children.children_system
    print(
        f"replay catch-up, read ahead {n:9,} events  {cpu:6.2f} s CPU here, the child's {child:.2f} s, wall {wall:.2f} s"
    )


def in_process(path: Path) -> None:
    end = describe(path).end_ms
    assert end is not None
    cpu, n = _cpu(lambda: _read_all(path))
    print(f"read alone:                {n:9,} events  {cpu:6.2f} s CPU  {cpu / n * 1e6:5.2f} us/event")
    for label, sink in (("bulk", Engine), ("one by one", lambda: OneByOne(Engine()))):
        cpu, n = _cpu(lambda sink=sink: warm(sink(), path, end, source_mode="DEMO"))
        print(f"warm, {label:<12}        {n:9,} events  {cpu:6.2f} s CPU  {cpu / n * 1e6:5.2f} us/event")
    bulk, single = Engine(), Engine()
    emits: dict[str, object] = {
        "bulk": BulkEmit(bulk.apply, bulk.apply_many),
        "one by one": single.apply,
    }
    for label, emit in emits.items():
        cpu, n = _cpu(lambda emit=emit: asyncio.run(_catch_up(path, emit)))
        print(f"replay catch-up, {label:<10} {n:9,} events  {cpu:6.2f} s CPU  {cpu / n * 1e6:5.2f} us/event")
    _read_ahead(path)


def as_launched(command: str, path: Path, size: str, src: str | None) -> None:
    cols, rows = (int(x) for x in size.split("x"))
    end = describe(path).end_ms
    with tempfile.TemporaryDirectory(prefix="liqtui-bench-") as home:
        env = {
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/config",
            "XDG_DATA_HOME": f"{home}/data",
            "PYTHONPATH": src or os.environ.get("PYTHONPATH", ""),
        }
        argv = [command, "replay", str(path), "--from", str(end)]
        with Pane(argv, cols, rows, env, unset=("LIQTUI_CONFIG",)) as pane:
            shown = pane.wait_for(lambda s: WARMING.search(s) is not None, 30.0, since=pane.launched)
            done = pane.wait_for(
                lambda s: "REPLAY" in s and WARMING.search(s) is None, 120.0, since=pane.launched, poll=0.005
            )
            cpu, rss = pane.usage()
            last = pane.screen().splitlines()[:2]
    said = "never" if shown is None else f"{shown:.2f} s"
    ended = "not within 120 s" if done is None else f"{done:.2f} s"
    print(f"`liqtui replay --from END` {size}: progress on screen after {said}, caught up after {ended};")
    print(f"  the desk's CPU to then {cpu:.2f} s, RSS {rss / 1e6:.0f} MB; header: {' | '.join(last)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a stress recording (default: record one first)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the recording made")
    parser.add_argument("--size", default="160x45")
    parser.add_argument("--command", help="the liqtui executable (default: beside this Python, else on PATH)")
    parser.add_argument("--no-desk", action="store_true", help="in-process figures only")
    parser.add_argument("--no-in-process", action="store_true", help="the desk from outside only")
    parser.add_argument("--desk-src", help="the desk runs these sources (another checkout's src)")
    parser.add_argument("--quick", action="store_true", help="a 15 s recording")
    args = parser.parse_args()
    command = find_command(args.command)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="liqtui-replay-") as tmp:
        path = args.file
        if path is None:
            path = Path(tmp) / "stress-demo.sqlite"
            record(command, 15.0 if args.quick else args.seconds, path)
        info = describe(path)
        print(f"{path}: {sum(info.rows.values()):,} rows ({info.rows.get('liquidations', 0):,} liquidations)")
        if not args.no_in_process:
            in_process(path)
        if not args.no_desk:
            as_launched(command, path, args.size, args.desk_src)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
