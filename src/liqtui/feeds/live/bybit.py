"""Bybit v5 (linear and inverse perpetuals): wire shapes and endpoint choices.

Liquidations: ``allLiquidation.{SYMBOL}``, one topic per symbol (the watchlist and the top symbols
by 24 h turnover): every liquidation, batched every 500 ms, several per message. Not sampled.
Open interest, mark, index, funding and 24 h turnover of every linear symbol come in ONE
``GET /v5/market/tickers?category=linear`` call. History: ``/v5/market/open-interest`` (5 min)
and klines. Order book depth 50.
"""

from __future__ import annotations

import asyncio
from typing import Any

from liqtui.domain.events import Liquidation, OpenInterest, Side, Ticker
from liqtui.domain.text import printable
from liqtui.domain.venues import VENUES
from liqtui.feeds.live.adapter import (
    MalformedEntry,
    RestCall,
    VenueAdapter,
    checked,
    entry_number,
    entry_side,
    entry_time,
    fnum,
    inum,
    present,
)
from liqtui.feeds.live.markets import MarketInfo, market_or_guess

VENUE = "bybit"
TOP_SYMBOLS = 20  # liquidation topics beyond the watchlist: the most traded linear symbols
OI_HISTORY_PAGE = 200


BYBIT_SIDES = {"Buy": Side.LONG, "Sell": Side.SHORT}  # the POSITION's side: Buy = a long liquidated


def parse_liquidation(entry: dict[str, Any], market: MarketInfo, recv_ms: int) -> Liquidation:
    """One entry of an ``allLiquidation`` frame's ``data`` list::

        {"T": 1739502302929, "s": "ROSEUSDT", "S": "Sell", "v": "20000", "p": "0.04499"}

    ``S`` is the side of the POSITION: ``Buy`` means a LONG was liquidated (the opposite of
    Binance). ``p`` is the bankruptcy price; ``v`` is base coin on linear contracts and USD
    contracts on inverse ones. The retired ``liquidation.{symbol}`` topic used
    ``{"price", "side", "size", "symbol", "updatedTime"}`` with the same meanings.
    MalformedEntry when it is no liquidation a venue can mean.
    """
    side = entry_side(entry.get("S", entry.get("side")), BYBIT_SIDES)
    size = entry_number(present(entry, "v", "size"), "size")
    price = entry_number(present(entry, "p", "price"), "price")
    if market.inverse:
        usd = size * market.contract_size
        qty = usd / price if price else 0.0
    else:
        qty = size * market.contract_size
        usd = qty * price
    return checked(
        Liquidation(
            venue=VENUE,
            symbol=market.symbol,
            side=side,
            price=price,
            qty=qty,
            usd=usd,
            time=entry_time(recv_ms, entry.get("T"), entry.get("updatedTime")),
            recv_time=recv_ms,
            sampled=VENUES[VENUE].sampled,
        )
    )


def liquidations_from_frame(
    message: Any,
    markets: dict[str, MarketInfo],
    recv_ms: int,
    unknown: set[str],
    rejected: list[str] | None = None,
) -> list[Liquidation] | None:
    """``{"topic": "allLiquidation.ROSEUSDT", "type": "snapshot", "ts": 1739502303204, "data": [entry, ...]}``
    -> every entry's Liquidation; None when the frame is not a liquidation topic. An entry no venue
    can mean is left out, its reason appended to ``rejected``."""
    rejected = [] if rejected is None else rejected
    if not isinstance(message, dict):
        return None
    topic = message.get("topic")
    if not isinstance(topic, str) or not (
        topic.startswith("allLiquidation.") or topic.startswith("liquidation.")
    ):
        return None
    data = message.get("data")
    entries = data if isinstance(data, list) else [data]
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            rejected.append(f"liquidation entry is not an object: {type(entry).__name__}")
            continue
        exchange_id = entry.get("s", entry.get("symbol", topic.split(".", 1)[1]))
        if not isinstance(exchange_id, str) or not exchange_id:
            rejected.append(f"liquidation symbol is not a name: {printable(repr(exchange_id))[:40]}")
            continue
        market = market_or_guess(exchange_id, markets, unknown)
        if market is None:
            continue
        try:
            out.append(parse_liquidation(entry, market, recv_ms))
        except MalformedEntry as exc:
            rejected.append(str(exc))
    return out


def market_from_ticker(
    row: dict[str, Any], market: MarketInfo, now_ms: int
) -> tuple[OpenInterest | None, Ticker]:
    """One item of ``GET /v5/market/tickers`` ``result.list`` (or a ``tickers.{symbol}`` push)::

        {"symbol": "BTCUSDT", "lastPrice": "65114.30", "markPrice": "65117.44", "indexPrice": "65137.76",
         "openInterest": "59891.732", "openInterestValue": "3899996265.01", "turnover24h": "1142118412.9021",
         "volume24h": "17573.9120", "price24hPcnt": "0.001624", "fundingRate": "0.0001",
         "nextFundingTime": "1786320000000", "fundingIntervalHour": "8", ...}

    Linear: ``openInterest`` base coin, ``openInterestValue`` USD, ``turnover24h`` USD.
    Inverse (BTCUSD): ``openInterest`` USD contracts, ``openInterestValue`` coin, ``volume24h`` USD.
    """
    oi_a, oi_b = fnum(row.get("openInterest")), fnum(row.get("openInterestValue"))
    if market.inverse:
        base, usd, volume = oi_b, oi_a, fnum(row.get("volume24h"))
    else:
        base, usd, volume = oi_a, oi_b, fnum(row.get("turnover24h"))
    change = fnum(row.get("price24hPcnt"))
    oi = (
        OpenInterest(VENUE, market.symbol, base, usd, now_ms)
        if base is not None and usd is not None
        else None
    )
    ticker = Ticker(
        venue=VENUE,
        symbol=market.symbol,
        time=now_ms,
        last=fnum(row.get("lastPrice")),
        mark=fnum(row.get("markPrice")),
        index=fnum(row.get("indexPrice")),
        funding_rate=fnum(row.get("fundingRate")),
        next_funding_time=inum(row.get("nextFundingTime")) or None,
        change_24h_pct=change * 100 if change is not None else None,
        volume_24h_usd=volume,
        funding_interval_hours=fnum(row.get("fundingIntervalHour")),
    )
    return oi, ticker


def open_interest_history(
    payload: dict[str, Any], market: MarketInfo, closes: dict[int, float]
) -> list[OpenInterest]:
    """``GET /v5/market/open-interest`` ->
    ``{"result": {"list": [{"openInterest": "461134384.00000000", "timestamp": "1669571400000"}, ...], "nextPageCursor": ""}}``
    (newest first). Linear OI is in the base coin and is priced with the 5-minute close at that time;
    inverse OI is in USD contracts."""
    out = []
    for row in (payload.get("result") or {}).get("list") or []:
        amount, time = fnum(row.get("openInterest")), inum(row.get("timestamp"))
        if amount is None or time is None:
            continue
        close = closes.get(time)
        if close is None:
            continue
        if market.inverse:
            usd = amount * market.contract_size
            out.append(OpenInterest(VENUE, market.symbol, usd / close, usd, time))
        else:
            out.append(OpenInterest(VENUE, market.symbol, amount, amount * close, time))
    out.reverse()
    return out


class Bybit(VenueAdapter):
    venue = VENUE
    book_limit = 50
    ranks_symbols = True

    def __init__(self) -> None:
        super().__init__()
        self.top_symbols: list[str] = []

    def parse_liquidations(self, message: Any, recv_ms: int) -> list[Liquidation] | None:
        return liquidations_from_frame(message, self.markets.by_id, recv_ms, self.unknown_ids, self.rejected)

    async def unwatch_book(self, exchange: Any, symbol: str) -> None:
        # ccxt unsubscribes orderbook.500 unless told the depth that was subscribed.
        await exchange.un_watch_order_book(symbol, {"limit": self.book_limit})

    def is_heartbeat(self, message: Any) -> bool:
        return isinstance(message, dict) and (
            message.get("op") in ("pong", "ping", "subscribe") or message.get("ret_msg") == "pong"
        )

    async def liquidation_symbols(self, exchange: Any, watchlist: list[str]) -> list[str]:
        if not self.top_symbols:
            try:
                payload = await exchange.publicGetV5MarketTickers({"category": "linear"})
                self.top_symbols = self._top_by_turnover((payload.get("result") or {}).get("list") or [])
            except Exception as exc:  # noqa: BLE001 - any failure: the watchlist alone, and the status says so
                self.coverage_note = f"liquidations of the watchlist only until the top symbols are ranked ({type(exc).__name__})"
        if self.top_symbols:
            self.coverage_note = ""  # ranked (by this call or a market poll): subscribed from now on
        symbols = [s for s in watchlist if s in self.markets.by_symbol]
        for symbol in self.top_symbols:
            if symbol not in symbols:
                symbols.append(symbol)
        return symbols

    async def watch_liquidations(self, exchange: Any, symbols: list[str]) -> None:
        # Linear and inverse topics live on different sockets: one ccxt call per socket.
        groups: dict[str, tuple[list[str], list[str]]] = {}
        for symbol in symbols:
            market = self.markets.by_symbol[symbol]
            url = await exchange.get_url_by_market_type(symbol, False, "watchLiquidations", {})
            hashes, topics = groups.setdefault(url, ([], []))
            hashes.append("liquidations::" + symbol)
            topics.append("allLiquidation." + market.exchange_id)
        tasks = [
            asyncio.ensure_future(exchange.watch_topics(url, h, t, {})) for url, (h, t) in groups.items()
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()

    async def poll_market(
        self, exchange: Any, symbols: list[str], now_ms: int, call: RestCall
    ) -> list[OpenInterest | Ticker]:
        # One call serves both kinds: OI and tickers live or fail together on Bybit.
        payload = await call(
            "oi+ticker", "/v5/market/tickers", exchange.publicGetV5MarketTickers, {"category": "linear"}
        )
        rows = ((payload or {}).get("result") or {}).get("list") or []
        wanted = set(symbols)
        events: list[OpenInterest | Ticker] = []
        for row in rows:
            market = self.markets.by_id.get(str(row.get("symbol")))
            if market is not None and market.symbol in wanted:
                oi, ticker = market_from_ticker(row, market, now_ms)
                events.append(ticker)
                if oi is not None:
                    events.append(oi)
        if rows:
            self.top_symbols = self._top_by_turnover(rows)
        return events

    def _top_by_turnover(self, rows: list[dict[str, Any]]) -> list[str]:
        ranked = []
        for row in rows:
            market = self.markets.by_id.get(str(row.get("symbol")))
            if market is not None:
                ranked.append((fnum(row.get("turnover24h")) or 0.0, market.symbol))
        ranked.sort(reverse=True)
        return [symbol for _, symbol in ranked[:TOP_SYMBOLS]]

    async def fetch_oi_history(
        self, exchange: Any, symbol: str, since_ms: int, now_ms: int, closes: dict[int, float]
    ) -> list[OpenInterest]:
        market = self.markets.by_symbol.get(symbol)
        if market is None:
            return []
        category = "inverse" if market.inverse else "linear"
        out: list[OpenInterest] = []
        end = now_ms
        while end > since_ms:
            # endTime only: the newest page before it (Bybit answers newest first), then step back.
            payload = await exchange.publicGetV5MarketOpenInterest(
                {
                    "category": category,
                    "symbol": market.exchange_id,
                    "intervalTime": "5min",
                    "limit": OI_HISTORY_PAGE,
                    "endTime": end,
                }
            )
            page = open_interest_history(payload, market, closes)
            rows = (payload.get("result") or {}).get("list") or []
            if not rows:
                break
            out[:0] = [oi for oi in page if oi.time >= since_ms]
            oldest = min(inum(r.get("timestamp")) or end for r in rows)
            if oldest >= end:
                break
            end = oldest - 1
        return out
