"""Hyperliquid perpetuals: wire shapes and endpoint choices.

Liquidations: Hyperliquid has NO public liquidation feed (liquidations show only in the fills of
the accounts involved). liqtui never invents one: the runtime reports, once at start,
``FeedStatus(venue="hyperliquid", kind="liquidations", state=DOWN, detail=NO_LIQUIDATION_FEED)``,
and panes show "n/a" for this venue's tape and totals instead of zero.

Open interest, mark, oracle price, funding (hourly) and 24 h notional volume of every coin come
in ONE ``POST /info {"type": "metaAndAssetCtxs"}`` (weight 20 of 1200/min). No OI history is
published: the level model starts from the first poll. Order book ``l2Book`` (20 levels).
"""

from __future__ import annotations

from typing import Any

from liqtui.domain.events import OpenInterest, Ticker
from liqtui.domain.venues import VENUES
from liqtui.feeds.live.adapter import RestCall, VenueAdapter, fnum
from liqtui.feeds.live.markets import MarketInfo

VENUE = "hyperliquid"
NO_LIQUIDATION_FEED = VENUES[VENUE].no_feed_reason
HOUR_MS = 3_600_000


def market_from_asset_ctx(ctx: dict[str, Any], market: MarketInfo, now_ms: int) -> tuple[OpenInterest | None, Ticker]:
    """One asset context of ``metaAndAssetCtxs`` (same order as ``universe``)::

        {"funding": "0.00014735", "openInterest": "14677900.74", "prevDayPx": "26.145",
         "dayNtlVlm": "299643445.12", "premium": "0.00081613", "oraclePx": "27.569",
         "markPx": "27.63", "midPx": "27.599", "impactPxs": ["27.5915", "27.6319"], "dayBaseVlm": "10790652.83"}

    ``openInterest`` is in coins (USD = x mark); funding is per hour, settled on the hour.
    """
    mark, prev = fnum(ctx.get("markPx")), fnum(ctx.get("prevDayPx"))
    base = fnum(ctx.get("openInterest"))
    oi = OpenInterest(VENUE, market.symbol, base, base * mark, now_ms) if base is not None and mark else None
    ticker = Ticker(
        venue=VENUE,
        symbol=market.symbol,
        time=now_ms,
        last=fnum(ctx.get("midPx")) or mark,
        mark=mark,
        index=fnum(ctx.get("oraclePx")),
        funding_rate=fnum(ctx.get("funding")),
        next_funding_time=(now_ms // HOUR_MS + 1) * HOUR_MS,
        change_24h_pct=(mark / prev - 1.0) * 100 if mark and prev else None,
        volume_24h_usd=fnum(ctx.get("dayNtlVlm")),
        funding_interval_hours=1.0,
    )
    return oi, ticker


def markets_from_meta(payload: Any, markets: dict[str, MarketInfo], symbols: set[str], now_ms: int) -> list[OpenInterest | Ticker]:
    """``[{"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 40}, ...]}, [ctx, ...]]`` -> events."""
    if not isinstance(payload, list) or len(payload) < 2:
        return []
    universe = (payload[0] or {}).get("universe") or []
    events: list[OpenInterest | Ticker] = []
    # Paired by position; a reply with fewer contexts than assets keeps the pairs it has.
    for asset, ctx in zip(universe, payload[1], strict=False):
        market = markets.get(str(asset.get("name")))
        if market is None or market.symbol not in symbols or not isinstance(ctx, dict):
            continue
        oi, ticker = market_from_asset_ctx(ctx, market, now_ms)
        events.append(ticker)
        if oi is not None:
            events.append(oi)
    return events


class Hyperliquid(VenueAdapter):
    venue = VENUE
    has_oi_history = False
    names_markets_by_coin = True
    book_limit = 20
    history_timeframe = "15m"  # Hyperliquid candles: 1m, 15m, 1h, 1d (no 5m)
    history_step_ms = 900_000

    def is_heartbeat(self, message: Any) -> bool:
        return isinstance(message, dict) and message.get("channel") in ("pong", "subscriptionResponse")

    async def watch_prices(self, exchange: Any, symbols: list[str], now_ms: int) -> list[Ticker]:
        # allMids carries mid prices only; mark, funding and volume come from the REST poll.
        tickers = await exchange.watch_tickers(symbols)
        out = []
        for t in tickers.values():
            if t.get("symbol") in symbols and fnum(t.get("last")) is not None:
                out.append(Ticker(VENUE, t["symbol"], int(t.get("timestamp") or now_ms), last=fnum(t.get("last"))))
        return out

    async def poll_market(self, exchange: Any, symbols: list[str], now_ms: int, call: RestCall) -> list[OpenInterest | Ticker]:
        payload = await call("oi+ticker", "/info metaAndAssetCtxs", exchange.publicPostInfo, {"type": "metaAndAssetCtxs"})
        return markets_from_meta(payload, self.markets.by_id, set(symbols), now_ms)
