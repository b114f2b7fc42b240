"""Imports kept off the paths that wait for them: a heavy module imported beside an event loop
without the garbage collector's passes over it (``import_frozen``), and a package's names imported
at their first use (``names_on_first_use``).

numpy (~0.1-0.2 s of CPU to import) and ccxt (~0.5-0.8 s: every exchange it knows) are imported in a
thread while the desk runs. Their modules build objects by the hundred thousand, all kept for the
process's life; a collector's pass triggered in the importing thread walked them with the thread
holding the interpreter: 16-78 ms at a time, stalls of the desk's loop (keys, frames) of 60-160 ms
just after a live desk's history was in (bench/README.md, "The live desk's history on screen ...").
So the collector waits while the import runs, and what it built leaves the collector's generations
(``gc.freeze``) once it is in."""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def import_frozen(name: str) -> None:
    """Import ``name`` with the collector off meanwhile, then freeze what the process holds (the
    module's objects, and whatever the process kept until then, as long-lived as they are). A module
    imported already is left as it is (one under way in another thread is waited for)."""
    if name in sys.modules:
        importlib.import_module(name)
        return
    was_on = gc.isenabled()
    gc.disable()
    try:
        importlib.import_module(name)
    finally:
        gc.freeze()
        if was_on:
            gc.enable()


def names_on_first_use(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A package's ``__getattr__`` (PEP 562): each name of ``homes`` imported from its module at its
    first use and kept in the package, so that importing one module of the package (the reading
    child's reader) does not import every module the package's names come from."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    return __getattr__
