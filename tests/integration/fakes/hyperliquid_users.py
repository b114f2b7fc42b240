"""The user-data side of the fake Hyperliquid: scripted accounts, positions, trades and fills.

What it answers (wire shapes as Hyperliquid's API docs give them, and as the recorded
``hyperliquid_fetchMyTrades_userFills_with_liquidation.json`` shows a liquidation fill):

- ``POST /info {"type": "clearinghouseState", "user": "0x.."}`` (weight 2)::

      {"assetPositions": [{"type": "oneWay", "position": {"coin": "BTC", "szi": "-0.5", "entryPx": "95000.0",
        "positionValue": "47500.0", "liquidationPx": "101234.5", "leverage": {"type": "cross", "value": 20},
        "marginUsed": "2375.0", "unrealizedPnl": "0.0", "returnOnEquity": "0.0", "maxLeverage": 40,
        "cumFunding": {...}}}], "marginSummary": {...}, "crossMarginSummary": {...},
        "crossMaintenanceMarginUsed": "..", "withdrawable": "..", "time": 1708622398623}

  An unknown address answers an empty account (no positions), as the venue does.
- ``userFills`` (newest first, at most 2000) and ``userFillsByTime`` (``startTime``, optional
  ``endTime``; oldest first, at most 2000); weight 20 plus 1 per 20 rows returned. A fill::

      {"coin": "BTC", "px": "94000.0", "sz": "0.5", "side": "A", "time": 1700000000000, "startPosition": "0.5",
       "dir": "Close Long", "closedPnl": "-500.0", "hash": "0x..", "oid": 1, "crossed": true, "fee": "1.0",
       "tid": 7, "feeToken": "USDC", "liquidation": {"liquidatedUser": "0x..", "markPx": "94010.0", "method": "market"}}

- websocket ``{"type": "userFills", "user": "0x.."}``: first a snapshot
  ``{"channel": "userFills", "data": {"isSnapshot": true, "user": "0x..", "fills": [...]}}`` (a
  resubscribe repeats it), then each new fill of that user. At most 10 distinct users across the
  user subscriptions of the fake (the venue's limit per IP): the 11th answers an ``error`` channel.
- websocket ``trades``: ``{"channel": "trades", "data": [{"coin", "side", "px", "sz", "hash", "time", "tid",
  "users": [buyer, seller]}]}``.

Weight is counted per request (``weight_log``); ``max_weight_per_minute()`` is the most weight any
60-second window held, so a test can fail when a client spends more than its budget.
``answer_malformed(kind, times)`` makes the next answers of that info type malformed JSON shapes.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

from .core import Coin, RestError, now_ms

INFO_WEIGHT = {"clearinghouseState": 2, "l2Book": 2, "allMids": 2, "orderStatus": 2}
DEFAULT_WEIGHT = 20
MAX_FILL_ROWS = 2000
MAX_WS_USERS = 10
MALFORMED = {
    "clearinghouseState": {"assetPositions": "not a list"},
    "userFills": {"fills": None},
    "userFillsByTime": [{"coin": "BTC", "px": "not a number"}],
}


@dataclass
class Position:
    coin: str
    szi: float  # signed size in coins
    entry_px: float
    liquidation_px: float | None
    leverage: int = 10
    margin: str = "cross"  # "cross" | "isolated"


@dataclass
class UserState:
    positions: dict[str, Position] = field(default_factory=dict)  # coin -> position
    fills: list[dict] = field(default_factory=list)  # oldest first


class HyperliquidUsers:
    """Mixed into the fake Hyperliquid; needs ``coins``, ``coin()``, ``push`` and ``subscribe``."""

    def _init_users(self) -> None:
        self.users: dict[str, UserState] = {}
        self.weight_log: list[tuple[float, int, str]] = []  # (time, weight, info type)
        self._malformed: dict[str, int] = {}
        self._tids = itertools.count(100_000_000_000_001)

    # ------------------------------------------------------------------ script
    def user(self, address: str) -> UserState:
        return self.users.setdefault(address.lower(), UserState())

    def set_position(
        self,
        address: str,
        symbol: str,
        szi: float,
        entry_px: float,
        liquidation_px: float | None,
        *,
        leverage: int = 10,
        margin: str = "cross",
    ) -> Position:
        coin = self.coin(symbol)
        position = Position(coin.base, float(szi), float(entry_px), liquidation_px, leverage, margin)
        self.user(address).positions[coin.base] = position
        return position

    def close_position(self, address: str, symbol: str) -> None:
        self.user(address).positions.pop(self.coin(symbol).base, None)

    def add_fill(
        self,
        address: str,
        symbol: str,
        *,
        side: str,
        px: float,
        sz: float,
        time_ms: int | None = None,
        start_position: float = 0.0,
        direction: str = "Open Long",
        liquidation: dict | None = None,
        tid: int | None = None,
    ) -> dict:
        """One fill of ``address`` (side "B" buy, "A" sell), appended to its history; returned."""
        coin = self.coin(symbol)
        fill = {
            "coin": coin.base,
            "px": _num(px),
            "sz": _num(sz),
            "side": side,
            "time": time_ms or now_ms(),
            "startPosition": _num(start_position),
            "dir": direction,
            "closedPnl": "0.0",
            "hash": f"0x{next(self._tids):064x}",
            "oid": next(self._tids),
            "crossed": True,
            "fee": "0.0",
            "tid": tid if tid is not None else next(self._tids),
            "feeToken": "USDC",
        }
        if liquidation is not None:
            fill["liquidation"] = liquidation
        self.user(address).fills.append(fill)
        return fill

    def liquidation(
        self,
        liquidated: str,
        counterparty: str,
        symbol: str,
        *,
        side: str,
        px: float,
        sz: float,
        method: str = "market",
        mark_px: float | None = None,
        time_ms: int | None = None,
    ) -> tuple[dict, dict]:
        """A liquidation fill on both sides, as the venue writes it: the liquidated ``side`` ("long" or
        "short") position is closed by ``counterparty`` (the backstop vault for ``method="backstop"``,
        any book participant for "market"). Both fills carry the same ``liquidation`` object, time
        and tid. Returns (liquidated user's fill, counterparty's fill)."""
        when, tid = time_ms or now_ms(), next(self._tids)
        info = {
            "liquidatedUser": liquidated.lower(),
            "markPx": _num(mark_px if mark_px is not None else px),
            "method": method,
        }
        closing = "A" if side == "long" else "B"
        opening = "B" if closing == "A" else "A"
        mine = self.add_fill(
            liquidated,
            symbol,
            side=closing,
            px=px,
            sz=sz,
            time_ms=when,
            start_position=sz if side == "long" else -sz,
            direction=f"Close {side.title()}",
            liquidation=dict(info),
            tid=tid,
        )
        theirs = self.add_fill(
            counterparty,
            symbol,
            side=opening,
            px=px,
            sz=sz,
            time_ms=when,
            direction="Open Long" if opening == "B" else "Open Short",
            liquidation=dict(info),
            tid=tid,
        )
        return mine, theirs

    def answer_malformed(self, kind: str, times: int = 1) -> None:
        """The next ``times`` answers to info ``kind`` have a shape no client can read."""
        self._malformed[kind] = self._malformed.get(kind, 0) + times

    # ------------------------------------------------------------------ weight
    def _spend(self, kind: str, weight: int) -> None:
        self.weight_log.append((time.time(), weight, kind))

    def max_weight_per_minute(self, kinds: set[str] | None = None) -> int:
        """The most weight any 60-second window of the run held (all info types, or ``kinds``)."""
        log = [(t, w) for t, w, k in self.weight_log if kinds is None or k in kinds]
        best, start, total = 0, 0, 0
        for t, w in log:
            total += w
            while log[start][0] <= t - 60.0:
                total -= log[start][1]
                start += 1
            best = max(best, total)
        return best

    def weighed(self, kind: str, handler):
        def answer(query):
            if self._malformed.get(kind):
                self._malformed[kind] -= 1
                self._spend(kind, INFO_WEIGHT.get(kind, DEFAULT_WEIGHT))
                return MALFORMED.get(kind, {"unexpected": True})
            payload = handler(query)
            rows = len(payload) if kind in ("userFills", "userFillsByTime") else 0
            self._spend(kind, INFO_WEIGHT.get(kind, DEFAULT_WEIGHT) + rows // 20)
            return payload

        return answer

    # ------------------------------------------------------------------ REST answers
    def _address(self, query: dict) -> str:
        user = query.get("user")
        if not isinstance(user, str) or not user.startswith("0x") or len(user) != 42:
            raise RestError(422, "Failed to deserialize the JSON body into the target type")
        return user.lower()

    def clearinghouse_state(self, query: dict) -> dict:
        state = self.users.get(self._address(query), UserState())
        positions = [
            {"type": "oneWay", "position": self._position(p)} for p in state.positions.values() if p.szi
        ]
        total = sum(abs(p.szi) * self.coin(p.coin).price for p in state.positions.values())
        margin = sum(abs(p.szi) * self.coin(p.coin).price / p.leverage for p in state.positions.values())
        summary = {
            "accountValue": _num(margin * 1.2),
            "totalNtlPos": _num(total),
            "totalRawUsd": _num(margin * 1.2),
            "totalMarginUsed": _num(margin),
        }
        return {
            "marginSummary": summary,
            "crossMarginSummary": dict(summary),
            "crossMaintenanceMarginUsed": _num(margin / 2),
            "withdrawable": _num(margin * 0.2),
            "assetPositions": positions,
            "time": now_ms(),
        }

    def _position(self, p: Position) -> dict:
        coin: Coin = self.coin(p.coin)
        value = abs(p.szi) * coin.price
        return {
            "coin": p.coin,
            "szi": _num(p.szi),
            "leverage": {"type": p.margin, "value": p.leverage}
            | ({"rawUsd": _num(-p.szi * p.entry_px)} if p.margin == "isolated" else {}),
            "entryPx": _num(p.entry_px),
            "positionValue": _num(value),
            "unrealizedPnl": _num(p.szi * (coin.price - p.entry_px)),
            "returnOnEquity": "0.0",
            "liquidationPx": None if p.liquidation_px is None else _num(p.liquidation_px),
            "marginUsed": _num(value / p.leverage),
            "maxLeverage": 40,
            "cumFunding": {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"},
        }

    def user_fills(self, query: dict) -> list[dict]:
        fills = self.users.get(self._address(query), UserState()).fills
        return list(reversed(fills))[:MAX_FILL_ROWS]

    def user_fills_by_time(self, query: dict) -> list[dict]:
        fills = self.users.get(self._address(query), UserState()).fills
        start = int(query.get("startTime", 0))
        end = int(query["endTime"]) if query.get("endTime") is not None else None
        return [f for f in fills if start <= f["time"] and (end is None or f["time"] <= end)][:MAX_FILL_ROWS]

    # ------------------------------------------------------------------ websocket
    def user_topics(self) -> set[str]:
        return {t for conn in self._connections for t in conn.topics if t.startswith("userFills:")}

    def user_fills_frame(self, address: str, fills: list[dict], *, snapshot: bool = False) -> dict:
        data = {"user": address.lower(), "fills": fills} | ({"isSnapshot": True} if snapshot else {})
        return {"channel": "userFills", "data": data}

    def trades_frame(
        self, symbol: str, trades: list[tuple[str, float, float, str, str]], time_ms: int | None = None
    ) -> dict:
        """``trades``: (side "B"/"A", px, sz, buyer, seller) each."""
        coin, when = self.coin(symbol), time_ms or now_ms()
        rows = [
            {
                "coin": coin.base,
                "side": side,
                "px": _num(px),
                "sz": _num(sz),
                "time": when,
                "hash": f"0x{next(self._tids):064x}",
                "tid": next(self._tids),
                "users": [buyer.lower(), seller.lower()],
            }
            for side, px, sz, buyer, seller in trades
        ]
        return {"channel": "trades", "data": rows}

    async def push_fills(self, address: str, fills: list[dict]) -> int:
        """Pushes ``fills`` (already in the user's history) to the subscribers of ``address``'s fills."""
        return await self.push(self.user_fills_frame(address, fills), topic=f"userFills:{address.lower()}")


def _num(value: float) -> str:
    text = f"{float(value):.8f}".rstrip("0")
    return text + "0" if text.endswith(".") else text
