"""Every command the CLI lists has its module, and a module missing from the install fails loudly
(a packaging error), never a command quietly left out of the list."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import liqtui
from liqtui.cli import COMMANDS


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, n, _help in COMMANDS], ids=lambda x: x)
def test_every_listed_command_has_its_module(module, name):
    mod = importlib.import_module(f"liqtui.commands.{module}")
    assert callable(mod.add_arguments) and callable(mod.run), name


def test_a_command_whose_module_is_missing_fails_loudly(tmp_path):
    package = tmp_path / "liqtui"
    shutil.copytree(Path(liqtui.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "commands" / "stats.py").unlink()  # a broken install: the file did not ship
    env = {
        "PYTHONPATH": ":".join([str(tmp_path), *sys.path]),
        "HOME": str(tmp_path),
        "LIQTUI_CONFIG": str(tmp_path / "none.toml"),
    }
    listed = subprocess.run(
        [sys.executable, "-m", "liqtui", "--help"], capture_output=True, text=True, env=env
    )
    assert listed.returncode == 0 and "stats" in listed.stdout  # the table lists it, as shipped
    ran = subprocess.run(
        [sys.executable, "-m", "liqtui", "stats", str(tmp_path / "x.sqlite")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ran.returncode != 0
    assert "No module named 'liqtui.commands.stats'" in ran.stderr, ran.stderr[-2000:]
