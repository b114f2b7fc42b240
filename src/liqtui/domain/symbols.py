"""What a trader types for a market, read without any venue's market list: the coin and quote of a
short form (``BTC``, ``btcusdt``, ``BTC-USDT-SWAP``, ``BTC-PERP``, ``BTCUSDT.P``, ``BTC/USDT``).
``liqtui.feeds.symbols`` resolves these against a venue's markets; the config and the alert rules
read the coin alone.
"""

from __future__ import annotations

import re

STABLE_QUOTES = ("USDT", "USDC", "USD")
_SUFFIXES = ("-PERPETUAL", "-PERP", "-SWAP", ".P", "PERP")


def candidates(text: str) -> tuple[str | None, str | None]:
    """(base, quote) read from a short form; quote None when only a coin was given."""
    t = text.strip().upper()
    if "/" in t:
        base, rest = t.split("/", 1)
        return base, rest.split(":", 1)[0] or None
    for suffix in _SUFFIXES:
        if t.endswith(suffix) and len(t) > len(suffix):
            t = t[: -len(suffix)]
            break
    parts = [p for p in re.split(r"[-_]", t) if p]
    if len(parts) >= 2:
        return parts[0], parts[1]
    for quote in STABLE_QUOTES:
        if t.endswith(quote) and len(t) > len(quote):
            return t[: -len(quote)], quote
    return t, None


def coin_of(text: str) -> str | None:
    """The coin a short form or a unified symbol names (``btcusdt`` -> ``BTC``), or None when it names
    none (empty, or characters no market name has)."""
    base, _quote = candidates(text)
    return base if base and re.fullmatch(r"[A-Z0-9]+", base) else None
