"""`liqtui stats`: realized liquidations and OI change from a recording, as text or one JSON object.

Numbers come straight from the file (``liqtui.storage.summary``), not through the engine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from liqtui.config import Settings
from liqtui.domain.text import printable
from liqtui.storage import StoreError
from liqtui.storage.summary import STATS_WINDOWS_MS, Summary, summarize


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "file", metavar="FILE", nargs="?", default=None,
        help="recording (default: the config's record_path, else <data dir>/liqtui.sqlite)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--window", choices=tuple(STATS_WINDOWS_MS), default="24h",
        help="how far back from the newest event in the file (default 24h)",
    )


def needs_settings(args: argparse.Namespace) -> bool:
    return args.file is None  # a named file is read whatever the config says


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    path = Path(args.file).expanduser() if args.file else settings.recording_path  # type: ignore[union-attr]
    try:
        summary = summarize(path, args.window)
    except StoreError as exc:
        print(f"liqtui: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(summary.as_dict(), indent=2) if args.json else printable(render(summary), keep="\n")
    try:
        print(text, flush=True)
    except BrokenPipeError:  # `liqtui stats | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def render(summary: Summary) -> str:
    demo = " (DEMO: a simulated market)" if summary.source_mode == "DEMO" else ""
    lines = [f"{summary.path}{demo}: window {summary.window}, {_span(summary)}", "", "Realized liquidations"]
    if summary.liquidations:
        lines.append(f"  {'venue':<14}{'symbol':<18}{'side':<7}{'count':>8}{'USD':>16}{'largest USD':>14}")
        for row in summary.liquidations:
            mark = "  sampled: a lower bound" if row.sampled else ""
            lines.append(
                f"  {row.venue:<14}{row.symbol:<18}{row.side:<7}{row.count:>8,}{row.usd:>16,.0f}"
                f"{row.largest_usd:>14,.0f}{mark}"
            )
        for side in ("long", "short"):
            rows = [r for r in summary.liquidations if r.side == side]
            if rows:
                usd = sum(r.usd for r in rows)
                count = sum(r.count for r in rows)
                largest = max(r.largest_usd for r in rows)
                lines.append(f"  {'total':<32}{side:<7}{count:>8,}{usd:>16,.0f}{largest:>14,.0f}")
    else:
        lines.append("  none in the window")
    lines += ["", "Open interest change (first to last sample in the window)"]
    if summary.open_interest:
        lines.append(
            f"  {'venue':<14}{'symbol':<18}{'first base':>14}{'last base':>14}{'change':>12}{'%':>8}"
            f"{'change USD':>16}{'%':>8}"
        )
        for oi in summary.open_interest:
            lines.append(
                f"  {oi.venue:<14}{oi.symbol:<18}{oi.first_base:>14,.2f}{oi.last_base:>14,.2f}"
                f"{oi.change_base:>+12,.2f}{_pct(oi.change_base_pct):>8}{oi.change_usd:>+16,.0f}"
                f"{_pct(oi.change_usd_pct):>8}"
            )
    else:
        lines.append("  no samples in the window")
    return "\n".join(lines)


def _span(summary: Summary) -> str:
    if summary.to_ms is None:
        return "the recording holds no events"
    start = "the first event" if summary.from_ms is None else _utc(summary.from_ms)
    return f"{start} to {_utc(summary.to_ms)} UTC"


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"
