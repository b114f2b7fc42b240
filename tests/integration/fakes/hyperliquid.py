"""Fake Hyperliquid (ccxt id ``hyperliquid``): ``POST /info`` and the ``/ws`` websocket.

REST (host api.hyperliquid.xyz): everything is ``POST /info`` with a JSON body whose ``type`` picks
the answer: ``metaAndAssetCtxs`` (``[{"universe": [...], "marginTables": [...]}, [assetCtx...]]``;
openInterest in coins, funding hourly), ``meta``, ``spotMeta``, ``spotMetaAndAssetCtxs``,
``perpDexs`` (``[null]``: no HIP-3 dexes), ``allMids``, ``l2Book`` (20 levels a side),
``candleSnapshot``, ``fundingHistory``. Unknown types answer 422 like the venue (plain text body);
unknown paths 404 ``{"status": "err", "response": ...}``, 429 answers plain text. ``fail_next("/info", match={"type": ...})``
narrows a fault to one request type (requests record the JSON body in ``query``).

Perps settle in USDC: unified symbols are ``BTC/USDC:USDC``; the fake also accepts the
``BTC/USDT:USDT`` spelling and bare coins when you set its state.

Websocket (host api.hyperliquid.xyz, path ``/ws``):
``{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}`` answers
``{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{...}}}``;
``{"method":"ping"}`` answers ``{"channel":"pong"}`` (ccxt pings every 20 s). Topics are named
``l2Book:BTC``, ``activeAssetCtx:BTC``, ``trades:BTC``, ``candle:BTC:1m``, ``allMids``. Every
``l2Book`` push is a full snapshot (one on subscribe), as are ``allMids`` and ``activeAssetCtx``.
There is no public liquidation channel: ``has_liquidation_feed`` is False and the liquidation frame
helpers raise :class:`NoLiquidationFeed`. Liquidations show only in fills: the user-data side
(accounts, positions, fills, ``userFills``/``trades`` with users, weight per minute) is in
``hyperliquid_users.py``.
"""

from __future__ import annotations

import json

from .core import Coin, FakeExchange, RestError, fmt, now_ms
from .hyperliquid_users import MAX_WS_USERS, HyperliquidUsers
from .series import INTERVAL_MS, candle

SZ_DECIMALS = {"BTC": 5, "ETH": 4, "SOL": 2}
MAX_LEVERAGE = {"BTC": 40, "ETH": 25, "SOL": 20}
BOOK_LEVELS = 20
MAX_FILL_SNAPSHOT = 2000  # the userFills snapshot holds recent fills


class NoLiquidationFeed(ValueError):
    """Hyperliquid has no public liquidation stream; there is no frame to build."""


class HyperliquidFake(HyperliquidUsers, FakeExchange):
    venue = "hyperliquid"
    rest_hosts = ("https://api.hyperliquid.xyz",)
    ws_hosts = ("wss://api.hyperliquid.xyz",)
    other_hosts = ()
    has_liquidation_feed = False

    def __init__(self, venue: str | None = None, **kwargs):
        super().__init__(venue, **kwargs)
        self._init_users()

    def market_id(self, base: str) -> str:
        return base

    def unified(self, base: str) -> str:
        return f"{base}/USDC:USDC"

    # ------------------------------------------------------------------ REST
    def rest_route(self, method, path, query):
        if method != "POST" or path not in ("/info", "/exchange"):
            return None
        if path == "/exchange":
            return lambda q: {"status": "err", "response": "Must deposit before performing actions."}
        handler = {
            "meta": lambda q: self.meta(),
            "metaAndAssetCtxs": lambda q: [self.meta(), [self._asset_ctx(c) for c in self.coins.values()]],
            "spotMeta": lambda q: self.spot_meta(),
            "spotMetaAndAssetCtxs": lambda q: [self.spot_meta(), [self._spot_ctx()]],
            "perpDexs": lambda q: [None],
            "allMids": lambda q: {c.base: _px(c, c.price) for c in self.coins.values()},
            "l2Book": self.l2_book,
            "candleSnapshot": self.candle_snapshot,
            "fundingHistory": self.funding_history,
            "exchangeStatus": lambda q: {"time": now_ms(), "specialStatuses": None},
            "clearinghouseState": self.clearinghouse_state,
            "userFills": self.user_fills,
            "userFillsByTime": self.user_fills_by_time,
        }.get(query.get("type"))
        if handler is None:

            def unknown(q):
                raise RestError(422, "Failed to deserialize the JSON body into the target type")

            return unknown
        return self.weighed(query["type"], handler)

    def error_body(self, status, message, code):
        if status == 422:
            return message or "Failed to deserialize the JSON body into the target type"
        if status in (418, 429):
            return "Too Many Requests"  # plain text, so ccxt maps the HTTP status (RateLimitExceeded)
        return {"status": "err", "response": message or f"HTTP {status}"}

    def meta(self) -> dict:
        universe = [
            {
                "szDecimals": SZ_DECIMALS.get(c.base, 2),
                "name": c.base,
                "maxLeverage": MAX_LEVERAGE.get(c.base, 10),
                "marginTableId": MAX_LEVERAGE.get(c.base, 10),
            }
            for c in self.coins.values()
        ]
        tables = [
            [lev, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": lev}]}]
            for lev in sorted({u["maxLeverage"] for u in universe})
        ]
        return {"universe": universe, "marginTables": tables}

    def _asset_ctx(self, coin: Coin) -> dict:
        return {
            "funding": f"{coin.funding_rate / 8:.10f}".rstrip("0"),
            "openInterest": _sz(coin, coin.open_interest),
            "prevDayPx": _px(coin, coin.price * 0.98),
            "dayNtlVlm": f"{coin.volume_24h * coin.price:.4f}",
            "premium": "0.0001",
            "oraclePx": _px(coin, coin.price * 0.9999),
            "markPx": _px(coin, coin.price),
            "midPx": _px(coin, coin.price),
            "impactPxs": [_px(coin, coin.bids[0][0]), _px(coin, coin.asks[0][0])],
            "dayBaseVlm": _sz(coin, coin.volume_24h),
        }

    @staticmethod
    def spot_meta() -> dict:
        return {
            "tokens": [
                {
                    "name": "USDC",
                    "szDecimals": 8,
                    "weiDecimals": 8,
                    "index": 0,
                    "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054",
                    "isCanonical": True,
                    "evmContract": None,
                    "fullName": None,
                    "deployerTradingFeeShare": "0.0",
                },
                {
                    "name": "PURR",
                    "szDecimals": 0,
                    "weiDecimals": 5,
                    "index": 1,
                    "tokenId": "0xc1fb593aeffbeb02f85e0308e9956a90",
                    "isCanonical": True,
                    "evmContract": None,
                    "fullName": None,
                    "deployerTradingFeeShare": "0.0",
                },
            ],
            "universe": [{"tokens": [1, 0], "name": "PURR/USDC", "index": 0, "isCanonical": True}],
        }

    @staticmethod
    def _spot_ctx() -> dict:
        return {
            "prevDayPx": "0.18",
            "dayNtlVlm": "1500000.0",
            "markPx": "0.19",
            "midPx": "0.1901",
            "circulatingSupply": "596000000.0",
            "coin": "PURR/USDC",
            "totalSupply": "1000000000.0",
            "dayBaseVlm": "8000000.0",
        }

    def _coin_param(self, value) -> Coin:
        coin = self.coin_by_id(value)
        if coin is None:
            raise RestError(500, "null")  # the venue answers 500 with a null body for unknown coins
        return coin

    def l2_book(self, query):
        return self._book(self._coin_param(query.get("coin")))

    def _book(self, coin: Coin) -> dict:
        def side(levels):
            return [
                {"px": _px(coin, p), "sz": _sz(coin, q), "n": 1 + i % 4}
                for i, (p, q) in enumerate(levels[:BOOK_LEVELS])
            ]

        return {"coin": coin.base, "time": now_ms(), "levels": [side(coin.bids), side(coin.asks)]}

    def candle_snapshot(self, query):
        req = query.get("req") or {}
        coin = self._coin_param(req.get("coin"))
        interval = req.get("interval")
        if interval not in INTERVAL_MS:
            raise RestError(422, "Failed to deserialize the JSON body into the target type")
        step, now = INTERVAL_MS[interval], now_ms()
        start, end = int(req.get("startTime", 0)), int(req.get("endTime", now))
        first = max(-(-start // step) * step, (now - 5000 * step) // step * step)
        rows = []
        for t in range(first, min(end, now) + 1, step):
            o, h, low, c = (_px(coin, v) for v in candle(coin.price, now, t, step, coin.tick))
            volume = coin.volume_24h * step / 86_400_000
            rows.append(
                {
                    "t": t,
                    "T": t + step - 1,
                    "s": coin.base,
                    "i": interval,
                    "o": o,
                    "c": c,
                    "h": h,
                    "l": low,
                    "v": _sz(coin, volume),
                    "n": 100,
                }
            )
        return rows[-5000:]

    def funding_history(self, query):
        coin = self._coin_param(query.get("coin"))
        now = now_ms()
        start = int(query.get("startTime", now - 86_400_000))
        hour = 3_600_000
        return [
            {
                "coin": coin.base,
                "fundingRate": f"{coin.funding_rate / 8:.10f}".rstrip("0"),
                "premium": "0.0001",
                "time": t,
            }
            for t in range(-(-start // hour) * hour, now, hour)
        ][:500]

    # ------------------------------------------------------------------ websocket
    def is_ws_path(self, path):
        return path == "/ws"

    def _topic(self, subscription: dict) -> str | None:
        kind, coin = subscription.get("type"), subscription.get("coin")
        if kind == "allMids":
            return "allMids"
        if kind in ("l2Book", "activeAssetCtx", "trades") and self.coin_by_id(coin) is not None:
            return f"{kind}:{coin}"
        if (
            kind == "candle"
            and self.coin_by_id(coin) is not None
            and subscription.get("interval") in INTERVAL_MS
        ):
            return f"candle:{coin}:{subscription['interval']}"
        user = subscription.get("user")
        if kind == "userFills" and isinstance(user, str) and user.startswith("0x") and len(user) == 42:
            return f"userFills:{user.lower()}"
        return None

    async def on_ws_text(self, conn, text):
        try:
            request = json.loads(text)
            method = request["method"]
        except (ValueError, KeyError, TypeError):
            await self.reply(
                conn, {"channel": "error", "data": f"Error parsing JSON into valid websocket request: {text}"}
            )
            return
        if method == "ping":
            await self.pong(conn, {"channel": "pong"})
            return
        if method not in ("subscribe", "unsubscribe"):
            await self.reply(
                conn, {"channel": "error", "data": f"Error parsing JSON into valid websocket request: {text}"}
            )
            return
        subscription = request.get("subscription") or {}
        topic = self._topic(subscription)
        if topic is None:
            await self.reply(
                conn, {"channel": "error", "data": f"Invalid subscription {json.dumps(subscription)}"}
            )
            return
        if (
            method == "subscribe"
            and topic.startswith("userFills:")
            and topic not in self.user_topics()
            and len(self.user_topics()) >= MAX_WS_USERS
        ):
            await self.reply(
                conn, {"channel": "error", "data": f"Cannot track more than {MAX_WS_USERS} total users."}
            )
            return
        if method == "subscribe":
            await self.subscribe(conn, topic)
        else:
            await self.unsubscribe(conn, topic)
        echoed = dict(subscription)
        if subscription.get("type") == "l2Book":
            echoed.setdefault("nSigFigs", None)
            echoed.setdefault("mantissa", None)
        await self.reply(
            conn, {"channel": "subscriptionResponse", "data": {"method": method, "subscription": echoed}}
        )
        if method == "subscribe" and not self.silent:
            first = self._first_push(subscription)
            if first is not None:
                await conn.send(first)

    def _first_push(self, subscription: dict):
        kind = subscription.get("type")
        if kind == "l2Book":
            return self.book_snapshot_frame(subscription["coin"])
        if kind == "allMids":
            return self.all_mids_frame()
        if kind == "activeAssetCtx":
            return self.asset_ctx_frame(subscription["coin"])
        if kind == "userFills":
            user = subscription["user"].lower()
            return self.user_fills_frame(user, self.user(user).fills[-MAX_FILL_SNAPSHOT:], snapshot=True)
        return None

    def topics_of(self, frame):
        if not isinstance(frame, dict):
            return []
        channel, data = frame.get("channel"), frame.get("data")
        if channel == "allMids":
            return ["allMids"]
        if channel in ("l2Book", "activeAssetCtx") and isinstance(data, dict):
            return [f"{channel}:{data.get('coin')}"]
        if channel == "trades" and isinstance(data, list) and data:
            return [f"trades:{data[0].get('coin')}"]
        if channel == "userFills" and isinstance(data, dict):
            return [f"userFills:{str(data.get('user')).lower()}"]
        if channel == "candle" and isinstance(data, dict):
            return [f"candle:{data.get('s')}:{data.get('i')}"]
        return []

    # ------------------------------------------------------------------ frames
    def liquidation_frame(self, *args, **kwargs):
        raise NoLiquidationFeed("hyperliquid has no public liquidation feed")

    liquidation_frame_multi = liquidation_frames = liquidation_frame

    def book_snapshot_frame(self, symbol: str) -> dict:
        return {"channel": "l2Book", "data": self._book(self.coin(symbol))}

    def book_update_frame(
        self, symbol: str, bids: list | None = None, asks: list | None = None, time_ms: int | None = None
    ) -> dict:
        """Hyperliquid pushes whole books: the levels are applied and the full 20-level book is sent."""
        coin = self.coin(symbol)
        coin.apply_levels(bids or [], asks or [])
        frame = self.book_snapshot_frame(symbol)
        if time_ms is not None:
            frame["data"]["time"] = time_ms
        return frame

    def all_mids_frame(self) -> dict:
        return {
            "channel": "allMids",
            "data": {"mids": {c.base: _px(c, c.price) for c in self.coins.values()}},
        }

    def asset_ctx_frame(self, symbol: str) -> dict:
        """An ``activeAssetCtx`` push: funding (hourly), openInterest (coins), mark/oracle price."""
        coin = self.coin(symbol)
        return {"channel": "activeAssetCtx", "data": {"coin": coin.base, "ctx": self._asset_ctx(coin)}}

    def ticker_frame(self, symbol: str) -> dict:
        return self.asset_ctx_frame(symbol)


def _px(coin: Coin, value: float) -> str:
    return (
        f"{round(value / coin.tick) * coin.tick:.{max(0, len(fmt(coin.tick, coin.tick).partition('.')[2]))}f}"
    )


def _sz(coin: Coin, value: float) -> str:
    return f"{value:.{SZ_DECIMALS.get(coin.base, 2)}f}"
