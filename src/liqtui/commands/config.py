"""`liqtui config init|show`: write the commented default file, print the effective settings."""

from __future__ import annotations

import argparse
import json
import sys

from liqtui.config import DEFAULT_CONFIG_TEXT, Settings, resolve_config_path, settings_as_dict


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="write a commented default config file")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    show = actions.add_parser("show", help="print the effective settings")
    show.add_argument("--json", action="store_true", help="print JSON instead of TOML-like text")
    for p in (init, show):
        p.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="config file")


def needs_settings(args: argparse.Namespace) -> bool:
    return args.action != "init"


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "init":
        path, _ = resolve_config_path(args.config)
        if path.exists() and not args.force:
            print(f"liqtui: {path} exists; use --force to overwrite", file=sys.stderr)
            return 2
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    data = settings_as_dict(settings)
    if args.json:
        print(json.dumps({"source": settings.source, **data}, indent=2))
    else:
        print(f"# effective settings (from {settings.source})")
        print(to_toml(data), end="")
    return 0


def _value(value) -> str:
    if isinstance(value, dict):
        items = ", ".join(f"{json.dumps(str(k))} = {_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(value)  # strings, numbers, booleans: JSON spelling is valid TOML here


def to_toml(data: dict) -> str:
    """The settings as a TOML document that loads back to the same settings."""
    lines = [f"{key} = {_value(value)}" for key, value in data.items() if not isinstance(value, dict)]
    for name, table in data.items():
        if not isinstance(table, dict):
            continue
        if table and all(isinstance(v, dict) for v in table.values()):  # e.g. venues.<id>
            for sub, subtable in table.items():
                lines += ["", f"[{name}.{sub}]"] + [f"{k} = {_value(v)}" for k, v in subtable.items()]
        else:
            lines += ["", f"[{name}]"] + [f"{k} = {_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"
