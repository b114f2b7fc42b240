"""What the parsers need to know about a venue's perpetual markets, keyed by the exchange's own id.

Built once from ccxt's ``load_markets()`` result (and rebuilt when ccxt reloads): the unified
symbol, the contract size (OKX quotes liquidation sizes in contracts, ``ctVal`` each) and whether
the contract is inverse (size in USD, settled in the coin). Hyperliquid markets are also indexed
by coin name (``BTC``), which is how its payloads name them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from liqtui.domain.text import printable


@dataclass(frozen=True, slots=True)
class MarketInfo:
    symbol: str  # ccxt unified, e.g. BTC/USDT:USDT
    exchange_id: str  # BTCUSDT, BTC-USDT-SWAP, BTC (Hyperliquid coin)
    base: str
    quote: str
    contract_size: float = 1.0  # base coin per contract (linear) or USD per contract (inverse)
    inverse: bool = False
    max_leverage: float | None = None


class MarketIndex:
    """Perpetual swaps of one venue: exchange id -> MarketInfo, unified symbol -> MarketInfo."""

    def __init__(self, markets: Iterable[MarketInfo] = ()) -> None:
        self.by_id: dict[str, MarketInfo] = {}
        self.by_symbol: dict[str, MarketInfo] = {}
        for info in markets:
            self.add(info)

    def add(self, info: MarketInfo) -> None:
        self.by_id[info.exchange_id] = info
        self.by_symbol[info.symbol] = info

    def __len__(self) -> int:
        return len(self.by_symbol)

    def symbols(self) -> list[str]:
        return sorted(self.by_symbol)

    @classmethod
    def from_ccxt(cls, markets: Mapping[str, Mapping[str, Any]], by_coin: bool = False) -> MarketIndex:
        """Swaps only (the desk is about perpetuals); other market types are skipped, and so is a
        market whose names carry control characters (an escape sequence in a symbol would reach the
        terminal and the recording). Left out, not cleaned: ccxt knows a market by its raw symbol, and
        a cleaned one it does not know made every Bybit liquidation subscription fail."""
        index = cls()
        for market in markets.values():
            if not market.get("swap"):
                continue
            exchange_id = str(market["id"])
            if by_coin:
                # Hyperliquid's ids are asset numbers; its payloads name the coin.
                exchange_id = str(
                    (market.get("info") or {}).get("name") or market.get("baseName") or market["base"]
                )
            names = (
                str(market["symbol"]),
                exchange_id,
                str(market.get("base") or ""),
                str(market.get("quote") or ""),
            )
            if any(printable(name) != name for name in names):
                continue
            leverage = ((market.get("limits") or {}).get("leverage") or {}).get("max")
            index.add(
                MarketInfo(
                    symbol=names[0],
                    exchange_id=exchange_id,
                    base=names[2],
                    quote=names[3],
                    contract_size=float(market.get("contractSize") or 1.0),
                    inverse=bool(market.get("inverse")),
                    max_leverage=float(leverage) if leverage else None,
                )
            )
        return index


def guess_linear(exchange_id: str, quotes: tuple[str, ...] = ("USDT", "USDC")) -> MarketInfo | None:
    """A best guess for an id listed after the markets were loaded (``NEWUSDT`` -> ``NEW/USDT:USDT``).

    Used for Binance and Bybit, whose linear liquidation sizes are in the base coin, so a new
    listing's liquidations are not lost while the markets are reloaded. The coin must be letters and
    digits (``1000PEPE``, ``币安人生``): an id with spaces, slashes or control characters is no listing.
    """
    for quote in quotes:
        base = exchange_id.removesuffix(quote)
        if base != exchange_id and base.isalnum():
            return MarketInfo(
                symbol=f"{base}/{quote}:{quote}", exchange_id=exchange_id, base=base, quote=quote
            )
    return None


def market_or_guess(exchange_id: str, markets: dict[str, MarketInfo], unknown: set[str]) -> MarketInfo | None:
    """The loaded market for ``exchange_id``, else a linear guess; an id not in the markets is noted
    in ``unknown`` so the runtime reloads them."""
    market = markets.get(exchange_id)
    if market is None:
        unknown.add(exchange_id)
        market = guess_linear(exchange_id)
    return market
