"""OKX perpetual swaps: wire shapes and endpoint choices.

Liquidations: ``liquidation-orders`` (instType SWAP): at most one order per contract per second,
so events are marked ``sampled``; several ``details`` per message, sizes in CONTRACTS.
Open interest of every swap in one ``GET /api/v5/public/open-interest?instType=SWAP``; last and
24 h volume in one ``GET /api/v5/market/tickers?instType=SWAP``; mark prices in one
``GET /api/v5/public/mark-price?instType=SWAP``; funding per symbol from
``GET /api/v5/public/funding-rate``. History: rubik ``open-interest-history`` (5 m) and candles.
Order book: the ``books`` channel (never limit=50: ``books50`` needs a login).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from liqtui.domain.events import BookSnapshot, Liquidation, OpenInterest, Side, Ticker
from liqtui.domain.venues import VENUES
from liqtui.feeds.live.adapter import (
    BOOK_LEVELS,
    MalformedEntry,
    RestCall,
    VenueAdapter,
    checked,
    entry_number,
    entry_side,
    entry_time,
    fnum,
    inum,
)
from liqtui.feeds.live.markets import MarketInfo

VENUE = "okx"
OI_HISTORY_PAGE = 100


def contracts_to_base_usd(contracts: float, price: float, market: MarketInfo) -> tuple[float, float]:
    """OKX sizes are contracts: linear ``ctVal`` is base coin per contract, inverse ``ctVal`` is USD."""
    if market.inverse:
        usd = contracts * market.contract_size
        return (usd / price if price else 0.0), usd
    base = contracts * market.contract_size
    return base, base * price


OKX_POSITION_SIDES = {"long": Side.LONG, "short": Side.SHORT}
OKX_ORDER_SIDES = {"sell": Side.LONG, "buy": Side.SHORT}  # net mode: a sell closes a long
NET_MODE = (None, "", "net")


def parse_detail(detail: dict[str, Any], market: MarketInfo, recv_ms: int) -> Liquidation:
    """One entry of a ``liquidation-orders`` item's ``details``::

        {"bkLoss": "0", "bkPx": "57102.9", "ccy": "", "posSide": "long", "side": "sell",
         "sz": "10000", "ts": "1723038122631"}

    The liquidated position is ``posSide`` when it says long/short; in net mode (``net`` or empty)
    a ``sell`` closes a long. Notional is ``sz`` (contracts) x ``ctVal`` x ``bkPx``.
    MalformedEntry when it is no liquidation a venue can mean.
    """
    pos_side = detail.get("posSide")
    if pos_side in NET_MODE:
        side = entry_side(detail.get("side"), OKX_ORDER_SIDES)
    else:
        side = entry_side(pos_side, OKX_POSITION_SIDES)
    price = entry_number(detail.get("bkPx"), "price")
    qty, usd = contracts_to_base_usd(entry_number(detail.get("sz"), "size"), price, market)
    return checked(
        Liquidation(
            venue=VENUE,
            symbol=market.symbol,
            side=side,
            price=price,
            qty=qty,
            usd=usd,
            time=entry_time(recv_ms, detail.get("ts")),
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
    """``{"arg": {"channel": "liquidation-orders", "instType": "SWAP"},
    "data": [{"instId": "BTC-USDT-SWAP", "instType": "SWAP", "details": [detail, ...], ...}, ...]}``
    -> one Liquidation per detail; None when the frame is not a liquidation push (an ``event``
    acknowledgement carries no ``data``). An unknown ``instId`` has no known ``ctVal``: it is
    noted in ``unknown`` (the runtime reloads the markets) and skipped. An entry no venue can mean
    is left out, its reason appended to ``rejected``."""
    rejected = [] if rejected is None else rejected
    if not isinstance(message, dict):
        return None
    arg = message.get("arg")
    if not isinstance(arg, dict) or arg.get("channel") != "liquidation-orders" or "data" not in message:
        return None
    out: list[Liquidation] = []
    for item in _listed(message.get("data"), "data", rejected):
        if not isinstance(item, dict):
            rejected.append(f"liquidation item is not an object: {type(item).__name__}")
            continue
        inst_id = str(item.get("instId", ""))
        market = markets.get(inst_id)
        if market is None:
            unknown.add(inst_id)
            continue
        for detail in _listed(item.get("details"), "details", rejected):
            try:
                if not isinstance(detail, dict):
                    raise MalformedEntry(f"liquidation detail is not an object: {type(detail).__name__}")
                out.append(parse_detail(detail, market, recv_ms))
            except MalformedEntry as exc:
                rejected.append(str(exc))
    return out


def _listed(value: Any, name: str, rejected: list[str]) -> list[Any]:
    """A list field of the frame; anything else but null is one malformed entry."""
    if isinstance(value, list):
        return value
    if value is not None:
        rejected.append(f"{name} is not a list: {type(value).__name__}")
    return []


def open_interests(
    rows: list[dict[str, Any]], markets: dict[str, MarketInfo], symbols: set[str], now_ms: int
) -> list[OpenInterest]:
    """``GET /api/v5/public/open-interest`` ``data``::

        {"instId": "BTC-USDT-SWAP", "instType": "SWAP", "oi": "2125419", "oiCcy": "21254.19",
         "oiUsd": "1403123456.1", "ts": "1664005108969"}

    ``oi`` contracts, ``oiCcy`` base coin, ``oiUsd`` USD (older responses lack it: priced with
    the mark instead, via ``marks``).
    """
    out = []
    for row in rows:
        market = markets.get(str(row.get("instId")))
        if market is None or market.symbol not in symbols:
            continue
        base, usd = fnum(row.get("oiCcy")), fnum(row.get("oiUsd"))
        if base is None:
            continue
        out.append(
            OpenInterest(
                VENUE,
                market.symbol,
                base,
                usd if usd is not None else float("nan"),
                inum(row.get("ts")) or now_ms,
            )
        )
    return out


def _interval_hours(rate: dict[str, Any]) -> float | None:
    start, end = inum(rate.get("fundingTime")), inum(rate.get("nextFundingTime"))
    return (end - start) / 3_600_000 if start and end and end > start else None


def tickers(
    rows: list[dict[str, Any]],
    marks: dict[str, float],
    funding: dict[str, dict[str, Any]],
    markets: dict[str, MarketInfo],
    symbols: set[str],
    now_ms: int,
) -> list[Ticker]:
    """``GET /api/v5/market/tickers?instType=SWAP`` ``data``::

        {"instType": "SWAP", "instId": "UNI-USD-SWAP", "last": "5.123", "open24h": "4.799",
         "volCcy24h": "577730.7823", "vol24h": "289425", "ts": "1652459223143", ...}

    ``volCcy24h`` is in the base coin for swaps (USD = x last). ``marks``: instId -> mark price
    (``/public/mark-price``); ``funding``: instId -> ``/public/funding-rate`` row
    (``{"fundingRate": "0.0001", "fundingTime": "1703088000000", "nextFundingTime": "1703116800000", ...}``;
    ``fundingTime`` is the next settlement, and the interval runs from it to ``nextFundingTime``).
    """
    out = []
    for row in rows:
        inst_id = str(row.get("instId"))
        market = markets.get(inst_id)
        if market is None or market.symbol not in symbols:
            continue
        last, open_ = fnum(row.get("last")), fnum(row.get("open24h"))
        volume_base = fnum(row.get("volCcy24h"))
        rate = funding.get(inst_id, {})
        out.append(
            Ticker(
                venue=VENUE,
                symbol=market.symbol,
                time=inum(row.get("ts")) or now_ms,
                last=last,
                mark=marks.get(inst_id),
                funding_rate=fnum(rate.get("fundingRate")),
                next_funding_time=inum(rate.get("fundingTime")),
                change_24h_pct=(last / open_ - 1.0) * 100 if last and open_ else None,
                volume_24h_usd=volume_base * last if volume_base is not None and last else None,
                funding_interval_hours=_interval_hours(rate),
            )
        )
    return out


def open_interest_history(rows: list[list[Any]], market: MarketInfo) -> list[OpenInterest]:
    """rubik ``open-interest-history`` ``data``: ``[[ts, oi (contracts), oiCcy (base), oiUsd], ...]`` newest first."""
    out = []
    for row in rows:
        if len(row) < 4:
            continue
        time, base, usd = inum(row[0]), fnum(row[2]), fnum(row[3])
        if time is None or base is None or usd is None:
            continue
        out.append(OpenInterest(VENUE, market.symbol, base, usd, time))
    out.sort(key=lambda oi: oi.time)
    return out


def book_in_coins(
    levels: tuple[tuple[float, float], ...], market: MarketInfo
) -> tuple[tuple[float, float], ...]:
    """(price, contracts) -> (price, base coin): x ctVal (linear), or ctVal USD / price (inverse)."""
    if market.inverse:
        return tuple((price, size * market.contract_size / price) for price, size in levels)
    return tuple((price, size * market.contract_size) for price, size in levels)


class Okx(VenueAdapter):
    venue = VENUE
    book_limit = None  # the default `books` channel; `books50` (limit=50) needs a login

    async def watch_book(
        self, exchange: Any, symbol: str, now_ms: int, levels: int = BOOK_LEVELS
    ) -> BookSnapshot:
        """OKX counts its book in contracts (ccxt passes them on): sizes in the base coin, as every venue's."""
        book = await super().watch_book(exchange, symbol, now_ms, levels)
        market = self.markets.by_symbol.get(symbol)
        if market is None or (market.contract_size == 1.0 and not market.inverse):
            return book
        return replace(book, bids=book_in_coins(book.bids, market), asks=book_in_coins(book.asks, market))

    def parse_liquidations(self, message: Any, recv_ms: int) -> list[Liquidation] | None:
        return liquidations_from_frame(message, self.markets.by_id, recv_ms, self.unknown_ids, self.rejected)

    def is_heartbeat(self, message: Any) -> bool:
        return message == "pong" or (isinstance(message, dict) and "event" in message)

    async def watch_liquidations(self, exchange: Any, symbols: list[str]) -> None:
        await exchange.watch_liquidations_for_symbols(None, params={"type": "swap"})

    async def poll_market(
        self, exchange: Any, symbols: list[str], now_ms: int, call: RestCall
    ) -> list[OpenInterest | Ticker]:
        wanted = set(symbols)
        swaps = {"instType": "SWAP"}
        oi_rows = _data(
            await call("oi", "/api/v5/public/open-interest", exchange.publicGetPublicOpenInterest, swaps)
        )
        ticker_rows = _data(
            await call("ticker", "/api/v5/market/tickers", exchange.publicGetMarketTickers, swaps)
        )
        mark_rows = _data(
            await call("ticker", "/api/v5/public/mark-price", exchange.publicGetPublicMarkPrice, swaps)
        )
        marks = {str(r.get("instId")): px for r in mark_rows if (px := fnum(r.get("markPx")))}
        funding: dict[str, dict[str, Any]] = {}
        for symbol in symbols:
            market = self.markets.by_symbol.get(symbol)
            if market is None:
                continue
            rows = _data(
                await call(
                    "ticker",
                    "/api/v5/public/funding-rate",
                    exchange.publicGetPublicFundingRate,
                    {"instId": market.exchange_id},
                )
            )
            if rows:
                funding[market.exchange_id] = rows[0]
        events: list[OpenInterest | Ticker] = list(
            tickers(ticker_rows, marks, funding, self.markets.by_id, wanted, now_ms)
        )
        for oi in open_interests(oi_rows, self.markets.by_id, wanted, now_ms):
            if oi.usd != oi.usd:  # NaN: no oiUsd in the payload, price it with the mark
                mark = marks.get(self.markets.by_symbol[oi.symbol].exchange_id)
                if mark is None:
                    continue
                oi = OpenInterest(oi.venue, oi.symbol, oi.base, oi.base * mark, oi.time)
            events.append(oi)
        return events

    async def fetch_oi_history(
        self, exchange: Any, symbol: str, since_ms: int, now_ms: int, closes: dict[int, float]
    ) -> list[OpenInterest]:
        market = self.markets.by_symbol.get(symbol)
        if market is None:
            return []
        out: list[OpenInterest] = []
        end = now_ms
        while end > since_ms:
            payload = await exchange.publicGetRubikStatContractsOpenInterestHistory(
                {
                    "instId": market.exchange_id,
                    "period": "5m",
                    "begin": since_ms,
                    "end": end,
                    "limit": OI_HISTORY_PAGE,
                }
            )
            rows = payload.get("data") or []
            page = open_interest_history(rows, market)
            if not page:
                break
            out[:0] = page
            if page[0].time >= end:
                break
            end = page[0].time - 1
        return out


def _data(payload: Any) -> list[Any]:
    """OKX's envelope ``{"code": "0", "msg": "", "data": [...]}`` -> data ([] for a failed call)."""
    return (payload or {}).get("data") or [] if isinstance(payload, dict) else []
