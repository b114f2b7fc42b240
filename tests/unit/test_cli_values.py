"""Bad values on the command line and in the config file, as a user meets them: one clear message
and exit code 2 before anything starts, never a traceback."""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys

import pytest

from liqtui.cli import build_parser
from liqtui.commands._args import NumberIn

LIQTUI = [sys.executable, "-m", "liqtui"]
BAD_NUMBERS = ["nan", "inf", "-inf", "-5", "1e300", "twelve", ""]


def _liqtui(tmp_path, *argv: str) -> subprocess.CompletedProcess:
    # A timeout only so that a regression (a recorder running forever) fails instead of hanging.
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    return subprocess.run(
        [*LIQTUI, *argv], capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL
    )


def _numeric_options() -> list[tuple[str, str, NumberIn]]:
    """(command, option, type) of every numeric option of every command."""
    found = []
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        for action in parser._actions:
            assert action.type is not float, f"{name} {action.option_strings}: a bare float takes nan and inf"
            if isinstance(action.type, NumberIn):
                found.append((name, action.option_strings[0], action.type))
    return found


def test_every_float_option_of_every_command_has_a_range():
    options = {(command, option) for command, option, _ in _numeric_options()}
    assert {
        ("record", "--duration"),
        ("tail", "--duration"),
        ("tail", "--min-usd"),
        ("snapshot", "--timeout"),
        ("replay", "--speed"),
    } <= options


@pytest.mark.parametrize(
    "command, option, kind", _numeric_options(), ids=lambda x: getattr(x, "__name__", str(x))
)
def test_every_numeric_option_refuses_what_is_not_a_finite_number_in_range(capsys, command, option, kind):
    positional = {"replay": ["rec.sqlite"], "positions": ["BTC"]}.get(command, [])
    bad = [*BAD_NUMBERS, repr(kind.span.high * 2 + 1)]
    if 0 not in kind.span:
        bad.append("0")
    for text in bad:
        with pytest.raises(SystemExit) as exit_:
            build_parser().parse_args([command, *positional, f"{option}={text}"])
        err = capsys.readouterr().err
        assert exit_.value.code == 2
        assert f"argument {option}: expected a number in {kind.span}, got {text!r}" in err
    accepted = build_parser().parse_args([command, *positional, f"{option}={kind.span.high:g}"])
    assert math.isfinite(getattr(accepted, option.lstrip("-").replace("-", "_")))


@pytest.mark.parametrize(
    "argv, words",
    [
        (["record", "--demo", "--duration", "nan"], ["--duration", "(0, 1e8] seconds", "'nan'"]),
        (["replay", "REC", "--speed", "nan"], ["--speed", "[0, 3600]", "'nan'"]),
        (["replay", "REC", "--speed", "inf"], ["--speed", "[0, 3600]", "'inf'"]),
        (["tail", "--duration", "-5"], ["--duration", "(0, 1e8] seconds", "'-5'"]),
    ],
)
def test_bad_command_line_numbers_through_the_real_cli(tmp_path, argv, words):
    argv = [str(tmp_path / "rec.sqlite") if a == "REC" else a for a in argv]
    result = _liqtui(tmp_path, *argv)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr
    assert not list(tmp_path.glob("data/**/*.sqlite"))  # nothing started


@pytest.mark.parametrize(
    "text, key, span, command",
    [
        (
            "oi_poll_seconds = nan",
            "'oi_poll_seconds'",
            "[0.1, 86400] seconds",
            ["record", "--demo", "--duration", "1"],
        ),
        (
            "oi_poll_seconds = 0",
            "'oi_poll_seconds'",
            "[0.1, 86400] seconds",
            ["record", "--demo", "--duration", "1"],
        ),
        (
            "stale_after_seconds = -5",
            "'stale_after_seconds'",
            "[5, 3600] seconds",
            ["tail", "--duration", "1"],
        ),
        (
            "retention_days = 1e300",
            "'retention_days'",
            "[0, 36500] days",
            ["record", "--demo", "--duration", "1"],
        ),
        ("[levels]\nmaintenance_margin = 2", "'levels.maintenance_margin'", "[0, 0.5)", ["demo"]),
        ("[ui]\nrender_hz = 100", "'ui.render_hz'", "[0.2, 30] per second", ["demo"]),
        ('[ui]\ntheme = "nosuch"', "'ui.theme'", "dark", ["demo"]),
    ],
)
def test_bad_settings_through_the_real_cli(tmp_path, text, key, span, command):
    config = tmp_path / "c.toml"
    config.write_text(text + "\n")
    result = _liqtui(tmp_path, "--config", str(config), *command)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert str(config) in result.stderr and key in result.stderr and span in result.stderr
