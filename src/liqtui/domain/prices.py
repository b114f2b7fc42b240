"""Prices and amounts as a trader types them, one parser for the desk's prompts and the commands.

``parse_amount``: "92000", "92,000", "92_000", "$92k", "1.5M" -> a number >= 0.
``parse_target``: an amount, or a move relative to a price: "+11%", "-5 %".
A ValueError's message says what was wrong and what would work.
"""

from __future__ import annotations

_UNITS = {"k": 1e3, "m": 1e6, "b": 1e9}


def parse_amount(text: str) -> float:
    """ "92000", "92,000", "92k", "1.5M" -> a positive number; ValueError with words otherwise."""
    cleaned = text.strip().lower().replace(",", "").replace("_", "").replace("$", "").replace(" ", "")
    scale = 1.0
    if cleaned and cleaned[-1] in _UNITS:
        scale = _UNITS[cleaned[-1]]
        cleaned = cleaned[:-1]
    try:
        value = float(cleaned) * scale
    except ValueError:
        raise ValueError(f"not a number: {text!r} (try 92000, 92k or 1.5M)") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"not a usable amount: {text!r}")
    return value


def parse_target(text: str, price: float | None) -> float | None:
    """A target price: absolute ("92000", "92k") or relative to ``price`` ("+11%", "-5 %").

    Empty text means "no target". Returns the target price.
    """
    cleaned = text.strip().replace(" ", "")
    if not cleaned:
        return None
    if cleaned.endswith("%"):
        if price is None:
            raise ValueError("no price yet: give an absolute target such as 92000")
        try:
            change = float(cleaned[:-1])
        except ValueError:
            raise ValueError(f"not a percent: {text!r} (try +11% or -5%)") from None
        target = price * (1 + change / 100)
    else:
        target = parse_amount(cleaned)
    if not 0 < target < float("inf"):
        raise ValueError(f"a target must be above zero: {text!r}")
    return target
