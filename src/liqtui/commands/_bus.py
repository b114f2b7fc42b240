"""Shared by the commands that can read a NATS bus instead of the venues (docs/bus.md): the
``--bus URL`` option, ``--since`` ages, and opening a BusSource with one clear error."""

from __future__ import annotations

import argparse
import dataclasses
import re
from typing import Any

from liqtui.commands.headless_live import CommandError
from liqtui.config import Settings
from liqtui.feeds.bus.client import BusError  # nats-py itself is imported only when a bus is opened

__all__ = ["BusError", "add_bus_arguments", "age_ms", "bus_url", "open_bus_source"]

_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def add_bus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bus",
        metavar="URL",
        default=None,
        help="read a liqtui collector's NATS bus instead of the venues (default: [bus] url)",
    )


def bus_url(args: argparse.Namespace, settings: Settings) -> str:
    return getattr(args, "bus", None) or settings.bus.url


def age_ms(text: str) -> int:
    """'10m', '1h', '90s', '1d' -> milliseconds; argparse turns the ValueError into a usage error."""
    match = _AGE.fullmatch(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected an age such as 90s, 10m, 1h or 1d, got {text!r}")
    return int(float(match.group(1)) * _UNIT_MS[match.group(2)])


async def open_bus_source(settings: Settings, url: str, **options: Any) -> Any:
    """A connected BusSource on ``url``; CommandError (exit 2) when the bus cannot be used."""
    from liqtui.feeds.bus.source import BusSource

    settings = dataclasses.replace(settings, bus=dataclasses.replace(settings.bus, url=url))
    source = BusSource(settings, **options)
    try:
        await source.open()
    except BusError as exc:
        await source.close()
        raise CommandError(str(exc)) from None
    return source
