"""Alert rules evaluated over the engine's events: one alert per event that matters, then updates.

    alerts = AlertEvaluator(rules, engine, since_ms=start)
    engine.apply(event); fired = alerts.see(event)     # after the engine took the event
    fired += alerts.flush()                              # at the end: pending updates of open alerts

Each rule's detector turns events into triggers (``_Trigger``); the grouper makes them alerts:
the first trigger for a rule and symbol is an alert, the next ones within the rule's cooldown are
the same alert, emitted again as an update (running USD and count, at most every ``UPDATE_EVERY_MS``)
when they add liquidations. Kinds (docs/alerts.md has the words a trader reads):

- ``liquidation``: one liquidation of at least ``min_usd``;
- ``burst``: at least ``min_usd`` liquidated on one side within ``window`` (per symbol, over the
  rule's venues);
- ``cascade``: the cascade detector of docs/level-model.md: the price move over ``window`` beats
  ``k`` x sigma x sqrt(window) (sigma from one-second returns of the last hour), the USD liquidated in
  the window beats the ``percentile`` of the last hour's windows and one side holds ``side_share``;
- ``cluster_near``: the price within ``pct`` of an ESTIMATED ladder row (the engine's level model at
  the symbol's grid) of at least ``min_usd`` on the side that liquidates there, else of a row of the
  MEASURED positions of tracked accounts (Hyperliquid) at the same grid;
- ``cluster_swept``: price swept an ESTIMATED cluster of at least ``min_usd``; the alert carries what
  the tape realized there (None when no liquidation tape watched it);
- ``oi_change``: OI changed by ``pct`` within ``window``, per venue or summed (``scope``), with the
  OI regime it means (``engine.oi.oi_regime``);
- ``funding``: a venue's funding rate, restated per 8 h, at or beyond ``rate``;
- ``position_near``: a tracked account's MEASURED position (``PositionSnapshot``) of at least
  ``min_usd`` within ``pct`` of its liquidation price, at its snapshot (the venue's mark then) and at
  each later price of its venue (once a second per symbol); one alert per account within the cooldown.

Pure and deterministic: time is the events' exchange time (the newest seen), never a clock. Events
older than ``since_ms`` (a session's backfill of history), and every event while ``history()`` says
the source is still handing out its history (the demo's backfill, a replay catching up), feed the
detectors' memory but fire nothing: only live events alert. History is only remembered: a rule
reads the engine only to make a trigger, and a replay's catch-up hands its liquidations in as columns
(``LiquidationBatch``: the windows' sums per second, no object per row), the same memory to the bit.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from liqtui.domain.alerts import LIQUIDATION_KINDS, Alert
from liqtui.domain.events import Event, Liquidation, OpenInterest, PositionSnapshot, Side, Ticker
from liqtui.domain.format import price as price_text
from liqtui.domain.format import usd as compact_usd
from liqtui.engine.batch import SIDE_OF_CODE, LiquidationBatch, column_sums, in_time_order
from liqtui.engine.engine import Engine
from liqtui.engine.funding import funding_interval_hours, per_basis
from liqtui.engine.oi import oi_regime, pct_change

if TYPE_CHECKING:
    from liqtui.engine.batch import Floats, Ints

UPDATE_EVERY_MS = 10_000  # a grouped alert's running totals are emitted at most this often,
UPDATE_GROWTH = 1.5  # and only once they grew by half (the last totals always, at the end)
CLUSTER_CHECK_MS = 1_000  # cluster_near and position_near read the engine at most once a second per symbol
SIGMA_HISTORY_S = 3_600  # one-second returns kept for sigma
CASCADE_HISTORY_MS = 3_600_000  # windows kept for the liquidation percentile
CASCADE_MIN_WINDOWS = 10  # fewer completed windows than this: no percentile yet, no cascade
CASCADE_MIN_RETURNS = 60  # fewer one-second returns than this: no sigma yet


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule, its thresholds resolved (the config's defaults applied). Empty ``coins``/``venues``:
    every one; ``side`` None: both."""

    name: str
    kind: str
    coins: frozenset[str] = frozenset()
    venues: frozenset[str] = frozenset()
    side: Side | None = None
    min_usd: float = 0.0
    window_ms: int = 60_000
    pct: float = 0.0  # cluster_near, position_near: distance; oi_change: change, all in %
    k: float = 3.0
    percentile: float = 95.0
    side_share: float = 0.65
    rate: float = 0.001  # funding, as a fraction per 8 h
    scope: str = "venue"  # oi_change: "venue" or "total"
    cooldown_ms: int = 60_000

    @property
    def covers_everything(self) -> bool:
        """No coin, venue or side named: ``covers`` is true for every event."""
        return not self.coins and not self.venues and self.side is None

    def covers(self, venue: str | None, symbol: str, side: Side | None = None) -> bool:
        return (
            (not self.coins or coin(symbol) in self.coins)
            and (venue is None or not self.venues or venue in self.venues)
            and (side is None or self.side is None or side is self.side)
        )


def coin(symbol: str) -> str:
    """BTC for BTC/USDT:USDT and BTC/USDC:USDC: rules name coins, so one rule covers every venue's market."""
    return symbol.split("/", 1)[0].upper()


def unknown_coins(rules: Iterable[Rule], symbols: Iterable[str]) -> list[str]:
    """The coins the rules name that none of ``symbols`` trades (for one clear message)."""
    have = {coin(s) for s in symbols}
    return sorted({c for r in rules for c in r.coins} - have)


@dataclass(slots=True)
class _Trigger:
    """What a detector saw: ``usd``/``count`` of this event, ``open_usd``/``open_count`` what an alert
    opened by it starts from (a burst's window), ``detail`` the kind's words for the text."""

    symbol: str
    time: int
    venue: str | None
    side: Side | None
    price: float | None
    usd: float | None = None
    count: int | None = None
    open_usd: float | None = None
    open_count: int | None = None
    detail: str = ""
    open_venues: frozenset[str] = frozenset()  # the venues of the window that opened it (burst, cascade)
    account: str = ""  # position_near: the account, grouped apart from the others' positions


@dataclass(slots=True)
class _Group:
    rule: Rule
    first: _Trigger
    usd: float | None
    count: int | None
    venues: set[str | None]
    last_trigger: int
    last_emit: int
    pending: bool = False
    price: float | None = None
    emitted_usd: float = 0.0

    def update_due(self, now: int) -> bool:
        return (
            self.pending
            and now - self.last_emit >= UPDATE_EVERY_MS
            and (self.usd or 0.0) >= self.emitted_usd * UPDATE_GROWTH
        )

    def add(self, trig: _Trigger) -> None:
        self.take(trig.time, trig.venue, trig.usd, trig.count, trig.price)

    def take(
        self, time: int, venue: str | None, usd: float | None, count: int | None, price: float | None
    ) -> None:
        """``add`` of a trigger with these fields (one not built: ``AlertEvaluator._offer_deferred``)."""
        self.last_trigger = time
        self.venues.add(venue)
        if self.rule.kind in LIQUIDATION_KINDS and usd is not None and self.usd is not None:
            self.usd += usd
            self.count = (self.count or 0) + (count or 0)
            self.price = price
            self.pending = True

    def alert(self, at: int, update: bool) -> Alert:
        venues = self.venues - {None}
        first = self.first
        return Alert(
            time=first.time,
            rule=self.rule.name,
            kind=self.rule.kind,
            venue=next(iter(venues)) if len(self.venues) == 1 and venues else None,
            symbol=first.symbol,
            side=first.side,
            usd=self.usd,
            price=first.price,
            count=self.count,
            text=_text(self, update),
            update=update,
            at=at,
        )


class _RollingSides:
    """USD and count liquidated per side over the last ``window_ms``, in one-second buckets (memory
    bounded by the window, whatever the rate)."""

    def __init__(self, window_ms: int) -> None:
        self.window_s = max(1, window_ms // 1000)
        self.buckets: deque[list[float]] = deque()  # [second, long usd, short usd, long n, short n]
        self.totals = [0.0, 0.0, 0.0, 0.0]
        self.seen: dict[str, int] = {}  # venue -> last second it added to
        self._venues: frozenset[str] | None = None  # venues(), until ``seen`` changes
        self._expired_at = -1  # the newest second expired to

    def add(self, side: Side, usd: float, time_ms: int, venue: str) -> None:
        second = time_ms // 1000
        if self.seen.get(venue) != second:
            self.seen[venue] = second
            self._venues = None
        if second > self._expired_at:  # expiry moves only when the newest second does
            self._expired_at = second
            self.expire(second)
        if not self.buckets or self.buckets[-1][0] < second:
            self.buckets.append([float(second), 0.0, 0.0, 0.0, 0.0])
        slot = 0 if side is Side.LONG else 1
        bucket = self.buckets[-1]  # a late one (another venue's clock) joins the newest second
        bucket[1 + slot] += usd
        bucket[3 + slot] += 1
        self.totals[slot] += usd
        self.totals[2 + slot] += 1

    def add_rows(self, batch: LiquidationBatch, rows: Ints) -> None:
        """``add`` of each of ``batch``'s ``rows`` (indexes, in time order), no object per row: the same
        floats, each sum adding its rows in their order (``column_sums``). Rows older than the window's
        newest second (none in time order after it) go one by one, as ``add`` takes them."""
        import numpy as np

        if not len(rows):
            return
        side, usd, time, market = batch.side[rows], batch.usd[rows], batch.time[rows], batch.market[rows]
        seconds = time // 1000
        if int(seconds[0]) < self._expired_at:
            for s, u, t, m in zip(side.tolist(), usd.tolist(), time.tolist(), market.tolist(), strict=True):
                self.add(SIDE_OF_CODE[s], u, t, batch.markets[m][0])
            return
        edges = [0, *(np.flatnonzero(np.diff(seconds)) + 1).tolist(), len(rows)]
        for a, b in zip(edges, edges[1:], strict=False):
            self._add_second(int(seconds[a]), side[a:b], usd[a:b])
        ids, last = np.unique(market[::-1], return_index=True)  # each market's newest row, from the end
        for m, second in zip(ids.tolist(), seconds[len(rows) - 1 - last].tolist(), strict=True):
            venue = batch.markets[m][0]
            if second > self.seen.get(venue, second - 1):
                self.seen[venue] = second
                self._venues = None

    def _add_second(self, second: int, side: Ints, usd: Floats) -> None:
        """Rows of one second (``add_rows``): expiry and the bucket as ``add`` does at the first."""
        import numpy as np

        if second > self._expired_at:
            self._expired_at = second
            self.expire(second)
        if not self.buckets or self.buckets[-1][0] < second:
            self.buckets.append([float(second), 0.0, 0.0, 0.0, 0.0])
        bucket, totals = self.buckets[-1], self.totals
        held = [bucket[1], bucket[2], totals[0], totals[1]]
        bucket[1], bucket[2], totals[0], totals[1] = column_sums(
            held, np.concatenate([side, side + 2]), np.concatenate([usd, usd])
        )
        shorts = int(side.sum())  # counts: floats of whole numbers, exact as one by one's += 1
        longs = len(side) - shorts
        bucket[3] += longs
        bucket[4] += shorts
        totals[2] += longs
        totals[3] += shorts

    def expire(self, second: int) -> None:
        while self.buckets and self.buckets[0][0] <= second - self.window_s:
            old = self.buckets.popleft()
            for i in range(4):
                self.totals[i] -= old[1 + i]

    def venues(self) -> frozenset[str]:
        if self._venues is None:
            newest = max(self.seen.values(), default=0)
            self._venues = frozenset(v for v, second in self.seen.items() if second > newest - self.window_s)
        return self._venues

    def usd(self, side: Side) -> float:
        return self.totals[0 if side is Side.LONG else 1]

    def count(self, side: Side) -> int:
        return round(self.totals[2 if side is Side.LONG else 3])


_Detector = Callable[[Event], list[_Trigger]]
# A run of liquidations at once: the triggers of each, as (its index in the run, trigger), in order.
_RunDetector = Callable[[Sequence[Liquidation]], list[tuple[int, "_Trigger | _Deferred"]]]
# A burst's trigger not built yet: (the function that builds it, its liquidation, the window's total,
# count and venues then). At stress ~40 % of liquidations trigger the burst rule, nearly all adding to
# the alert they opened: that needs only the liquidation (``AlertEvaluator._offer_deferred``).
_Deferred = tuple[
    Callable[[Liquidation, float, float, frozenset[str]], _Trigger], Liquidation, float, float, frozenset[str]
]


def _symbol_rows(batch: LiquidationBatch, rule: Rule, side: Side | None) -> list[tuple[str, Ints]]:
    """The rows of ``batch`` that ``rule`` covers (its coins and venues; ``side`` when not None), per
    symbol in the order of their first row: (symbol, row indexes in order)."""
    import numpy as np

    ids, group = batch.by_market()
    symbols: dict[str, int] = {}
    of_market = [
        symbols.setdefault(symbol, len(symbols)) if rule.covers(venue, symbol) else -1
        for venue, symbol in (batch.markets[m] for m in ids)
    ]
    if not symbols:
        return []
    of_row = np.array(of_market, dtype=np.int64)[group]
    if side is not None:
        of_row[batch.side != SIDE_OF_CODE.index(side)] = -1
    if len(symbols) == 1:
        found = [(next(iter(symbols)), np.flatnonzero(of_row >= 0))]
    else:
        found = [(symbol, np.flatnonzero(of_row == k)) for symbol, k in symbols.items()]
    return [(symbol, rows) for symbol, rows in found if len(rows)]


def _checked_now(checked: dict[str, int], symbol: str, time_ms: int) -> bool:
    """True, noting ``time_ms``, when ``symbol`` was last checked ``CLUSTER_CHECK_MS`` or more before."""
    if time_ms - checked.get(symbol, -CLUSTER_CHECK_MS) < CLUSTER_CHECK_MS:
        return False
    checked[symbol] = time_ms
    return True


class _LiquidationRule:
    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def absorb(self, batch: LiquidationBatch) -> None:
        """``see_run`` of a batch whose triggers fire nothing (history): this rule keeps no memory."""

    def remember(self, event: Event) -> None:
        """``see`` of history (its triggers fire nothing): this rule keeps no memory."""

    def see_run(self, liqs: Sequence[Liquidation]) -> list[tuple[int, _Trigger]]:
        min_usd = self.rule.min_usd  # see's first test, before its call (a NaN passes it there too)
        return [(i, trig) for i, liq in enumerate(liqs) if not liq.usd < min_usd for trig in self.see(liq)]

    def see(self, event: Event) -> list[_Trigger]:
        if type(event) is not Liquidation or event.usd < self.rule.min_usd:
            return []
        if not self.rule.covers(event.venue, event.symbol, event.side):
            return []
        return [
            _Trigger(
                event.symbol, event.time, event.venue, event.side, event.price, event.usd, 1, event.usd, 1
            )
        ]


class _BurstRule:
    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.windows: dict[str, _RollingSides] = {}
        self.span = _span(rule.window_ms)
        self.adds = True  # False: a cascade rule sharing the windows adds each liquidation (``_share``)

    def absorb(self, batch: LiquidationBatch) -> None:
        """``see_run`` of a batch in time order whose triggers fire nothing (history): each symbol's
        window takes the rows, as columns."""
        rule = self.rule
        if not self.adds:
            return
        for symbol, rows in _symbol_rows(batch, rule, rule.side):
            window = self.windows.get(symbol)
            if window is None:
                window = self.windows[symbol] = _RollingSides(rule.window_ms)
            window.add_rows(batch, rows)

    def see_run(self, liqs: Sequence[Liquidation]) -> list[tuple[int, _Trigger | _Deferred]]:
        """``see`` of each, in order, with the calls per liquidation that a long run repeats taken out
        and each trigger deferred (``_Deferred``)."""
        rule, windows = self.rule, self.windows
        out: list[tuple[int, _Trigger | _Deferred]] = []
        everything, min_usd = rule.covers_everything, rule.min_usd
        for i, liq in enumerate(liqs):
            if not (everything or rule.covers(liq.venue, liq.symbol, liq.side)):
                continue
            window = windows.get(liq.symbol)
            if window is None:
                window = windows[liq.symbol] = _RollingSides(rule.window_ms)
            side = liq.side
            window.add(side, liq.usd, liq.time, liq.venue)
            slot = 0 if side is Side.LONG else 1
            total = window.totals[slot]
            if not (total < min_usd or total <= 0):  # as see: a NaN total triggers there too
                out.append((i, (self._made, liq, total, window.totals[2 + slot], window.venues())))
        return out

    def _made(self, liq: Liquidation, total: float, count: float, venues: frozenset[str]) -> _Trigger:
        """The trigger ``see_run`` deferred (``_Deferred``): the window's total, count and venues then."""
        return _Trigger(
            liq.symbol,
            liq.time,
            liq.venue,
            liq.side,
            liq.price,
            liq.usd,
            1,
            total,
            round(count),
            self.span,
            venues,
        )

    def remember(self, event: Event) -> None:
        """``see`` of history: the window takes it (its triggers fire nothing)."""
        self.see(event)

    def see(self, event: Event) -> list[_Trigger]:
        if type(event) is not Liquidation or not self.rule.covers(event.venue, event.symbol, event.side):
            return []
        window = self.windows.get(event.symbol)
        if window is None:
            window = self.windows[event.symbol] = _RollingSides(self.rule.window_ms)
        if self.adds:
            window.add(event.side, event.usd, event.time, event.venue)
        total = window.usd(event.side)
        if total < self.rule.min_usd or total <= 0:
            return []
        return [self._trigger(event, window, total)]

    def _trigger(self, liq: Liquidation, window: _RollingSides, total: float) -> _Trigger:
        return self._made(liq, total, window.totals[2 if liq.side is Side.LONG else 3], window.venues())


class _PricePath:
    """One-second closes of a symbol (the mean of its venues' last prices), for sigma and the move."""

    def __init__(self) -> None:
        self.venue_prices: dict[str, float] = {}
        self.second: int | None = None
        self.closes: deque[float] = deque(maxlen=SIGMA_HISTORY_S + 1)
        self.returns: deque[float] = deque(maxlen=SIGMA_HISTORY_S)
        self.sum = self.sum_sq = 0.0

    def see(self, venue: str, price: float, time_ms: int) -> None:
        second = time_ms // 1000
        if self.second is not None and second > self.second:
            for _ in range(min(second - self.second, SIGMA_HISTORY_S)):
                self._close()
        self.second = second if self.second is None else max(self.second, second)
        self.venue_prices[venue] = price

    def _close(self) -> None:
        close = sum(self.venue_prices.values()) / len(self.venue_prices)
        if self.closes:
            r = math.log(close / self.closes[-1])
            if len(self.returns) == self.returns.maxlen:
                old = self.returns[0]
                self.sum -= old
                self.sum_sq -= old * old
            self.returns.append(r)
            self.sum += r
            self.sum_sq += r * r
        self.closes.append(close)

    def sigma(self) -> float | None:
        n = len(self.returns)
        if n < CASCADE_MIN_RETURNS:
            return None
        mean = self.sum / n
        return math.sqrt(max(self.sum_sq / n - mean * mean, 0.0))

    def move(self, seconds: int) -> float | None:
        """Log move over the last ``seconds`` (closes so far, then the venues' prices now)."""
        if len(self.closes) <= seconds or not self.venue_prices:
            return None
        now = sum(self.venue_prices.values()) / len(self.venue_prices)
        return math.log(now / self.closes[-seconds])


class _CascadeState:
    def __init__(self, rule: Rule, window: _RollingSides) -> None:
        self.window = window
        self.path = _PricePath()
        self.window_index: int | None = None
        self.window_usd = 0.0
        self.past: deque[float] = deque(maxlen=max(CASCADE_MIN_WINDOWS, CASCADE_HISTORY_MS // rule.window_ms))
        self.threshold: float | None = None

    def close_windows(self, time_ms: int, window_ms: int, percentile: float) -> None:
        index = time_ms // window_ms
        if self.window_index is None:
            self.window_index = index
        if index <= self.window_index:
            return
        for i in range(min(index - self.window_index, self.past.maxlen or 1)):
            self.past.append(self.window_usd if i == 0 else 0.0)
        self.window_index, self.window_usd = index, 0.0
        if len(self.past) >= CASCADE_MIN_WINDOWS:
            ranked = sorted(self.past)
            self.threshold = ranked[min(len(ranked) - 1, math.ceil(percentile / 100 * len(ranked)) - 1)]


class _CascadeRule:
    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.states: dict[str, _CascadeState] = {}
        self.windows: dict[str, _RollingSides] = {}  # a burst rule's when shared (``_share``)
        self.adds = True  # False: the burst rule sharing the windows adds each liquidation

    def _state(self, symbol: str) -> _CascadeState:
        state = self.states.get(symbol)
        if state is None:
            window = self.windows.get(symbol)
            if window is None:
                window = self.windows[symbol] = _RollingSides(self.rule.window_ms)
            state = self.states[symbol] = _CascadeState(self.rule, window)
        return state

    def remember(self, event: Event) -> None:
        """``see`` of history: the windows and the price path take it (``_check`` changes nothing)."""
        self.see(event)

    def see(self, event: Event) -> list[_Trigger]:
        if type(event) is Ticker:
            price = event.last or event.mark
            if price and price > 0 and self.rule.covers(event.venue, event.symbol):
                self._state(event.symbol).path.see(event.venue, price, event.time)
            return []
        if type(event) is not Liquidation or not self.rule.covers(event.venue, event.symbol):
            return []
        rule, state = self.rule, self._state(event.symbol)
        state.close_windows(event.time, rule.window_ms, rule.percentile)
        if self.adds:
            state.window.add(event.side, event.usd, event.time, event.venue)
        state.window_usd += event.usd
        return self._check(event, state)

    def absorb(self, batch: LiquidationBatch) -> None:
        """``see_run`` of a batch in time order whose triggers fire nothing (history; ``_check`` changes
        nothing): each symbol's windows close and take the rows, as columns."""
        import numpy as np

        rule = self.rule
        window_ms = rule.window_ms
        for symbol, rows in _symbol_rows(batch, rule, None):
            state = self._state(symbol)
            index = batch.time[rows] // window_ms
            edges = [0, *(np.flatnonzero(np.diff(index)) + 1).tolist(), len(rows)]
            for a, b in zip(edges, edges[1:], strict=False):
                part = rows[a:b]
                time_ms = int(batch.time[part[0]])
                if state.window_index is None or time_ms // window_ms > state.window_index:
                    state.close_windows(time_ms, window_ms, rule.percentile)
                if self.adds:
                    state.window.add_rows(batch, part)
                zeros = np.zeros(len(part), dtype=np.int64)
                state.window_usd = column_sums([state.window_usd], zeros, batch.usd[part])[0]

    def see_run(self, liqs: Sequence[Liquidation]) -> list[tuple[int, _Trigger]]:
        """``see`` of each, in order, with the calls per liquidation that a long run repeats taken out."""
        rule, states = self.rule, self.states
        out: list[tuple[int, _Trigger]] = []
        everything = not rule.coins and not rule.venues  # covers(venue, symbol) asks no side
        window_ms, percentile, min_usd = rule.window_ms, rule.percentile, rule.min_usd
        for i, liq in enumerate(liqs):
            if not (everything or rule.covers(liq.venue, liq.symbol)):
                continue
            state = states.get(liq.symbol) or self._state(liq.symbol)
            if state.window_index is None or liq.time // window_ms > state.window_index:
                state.close_windows(liq.time, window_ms, percentile)
            window = state.window
            window.add(liq.side, liq.usd, liq.time, liq.venue)
            state.window_usd += liq.usd
            total = window.totals[0] + window.totals[1]  # _check's first test, before its call
            if not (state.threshold is None or total <= state.threshold or total < min_usd):
                out.extend((i, trig) for trig in self._check(liq, state))
        return out

    def see_run_with(
        self, burst: _BurstRule, liqs: Sequence[Liquidation]
    ) -> tuple[list[tuple[int, _Trigger | _Deferred]], list[tuple[int, _Trigger]]]:
        """``burst.see_run`` and ``see_run`` of the same run in one pass over it, for rules that share
        their windows (``_share``): each liquidation added once, each rule's triggers as alone."""
        rule, states = self.rule, self.states
        bursts: list[tuple[int, _Trigger | _Deferred]] = []
        cascades: list[tuple[int, _Trigger]] = []
        window_ms, percentile, min_usd = rule.window_ms, rule.percentile, rule.min_usd
        made, burst_min, long = burst._made, burst.rule.min_usd, Side.LONG
        for i, liq in enumerate(liqs):
            state = states.get(liq.symbol) or self._state(liq.symbol)
            time_ms = liq.time
            if state.window_index is None or time_ms // window_ms > state.window_index:
                state.close_windows(time_ms, window_ms, percentile)
            window, usd = state.window, liq.usd
            # window.add(liq.side, usd, time_ms, liq.venue), written out (a call a liquidation fewer)
            second, venue = time_ms // 1000, liq.venue
            seen = window.seen
            if seen.get(venue) != second:
                seen[venue] = second
                window._venues = None
            if second > window._expired_at:
                window._expired_at = second
                window.expire(second)
            buckets = window.buckets
            if not buckets or buckets[-1][0] < second:
                buckets.append([float(second), 0.0, 0.0, 0.0, 0.0])
            slot = 0 if liq.side is long else 1
            bucket, totals = buckets[-1], window.totals
            bucket[1 + slot] += usd
            bucket[3 + slot] += 1
            totals[slot] += usd
            totals[2 + slot] += 1
            state.window_usd += usd
            total = totals[slot]
            if not (total < burst_min or total <= 0):  # as _BurstRule.see_run
                venues = window._venues
                if venues is None:
                    venues = window.venues()
                bursts.append((i, (made, liq, total, totals[2 + slot], venues)))
            total = totals[0] + totals[1]
            if not (state.threshold is None or total <= state.threshold or total < min_usd):
                cascades.extend((i, trig) for trig in self._check(liq, state))
        return bursts, cascades

    def _check(self, liq: Liquidation, state: _CascadeState) -> list[_Trigger]:
        rule, window = self.rule, state.window
        longs, shorts = window.totals[0], window.totals[1]  # window.usd(side), read inline: every event
        total = longs + shorts
        if state.threshold is None or total <= state.threshold or total < rule.min_usd:
            return []
        side = Side.LONG if longs >= shorts else Side.SHORT
        if window.usd(side) < rule.side_share * total or (rule.side is not None and side is not rule.side):
            return []
        seconds = window.window_s
        sigma, move = state.path.sigma(), state.path.move(seconds)
        if sigma is None or move is None or abs(move) <= rule.k * sigma * math.sqrt(seconds):
            return []
        detail = (
            f"price {(math.exp(move) - 1) * 100:+.1f} % in {_span(rule.window_ms)} "
            f"({abs(move) / (sigma * math.sqrt(seconds)) if sigma else math.inf:.1f}σ), "
            f"{window.usd(side) / total * 100:.0f} % {side.value}s"
        )
        count = window.count(Side.LONG) + window.count(Side.SHORT)
        return [
            _Trigger(
                liq.symbol,
                liq.time,
                liq.venue,
                side,
                liq.price,
                liq.usd,
                1,
                total,
                count,
                detail,
                window.venues(),
            )
        ]


class _ClusterNearRule:
    def __init__(self, rule: Rule, engine: Engine) -> None:
        self.rule, self.engine = rule, engine
        self.checked: dict[str, int] = {}

    def remember(self, event: Event) -> None:
        """``see`` of history: only when it would read the engine next (its trigger fires nothing)."""
        self._due(event)

    def _due(self, event: Event) -> bool:
        """A ticker of a covered symbol a second after its last check: checked now."""
        if type(event) is not Ticker or not self.rule.covers(None, event.symbol):
            return False
        return _checked_now(self.checked, event.symbol, event.time)

    def see(self, event: Event) -> list[_Trigger]:
        if not isinstance(event, Ticker) or not self._due(event):
            return []
        price, grid, rows = self.engine.book_sides(event.symbol, self.rule.pct / 100)  # the rows near
        if not price:
            return []
        hit, what = self._nearest(rows, price), "an ESTIMATED"
        if hit is None:  # the MEASURED positions of tracked accounts (Hyperliquid), rows of the same grid
            measured = self.engine.state.positions.levels(event.symbol, grid)
            rows = {
                side: [(i * grid, usd) for i, usd in sorted(by_row.items())]
                for side, by_row in measured.items()
            }
            hit, what = self._nearest(rows, price), "a MEASURED"
        if hit is None:
            return []
        side, at, usd = hit
        detail = (
            f"{price_text(price)} is {abs(at - price) / price * 100:.2f} % from {what} {compact_usd(usd)} "
            f"{side.value} cluster at {price_text(at)}"
            + (" (tracked accounts)" if what == "a MEASURED" else "")
        )
        return [_Trigger(event.symbol, event.time, None, side, at, usd, detail=detail)]

    def _nearest(
        self, rows: dict[Side, list[tuple[float, float]]], price: float
    ) -> tuple[Side, float, float] | None:
        """The nearest row of at least ``min_usd`` within ``pct`` on the side that liquidates there
        (longs below the price, shorts above; longs first): (side, row price, USD). Rows ascend."""
        reach = self.rule.pct / 100
        for side in (Side.LONG, Side.SHORT):
            if self.rule.side not in (None, side):
                continue
            if side is Side.LONG:
                near = [(p, usd) for p, usd in reversed(rows[side]) if price * (1 - reach) <= p <= price]
            else:
                near = [(p, usd) for p, usd in rows[side] if price <= p <= price * (1 + reach)]
            hit = next(((p, usd) for p, usd in near if usd >= self.rule.min_usd and usd > 0), None)
            if hit is not None:
                return side, hit[0], hit[1]
        return None


class _ClusterSweptRule:
    def __init__(self, rule: Rule, engine: Engine) -> None:
        self.rule, self.engine = rule, engine
        self.seen: dict[str, int] = {}

    def remember(self, event: Event) -> None:
        """``see`` of history: the newest sweep seen, read from the sweeps' times alone (``sweeps_since``
        would match the fills waiting for the sweeps first: the engine's bulk path waits for a view)."""
        if type(event) is not OpenInterest or not self.rule.covers(event.venue, event.symbol):
            return
        since = self.seen.get(event.symbol, event.time - 1)
        states = self.engine.state.symbol_states(event.symbol)  # each market's sweeps in time order
        self.seen[event.symbol] = max([since, *(s.sweeps[-1].time for _v, s in states if s.sweeps)])

    def see(self, event: Event) -> list[_Trigger]:
        if type(event) is not OpenInterest or not self.rule.covers(event.venue, event.symbol):
            return []
        since = self.seen.get(event.symbol, event.time - 1)
        swept = self.engine.sweeps_since(event.symbol, since, event.time)  # no level table: every OI step
        fresh = [
            s
            for s in swept
            if self.rule.covers(s.venue, s.symbol, s.side) and s.estimated_usd >= self.rule.min_usd
        ]
        self.seen[event.symbol] = max([since, *(s.time for s in swept)])
        return [
            _Trigger(
                s.symbol,
                s.time,
                s.venue,
                s.side,
                (s.price_low + s.price_high) / 2,
                detail=(
                    f"swept an ESTIMATED {compact_usd(s.estimated_usd)} {s.side.value} cluster "
                    f"{price_text(s.price_low)}-{price_text(s.price_high)} on {s.venue}; "
                    + (f"tape realized {compact_usd(s.realized_usd)}" if s.taped else "no tape there")
                ),
                usd=s.realized_usd if s.taped else None,
            )
            for s in fresh
        ]


class _OIChangeRule:
    def __init__(self, rule: Rule, engine: Engine) -> None:
        self.rule, self.engine = rule, engine

    def remember(self, event: Event) -> None:
        """``see`` of history: this rule keeps no memory (it reads the engine's OI history)."""

    def see(self, event: Event) -> list[_Trigger]:
        if type(event) is not OpenInterest or not self.rule.covers(event.venue, event.symbol):
            return []
        venues = (
            [event.venue]
            if self.rule.scope == "venue"
            else [v for v in self.engine.oi.venues(event.symbol) if self.rule.covers(v, event.symbol)]
        )
        now = then = now_usd = then_usd = 0.0
        window = self.rule.window_ms
        for venue in venues:
            new = self.engine.oi.latest(venue, event.symbol, event.time)
            old = self.engine.oi.latest(venue, event.symbol, event.time - window)
            if new is None or old is None or old[0] < event.time - 2 * window or old[1] <= 0:
                continue
            now, then, now_usd, then_usd = now + new[1], then + old[1], now_usd + new[2], then_usd + old[2]
        change = pct_change(now, then)
        if change is None or abs(change) < self.rule.pct:
            return []
        price_now, price_then = now_usd / now if now else None, then_usd / then
        regime = oi_regime(pct_change(price_now, price_then), change)
        where = f"on {event.venue}" if self.rule.scope == "venue" else "on all venues"
        detail = f"OI {change:+.1f} % in {_span(window)} {where}" + (f", {regime}" if regime else "")
        usd_change = (now - then) * price_now if price_now else None
        return [
            _Trigger(
                event.symbol,
                event.time,
                event.venue if self.rule.scope == "venue" else None,
                None,
                price_now,
                usd=usd_change,
                detail=detail,
            )
        ]


class _FundingRule:
    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def remember(self, event: Event) -> None:
        """``see`` of history: this rule keeps no memory."""

    def see(self, event: Event) -> list[_Trigger]:
        if type(event) is not Ticker or event.funding_rate is None:
            return []
        hours = funding_interval_hours(event.venue, event.funding_interval_hours)
        if hours is None or not math.isfinite(event.funding_rate):
            return []
        rate = per_basis(event.funding_rate, hours)
        payer = Side.LONG if rate > 0 else Side.SHORT  # positive funding: longs pay shorts
        if abs(rate) < self.rule.rate or not self.rule.covers(event.venue, event.symbol, payer):
            return []
        detail = f"funding {rate * 100:+.4f} %/8h on {event.venue}: {payer.value}s pay"
        return [
            _Trigger(event.symbol, event.time, event.venue, payer, event.last or event.mark, detail=detail)
        ]


class _PositionNearRule:
    def __init__(self, rule: Rule, engine: Engine) -> None:
        self.rule, self.engine = rule, engine
        self.checked: dict[str, int] = {}

    def remember(self, event: Event) -> None:
        """``see`` of history: a ticker's check time only (a snapshot leaves no memory)."""
        if type(event) is Ticker:
            self._due(event, event.mark or event.last)

    def _due(self, event: Ticker, price: float | None) -> bool:
        """A ticker of a covered symbol with a price, a second after its last check: checked now."""
        if not self.rule.covers(event.venue, event.symbol):
            return False
        return bool(price) and _checked_now(self.checked, event.symbol, event.time)

    def see(self, event: Event) -> list[_Trigger]:
        if type(event) is PositionSnapshot:
            if event.size > 0 and self.rule.covers(event.venue, event.symbol, event.side):
                return self._near([event], event.usd / event.size, event.time)  # the venue's mark then
            return []
        if type(event) is not Ticker:
            return []
        price = event.mark or event.last  # positions are liquidated at the mark
        if not price or not self._due(event, price):
            return []
        held = self.engine.state.positions.of(event.symbol, event.venue)
        return self._near([p for p in held if self.rule.covers(None, p.symbol, p.side)], price, event.time)

    def _near(self, positions: list[PositionSnapshot], price: float, time_ms: int) -> list[_Trigger]:
        found = []
        for p in positions:
            liq = p.liquidation_price
            if p.usd < self.rule.min_usd or liq is None or not liq > 0 or not price > 0:
                continue
            distance = (price - liq) / price if p.side is Side.LONG else (liq - price) / price
            if distance * 100 > self.rule.pct:
                continue
            where = f"{distance * 100:.2f} % from" if distance > 0 else "past"
            detail = (
                f"{p.side.value} of {_short_account(p.account)} {compact_usd(p.usd)} ({p.leverage:g}x "
                f"{p.margin}) at {price_text(price)} is {where} its liquidation price "
                f"{price_text(liq)} on {p.venue} (MEASURED)"
            )
            found.append(
                _Trigger(p.symbol, time_ms, p.venue, p.side, liq, p.usd, detail=detail, account=p.account)
            )
        return found


def _short_account(account: str) -> str:
    """0x1234…cdef: enough of an address to tell accounts apart in one line."""
    return f"{account[:6]}…{account[-4:]}" if len(account) > 12 else account


# The event types each kind's detector reads: an event is offered only to the rules that read its
# type (at stress, ~9,000 liquidations a second go past the OI and funding rules untouched).
_READS: dict[str, tuple[type, ...]] = {
    "liquidation": (Liquidation,),
    "burst": (Liquidation,),
    "cascade": (Liquidation, Ticker),
    "funding": (Ticker,),
    "cluster_near": (Ticker,),
    "cluster_swept": (OpenInterest,),
    "oi_change": (OpenInterest,),
    "position_near": (PositionSnapshot, Ticker),
}


class _SharedWindows:
    """A burst rule and a cascade rule over every liquidation with the same window keep the same
    rolling windows per symbol (the same sums, added in the same order): the rule that comes first
    adds each liquidation, the other only reads, and a run goes through both in one pass
    (``_CascadeRule.see_run_with``): the first's ``see_run`` makes both lists, the second's takes its
    own. At stress this was a third of the rules' time, every liquidation added twice."""

    def __init__(self, burst: _BurstRule, cascade: _CascadeRule, burst_first: bool) -> None:
        self.burst, self.cascade, self.burst_first = burst, cascade, burst_first
        self.places = (-1, -1)  # the two rules' places among the rules (``_share``)
        cascade.windows = burst.windows
        cascade.adds, burst.adds = burst_first is False, burst_first
        self._run: Sequence[Liquidation] | None = None
        self._second: list[tuple[int, _Trigger | _Deferred]] | list[tuple[int, _Trigger]] = []

    def first(self, liqs: Sequence[Liquidation]) -> list[tuple[int, _Trigger | _Deferred]]:
        bursts, cascades = self.cascade.see_run_with(self.burst, liqs)
        self._run = liqs
        if self.burst_first:
            self._second = cascades
            return bursts
        self._second = bursts
        return list(cascades)

    def second(self, liqs: Sequence[Liquidation]) -> list[tuple[int, _Trigger | _Deferred]]:
        if liqs is not self._run:
            raise RuntimeError("a run went to the second of two rules sharing windows without the first")
        out, self._run, self._second = self._second, None, []
        return list(out)


def _share(rules: Sequence[Rule], detectors: list[Any]) -> dict[int, _RunDetector]:
    """The runs of the burst and cascade rules that share their windows (``_SharedWindows``), by the
    rule's place: each cascade rule over every liquidation with the first such burst rule of the
    same window not yet paired."""
    runs: dict[int, _RunDetector] = {}
    free = [i for i, rule in enumerate(rules) if rule.kind == "burst" and rule.covers_everything]
    for c, rule in enumerate(rules):
        if rule.kind != "cascade" or rule.coins or rule.venues:
            continue
        b = next((i for i in free if rules[i].window_ms == rule.window_ms), None)
        if b is None:
            continue
        free.remove(b)
        shared = _SharedWindows(detectors[b], detectors[c], burst_first=b < c)
        shared.places = (min(b, c), max(b, c))
        runs[min(b, c)], runs[max(b, c)] = shared.first, shared.second
    return runs


@dataclass(frozen=True, slots=True)
class _Fused:
    """``AlertEvaluator._see_fused``'s plan: the rules' one shared pair, and each other liquidation
    rule's run with where its offers go: 0 before the pair's first, 1 between, 2 after its second."""

    pair: _SharedWindows
    others: list[tuple[int, Rule, _RunDetector]]


def _one_by_one(detect: _Detector) -> _RunDetector:
    """A run through a detector that has no ``see_run``: ``see`` of each liquidation."""
    return lambda liqs: [(i, trig) for i, liq in enumerate(liqs) for trig in detect(liq)]


def _detector(rule: Rule, engine: Engine) -> Any:
    """The rule's detector: its ``see``; a liquidation rule's also ``see_run`` for runs of liquidations
    and ``absorb`` for a batch of history (see ``AlertEvaluator.see_liquidations``)."""
    simple: dict[str, Callable[[Rule], Any]] = {
        "liquidation": _LiquidationRule,
        "burst": _BurstRule,
        "cascade": _CascadeRule,
        "funding": _FundingRule,
    }
    with_engine: dict[str, Callable[[Rule, Engine], Any]] = {
        "cluster_near": _ClusterNearRule,
        "cluster_swept": _ClusterSweptRule,
        "oi_change": _OIChangeRule,
        "position_near": _PositionNearRule,
    }
    if rule.kind in simple:
        detector = simple[rule.kind](rule)
    elif rule.kind in with_engine:
        detector = with_engine[rule.kind](rule, engine)
    else:
        raise ValueError(f"rule {rule.name!r}: unknown kind {rule.kind!r}")
    return detector


@dataclass
class AlertEvaluator:
    """Every rule over the events the engine took; see the module docstring."""

    rules: Sequence[Rule]
    engine: Engine
    since_ms: int = 0
    history: Callable[[], bool] | None = None  # True while the source hands out history (cheap: per event)
    _detectors: dict[type, list[tuple[Rule, _Detector]]] = field(init=False)  # by the event type read
    _runs: list[tuple[Rule, _RunDetector]] = field(init=False)  # the liquidation rules' see_run
    _fused: _Fused | None = field(init=False, default=None)  # see_liquidations in one pass (``_see_fused``)
    _absorbs: list[Callable[[LiquidationBatch], None]] = field(init=False)  # and their absorb
    _remembers: dict[type, list[Callable[[Event], None]]] = field(init=False)  # see, for history
    _groups: dict[tuple[str, str, str], _Group] = field(init=False, default_factory=dict)
    _now: int = field(init=False, default=0)
    _swept_at: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._detectors = {}
        self._runs = []
        self._absorbs = []
        self._remembers = {}
        detectors = [_detector(rule, self.engine) for rule in self.rules]
        shared = _share(self.rules, detectors)
        places: list[int] = []  # each of _runs' rules' place among the rules
        for n, (rule, detector) in enumerate(zip(self.rules, detectors, strict=True)):
            for kind in _READS[rule.kind]:
                self._detectors.setdefault(kind, []).append((rule, detector.see))
                self._remembers.setdefault(kind, []).append(detector.remember)
            if Liquidation in _READS[rule.kind]:
                run = shared.get(n) or getattr(detector, "see_run", None) or _one_by_one(detector.see)
                self._runs.append((rule, run))
                self._absorbs.append(detector.absorb)
                places.append(n)
        pairs = {id(run.__self__): run.__self__ for run in shared.values()}  # type: ignore[attr-defined]
        if len(pairs) == 1:  # one burst and cascade pair (the default rules): fused with the offers
            (pair,) = pairs.values()
            first, second = pair.places
            others = [
                (0 if n < first else 1 if n < second else 2, rule, run)
                for n, (rule, run) in zip(places, self._runs, strict=True)
                if n not in pair.places
            ]
            self._fused = _Fused(pair, others)

    def see(self, event: Event) -> list[Alert]:
        """The alerts (and updates) ``event`` fires; call after ``engine.apply(event)``."""
        time_ms = getattr(event, "time", None)
        if type(time_ms) is not int:
            return []
        out: list[Alert] = []
        if time_ms > self._now:
            self._advance(time_ms, out)
        if self._in_history():  # history fires nothing: the rules remember it
            for remember in self._remembers.get(type(event), ()):
                remember(event)
            return out
        live: bool | None = None  # asked only once a rule triggers (most events trigger nothing)
        for rule, detect in self._detectors.get(type(event), ()):
            for trig in detect(event):
                if live is None:
                    live = time_ms >= self.since_ms
                if live:
                    out.extend(self._offer(rule, trig))
        return out

    def see_liquidations(self, liqs: Sequence[Liquidation]) -> list[Alert]:
        """``see`` for each liquidation in order, the same alerts in the same order: the bulk path
        (after ``Engine.apply_liquidations``; no liquidation rule reads the engine). ``history()``
        is asked once: a run is handed over in one go, while the source stands still.

        A batch of history (``history()`` true: a replay's catch-up) fires nothing: the rules only
        remember it (``absorb``, read as columns, no object per row), and the groups' once-a-second
        sweeps run at the rows' times (``_advance_rows``), the same alerts as one by one."""
        if type(liqs) is LiquidationBatch and self._in_history() and in_time_order(liqs):
            return self._absorb(liqs)
        liqs = [liq for liq in liqs if type(liq.time) is int]  # as see: any other is no event
        if self._fused is not None:
            return self._see_fused(liqs, self._fused)
        # Each rule's detector takes the whole run (they read no group and no other rule), then the
        # triggers are offered in the order one by one offers them: per liquidation, rule by rule.
        offers: dict[int, list[tuple[Rule, _Trigger | _Deferred]]] = {}
        for rule, run in self._runs:
            for i, trig in run(liqs):
                offers.setdefault(i, []).append((rule, trig))
        out: list[Alert] = []
        live: bool | None = None
        since, groups = self.since_ms, self._groups
        for i, liq in enumerate(liqs):
            time_ms = liq.time
            if time_ms > self._now:
                self._advance(time_ms, out)
            for rule, trig in offers.get(i, ()):
                if time_ms < since:
                    continue
                if live is None:
                    live = not (self.history is not None and self.history())
                if not live:
                    continue
                if not isinstance(trig, tuple):
                    out.extend(self._offer(rule, trig))
                    continue
                # _offer_deferred, written out for a trigger that adds to its open alert (at stress
                # ~40 % of liquidations): the group takes the liquidation's fields (``_Group.take``)
                # and says its update when due (``update_due``); any other goes through it.
                group = groups.get((rule.name, liq.symbol, ""))
                if group is None or time_ms - group.last_trigger > rule.cooldown_ms:
                    out.extend(self._offer_deferred(rule, trig))
                    continue
                group.last_trigger = time_ms
                group.venues.add(liq.venue)
                if group.rule.kind in LIQUIDATION_KINDS and group.usd is not None:
                    group.usd += liq.usd
                    group.count = (group.count or 0) + 1
                    group.price = liq.price
                    group.pending = True
                if (
                    group.pending
                    and time_ms - group.last_emit >= UPDATE_EVERY_MS
                    and (group.usd or 0.0) >= group.emitted_usd * UPDATE_GROWTH
                ):
                    out.append(self._emit_update(group, time_ms))
        return out

    def _see_fused(self, liqs: list[Liquidation], fused: _Fused) -> list[Alert]:
        """``see_liquidations`` where one burst and one cascade rule share their windows: the pair's
        detection (``_CascadeRule.see_run_with``) and the offers in one pass over the run, the same
        alerts in the same order. Per liquidation: the groups' once-a-second sweep when its time is
        newer, then each rule's triggers in the rules' order (the other liquidation rules' taken from
        their runs first: no detector reads a group or another rule). The burst's trigger that adds
        to its open alert (at stress ~40 % of liquidations) is taken here, no trigger or offer built:
        the offers' list per liquidation was ~40 % of the rules' time."""
        pair = fused.pair
        burst, cascade = pair.burst, pair.cascade
        staged: tuple[dict[int, list[tuple[Rule, _Trigger | _Deferred]]], ...] = ({}, {}, {})
        for stage, rule, run in fused.others:
            offers = staged[stage]
            for i, trig in run(liqs):
                offers.setdefault(i, []).append((rule, trig))
        before, between, after = staged
        others = bool(before or between or after)
        burst_rule, cascade_rule, burst_first = burst.rule, cascade.rule, pair.burst_first
        states, window_ms, percentile = cascade.states, cascade_rule.window_ms, cascade_rule.percentile
        made, burst_min, cascade_min, long = burst._made, burst_rule.min_usd, cascade_rule.min_usd, Side.LONG
        name, cooldown, adds_usd = (
            burst_rule.name,
            burst_rule.cooldown_ms,
            burst_rule.kind in LIQUIDATION_KINDS,
        )
        since, groups = self.since_ms, self._groups
        out: list[Alert] = []
        live: bool | None = None  # asked once an offer is due (most liquidations offer nothing)
        for i, liq in enumerate(liqs):
            time_ms = liq.time
            if time_ms > self._now:
                self._advance(time_ms, out)
            state = states.get(liq.symbol) or cascade._state(liq.symbol)
            if state.window_index is None or time_ms // window_ms > state.window_index:
                state.close_windows(time_ms, window_ms, percentile)
            window, usd = state.window, liq.usd
            # window.add(liq.side, usd, time_ms, liq.venue), written out as in see_run_with
            second, venue = time_ms // 1000, liq.venue
            seen = window.seen
            if seen.get(venue) != second:
                seen[venue] = second
                window._venues = None
            if second > window._expired_at:
                window._expired_at = second
                window.expire(second)
            buckets = window.buckets
            if not buckets or buckets[-1][0] < second:
                buckets.append([float(second), 0.0, 0.0, 0.0, 0.0])
            slot = 0 if liq.side is long else 1
            bucket, totals = buckets[-1], window.totals
            bucket[1 + slot] += usd
            bucket[3 + slot] += 1
            totals[slot] += usd
            totals[2 + slot] += 1
            state.window_usd += usd
            total = totals[slot]
            bursts = not (total < burst_min or total <= 0)  # as _BurstRule.see_run
            both = totals[0] + totals[1]
            cascades = (
                cascade._check(liq, state)
                if not (state.threshold is None or both <= state.threshold or both < cascade_min)
                else None
            )
            if not (bursts or cascades or (others and (i in before or i in between or i in after))):
                continue
            if time_ms < since:
                continue  # as one by one: no offer of an event before since counts
            if live is None:
                live = not (self.history is not None and self.history())
            if not live:
                continue
            # The offers in the rules' order: the others before the pair, its first, the others
            # between, its second, the others after.
            if before and i in before:
                self._offer_each(before[i], out)
            if not burst_first:
                for trig in cascades or ():
                    out.extend(self._offer(cascade_rule, trig))
                if between and i in between:
                    self._offer_each(between[i], out)
            if bursts:  # taken by its open alert (_offer_deferred written out), else built and offered
                group = groups.get((name, liq.symbol, ""))
                if group is None or time_ms - group.last_trigger > cooldown:
                    venues = window._venues
                    if venues is None:
                        venues = window.venues()
                    out.extend(self._offer_deferred(burst_rule, (made, liq, total, totals[2 + slot], venues)))
                else:
                    group.last_trigger = time_ms
                    group.venues.add(venue)
                    if adds_usd and group.usd is not None:
                        group.usd += usd
                        group.count = (group.count or 0) + 1
                        group.price = liq.price
                        group.pending = True
                    if (
                        group.pending
                        and time_ms - group.last_emit >= UPDATE_EVERY_MS
                        and (group.usd or 0.0) >= group.emitted_usd * UPDATE_GROWTH
                    ):
                        out.append(self._emit_update(group, time_ms))
            if burst_first:
                if between and i in between:
                    self._offer_each(between[i], out)
                for trig in cascades or ():
                    out.extend(self._offer(cascade_rule, trig))
            if after and i in after:
                self._offer_each(after[i], out)
        return out

    def _offer_each(self, offers: list[tuple[Rule, _Trigger | _Deferred]], out: list[Alert]) -> None:
        """Another rule's triggers of one liquidation (``_see_fused``; since and history asked there)."""
        for rule, trig in offers:
            out.extend(
                self._offer_deferred(rule, trig) if isinstance(trig, tuple) else self._offer(rule, trig)
            )

    def _offer_deferred(self, rule: Rule, deferred: _Deferred) -> list[Alert]:
        """``_offer`` of the trigger ``deferred`` builds, with the same alerts: built only when it opens
        an alert; one that adds to an open alert gives it the liquidation's fields."""
        make, liq, total, count, venues = deferred
        group = self._groups.get((rule.name, liq.symbol, ""))
        time_ms = liq.time
        if group is None or time_ms - group.last_trigger > rule.cooldown_ms:
            return self._offer(rule, make(liq, total, count, venues))
        group.take(time_ms, liq.venue, liq.usd, 1, liq.price)
        return [self._emit_update(group, time_ms)] if group.update_due(time_ms) else []

    def _in_history(self) -> bool:
        return self.history is not None and self.history()

    def _absorb(self, batch: LiquidationBatch) -> list[Alert]:
        out: list[Alert] = []
        if len(batch):
            for absorb in self._absorbs:
                absorb(batch)
            self._advance_rows(batch.time, out)
        return out

    def _advance_rows(self, times: Ints, out: list[Alert]) -> None:
        """``_advance`` at each of ``times`` (in order) newer than the newest so far: a sweep at the
        first time a second after the last sweep, then from there (``_now - _swept_at`` stays under
        a second between calls, so a time that sweeps is always newer)."""
        import numpy as np

        if int(times[-1]) <= self._now:
            return
        while True:
            due = int(np.searchsorted(times, self._swept_at + 1_000, side="left"))
            if due >= len(times):
                self._now = int(times[-1])
                return
            self._advance(int(times[due]), out)

    def _advance(self, time_ms: int, out: list[Alert]) -> None:
        """The newest event time moved on to ``time_ms``: once a second, the groups' updates and ends."""
        self._now = time_ms
        if time_ms - self._swept_at >= 1_000:
            self._swept_at = time_ms
            out.extend(self._sweep_groups())

    def flush(self) -> list[Alert]:
        """The running totals not yet emitted, as updates (the end of a replay or a run)."""
        out = [g.alert(g.last_trigger, update=True) for g in self._groups.values() if g.pending]
        self._groups.clear()
        return out

    def _offer(self, rule: Rule, trig: _Trigger) -> list[Alert]:
        key = (rule.name, trig.symbol, trig.account)
        group = self._groups.get(key)
        out: list[Alert] = []
        if group is not None and trig.time - group.last_trigger > rule.cooldown_ms:
            out.extend(self._close(key, group))
            group = None
        if group is None:
            usd = trig.open_usd if trig.open_usd is not None else trig.usd
            count = trig.open_count if trig.open_count is not None else trig.count
            venues: set[str | None] = set(trig.open_venues or {trig.venue})
            group = _Group(
                rule, trig, usd, count, venues, trig.time, trig.time, price=trig.price, emitted_usd=usd or 0.0
            )
            self._groups[key] = group
            return [*out, group.alert(trig.time, update=False)]
        group.add(trig)
        if group.update_due(trig.time):
            out.append(self._emit_update(group, trig.time))
        return out

    def _emit_update(self, group: _Group, at: int) -> Alert:
        group.pending, group.last_emit, group.emitted_usd = False, at, group.usd or 0.0
        return group.alert(at, update=True)

    def _close(self, key: tuple[str, str, str], group: _Group) -> list[Alert]:
        del self._groups[key]
        return [group.alert(group.last_trigger, update=True)] if group.pending else []

    def _sweep_groups(self) -> list[Alert]:
        """Once a second: updates due, and groups whose cooldown ran out closed (their last totals)."""
        out: list[Alert] = []
        for key, group in list(self._groups.items()):
            if self._now - group.last_trigger > group.rule.cooldown_ms:
                out.extend(self._close(key, group))
            elif group.update_due(self._now):
                out.append(self._emit_update(group, self._now))
        return out


def _span(ms: int) -> str:
    """60000 -> "60s", 300000 -> "5m", 3600000 -> "1h"."""
    seconds = ms // 1000
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0 and seconds >= 300:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _text(group: _Group, update: bool) -> str:
    """The words a trader reads; see docs/alerts.md for every kind."""
    rule, first = group.rule, group.first
    name = coin(first.symbol)
    kind = rule.kind
    side = first.side.value if first.side else ""
    if kind == "liquidation":
        if not update:
            return f"{name} {side} liquidated {compact_usd(first.usd or 0)} at {price_text(first.price or 0)} on {first.venue}"
        return (
            f"{name} {group.count} {side} liquidations of ≥ {compact_usd(rule.min_usd)}: "
            f"{compact_usd(group.usd or 0)} (last at {price_text(group.price or 0)})"
        )
    so_far = " so far" if update else ""
    if kind == "burst":
        within = "" if update else f" in {first.detail}"
        return f"{name} burst: {compact_usd(group.usd or 0)} of {side}s liquidated{within}{so_far} ({group.count:,} liquidations)"
    if kind == "cascade":
        return f"{name} cascade: {first.detail}; {compact_usd(group.usd or 0)} liquidated{so_far} ({group.count:,} liquidations)"
    return f"{name} {first.detail}"
