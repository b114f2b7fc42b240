"""Desk themes: loading theme files (data, not code) and the app colours the panes use.

A theme file is TOML::

    dark = true            # optional, default true
    ansi = false           # true: only the terminal's 16 colours
    [colors]               # Textual's base colours; `primary` is required
    primary = "#4c8dd6"
    background = "#0e1116"
    [variables]            # liqtui's app colours (APP_VARIABLES) and any Textual variable
    bid = "#3fb27f"

The built-in themes live in the repository's top-level ``themes/`` (the package reaches them
through the ``liqtui/ui/themes`` symlink, and wheels ship them as package data); users add theme files to
``<config dir>/themes/``. The theme's name is the file name without ``.toml``. A file that cannot
be used is reported by name and skipped; it never stops the desk from starting.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

BUILTIN_DIR = Path(__file__).parent / "themes"
BUILTIN_NAMES = ("dark", "light", "ansi")
DEFAULT_THEME = "dark"

# The contract with the panes: every theme defines these, the panes use them as $bid, $ask, ...
APP_VARIABLES: dict[str, str] = {
    "bid": "#3fb27f",
    "ask": "#e0525d",
    "liq-long": "#ff6b6b",
    "liq-short": "#4fc3f7",
    "heat": "#f0a030",
    "stale": "#8a8f98",
    "big": "#ffd54f",
    "heatmap-long": "#f08c2e",
    "heatmap-short": "#9b7bff",
    "heatmap-price": "#e6e6e6",
}

_COLOR_KEYS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_TOP_KEYS = ("dark", "ansi", "colors", "variables")


class ThemeError(Exception):
    """A theme file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ThemeLoad:
    themes: list[Theme]
    errors: list[str]  # one line per file that was skipped


def _check_color(path: Path, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{path.name}: '{key}' must be a colour string, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{path.name}: '{key}' is not a colour: {value!r}") from None
    return value


def load_theme_file(path: Path) -> Theme:
    """One theme from one file, or ThemeError saying what is wrong with it."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path.name}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path.name}: cannot read: {exc}") from None
    unknown = sorted(set(raw) - set(_TOP_KEYS))
    if unknown:
        raise ThemeError(f"{path.name}: unknown key '{unknown[0]}' (expected {', '.join(_TOP_KEYS)})")
    colors = raw.get("colors", {})
    variables = raw.get("variables", {})
    if not isinstance(colors, dict) or not isinstance(variables, dict):
        raise ThemeError(f"{path.name}: [colors] and [variables] must be tables")
    bad = sorted(set(colors) - set(_COLOR_KEYS))
    if bad:
        raise ThemeError(f"{path.name}: unknown colour '{bad[0]}' (expected {', '.join(_COLOR_KEYS)})")
    if "primary" not in colors:
        raise ThemeError(f"{path.name}: [colors] needs at least 'primary'")
    for flag in ("dark", "ansi"):
        if not isinstance(raw.get(flag, False), bool):
            raise ThemeError(f"{path.name}: '{flag}' must be true or false")
    checked = {key: _check_color(path, f"colors.{key}", value) for key, value in colors.items()}
    theme_vars = {key: _check_color(path, f"variables.{key}", value) for key, value in variables.items()}
    return Theme(
        name=path.stem,
        dark=raw.get("dark", True),
        ansi=raw.get("ansi", False),
        variables={**APP_VARIABLES, **theme_vars},
        # The keys were checked against _COLOR_KEYS, Theme's colour fields (all str | None); mypy
        # cannot tell a dict[str, str] holds none of its float fields.
        **checked,  # type: ignore[arg-type]
    )


def load_themes(user_dir: Path | None) -> ThemeLoad:
    """The built-in themes, then the user's (a user file may replace a built-in by its name)."""
    themes: list[Theme] = []
    errors: list[str] = []
    files = sorted(BUILTIN_DIR.glob("*.toml"))
    if user_dir is not None and user_dir.is_dir():
        files += sorted(user_dir.glob("*.toml"))
    for path in files:
        try:
            themes.append(load_theme_file(path))
        except ThemeError as exc:
            errors.append(str(exc))
    return ThemeLoad(themes, errors)
