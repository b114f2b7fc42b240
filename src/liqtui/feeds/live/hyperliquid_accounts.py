"""Hyperliquid's MEASURED positions: which accounts to look at, how often, and what a look says.

Every Hyperliquid account's positions are public (``clearinghouseState``, weight 2). Accounts come
from the ``trades`` feed of the watched coins (both users of every trade), the config (``accounts``,
``accounts_file``), an optional leaderboard, and the recording (a restart resumes them). Each is
looked at once; it stays tracked while it holds a position on a watched coin of at least
``min_position_usd`` (configured accounts always stay), and is looked at again sooner the closer
its positions are to their liquidation price and the larger they are. Pure: times are passed in
(ms); the poller (``hyperliquid_poller.py``) does the requests.

A position that shrank or vanished while the mark reached its liquidation price since the last look
is a candidate liquidation: the poller reads the account's fills of that span
(``userFillsByTime``) and reports only fills whose ``liquidation.liquidatedUser`` is the account.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from liqtui.domain.events import PositionSnapshot, Side
from liqtui.domain.venues import POSITIONS_VENUE as VENUE
from liqtui.feeds.live.adapter import MalformedEntry, fnum
from liqtui.feeds.live.markets import MarketInfo

MAX_ACCOUNTS = 20_000  # tracked at once; discoveries beyond wait until some are dropped
MAX_DISCOVERED = 50_000  # discovered, not yet looked at
FORGET_DROPPED_MS = 3_600_000  # a dropped account discovered again is looked at after this long
DROPPED_KEPT = 100_000
NEAR_MS, CLOSE_MS, MID_MS, SLOW_MS = 20_000, 60_000, 180_000, 600_000  # refresh by distance to liquidation
LARGE_USD, LARGE_MS = 1_000_000.0, 120_000
RETRY_MS = 5_000  # a look that failed is tried again this late (the budget paces it anyway)
MARK_KEEP_MS = 2 * 3_600_000


def snapshots_from_state(
    payload: Any, account: str, markets: dict[str, MarketInfo], now_ms: int
) -> list[PositionSnapshot]:
    """A ``clearinghouseState`` answer -> the account's positions (every listed coin)::

        {"assetPositions": [{"type": "oneWay", "position": {"coin": "BTC", "szi": "-0.5",
          "entryPx": "95000.0", "positionValue": "47500.0", "liquidationPx": "101234.5",
          "leverage": {"type": "cross", "value": 20}, "marginUsed": "2375.0", ...}}], "time": 1708622398623}

    ``szi`` is signed (negative: short); ``liquidationPx`` is null when no price liquidates it.
    MalformedEntry when the answer cannot be read (the caller skips and counts it)."""
    rows = payload.get("assetPositions") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise MalformedEntry(f"clearinghouseState without a list of assetPositions ({type(rows).__name__})")
    when = payload.get("time")
    time = when if isinstance(when, int) and not isinstance(when, bool) and when > 0 else now_ms
    out = []
    for row in rows:
        position = row.get("position") if isinstance(row, dict) else None
        if not isinstance(position, dict):
            raise MalformedEntry(f"assetPositions entry without a position ({type(position).__name__})")
        market = markets.get(str(position.get("coin")))
        if market is None:
            continue  # a coin the market list does not hold (spot, a HIP-3 dex): not watched
        snap = _snapshot(position, account, market.symbol, time)
        if snap is not None:
            out.append(snap)
    return out


def _snapshot(position: dict[str, Any], account: str, symbol: str, time: int) -> PositionSnapshot | None:
    szi, value, entry = (
        fnum(position.get("szi")),
        fnum(position.get("positionValue")),
        fnum(position.get("entryPx")),
    )
    leverage = position.get("leverage")
    lev = fnum(leverage.get("value")) if isinstance(leverage, dict) else None
    margin = leverage.get("type") if isinstance(leverage, dict) else None
    liq = position.get("liquidationPx")
    liq_price = fnum(liq)
    numbers = (szi, value, entry, lev)
    if any(n is None or not math.isfinite(n) for n in numbers) or margin not in ("cross", "isolated"):
        raise MalformedEntry(
            f"position of {position.get('coin')!r} with unreadable size, value, entry or leverage"
        )
    if liq is not None and (liq_price is None or not math.isfinite(liq_price) or liq_price < 0):
        raise MalformedEntry(f"position of {position.get('coin')!r} with liquidation price {liq!r}")
    assert szi is not None and value is not None and entry is not None and lev is not None
    if szi == 0:
        return None
    side = Side.LONG if szi > 0 else Side.SHORT
    return PositionSnapshot(
        VENUE, symbol, account, side, abs(szi), abs(value), entry, liq_price or None, lev, str(margin), time
    )


def gone(snap: PositionSnapshot, time: int) -> PositionSnapshot:
    """The snapshot saying ``snap``'s account no longer holds the symbol."""
    return replace(snap, size=0.0, usd=0.0, time=time)


class MarkHistory:
    """Recent prices of each symbol (trades, tickers), to tell whether the mark reached a
    liquidation price between two looks. At most one sample per symbol and second (its low and high)."""

    def __init__(self) -> None:
        self._by_symbol: dict[str, deque[list[float]]] = {}  # [second, low, high]
        self._latest: dict[str, float] = {}

    def see(self, symbol: str, time_ms: int, price: float) -> None:
        if not (price > 0 and math.isfinite(price)):
            return
        self._latest[symbol] = price
        samples = self._by_symbol.setdefault(symbol, deque())
        second = time_ms // 1000
        if samples and samples[-1][0] == second:
            samples[-1][1], samples[-1][2] = min(samples[-1][1], price), max(samples[-1][2], price)
            return
        if samples and second < samples[-1][0]:
            return  # out of order: the newer samples hold it well enough
        samples.append([second, price, price])
        while samples[0][0] < second - MARK_KEEP_MS // 1000:
            samples.popleft()

    def last(self, symbol: str) -> float | None:
        return self._latest.get(symbol)

    def range(self, symbol: str, since_ms: int, until_ms: int) -> tuple[float, float] | None:
        """Lowest and highest price seen from ``since_ms`` to ``until_ms`` (whole seconds), or None."""
        samples = self._by_symbol.get(symbol)
        if not samples:
            return None
        seconds = [s[0] for s in samples]
        lo, hi = bisect.bisect_left(seconds, since_ms // 1000), bisect.bisect_right(seconds, until_ms // 1000)
        chosen = list(itertools.islice(samples, lo, hi))
        if not chosen:
            return None
        return min(s[1] for s in chosen), max(s[2] for s in chosen)


def reached(snap: PositionSnapshot, prices: tuple[float, float] | None) -> bool:
    """The mark reached ``snap``'s liquidation price (a long's from above, a short's from below)."""
    if prices is None or snap.liquidation_price is None:
        return False
    low, high = prices
    return low <= snap.liquidation_price if snap.side is Side.LONG else high >= snap.liquidation_price


def refresh_ms(snaps: Iterable[PositionSnapshot], mark_of: Callable[[str], float | None]) -> int:
    """How soon an account is looked at again: sooner the nearer a position is to its liquidation
    price (within 2 %: 20 s; 5 %: 1 min; 10 %: 3 min; else 10 min) and the larger it is ($1M: 2 min)."""
    best = SLOW_MS
    for snap in snaps:
        if snap.usd >= LARGE_USD:
            best = min(best, LARGE_MS)
        mark = mark_of(snap.symbol)
        if snap.liquidation_price and mark:
            distance = abs(mark - snap.liquidation_price) / mark
            best = min(
                best,
                NEAR_MS
                if distance < 0.02
                else CLOSE_MS
                if distance < 0.05
                else MID_MS
                if distance < 0.10
                else SLOW_MS,
            )
    return best


@dataclass
class Account:
    address: str
    due: int  # ms of the next look
    configured: bool = False  # listed by the user: tracked whatever it holds
    looked: int | None = None  # ms of the last good look
    positions: dict[str, PositionSnapshot] = field(default_factory=dict)  # watched symbol -> newest


@dataclass(frozen=True)
class LookResult:
    emit: list[PositionSnapshot]  # snapshots to deliver (new, changed, gone)
    candidates: list[
        PositionSnapshot
    ]  # previous snapshots that shrank or vanished past their liquidation price
    dropped: bool


class Tracker:
    """The tracked accounts and when each is looked at next (earliest due first)."""

    def __init__(self, min_usd: float) -> None:
        self.min_usd = min_usd
        self.accounts: dict[str, Account] = {}
        self._heap: list[tuple[int, int, str]] = []
        self._order = itertools.count()
        self._dropped: OrderedDict[str, int] = OrderedDict()  # address -> ms it may be looked at again
        self.discovered: OrderedDict[str, None] = OrderedDict()  # waiting for their first look
        self.looks = 0
        self._liq: dict[str, list[tuple[float, str]]] = {}  # symbol -> sorted (liquidation price, account)

    def add(self, address: str, now_ms: int, *, configured: bool = False) -> None:
        """An account to look at: at once when configured or resumed, else after the waiting ones."""
        address = address.lower()
        held = self.accounts.get(address)
        if held is not None:
            held.configured = held.configured or configured
            return
        self._dropped.pop(address, None)
        self.discovered.pop(address, None)
        self._track(Account(address, now_ms, configured))

    def discover(self, address: str, now_ms: int) -> None:
        """An account seen trading a watched coin: one look, when the budget allows."""
        if address in self.accounts or address in self.discovered:
            return
        until = self._dropped.get(address)
        if until is not None and until > now_ms:
            return
        if len(self.discovered) >= MAX_DISCOVERED:
            self.discovered.popitem(last=False)
        self.discovered[address] = None

    def resume(self, snaps: Iterable[PositionSnapshot], now_ms: int) -> None:
        """Accounts and their last snapshots from a recording: looked at again first."""
        for snap in snaps:
            self.add(snap.account, now_ms)
            account = self.accounts[snap.account]
            self._index(account, {**account.positions, snap.symbol: snap})

    def crossed(self, symbol: str, before: float, after: float, now_ms: int) -> int:
        """The mark moved from ``before`` to ``after``: accounts with a liquidation price passed
        (``after`` included) are looked at now (did it liquidate them?). Returns how many."""
        if before == after:
            return 0
        entries = self._liq.get(symbol, [])
        low, high = min(before, after), max(before, after)
        start = (
            bisect.bisect_left(entries, (low, ""))
            if after < before
            else bisect.bisect_right(entries, (low, "~"))
        )
        moved = 0
        for _price, address in itertools.takewhile(
            lambda e: e[0] <= high and (after > before or e[0] < high), entries[start:]
        ):
            account = self.accounts.get(address)
            if account is not None and account.due > now_ms:
                self.reschedule(account, now_ms)
                moved += 1
        return moved

    def _index(self, account: Account, held: dict[str, PositionSnapshot]) -> None:
        """``account`` now holds ``held``: its liquidation prices in the per-symbol index follow."""
        for symbol, old in account.positions.items():
            if old.liquidation_price is not None:
                entries = self._liq.get(symbol, [])
                i = bisect.bisect_left(entries, (old.liquidation_price, account.address))
                if i < len(entries) and entries[i] == (old.liquidation_price, account.address):
                    del entries[i]
        for symbol, new in held.items():
            if new.liquidation_price is not None:
                bisect.insort(self._liq.setdefault(symbol, []), (new.liquidation_price, account.address))
        account.positions = held

    def _track(self, account: Account) -> None:
        self.accounts[account.address] = account
        heapq.heappush(self._heap, (account.due, next(self._order), account.address))

    def next_due(self, now_ms: int) -> Account | None:
        """The account to look at now (overdue first, then a discovered one), or None."""
        while self._heap and self._heap[0][0] <= now_ms:
            due, _, address = heapq.heappop(self._heap)
            account = self.accounts.get(address)
            if account is not None and account.due == due:
                return account
        while self.discovered and len(self.accounts) < MAX_ACCOUNTS:
            address, _ = self.discovered.popitem(last=False)
            if address not in self.accounts:
                account = Account(address, now_ms)
                self.accounts[address] = account
                return account
        return None

    def wait_ms(self, now_ms: int) -> int:
        """How long until an account is due (0 when one is, or a discovered one waits)."""
        if self.discovered and len(self.accounts) < MAX_ACCOUNTS:
            return 0
        return max(0, self._heap[0][0] - now_ms) if self._heap else SLOW_MS

    def failed(self, account: Account, now_ms: int) -> None:
        """A look that did not work (an error, an answer that could not be read): try again later."""
        self.reschedule(account, now_ms + RETRY_MS)

    def reschedule(self, account: Account, due: int) -> None:
        account.due = due
        heapq.heappush(self._heap, (due, next(self._order), account.address))

    def looked(
        self,
        account: Account,
        snaps: list[PositionSnapshot],
        watched: set[str],
        now_ms: int,
        marks: MarkHistory,
    ) -> LookResult:
        """What a good look says: snapshots to deliver, candidate liquidations, and the schedule."""
        self.looks += 1
        held = {s.symbol: s for s in snaps if s.symbol in watched}
        since = account.looked
        candidates = [
            old
            for symbol, old in account.positions.items()
            if _shrank(old, held.get(symbol))
            and reached(old, marks.range(symbol, since if since is not None else old.time, now_ms))
        ]
        keep = account.configured or any(s.usd >= self.min_usd for s in held.values())
        emit = [
            gone(old, now_ms) for symbol, old in account.positions.items() if symbol not in held or not keep
        ]
        account.looked = now_ms
        if not keep:
            self._index(account, {})
            self.accounts.pop(account.address, None)
            self._dropped[account.address] = now_ms + FORGET_DROPPED_MS
            if len(self._dropped) > DROPPED_KEPT:
                self._dropped.popitem(last=False)
            return LookResult(emit, candidates, dropped=True)
        emit += held.values()  # every look: a refreshed snapshot is newer (cross prices move)
        self._index(account, held)
        self.reschedule(account, now_ms + refresh_ms(held.values(), marks.last))
        return LookResult(emit, candidates, dropped=False)

    def positions(self) -> int:
        return sum(len(a.positions) for a in self.accounts.values())


def _shrank(old: PositionSnapshot, new: PositionSnapshot | None) -> bool:
    return new is None or new.side is not old.side or new.size < old.size
