"""The desk's speed in a real terminal: CPU, bytes/s, key-to-screen latency, first paint, memory.

    .venv/bin/python bench/bench_desk.py --termbench ../shared/tools/termbench/measure.py
    .venv/bin/python bench/bench_desk.py --minutes 10          # memory after 10 minutes
    LIQTUI_TERMBENCH=/path/to/measure.py .venv/bin/python bench/bench_desk.py --rates busy

For each demo rate (busy, stress) it runs the desk at 160x45 inside a private tmux server through
termbench's measure.py (bytes written to the terminal, CPU of the process tree, RSS, Textual frame
probe) and prints the figures beside the issue's targets. Not a test: nothing here passes or fails.

Key latency needs a key whose n-th press shows "n" on screen. The desk has none, so the bench runs
the real desk with ONE extra binding (`k`): it counts presses into the header's badge and renders
at once, which is the path every desk key takes (binding -> action -> immediate render tick).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TERMBENCH = ROOT.parent / "shared" / "tools" / "termbench" / "measure.py"
TARGETS = {  # the targets at busy; at stress only responsiveness (p95 < 250 ms)
    "busy": {"cpu_pct": 25.0, "bytes_per_s": 30_000, "p95_ms": 100.0, "first_paint_s": 1.5, "rss_mb": 250.0},
    "stress": {"p95_ms": 250.0},
}


def serve(rate: str, seed: int) -> int:
    """The desk on the demo, plus the bench's counting key."""
    from textual.binding import Binding

    from liqtui.config import Settings
    from liqtui.feeds.demo import DemoSource
    from liqtui.ui.app import LiqtuiApp
    from liqtui.ui.header import Badge

    class BenchDesk(LiqtuiApp):
        BINDINGS = [Binding("k", "bench_key", "bench", show=False)]
        presses = 0

        def action_bench_key(self) -> None:
            self.presses += 1
            self.render_tick()

        def badge(self) -> Badge:
            badge = super().badge()
            return Badge(f"{badge.mode} keys={self.presses}", badge.paused)

    settings = Settings()
    BenchDesk(settings, DemoSource(settings, seed=seed, rate=rate)).run()
    return 0


def measure(termbench: Path, rate: str, seed: int, seconds: float, presses: int, out: Path) -> dict:
    env_dir = tempfile.mkdtemp(prefix="liqtui-bench-")
    cmd = [
        sys.executable, str(termbench),
        "--size", "160x45", "--ready", "▶", "--warmup", "5", "--duration", str(seconds),
        "--key", "k", "--expect", "keys={n}", "--presses", str(presses), "--probe",
        "--env", f"XDG_CONFIG_HOME={env_dir}", "--env", f"XDG_DATA_HOME={env_dir}",
        "--label", f"desk-{rate}", "--json-out", str(out),
        "--", sys.executable, str(Path(__file__).resolve()), "serve", "--rate", rate, "--seed", str(seed),
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return json.loads(out.read_text().splitlines()[-1])


def report(rate: str, result: dict) -> None:
    latency = result.get("latency_ms", {}).get("screen", {})
    probe = result.get("probe", {})
    figures = {
        "cpu_pct": result.get("app_cpu_pct"),
        "bytes_per_s": result.get("bytes_per_s"),
        "p50_ms": latency.get("p50"),
        "p95_ms": latency.get("p95"),
        "first_paint_s": result.get("startup_s"),
        "rss_mb": result.get("rss_mb_end"),
    }
    targets = TARGETS.get(rate, {})
    print(f"\n== demo --rate {rate}, 160x45, {result.get('window_s')} s steady ==")
    for name, value in figures.items():
        target = targets.get(name)
        aim = f"(target < {target:g})" if target is not None else ""
        print(f"  {name:<14} {value!s:>10}  {aim}")
    print(f"  {'rss_mb_start':<14} {result.get('rss_mb_start')!s:>10}")
    print(f"  {'key misses':<14} {result.get('latency_ms', {}).get('misses')!s:>10}")
    if probe:
        frame = probe.get("frame_ms", {})
        print(f"  {'frames/s':<14} {probe.get('frames_per_s')!s:>10}  frame ms p50 {frame.get('p50')} p95 {frame.get('p95')}")
        print(f"  {'loop lag ms':<14} {probe.get('loop_lag_ms', {}).get('p95')!s:>10}  (p95)")
    print(f"  {'alive at end':<14} {result.get('alive_at_end')!s:>10}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode")
    serve_parser = sub.add_parser("serve", help="(used by the bench) run the desk with the counting key")
    serve_parser.add_argument("--rate", default="busy")
    serve_parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--termbench", type=Path,
                        default=Path(os.environ.get("LIQTUI_TERMBENCH", DEFAULT_TERMBENCH)),
                        help="termbench's measure.py (default $LIQTUI_TERMBENCH or ../shared/tools/...)")
    parser.add_argument("--rates", nargs="+", default=["busy", "stress"])
    parser.add_argument("--minutes", type=float, default=1.0, help="steady window (10 for the memory figure)")
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="15 s windows, 15 presses")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.presses = 0.25, 15
    if args.mode == "serve":
        return serve(args.rate, args.seed)
    if not args.termbench.exists():
        print(f"termbench not found at {args.termbench}: pass --termbench or set LIQTUI_TERMBENCH",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        for rate in args.rates:
            result = measure(args.termbench, rate, args.seed, args.minutes * 60, args.presses,
                             Path(tmp) / f"{rate}.jsonl")
            report(rate, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
