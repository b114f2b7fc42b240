"""Fake Bybit v5 (ccxt id ``bybit``): market REST and the public websocket.

REST (host api.bybit.com), every answer in the envelope
``{"retCode": 0, "retMsg": "OK", "result": {...}, "retExtInfo": {}, "time": ms}``, errors with a
non-zero retCode (10001 params error, 10006 too many visits):
``/v5/market/instruments-info`` (category spot/linear/inverse/option; linear entries re-priced from
the recorded BTCUSDT capture; ``status=PreLaunch`` and options answer empty lists),
``/v5/market/tickers``, ``/v5/market/open-interest`` (intervalTime 5min..1d, newest first),
``/v5/market/kline`` (newest first), ``/v5/market/orderbook``, ``/v5/market/risk-limit``,
``/v5/market/time``.

Websocket (host stream.bybit.com): ccxt connects to ``/v5/public/linear`` for USDT perps
(also served: spot, inverse, option). ``{"op":"subscribe","req_id":"1","args":[topics]}`` answers
``{"success":true,"ret_msg":"","conn_id":..,"req_id":"1","op":"subscribe"}`` (unknown topic or
symbol: success false); ``{"op":"ping"}`` answers ``{"success":true,"ret_msg":"pong",...,"op":"ping"}``
(ccxt pings every 18 s). Topics ``allLiquidation.{SYMBOL}``, ``orderbook.{1,50,200,1000}.{SYMBOL}``
(a snapshot right after subscribing, then ``delta``), ``tickers.{SYMBOL}`` (snapshot on subscribe),
``publicTrade.{SYMBOL}``, ``kline.{interval}.{SYMBOL}``.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

from .core import Coin, FakeExchange, RestError, fmt, now_ms
from .series import candle, oi_at, window

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "exchange-payloads"
KLINE_MS = {
    "1": 60_000,
    "3": 180_000,
    "5": 300_000,
    "15": 900_000,
    "30": 1_800_000,
    "60": 3_600_000,
    "120": 7_200_000,
    "240": 14_400_000,
    "360": 21_600_000,
    "720": 43_200_000,
    "D": 86_400_000,
    "W": 604_800_000,
}
OI_INTERVAL_MS = {
    "5min": 300_000,
    "15min": 900_000,
    "30min": 1_800_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}
BOOK_DEPTHS = {"1", "50", "200", "1000"}


class BybitFake(FakeExchange):
    venue = "bybit"
    rest_hosts = ("https://api.bybit.com",)
    ws_hosts = ("wss://stream.bybit.com",)
    other_hosts = ()
    max_leverage: float | None = (
        None  # caps every risk-limit tier's maxLeverage (a coin that tops out at 25x)
    )

    def market_id(self, base: str) -> str:
        return f"{base}USDT"

    # ------------------------------------------------------------------ REST
    def rest_route(self, method, path, query):
        if method != "GET":
            return None
        handler = {
            "/v5/market/time": self.server_time,
            "/v5/market/instruments-info": self.instruments_info,
            "/v5/market/tickers": self.tickers,
            "/v5/market/open-interest": self.open_interest,
            "/v5/market/kline": self.kline,
            "/v5/market/mark-price-kline": self.kline,
            "/v5/market/index-price-kline": self.kline,
            "/v5/market/orderbook": self.orderbook,
            "/v5/market/risk-limit": self.risk_limit,
        }.get(path)
        return (lambda q: self._envelope(handler(q))) if handler else None

    @staticmethod
    def _envelope(result) -> dict:
        return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now_ms()}

    def error_body(self, status, message, code):
        if status in (403, 429):
            code, message = code or 10006, message or "Too many visits. Exceeded the API Rate Limit."
        elif status == 404:
            code, message = code or 10404, message or "Not Found"
        return {
            "retCode": code or 10001,
            "retMsg": message or f"HTTP {status}",
            "result": {},
            "retExtInfo": {},
            "time": now_ms(),
        }

    def _category(self, query, allowed=("linear", "inverse", "spot", "option")) -> str:
        category = query.get("category")
        if category not in allowed:
            raise RestError(400, "params error: category is invalid", 10001)
        return category

    def _coin_param(self, query) -> Coin:
        coin = self.coin_by_id(query.get("symbol"))
        if coin is None:
            raise RestError(400, "params error: Symbol Is Invalid", 10001)
        return coin

    def server_time(self, query):
        now = now_ms()
        return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}

    def instruments_info(self, query):
        category = self._category(query)
        if query.get("status") == "PreLaunch" or category == "option":
            return {"category": category, "list": [], "nextPageCursor": ""}
        if category == "linear":
            instruments = [self._linear_instrument(c) for c in self.coins.values()]
        elif category == "inverse":
            instruments = [self._inverse_instrument()] if "BTC" in self.coins else []
        else:
            instruments = [self._spot_instrument(c) for c in self.coins.values()]
        symbol = query.get("symbol")
        if symbol:
            instruments = [i for i in instruments if i["symbol"] == symbol]
        return {"category": category, "list": instruments, "nextPageCursor": ""}

    @staticmethod
    def _linear_template() -> dict:
        recorded = json.loads((FIXTURES / "bybit_fetchMarkets_instruments-info_trimmed.json").read_text())
        return next(i for i in recorded["result"]["list"] if i["symbol"] == "BTCUSDT")

    def _linear_instrument(self, coin: Coin) -> dict:
        entry = copy.deepcopy(self._linear_template())
        entry.update(
            symbol=f"{coin.base}USDT",
            baseCoin=coin.base,
            displayName="",
            priceScale=str(len(fmt(coin.tick, coin.tick).partition(".")[2])),
        )
        entry["priceFilter"].update(
            tickSize=fmt(coin.tick, coin.tick),
            minPrice=fmt(coin.tick, coin.tick),
            maxPrice=fmt(coin.price * 20, coin.tick),
        )
        entry["lotSizeFilter"].update(
            qtyStep=fmt(coin.lot, coin.lot),
            minOrderQty=fmt(coin.lot, coin.lot),
            maxOrderQty=fmt(coin.lot * 1_500_000, coin.lot),
            postOnlyMaxOrderQty=fmt(coin.lot * 1_500_000, coin.lot),
            maxMktOrderQty=fmt(coin.lot * 150_000, coin.lot),
        )
        return entry

    def _inverse_instrument(self) -> dict:
        entry = copy.deepcopy(self._linear_template())
        entry.update(
            symbol="BTCUSD",
            contractType="InversePerpetual",
            quoteCoin="USD",
            settleCoin="BTC",
            priceScale="1",
        )
        entry["priceFilter"].update(tickSize="0.5", minPrice="0.5", maxPrice="1999999.0")
        entry["lotSizeFilter"] = {
            "maxOrderQty": "100000000",
            "minOrderQty": "1",
            "qtyStep": "1",
            "postOnlyMaxOrderQty": "100000000",
            "maxMktOrderQty": "20000000",
        }
        return entry

    @staticmethod
    def _spot_instrument(coin: Coin) -> dict:
        return {
            "symbol": f"{coin.base}USDT",
            "baseCoin": coin.base,
            "quoteCoin": "USDT",
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "utaOnly",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": fmt(coin.lot / 1000, coin.lot / 1000),
                "quotePrecision": "0.00000001",
                "minOrderQty": fmt(coin.lot / 20, coin.lot / 1000),
                "maxOrderQty": "71.73956243",
                "minOrderAmt": "1",
                "maxOrderAmt": "2000000",
            },
            "priceFilter": {"tickSize": fmt(coin.tick / 10, coin.tick / 10)},
            "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
        }

    def _ticker(self, coin: Coin, category: str) -> dict:
        ticker = {
            "symbol": f"{coin.base}USDT",
            "lastPrice": fmt(coin.price, coin.tick),
            "prevPrice24h": fmt(coin.price * 0.98, coin.tick),
            "price24hPcnt": "0.020408",
            "highPrice24h": fmt(coin.price * 1.01, coin.tick),
            "lowPrice24h": fmt(coin.price * 0.97, coin.tick),
            "turnover24h": f"{coin.volume_24h * coin.price:.4f}",
            "volume24h": fmt(coin.volume_24h, coin.lot),
            "bid1Price": fmt(coin.bids[0][0], coin.tick),
            "bid1Size": fmt(coin.bids[0][1], coin.lot),
            "ask1Price": fmt(coin.asks[0][0], coin.tick),
            "ask1Size": fmt(coin.asks[0][1], coin.lot),
        }
        if category == "spot":
            return ticker
        ticker.update(
            indexPrice=fmt(coin.price * 0.9999, coin.tick),
            markPrice=fmt(coin.price, coin.tick),
            prevPrice1h=fmt(coin.price, coin.tick),
            openInterest=fmt(coin.open_interest, coin.lot),
            openInterestValue=f"{coin.open_interest * coin.price:.2f}",
            fundingRate=f"{coin.funding_rate:.6f}",
            nextFundingTime=str(_next_funding(now_ms())),
            fundingIntervalHour="8",
            fundingCap="0.005",
            predictedDeliveryPrice="",
            basisRate="",
            deliveryFeeRate="",
            deliveryTime="0",
            preOpenPrice="",
            preQty="",
            curPreListingPhase="",
        )
        return ticker

    def tickers(self, query):
        category = self._category(query, ("linear", "spot", "inverse"))
        if category == "inverse":
            return {"category": category, "list": []}
        symbol = query.get("symbol")
        coins = [self._coin_param(query)] if symbol else list(self.coins.values())
        return {"category": category, "list": [self._ticker(c, category) for c in coins]}

    def open_interest(self, query):
        category = self._category(query, ("linear", "inverse"))
        coin = self._coin_param(query)
        interval = query.get("intervalTime")
        if interval not in OI_INTERVAL_MS:
            raise RestError(400, "params error: intervalTime is invalid", 10001)
        step, now = OI_INTERVAL_MS[interval], now_ms()
        times = window(
            now, step, int(query.get("limit", 50)), 200, _int(query, "startTime"), _int(query, "endTime")
        )
        rows = [
            {"openInterest": f"{oi_at(coin.open_interest, now, t, step):.8f}", "timestamp": str(t)}
            for t in reversed(times)
        ]
        return {"symbol": coin.base + "USDT", "category": category, "list": rows, "nextPageCursor": ""}

    def kline(self, query):
        category = self._category(query, ("linear", "spot", "inverse"))
        coin = self._coin_param(query)
        interval = query.get("interval")
        if interval not in KLINE_MS:
            raise RestError(400, "params error: Invalid period!", 10001)
        step, now = KLINE_MS[interval], now_ms()
        times = window(
            now, step, int(query.get("limit", 200)), 1000, _int(query, "start"), _int(query, "end")
        )
        rows = []
        for t in reversed(times):
            o, h, low, c = (fmt(v, coin.tick) for v in candle(coin.price, now, t, step, coin.tick))
            volume = coin.volume_24h * step / 86_400_000
            rows.append([str(t), o, h, low, c, fmt(volume, coin.lot), f"{volume * coin.price:.4f}"])
        return {"symbol": coin.base + "USDT", "category": category, "list": rows}

    def orderbook(self, query):
        self._category(query, ("linear", "spot", "inverse"))
        coin = self._coin_param(query)
        limit = min(int(query.get("limit", 25)), 500)
        now = now_ms()
        return {
            "s": f"{coin.base}USDT",
            "b": self._levels(coin, coin.bids[:limit]),
            "a": self._levels(coin, coin.asks[:limit]),
            "ts": now,
            "u": coin.book_id,
            "seq": coin.book_id * 10,
            "cts": now - 1,
        }

    @staticmethod
    def _levels(coin: Coin, levels) -> list:
        return [[fmt(p, coin.tick), fmt(q, coin.lot)] for p, q in levels]

    def risk_limit(self, query):
        self._category(query, ("linear", "inverse"))
        coins = [self._coin_param(query)] if query.get("symbol") else list(self.coins.values())
        tiers = []
        for coin in coins:
            # Bybit's BTCUSDT ladder shape: 2M USDT steps, maintenance 0.5% rising 0.5% a tier.
            for i in range(5):
                maintenance, initial = 0.005 + 0.005 * i, 0.01 + 0.005 * i
                tiers.append(
                    {
                        "id": i + 1,
                        "symbol": f"{coin.base}USDT",
                        "riskLimitValue": str(2_000_000 * (i + 1)),
                        "maintenanceMargin": f"{maintenance:.4f}",
                        "initialMargin": f"{initial:.4f}",
                        "isLowestRisk": 1 if i == 0 else 0,
                        "maxLeverage": f"{min(1 / initial, self.max_leverage or 1e9):.2f}",
                        "mmDeduction": "" if i == 0 else str(int(2_000_000 * i * 0.005)),
                    }
                )
        return {"category": query["category"], "list": tiers, "nextPageCursor": ""}

    # ------------------------------------------------------------------ websocket
    def is_ws_path(self, path):
        return path in ("/v5/public/linear", "/v5/public/spot", "/v5/public/inverse", "/v5/public/option")

    async def on_ws_open(self, conn):
        conn.conn_id = uuid.uuid4().hex[:20]

    def _known_topic(self, topic: str) -> bool:
        parts = topic.split(".")
        if parts[0] in ("allLiquidation", "tickers", "publicTrade") and len(parts) == 2:
            return self.coin_by_id(parts[1]) is not None
        if parts[0] == "orderbook" and len(parts) == 3:
            return parts[1] in BOOK_DEPTHS and self.coin_by_id(parts[2]) is not None
        if parts[0] == "kline" and len(parts) == 3:
            return parts[1] in KLINE_MS and self.coin_by_id(parts[2]) is not None
        return False

    async def on_ws_text(self, conn, text):
        try:
            request = json.loads(text)
            op = request["op"]
        except (ValueError, KeyError, TypeError):
            await self.reply(
                conn,
                {
                    "success": False,
                    "ret_msg": "error:invalid op",
                    "conn_id": conn.conn_id,
                    "request": {"op": "", "args": None},
                },
            )
            return
        ack = {"success": True, "ret_msg": "", "conn_id": conn.conn_id, "op": op}
        if "req_id" in request:
            ack["req_id"] = str(request["req_id"])
        if op == "ping":
            await self.pong(conn, {**ack, "ret_msg": "pong"})
        elif op in ("subscribe", "unsubscribe"):
            topics = request.get("args") or []
            bad = [t for t in topics if not self._known_topic(t)]
            if bad:
                await self.reply(
                    conn, {**ack, "success": False, "ret_msg": f"Invalid symbol :[{', '.join(bad)}]"}
                )
                return
            for topic in topics:
                await (self.subscribe(conn, topic) if op == "subscribe" else self.unsubscribe(conn, topic))
            await self.reply(conn, ack)
            if op == "subscribe":
                for topic in topics:
                    snapshot = self._snapshot_for(topic)
                    if snapshot is not None and not self.silent:
                        await conn.send(snapshot)
        else:
            await self.reply(conn, {**ack, "success": False, "ret_msg": f"error:handler not found, op:{op}"})

    def _snapshot_for(self, topic: str):
        parts = topic.split(".")
        if parts[0] == "orderbook":
            return self.book_snapshot_frame(parts[2], depth=int(parts[1]))
        if parts[0] == "tickers":
            return self.ticker_frame(parts[1])
        return None

    def topics_of(self, frame):
        topic = frame.get("topic") if isinstance(frame, dict) else None
        return [topic] if isinstance(topic, str) else []

    # ------------------------------------------------------------------ frames
    def _liquidation_entry(
        self, coin: Coin, side: str, price: float | None, qty: float, time_ms: int
    ) -> dict:
        # Bybit's S is the liquidated POSITION's side: "Buy" = a long was liquidated (docs/exchanges.md).
        return {
            "T": time_ms,
            "s": f"{coin.base}USDT",
            "S": {"long": "Buy", "short": "Sell"}[side],
            "v": fmt(qty, coin.lot),
            "p": fmt(coin.price if price is None else price, coin.tick),
        }

    def liquidation_frame(
        self,
        symbol: str,
        side: str = "long",
        price: float | None = None,
        qty: float = 1.0,
        time_ms: int | None = None,
    ) -> dict:
        """An ``allLiquidation.{SYMBOL}`` message with one entry (``p`` is the bankruptcy price)."""
        return self.liquidation_frame_multi(symbol, [dict(side=side, price=price, qty=qty, time_ms=time_ms)])

    def liquidation_frame_multi(self, symbol: str, entries: list[dict], time_ms: int | None = None) -> dict:
        """One ``allLiquidation`` message carrying several entries (Bybit batches every 500 ms);
        each entry: ``side``, ``price``, ``qty``, optional ``time_ms``."""
        coin = self.coin(symbol)
        now = now_ms() if time_ms is None else time_ms
        data = [
            self._liquidation_entry(
                coin, e.get("side", "long"), e.get("price"), e.get("qty", 1.0), e.get("time_ms") or now
            )
            for e in entries
        ]
        return {"topic": f"allLiquidation.{coin.base}USDT", "type": "snapshot", "ts": now + 5, "data": data}

    def liquidation_frames(self, symbol: str, entries: list[dict]) -> list[dict]:
        return [self.liquidation_frame_multi(symbol, entries)]

    def book_snapshot_frame(self, symbol: str, depth: int = 50) -> dict:
        coin = self.coin(symbol)
        now = now_ms()
        return {
            "topic": f"orderbook.{depth}.{coin.base}USDT",
            "type": "snapshot",
            "ts": now,
            "data": {
                "s": f"{coin.base}USDT",
                "b": self._levels(coin, coin.bids[:depth]),
                "a": self._levels(coin, coin.asks[:depth]),
                "u": coin.book_id,
                "seq": coin.book_id * 10,
            },
            "cts": now - 1,
        }

    def book_update_frame(
        self,
        symbol: str,
        bids: list | None = None,
        asks: list | None = None,
        time_ms: int | None = None,
        *,
        depth: int = 50,
    ) -> dict:
        """An ``orderbook.{depth}.{SYMBOL}`` delta (size 0 deletes a level), applied to the fake's book."""
        coin = self.coin(symbol)
        bids, asks = bids or [], asks or []
        coin.apply_levels(bids, asks)
        coin.book_id += 1
        now = now_ms() if time_ms is None else time_ms
        return {
            "topic": f"orderbook.{depth}.{coin.base}USDT",
            "type": "delta",
            "ts": now,
            "data": {
                "s": f"{coin.base}USDT",
                "b": self._levels(coin, bids),
                "a": self._levels(coin, asks),
                "u": coin.book_id,
                "seq": coin.book_id * 10,
            },
            "cts": now - 1,
        }

    def ticker_delta_frame(self, symbol: str, fields: list[str], time_ms: int | None = None) -> dict:
        """A ``tickers.{SYMBOL}`` delta carrying only ``fields`` (e.g. ["lastPrice", "openInterest"])
        at the fake's current state; ccxt merges deltas into the last snapshot."""
        coin = self.coin(symbol)
        full = self._ticker(coin, "linear")
        data = {"symbol": full["symbol"], **{name: full[name] for name in fields}}
        now = now_ms() if time_ms is None else time_ms
        return {
            "topic": f"tickers.{coin.base}USDT",
            "type": "delta",
            "data": data,
            "cs": coin.book_id,
            "ts": now,
        }

    def ticker_frame(self, symbol: str, time_ms: int | None = None) -> dict:
        """A ``tickers.{SYMBOL}`` snapshot (price, mark, OI in base coin and USD, funding)."""
        coin = self.coin(symbol)
        data = self._ticker(coin, "linear")
        data["tickDirection"] = "ZeroPlusTick"
        now = now_ms() if time_ms is None else time_ms
        return {
            "topic": f"tickers.{coin.base}USDT",
            "type": "snapshot",
            "data": data,
            "cs": coin.book_id,
            "ts": now,
        }


def _int(query: dict, key: str) -> int | None:
    value = query.get(key)
    return int(value) if value not in (None, "") else None


def _next_funding(now: int) -> int:
    eight_hours = 8 * 3_600_000
    return (now // eight_hours + 1) * eight_hours
