"""Textual's Strip without the reference to itself that its caches keep.

Textual (8.2) caches the result of a strip's ``adjust_cell_length``, ``crop_extend`` and ``divide``
in the strip's own caches, and when nothing changes that result is the strip itself: the strip then
refers to itself, a cycle, so it is not freed when the last frame that showed it is gone but waits for
the garbage collector, with its seven caches and its segments. At stress the desk's frames left
~20,000 such objects for each full collection during keys, which took 55-83 ms CPU (the longest
stalls). ``install`` drops such an entry as it is made: the strip is returned as before, only not
remembered by itself (finding it again is a length check); the other entries stay. Figures: bench/README.md, "The desk in-process".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.strip import Strip

_CACHED = {
    "adjust_cell_length": "_line_length_cache",
    "crop_extend": "_crop_extend_cache",
    "divide": "_divide_cache",
}


def _without_self(method: Callable[..., Any], cache: str) -> Callable[..., Any]:
    def call(strip: Strip, *args: Any) -> Any:
        result = method(strip, *args)
        if result is strip or (type(result) is list and any(part is strip for part in result)):
            entries = getattr(strip, cache)._cache  # FIFOCache's dict (at most 4 entries)
            for key in [key for key, value in entries.items() if value is result]:
                del entries[key]
        return result

    call.__wrapped__ = method  # type: ignore[attr-defined]
    return call


def install() -> None:
    """Wrap the three methods once (a second call does nothing)."""
    for name, cache in _CACHED.items():
        method = getattr(Strip, name)
        if not hasattr(method, "__wrapped__"):
            setattr(Strip, name, _without_self(method, cache))
