"""The demo's tracked accounts: a sample of the simulated positions of the venues whose positions
are public (Hyperliquid), published as MEASURED ``PositionSnapshot`` events like the live poller's.

Each account holds one position drawn from the venue's position book (``positions.py``): a row
chosen in proportion to its size, a liquidation price inside the row, a leverage from the venue's
mix (the entry follows from the liquidation price), and a size whose sum over the accounts is about
``COVERAGE`` of the book. An account is read again every ``REFRESH_MS`` (the desk shows the age),
and ends with a size 0 snapshot when the venue's price reaches its liquidation price or, like the
book's positions, when its holder closes it (the rate's mean lifetime); a new account takes its
place. Randomness comes from a generator of its own (seeded from the demo's seed), so the rest of
the demo draws exactly the numbers it drew before accounts existed.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Protocol

from liqtui.domain.events import Event, PositionSnapshot, Side
from liqtui.feeds.demo.positions import PositionBook

ACCOUNTS_PER_SYMBOL = 40
REFRESH_MS = 30_000
COVERAGE = 0.25  # of the book's USD the accounts hold together, about
SAMPLE_RANGE = 0.3  # rows within +-30 % of price are drawn from
SIZE_SIGMA = 1.0


class Pair(Protocol):
    """What the accounts read of the market's venue x symbol (market._Pair)."""

    @property
    def venue(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def price(self) -> float: ...
    @property
    def book(self) -> PositionBook: ...
    @property
    def tiers(self) -> list[float]: ...
    @property
    def tier_cdf(self) -> list[float]: ...
    @property
    def maintenance(self) -> float: ...


@dataclass(slots=True)
class _Account:
    address: str
    side: Side
    qty: float
    entry: float
    liquidation: float
    leverage: float
    ends_at: float  # ms: its holder closes it then (unless liquidated first)
    live: bool = True


class _Venue:
    """The tracked accounts of one venue and symbol."""

    def __init__(self, pair: Pair) -> None:
        self.pair = pair
        self.accounts: list[_Account] = []
        self.reads: deque[tuple[int, _Account]] = deque()  # (next read, account), in time order
        self.ends: list[tuple[float, int, _Account]] = []  # heap of (end time, n, account)
        self.top_long = 0.0  # the highest long liquidation price held (a price at or below it liquidates)
        self.low_short = math.inf


class DemoAccounts:
    def __init__(self, seed: int, pairs: Sequence[Pair], lifetime_s: float) -> None:
        self.rng = random.Random(f"{seed}-accounts")
        self.venues = [_Venue(p) for p in pairs]
        self.lifetime_ms = lifetime_s * 1000
        self._n = 0

    def open(self, now: int) -> list[PositionSnapshot]:
        """Draw every venue's accounts at ``now``: their first snapshots, read over the last ``REFRESH_MS``."""
        out: list[PositionSnapshot] = []
        for venue in self.venues:
            for _ in range(ACCOUNTS_PER_SYMBOL):
                account = self._draw(venue, now)
                if account is not None:
                    read = now - int(self.rng.random() * REFRESH_MS)
                    out.append(self._snapshot(venue, account, read))
                    venue.reads.append((read + REFRESH_MS, account))
            venue.reads = deque(sorted(venue.reads, key=lambda r: r[0]))
        return sorted(out, key=lambda s: s.time)

    def tick(self, t: int, out: list[Event]) -> None:
        """Liquidations, closes and reads due by ``t``."""
        for venue in self.venues:
            price = venue.pair.price
            if price <= venue.top_long or price >= venue.low_short:
                self._liquidate(venue, price, t, out)
            while venue.ends and venue.ends[0][0] <= t:
                _end, _n, account = heapq.heappop(venue.ends)
                if account.live:
                    self._end(venue, account, t, out)
            reads = venue.reads
            while reads and reads[0][0] <= t:
                when, account = reads.popleft()
                if account.live:
                    out.append(self._snapshot(venue, account, when))
                    reads.append((when + REFRESH_MS, account))

    # ----- accounts -----------------------------------------------------------------------------

    def _liquidate(self, venue: _Venue, price: float, t: int, out: list[Event]) -> None:
        for account in [a for a in venue.accounts if _crossed(a, price)]:
            self._end(venue, account, t, out)
        longs = [a.liquidation for a in venue.accounts if a.side is Side.LONG]
        shorts = [a.liquidation for a in venue.accounts if a.side is Side.SHORT]
        venue.top_long, venue.low_short = max(longs, default=0.0), min(shorts, default=math.inf)

    def _end(self, venue: _Venue, account: _Account, t: int, out: list[Event]) -> None:
        """The position is gone (size 0); a new account takes its place, read at once."""
        account.live = False
        venue.accounts.remove(account)
        out.append(self._snapshot(venue, account, t, gone=True))
        fresh = self._draw(venue, t)
        if fresh is not None:
            out.append(self._snapshot(venue, fresh, t))
            venue.reads.append((t + REFRESH_MS, fresh))

    def _draw(self, venue: _Venue, now: int) -> _Account | None:
        """One account holding a position of the venue's book; None when the book has none near price."""
        pair, rng = venue.pair, self.rng
        price, book = pair.price, pair.book
        side = Side.LONG if rng.random() < 0.5 else Side.SHORT
        rows = [
            r for r in book.rows(side) if abs(r[0] / price - 1) <= SAMPLE_RANGE and _alive(side, r[0], price)
        ]
        if not rows:
            return None
        cum = list(accumulate(r[2] for r in rows))
        low, high, qty = rows[min(bisect.bisect_left(cum, rng.random() * cum[-1]), len(rows) - 1)]
        mean_qty = COVERAGE * book.open_qty / (2 * ACCOUNTS_PER_SYMBOL)  # both sides' accounts
        size = min(qty, mean_qty * math.exp(rng.gauss(0, SIZE_SIGMA) - SIZE_SIGMA**2 / 2))
        liquidation = rng.uniform(low, high)
        if not _alive(side, liquidation, price) or not size > 0:
            return None
        tiers, cdf = pair.tiers, pair.tier_cdf
        leverage = tiers[min(bisect.bisect_left(cdf, rng.random()), len(tiers) - 1)]
        m = pair.maintenance
        if side is Side.LONG:
            entry = liquidation * (1 - m) / (1 - 1 / leverage)
        else:
            entry = liquidation * (1 + m) / (1 + 1 / leverage)
        self._n += 1
        ends_at = now + rng.expovariate(1 / self.lifetime_ms)
        account = _Account(
            f"0x{rng.getrandbits(160):040x}", side, size, entry, liquidation, leverage, ends_at
        )
        venue.accounts.append(account)
        heapq.heappush(venue.ends, (ends_at, self._n, account))
        if side is Side.LONG:
            venue.top_long = max(venue.top_long, liquidation)
        else:
            venue.low_short = min(venue.low_short, liquidation)
        return account

    @staticmethod
    def _snapshot(venue: _Venue, account: _Account, when: int, gone: bool = False) -> PositionSnapshot:
        pair = venue.pair
        qty = 0.0 if gone else account.qty
        price = pair.price
        return PositionSnapshot(
            pair.venue,
            pair.symbol,
            account.address,
            account.side,
            qty,
            qty * price,
            account.entry,
            account.liquidation,
            account.leverage,
            "isolated",  # the demo's positions are isolated (positions.liquidation_price)
            int(when),
        )


def _alive(side: Side, liquidation: float, price: float) -> bool:
    """A position whose liquidation price the venue's price has not reached."""
    return liquidation < price if side is Side.LONG else liquidation > price


def _crossed(account: _Account, price: float) -> bool:
    return not _alive(account.side, account.liquidation, price)
