"""Typed settings from one TOML file; paths from platformdirs.

The settings object is built once (``load_settings``) by the command line and passed down; nothing
reads configuration from module globals. A broken file raises ``ConfigError`` whose message names
the file, the key and what was expected; the CLI prints it and exits with code 2.

Where the file is: ``--config PATH``, else ``$LIQTUI_CONFIG``, else ``<user config dir>/config.toml``.
A missing default file means defaults; a missing file that was asked for by name is an error.
"""

from __future__ import annotations

import os
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "liqtui"
DEFAULT_VENUES = ("binanceusdm", "bybit", "okx", "hyperliquid")


class ConfigError(Exception):
    """A configuration file that cannot be used; the message is meant for the user as is."""


@dataclass(frozen=True)
class VenueSettings:
    enabled: bool = True
    # URL prefix -> replacement for every REST and websocket URL of the venue's client.
    url_rewrite: dict[str, str] = field(default_factory=dict)
    # Options passed to the ccxt client as is (proxies, timeouts, ...).
    ccxt: dict[str, Any] = field(default_factory=dict)
    # Open-interest polling interval in seconds; 0 means the global ``oi_poll_seconds``.
    oi_poll_seconds: float = 0.0


@dataclass(frozen=True)
class LevelSettings:
    """The estimated liquidation-level model (DOMAIN.md section 3)."""

    leverage_weights: dict[str, float] = field(
        default_factory=lambda: {"5": 0.15, "10": 0.30, "25": 0.25, "50": 0.20, "100": 0.10}
    )
    maintenance_margin: float = 0.004
    long_share: float = 0.5
    lookback_days: float = 30.0
    half_life_hours: float = 0.0  # 0 = no decay


@dataclass(frozen=True)
class UISettings:
    theme: str = "dark"
    render_hz: float = 4.0
    layout: str = "auto"  # auto | full | medium | compact | tape | ladder | oi
    tape_min_usd: float = 0.0
    big_liquidation_usd: float = 100_000.0
    # action name -> key(s), e.g. { next_symbol = "]", quit = "q,ctrl+c" }
    keys: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    watchlist: list[str] = field(
        default_factory=lambda: ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
    )
    cross_assets: list[str] = field(
        default_factory=lambda: ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT"]
    )
    oi_poll_seconds: float = 15.0
    stale_after_seconds: float = 30.0
    record: bool = True
    record_path: str = ""  # empty: <user data dir>/liqtui.sqlite
    retention_days: float = 30.0
    venues: dict[str, VenueSettings] = field(
        default_factory=lambda: {name: VenueSettings() for name in DEFAULT_VENUES}
    )
    levels: LevelSettings = field(default_factory=LevelSettings)
    ui: UISettings = field(default_factory=UISettings)
    # Where these settings came from (not a key of the file).
    source: str = field(default="(defaults)", metadata={"internal": True})

    @property
    def enabled_venues(self) -> list[str]:
        return [name for name, venue in self.venues.items() if venue.enabled]

    @property
    def recording_path(self) -> Path:
        return Path(self.record_path).expanduser() if self.record_path else data_dir() / "liqtui.sqlite"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def resolve_config_path(explicit: str | None) -> tuple[Path, bool]:
    """The file to read and whether the user named it (a named file must exist)."""
    if explicit:
        return Path(explicit).expanduser(), True
    env = os.environ.get("LIQTUI_CONFIG")
    if env:
        return Path(env).expanduser(), True
    return default_config_path(), False


def load_settings(explicit: str | None = None) -> Settings:
    path, named = resolve_config_path(explicit)
    if not path.exists():
        if named:
            raise ConfigError(f"{path}: config file not found")
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    settings = _build(Settings, raw, path, prefix="")
    return _replace_source(settings, str(path))


def settings_from_dict(raw: dict[str, Any], source: str = "(dict)") -> Settings:
    """Build settings from a parsed TOML-like mapping (tests, embedding)."""
    return _replace_source(_build(Settings, raw, Path(source), prefix=""), source)


def _replace_source(settings: Settings, source: str) -> Settings:
    import dataclasses

    return dataclasses.replace(settings, source=source)


_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp in _TYPE_WORDS:
        return _TYPE_WORDS[tp]
    if origin is list:
        (inner,) = typing.get_args(tp)
        return f"a list of {_describe(inner).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict or is_dataclass(tp):
        return "a table"
    return str(tp)


def _build(cls: type, raw: Any, path: Path, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: key '{prefix.rstrip('.') or '(top)'}': expected a table, got {raw!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if not f.metadata.get("internal")}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        key = prefix + unknown[0]
        raise ConfigError(
            f"{path}: unknown key '{key}' (expected one of: {', '.join(sorted(known))})"
        )
    kwargs: dict[str, Any] = {}
    for name, f in known.items():
        if name not in raw:
            continue
        kwargs[name] = _convert(hints[name], raw[name], path, prefix + name)
    # Settings.venues: a venue table given in the file is merged over the defaults, so that
    # `[venues.okx] enabled = false` does not silently disable every other venue.
    if cls is Settings and "venues" in kwargs:
        merged = {name: VenueSettings() for name in DEFAULT_VENUES}
        merged.update(kwargs["venues"])
        kwargs["venues"] = merged
    try:
        return cls(**kwargs)
    except TypeError as exc:  # pragma: no cover - guarded by the checks above
        raise ConfigError(f"{path}: {exc}") from None


def _convert(tp: Any, value: Any, path: Path, key: str) -> Any:
    def fail() -> ConfigError:
        return ConfigError(f"{path}: key '{key}': expected {_describe(tp)}, got {value!r}")

    if is_dataclass(tp):
        return _build(tp, value, path, key + ".")
    origin = typing.get_origin(tp)
    if origin is list:
        (inner,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise fail()
        return [_convert(inner, item, path, f"{key}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        key_type, value_type = typing.get_args(tp)
        if not isinstance(value, dict):
            raise fail()
        return {str(k): _convert(value_type, v, path, f"{key}.{k}") for k, v in value.items()}
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise fail()
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail()
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail()
        return value
    if tp is str:
        if not isinstance(value, str):
            raise fail()
        return value
    if isinstance(tp, types.UnionType):  # pragma: no cover - not used by the settings today
        return value
    raise fail()


def settings_as_dict(settings: Settings) -> dict[str, Any]:
    import dataclasses

    data = dataclasses.asdict(settings)
    data.pop("source", None)
    return data


DEFAULT_CONFIG_TEXT = '''\
# liqtui configuration. Every key is optional; the values below are the defaults.
# Location: --config PATH, else $LIQTUI_CONFIG, else this file.

# Symbols for [ and ] and 1-9, as ccxt unified symbols (short forms like "BTC" also work).
watchlist = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
# The cross-asset strip along the bottom of the desk.
cross_assets = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT"]

# How often open interest is polled, and when a silent feed counts as stale (seconds).
oi_poll_seconds = 15.0
stale_after_seconds = 30.0

# Record every event to an embedded SQLite file so history survives a restart.
record = true
record_path = ""        # empty: the platform data dir, liqtui.sqlite
retention_days = 30.0

# One table per venue (ccxt ids). url_rewrite maps URL prefixes to replacements for every
# REST and websocket URL of that venue (mirrors, proxies, tests); ccxt = options for the client.
[venues.binanceusdm]
enabled = true
url_rewrite = {}
ccxt = {}

[venues.bybit]
enabled = true

[venues.okx]
enabled = true

[venues.hyperliquid]
enabled = true

# The estimated liquidation-level model (see DOMAIN notes): leverage mix of new positions,
# maintenance margin rate, share of new OI that is long, and how far back history is used.
[levels]
leverage_weights = { "5" = 0.15, "10" = 0.30, "25" = 0.25, "50" = 0.20, "100" = 0.10 }
maintenance_margin = 0.004
long_share = 0.5
lookback_days = 30.0
half_life_hours = 0.0   # 0 = estimated levels do not decay

[ui]
theme = "dark"          # dark | light | ansi | a theme file in the config dir's themes/
render_hz = 4.0         # screen refreshes per second (lower it over slow SSH links)
layout = "auto"         # auto | full | medium | compact | tape | ladder | oi
tape_min_usd = 0.0
big_liquidation_usd = 100000.0
# Remap keys: action = "key[,key]", e.g. next_symbol = "n"
keys = {}
'''
