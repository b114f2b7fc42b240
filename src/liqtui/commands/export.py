"""`liqtui export`: one kind of event from a recording to a parquet or csv file, through pandas."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liqtui.config import Settings
from liqtui.storage import StoreError

# The same kinds as liqtui.storage.export.EXPORT_KINDS, which imports pandas: that module is loaded
# only when an export runs, so that `liqtui --help` and every other command start quickly.
EXPORT_KINDS = ("liquidations", "oi", "tickers", "books", "bars", "status")


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "file", metavar="FILE", nargs="?", default=None,
        help="recording (default: the config's record_path, else <data dir>/liqtui.sqlite)",
    )
    parser.add_argument("--to", choices=("parquet", "csv"), required=True, help="output format")
    parser.add_argument("--kind", choices=EXPORT_KINDS, default="liquidations", help="what to export (default liquidations)")
    parser.add_argument(
        "--out", metavar="PATH", default=None,
        help="output file (default: <recording name>-<kind>.<format> in the current directory)",
    )


def needs_settings(args: argparse.Namespace) -> bool:
    return args.file is None


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    path = Path(args.file).expanduser() if args.file else settings.recording_path  # type: ignore[union-attr]
    out = Path(args.out).expanduser() if args.out else Path.cwd() / f"{path.stem}-{args.kind}.{args.to}"
    from liqtui.storage.export import frame, write

    try:
        df = frame(path, args.kind)
        write(df, out, args.to)
    except StoreError as exc:
        print(f"liqtui: {exc}", file=sys.stderr)
        return 2
    except ImportError:
        print("liqtui: parquet export needs pyarrow (pip install pyarrow), or use --to csv", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"liqtui: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(df):,} {args.kind} rows to {out}")
    return 0
