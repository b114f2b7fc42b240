"""Textual's Strip without the reference to itself that its caches keep, and with its caches made
when first used.

Textual (8.2) caches the result of a strip's ``adjust_cell_length``, ``crop_extend`` and ``divide``
in the strip's own caches, and when nothing changes that result is the strip itself: the strip then
refers to itself, a cycle, so it is not freed when the last frame that showed it is gone but waits for
the garbage collector, with its seven caches and its segments. At stress the desk's frames left
~20,000 such objects for each full collection during keys, which took 55-83 ms CPU (the longest
stalls). ``install`` drops such an entry as it is made: the strip is returned as before, only not
remembered by itself (finding it again is a length check); the other entries stay. Figures: bench/README.md, "The desk in-process".

Textual's ``Strip.__init__`` also makes its seven caches (a ``FIFOCache`` each) for every strip, and
most strips use one or two of them, or none: a frame's strips (each pane's lines, the compositor's
cuts of them) made ~8 objects for the collector per strip, seven of them empty caches. An opening
of the symbol picker made 1,008 of its ~2,200 new objects so, and a key's frame (`]`) half of its
own. ``install`` makes each cache at its first use instead (the same cache, the same size), so a
strip is one object for the collector with its segments (bench/README.md, "A strip's caches made
at their first use").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.segment import Segment
from textual.cache import FIFOCache
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


# What Textual's Strip.__init__ sets besides its caches, and each one's value there (Textual 8.2).
_PLAIN_SLOTS = {"_segments", "_cell_length", "_render_cache", "_link_ids", "_cell_count"}


def _cache_sizes() -> dict[str, int] | None:
    """Each cache of a new Strip and its size, read from one that Textual's own ``__init__`` made;
    None when the Strip is not the one this was written for (another slot, another kind of cache):
    its caches are then left as Textual makes them."""
    init = getattr(Strip.__init__, "__wrapped__", Strip.__init__)
    probe = Strip.__new__(Strip)
    init(probe, [])
    sizes = {}
    for name in Strip.__slots__:
        value = getattr(probe, name, None)
        if name in _PLAIN_SLOTS:
            continue
        if type(value) is not FIFOCache or not name.endswith("_cache"):
            return None
        sizes[name] = value._maxsize
    return sizes


def _lazy_caches(sizes: dict[str, int]) -> tuple[Callable[..., None], Callable[[Strip, str], Any]]:
    def __init__(self: Strip, segments: Iterable[Segment], cell_length: int | None = None) -> None:
        self._segments = list(segments)
        self._cell_length = cell_length
        self._render_cache = None
        self._link_ids = None
        self._cell_count = None

    def __getattr__(self: Strip, name: str) -> Any:
        """A cache's slot is empty until its first use (a slot not set reads through here)."""
        size = sizes.get(name)
        if size is None:
            raise AttributeError(f"'Strip' object has no attribute {name!r}")
        cache: FIFOCache[Any, Any] = FIFOCache(size)
        setattr(self, name, cache)
        return cache

    return __init__, __getattr__


def install() -> None:
    """Wrap the three methods and make the caches lazy, once (a second call does nothing)."""
    for name, cache in _CACHED.items():
        method = getattr(Strip, name)
        if not hasattr(method, "__wrapped__"):
            setattr(Strip, name, _without_self(method, cache))
    if not hasattr(Strip.__init__, "__wrapped__") and (sizes := _cache_sizes()) is not None:
        init, getattr_ = _lazy_caches(sizes)
        init.__wrapped__ = Strip.__init__  # type: ignore[attr-defined]
        Strip.__init__ = init  # type: ignore[method-assign]
        Strip.__getattr__ = getattr_  # type: ignore[attr-defined]
