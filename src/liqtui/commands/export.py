"""`liqtui export`: one kind of event from a recording to a parquet or csv file, through pandas.

The output is written whole or not at all (a temporary file renamed into place), never over the
recording it reads, and never over an existing file unless ``--force``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections import Counter
from pathlib import Path

from liqtui.commands.stats import demo_hint
from liqtui.config import Settings
from liqtui.storage import StoreError
from liqtui.storage.layouts import damage_note
from liqtui.storage.schema import refuse_dangling_link

# The same kinds as liqtui.storage.export.EXPORT_KINDS, which imports pandas: that module is loaded
# only when an export runs, so that `liqtui --help` and every other command start quickly.
EXPORT_KINDS = ("liquidations", "oi", "tickers", "books", "bars", "status")
NO_PYARROW = (
    "parquet export needs pyarrow, which this install lacks: install liqtui with its dependencies "
    "(pip install -c requirements.lock -e .) or `pip install pyarrow`; or use --to csv"
)


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        default=None,
        help="recording (default: the config's record_path, else <data dir>/liqtui.sqlite)",
    )
    parser.add_argument("--to", choices=("parquet", "csv"), required=True, help="output format")
    parser.add_argument(
        "--kind", choices=EXPORT_KINDS, default="liquidations", help="what to export (default liquidations)"
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        default=None,
        help="output file (default: <recording name>-<kind>.<format> in the current directory)",
    )
    parser.add_argument("--force", action="store_true", help="replace the output file if it exists")


def needs_settings(args: argparse.Namespace) -> bool:
    return args.file is None


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    path = Path(args.file).expanduser() if args.file else settings.recording_path  # type: ignore[union-attr]
    if args.to == "parquet" and importlib.util.find_spec("pyarrow") is None:
        return _fail(NO_PYARROW)
    try:
        out = _output(args, path)
    except (StoreError, ValueError) as exc:
        return _fail(str(exc))
    from liqtui.storage.export import frame, write

    damaged: Counter[str] = Counter()
    try:
        df = frame(path, args.kind, damaged)
        write(df, out, args.to)
    except StoreError as exc:
        hint = None if args.file else demo_hint(settings)  # type: ignore[arg-type]
        return _fail(f"{exc}; {hint}" if hint else str(exc))
    except ImportError:
        return _fail(NO_PYARROW)
    except OSError as exc:
        return _fail(f"cannot write {out}: {exc.strerror or exc}")
    note = damage_note(path, damaged)
    if note:
        print(f"liqtui: {note}", file=sys.stderr)
    hint = None if args.file or len(df) else demo_hint(settings)  # type: ignore[arg-type]
    if hint:
        print(f"liqtui: {path} holds no {args.kind} yet; {hint}", file=sys.stderr)
    print(f"wrote {len(df):,} {args.kind} rows to {out}")
    return 0


def _output(args: argparse.Namespace, recording: Path) -> Path:
    """The file to write: never the recording itself, an existing file only with --force."""
    out = Path(args.out).expanduser() if args.out else Path.cwd() / f"{recording.stem}-{args.kind}.{args.to}"
    refuse_dangling_link(out)
    out = out.resolve() if out.is_symlink() else out  # the link's target is replaced, not the link
    if out.is_dir():
        raise ValueError(f"{out}: a directory; --out names the file to write")
    if not out.exists():
        return out
    sources = [recording.with_name(recording.name + suffix) for suffix in ("", "-wal", "-shm", ".lock")]
    if any(source.exists() and os.path.samefile(out, source) for source in sources):
        raise ValueError(
            f"{out}: that is the recording being exported (or one of its files); choose another --out"
        )
    if not args.force:
        raise ValueError(f"{out}: already exists; --force replaces it")
    return out


def _fail(message: str) -> int:
    print(f"liqtui: {message}", file=sys.stderr)
    return 2
