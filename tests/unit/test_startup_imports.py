"""What `liqtui` imports as launched: --version and --help import no heavy library, and the demo desk
imports no ccxt (nor pandas or pyarrow, which it does not use). Which modules, never how long."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("ccxt", "pandas", "plotext", "pyarrow", "textual", "aiohttp")


def _imported(stderr: str) -> set[str]:
    """Top-level package names from `python -X importtime` lines: 'import time: 12 | 34 |   name'."""
    lines = [line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")]
    return {name.split(".")[0] for name in lines}


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_import_no_heavy_library(argv):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "liqtui", *argv], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(("liqtui ", "usage: liqtui"))
    imported = _imported(result.stderr)
    assert "liqtui" in imported  # the parse found the import lines at all
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


# `liqtui demo` through the real CLI, the app run headless for a second of simulated market.
DEMO = """
import asyncio, sys
from liqtui.cli import main
from liqtui.ui.app import LiqtuiApp

def run_briefly(app):
    print("constructed", *sorted(m for m in {HEAVY!r} if m in sys.modules))

    async def drive():
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause(1.0)
    asyncio.run(drive())

LiqtuiApp.run = run_briefly
assert main(["demo", "--rate", "stress"]) == 0
print("ran", *sorted(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_the_demo_desk_imports_no_ccxt_pandas_or_pyarrow(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("")  # the defaults, whatever the user's own config says
    env = {"LIQTUI_CONFIG": str(config), "HOME": str(tmp_path), "PYTHONPATH": ":".join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", DEMO.replace("{HEAVY!r}", repr(HEAVY))],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    constructed, ran = result.stdout.splitlines()[-2:]
    assert constructed == "constructed textual"
    assert ran.split()[0] == "ran" and "textual" in ran.split()
    assert not {"ccxt", "aiohttp", "pandas", "pyarrow"} & set(ran.split()), ran


def test_a_command_on_an_unreachable_bus_imports_no_ccxt(tmp_path):
    # The bus commands read a collector's events, never a venue: ccxt (0.5 s of start) is not needed
    # before a live source is made, and a refused bus says so without it.
    config = tmp_path / "config.toml"
    config.write_text("")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "liqtui", "tail", "--bus", "nats://127.0.0.1:1"],
        capture_output=True,
        text=True,
        env={"LIQTUI_CONFIG": str(config), "HOME": str(tmp_path), "PYTHONPATH": ":".join(sys.path)},
    )
    assert result.returncode == 2 and "cannot use the bus" in result.stderr, result.stderr[-2000:]
    imported = _imported(result.stderr)
    assert "liqtui" in imported and "nats" in imported  # the bus was tried through its client
    heavy = {"ccxt", "pandas", "pyarrow", "textual"} & imported  # aiohttp: nats-py's own transport
    assert not heavy, sorted(heavy)


def test_the_live_desk_imports_no_ccxt_before_its_first_frame(tmp_path):
    # ccxt (0.5 s of start) is needed when the venues are connected, after the first frame and the
    # recording's history: the desk is built without it (its run is not started here: no network).
    config = tmp_path / "config.toml"
    config.write_text("")
    script = (
        "import sys\nfrom liqtui.cli import main\nfrom liqtui.ui.app import LiqtuiApp\n"
        f"LiqtuiApp.run = lambda app: print('built', *sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "assert main(['live']) == 0\n"
    )
    env = {"LIQTUI_CONFIG": str(config), "HOME": str(tmp_path), "PYTHONPATH": ":".join(sys.path)}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    built = result.stdout.splitlines()[-1].split()
    assert built[0] == "built" and "textual" in built
    assert not {"ccxt", "aiohttp"} & set(built), built


def test_a_launch_s_imports_go_past_no_young_collector_pass_at_every_700_objects():
    # Textual, the engine and numpy build long-lived objects by the ten thousand: ~110 young passes
    # over them at the default 700 cost 20-40 ms of every launch before the desk's first frame.
    probe = (
        "import contextlib, gc, sys\nfrom liqtui.cli import main\n"
        "with contextlib.suppress(SystemExit):\n    main(['--version'])\n"
        "print(gc.get_threshold()[0], file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.split() == ["10000"]


def test_the_reading_child_imports_the_reader_alone_not_the_engine_nor_the_recorder():
    # A late replay's and a warm-up's reading child (feeds/replay_ahead.py) is their long pole at the
    # end; its start imported the whole engine and the recorder with their packages (~50 ms of its CPU).
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "liqtui.feeds.replay_ahead"],
        input="",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [
        line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
    ]
    assert "liqtui.storage.reader" in lines and "numpy" in lines  # what it reads with
    assert not {"liqtui.engine.engine", "liqtui.storage.recorder", "liqtui.config"} & set(lines)


# `liqtui replay FILE --from TIME` through the real CLI, the reading child's start watched: it starts
# before the command's module and the settings are imported, and a command that fails ends it.
EARLY = """
import sys
import liqtui.feeds.replay_ahead as ahead
from liqtui.cli import main

started = []
spare = ahead.spare_child

def watched():
    child = spare()
    started.append((child, "liqtui.config" in sys.modules))
    return child

ahead.spare_child = watched
code = main([*sys.argv[1:], "replay", "missing.sqlite", "--from", "+1m"])
print(code, [(imported, child.poll() is not None) for child, imported in started])
"""


@pytest.mark.parametrize("config", ["empty", "broken"])
def test_a_late_replay_s_reading_child_starts_before_the_command_s_imports_and_ends_with_a_failure(
    tmp_path, config
):
    path = tmp_path / "config.toml"
    path.write_text("" if config == "empty" else "[levels\n")  # broken: the command fails before its file
    env = {"HOME": str(tmp_path), "PYTHONPATH": ":".join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", EARLY, "--config", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # One child, started with the config not imported yet, ended when main returned (the file is missing).
    assert result.stdout.split("\n")[0] == "2 [(False, True)]", (result.stdout, result.stderr[-2000:])
