"""Symbol resolution: what a trader types -> the ccxt unified symbol of each venue.

Accepted forms (case-insensitive): the unified symbol itself (``BTC/USDT:USDT``), a coin
(``BTC``), an exchange id (``btcusdt``, ``BTC-USDT-SWAP``), ``BTC-PERP``, ``BTCUSDT.P``,
``BTC/USDT``. A coin alone means its USD-stable perpetual: USDT first, then USDC (Hyperliquid
lists USDC perpetuals only), then USD. An unknown symbol raises ``UnknownSymbol`` whose message
names the closest matches.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from liqtui.domain.symbols import STABLE_QUOTES, candidates
from liqtui.feeds.live.markets import MarketIndex

__all__ = ["STABLE_QUOTES", "UnknownSymbol", "candidates", "closest", "resolve", "venue_symbol"]


class UnknownSymbol(ValueError):
    """The message is meant for the user as is."""

    def __init__(self, text: str, matches: list[str], venue: str = "") -> None:
        self.text, self.matches = text, matches
        where = f" on {venue}" if venue else ""
        hint = f"; closest: {', '.join(matches)}" if matches else ""
        super().__init__(f"unknown symbol {text!r}{where}{hint}")


def _squash(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def resolve(text: str, markets: MarketIndex, venue: str = "") -> str:
    """The venue's unified symbol for ``text``; raises UnknownSymbol with the closest matches."""
    found = venue_symbol(text, markets)
    if found is not None:
        return found
    raise UnknownSymbol(text, closest(text, markets.symbols()), venue)


def venue_symbol(text: str, markets: MarketIndex) -> str | None:
    """Like ``resolve`` but None when the venue does not list it (a unified symbol of another
    venue maps to the same coin's stable perpetual here: BTC/USDT:USDT -> BTC/USDC:USDC)."""
    if text in markets.by_symbol:
        return text
    by_id = markets.by_id.get(text) or markets.by_id.get(text.upper())
    if by_id is not None:
        return by_id.symbol
    base, quote = candidates(text)
    if not base:
        return None
    quotes = ([quote] if quote else []) + [q for q in STABLE_QUOTES if q != quote]
    for q in quotes:
        for symbol in (f"{base}/{q}:{q}", f"{base}/{q}:{base}"):
            if symbol in markets.by_symbol:
                return symbol
    return None


def closest(text: str, symbols: Iterable[str], n: int = 5) -> list[str]:
    symbols = list(symbols)
    keys = {_squash(s.split(":", 1)[0]): s for s in reversed(symbols)}
    base, quote = candidates(text)
    probe = _squash(f"{base}{quote or 'USDT'}")
    matches = difflib.get_close_matches(probe, list(keys), n=n, cutoff=0.5)
    return [keys[m] for m in matches]


def resolve_everywhere(text: str, indexes: dict[str, MarketIndex]) -> dict[str, str]:
    """venue -> its symbol for ``text``, for every venue that lists it; UnknownSymbol if none does."""
    found = {venue: s for venue, index in indexes.items() if (s := venue_symbol(text, index)) is not None}
    if found:
        return found
    everything = sorted({s for index in indexes.values() for s in index.symbols()})
    raise UnknownSymbol(text, closest(text, everything))
