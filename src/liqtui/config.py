"""Typed settings from one TOML file; paths from platformdirs.

The settings object is built once (``load_settings``) by the command line and passed down; nothing
reads configuration from module globals. A broken file raises ``ConfigError`` whose message names
the file, the key and what was expected; the CLI prints it and exits with code 2.

Where the file is: ``--config PATH``, else ``$LIQTUI_CONFIG``, else ``<user config dir>/config.toml``.
A missing default file means defaults; a missing file that was asked for by name is an error.

Every numeric key declares its range in its field's metadata (``Range``): a value outside it, NaN
or an infinity, is a ``ConfigError`` naming the file, the key and the range. Text keys with a fixed
set of values declare ``choices``; ``check`` holds any other rule. Keys whose validity depends on
files of this machine (the theme, ``record_path``) are checked by ``load_settings``.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from liqtui.domain.alerts import ALERT_KINDS
from liqtui.domain.events import Side
from liqtui.domain.symbols import coin_of
from liqtui.domain.terminal import TerminalNotices
from liqtui.domain.venues import VENUE_IDS
from liqtui.engine.alerts import Rule

APP_NAME = "liqtui"
DEFAULT_VENUES = VENUE_IDS
LAYOUTS = ("auto", "full", "medium", "compact", "tape", "ladder", "oi", "heatmap")
# The themes that ship with liqtui (top-level themes/, reached through this symlink).
BUILTIN_THEME_DIR = Path(__file__).parent / "ui" / "themes"


class ConfigError(Exception):
    """A configuration file that cannot be used; the message is meant for the user as is."""


@dataclass(frozen=True)
class Range:
    """The values a number may take: finite, from ``low`` to ``high`` (an end is left out when
    ``*_open``); ``zero`` says what 0 means when 0 is allowed outside that span."""

    low: float
    high: float
    unit: str = ""
    low_open: bool = False
    high_open: bool = False
    zero: str = ""

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if value == 0 and self.zero:
            return True
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        opening, closing = "(" if self.low_open else "[", ")" if self.high_open else "]"
        span = f"{opening}{_short(self.low)}, {_short(self.high)}{closing}"
        unit = f" {self.unit}" if self.unit else ""
        zero = f" (0: {self.zero})" if self.zero else ""
        return f"{span}{unit}{zero}"


def _short(number: float) -> str:
    mantissa, e, exponent = f"{number:g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if e else mantissa


def _ranged(low: float, high: float, unit: str = "", **options: Any) -> dict[str, Any]:
    """Field metadata of a number key: its ``Range``."""
    return {"range": Range(low, high, unit, **options)}


def _is_address(text: str) -> bool:
    return len(text) == 42 and text[:2] == "0x" and all(c in "0123456789abcdefABCDEF" for c in text[2:])


def _addresses_problem(items: list[str]) -> str | None:
    bad = next((i for i, text in enumerate(items) if not _is_address(text)), None)
    if bad is None:
        return None
    return f"item {bad}: expected an address 0x followed by 40 hex digits, got {items[bad]!r}"


def _url_problem(text: str) -> str | None:
    if text == "" or urlsplit(text).scheme in ("http", "https") and urlsplit(text).netloc:
        return None
    return f'expected an http(s) URL or "" (off), got {text!r}'


def read_accounts_file(path: Path) -> list[str]:
    """The addresses of an accounts file (one a line, blank lines and '#' comments skipped, lower
    case); ConfigError naming the file and line of the first bad one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the accounts file: {exc}") from None
    out = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if not _is_address(text):
            shown = text if len(text) <= 50 else text[:49] + "…"
            raise ConfigError(
                f"{path}: line {number}: expected an address 0x followed by 40 hex digits, got {shown!r}"
            )
        out.append(text.lower())
    return list(dict.fromkeys(out))


def _path_problem(text: str) -> str | None:
    """Why ``text`` cannot name a file, or None."""
    if "\x00" in text:
        return f"a path cannot hold a NUL character, got {text!r}"
    try:
        Path(text).expanduser()
    except RuntimeError:
        return f"no home directory for {text.split('/')[0]!r} (a ~user that does not exist)"
    return None


# The ccxt client options a [venues.X] ccxt table may give, and what each must be: ccxt sets every
# key of its config as an attribute of the client, so an unknown one could replace a method or the
# URLs. Text options are credentials, proxies and the user agent; tables are merged into ccxt's own.
_CCXT_NUMBERS = {
    "timeout": Range(0, 600_000, "ms", low_open=True),  # per REST request
    "rateLimit": Range(0, 60_000, "ms"),  # between REST requests
    "timeout_on_exit": Range(0, 60_000, "ms"),
}
_CCXT_FLAGS = ("enableRateLimit", "verify", "validateServerSsl")
_CCXT_TEXTS = (
    "apiKey",
    "secret",
    "password",
    "uid",
    "login",
    "twofa",
    "privateKey",
    "walletAddress",
    "token",
    "userAgent",
    "httpProxy",
    "httpsProxy",
    "socksProxy",
    "wsProxy",
    "wssProxy",
    "wsSocksProxy",
)
_CCXT_TABLES = ("options", "headers", "streaming")


def _ccxt_problem(options: Mapping[str, Any]) -> str | None:
    """Why a ccxt options table cannot be passed to the client (the first problem), or None."""
    for name, value in options.items():
        if name in _CCXT_NUMBERS:
            if value not in _CCXT_NUMBERS[name]:
                return f"option '{name}': expected a number in {_CCXT_NUMBERS[name]}, got {value!r}"
        elif name in _CCXT_FLAGS:
            if not isinstance(value, bool):
                return f"option '{name}': expected true or false, got {value!r}"
        elif name in _CCXT_TEXTS:
            if not isinstance(value, str):
                return f"option '{name}': expected a string, got {value!r}"
        elif name in _CCXT_TABLES:
            if not isinstance(value, dict):
                return f"option '{name}': expected a table, got {value!r}"
        else:
            known = ", ".join([*_CCXT_NUMBERS, *_CCXT_FLAGS, *_CCXT_TEXTS, *_CCXT_TABLES])
            return f"unknown option '{name}' (liqtui passes only these to ccxt: {known})"
    return None


@dataclass(frozen=True)
class VenueSettings:
    enabled: bool = True
    # URL prefix -> replacement for every REST and websocket URL of the venue's client.
    url_rewrite: dict[str, str] = field(default_factory=dict)
    # Options passed to the ccxt client as is (proxies, timeouts, ...). Never in a repr: API keys.
    ccxt: dict[str, Any] = field(default_factory=dict, repr=False, metadata={"check": _ccxt_problem})
    # Open-interest polling interval in seconds; 0 means the global ``oi_poll_seconds``.
    oi_poll_seconds: float = field(
        default=0.0, metadata=_ranged(0.1, 86_400, "seconds", zero="the global oi_poll_seconds")
    )
    # Hyperliquid only: the backstop liquidator vault whose fills are liquidations ("" = the
    # registry's default, domain/venues.py; not verified against live data).
    liquidator_vault: str = field(
        default="",
        metadata={
            "check": lambda text: (
                None
                if text == "" or _is_address(text)
                else f"expected an address 0x followed by 40 hex digits, got {text!r}"
            )
        },
    )
    # Hyperliquid only: accounts whose positions are MEASURED (besides those discovered from the
    # watchlist coins' trades): addresses here, and/or a file of one address a line ('#' comments;
    # a relative path is read from the config file's directory).
    accounts: list[str] = field(
        default_factory=list, metadata={"check": lambda items: _addresses_problem(items)}
    )
    accounts_file: str = field(default="", metadata={"check": _path_problem})
    # An optional leaderboard of accounts to track too (an undocumented endpoint: off when "").
    leaderboard_url: str = field(default="", metadata={"check": lambda url: _url_problem(url)})
    # Weight a minute liqtui spends on Hyperliquid's info endpoint, all requests together (its
    # limit is 1200 a minute per IP), and the smallest position on a watched coin worth tracking.
    weight_budget: float = field(default=600.0, metadata=_ranged(200, 1200, "weight a minute"))
    min_position_usd: float = field(default=10_000.0, metadata=_ranged(0, 1e12, "USD"))


@dataclass(frozen=True)
class LevelSettings:
    """The estimated liquidation-level model (docs/level-model.md)."""

    # leverage -> weight; weights are renormalized, so 15 and 0.15 mean the same.
    leverage_weights: dict[str, float] = field(
        default_factory=lambda: {"5": 0.15, "10": 0.30, "25": 0.25, "50": 0.20, "100": 0.10},
        metadata={
            **_ranged(0, 100),
            "keys": Range(1, 1000, low_open=True),
            "check": lambda weights: (
                None
                if any(w > 0 for w in weights.values())
                else "at least one leverage needs a positive weight"
            ),
        },
    )
    maintenance_margin: float = field(default=0.004, metadata=_ranged(0, 0.5, high_open=True))
    long_share: float = field(default=0.5, metadata=_ranged(0, 1))
    lookback_days: float = field(default=30.0, metadata=_ranged(0, 3650, "days", zero="levels never age out"))
    half_life_hours: float = field(default=0.0, metadata=_ranged(0, 87_600, "hours", zero="no decay"))


@dataclass(frozen=True)
class UISettings:
    theme: str = "dark"  # checked against the theme files by load_settings
    render_hz: float = field(default=4.0, metadata=_ranged(0.2, 30, "per second"))
    layout: str = field(default="auto", metadata={"choices": LAYOUTS})
    tape_min_usd: float = field(default=0.0, metadata=_ranged(0, 1e12, "USD"))
    big_liquidation_usd: float = field(default=100_000.0, metadata=_ranged(0, 1e12, "USD"))
    # action name -> key(s), e.g. { next_symbol = "]", quit = "q,ctrl+c" }
    keys: dict[str, str] = field(default_factory=dict)


_STREAM_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class BusSettings:
    """The NATS JetStream bus (docs/bus.md): where it is, the stream a collector creates, and how to
    log in. Every credential may come from the environment instead (``LIQTUI_BUS_*``, ``bus_env``)."""

    url: str = ""  # nats://host:4222 or tls://host:4222; empty: no bus, the venues directly
    stream: str = field(
        default="LIQTUI",
        metadata={
            "check": lambda name: (
                None if _STREAM_NAME.fullmatch(name) else f"expected 1-64 of A-Z a-z 0-9 _ -, got {name!r}"
            ),
        },
    )
    max_age_hours: float = field(default=24.0, metadata=_ranged(0.1, 8760, "hours"))
    max_bytes_mb: float = field(default=4096.0, metadata=_ranged(1, 1e7, "MB", zero="no size limit"))
    duplicate_window_seconds: float = field(default=120.0, metadata=_ranged(1, 86_400, "seconds"))
    user: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    creds_file: str = field(
        default="", metadata={"check": _path_problem}
    )  # a NATS .creds file (JWT + nkey seed)
    tls_ca: str = field(
        default="", metadata={"check": _path_problem}
    )  # CA bundle that signed the server's certificate


# Environment variables that fill a [bus] key the file leaves empty.
BUS_ENV = {
    "url": "LIQTUI_BUS_URL",
    "user": "LIQTUI_BUS_USER",
    "password": "LIQTUI_BUS_PASSWORD",
    "token": "LIQTUI_BUS_TOKEN",
    "creds_file": "LIQTUI_BUS_CREDS",
    "tls_ca": "LIQTUI_BUS_TLS_CA",
}


def bus_env(bus: BusSettings, environ: Mapping[str, str] = os.environ) -> BusSettings:
    """``bus`` with every empty key taken from its ``LIQTUI_BUS_*`` variable when that is set."""
    import dataclasses

    found = {key: environ[var] for key, var in BUS_ENV.items() if not getattr(bus, key) and environ.get(var)}
    return dataclasses.replace(bus, **found) if found else bus  # type: ignore[arg-type]  # every key in BUS_ENV is a str field


# The keys each kind of alert rule takes besides name, kind, enabled, symbols and cooldown.
ALERT_KEYS = {
    "liquidation": ("venues", "side", "min_usd"),
    "burst": ("venues", "side", "min_usd", "window"),
    "cascade": ("venues", "side", "min_usd", "window", "k", "percentile", "side_share"),
    "cluster_near": ("side", "min_usd", "pct"),
    "cluster_swept": ("venues", "side", "min_usd"),
    "oi_change": ("venues", "pct", "window", "scope"),
    "funding": ("venues", "side", "rate"),
    "position_near": ("venues", "side", "min_usd", "pct"),
}
_COMMON_ALERT_KEYS = ("name", "kind", "enabled", "symbols", "cooldown")
# What 0 (a key left out) means per kind: window in seconds, pct in %, rate in % per 8 h.
ALERT_DEFAULTS: dict[str, dict[str, float]] = {
    "burst": {"window": 60},
    "cascade": {"window": 60, "k": 3, "percentile": 95, "side_share": 0.65},
    "cluster_near": {"pct": 0.5},
    "oi_change": {"pct": 3, "window": 300},
    "funding": {"rate": 0.1},
    "position_near": {"pct": 2},
}
_KIND_DEFAULT = "the kind's default"


@dataclass(frozen=True)
class AlertRuleSettings:
    """One ``[[alerts.rules]]`` table (docs/alerts.md); ``rule()`` is what the engine evaluates."""

    name: str = ""
    kind: str = ""
    enabled: bool = True
    symbols: list[str] = field(default_factory=list)
    venues: list[str] = field(default_factory=list)
    side: str = ""
    min_usd: float = field(default=0.0, metadata=_ranged(0, 1e12, "USD"))
    window: float = field(default=0.0, metadata=_ranged(1, 86_400, "seconds", zero=_KIND_DEFAULT))
    pct: float = field(default=0.0, metadata=_ranged(0, 100, "%", low_open=True, zero=_KIND_DEFAULT))
    k: float = field(default=0.0, metadata=_ranged(0.5, 20, "sigma", zero=_KIND_DEFAULT))
    percentile: float = field(default=0.0, metadata=_ranged(50, 100, "th percentile", zero=_KIND_DEFAULT))
    side_share: float = field(default=0.0, metadata=_ranged(0.5, 1, zero=_KIND_DEFAULT))
    rate: float = field(default=0.0, metadata=_ranged(0, 10, "% per 8 h", low_open=True, zero=_KIND_DEFAULT))
    scope: str = field(default="venue", metadata={"choices": ("venue", "total")})
    cooldown: float = field(
        default=60.0, metadata=_ranged(0, 86_400, "seconds", zero="every trigger is an alert")
    )

    def problem(self, given: frozenset[str]) -> str | None:
        """What is wrong with the rule as written (``given``: the keys the file set), or None."""
        if self.kind not in ALERT_KINDS:
            return f"kind: expected one of {', '.join(ALERT_KINDS)}, got {self.kind!r}"
        # A key of another kind at its default is harmless (`config show` prints every key).
        defaults = AlertRuleSettings()
        stray = sorted(
            k
            for k in given - set(ALERT_KEYS[self.kind]) - set(_COMMON_ALERT_KEYS)
            if getattr(self, k, None) != getattr(defaults, k, None)
        )
        if stray:
            return (
                f"a {self.kind} rule takes no '{stray[0]}' (its keys: "
                f"{', '.join([*_COMMON_ALERT_KEYS, *ALERT_KEYS[self.kind]])})"
            )
        bad_symbol = next((s for s in self.symbols if coin_of(s) is None), None)
        if bad_symbol is not None:
            return f"symbols: {bad_symbol!r} names no market (BTC, ETHUSDT, SOL/USDT:USDT, ...)"
        bad_venue = next((v for v in self.venues if v not in VENUE_IDS), None)
        if bad_venue is not None:
            return f"venues: unknown venue {bad_venue!r} (expected: {', '.join(VENUE_IDS)})"
        if self.side not in ("", "long", "short"):
            return f"side: expected long or short, got {self.side!r}"
        return None

    def rule(self, index: int) -> Rule:
        defaults = ALERT_DEFAULTS.get(self.kind, {})

        def value(key: str) -> float:
            return float(getattr(self, key) or defaults.get(key, 0.0))

        return Rule(
            name=self.name or self.default_name(index),
            kind=self.kind,
            coins=frozenset(c for s in self.symbols if (c := coin_of(s))),
            venues=frozenset(self.venues),
            side=Side(self.side) if self.side else None,
            min_usd=self.min_usd,
            window_ms=round(value("window") * 1000) or 60_000,
            pct=value("pct"),
            k=value("k") or 3.0,
            percentile=value("percentile") or 95.0,
            side_share=value("side_share") or 0.65,
            rate=value("rate") / 100,
            scope=self.scope,
            cooldown_ms=round(self.cooldown * 1000),
        )

    def default_name(self, index: int) -> str:
        """ "burst ≥ $5M BTC long": a name made from the rule (numbered when another one reads the same)."""
        parts = [self.kind]
        if self.min_usd:
            parts.append(f"≥ ${self.min_usd:,.0f}")
        parts += [*(coin_of(s) or s for s in self.symbols), self.side, *self.venues]
        return " ".join(p for p in parts if p)


def _default_rules() -> list[AlertRuleSettings]:
    return [
        AlertRuleSettings(kind="liquidation", min_usd=500_000),
        AlertRuleSettings(kind="burst", min_usd=5_000_000, window=60),
        AlertRuleSettings(kind="cascade", min_usd=1_000_000, window=60, k=3, percentile=95, side_share=0.65),
        AlertRuleSettings(kind="cluster_near", min_usd=20_000_000, pct=0.5, cooldown=600),
        AlertRuleSettings(kind="cluster_swept", min_usd=10_000_000),
        AlertRuleSettings(kind="oi_change", pct=3, window=300, scope="total", cooldown=600),
        AlertRuleSettings(kind="funding", rate=0.1, cooldown=3600),
    ]


def _rules_problem(rules: list[AlertRuleSettings]) -> str | None:
    names = [r.rule(i).name for i, r in enumerate(rules)]
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    return f"two rules are named {twice!r}: give one a name of its own" if twice else None


@dataclass(frozen=True)
class AlertsSettings:
    """``[alerts]``: the rules, and the terminal's ways of saying an alert fired (off by default)."""

    rules: list[AlertRuleSettings] = field(default_factory=_default_rules, metadata={"check": _rules_problem})
    bell: bool = False
    osc9: bool = False
    osc777: bool = False
    osc99: bool = False
    # apprise URLs (ntfy://, tgram://, discord://, json://...); printed redacted (they hold tokens)
    webhooks: list[str] = field(default_factory=list)
    webhook_batch_seconds: float = field(default=3.0, metadata=_ranged(0, 300, "seconds"))

    def active_rules(self) -> list[Rule]:
        return [r.rule(i) for i, r in enumerate(self.rules) if r.enabled]

    def notices(self) -> TerminalNotices:
        return TerminalNotices(bell=self.bell, osc9=self.osc9, osc777=self.osc777, osc99=self.osc99)


@dataclass(frozen=True)
class Settings:
    watchlist: list[str] = field(
        default_factory=lambda: ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"],
        metadata={"check": lambda symbols: None if symbols else "expected at least one symbol, got []"},
    )
    cross_assets: list[str] = field(
        default_factory=lambda: ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT"]
    )
    oi_poll_seconds: float = field(default=15.0, metadata=_ranged(0.1, 86_400, "seconds"))
    stale_after_seconds: float = field(default=30.0, metadata=_ranged(5, 3600, "seconds"))
    record: bool = True
    # empty: <user data dir>/liqtui.sqlite
    record_path: str = field(default="", metadata={"check": _path_problem})
    retention_days: float = field(default=30.0, metadata=_ranged(0, 36_500, "days", zero="keep everything"))
    venues: dict[str, VenueSettings] = field(
        default_factory=lambda: {name: VenueSettings() for name in DEFAULT_VENUES},
        metadata={"keys": DEFAULT_VENUES},
    )
    levels: LevelSettings = field(default_factory=LevelSettings)
    ui: UISettings = field(default_factory=UISettings)
    bus: BusSettings = field(default_factory=BusSettings)
    alerts: AlertsSettings = field(default_factory=AlertsSettings)
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
        return _with_bus_env(Settings())
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    settings = _build(Settings, raw, path, prefix="")
    _check_files(settings, path)
    return _replace_source(_with_bus_env(settings), str(path))


def _with_bus_env(settings: Settings) -> Settings:
    import dataclasses

    return dataclasses.replace(settings, bus=bus_env(settings.bus))


def theme_names() -> list[str]:
    """The themes there are: the shipped ones, then the files in ``<config dir>/themes/``."""
    names = [p.stem for d in (BUILTIN_THEME_DIR, config_dir() / "themes") for p in sorted(d.glob("*.toml"))]
    return list(dict.fromkeys(names))


def _check_files(settings: Settings, path: Path) -> None:
    """The keys that name files of this machine: the theme exists, record_path is no dangling link."""
    theme = settings.ui.theme
    if theme not in theme_names():
        raise ConfigError(
            f"{path}: key 'ui.theme': no theme '{theme}' (have: {', '.join(theme_names())}; "
            f"a theme of your own is a file {config_dir() / 'themes' / (theme + '.toml')})"
        )
    for name, venue in settings.venues.items():
        if venue.accounts_file:
            _check_accounts_file(settings, name, venue, path)
    target = settings.recording_path
    try:
        dangling = bool(settings.record_path) and target.is_symlink() and not target.exists()
        link = os.readlink(target) if dangling else ""
    except OSError:  # unreadable: the recorder says why when it opens the file
        return
    if dangling:
        raise ConfigError(
            f"{path}: key 'record_path': {target} is a symbolic link to {link}, "
            "which does not exist; point record_path at the file itself"
        )


def _check_accounts_file(settings: Settings, name: str, venue: VenueSettings, config: Path) -> None:
    """``accounts_file`` is read from the config file's directory when relative; every line checked."""
    import dataclasses

    target = config.parent / Path(venue.accounts_file).expanduser()
    try:
        read_accounts_file(target)
    except ConfigError as exc:
        raise ConfigError(f"{config}: key 'venues.{name}.accounts_file': {exc}") from None
    settings.venues[name] = dataclasses.replace(venue, accounts_file=str(target))


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
        raise ConfigError(f"{path}: unknown key '{key}' (expected one of: {', '.join(sorted(known))})")
    kwargs: dict[str, Any] = {}
    for name, f in known.items():
        if name not in raw:
            continue
        kwargs[name] = _convert(hints[name], raw[name], path, prefix + name)
        _validate(f.metadata, kwargs[name], path, prefix + name)
    # Settings.venues: a venue table given in the file is merged over the defaults, so that
    # `[venues.okx] enabled = false` does not silently disable every other venue.
    if cls is Settings and "venues" in kwargs:
        merged = {name: VenueSettings() for name in DEFAULT_VENUES}
        merged.update(kwargs["venues"])
        kwargs["venues"] = merged
    try:
        built = cls(**kwargs)
    except TypeError as exc:  # pragma: no cover - guarded by the checks above
        raise ConfigError(f"{path}: {exc}") from None
    # A table whose keys depend on each other (an alert rule) says what is wrong with it as a whole.
    problem = built.problem(frozenset(raw)) if hasattr(built, "problem") else None
    if problem:
        raise ConfigError(f"{path}: key '{prefix.rstrip('.')}': {problem}")
    return built


def _validate(meta: Mapping[str, Any], value: Any, path: Path, key: str) -> None:
    """The rules a field's metadata declares: ``range`` (of a number, or of each value of a
    table), ``keys`` (a table's keys: a Range of numbers or a tuple of names), ``choices``, ``check``."""

    def fail(where: str, expected: str, got: Any) -> ConfigError:
        return ConfigError(f"{path}: key '{where}': expected {expected}, got {got!r}")

    keys, span = meta.get("keys"), meta.get("range")
    for name, item in value.items() if isinstance(value, dict) else [(None, value)]:
        where = key if name is None else f"{key}.{name}"
        if isinstance(keys, Range) and _number(name) not in keys:
            raise fail(key, f"keys that are numbers in {keys}", name)
        if isinstance(keys, tuple) and name not in keys:
            raise ConfigError(f"{path}: unknown key '{where}' (expected one of: {', '.join(keys)})")
        if span is not None and item not in span:
            raise fail(where, f"a number in {span}", item)
    if "choices" in meta and value not in meta["choices"]:
        raise fail(key, f"one of {', '.join(meta['choices'])}", value)
    problem = meta["check"](value) if "check" in meta else None
    if problem:
        raise ConfigError(f"{path}: key '{key}': {problem}")


def _number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _convert(tp: Any, value: Any, path: Path, key: str) -> Any:
    def fail() -> ConfigError:
        return ConfigError(f"{path}: key '{key}': expected {_describe(tp)}, got {value!r}")

    if isinstance(tp, type) and is_dataclass(tp):
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
    """The settings as plain data, secrets redacted (``redact``): what may be printed."""
    import dataclasses

    data = dataclasses.asdict(settings)
    data.pop("source", None)
    return redact(data)


REDACTED = "<redacted>"
# Names of ccxt credentials (apiKey, secret, password, uid, login, twofa, privateKey,
# walletAddress, token) and of anything else that looks like one (headers, cookies).
_SECRET_NAME = re.compile(
    r"api.?key|secret|passw|private|wallet|token|^uid$|^login$|twofa|auth|cookie|credential|^webhooks$"
    r"|signature|mnemonic",
    re.IGNORECASE,
)


def redact(data: Any) -> Any:
    """A copy of ``data`` with the value of every secret-looking key, and every password in a URL
    (``http://user:pass@proxy``), replaced by ``<redacted>``."""
    if isinstance(data, dict):
        return {
            k: REDACTED if _SECRET_NAME.search(str(k)) and data[k] not in ("", None, []) else redact(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact(item) for item in data]
    if isinstance(data, str) and "@" in data and "://" in data:
        return _redact_url(data)
    return data


def _redact_url(text: str) -> str:
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:
        return text
    if password:
        return text.replace(f":{password}@", f":{REDACTED}@", 1)
    if parts.username:  # a token alone: https://TOKEN@host
        return text.replace(f"//{parts.username}@", f"//{REDACTED}@", 1)
    return text


def settings_warnings(settings: Settings) -> list[str]:
    """What the user must hear about before anything connects: TLS checks turned off."""
    return [
        f"WARNING: {settings.source}: [venues.{name}] ccxt.{key} = {json.dumps(venue.ccxt[key])} turns "
        f"TLS certificate checks OFF for {name}: anyone on the network path can read and change its data"
        for name, venue in settings.venues.items()
        if venue.enabled
        for key in ("verify", "validateServerSsl")
        if key in venue.ccxt and not venue.ccxt[key]
    ]


DEFAULT_CONFIG_TEXT = """\
# liqtui configuration. Every key is optional; the values below are the defaults.
# Location: --config PATH, else $LIQTUI_CONFIG, else this file.
# Numbers must be finite and inside the range given beside them ([ ] includes the end, ( ) does
# not); anything else stops liqtui with one message naming the key (exit code 2).

# Symbols for [ and ] and 1-9, as ccxt unified symbols (short forms like "BTC" also work).
watchlist = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
# The cross-asset strip along the bottom of the desk.
cross_assets = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT"]

# How often open interest is polled, and when a silent feed counts as stale (seconds).
oi_poll_seconds = 15.0        # [0.1, 86400] seconds
stale_after_seconds = 30.0    # [5, 3600] seconds

# Record every event to an embedded SQLite file so history survives a restart.
record = true
record_path = ""        # empty: the platform data dir, liqtui.sqlite (never a dangling symlink)
retention_days = 30.0   # [0, 36500] days (0: keep everything)

# One table per venue (ccxt ids: binanceusdm, bybit, okx, hyperliquid). url_rewrite maps URL
# prefixes to replacements for every REST and websocket URL of that venue (mirrors, proxies,
# tests); ccxt = options for the client: timeout and rateLimit (ms), enableRateLimit, verify,
# credentials (apiKey, secret, ...), proxies (httpsProxy, wsProxy, ...), userAgent, and the tables
# options, headers, streaming; any other key is refused. API keys there are never printed (`config
# show` redacts them); verify = false turns TLS certificate checks off and is warned about on every start.
[venues.binanceusdm]
enabled = true
url_rewrite = {}
ccxt = {}
oi_poll_seconds = 0.0   # [0.1, 86400] seconds (0: the global oi_poll_seconds)

[venues.bybit]
enabled = true

[venues.okx]
enabled = true

[venues.hyperliquid]
enabled = true
# The backstop liquidator vault whose fills are Hyperliquid's liquidations that liqtui can see
# ("": the default, 0x2e3d94f0562703b25c83308a05046ddaf9a8dd14, not verified against live data).
liquidator_vault = ""
# MEASURED positions: accounts are discovered from the watchlist coins' trades, plus these
# addresses, the file's (one a line; relative to this file), and a leaderboard if a URL is given
# (an undocumented endpoint, off by default). Every request to the info endpoint shares the
# weight budget (the venue allows 1200 a minute per IP); accounts whose positions on the
# watchlist's coins are all below min_position_usd are dropped.
accounts = []
accounts_file = ""
leaderboard_url = ""
weight_budget = 600.0        # [200, 1200] weight a minute
min_position_usd = 10000.0   # [0, 1e12] USD

# The estimated liquidation-level model (see DOMAIN notes): leverage mix of new positions,
# maintenance margin rate, share of new OI that is long, and how far back history is used.
[levels]
# leverage = weight: leverages in (1, 1000], weights in [0, 100], at least one above 0
# (weights are renormalized: 15 and 0.15 mean the same)
leverage_weights = { "5" = 0.15, "10" = 0.30, "25" = 0.25, "50" = 0.20, "100" = 0.10 }
maintenance_margin = 0.004   # [0, 0.5)
long_share = 0.5             # [0, 1]
lookback_days = 30.0         # [0, 3650] days (0: levels never age out)
half_life_hours = 0.0        # [0, 87600] hours (0: no decay)

[ui]
theme = "dark"          # dark | light | ansi | a theme file in the config dir's themes/
render_hz = 4.0         # [0.2, 30] per second: screen refreshes (lower it over slow SSH links)
layout = "auto"         # auto | full | medium | compact | tape | ladder | oi | heatmap
tape_min_usd = 0.0              # [0, 1e12] USD
big_liquidation_usd = 100000.0  # [0, 1e12] USD
# Remap keys: action = "key[,key]", e.g. next_symbol = "n"
keys = {}

# A NATS JetStream bus: `liqtui collect --bus URL` publishes every event there, and every command
# given `--bus URL` (or this url) reads from it instead of connecting to the venues (docs/bus.md).
# Credentials may also come from LIQTUI_BUS_USER, _PASSWORD, _TOKEN, _CREDS, _TLS_CA (and _URL);
# `config show` never prints a password or token.
[bus]
url = ""                         # nats://HOST:4222, tls://HOST:4222; empty: the venues directly
stream = "LIQTUI"                # the JetStream stream (the demo's is this name + "_DEMO")
max_age_hours = 24.0             # [0.1, 8760] hours: how much history the stream keeps
max_bytes_mb = 4096.0            # [1, 1e7] MB (0: no size limit); the oldest go first
duplicate_window_seconds = 120.0 # [1, 86400] seconds: JetStream drops a repeated message id within it
user = ""
password = ""
token = ""
creds_file = ""                  # a NATS .creds file
tls_ca = ""                      # the CA that signed the server's certificate (tls://)

# Alerts: `liqtui alerts` prints them (--replay FILE back-tests them), the desk shows them.
# The terminal's ways to say one fired, off by default (inside tmux they pass through it):
[alerts]
bell = false      # the terminal bell
osc9 = false      # a desktop notification by OSC 9 (iTerm2, WezTerm, Windows Terminal, ghostty, foot)
osc777 = false    # by OSC 777 (urxvt, foot, GNOME Terminal and other VTE terminals)
osc99 = false     # by OSC 99 (kitty)
# Phone and chat: apprise URLs, e.g. ["ntfy://ntfy.sh/my-topic", "tgram://BOT_TOKEN/CHAT_ID"];
# alerts are batched per symbol over webhook_batch_seconds and retried with backoff on failure.
webhooks = []
webhook_batch_seconds = 3.0   # [0, 300] seconds

# One [[alerts.rules]] table per rule; rules written here replace these defaults as a whole.
# Every rule takes: kind, name (default: one made from the rule), enabled = true|false,
# symbols = ["BTC", "ETHUSDT"] (default: every symbol; short forms as in the watchlist) and
# cooldown (seconds; triggers within it are the same alert, shown again as an update with
# its running USD and count; 0: every trigger an alert of its own).
# Most kinds also take venues = ["binanceusdm", ...] and side = "long" | "short".
# Per kind, a number left out (or 0) takes the kind's default given here.

[[alerts.rules]]
kind = "liquidation"       # one liquidation of at least min_usd (keys: venues, side, min_usd)
min_usd = 500000.0        # [0, 1e12] USD

[[alerts.rules]]
kind = "burst"             # min_usd liquidated on one side within window, per symbol
min_usd = 5000000.0        # [0, 1e12] USD
window = 60.0              # [1, 86400] seconds (0: the kind's default)

[[alerts.rules]]
kind = "cascade"           # price move over window > k x sigma x sqrt(window), liquidations above the
min_usd = 1000000.0        # percentile of the last hour's windows, one side >= side_share (and >= min_usd)
window = 60.0              # [1, 86400] seconds (0: the kind's default)
k = 3.0                    # [0.5, 20] sigma (0: the kind's default)
percentile = 95.0          # [50, 100] th percentile (0: the kind's default)
side_share = 0.65          # [0.5, 1] (0: the kind's default)

[[alerts.rules]]
kind = "cluster_near"      # price within pct of an ESTIMATED ladder row of at least min_usd (no venues)
min_usd = 20000000.0       # [0, 1e12] USD
pct = 0.5                  # (0, 100] % (0: the kind's default)
cooldown = 600.0           # [0, 86400] seconds (0: every trigger is an alert)

[[alerts.rules]]
kind = "cluster_swept"     # price swept an ESTIMATED cluster of at least min_usd; what the tape realized
min_usd = 10000000.0       # [0, 1e12] USD

[[alerts.rules]]
kind = "oi_change"         # OI changed by pct within window; scope = "venue" (each) or "total" (summed)
pct = 3.0                  # (0, 100] % (0: the kind's default)
window = 300.0             # [1, 86400] seconds (0: the kind's default)
scope = "total"
cooldown = 600.0           # [0, 86400] seconds (0: every trigger is an alert)

[[alerts.rules]]
kind = "funding"           # a venue's funding, restated per 8 h, at or beyond rate (side: who pays)
rate = 0.1                 # (0, 10] % per 8 h (0: the kind's default)
cooldown = 3600.0          # [0, 86400] seconds (0: every trigger is an alert)

# A tracked account's MEASURED position (Hyperliquid, where liqtui follows accounts) of at least
# min_usd within pct of its liquidation price; one alert per account within the cooldown. Off until
# you remove the # signs:
# [[alerts.rules]]
# kind = "position_near"   # keys: venues, side, min_usd, pct
# min_usd = 1000000.0      # [0, 1e12] USD
# pct = 2.0                # (0, 100] % (0: the kind's default)
"""
