"""Nothing under domain, engine, feeds or storage (nor the headless commands) imports Textual."""

import pkgutil
import subprocess
import sys

import liqtui

HEADLESS_PACKAGES = ("liqtui.domain", "liqtui.engine", "liqtui.feeds", "liqtui.storage")
HEADLESS_MODULES = ("liqtui.config", "liqtui.cli", "liqtui.api")
HEADLESS_COMMANDS = ("tail", "snapshot", "risk", "record", "stats", "export", "config")


def _modules() -> list[str]:
    names = list(HEADLESS_MODULES)
    for package in HEADLESS_PACKAGES:
        mod = __import__(package, fromlist=["_"])
        names.append(package)
        names += [m.name for m in pkgutil.walk_packages(mod.__path__, prefix=package + ".")]
    names += [f"liqtui.commands.{c}" for c in HEADLESS_COMMANDS]
    return names


def test_headless_code_never_imports_textual():
    code = (
        "import importlib, sys\n"
        f"for name in {_modules()!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError as exc:\n"
        "        if exc.name != name: raise\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad[:5]\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_walk_finds_the_engine():
    # Guards the test above against silently checking nothing.
    assert "liqtui.domain.events" in _modules()
    assert liqtui.__version__
