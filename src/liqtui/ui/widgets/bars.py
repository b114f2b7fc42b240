"""Text bars drawn with block glyphs, so a size reads as a length even with NO_COLOR."""

from __future__ import annotations

import math

_EIGHTHS = " ▏▎▍▌▋▊▉█"


def eighths(value: float | None, scale: float | None, width: int) -> int:
    """Length of a bar in eighths of a cell: value/scale of ``width`` cells, at least one eighth if > 0."""
    if not value or not scale or width <= 0 or value <= 0 or scale <= 0 or not math.isfinite(value):
        return 0
    length = int(round(min(1.0, value / scale) * width * 8))
    return max(1, length)


def bar_left(length_eighths: int, width: int) -> str:
    """A bar growing rightwards from the left edge, padded to ``width``."""
    if width <= 0:
        return ""
    full, part = divmod(min(length_eighths, width * 8), 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text.ljust(width)


def bar_right(length_eighths: int, width: int) -> str:
    """A bar growing leftwards from the right edge (block glyphs only have right halves, so it rounds to halves)."""
    if width <= 0:
        return ""
    halves = round(min(length_eighths, width * 8) / 4)
    if length_eighths > 0:
        halves = max(1, halves)
    full, half = divmod(halves, 2)
    text = ("▐" if half else "") + "█" * full
    return text.rjust(width)


def range_gauge(position: float | None, width: int) -> str:
    """Where a value sits between its low (left) and high (right): ├────●──┤."""
    if width < 3:
        return ""
    inner = width - 2
    if position is None or not math.isfinite(position):
        return "├" + "╌" * inner + "┤"
    spot = round(max(0.0, min(1.0, position)) * (inner - 1))
    return "├" + "─" * spot + "●" + "─" * (inner - 1 - spot) + "┤"
