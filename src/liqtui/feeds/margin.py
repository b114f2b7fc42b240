"""Maintenance-margin tiers per venue and symbol, for the ESTIMATED liquidation-level model.

Fetched where the venue publishes them without a key, with a shipped default elsewhere:

- Bybit ``GET /v5/market/risk-limit?category=linear&symbol=BTCUSDT`` -> ``result.list``::

      {"id": 1, "symbol": "BTCUSDT", "riskLimitValue": "2000000", "maintenanceMargin": "0.005",
       "initialMargin": "0.01", "isLowestRisk": 1, "maxLeverage": "100.00", "mmDeduction": ""}

- OKX ``GET /api/v5/public/position-tiers?instType=SWAP&tdMode=cross&instFamily=BTC-USDT`` -> ``data``::

      {"instFamily": "BTC-USDT", "tier": "1", "minSz": "0", "maxSz": "5000", "mmr": "0.004",
       "imr": "0.008", "maxLever": "125", ...}          (sizes in contracts)

- Hyperliquid: maintenance = half the initial margin at max leverage, ``1 / (2 x maxLeverage)``
  (``maxLeverage`` from ``meta``'s universe, in the markets ccxt loads).
- Binance USD-M: brackets need a signed request: ``data/maintenance_margin.json`` (BTCUSDT's
  first bracket: 0.4 % up to 50k USD notional), ``"*"`` for symbols it does not list.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from liqtui.domain.events import MarginLimits
from liqtui.domain.text import printable
from liqtui.domain.venues import MarginSource, venue_info
from liqtui.feeds.live.markets import MarketInfo


@dataclass(frozen=True, slots=True)
class MarginTier:
    max_notional_usd: float | None  # None: the last tier, no cap
    maintenance_rate: float  # fraction of notional
    max_leverage: float | None
    source: str = "default"  # "default" (shipped) or the venue's endpoint


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    text = resources.files("liqtui.data").joinpath("maintenance_margin.json").read_text(encoding="utf-8")
    return json.loads(text)


def default_tiers(venue: str, exchange_id: str) -> list[MarginTier]:
    table = _shipped().get(venue) or {}
    rows = table.get(exchange_id) or table.get("*") or []
    return [MarginTier(_f(cap), float(rate), _f(lev)) for cap, rate, lev in rows]


def _f(value: Any) -> float | None:
    """A positive finite number from a venue's field, else None (missing, NaN, infinite, <= 0)."""
    try:
        number = None if value is None or value == "" else float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number is not None and 0.0 < number < math.inf else None


def _rate(value: Any) -> float | None:
    rate = _f(value)
    if rate is None:
        return None
    rate = rate / 100 if rate >= 1 else rate  # a percent written as "0.5" stays 0.5 %; "50" would be 50 %
    return rate if rate < 1 else None  # 100 % or more: no model can take it


def _leverage(value: Any) -> float | None:
    leverage = _f(value)
    return leverage if leverage is not None and leverage >= 1 else None


def bybit_tiers(payload: dict[str, Any], exchange_id: str) -> list[MarginTier]:
    rows = [
        r for r in ((payload.get("result") or {}).get("list") or []) if r.get("symbol") in (None, exchange_id)
    ]
    tiers = []
    for row in sorted(rows, key=lambda r: _f(r.get("riskLimitValue")) or 0.0):
        rate = _rate(row.get("maintenanceMargin"))
        if rate is not None:
            tiers.append(
                MarginTier(
                    _f(row.get("riskLimitValue")), rate, _leverage(row.get("maxLeverage")), "bybit risk-limit"
                )
            )
    return tiers


def okx_tiers(rows: list[dict[str, Any]], market: MarketInfo, price: float) -> list[MarginTier]:
    """Contract sizes -> USD notional at ``price`` (linear: contracts x ctVal x price)."""
    tiers = []
    for row in sorted(rows, key=lambda r: _f(r.get("tier")) or 0.0):
        rate = _rate(row.get("mmr"))
        contracts = _f(row.get("maxSz"))
        if rate is None:
            continue
        cap = None
        if contracts is not None:
            cap = contracts * market.contract_size * (1.0 if market.inverse else price)
        tiers.append(MarginTier(cap, rate, _leverage(row.get("maxLever")), "okx position-tiers"))
    return tiers


def hyperliquid_tiers(market: MarketInfo) -> list[MarginTier]:
    leverage = _leverage(market.max_leverage)
    if leverage is None:
        return []
    return [MarginTier(None, 1.0 / (2.0 * leverage), leverage, "hyperliquid max leverage")]


async def _fetch_bybit(exchange: Any, market: MarketInfo, price: float) -> list[MarginTier]:
    category = "inverse" if market.inverse else "linear"
    payload = await exchange.publicGetV5MarketRiskLimit({"category": category, "symbol": market.exchange_id})
    return bybit_tiers(payload, market.exchange_id)


async def _fetch_okx(exchange: Any, market: MarketInfo, price: float) -> list[MarginTier]:
    family = market.exchange_id.rsplit("-", 1)[0]
    payload = await exchange.publicGetPublicPositionTiers(
        {"instType": "SWAP", "tdMode": "cross", "instFamily": family}
    )
    return okx_tiers(payload.get("data") or [], market, price)


async def _from_max_leverage(exchange: Any, market: MarketInfo, price: float) -> list[MarginTier]:
    return hyperliquid_tiers(market)


# How each margin source of the venue registry (domain/venues.py) is read; SHIPPED (Binance: none
# without a key) is the shipped table by design.
_FETCHERS: dict[MarginSource, Callable[[Any, MarketInfo, float], Awaitable[list[MarginTier]]]] = {
    MarginSource.BYBIT_RISK_LIMIT: _fetch_bybit,
    MarginSource.OKX_POSITION_TIERS: _fetch_okx,
    MarginSource.HALF_MAX_LEVERAGE: _from_max_leverage,
}


async def fetch_tiers(
    exchange: Any, venue: str, market: MarketInfo, price: float
) -> tuple[list[MarginTier], str]:
    """The venue's tiers for ``market``, else the shipped default; and, when the venue's own could not
    be used, why (for the user: what stands in). The note is "" when nothing fell back."""
    info = venue_info(venue)
    fetch = _FETCHERS.get(info.margin_source) if info else None
    if info is None or fetch is None:
        return default_tiers(venue, market.exchange_id), ""
    source = info.margin_source.value
    try:
        tiers = await fetch(exchange, market, price)
    except Exception as exc:  # noqa: BLE001 - any failure: a default stands in, and the note says why
        problem = f"{source} failed ({type(exc).__name__}: {printable(str(exc))[:160]})"
    else:
        if tiers:
            return tiers, ""
        problem = f"{source} gave no usable tier for {market.exchange_id}"
    default = default_tiers(venue, market.exchange_id)
    instead = "the shipped table" if default else "the model's [levels] maintenance_margin"
    return default, f"{problem}: maintenance margin from {instead}"


def first_tier(tiers: list[MarginTier]) -> MarginTier | None:
    """The tier new positions of ordinary size fall in: what the level model uses."""
    return tiers[0] if tiers else None


async def fetch_limits(
    exchange: Any, venue: str, market: MarketInfo, symbol: str, price: float, now_ms: int
) -> MarginLimits:
    """The level model's limits for ``symbol`` on ``venue`` (its first tier, fetched as ``fetch_tiers``
    does, with the same fallback and note): what the desk and ``liqtui risk`` both feed the engine."""
    tiers, note = await fetch_tiers(exchange, venue, market, price)
    tier = first_tier(tiers)
    if tier is None:
        return MarginLimits(venue, symbol, now_ms, None, None, None, note)
    return MarginLimits(venue, symbol, now_ms, tier.maintenance_rate, tier.max_leverage, tier.source, note)
