"""The command line: parses arguments, builds the settings once, runs one command.

Each command lives in ``liqtui.commands.<module>`` with ``add_arguments(parser, name)`` and
``run(args, settings) -> int``. Only the module of the command being run is imported: the command
list (``--help``) comes from the table below and ``--version`` imports nothing, so neither pays for
ccxt, pandas or Textual; headless commands (tail, alerts, snapshot, record, stats, export, risk,
positions) never import Textual (heatmap only for an SVG).

``liqtui`` with no command starts the desk on live data.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Collection, Sequence

from liqtui import __version__

# (module, name, one-line help). The first entry is the default command.
COMMANDS: list[tuple[str, str, str]] = [
    ("desk", "live", "the desk on live data from the enabled venues (the default)"),
    ("desk", "demo", "the desk on a simulated market, marked DEMO (no network needed)"),
    ("desk", "replay", "the desk replaying a recorded session, marked REPLAY"),
    ("tail", "tail", "print every liquidation as it arrives (text or --json lines)"),
    (
        "alerts",
        "alerts",
        "run the alert rules headless (live, --demo) or back-test them on a recording (--replay)",
    ),
    ("snapshot", "snapshot", "one shot of OI, mark, funding and 24h volume per venue and symbol"),
    ("risk", "risk", "ESTIMATED liquidations at risk between the price and a target"),
    ("positions", "positions", "MEASURED positions of tracked Hyperliquid accounts in one symbol"),
    (
        "fidelity",
        "fidelity",
        "score the ESTIMATED levels against MEASURED positions (a recording, or the demo's truth); --fit",
    ),
    ("record", "record", "record every event to an SQLite file, headless"),
    (
        "collect",
        "collect",
        "publish every event of the venues (or the demo) to a NATS JetStream bus for many desks",
    ),
    ("stats", "stats", "realized liquidations and OI change from a recording"),
    ("export", "export", "export a recording to parquet or csv"),
    (
        "heatmap",
        "heatmap",
        "the ESTIMATED liquidation heatmap as csv, parquet or svg (live or from a recording)",
    ),
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


def build_parser(names: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the commands in ``names`` (every one when None) import their module for
    their arguments, the others are listed by name and help alone."""
    parser = argparse.ArgumentParser(
        prog="liqtui",
        description="A terminal desk for crypto derivatives liquidations.",
        epilog="Run `liqtui COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"liqtui {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module, name, help_text in COMMANDS:
        full = names is None or name in names
        cmd = sub.add_parser(name, help=help_text, description=help_text, add_help=full)
        _common(cmd, top=False)
        if full:
            _load_command(module).add_arguments(cmd, name)
        cmd.set_defaults(_module=module)
    return parser


def _command_named(argv: list[str]) -> str | None:
    """The command that argv names, from a parser that knows no command's arguments (this one
    answers --help and --version, and rejects an unknown command)."""
    known, _rest = build_parser(names=()).parse_known_args(argv)
    return known.command


# The collector's youngest generation passes at this many objects instead of 700 from the start: a
# command's imports (Textual, the engine, numpy) build long-lived objects by the ten thousand, and
# ~110 young passes over them cost 20-40 ms of every launch's CPU before the desk's first frame. The
# desk keeps it (ui/app.py YOUNG_GC_THRESHOLD, the same figure: bench/README.md, "The collector's
# youngest generation").
START_GC_THRESHOLD = 10_000


def _start_early(command: str | None, argv: list[str]) -> None:
    """Work a command will need that can start before its module and the settings are imported: a late
    replay's reading child (`liqtui replay FILE --from TIME`, feeds/replay_ahead.py ``start_early``),
    whose own imports then go on beside this process's. A guess from the words alone (argparse takes
    `--fr` for `--from`): a child started for nothing ends, one not started is started by the command."""
    if command == "replay" and any(arg.startswith("--fr") for arg in argv):
        from liqtui.feeds.replay_ahead import start_early

        start_early(argv)


def main(argv: Sequence[str] | None = None) -> int:
    gc.set_threshold(START_GC_THRESHOLD, *gc.get_threshold()[1:])
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_named(argv)
    _start_early(command, argv)
    try:
        return _run(command, argv)
    finally:
        _end_early()


def _end_early() -> None:
    """A child ``_start_early`` started that the command did not take (it failed first) ends now."""
    if "liqtui.feeds.replay_ahead" in sys.modules:
        from liqtui.feeds.replay_ahead import discard, take_early

        discard(take_early())


def _run(command: str | None, argv: list[str]) -> int:
    if command is None:
        command = "live"
        argv.append(command)
    args = build_parser(names=(command,)).parse_args(argv)
    mod = _load_command(args._module)
    from liqtui.config import ConfigError, load_settings, settings_warnings

    settings = None
    # A command may not need the settings (`config init` writes the file that is missing).
    if getattr(mod, "needs_settings", lambda _args: True)(args):
        try:
            settings = load_settings(args.config)
        except ConfigError as exc:
            print(f"liqtui: {exc}", file=sys.stderr)
            return 2
        for warning in settings_warnings(settings):
            print(f"liqtui: {warning}", file=sys.stderr)
    try:
        return int(mod.run(args, settings) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
