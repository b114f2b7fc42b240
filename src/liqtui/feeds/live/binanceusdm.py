"""Binance USD-M futures: wire shapes and endpoint choices.

Liquidations: ``!forceOrder@arr`` (all symbols). Binance pushes only the LATEST liquidation per
symbol per 1000 ms, so every event is marked ``sampled`` (totals are a lower bound).
Prices: ``<symbol>@miniTicker`` (1 s) for the watchlist.
Open interest: ``GET /fapi/v1/openInterest`` one symbol per call (weight 1); mark, index and
funding for every symbol in one ``GET /fapi/v1/premiumIndex`` (weight 10); 24 h figures in one
``GET /fapi/v1/ticker/24hr`` (weight 40). History: ``/futures/data/openInterestHist`` (5 m, the
last 30 days only) and klines. Binance closes every websocket after 24 h: a routine reconnect.
"""

from __future__ import annotations

from typing import Any

from liqtui.domain.events import Liquidation, OpenInterest, Side, Ticker
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

VENUE = "binanceusdm"
OI_HISTORY_DAYS = 30  # Binance keeps 30 days of 5-minute OI history
OI_HISTORY_PAGE = 500


BINANCE_SIDES = {"SELL": Side.LONG, "BUY": Side.SHORT}  # the ORDER's side: a SELL closes a long


def parse_force_order(
    order: dict[str, Any], market: MarketInfo, recv_ms: int, event_time: Any = None
) -> Liquidation:
    """One ``o`` object of a forceOrder event::

        {"s": "BTCUSDT", "S": "SELL", "o": "LIMIT", "f": "IOC", "q": "0.014", "p": "9910",
         "ap": "9910", "X": "FILLED", "l": "0.014", "z": "0.014", "T": 1568014460893}

    ``S`` is the side of the liquidation ORDER: a SELL closes a long, so a LONG was liquidated.
    Notional is ``z`` (filled quantity, base) x ``ap`` (average fill price); ``l``/``q`` and ``p``
    stand in when those are missing. MalformedEntry when it is no liquidation a venue can mean.
    """
    qty = entry_number(present(order, "z", "l", "q"), "size")
    price = entry_number(present(order, "ap", "p"), "price")
    return checked(
        Liquidation(
            venue=VENUE,
            symbol=market.symbol,
            side=entry_side(order.get("S"), BINANCE_SIDES),
            price=price,
            qty=qty,
            usd=qty * price,
            time=entry_time(recv_ms, order.get("T"), event_time),
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
    """A websocket frame -> its liquidations, or None when it is not a forceOrder frame.

    Frames come raw (``{"e": "forceOrder", "E": 1568014460893, "o": {...}}``), wrapped by a
    combined stream (``{"stream": "!forceOrder@arr", "data": {...}}``) or as a list of events.
    Ids missing from the markets (a listing newer than the markets) are guessed and noted in
    ``unknown`` so the runtime reloads the markets. An entry no venue can mean is left out, its
    reason appended to ``rejected``.
    """
    rejected = [] if rejected is None else rejected
    if isinstance(message, dict) and "stream" in message and "data" in message:
        message = message["data"]
    events = message if isinstance(message, list) else (message,)
    out: list[Liquidation] | None = None
    for event in events:
        if not isinstance(event, dict) or event.get("e") != "forceOrder":
            continue
        if out is None:
            out = []
        order = event.get("o")
        if not isinstance(order, dict):
            rejected.append(f"forceOrder without an order object: {type(order).__name__}")
            continue
        market = market_or_guess(str(order.get("s", "")), markets, unknown)
        if market is None:
            continue  # not a perpetual liqtui knows (a quarterly future): not ours to show
        try:
            out.append(parse_force_order(order, market, recv_ms, event.get("E")))
        except MalformedEntry as exc:
            rejected.append(str(exc))
    return out


def open_interest_from_rest(
    payload: dict[str, Any], market: MarketInfo, mark: float | None, now_ms: int
) -> OpenInterest | None:
    """``GET /fapi/v1/openInterest``: ``{"symbol": "BTCUSDT", "openInterest": "23581.677", "time": 1677356872265}``.

    ``openInterest`` is in the base coin; USD = base x mark (None when no mark is known yet).
    """
    base = fnum(payload.get("openInterest"))
    if base is None or mark is None:
        return None
    return OpenInterest(VENUE, market.symbol, base, base * mark, inum(payload.get("time")) or now_ms)


def open_interest_history(rows: list[dict[str, Any]], market: MarketInfo) -> list[OpenInterest]:
    """``GET /futures/data/openInterestHist`` rows::

        {"symbol": "BTCUSDT", "sumOpenInterest": "75375.61700000",
         "sumOpenInterestValue": "3248828883.71251440", "timestamp": 1642179900000}

    ``sumOpenInterest`` is base coin, ``sumOpenInterestValue`` USD(T).
    """
    out = []
    for row in rows:
        base, usd, time = (
            fnum(row.get("sumOpenInterest")),
            fnum(row.get("sumOpenInterestValue")),
            inum(row.get("timestamp")),
        )
        if base is None or usd is None or time is None:
            continue
        out.append(OpenInterest(VENUE, market.symbol, base, usd, time))
    return out


def tickers_from_rest(
    premium: list[dict[str, Any]],
    day: list[dict[str, Any]],
    markets: dict[str, MarketInfo],
    symbols: set[str],
    now_ms: int,
) -> list[Ticker]:
    """Merge ``GET /fapi/v1/premiumIndex`` (all symbols)::

        {"symbol": "BTCUSDT", "markPrice": "45802.81129892", "indexPrice": "45745.47701915",
         "lastFundingRate": "0.00063521", "nextFundingTime": "1621267200000", "time": "1621252344001"}

    with ``GET /fapi/v1/ticker/24hr`` (all symbols)::

        {"symbol": "BTCUSDT", "lastPrice": "45800.1", "priceChangePercent": "-1.234",
         "quoteVolume": "12345678901.23", "closeTime": 1621252344001, ...}

    into one Ticker per wanted symbol.
    """
    by_id: dict[str, dict[str, Any]] = {}
    for row in premium:
        by_id.setdefault(str(row.get("symbol")), {})["premium"] = row
    for row in day:
        by_id.setdefault(str(row.get("symbol")), {})["day"] = row
    out = []
    for exchange_id, rows in by_id.items():
        market = markets.get(exchange_id)
        if market is None or market.symbol not in symbols:
            continue
        p, d = rows.get("premium", {}), rows.get("day", {})
        out.append(
            Ticker(
                venue=VENUE,
                symbol=market.symbol,
                time=inum(p.get("time")) or inum(d.get("closeTime")) or now_ms,
                last=fnum(d.get("lastPrice")),
                mark=fnum(p.get("markPrice")),
                index=fnum(p.get("indexPrice")),
                funding_rate=fnum(p.get("lastFundingRate")),
                next_funding_time=inum(p.get("nextFundingTime")),
                change_24h_pct=fnum(d.get("priceChangePercent")),
                volume_24h_usd=fnum(d.get("quoteVolume")),
            )
        )
    return out


class BinanceUsdm(VenueAdapter):
    venue = VENUE
    ticker_carries_funding = True
    book_limit = 100  # the REST snapshot at limit=100 weighs 5; the default 1000 weighs 20

    def parse_liquidations(self, message: Any, recv_ms: int) -> list[Liquidation] | None:
        return liquidations_from_frame(message, self.markets.by_id, recv_ms, self.unknown_ids, self.rejected)

    def is_heartbeat(self, message: Any) -> bool:
        # subscription acknowledgement: {"result": null, "id": 1}
        return isinstance(message, dict) and "result" in message and "id" in message

    async def watch_liquidations(self, exchange: Any, symbols: list[str]) -> None:
        await exchange.watch_liquidations_for_symbols([])  # [] -> !forceOrder@arr, every symbol

    # watch_prices: the base class's watch_tickers, i.e. <symbol>@miniTicker every second (last
    # price, 24 h change and quote volume). Mark, index and funding come with the REST poll: a
    # mark-only stream would leave the last price of the merged ticker up to a poll old.

    async def poll_market(
        self, exchange: Any, symbols: list[str], now_ms: int, call: RestCall
    ) -> list[OpenInterest | Ticker]:
        wanted = set(symbols)
        premium = await call("ticker", "/fapi/v1/premiumIndex", exchange.fapiPublicGetPremiumIndex)
        day = await call("ticker", "/fapi/v1/ticker/24hr", exchange.fapiPublicGetTicker24hr)
        tickers = tickers_from_rest(_as_list(premium), _as_list(day), self.markets.by_id, wanted, now_ms)
        marks = {t.symbol: t.mark or t.last for t in tickers}
        events: list[OpenInterest | Ticker] = list(tickers)
        for symbol in symbols:
            market = self.markets.by_symbol.get(symbol)
            if market is None:
                continue
            payload = await call(
                "oi",
                "/fapi/v1/openInterest",
                exchange.fapiPublicGetOpenInterest,
                {"symbol": market.exchange_id},
            )
            if payload is None:
                continue
            oi = open_interest_from_rest(payload, market, marks.get(symbol), now_ms)
            if oi is not None:
                events.append(oi)
        return events

    async def fetch_oi_history(
        self, exchange: Any, symbol: str, since_ms: int, now_ms: int, closes: dict[int, float]
    ) -> list[OpenInterest]:
        market = self.markets.by_symbol.get(symbol)
        if market is None:
            return []
        since_ms = max(since_ms, now_ms - OI_HISTORY_DAYS * 86_400_000 + 60_000)
        out: list[OpenInterest] = []
        start = since_ms
        while start < now_ms - self.history_step_ms:
            end = min(now_ms, start + OI_HISTORY_PAGE * self.history_step_ms)
            rows = await exchange.fapiDataGetOpenInterestHist(
                {
                    "symbol": market.exchange_id,
                    "period": "5m",
                    "limit": OI_HISTORY_PAGE,
                    "startTime": start,
                    "endTime": end,
                }
            )
            out.extend(open_interest_history(_as_list(rows), market))
            start = end + 1
        return out


def _as_list(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        return [payload]
    return []
