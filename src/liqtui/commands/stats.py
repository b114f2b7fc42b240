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
from liqtui.storage.recorder import default_path
from liqtui.storage.summary import STATS_WINDOWS_MS, Summary, summarize


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        default=None,
        help="recording (default: the config's record_path, else <data dir>/liqtui.sqlite)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--window",
        choices=tuple(STATS_WINDOWS_MS),
        default="24h",
        help="how far back from the newest event in the file (default 24h)",
    )


def needs_settings(args: argparse.Namespace) -> bool:
    return args.file is None  # a named file is read whatever the config says


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    path = Path(args.file).expanduser() if args.file else settings.recording_path  # type: ignore[union-attr]
    hint = None if args.file else demo_hint(settings)  # type: ignore[arg-type]
    try:
        summary = summarize(path, args.window)
    except StoreError as exc:
        print(f"liqtui: {exc}" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 2
    if hint and summary.to_ms is None:
        print(f"liqtui: {path} holds no events yet; {hint}", file=sys.stderr)
    note = summary.damage_note()
    if note:
        print(f"liqtui: {note}", file=sys.stderr)
    text = json.dumps(summary.as_dict(), indent=2) if args.json else printable(render(summary), keep="\n")
    try:
        print(text, flush=True)
    except BrokenPipeError:  # `liqtui stats | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def demo_hint(settings: Settings) -> str | None:
    """Where `record --demo` wrote, for a command that read the default (live) recording."""
    demo = default_path(settings, "DEMO")
    return f"the demo recording is {demo} (name it to read it)" if demo.exists() else None


def render(summary: Summary) -> str:
    demo = " (DEMO: a simulated market)" if summary.source_mode == "DEMO" else ""
    lines = [f"{summary.path}{demo}: window {summary.window}, {_span(summary)}", "", "Realized liquidations"]
    if summary.liquidations:
        rows = [
            [
                r.venue,
                r.symbol,
                r.side,
                f"{r.count:,}",
                f"{r.usd:,.0f}",
                f"{r.largest_usd:,.0f}",
                "sampled: a lower bound" if r.sampled else "",
            ]
            for r in summary.liquidations
        ]
        for side in ("long", "short"):
            side_rows = [r for r in summary.liquidations if r.side == side]
            if side_rows:
                count = sum(r.count for r in side_rows)
                usd = sum(r.usd for r in side_rows)
                largest = max(r.largest_usd for r in side_rows)
                rows.append(["total", "", side, f"{count:,}", f"{usd:,.0f}", f"{largest:,.0f}", ""])
        lines += table(["venue", "symbol", "side", "count", "USD", "largest USD", ""], rows, "lllrrrl")
    else:
        lines.append("  none in the window")
    lines += ["", "Open interest change (first to last sample in the window)"]
    if summary.open_interest:
        rows = [
            [
                oi.venue,
                oi.symbol,
                f"{oi.first_base:,.2f}",
                f"{oi.last_base:,.2f}",
                f"{oi.change_base:+,.2f}",
                _pct(oi.change_base_pct),
                f"{oi.change_usd:+,.0f}",
                _pct(oi.change_usd_pct),
            ]
            for oi in summary.open_interest
        ]
        header = ["venue", "symbol", "first base", "last base", "change", "%", "change USD", "%"]
        lines += table(header, rows, "llrrrrrr")
    else:
        lines.append("  no samples in the window")
    return "\n".join(lines)


def table(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    """Columns as wide as their widest cell, two spaces apart; ``align`` is "l" or "r" per column."""
    rows = [[printable(cell) for cell in row] for row in rows]  # widths of what is printed
    widths = [max(map(len, column)) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        padded = (
            c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align, strict=True)
        )
        return ("  " + "  ".join(padded)).rstrip()

    return [line(header), *map(line, rows)]


def _span(summary: Summary) -> str:
    if summary.to_ms is None:
        return "the recording holds no events"
    start = "the first event" if summary.from_ms is None else _utc(summary.from_ms)
    return f"{start} to {_utc(summary.to_ms)} UTC"


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"
