"""Fake Binance USD-M futures (ccxt id ``binanceusdm``): fapi REST and the fstream websocket.

REST (host fapi.binance.com), errors as ``{"code": -1121, "msg": "Invalid symbol."}``:
``/fapi/v1/exchangeInfo`` (markets: the recorded 2021 capture's BTCUSDT entry, re-priced per coin),
``/fapi/v1/openInterest``, ``/futures/data/openInterestHist`` (5m..1d, last 30 days, limit<=500),
``/fapi/v1/klines`` (+ markPriceKlines/indexPriceKlines), ``/fapi/v1/premiumIndex``,
``/fapi/v1/ticker/24hr``, ``/fapi/v1/depth``, ``/fapi/v1/time``, ``/fapi/v1/ping``.

Websocket (host fstream.binance.com): ccxt 4.5.90 connects to ``/market/ws/<n>`` (forceOrder,
markPrice, tickers) and ``/public/ws/<n>`` (depth), one connection per stream index ``<n>``; plain
``/ws`` and ``/ws/<stream>`` work too. Requests ``{"method":"SUBSCRIBE","params":[...],"id":1}``
answer ``{"result":null,"id":1}``; the server sends websocket PING frames (Binance: every 3 minutes).
Frames: ``forceOrder`` (object, also on ``!forceOrder@arr``), ``depthUpdate`` (U/u/pu chained on
the REST snapshot's lastUpdateId), ``markPriceUpdate`` list, ``24hrTicker`` / ``24hrMiniTicker`` lists.
Binance sends one liquidation per frame, so ``liquidation_frame_multi`` returns a list of frames.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from .core import Coin, FakeExchange, RestError, fmt, now_ms
from .series import INTERVAL_MS, candle, oi_at, window

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "exchange-payloads"
THIRTY_DAYS_MS = 30 * 86_400_000


class BinanceUsdmFake(FakeExchange):
    venue = "binanceusdm"
    rest_hosts = ("https://fapi.binance.com",)
    ws_hosts = ("wss://fstream.binance.com",)
    other_hosts = (
        "https://api.binance.com",
        "https://dapi.binance.com",
        "https://eapi.binance.com",
        "https://papi.binance.com",
        "wss://stream.binance.com:9443",
        "wss://dstream.binance.com",
        "wss://nbstream.binance.com",
        "wss://ws-api.binance.com:443",
        "wss://ws-fapi.binance.com",
        "wss://ws-dapi.binance.com",
    )
    default_server_ping_interval = 180.0

    def market_id(self, base: str) -> str:
        return f"{base}USDT"

    # ------------------------------------------------------------------ REST
    def rest_route(self, method, path, query):
        if method != "GET":
            return None
        return {
            "/fapi/v1/ping": lambda q: {},
            "/fapi/v1/time": lambda q: {"serverTime": now_ms()},
            "/fapi/v1/exchangeInfo": self.exchange_info,
            "/fapi/v1/openInterest": self.open_interest,
            "/futures/data/openInterestHist": self.open_interest_hist,
            "/fapi/v1/klines": self.klines,
            "/fapi/v1/markPriceKlines": self.klines,
            "/fapi/v1/indexPriceKlines": self.klines,
            "/fapi/v1/premiumIndex": self.premium_index,
            "/fapi/v1/ticker/24hr": self.ticker_24hr,
            "/fapi/v1/depth": self.depth,
        }.get(path)

    def error_body(self, status, message, code):
        if status == 418:
            return {
                "code": -1003,
                "msg": message
                or f"Way too many requests; IP(127.0.0.1) banned until {now_ms() + 120_000}. Please use the websocket for live updates to avoid bans.",
            }
        if status == 429:
            return {
                "code": -1003,
                "msg": message
                or "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. Please use WebSocket Streams for live updates to avoid polling the API.",
            }
        if status == 404:
            return {"code": -5000, "msg": message or "Path not found"}
        return {"code": code if code is not None else -1000, "msg": message or f"HTTP {status}"}

    def _coin_param(self, query, required=True) -> Coin | None:
        symbol = query.get("symbol")
        if symbol is None:
            if required:
                raise RestError(
                    400, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.", -1102
                )
            return None
        coin = self.coin_by_id(symbol)
        if coin is None:
            raise RestError(400, "Invalid symbol.", -1121)
        return coin

    def exchange_info(self, query):
        info = json.loads((FIXTURES / "binanceusdm_fetchMarkets_exchangeInfo_trimmed.json").read_text())
        template = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
        info["serverTime"] = now_ms()
        info["symbols"] = [self._symbol_entry(template, coin) for coin in self.coins.values()]
        info["assets"] = [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}]
        return info

    @staticmethod
    def _symbol_entry(template: dict, coin: Coin) -> dict:
        entry = copy.deepcopy(template)
        entry.update(
            symbol=f"{coin.base}USDT",
            pair=f"{coin.base}USDT",
            baseAsset=coin.base,
            pricePrecision=len(fmt(coin.tick, coin.tick).partition(".")[2]),
            quantityPrecision=len(fmt(coin.lot, coin.lot).partition(".")[2]),
        )
        for flt in entry["filters"]:
            if flt["filterType"] == "PRICE_FILTER":
                flt.update(
                    tickSize=fmt(coin.tick, coin.tick),
                    minPrice=fmt(coin.tick * 10, coin.tick),
                    maxPrice="10000000",
                )
            elif flt["filterType"] in ("LOT_SIZE", "MARKET_LOT_SIZE"):
                flt.update(
                    stepSize=fmt(coin.lot, coin.lot), minQty=fmt(coin.lot, coin.lot), maxQty="100000000"
                )
        return entry

    def open_interest(self, query):
        coin = self._coin_param(query)
        return {
            "openInterest": fmt(coin.open_interest, coin.lot),
            "symbol": f"{coin.base}USDT",
            "time": now_ms(),
        }

    def open_interest_hist(self, query):
        coin = self._coin_param(query)
        period = query.get("period", "5m")
        if period not in ("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d"):
            raise RestError(400, "Invalid period.", -1120)
        step, now = INTERVAL_MS[period], now_ms()
        times = window(
            now,
            step,
            int(query.get("limit", 30)),
            500,
            _int(query, "startTime"),
            _int(query, "endTime"),
            keep_ms=THIRTY_DAYS_MS,
        )
        rows = []
        for t in times:
            oi = oi_at(coin.open_interest, now, t, step)
            price = candle(coin.price, now, t, step, coin.tick)[3]
            rows.append(
                {
                    "symbol": f"{coin.base}USDT",
                    "sumOpenInterest": f"{oi:.8f}",
                    "sumOpenInterestValue": f"{oi * price:.8f}",
                    "CMCCirculatingSupply": "19800000.000",
                    "timestamp": t,
                }
            )
        return rows

    def klines(self, query):
        coin = self._coin_param(query)
        interval = query.get("interval")
        if interval not in INTERVAL_MS:
            raise RestError(400, "Invalid interval.", -1120)
        step, now = INTERVAL_MS[interval], now_ms()
        times = window(
            now, step, int(query.get("limit", 500)), 1500, _int(query, "startTime"), _int(query, "endTime")
        )
        rows = []
        for t in times:
            o, h, low, c = (fmt(v, coin.tick) for v in candle(coin.price, now, t, step, coin.tick))
            volume = coin.volume_24h * step / 86_400_000
            rows.append(
                [
                    t,
                    o,
                    h,
                    low,
                    c,
                    fmt(volume, coin.lot),
                    t + step - 1,
                    f"{volume * coin.price:.4f}",
                    1000,
                    fmt(volume / 2, coin.lot),
                    f"{volume * coin.price / 2:.4f}",
                    "0",
                ]
            )
        return rows

    def _premium(self, coin: Coin) -> dict:
        now = now_ms()
        return {
            "symbol": f"{coin.base}USDT",
            "markPrice": fmt(coin.price, coin.tick / 100),
            "indexPrice": fmt(coin.price * 0.9999, coin.tick / 100),
            "estimatedSettlePrice": fmt(coin.price, coin.tick / 100),
            "lastFundingRate": f"{coin.funding_rate:.8f}",
            "interestRate": "0.00010000",
            "nextFundingTime": _next_funding(now),
            "time": now,
        }

    def premium_index(self, query):
        coin = self._coin_param(query, required=False)
        return self._premium(coin) if coin else [self._premium(c) for c in self.coins.values()]

    def _ticker(self, coin: Coin) -> dict:
        now = now_ms()
        open_price = coin.price * 0.98
        return {
            "symbol": f"{coin.base}USDT",
            "priceChange": fmt(coin.price - open_price, coin.tick),
            "priceChangePercent": f"{(coin.price / open_price - 1) * 100:.3f}",
            "weightedAvgPrice": fmt(coin.price * 0.99, coin.tick),
            "lastPrice": fmt(coin.price, coin.tick),
            "lastQty": fmt(coin.lot * 3, coin.lot),
            "openPrice": fmt(open_price, coin.tick),
            "highPrice": fmt(coin.price * 1.01, coin.tick),
            "lowPrice": fmt(open_price * 0.99, coin.tick),
            "volume": fmt(coin.volume_24h, coin.lot),
            "quoteVolume": f"{coin.volume_24h * coin.price:.2f}",
            "openTime": now - 86_400_000,
            "closeTime": now,
            "firstId": 1,
            "lastId": 1_000_000,
            "count": 1_000_000,
        }

    def ticker_24hr(self, query):
        coin = self._coin_param(query, required=False)
        return self._ticker(coin) if coin else [self._ticker(c) for c in self.coins.values()]

    def depth(self, query):
        coin = self._coin_param(query)
        limit = int(query.get("limit", 500))
        if limit not in (5, 10, 20, 50, 100, 500, 1000):
            raise RestError(
                400,
                "Illegal characters found in parameter 'limit'; legal range is '5, 10, 20, 50, 100, 500, 1000'.",
                -1100,
            )
        now = now_ms()
        return {
            "lastUpdateId": coin.book_id,
            "E": now,
            "T": now,
            "bids": [[fmt(p, coin.tick), fmt(q, coin.lot)] for p, q in coin.bids[:limit]],
            "asks": [[fmt(p, coin.tick), fmt(q, coin.lot)] for p, q in coin.asks[:limit]],
        }

    # ------------------------------------------------------------------ websocket
    def is_ws_path(self, path):
        parts = [p for p in path.split("/") if p]
        return bool(parts) and (
            parts[0] == "ws" or parts[:2] in (["market", "ws"], ["public", "ws"], ["private", "ws"])
        )

    async def on_ws_open(self, conn):
        # Raw streams named in the URL (/ws/btcusdt@depth) are subscribed on connect;
        # ccxt's numeric stream index (/market/ws/0) is not a stream name.
        tail = conn.path.split("/ws", 1)[1].strip("/")
        for stream in filter(None, tail.split("/")):
            if "@" in stream:
                await self.subscribe(conn, stream)

    async def on_ws_text(self, conn, text):
        try:
            request = json.loads(text)
            method, request_id = request["method"], request.get("id")
        except (ValueError, KeyError, TypeError):
            await self.reply(
                conn, {"error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}}
            )
            return
        params = request.get("params") or []
        if method == "SUBSCRIBE":
            for stream in params:
                await self.subscribe(conn, stream)
            await self.reply(conn, {"result": None, "id": request_id})
        elif method == "UNSUBSCRIBE":
            for stream in params:
                await self.unsubscribe(conn, stream)
            await self.reply(conn, {"result": None, "id": request_id})
        elif method == "LIST_SUBSCRIPTIONS":
            await self.reply(conn, {"result": list(conn.topics), "id": request_id})
        else:
            await self.reply(
                conn,
                {"error": {"code": 2, "msg": f"Invalid request: unknown method {method}"}, "id": request_id},
            )

    def topics_of(self, frame):
        events = frame if isinstance(frame, list) else [frame]
        if not events or not isinstance(events[0], dict):
            return []
        event = events[0]
        kind = event.get("e")
        if kind == "forceOrder":
            symbol = event.get("o", {}).get("s", "")
            return ["!forceOrder@arr", f"{symbol.lower()}@forceOrder"]
        if kind == "depthUpdate":
            symbol = event.get("s", "").lower()
            return [
                f"{symbol}@depth",
                f"{symbol}@depth@100ms",
                f"{symbol}@depth@500ms",
                f"{symbol}@depth@0ms",
            ]
        if kind == "markPriceUpdate":
            if isinstance(frame, list):
                return ["!markPrice@arr@1s", "!markPrice@arr"]
            symbol = event.get("s", "").lower()
            return [f"{symbol}@markPrice@1s", f"{symbol}@markPrice"]
        if kind == "24hrTicker":
            return ["!ticker@arr"] if isinstance(frame, list) else [f"{event.get('s', '').lower()}@ticker"]
        if kind == "24hrMiniTicker":
            return (
                ["!miniTicker@arr"]
                if isinstance(frame, list)
                else [f"{event.get('s', '').lower()}@miniTicker"]
            )
        return []

    # ------------------------------------------------------------------ frames
    def liquidation_frame(
        self,
        symbol: str,
        side: str = "long",
        price: float | None = None,
        qty: float = 1.0,
        time_ms: int | None = None,
    ) -> dict:
        """A ``forceOrder`` event; ``side`` is the liquidated POSITION (long -> the order side is SELL)."""
        coin = self.coin(symbol)
        price = coin.price if price is None else price
        time_ms = now_ms() if time_ms is None else time_ms
        order_side = {"long": "SELL", "short": "BUY"}[side]
        bankruptcy = price * (0.995 if side == "long" else 1.005)
        return {
            "e": "forceOrder",
            "E": time_ms + 2,
            "o": {
                "s": f"{coin.base}USDT",
                "S": order_side,
                "o": "LIMIT",
                "f": "IOC",
                "q": fmt(qty, coin.lot),
                "p": fmt(bankruptcy, coin.tick),
                "ap": fmt(price, coin.tick),
                "X": "FILLED",
                "l": fmt(qty, coin.lot),
                "z": fmt(qty, coin.lot),
                "T": time_ms,
            },
        }

    def liquidation_frame_multi(
        self, symbol: str, entries: list[dict], time_ms: int | None = None
    ) -> list[dict]:
        """Binance carries ONE liquidation per frame, so this is a LIST of ``forceOrder`` frames, one
        per entry (``side``, ``price``, ``qty``, optional ``time_ms``); push them with ``push_many``."""
        return [self.liquidation_frame(symbol, **{"time_ms": time_ms, **entry}) for entry in entries]

    def liquidation_frames(self, symbol: str, entries: list[dict]) -> list[dict]:
        """The frames that carry ``entries`` as the venue would send them (here: one per entry)."""
        return self.liquidation_frame_multi(symbol, entries)

    def book_update_frame(
        self,
        symbol: str,
        bids: list | None = None,
        asks: list | None = None,
        time_ms: int | None = None,
        *,
        gap: bool = False,
    ) -> dict:
        """A futures ``depthUpdate`` continuing the book's update ids (``pu`` = previous ``u``);
        the levels are applied to the fake's book so later REST snapshots agree. ``gap`` breaks the chain."""
        coin = self.coin(symbol)
        bids, asks = bids or [], asks or []
        coin.apply_levels(bids, asks)
        previous = coin.book_id
        first = previous + 1 + (5 if gap else 0)
        coin.book_id = first + 2
        time_ms = now_ms() if time_ms is None else time_ms
        return {
            "e": "depthUpdate",
            "E": time_ms,
            "T": time_ms - 1,
            "s": f"{coin.base}USDT",
            "U": first,
            "u": coin.book_id,
            "pu": previous + (5 if gap else 0),
            "b": [[fmt(p, coin.tick), fmt(q, coin.lot)] for p, q in bids],
            "a": [[fmt(p, coin.tick), fmt(q, coin.lot)] for p, q in asks],
        }

    def mark_price_frame(self, symbols: list[str] | None = None, time_ms: int | None = None) -> list[dict]:
        """The ``!markPrice@arr@1s`` payload: a list of ``markPriceUpdate`` events."""
        time_ms = now_ms() if time_ms is None else time_ms
        coins = [self.coin(s) for s in symbols] if symbols else list(self.coins.values())
        return [
            {
                "e": "markPriceUpdate",
                "E": time_ms,
                "s": f"{c.base}USDT",
                "p": fmt(c.price, c.tick / 100),
                "ap": fmt(c.price, c.tick / 100),
                "P": fmt(c.price, c.tick / 100),
                "i": fmt(c.price * 0.9999, c.tick / 100),
                "r": f"{c.funding_rate:.8f}",
                "T": _next_funding(time_ms),
            }
            for c in coins
        ]

    def mini_ticker_frame(self, symbols: list[str] | None = None, time_ms: int | None = None) -> list[dict]:
        """The ``!miniTicker@arr`` payload (ccxt's default for watch_tickers): ``24hrMiniTicker`` events."""
        return [
            {
                "e": "24hrMiniTicker",
                "E": t["E"],
                "s": t["s"],
                "c": t["c"],
                "o": t["o"],
                "h": t["h"],
                "l": t["l"],
                "v": t["v"],
                "q": t["q"],
            }
            for t in self.ticker_frame(symbols, time_ms)
        ]

    def ticker_frame(self, symbols: list[str] | None = None, time_ms: int | None = None) -> list[dict]:
        """The ``!ticker@arr`` payload: a list of ``24hrTicker`` events."""
        time_ms = now_ms() if time_ms is None else time_ms
        coins = [self.coin(s) for s in symbols] if symbols else list(self.coins.values())
        frames = []
        for c in coins:
            t = self._ticker(c)
            frames.append(
                {
                    "e": "24hrTicker",
                    "E": time_ms,
                    "s": t["symbol"],
                    "p": t["priceChange"],
                    "P": t["priceChangePercent"],
                    "w": t["weightedAvgPrice"],
                    "c": t["lastPrice"],
                    "Q": t["lastQty"],
                    "o": t["openPrice"],
                    "h": t["highPrice"],
                    "l": t["lowPrice"],
                    "v": t["volume"],
                    "q": t["quoteVolume"],
                    "O": time_ms - 86_400_000,
                    "C": time_ms,
                    "F": 1,
                    "L": 1_000_000,
                    "n": 1_000_000,
                }
            )
        return frames


def _int(query: dict, key: str) -> int | None:
    value = query.get(key)
    return int(value) if value not in (None, "") else None


def _next_funding(now: int) -> int:
    eight_hours = 8 * 3_600_000
    return (now // eight_hours + 1) * eight_hours
