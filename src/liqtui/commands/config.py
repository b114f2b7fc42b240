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
        _print_toml(data)
    return 0


def _print_toml(data: dict, prefix: str = "") -> None:
    tables = {k: v for k, v in data.items() if isinstance(v, dict) and all(isinstance(x, dict) for x in v.values()) and v}
    for key, value in data.items():
        if key not in tables:
            print(f"{key} = {json.dumps(value)}")
    for key, value in tables.items():
        name = f"{prefix}{key}"
        print(f"\n[{name}]")
        _print_toml(value, prefix=f"{name}.")
