"""Fake OKX v5 (ccxt id ``okx``): public REST and the public/business websockets.

REST (host www.okx.com), answers ``{"code": "0", "msg": "", "data": [...]}``, errors with a
non-zero code (51001 instrument doesn't exist, 50011 too many requests):
``/api/v5/public/instruments`` (SPOT, SWAP; FUTURES and OPTION empty), ``/api/v5/public/underlying``,
``/api/v5/public/open-interest`` (oi contracts, oiCcy base, oiUsd), ``/api/v5/public/funding-rate``,
``/api/v5/public/mark-price``, ``/api/v5/public/position-tiers``, ``/api/v5/public/time``,
``/api/v5/market/tickers``, ``/api/v5/market/ticker``, ``/api/v5/market/books``,
``/api/v5/market/candles`` and ``history-candles`` (newest first; ``after``/``before`` exclusive),
``/api/v5/rubik/stat/contracts/open-interest-history`` (per instrument: [ts, oi, oiCcy, oiUsd]) and
``/api/v5/rubik/stat/contracts/open-interest-volume`` (per coin: [ts, oiUsd, volUsd]).

Contract sizes (ctVal) are OKX's: BTC 0.01, ETH 0.1, SOL 1 base per contract. ``qty`` given to the
frame helpers is in BASE units; frames carry contracts (``sz = qty / ctVal``).

Websocket (host ws.okx.com:443): ccxt connects to ``/ws/v5/public`` (candles: ``/ws/v5/business``).
``{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT-SWAP"}]}`` answers one
``{"event":"subscribe","arg":{...},"connId":..}`` per arg (unknown channel/instrument:
``{"event":"error","code":"60018",...}``); text ``ping`` answers text ``pong`` (ccxt pings every 18 s).
Channels ``liquidation-orders`` (instType SWAP; topic name ``liquidation-orders``), ``books``
(snapshot on subscribe, then ``update`` with seqId/prevSeqId and checksum), ``books5``, ``tickers``,
``funding-rate``, ``mark-price`` (first push on subscribe); topic names are ``channel:instId``.
"""

from __future__ import annotations

import json
import uuid
import zlib

from .core import Coin, FakeExchange, RestError, fmt, now_ms
from .series import candle, oi_at, window

CT_VAL = {"BTC": 0.01, "ETH": 0.1, "SOL": 1.0}
BAR_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1H": 3_600_000,
    "2H": 7_200_000,
    "4H": 14_400_000,
    "6H": 21_600_000,
    "12H": 43_200_000,
    "1D": 86_400_000,
    "1W": 604_800_000,
    "6Hutc": 21_600_000,
    "12Hutc": 43_200_000,
    "1Dutc": 86_400_000,
}
INSTRUMENT_CHANNELS = {
    "books",
    "books5",
    "bbo-tbt",
    "tickers",
    "funding-rate",
    "mark-price",
    "trades",
    "trades-all",
}


class OkxFake(FakeExchange):
    venue = "okx"
    rest_hosts = ("https://www.okx.com",)
    ws_hosts = ("wss://ws.okx.com:443",)
    other_hosts = ("wss://wspap.okx.com:443",)

    def market_id(self, base: str) -> str:
        return f"{base}-USDT-SWAP"

    def ct_val(self, coin: Coin) -> float:
        return CT_VAL.get(coin.base, 1.0)

    def contracts(self, coin: Coin, base_amount: float) -> float:
        return base_amount / self.ct_val(coin)

    # ------------------------------------------------------------------ REST
    def rest_route(self, method, path, query):
        if method != "GET":
            return None
        handler = {
            "/api/v5/public/time": lambda q: [{"ts": str(now_ms())}],
            "/api/v5/public/instruments": self.instruments,
            "/api/v5/public/underlying": lambda q: [[]],
            "/api/v5/public/open-interest": self.open_interest,
            "/api/v5/public/funding-rate": self.funding_rate,
            "/api/v5/public/mark-price": self.mark_price,
            "/api/v5/public/position-tiers": self.position_tiers,
            "/api/v5/market/tickers": self.tickers,
            "/api/v5/market/ticker": self.ticker,
            "/api/v5/market/books": self.books,
            "/api/v5/market/candles": lambda q: self.candles(q, 300),
            "/api/v5/market/history-candles": lambda q: self.candles(q, 100),
            "/api/v5/market/mark-price-candles": lambda q: self.candles(q, 100),
            "/api/v5/market/index-candles": lambda q: self.candles(q, 100),
            "/api/v5/rubik/stat/contracts/open-interest-history": self.open_interest_history,
            "/api/v5/rubik/stat/contracts/open-interest-volume": self.open_interest_volume,
        }.get(path)
        return (lambda q: {"code": "0", "msg": "", "data": handler(q)}) if handler else None

    def error_body(self, status, message, code):
        if status in (429, 418):
            code, message = code or "50011", message or "Too Many Requests"
        elif status == 404:
            code, message = code or "404", message or "Not Found"
        return {"code": str(code or "50000"), "msg": message or f"HTTP {status}", "data": []}

    def _swap(self, query, key="instId") -> Coin:
        coin = self.coin_by_id(query.get(key))
        if coin is None:
            raise RestError(400, "Instrument ID, Instrument ID code, or Spread ID doesn't exist.", "51001")
        return coin

    def _inst_type(self, query, allowed=("SPOT", "SWAP", "FUTURES", "OPTION", "MARGIN")) -> str:
        inst_type = query.get("instType")
        if inst_type not in allowed:
            raise RestError(400, "Parameter instType error", "51000")
        return inst_type

    def instruments(self, query):
        inst_type = self._inst_type(query)
        if inst_type == "SWAP":
            return [self._swap_instrument(c) for c in self.coins.values()]
        if inst_type == "SPOT":
            return [self._spot_instrument(c) for c in self.coins.values()]
        return []

    def _swap_instrument(self, coin: Coin) -> dict:
        family = f"{coin.base}-USDT"
        return {
            "alias": "",
            "baseCcy": "",
            "category": "1",
            "ctMult": "1",
            "ctType": "linear",
            "ctVal": _num(self.ct_val(coin)),
            "ctValCcy": coin.base,
            "expTime": "",
            "instFamily": family,
            "instId": self.market_id(coin.base),
            "instType": "SWAP",
            "lever": "100",
            "listTime": "1611916828000",
            "lotSz": "0.01",
            "maxIcebergSz": "100000000.0000000000000000",
            "maxLmtAmt": "20000000",
            "maxLmtSz": "100000000",
            "maxMktAmt": "",
            "maxMktSz": "12000",
            "maxStopSz": "12000",
            "maxTriggerSz": "100000000.0000000000000000",
            "maxTwapSz": "100000000.0000000000000000",
            "minSz": "0.01",
            "optType": "",
            "quoteCcy": "",
            "ruleType": "normal",
            "settleCcy": "USDT",
            "state": "live",
            "stk": "",
            "tickSz": _num(coin.tick),
            "uly": family,
        }

    @staticmethod
    def _spot_instrument(coin: Coin) -> dict:
        return {
            "alias": "",
            "baseCcy": coin.base,
            "category": "1",
            "ctMult": "",
            "ctType": "",
            "ctVal": "",
            "ctValCcy": "",
            "expTime": "",
            "instFamily": "",
            "instId": f"{coin.base}-USDT",
            "instType": "SPOT",
            "lever": "10",
            "listTime": "1606468572000",
            "lotSz": "0.00000001",
            "maxIcebergSz": "9999999999",
            "maxLmtAmt": "1000000",
            "maxLmtSz": "9999999999",
            "maxMktAmt": "1000000",
            "maxMktSz": "",
            "maxStopSz": "",
            "maxTriggerSz": "9999999999",
            "maxTwapSz": "9999999999",
            "minSz": "0.00001",
            "optType": "",
            "quoteCcy": "USDT",
            "ruleType": "normal",
            "settleCcy": "",
            "state": "live",
            "stk": "",
            "tickSz": _num(coin.tick),
            "uly": "",
        }

    def _oi_row(self, coin: Coin) -> dict:
        return {
            "instId": self.market_id(coin.base),
            "instType": "SWAP",
            "oi": _num(round(self.contracts(coin, coin.open_interest), 2)),
            "oiCcy": _num(coin.open_interest),
            "oiUsd": f"{coin.open_interest * coin.price:.4f}",
            "ts": str(now_ms()),
        }

    def open_interest(self, query):
        self._inst_type(query, ("SWAP", "FUTURES", "OPTION"))
        if query.get("instId"):
            return [self._oi_row(self._swap(query))]
        if query.get("instType") != "SWAP":
            return []
        family = query.get("instFamily") or query.get("uly")
        return [self._oi_row(c) for c in self.coins.values() if family in (None, f"{c.base}-USDT")]

    def _funding(self, coin: Coin) -> dict:
        now = now_ms()
        eight = 8 * 3_600_000
        return {
            "fundingRate": f"{coin.funding_rate:.16f}",
            "fundingTime": str((now // eight + 1) * eight),
            "instId": self.market_id(coin.base),
            "instType": "SWAP",
            "interestRate": "0.0001",
            "maxFundingRate": "0.00375",
            "method": "current_period",
            "minFundingRate": "-0.00375",
            "nextFundingRate": "",
            "nextFundingTime": str((now // eight + 2) * eight),
            "premium": "0.0000",
            "settFundingRate": f"{coin.funding_rate:.16f}",
            "settState": "settled",
            "sodUtc0": "",
            "ts": str(now),
        }

    def funding_rate(self, query):
        return [self._funding(self._swap(query))]

    def mark_price(self, query):
        coins = [self._swap(query)] if query.get("instId") else list(self.coins.values())
        return [
            {
                "instId": self.market_id(c.base),
                "instType": "SWAP",
                "markPx": fmt(c.price, c.tick),
                "ts": str(now_ms()),
            }
            for c in coins
        ]

    def position_tiers(self, query):
        self._inst_type(query, ("SWAP", "FUTURES", "MARGIN", "OPTION"))
        family = query.get("instFamily") or query.get("uly")
        coin = next((c for c in self.coins.values() if f"{c.base}-USDT" == family), None)
        if coin is None:
            raise RestError(400, "Parameter instFamily error", "51000")
        tiers = []
        for i in range(5):
            # OKX's BTC-USDT ladder shape: mmr 0.4% at tier 1, sizes in contracts.
            mmr, imr = 0.004 + 0.004 * i, 0.01 + 0.01 * i
            tiers.append(
                {
                    "baseMaxLoan": "",
                    "imr": _num(round(imr, 4)),
                    "instFamily": family,
                    "instId": "",
                    "maxLever": _num(round(1 / imr, 2)),
                    "maxSz": str(5000 * (i + 1)),
                    "minSz": str(5000 * i),
                    "mmr": _num(round(mmr, 4)),
                    "optMgnFactor": "0",
                    "quoteMaxLoan": "",
                    "tier": str(i + 1),
                    "uly": family,
                }
            )
        return tiers

    def _ticker(self, coin: Coin, inst_type: str = "SWAP") -> dict:
        now = now_ms()
        inst_id = self.market_id(coin.base) if inst_type == "SWAP" else f"{coin.base}-USDT"
        return {
            "instType": inst_type,
            "instId": inst_id,
            "last": fmt(coin.price, coin.tick),
            "lastSz": "1",
            "askPx": fmt(coin.asks[0][0], coin.tick),
            "askSz": _num(round(self.contracts(coin, coin.asks[0][1]), 2)),
            "bidPx": fmt(coin.bids[0][0], coin.tick),
            "bidSz": _num(round(self.contracts(coin, coin.bids[0][1]), 2)),
            "open24h": fmt(coin.price * 0.98, coin.tick),
            "high24h": fmt(coin.price * 1.01, coin.tick),
            "low24h": fmt(coin.price * 0.97, coin.tick),
            "volCcy24h": _num(coin.volume_24h),
            "vol24h": _num(round(self.contracts(coin, coin.volume_24h), 2)),
            "sodUtc0": fmt(coin.price * 0.99, coin.tick),
            "sodUtc8": fmt(coin.price * 0.99, coin.tick),
            "ts": str(now),
        }

    def tickers(self, query):
        inst_type = self._inst_type(query)
        if inst_type not in ("SWAP", "SPOT"):
            return []
        return [self._ticker(c, inst_type) for c in self.coins.values()]

    def ticker(self, query):
        inst_id = query.get("instId", "")
        spot = next((c for c in self.coins.values() if inst_id == f"{c.base}-USDT"), None)
        return [self._ticker(spot, "SPOT")] if spot else [self._ticker(self._swap(query))]

    def _book_levels(self, coin: Coin, levels) -> list:
        return [[fmt(p, coin.tick), _num(round(self.contracts(coin, q), 2)), "0", "1"] for p, q in levels]

    def books(self, query):
        coin = self._swap(query)
        size = min(int(query.get("sz", 1)), 400)
        return [
            {
                "asks": self._book_levels(coin, coin.asks[:size]),
                "bids": self._book_levels(coin, coin.bids[:size]),
                "ts": str(now_ms()),
            }
        ]

    def candles(self, query, max_limit):
        coin = self._swap(query)
        bar = query.get("bar", "1m")
        if bar not in BAR_MS:
            raise RestError(400, "Parameter bar error", "51000")
        step, now = BAR_MS[bar], now_ms()
        limit = int(query.get("limit", 100))
        before, after = _int(query, "before"), _int(query, "after")
        start = before + 1 if before is not None else None
        end = after - 1 if after is not None else None
        times = window(now, step, limit if start is None else 10_000, 10_000, start, end)[-limit:]
        rows = []
        for t in reversed(times):
            o, h, low, c = (fmt(v, coin.tick) for v in candle(coin.price, now, t, step, coin.tick))
            volume = coin.volume_24h * step / 86_400_000
            rows.append(
                [
                    str(t),
                    o,
                    h,
                    low,
                    c,
                    _num(round(self.contracts(coin, volume), 2)),
                    _num(round(volume, 4)),
                    f"{volume * coin.price:.2f}",
                    "0" if t == now // step * step else "1",
                ]
            )
        return rows

    def _stat_times(self, query, step):
        now = now_ms()
        begin, end = _int(query, "begin"), _int(query, "end")
        limit = int(query.get("limit", 100))
        start = begin + 1 if begin is not None else None
        stop = end - 1 if end is not None else None
        return now, window(now, step, 10_000, 10_000, start, stop)[-min(limit, 100) :]

    def open_interest_history(self, query):
        coin = self._swap(query)
        period = query.get("period", "5m")
        if period not in ("5m", "1H", "1D"):
            raise RestError(400, "Parameter period error", "51000")
        step = BAR_MS[period]
        now, times = self._stat_times(query, step)
        rows = []
        for t in reversed(times):
            base = oi_at(coin.open_interest, now, t, step)
            price = candle(coin.price, now, t, step, coin.tick)[3]
            rows.append([str(t), f"{self.contracts(coin, base):.2f}", f"{base:.4f}", f"{base * price:.4f}"])
        return rows

    def open_interest_volume(self, query):
        coin = self.coins.get(str(query.get("ccy", "")).upper())
        if coin is None:
            raise RestError(400, "Parameter ccy error", "51000")
        period = query.get("period", "5m")
        if period not in ("5m", "1H", "1D"):
            raise RestError(400, "Parameter period error", "51000")
        step = BAR_MS[period]
        now, times = self._stat_times(query, step)
        rows = []
        for t in reversed(times):
            price = candle(coin.price, now, t, step, coin.tick)[3]
            usd = oi_at(coin.open_interest, now, t, step) * price
            rows.append([str(t), f"{usd:.4f}", f"{coin.volume_24h * price * step / 86_400_000:.4f}"])
        return rows

    # ------------------------------------------------------------------ websocket
    def is_ws_path(self, path):
        return path in ("/ws/v5/public", "/ws/v5/business", "/ws/v5/private")

    async def on_ws_open(self, conn):
        conn.conn_id = uuid.uuid4().hex[:8]

    def _topic(self, arg: dict) -> str | None:
        channel, inst_id, inst_type = arg.get("channel"), arg.get("instId"), arg.get("instType")
        if channel == "liquidation-orders" and inst_type in ("SWAP", "FUTURES", "MARGIN", "OPTION"):
            return "liquidation-orders" if inst_type == "SWAP" else f"liquidation-orders:{inst_type}"
        if channel in INSTRUMENT_CHANNELS and self.coin_by_id(inst_id) is not None:
            return f"{channel}:{inst_id}"
        if isinstance(channel, str) and channel.startswith("candle") and self.coin_by_id(inst_id) is not None:
            return f"{channel}:{inst_id}"
        return None

    async def on_ws_text(self, conn, text):
        if text == "ping":
            await self.pong(conn, "pong")
            return
        try:
            request = json.loads(text)
            op, args = request["op"], request.get("args") or []
        except (ValueError, KeyError, TypeError):
            await self.reply(
                conn,
                {
                    "event": "error",
                    "msg": f"Illegal request: {text}",
                    "code": "60012",
                    "connId": conn.conn_id,
                },
            )
            return
        if op not in ("subscribe", "unsubscribe"):
            await self.reply(
                conn,
                {
                    "event": "error",
                    "msg": f"Illegal request: {text}",
                    "code": "60012",
                    "connId": conn.conn_id,
                },
            )
            return
        for arg in args:
            topic = self._topic(arg)
            if topic is None:
                await self.reply(
                    conn,
                    {
                        "event": "error",
                        "code": "60018",
                        "connId": conn.conn_id,
                        "msg": f"Wrong URL or channel:{arg.get('channel')},instId:{arg.get('instId')} doesn't exist. Please use the correct URL, channel and parameters referring to API document.",
                    },
                )
                continue
            if op == "subscribe":
                await self.subscribe(conn, topic)
            else:
                await self.unsubscribe(conn, topic)
            await self.reply(conn, {"event": op, "arg": arg, "connId": conn.conn_id})
            if op == "subscribe" and not self.silent:
                first = self._first_push(arg)
                if first is not None:
                    await conn.send(first)

    def _first_push(self, arg: dict):
        channel, inst_id = arg.get("channel"), arg.get("instId")
        if channel == "books":
            return self.book_snapshot_frame(inst_id)
        if channel == "books5":
            return self.book_snapshot_frame(inst_id, channel="books5")
        if channel == "tickers":
            return self.ticker_frame(inst_id)
        if channel == "funding-rate":
            return self.funding_rate_frame(inst_id)
        if channel == "mark-price":
            return self.mark_price_frame(inst_id)
        return None

    def topics_of(self, frame):
        if not isinstance(frame, dict) or not isinstance(frame.get("arg"), dict):
            return []
        topic = self._topic(frame["arg"])
        return [topic] if topic else []

    # ------------------------------------------------------------------ frames
    def liquidation_frame(
        self,
        symbol: str,
        side: str = "long",
        price: float | None = None,
        qty: float = 1.0,
        time_ms: int | None = None,
    ) -> dict:
        """A ``liquidation-orders`` push with one detail; ``qty`` in base units (sz = qty / ctVal)."""
        return self.liquidation_frame_multi(symbol, [dict(side=side, price=price, qty=qty, time_ms=time_ms)])

    def liquidation_frame_multi(self, symbol: str, entries: list[dict], time_ms: int | None = None) -> dict:
        """One ``liquidation-orders`` push whose instrument carries several ``details`` (OKX sends at
        most one order per contract per second, but several details per message)."""
        coin = self.coin(symbol)
        now = now_ms() if time_ms is None else time_ms
        details = []
        for e in entries:
            side = e.get("side", "long")
            price = coin.price if e.get("price") is None else e["price"]
            details.append(
                {
                    "bkLoss": "0",
                    "bkPx": fmt(price, coin.tick),
                    "ccy": "",
                    "posSide": side,
                    "side": {"long": "sell", "short": "buy"}[side],
                    "sz": _num(round(self.contracts(coin, e.get("qty", 1.0)), 4)),
                    "ts": str(e.get("time_ms") or now),
                }
            )
        return {
            "arg": {"channel": "liquidation-orders", "instType": "SWAP"},
            "data": [
                {
                    "details": details,
                    "instFamily": f"{coin.base}-USDT",
                    "instId": self.market_id(coin.base),
                    "instType": "SWAP",
                    "uly": f"{coin.base}-USDT",
                }
            ],
        }

    def liquidation_frames(self, symbol: str, entries: list[dict]) -> list[dict]:
        return [self.liquidation_frame_multi(symbol, entries)]

    def _checksum(self, coin: Coin) -> int:
        parts = []
        for i in range(25):
            if i < len(coin.bids):
                parts += [
                    fmt(coin.bids[i][0], coin.tick),
                    _num(round(self.contracts(coin, coin.bids[i][1]), 2)),
                ]
            if i < len(coin.asks):
                parts += [
                    fmt(coin.asks[i][0], coin.tick),
                    _num(round(self.contracts(coin, coin.asks[i][1]), 2)),
                ]
        crc = zlib.crc32(":".join(parts).encode())
        return crc - (1 << 32) if crc >= (1 << 31) else crc

    def book_snapshot_frame(self, symbol: str, channel: str = "books") -> dict:
        coin = self.coin(symbol)
        depth = 5 if channel == "books5" else 400
        data = {
            "asks": self._book_levels(coin, coin.asks[:depth]),
            "bids": self._book_levels(coin, coin.bids[:depth]),
            "instId": self.market_id(coin.base),
            "ts": str(now_ms()),
            "checksum": self._checksum(coin),
            "prevSeqId": -1,
            "seqId": coin.book_id,
        }
        frame = {"arg": {"channel": channel, "instId": self.market_id(coin.base)}, "data": [data]}
        if channel == "books":
            frame["action"] = "snapshot"
        else:
            for key in ("checksum", "prevSeqId", "seqId"):
                data.pop(key)
        return frame

    def book_update_frame(
        self,
        symbol: str,
        bids: list | None = None,
        asks: list | None = None,
        time_ms: int | None = None,
        *,
        gap: bool = False,
    ) -> dict:
        """A ``books`` ``update`` (sizes in base units are sent as contracts; 0 deletes) chained on
        seqId/prevSeqId and applied to the fake's book. ``gap`` breaks the chain (ccxt: InvalidNonce)."""
        coin = self.coin(symbol)
        bids, asks = bids or [], asks or []
        coin.apply_levels(bids, asks)
        previous = coin.book_id + (7 if gap else 0)
        coin.book_id += 10
        data = {
            "asks": self._book_levels(coin, asks),
            "bids": self._book_levels(coin, bids),
            "instId": self.market_id(coin.base),
            "ts": str(now_ms() if time_ms is None else time_ms),
            "checksum": self._checksum(coin),
            "prevSeqId": previous,
            "seqId": coin.book_id,
        }
        return {
            "arg": {"channel": "books", "instId": self.market_id(coin.base)},
            "action": "update",
            "data": [data],
        }

    def ticker_frame(self, symbol: str) -> dict:
        coin = self.coin(symbol)
        return {
            "arg": {"channel": "tickers", "instId": self.market_id(coin.base)},
            "data": [self._ticker(coin)],
        }

    def funding_rate_frame(self, symbol: str) -> dict:
        coin = self.coin(symbol)
        return {
            "arg": {"channel": "funding-rate", "instId": self.market_id(coin.base)},
            "data": [self._funding(coin)],
        }

    def mark_price_frame(self, symbol: str) -> dict:
        coin = self.coin(symbol)
        return {
            "arg": {"channel": "mark-price", "instId": self.market_id(coin.base)},
            "data": [
                {
                    "instType": "SWAP",
                    "instId": self.market_id(coin.base),
                    "markPx": fmt(coin.price, coin.tick),
                    "ts": str(now_ms()),
                }
            ],
        }


def _num(value: float) -> str:
    """A number as OKX writes it: no exponent, no trailing zeros."""
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text or "0"


def _int(query: dict, key: str) -> int | None:
    value = query.get(key)
    return int(value) if value not in (None, "") else None
