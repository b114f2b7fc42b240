"""The desk as a user launches it: the installed `liqtui demo` in a real terminal, measured from outside.

    .venv/bin/python bench/bench_desk.py --rate busy --size 160x45
    .venv/bin/python bench/bench_desk.py                  # busy and stress, at 160x45 and at 80x24
    .venv/bin/python bench/bench_desk.py --quick          # 15 s windows, 8 presses per key
    .venv/bin/python bench/bench_desk.py --layout heatmap # one layout (default: by the terminal's width)

Start-up: `liqtui --version` and `liqtui --help`, wall time and peak RSS (best and median of 10 runs).

Then for each size and rate it launches `liqtui demo --rate RATE --seed 7` in a private tmux server
(``tmux_pane.py``; an empty config: fresh XDG dirs) and measures
- first frame: launch to the header's DEMO badge on tmux's screen (the desk is up, its history may
  still be building: "building history N %"); first paint: launch to the ladder's price row
  (``▶82,800◀``; with ``--layout heatmap`` the heatmap's legend ``top $``), i.e. data on screen;
- event-loop stalls, from a probe inside the desk (``probe/sitecustomize.py``, put on PYTHONPATH with
  LIQTUI_BENCH_PROBE; it only observes): how late a 20 ms sleep wakes, over the steady window and
  over the keys, p99, max and how many wake-ups were over 50 ms late;
- over a steady window after a 5 s warm-up: CPU % of one core (/proc/PID/stat), bytes per second
  written to the terminal (tmux pipe-pane into a file), RSS at the window's start and end;
- key to screen, with real keys, each press timed from send-keys until its change is on tmux's
  screen (polled every ~1 ms): `]` (the header names another symbol), `w` (the totals pane's title
  names the next window; where the layout has no totals pane, the flash line over the footer), `g` (the
  target prompt opens), a price typed (the prompt's input reads it), then Enter (the at-risk pane reads
  "at risk to" that price: only where the pane is on screen), `/` (the symbol picker opens), a symbol
  typed (the picker's input reads it and its list starts with it), then Enter (the header names it), and
  with the heatmap on screen `r` (its title names the next range). The typed text goes as one burst of
  keys, as a paste would; Enter is pressed once it is on screen, as a trader who reads what they typed;
  p50 / p95 / max over the presses, and how many never showed within 3 s.

With --launches N it only launches the desk N times per size and rate (first frame and first paint,
each launch and the median): a start-up change compared back to back with another tree.

Uses the `liqtui` beside this Python (a venv's), else the one on PATH, or --command. To measure a
working tree other than the one installed: PYTHONPATH=src (passed on to the desk). Before measuring it
compiles liqtui's bytecode, as `pip install` does and as any second launch finds it: where
PYTHONDONTWRITEBYTECODE is set (this machine's shells) an editable install otherwise compiles every
module of liqtui at every launch, 80-100 ms of each first frame that users do not pay.
The load average is printed at the start and the end: figures taken while it is above ~1 (another
program busy on this 2-core machine) are not comparable. Not a test: nothing passes or fails here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tmux_pane import Pane

SIZES = ("160x45", "80x24")
RATES = ("busy", "stress")
PROBE_DIR = Path(__file__).resolve().parent / "probe"  # sitecustomize.py: the event-loop lag probe
FIRST_FRAME = re.compile(r"^\s*DEMO\s", re.M)  # the header's badge: the desk has drawn its first frame
FIRST_PAINT = re.compile(r"▶[0-9][0-9,.]*◀")  # the ladder's price row: the desk is drawn, with data
FIRST_HEAT = re.compile(r"top \$[0-9]")  # the heatmap's legend once levels are drawn (--layout heatmap)
HEAT_RANGE = re.compile(r"Heatmap · [A-Z0-9]+ · ESTIMATED · (\w+) ·")
HEADER = re.compile(r"^\s*DEMO\s+([A-Z0-9]+)/\S+ perp\s+([0-9][0-9,]*(?:\.[0-9]+)?)", re.M)
# `w`'s window as the trader reads it: the totals pane's title (in its border, after "─ "), or where the
# layout has no totals pane the flash line with the numbers ("▸ Realized 4h · BTC: LONG ..."; a toast
# before the flash line, which this matches too: older builds measure the same way).
TOTALS_TITLE = re.compile(r"─ Realized(?: liquidations ·| ·)? (\d+[mhd])\b")
SAID_WINDOW = re.compile(r"(?<!─ )Realized (\d+[mhd])\b")
AT_RISK_TO = re.compile(r"at risk to ([0-9][0-9,]*(?:\.[0-9]+)?)")
# The command bar's lines: the `g` prompt's input is the line under its question; the picker's input is
# the line under its count of matches ("1 of 4 markets"), its list the lines under its title.
TARGET_QUESTION = re.compile(r"At-risk target price:")
PICKER_COUNT = re.compile(r"\b\d+ of \d+ markets\b")
PICKER_TITLE = re.compile(r"Enter picks")
TIMEOUT_S = 3.0
KEYS = "gwr]/"  # the scenarios, in the order a run presses them (`--keys`: some of them)


def header(screen: str) -> tuple[str | None, float | None]:
    """The symbol (base) and last price the desk's header shows."""
    m = HEADER.search(screen)
    return (m.group(1), float(m.group(2).replace(",", ""))) if m else (None, None)


def line_under(screen: str, pattern: re.Pattern[str]) -> str | None:
    """The text at the start of the line under the first line ``pattern`` finds, else None: up to its
    first gap of two spaces, as an alert's toast may cover the line's right-hand part."""
    lines = screen.splitlines()
    for line, below in itertools.pairwise(lines):
        if pattern.search(line):
            return below.lstrip("│ ").split("  ")[0].rstrip("│ ")
    return None


def picker_shows(screen: str, typed: str) -> bool:
    """The picker has taken the typed symbol: its input reads it and its list starts with it."""
    first = line_under(screen, PICKER_TITLE)
    return line_under(screen, PICKER_COUNT) == typed and first is not None and first.startswith(typed)


def said_window(screen: str) -> str | None:
    """The window `w` said on the flash line (older builds: the newest toast; they stack downwards)."""
    found = SAID_WINDOW.findall(screen)
    return found[-1] if found else None


def totals_title_window(screen: str) -> str | None:
    """The window the totals pane's title names (None: no totals pane on screen)."""
    found = TOTALS_TITLE.search(screen)
    return found.group(1) if found else None


class Keys:
    """Times real key presses on a running desk; every figure is ms from send-keys to the screen."""

    def __init__(self, pane: Pane, presses: int) -> None:
        self.pane, self.presses = pane, presses
        self.ms: dict[str, list[float]] = {}
        self.misses: dict[str, int] = {}
        self.notes: list[str] = []

    def timed(
        self, label: str, keys: tuple[str, ...], shown: Callable[[str], bool], literal: bool = False
    ) -> bool:
        start = time.perf_counter()
        self.pane.send(*keys, literal=literal)
        took = self.pane.wait_for(shown, TIMEOUT_S, since=start)
        self.ms.setdefault(label, [])
        if took is None:
            self.misses[label] = self.misses.get(label, 0) + 1
            self.pane.send("Escape")  # a prompt left open must not eat the next keys
            time.sleep(0.5)
            return False
        self.ms[label].append(took * 1000)
        return True

    def scenarios(self) -> dict[str, Callable[[], None]]:
        """Each key's scenario, by the key that starts it (`--keys`), in the order KEYS runs them."""
        return {
            "g": self.target,
            "w": self.window,
            "r": self.heatmap_range,
            "]": self.next_symbol,
            "/": self.pick_symbol,
        }

    def pause(self) -> None:
        time.sleep(random.uniform(0.15, 0.35))  # out of step with the desk's timers

    def next_symbol(self) -> None:
        for _ in range(self.presses):
            self.pause()
            before = header(self.pane.screen())[0]
            self.timed("]  next symbol", ("]",), lambda s, before=before: header(s)[0] not in (None, before))

    def window(self) -> None:
        """Until the new window is where the trader reads it: the totals pane's title, or the flash line
        where the layout has no totals pane."""
        shown = totals_title_window
        if totals_title_window(self.pane.screen()) is None:
            shown = said_window
            self.notes.append("w: no totals pane at this size, timed to the flash line's numbers")
            self.pane.wait_for(lambda s: said_window(s) is None, 9.0)  # an older answer gone
        before = shown(self.pane.screen())
        for _ in range(self.presses):
            self.pause()
            if self.timed("w  window", ("w",), lambda s, before=before: shown(s) not in (None, before)):
                before = shown(self.pane.screen())

    def target(self) -> None:
        if "At risk" not in self.pane.screen():
            self.notes.append("g: the at-risk pane is not on screen at this size (not timed)")
            return
        for n in range(self.presses):
            self.pause()
            price = header(self.pane.screen())[1]
            if price is None or not self.timed(
                "g  target prompt", ("g",), lambda s: "At-risk target price" in s
            ):
                continue
            target = float(f"{price * (1.07 if n % 2 else 0.93):.3g}")
            typed = f"{target:g}"
            if not self.timed(
                "g  price typed",
                (typed,),
                lambda s, typed=typed: line_under(s, TARGET_QUESTION) == typed,
                literal=True,
            ):
                continue
            self.timed(
                "g  price Enter",
                ("Enter",),
                lambda s, target=target: any(
                    float(x.replace(",", "")) == target for x in AT_RISK_TO.findall(s)
                ),
            )

    def heatmap_range(self) -> None:
        if HEAT_RANGE.search(self.pane.screen()) is None:
            return
        for _ in range(self.presses):
            self.pause()
            before = HEAT_RANGE.search(self.pane.screen())
            was = before.group(1) if before else None
            self.timed("r  heatmap range", ("r",), lambda s, was=was: _heat_range(s) not in (None, was))

    def pick_symbol(self) -> None:
        for _ in range(self.presses):
            self.pause()
            current = header(self.pane.screen())[0]
            wanted = next(s for s in ("ETH", "SOL", "BTC") if s != current)
            if not self.timed("/  picker", ("/",), lambda s: "Enter picks" in s):
                continue
            if not self.timed(
                "/  symbol typed", (wanted,), lambda s, wanted=wanted: picker_shows(s, wanted), literal=True
            ):
                continue
            self.timed("/  symbol Enter", ("Enter",), lambda s, wanted=wanted: header(s)[0] == wanted)


def _heat_range(screen: str) -> str | None:
    found = HEAT_RANGE.search(screen)
    return found.group(1) if found else None


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):6.1f} {p95:6.1f} {ordered[-1]:6.1f}"


def desk_env(home: str, probe_log: Path | None = None) -> dict[str, str]:
    """The desk's environment: an empty config in fresh XDG dirs; the loop probe when ``probe_log``."""
    env = {"XDG_CONFIG_HOME": f"{home}/config", "XDG_DATA_HOME": f"{home}/data"}
    if probe_log is not None:
        env["LIQTUI_BENCH_PROBE"] = str(probe_log)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(PROBE_DIR), os.environ.get("PYTHONPATH"))))
    return env


def compile_bytecode() -> str:
    """Compile the liqtui package the desk will import (PYTHONPATH as given) and say where it is."""
    found = subprocess.run(
        [sys.executable, "-c", "import liqtui, os; print(os.path.dirname(liqtui.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run([sys.executable, "-m", "compileall", "-q", found], check=True)
    return found


def launches(command: str, size: str, rate: str, seed: int, n: int) -> None:
    """Launch the desk ``n`` times: first frame and first paint of each, and the median."""
    cols, rows = (int(x) for x in size.split("x"))
    frames: list[float] = []
    paints: list[float] = []
    load = os.getloadavg()[0]
    for _ in range(n):
        home = tempfile.mkdtemp(prefix="liqtui-bench-home-")
        argv = [command, "demo", "--rate", rate, "--seed", str(seed)]
        try:
            with Pane(argv, cols, rows, desk_env(home), unset=("LIQTUI_CONFIG",)) as pane:
                frame = pane.wait_for(lambda s: FIRST_FRAME.search(s) is not None, 30.0, since=pane.launched)
                paint = pane.wait_for(lambda s: FIRST_PAINT.search(s) is not None, 30.0, since=pane.launched)
        finally:
            shutil.rmtree(home, ignore_errors=True)
        if frame is None or paint is None:
            raise RuntimeError("the desk never showed its first frame or its data")
        frames.append(frame)
        paints.append(paint)
    print(
        f"  {size} {rate}: first frame median {statistics.median(frames):.3f} s "
        f"({' '.join(f'{x:.2f}' for x in frames)}), first paint median {statistics.median(paints):.3f} s "
        f"({' '.join(f'{x:.2f}' for x in paints)}) (load {load:.2f} -> {os.getloadavg()[0]:.2f})"
    )


def run_desk(
    command: str,
    size: str,
    rate: str,
    seed: int,
    window_s: float,
    presses: int,
    layout: str | None = None,
    keys_pressed: str = KEYS,
) -> dict:
    cols, rows = (int(x) for x in size.split("x"))
    home = tempfile.mkdtemp(prefix="liqtui-bench-home-")
    probe_log = Path(home) / "loop-lag.txt"
    env = desk_env(home, probe_log)
    result: dict = {"size": size, "rate": rate, "seed": seed, "load_at_start": os.getloadavg()[0]}
    argv = [command, "demo", "--rate", rate, "--seed", str(seed), *(["--layout", layout] if layout else [])]
    painted = FIRST_HEAT if layout == "heatmap" else FIRST_PAINT
    if layout:
        result["layout"] = layout
    try:
        with Pane(argv, cols, rows, env, unset=("LIQTUI_CONFIG",)) as pane:
            frame = pane.wait_for(
                lambda s: FIRST_FRAME.search(s) is not None, 30.0, since=pane.launched, poll=0.002
            )
            first = pane.wait_for(
                lambda s: painted.search(s) is not None, 30.0, since=pane.launched, poll=0.005
            )
            if first is None:
                raise RuntimeError(f"the desk never showed its data:\n{pane.screen()}")
            result["first_frame_s"] = None if frame is None else round(frame, 3)
            result["first_paint_s"] = round(first, 3)
            time.sleep(5.0)
            t0, bytes0, (cpu0, rss0), wall0 = time.perf_counter(), pane.written(), pane.usage(), time.time()
            time.sleep(window_s)
            t1, bytes1, (cpu1, rss1), wall1 = time.perf_counter(), pane.written(), pane.usage(), time.time()
            result.update(
                window_s=round(t1 - t0, 1),
                cpu_pct=round((cpu1 - cpu0) / (t1 - t0) * 100, 1),
                bytes_per_s=round((bytes1 - bytes0) / (t1 - t0)),
                rss_mb_start=round(rss0 / 2**20, 1),
                rss_mb_end=round(rss1 / 2**20, 1),
            )
            keys = Keys(pane, presses)
            for key in keys_pressed:
                keys.scenarios()[key]()
            result["stalls_ms"] = stalls(probe_log, wall0, wall1)
            result["stalls_keys_ms"] = stalls(probe_log, wall1, time.time())
            result["keys_ms"] = keys.ms
            result["misses"] = keys.misses
            result["notes"] = keys.notes
            result["rss_mb_after_keys"] = round(pane.usage()[1] / 2**20, 1)
            result["alive"] = pane.alive()
            if not result["alive"]:
                result["last_screen"] = [line for line in pane.screen().splitlines() if line.strip()][-15:]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    result["load_at_end"] = os.getloadavg()[0]
    return result


def stalls(probe_log: Path, since: float, until: float) -> dict:
    """Event-loop stalls the probe saw between two wall times: p99 and max lag, and how many > 50 ms."""
    lags = []
    if probe_log.exists():
        for line in probe_log.read_text().splitlines():
            when, lag = (float(x) for x in line.split())
            if since <= when <= until:
                lags.append(lag)
    if not lags:
        return {"samples": 0}
    lags.sort()
    return {
        "samples": len(lags),
        "p99": round(lags[min(len(lags) - 1, round(0.99 * (len(lags) - 1)))], 1),
        "max": round(lags[-1], 1),
        "over_50": sum(lag > 50 for lag in lags),
    }


def stall_text(s: dict) -> str:
    if not s.get("samples"):
        return "no samples (the probe did not run)"
    return f"p99 {s['p99']:.0f} ms, max {s['max']:.0f} ms, {s['over_50']} of {s['samples']} wake-ups > 50 ms late"


def startup(command: str, runs: int = 10) -> dict:
    """Wall seconds and peak RSS (MB) of `liqtui --version` and `liqtui --help`: best and median."""
    env = {k: v for k, v in os.environ.items() if k != "LIQTUI_CONFIG"}
    out = {}
    for flag in ("--version", "--help"):
        walls, rss = [], []
        for _ in range(runs):
            start = time.perf_counter()
            pid = os.posix_spawn(
                command,
                [command, flag],
                env,
                file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)],
            )
            _, status, usage = os.wait4(pid, 0)
            walls.append(time.perf_counter() - start)
            rss.append(usage.ru_maxrss / 1024)
            if status:
                raise RuntimeError(f"{command} {flag} failed ({status})")
        out[flag] = {
            "best_s": round(min(walls), 3),
            "median_s": round(statistics.median(walls), 3),
            "rss_mb": round(statistics.median(rss), 1),
        }
    return out


def report_desk(r: dict) -> None:
    print(
        f"\n== liqtui demo --rate {r['rate']} --seed {r['seed']}{' --layout ' + r['layout'] if r.get('layout') else ''}, {r['size']} "
        f"(load {r['load_at_start']:.2f} -> {r['load_at_end']:.2f}) =="
    )
    frame = "-" if r["first_frame_s"] is None else f"{r['first_frame_s']:.2f} s"
    print(f"  first frame        {frame} (the header on screen)")
    shown = "the heatmap's legend" if r.get("layout") == "heatmap" else "the ladder's price row"
    print(f"  first paint        {r['first_paint_s']:.2f} s ({shown}: data on screen)")
    print(f"  CPU                {r['cpu_pct']:.1f} % of a core over {r['window_s']:.0f} s")
    print(f"  written            {r['bytes_per_s'] / 1000:.1f} KB/s")
    print(
        f"  RSS                {r['rss_mb_start']} -> {r['rss_mb_end']} MB (after the keys {r['rss_mb_after_keys']} MB)"
    )
    print(f"  loop stalls        {stall_text(r['stalls_ms'])} (steady window)")
    print(f"                     {stall_text(r['stalls_keys_ms'])} (during the keys)")
    print("  key to screen, ms     p50    p95    max  presses  misses")
    for label, values in r["keys_ms"].items():
        print(f"  {label:<18} {summary(values)}  {len(values):7d}  {r['misses'].get(label, 0):6d}")
    for note in r["notes"]:
        print(f"  {note}")
    if not r["alive"]:
        print("  THE DESK DIED during the run; its last screen:", *r["last_screen"], sep="\n    ")


def find_command(given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).parent / "liqtui"
    found = str(beside) if beside.exists() else shutil.which("liqtui")
    if not found:
        raise SystemExit("no liqtui command found: install the project (pip install -e .) or pass --command")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", nargs="+", default=list(RATES), choices=("calm", *RATES))
    parser.add_argument("--size", nargs="+", default=list(SIZES), help="COLSxROWS (default: 160x45 80x24)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--window", type=float, default=60.0, help="steady window in seconds (default 60)")
    parser.add_argument("--presses", type=int, default=20, help="presses per key (default 20)")
    parser.add_argument("--quick", action="store_true", help="15 s windows, 8 presses per key")
    parser.add_argument("--command", help="the liqtui executable (default: beside this Python, else on PATH)")
    parser.add_argument("--json", type=Path, help="append each result to this file as one JSON line")
    parser.add_argument("--layout", help="the desk's --layout (default: by the terminal's width)")
    parser.add_argument("--keys", default=KEYS, help=f"the keys' scenarios to run, in order (default {KEYS})")
    parser.add_argument(
        "--launches", type=int, default=0, help="only launch the desk N times: first frame and paint, median"
    )
    args = parser.parse_args()
    if args.quick:
        args.window, args.presses = 15.0, 8
    if set(args.keys) - set(KEYS):
        parser.error(f"--keys: the keys are some of {KEYS}")
    if not shutil.which("tmux"):
        print("bench_desk needs tmux (apt-get install tmux)", file=sys.stderr)
        return 2
    command = find_command(args.command)
    print(
        f"{command}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (figures above ~1 are not comparable)"
    )
    print(f"bytecode compiled in {compile_bytecode()} (as pip install does)")
    if args.launches:
        for size in args.size:
            for rate in args.rate:
                launches(command, size, rate, args.seed, args.launches)
        return 0
    for flag, figures in startup(command).items():
        print(
            f"  liqtui {flag:<10} best {figures['best_s']:.3f} s, median {figures['median_s']:.3f} s, {figures['rss_mb']} MB"
        )
    for size in args.size:
        for rate in args.rate:
            result = run_desk(
                command, size, rate, args.seed, args.window, args.presses, args.layout, args.keys
            )
            report_desk(result)
            if args.json:
                with args.json.open("a") as f:
                    f.write(json.dumps(result) + "\n")
    print(f"\nload average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
