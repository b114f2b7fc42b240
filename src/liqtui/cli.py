"""The command line: parses arguments, builds the settings once, runs one command.

Each command lives in ``liqtui.commands.<module>`` with ``NAME``, ``HELP``, ``add_arguments(parser)``
and ``run(args, settings) -> int``. Modules are imported lazily where that matters: headless
commands (tail, snapshot, record, stats, export, risk) never import Textual.

``liqtui`` with no command starts the desk on live data.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from liqtui import __version__

# (module, name, one-line help). The first entry is the default command.
COMMANDS: list[tuple[str, str, str]] = [
    ("desk", "live", "the desk on live data from the enabled venues (the default)"),
    ("desk", "demo", "the desk on a simulated market, marked DEMO (no network needed)"),
    ("desk", "replay", "the desk replaying a recorded session, marked REPLAY"),
    ("tail", "tail", "print every liquidation as it arrives (text or --json lines)"),
    ("snapshot", "snapshot", "one shot of OI, mark, funding and 24h volume per venue and symbol"),
    ("risk", "risk", "ESTIMATED liquidations at risk between the price and a target"),
    ("record", "record", "record every event to an SQLite file, headless"),
    ("stats", "stats", "realized liquidations and OI change from a recording"),
    ("export", "export", "export a recording to parquet or csv"),
    ("config", "config", "write a commented default config file, or show the effective settings"),
]


def _load_command(module: str):
    return importlib.import_module(f"liqtui.commands.{module}")


def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Accepted before and after the command name: `liqtui --config F tail` and `liqtui tail --config F`.
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None if top else argparse.SUPPRESS,
        help="config file (default: $LIQTUI_CONFIG, else the platform config dir)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liqtui",
        description="A terminal desk for crypto derivatives liquidations.",
        epilog="Run `liqtui COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"liqtui {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module, name, help_text in COMMANDS:
        try:
            mod = _load_command(module)
        except ModuleNotFoundError as exc:
            if exc.name != f"liqtui.commands.{module}":
                raise
            continue  # command not built yet
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        _common(cmd, top=False)
        mod.add_arguments(cmd, name)
        cmd.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from liqtui.config import ConfigError, load_settings

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if "live" not in parser._subparsers._group_actions[0].choices:  # type: ignore[union-attr]
            parser.print_help()
            return 0
        args = parser.parse_args([*(argv or sys.argv[1:]), "live"])
    mod = _load_command(args._module)
    settings = None
    # A command may not need the settings (`config init` writes the file that is missing).
    if getattr(mod, "needs_settings", lambda _args: True)(args):
        try:
            settings = load_settings(args.config)
        except ConfigError as exc:
            print(f"liqtui: {exc}", file=sys.stderr)
            return 2
    try:
        return int(mod.run(args, settings) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
