"""The demo market: a deterministic, synchronous simulation of four venues that emits the desk's events.

What is simulated, and why it looks like a real market:
- one common mid per symbol (a market factor plus the symbol's own noise), with GARCH-like variance
  that clusters, a slow volatility regime, and jumps released over a few seconds; each venue trades at
  the mid plus its own small mean-reverting basis;
- leveraged positions open all the time at the venue's price (side, leverage from the configured mix,
  heavy-tailed notional) and are filed by liquidation price (``positions.py``); they also close by
  themselves after a while. Open interest is a slow-moving unleveraged part plus those positions, so OI
  rises while positions open and drops when they are closed or liquidated;
- a small share of new positions is already "stretched" (liquidation a few bps away): the steady
  drizzle of small liquidations a real tape shows between cascades;
- when a venue's price crosses positions' liquidation prices they are liquidated, as orders of
  heavy-tailed size queued on the venue's liquidation engine (a burst comes out over the next
  seconds; an engine more than ``ENGINE_BACKLOG_MS`` behind takes each newly crossed row as one
  bigger order, so a cascade that never ends keeps a bounded queue); the forced orders push the mid
  further as they execute (more so when books are thin), mostly transiently (wicks), so price running
  into a cluster becomes a cascade;
- the tapes behave like the real streams: Binance and OKX push at most the latest liquidation per
  symbol per second (``sampled``), Bybit pushes every one, Bybit and OKX report the bankruptcy
  price, Binance the average fill; Hyperliquid shows a part (its backstop vault's fills: sampled,
  source backstop; all of its liquidations move its price and OI);
- order books (top 50 per side, 20 on Hyperliquid) thin out during fast moves and refill;
- tickers about once a second, OI every ``oi_poll_seconds`` with the price bar since the last sample,
  and a backfill (default 25 h: one more hour than the day the desk's 24 h changes look back) of
  5-minute bars and OI history so estimated clusters and every change window show at once:
  the day before looks like the seed article's (a ~9 % sell-off into BTC 82,800, OI up ~25 %).

The three rates (``instruments.RATES``): calm, a few liquidations a minute per venue; busy,
tens a second in total with occasional cascades; stress, >= 2,000 a second (``bench/bench_demo.py``
prints the figures).

Time is simulated: nothing here reads the wall clock, and all randomness comes from one
``random.Random(seed)``, so one seed always gives the same events.
"""

from __future__ import annotations

import bisect
import math
import random
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import reduce
from itertools import accumulate, repeat
from operator import add, attrgetter, mul, sub, truediv

from liqtui.config import Settings
from liqtui.domain.events import (
    BookSnapshot,
    Event,
    FeedState,
    FeedStatus,
    Liquidation,
    LiquidationSource,
    OpenInterest,
    PriceBar,
    Side,
    Ticker,
)
from liqtui.domain.venues import PARTIAL_LIQUIDATION_VENUES, PUBLIC_POSITION_VENUES, VENUES, MarginSource
from liqtui.feeds.demo.accounts import DemoAccounts
from liqtui.feeds.demo.instruments import (
    BANKRUPTCY_PRICE_VENUES,
    BASIS_SD,
    BOOK_LEVELS,
    DEMO_VENUES,
    DEPTH_SHARE,
    FUNDING_HOURS,
    NO_LIQUIDATION_FEED,
    OI_SHARE,
    RATES,
    SAMPLED_VENUES,
    VENUE_OFFSET_MS,
    VOLUME_SHARE,
    Instrument,
    Rate,
    instrument,
    unified,
)
from liqtui.feeds.demo.positions import PositionBook, SweptRow, liquidation_price

DEFAULT_START_MS = 1_769_860_800_000  # 2026-01-31T12:00:00Z
SECONDS_PER_YEAR = 365 * 86_400
FACTOR_CORRELATION = 0.7  # of each symbol's noise with the market-wide factor
GARCH_ALPHA, GARCH_BETA = 0.04, 0.95  # per second
REGIME_HALF_LIFE_S = 1800.0
ANCHOR_PULL_S = 6 * 3600.0  # weak pull of the mid toward its start, so long sessions stay plausible
BASIS_HALF_LIFE_S = 20.0
LIQUIDITY_REFILL_S = 15.0
MIN_LIQUIDITY = 0.3
IMPACT_HALF_LIFE_S = 45.0
PERMANENT_IMPACT = 0.3
BACKFILL_BAR_MS = 300_000
WARM_UP_MS = 3_000
# The desk's longest change window is 24 h (OI, price): a day of history alone leaves it empty ("—").
DEFAULT_BACKFILL_HOURS = 25.0
ORDER_SIZE_SIGMA = 1.3  # log-normal spread of liquidation order sizes
OPEN_SIZE_SIGMA = 1.5  # log-normal spread of the notional of positions that open
ORDER_MEAN_TO_MEDIAN = math.exp(ORDER_SIZE_SIGMA**2 / 2)
# A crossed row of more typical orders than this is a bulk row: its sizes come from a table drawn
# once (see DemoMarket._order_sizes). At stress (rows of ~430 orders, 30,000 orders a second)
# drawing every size one by one was most of the simulation's cost; the rows of calm and busy (at
# most 20 and 60 orders) are never bulk and draw every size.
BULK_ORDERS = 100
TAIL_ORDERS = 20
SIZE_TABLE = 4096  # > max_orders_per_row of every rate
_TIME = attrgetter("time")  # what a tick's events are sorted by
# A venue's liquidation engine more than this far behind takes each newly crossed row as ONE order:
# in a cascade that never ends (stress) the queue would otherwise grow without bound (600,000 orders,
# ~150 MB and a tape 2 minutes late after 6 simulated minutes); now it stays about this long
# (busy never comes near it: its worst backlog over 10 minutes is 0.5 s).
ENGINE_BACKLOG_MS = 2_000
# The day before the start looks like the seed article's: a sell-off of ~9 % (beta-weighted) into
# the start price, longs swept below, shorts opened on the way down waiting above.
BACKFILL_DAY_MOVE = -0.09
OI_BUILD_UP = 0.25  # share of today's unleveraged OI that opened during a full day of backfill
FOCUS_BOOK_MS = 250
OTHER_BOOK_MS = 5_000
TICKER_MS = 1_000


@dataclass(frozen=True, slots=True)
class ForcedOrder:
    """One liquidation order the demo executed (shown on a tape or not), with the row price crossed."""

    venue: str
    symbol: str
    side: Side
    price: float  # as the venue's tape reports it (average fill, or bankruptcy price on Bybit/OKX)
    usd: float
    time: int
    level_low: float  # every liquidated position had its liquidation price in [level_low, level_high)
    level_high: float
    trigger_price: float  # the venue's price that crossed the row


class _Symbol:
    """The common mid of one symbol and its volatility state."""

    def __init__(self, inst: Instrument, rate: Rate) -> None:
        self.inst = inst
        self.x = math.log(inst.price)  # log of the fundamental price
        self.y = 0.0  # transient price impact of forced orders (log), decays: liquidation wicks
        self.anchor = self.x
        self.h0 = (inst.vol_annual * rate.vol_mult) ** 2 / SECONDS_PER_YEAR  # base variance per second
        self.h = self.h0
        self.regime = 0.0  # log multiplier of volatility, slow
        self.liquidity = 1.0  # 1 = normal book depth, lower while price moves fast
        self.jumps: list[list[float]] = []  # [log move per tick, ticks left]
        self.second_return = 0.0
        self.forced_net_usd = 0.0  # long minus short liquidated USD of the last tick
        self.long_share = 0.5
        # Bigger markets liquidate bigger orders (BTC tapes show larger prints than small caps).
        self.order_median_usd = rate.order_median_usd * min(3.0, max(0.5, math.sqrt(inst.oi_usd / 3e9)))

    @property
    def sigma(self) -> float:
        """Current volatility per second."""
        return math.sqrt(self.h) * math.exp(self.regime)


class _Crossed:
    """The forced orders of one crossed row on the venue's liquidation engine: their USD sizes at
    the trigger price, the time each is executed (one per engine slot; the last time is when the
    engine is free again), and how many are ``done``. The sizes and times are arrays of doubles, not
    lists: at stress ~60,000 of them wait in the queues, and a list's floats are references that
    every pass of the garbage collector's youngest generation walks (an array holds none)."""

    __slots__ = ("row", "sizes", "whens", "done", "trigger", "depth")

    def __init__(
        self, row: SweptRow, sizes: array[float], whens: array[float], trigger: float, depth: float
    ) -> None:
        self.row, self.sizes, self.whens, self.done = row, sizes, whens, 0
        self.trigger, self.depth = trigger, depth  # the venue's price that crossed the row, its book depth


class _Pair:
    """One venue x symbol: its price, positions, background OI and what is due to be published."""

    def __init__(self, venue: str, sym: _Symbol, index: int) -> None:
        self.venue = venue
        self.sym = sym
        self.symbol = sym.inst.symbol
        self.book = PositionBook()
        self.basis = 0.0
        self.price = sym.inst.price
        self.background_oi = 0.0
        self.background_target = 0.0
        self.open_usd_per_s = 0.0
        self.tiers: list[float] = []
        self.tier_cdf: list[float] = []
        self.maintenance = 0.004
        self.next_open_ms = 0.0
        self.funding = 0.0
        self.minute_closes: deque[float] = deque(maxlen=1441)
        self.minute_volumes: deque[float] = deque(maxlen=1440)
        self.volume_24h = 0.0
        self.minute_volume = 0.0
        self.bar: list[float] = [self.price, self.price, self.price, self.price, 0.0]  # o h l c vol
        self.bar_start = 0
        self.offset = VENUE_OFFSET_MS[venue] + 37 * index
        self.next_ticker = self.next_oi = self.next_book = 0
        # The crossed rows whose orders wait for the venue's liquidation engine, in time order.
        self.queue: deque[_Crossed] = deque()
        self.engine_free_at = 0.0

    def oi_base(self) -> float:
        return self.background_oi + self.book.open_qty


def _add_minute_volume(pair: _Pair, volume: float) -> None:
    """One more minute in the rolling 24 h volume (the minute a day ago leaves it)."""
    if len(pair.minute_volumes) == pair.minute_volumes.maxlen:
        pair.volume_24h -= pair.minute_volumes[0]
    pair.minute_volumes.append(volume)
    pair.volume_24h += volume


class DemoMarket:
    """A simulated market; ``step``/``advance_to`` return the events of the simulated time they cover."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        seed: int = 0,
        rate: str = "busy",
        start_ms: int = DEFAULT_START_MS,
        backfill_hours: float = DEFAULT_BACKFILL_HOURS,
        tick_ms: int = 100,
        focus: str | None = None,
        log_size: int = 20_000,
        progress: Callable[[float], None] | None = None,
    ) -> None:
        if rate not in RATES:
            raise ValueError(f"unknown demo rate {rate!r} (expected one of: {', '.join(RATES)})")
        self.settings = settings or Settings()
        self.seed = seed
        self.rate = RATES[rate]
        self.tick_ms = int(tick_ms)
        self.rng = random.Random(seed)
        # Log-normal order sizes (median 1) for bulk rows, twice over so any start has room; from a
        # generator of their own, so the main one draws the same numbers as before they existed.
        sizes = random.Random(f"{seed}-orders")
        self._size_table = [math.exp(sizes.gauss(0, ORDER_SIZE_SIGMA)) for _ in range(SIZE_TABLE)] * 2
        self._now = int(start_ms)
        self.start_ms = int(start_ms)
        self.venues = [v for v in DEMO_VENUES if v in self.settings.enabled_venues] or list(DEMO_VENUES)
        self._symbols = demo_symbols(self.settings)
        self._syms = {s: _Symbol(instrument(s), self.rate) for s in self._symbols}
        self._pairs = [_Pair(v, self._syms[s], i) for i, s in enumerate(self._symbols) for v in self.venues]
        self._pair_by_key = {(p.venue, p.symbol): p for p in self._pairs}
        self.focus = unified(focus) if focus else self._symbols[0]
        # Busier markets: venues drift further apart from the mid, and faster.
        self._basis_mult = math.sqrt(self.rate.vol_mult)
        self.oi_ms = max(1000, int(self.settings.oi_poll_seconds * 1000))
        # The latest forced orders (for checks and tests); forced_orders counts every one.
        self.forced_log: deque[ForcedOrder] = deque(maxlen=log_size)
        self.forced_orders = 0
        self._sampled: dict[tuple[str, str], tuple] = {}
        self._next_jump = self._draw_jump_gap(self._now)
        for pair in self._pairs:
            self._configure_pair(pair)
        self._progress = progress
        # Tracked accounts where positions are public (Hyperliquid): MEASURED positions sampled from
        # the book, drawn at the start (after the warm-up) and published from then on.
        self._public = [p for p in self._pairs if p.venue in PUBLIC_POSITION_VENUES]
        self.accounts = DemoAccounts(seed, self._public, self.rate.lifetime_s)
        self._history: list[Event] = self._backfill(backfill_hours)
        self._warm_up()
        self._history += self.accounts.open(self.start_ms)

    # ----- public -----------------------------------------------------------------------------

    @property
    def now_ms(self) -> int:
        return self._now

    def symbols(self) -> list[str]:
        return list(self._symbols)

    def public_pairs(self) -> list[_Pair]:
        """The venue x symbol pairs whose positions are public (Hyperliquid): the demo's truth for
        ``liqtui fidelity --demo`` (``pair.book``, ``pair.price``)."""
        return list(self._public)

    def set_focus(self, symbol: str) -> None:
        """Books of ``symbol`` come a few times a second from now on; a symbol the demo does not
        list gets no books at all (like a live venue that does not list it)."""
        symbol = unified(symbol)
        self.focus = symbol
        for pair in self._pairs:
            if pair.symbol == symbol:
                pair.next_book = min(pair.next_book, self._now + VENUE_OFFSET_MS[pair.venue] // 4)

    def start_events(self) -> list[Event]:
        """Feed states, then the backfill (5-minute bars and OI history up to the start time)."""
        statuses: list[Event] = [
            FeedStatus(venue, FeedState.LIVE, self.start_ms, "simulated", "all", self.start_ms)
            for venue in self.venues
        ]
        statuses += [
            FeedStatus(venue, FeedState.DOWN, self.start_ms, "no public liquidation feed", "liquidations")
            for venue in self.venues
            if venue in NO_LIQUIDATION_FEED
        ]
        return statuses + self._history

    def step(self, dt_ms: int) -> list[Event]:
        """Advance the simulated clock by ``dt_ms`` and return what the venues published meanwhile."""
        return self.advance_to(self._now + int(dt_ms))

    def advance_to(self, t_ms: int) -> list[Event]:
        out: list[Event] = []
        while self._now < t_ms:
            t = min(t_ms, self._now + self.tick_ms)
            self._tick(t, out)
        return out

    # ----- set-up -------------------------------------------------------------------------------

    def _pair(self, venue: str, symbol: str) -> _Pair:
        try:
            return self._pair_by_key[(venue, unified(symbol))]
        except KeyError:
            raise ValueError(f"the demo market has no {symbol} on {venue}") from None

    def _configure_pair(self, pair: _Pair) -> None:
        inst, rate, venue = pair.sym.inst, self.rate, pair.venue
        oi_usd = inst.oi_usd * OI_SHARE[venue]
        pair.background_target = oi_usd * (1 - rate.leveraged_share) / inst.price
        pair.background_oi = pair.background_target
        pair.open_usd_per_s = oi_usd * rate.leveraged_share / rate.lifetime_s
        max_lev = inst.max_leverage[venue]
        pair.tiers, pair.tier_cdf = _tiers(self.settings.levels.leverage_weights, max_lev)
        # Hyperliquid: maintenance is half the initial margin at max leverage (docs/exchanges.md, maintenance margin).
        mm = self.settings.levels.maintenance_margin
        half_initial = VENUES[venue].margin_source is MarginSource.HALF_MAX_LEVERAGE
        pair.maintenance = 1 / (2 * max_lev) if half_initial else mm
        pair.funding = 0.0001 * FUNDING_HOURS[venue] / 8

    # ----- backfill -----------------------------------------------------------------------------

    def _backfill(self, hours: float) -> list[Event]:
        """Price and OI history before the start; positions open and get liquidated along the way."""
        minutes = int(hours * 60)
        first_ms = self.start_ms - minutes * 60_000
        for pair in self._pairs:
            self._seed_positions(pair)
            pair.background_oi = pair.background_target * (1 - OI_BUILD_UP)
        paths = {s: self._backfill_path(sym, minutes) for s, sym in self._syms.items()}
        events: list[Event] = []
        bars: dict[tuple[str, str], list[float]] = {}
        for i in range(minutes):
            if self._progress is not None and i % 60 == 0:
                self._progress(i / minutes)
            t_open = first_ms + i * 60_000
            # Leverage has been building up: OI climbs through the backfill (the article's "OI up
            # 31 % from the low"), which is what gives the estimated-level model clusters to show.
            build = OI_BUILD_UP * (minutes - i) / minutes
            for pair in self._pairs:
                o, h, low, c = paths[pair.symbol][i]
                self._backfill_minute(pair, o, h, low, c, t_open, bars, events, build)
        for pair in self._pairs:
            pair.price = math.exp(pair.sym.x + pair.basis)
            self._seed_recent_stretched(pair)
            pair.bar = [pair.price, pair.price, pair.price, pair.price, 0.0]
            pair.bar_start = self.start_ms
            pair.next_ticker = self.start_ms + pair.offset
            pair.next_oi = self.start_ms + 3 * pair.offset
            pair.next_book = self.start_ms + pair.offset // 4
        return events

    def _warm_up(self) -> None:
        """Run the last seconds before the start silently: the live dynamics (fresh positions near
        the price, forced-order impact) are then under way at the start instead of ramping up."""
        self._now = self.start_ms - WARM_UP_MS
        scratch: list[Event] = []
        while self._now < self.start_ms:
            self._tick(min(self.start_ms, self._now + self.tick_ms), scratch)
        self._sampled.clear()
        self.forced_log.clear()
        self.forced_orders = 0
        for pair in self._pairs:
            pair.bar = [pair.price, pair.price, pair.price, pair.price, 0.0]
            pair.minute_volume = 0.0

    def _seed_positions(self, pair: _Pair) -> None:
        """The leveraged positions already open when the backfill starts, spread around the price."""
        stock_usd = pair.open_usd_per_s * self.rate.lifetime_s
        for _ in range(60):
            entry = pair.sym.inst.price * math.exp(self.rng.gauss(0, 0.02))
            side = Side.LONG if self.rng.random() < 0.5 else Side.SHORT
            self._add_position(pair, side, entry, stock_usd / 60)

    def _seed_recent_stretched(self, pair: _Pair) -> None:
        """The stretched positions open at the start, as many as the live flow keeps open.

        One a few bps from liquidation survives about (distance / volatility per second)^2 seconds,
        so that many seconds of the stretched flow at that distance are still open at any instant.
        """
        near, far = self.rate.stretched_range
        sigma = math.sqrt(pair.sym.h0)
        flow = pair.open_usd_per_s * self.rate.stretched_share
        for i in range(40):
            distance = math.exp(self.rng.uniform(math.log(near), math.log(far)))
            seconds = min(self.rate.lifetime_s, (distance / sigma) ** 2)
            side = Side.LONG if i % 2 else Side.SHORT
            away = distance * self.rng.uniform(0.3, 1.0)
            liq = pair.price * (1 - away if side is Side.LONG else 1 + away)
            pair.book.add(side, liq, flow * seconds / 40 / pair.price)

    def _backfill_path(self, sym: _Symbol, minutes: int) -> list[tuple[float, float, float, float]]:
        """Minute OHLC of the mid, ending at the instrument's start price (built backwards from it).

        The day before is an ordinary busy day even at ``stress``: the stress starts now.
        """
        day = RATES["busy"] if self.rate.vol_mult > RATES["busy"].vol_mult else self.rate
        h_day = (sym.inst.vol_annual * day.vol_mult) ** 2 / SECONDS_PER_YEAR * 60  # per minute
        returns, h = [], h_day
        drift = BACKFILL_DAY_MOVE * sym.inst.beta / 1440  # per minute
        jump_p = day.jumps_per_hour / 60
        for _ in range(minutes):
            r = math.sqrt(h) * self.rng.gauss(0, 1)
            if self.rng.random() < jump_p:
                r += sym.inst.beta * self.rng.gauss(0, day.jump_sd)
            h = min(h_day * 0.1 + 0.1 * r * r + 0.8 * h, 50 * h_day)
            returns.append(r + drift)
        close = sym.x
        closes = [0.0] * minutes
        for i in range(minutes - 1, -1, -1):
            closes[i] = close
            close -= returns[i]
        path, prev = [], close
        wick = math.sqrt(h_day) * 0.5
        for c in closes:
            hi = max(prev, c) + abs(self.rng.gauss(0, wick))
            lo = min(prev, c) - abs(self.rng.gauss(0, wick))
            path.append((math.exp(prev), math.exp(hi), math.exp(lo), math.exp(c)))
            prev = c
        return path

    def _backfill_minute(self, pair, o, h, low, c, t_open, bars, events, build) -> None:
        # The basis forgets itself within a minute (half-life 20 s): one fresh draw per minute.
        pair.basis = BASIS_SD[pair.venue] * self.rng.gauss(0, 1)
        k = math.exp(pair.basis)
        o, h, low, c = o * k, h * k, low * k, c * k
        pair.book.sweep_longs(low)  # liquidations before the start reach nobody's tape
        pair.book.sweep_shorts(h)
        activity = 1.0 + abs(math.log(c / o)) / math.sqrt(pair.sym.h0 * 60)
        self._open_cohorts(pair, (o + h + low + c) / 4, pair.open_usd_per_s * 60 * min(activity, 3.0) / 1.8)
        pair.book.decay(math.exp(-60 / self.rate.lifetime_s))
        self._drift_background(pair, 60.0, build)
        volume = pair.sym.inst.volume_usd * VOLUME_SHARE[pair.venue] / 1440 * min(activity, 3.0) / 1.8
        pair.minute_closes.append(c)
        _add_minute_volume(pair, volume)
        key = (pair.venue, pair.symbol)
        bar = bars.get(key)
        if bar is None or (t_open % BACKFILL_BAR_MS) == 0:
            bar = bars[key] = [o, h, low, c, 0.0, t_open - t_open % BACKFILL_BAR_MS]
        bar[1], bar[2], bar[3], bar[4] = max(bar[1], h), min(bar[2], low), c, bar[4] + volume
        t_close = t_open + 60_000
        if t_close % BACKFILL_BAR_MS == 0:
            events.append(
                PriceBar(pair.venue, pair.symbol, int(bar[5]), bar[0], bar[1], bar[2], bar[3], bar[4])
            )
            base = pair.oi_base()
            events.append(OpenInterest(pair.venue, pair.symbol, base, base * c, t_close))

    def _open_cohorts(self, pair: _Pair, price: float, usd: float) -> None:
        """Backfill: one minute's new positions at its typical price, split by side and leverage tier.

        Stretched positions are left out: they live seconds, so the next minute would sweep them
        anyway; the few open at the start are seeded by ``_seed_recent_stretched``.
        """
        long_share = min(0.8, max(0.2, self.settings.levels.long_share + self.rng.gauss(0, 0.08)))
        usd *= 1 - self.rate.stretched_share
        prev = 0.0
        for tier, cum in zip(pair.tiers, pair.tier_cdf, strict=True):
            weight, prev = cum - prev, cum
            for side, share in ((Side.LONG, long_share), (Side.SHORT, 1 - long_share)):
                liq = liquidation_price(price, side, tier, pair.maintenance)
                pair.book.add(side, liq, usd * weight * share / price)

    # ----- the live tick ------------------------------------------------------------------------

    def _tick(self, t: int, out: list[Event]) -> None:
        t_prev, dt_ms = self._now, t - self._now
        dt = dt_ms / 1000.0
        self._schedule_jumps(t)
        market_z = self.rng.gauss(0, 1)
        for sym in self._syms.values():
            self._move_mid(sym, market_z, dt)
        first = len(out)
        for pair in self._pairs:
            self._tick_pair(pair, t_prev, t, dt, out)
        self.accounts.tick(t, out)
        self._now = t
        if t // 1000 != t_prev // 1000:
            self._end_second(t, out)
        if t // 60_000 != t_prev // 60_000:
            self._end_minute()
        if len(out) - first > 1:
            out[first:] = sorted(out[first:], key=_TIME)

    def _schedule_jumps(self, t: int) -> None:
        while self._next_jump <= t:
            size = self.rng.gauss(0, self.rate.jump_sd)
            ticks = self.rng.randint(10, 40)
            syms = list(self._syms.values())
            # Most jumps hit the whole market (beta-weighted); the rest hit one symbol.
            hit = syms if self.rng.random() < 0.6 else [self.rng.choice(syms)]
            for sym in hit:
                move = size * sym.inst.beta * (1 + 0.2 * self.rng.gauss(0, 1))
                sym.jumps.append([move / ticks, ticks])
            self._next_jump = self._draw_jump_gap(self._next_jump)

    def _draw_jump_gap(self, t: float) -> float:
        return t + self.rng.expovariate(self.rate.jumps_per_hour / 3_600_000)

    def _move_mid(self, sym: _Symbol, market_z: float, dt: float) -> None:
        z = FACTOR_CORRELATION * market_z + math.sqrt(1 - FACTOR_CORRELATION**2) * self.rng.gauss(0, 1)
        ret = sym.sigma * math.sqrt(dt) * z
        ret -= (sym.x - sym.anchor) * dt / ANCHOR_PULL_S
        if sym.jumps:
            ret += self._release_jumps(sym)
        # Forced orders of the last tick: long liquidations sell into the book, shorts buy. Most of
        # the impact is transient (books refill), so a cascade leaves a wick rather than a new level.
        depth = sym.inst.depth_1pct_usd * (0.5 + 0.5 * sym.liquidity)
        impact = -sym.forced_net_usd / depth * 0.01 * self.rate.impact
        sym.forced_net_usd = 0.0
        decay = sym.y * dt / IMPACT_HALF_LIFE_S * math.log(2)
        sym.x += ret + PERMANENT_IMPACT * impact
        sym.y += (1 - PERMANENT_IMPACT) * impact - decay
        ret += impact - decay
        sym.second_return += ret
        # Books thin on moves the current volatility does not explain, and refill afterwards.
        shock = abs(ret) / (sym.sigma * math.sqrt(dt) + 1e-12)
        if shock > 3:
            sym.liquidity *= math.exp(-0.03 * (shock - 3))
        sym.liquidity = max(
            MIN_LIQUIDITY, min(1.0, sym.liquidity + (1 - sym.liquidity) * dt / LIQUIDITY_REFILL_S)
        )

    @staticmethod
    def _release_jumps(sym: _Symbol) -> float:
        move = 0.0
        for jump in sym.jumps:
            move += jump[0]
            jump[1] -= 1
        sym.jumps = [j for j in sym.jumps if j[1] > 0]
        return move

    def _tick_pair(self, pair: _Pair, t_prev: int, t: int, dt: float, out: list[Event]) -> None:
        sym = pair.sym
        sd = BASIS_SD[pair.venue] * self._basis_mult
        pair.basis += -pair.basis * dt / BASIS_HALF_LIFE_S + sd * math.sqrt(
            2 * dt / BASIS_HALF_LIFE_S
        ) * self.rng.gauss(0, 1)
        price = pair.price = math.exp(sym.x + sym.y + pair.basis)
        bar = pair.bar
        if price > bar[1]:
            bar[1] = price
        elif price < bar[2]:
            bar[2] = price
        bar[3] = price
        swept = pair.book.sweep(price)
        if swept:
            self._liquidate(pair, swept, t_prev, t)
        if pair.queue:
            self._execute_due(pair, t, out)
        activity = min(1.5, sym.sigma / math.sqrt(sym.h0))
        self._open_positions(pair, t, activity)
        pair.book.decay(math.exp(-dt / self.rate.lifetime_s))
        volume = pair.sym.inst.volume_usd * VOLUME_SHARE[pair.venue] / 86_400 * dt * activity
        pair.minute_volume += volume
        bar[4] += volume
        self._publish_due(pair, t, out)

    def _open_positions(self, pair: _Pair, t: int, activity: float) -> None:
        rate = self.rate
        mean_size = rate.open_median_usd * math.exp(OPEN_SIZE_SIGMA**2 / 2)
        per_ms = pair.open_usd_per_s * activity / mean_size / 1000
        if pair.next_open_ms == 0.0:
            pair.next_open_ms = t + self.rng.expovariate(per_ms)
        while pair.next_open_ms <= t:
            side = Side.LONG if self.rng.random() < pair.sym.long_share else Side.SHORT
            usd = min(rate.open_median_usd * math.exp(self.rng.gauss(0, OPEN_SIZE_SIGMA)), 50e6)
            if self.rng.random() < rate.stretched_share:
                self._add_stretched(pair, side, usd)
            else:
                self._add_position(pair, side, pair.price, usd)
            pair.next_open_ms += self.rng.expovariate(per_ms)

    def _add_stretched(self, pair: _Pair, side: Side, usd: float) -> None:
        near, far = self.rate.stretched_range
        distance = math.exp(self.rng.uniform(math.log(near), math.log(far)))
        liq = pair.price * (1 - distance if side is Side.LONG else 1 + distance)
        pair.book.add(side, liq, usd / pair.price)

    def _add_position(self, pair: _Pair, side: Side, entry: float, usd: float) -> None:
        tier = pair.tiers[min(bisect.bisect_left(pair.tier_cdf, self.rng.random()), len(pair.tiers) - 1)]
        # Traders do not all use round leverage: a quarter pick something near a tier.
        leverage = tier if self.rng.random() < 0.75 else max(1.5, tier * self.rng.uniform(0.8, 1.2))
        leverage = min(leverage, pair.sym.inst.max_leverage[pair.venue])
        liq = liquidation_price(entry, side, leverage, pair.maintenance)
        pair.book.add(side, liq, usd / entry)

    # ----- liquidations -------------------------------------------------------------------------

    def _liquidate(self, pair: _Pair, swept: list[SweptRow], t_prev: int, t: int) -> None:
        """Queue the orders of the crossed rows on the venue's liquidation engine."""
        sym = pair.sym
        depth = sym.inst.depth_1pct_usd * DEPTH_SHARE[pair.venue] * sym.liquidity
        span = max(1, t - t_prev)
        trigger = pair.price
        spacing = 1000.0 / self.rate.engine_orders_per_s
        for i, row in enumerate(swept):
            crossed = t_prev + (i * span) // len(swept)  # rows further away are crossed later
            row_usd = row.qty * trigger
            behind = pair.engine_free_at - crossed > ENGINE_BACKLOG_MS
            sizes = array("d", [row_usd] if behind else self._order_sizes(row_usd, sym.order_median_usd))
            # One order every `spacing` ms from when the engine is free; the last time is when it is free again.
            whens = array(
                "d", accumulate(repeat(spacing, len(sizes)), initial=max(float(crossed), pair.engine_free_at))
            )
            pair.engine_free_at = whens[-1]
            pair.queue.append(_Crossed(row, sizes, whens, trigger, depth))

    def _execute_due(self, pair: _Pair, t: int, out: list[Event]) -> None:
        """Execute the queued forced orders due before ``t``: tape, log, volume and price impact."""
        queue = pair.queue
        net = 0.0
        while queue and queue[0].whens[queue[0].done] < t:
            crossed = queue[0]
            net = self._execute(pair, crossed, t, out, net)
            if crossed.done < len(crossed.sizes):
                break
            queue.popleft()
        pair.sym.forced_net_usd += net

    def _execute(self, pair: _Pair, crossed: _Crossed, t: int, out: list[Event], net: float) -> float:
        """Execute the orders of one crossed row due before ``t``; returns ``net`` plus their long
        minus short USD. Only what a tape shows becomes an object: at stress most orders are on a
        sampled tape or on none and count only in the sums (volume, price impact), added in C."""
        first = crossed.done
        done = crossed.done = bisect.bisect_left(crossed.whens, t, first, len(crossed.sizes))
        self.forced_orders += done - first
        if pair.venue in SAMPLED_VENUES:
            self._push_sampled(pair, crossed, first, done, t, out)
        elif pair.venue not in NO_LIQUIDATION_FEED:
            self._push_every(pair, crossed, first, done, t, out)
        if self.forced_log.maxlen != 0:
            self._log(pair, crossed, first, done)
        trigger = crossed.trigger
        # Each order booked as its qty at the trigger price, in USD.
        booked = list(map(mul, map(truediv, crossed.sizes[first:done], repeat(trigger)), repeat(trigger)))
        pair.minute_volume = reduce(add, booked, pair.minute_volume)
        pair.bar[4] = reduce(add, booked, pair.bar[4])
        return reduce(add if crossed.row.side is Side.LONG else sub, booked, net)

    def _push_sampled(
        self, pair: _Pair, crossed: _Crossed, first: int, done: int, t: int, out: list[Event]
    ) -> None:
        """Orders ``first`` to ``done`` on a stream that keeps only the latest of each second: only
        the last one before each next second can be pushed."""
        row, sizes, whens = crossed.row, crossed.sizes, crossed.whens
        i = first
        while i < done:
            i = bisect.bisect_left(whens, (int(whens[i]) // 1000 + 1) * 1000, i, done)
            price = self._tape_price(pair, row, crossed.trigger, sizes[i - 1] / crossed.depth)
            self._hold(pair, row.side, price, sizes[i - 1] / crossed.trigger, int(whens[i - 1]), t, out)

    def _push_every(
        self, pair: _Pair, crossed: _Crossed, first: int, done: int, t: int, out: list[Event]
    ) -> None:
        """Orders ``first`` to ``done`` on a stream that pushes every one."""
        venue, symbol, side, trigger = pair.venue, pair.symbol, crossed.row.side, crossed.trigger
        sizes = crossed.sizes[first:done]
        if venue in BANKRUPTCY_PRICE_VENUES:  # the row's price, whatever the order's size
            price = self._tape_price(pair, crossed.row, trigger, 0.0)
            qtys = list(map(truediv, sizes, repeat(trigger)))
            out += liquidations(
                len(qtys),
                venue=venue,
                symbol=symbol,
                side=side,
                price=price,
                qty=qtys,
                usd=list(map(mul, qtys, repeat(price))),
                time=list(map(int, crossed.whens[first:done])),
                recv_time=t,
                sampled=False,
                source=LiquidationSource.FEED,
            )
            return
        orders = zip(
            sizes, map(truediv, sizes, repeat(trigger)), map(int, crossed.whens[first:done]), strict=True
        )
        for usd, qty, when in orders:
            price = self._tape_price(pair, crossed.row, trigger, usd / crossed.depth)
            out.append(Liquidation(venue, symbol, side, price, qty, qty * price, when, t, False))

    def _log(self, pair: _Pair, crossed: _Crossed, first: int, done: int) -> None:
        row, trigger, sizes = crossed.row, crossed.trigger, crossed.sizes
        for i in range(first, done):
            price = self._tape_price(pair, row, trigger, sizes[i] / crossed.depth)
            qty = sizes[i] / trigger
            self.forced_log.append(
                ForcedOrder(
                    pair.venue,
                    pair.symbol,
                    row.side,
                    price,
                    qty * price,
                    int(crossed.whens[i]),
                    row.low,
                    row.high,
                    trigger,
                )
            )

    @staticmethod
    def _tape_price(pair: _Pair, row: SweptRow, trigger: float, size_vs_depth: float) -> float:
        """The price the venue's stream reports: Binance the average fill (a forced sell goes below
        the trigger, more so for big orders in thin books), Bybit and OKX the bankruptcy price."""
        long = row.side is Side.LONG
        if pair.venue in BANKRUPTCY_PRICE_VENUES:
            m = pair.maintenance
            raw = row.low * (1 - m) if long else row.high * (1 + m)
        else:
            slip = min(0.003, size_vs_depth * 0.005)
            raw = trigger * (1 - slip) if long else trigger * (1 + slip)
        tick = pair.sym.inst.tick
        ticks = math.floor(raw / tick) if long else math.ceil(raw / tick)
        return round(ticks * tick, 10)

    def _order_sizes(self, usd: float, median: float) -> list[float]:
        """Split a row's liquidated notional into orders of heavy-tailed size, at most the rate's
        ``max_orders_per_row``: a row too big for that many typical orders gets bigger ones.

        A bulk row (more than ``BULK_ORDERS`` typical orders) takes its first orders' sizes from the
        market's table of log-normal sizes, from a random place, scaled to their share of the row;
        its last ``TAIL_ORDERS`` typical orders' worth are drawn one by one like any row's."""
        cap = self.rate.max_orders_per_row
        median = max(median, usd / (cap * ORDER_MEAN_TO_MEDIAN))
        mean = median * ORDER_MEAN_TO_MEDIAN
        head = round(usd / mean) - TAIL_ORDERS
        if head <= BULK_ORDERS - TAIL_ORDERS:
            return self._draw_sizes(usd, median, cap)
        start = self.rng.randrange(len(self._size_table) // 2)
        drawn = self._size_table[start : start + head]
        scale = head * mean / sum(drawn)
        return list(map(mul, drawn, repeat(scale))) + self._draw_sizes(usd - head * mean, median, cap - head)

    def _draw_sizes(self, usd: float, median: float, cap: int) -> list[float]:
        """Log-normal orders around ``median`` until ``usd`` is used up (the last takes the rest)."""
        gauss, exp, remaining = self.rng.gauss, math.exp, usd
        sizes: list[float] = []
        while remaining > 0:
            size = median * exp(gauss(0, ORDER_SIZE_SIGMA))
            if len(sizes) + 1 >= cap or size >= remaining * 0.9 or remaining - size < 50:
                sizes.append(remaining)
                break
            remaining -= size
            sizes.append(size)
        return sizes

    def _hold(
        self, pair: _Pair, side: Side, price: float, qty: float, when: int, t: int, out: list[Event]
    ) -> None:
        """A sampled stream holds the latest order of the second; the one of a past second is pushed."""
        key = (pair.venue, pair.symbol)
        held = self._sampled.get(key)
        if held is not None and held[4] // 1000 != when // 1000:
            out.append(_liquidation(pair.venue, pair.symbol, held, t))
        self._sampled[key] = (side, price, qty, qty * price, when)

    def _end_second(self, t: int, out: list[Event]) -> None:
        second = t // 1000
        for key, held in list(self._sampled.items()):
            if held[4] // 1000 < second:
                out.append(_liquidation(key[0], key[1], held, t))
                del self._sampled[key]
        for sym in self._syms.values():
            # A jump or a cascade counts as at most a 4-sigma second: volatility clusters after it
            # without exploding (variance stays within 0.2x..10x of the rate's base).
            r2 = min(sym.second_return**2, 16 * sym.h)
            h = (1 - GARCH_ALPHA - GARCH_BETA) * sym.h0 + GARCH_ALPHA * r2 + GARCH_BETA * sym.h
            sym.h = min(10 * sym.h0, max(0.2 * sym.h0, h))
            sym.second_return = 0.0
            sym.regime += -sym.regime / REGIME_HALF_LIFE_S + 0.4 * math.sqrt(
                2 / REGIME_HALF_LIFE_S
            ) * self.rng.gauss(0, 1)
            share = self.settings.levels.long_share
            sym.long_share += (share - sym.long_share) / 300 + 0.005 * self.rng.gauss(0, 1)
            sym.long_share = min(0.8, max(0.2, sym.long_share))

    def _end_minute(self) -> None:
        for pair in self._pairs:
            _add_minute_volume(pair, pair.minute_volume)
            pair.minute_volume = 0.0
            pair.minute_closes.append(pair.price)

    # ----- periodic publications ----------------------------------------------------------------

    def _publish_due(self, pair: _Pair, t: int, out: list[Event]) -> None:
        if pair.next_ticker <= t:
            out.append(self._ticker(pair, pair.next_ticker))
            pair.next_ticker += TICKER_MS
        if pair.next_oi <= t:
            when = pair.next_oi
            self._drift_background(pair, self.oi_ms / 1000)
            o, h, low, c, vol = pair.bar
            out.append(PriceBar(pair.venue, pair.symbol, pair.bar_start, o, h, low, c, vol))
            pair.bar = [c, c, c, c, 0.0]
            pair.bar_start = when
            base = pair.oi_base()
            out.append(OpenInterest(pair.venue, pair.symbol, base, base * pair.price, when))
            pair.next_oi += self.oi_ms
        if pair.next_book <= t:
            out.append(self._book(pair, pair.next_book))
            pair.next_book += FOCUS_BOOK_MS if pair.symbol == self.focus else OTHER_BOOK_MS

    def _drift_background(self, pair: _Pair, seconds: float, build: float = 0.0) -> None:
        """The unleveraged part of OI wanders slowly around its level (hedgers, basis traders);
        ``build`` lowers that level by a fraction (the backfill's OI build-up)."""
        target = pair.background_target * (1 - build)
        pair.background_oi += (target - pair.background_oi) * seconds / 7200 + target * 0.00025 * math.sqrt(
            seconds / 15
        ) * self.rng.gauss(0, 1)

    def _ticker(self, pair: _Pair, when: int) -> Ticker:
        sym = pair.sym
        hours = FUNDING_HOURS[pair.venue]
        base_rate = 0.0001 * hours / 8
        premium = pair.basis + (sym.long_share - 0.5) * 0.002
        pair.funding += (
            base_rate + premium * hours / 8 - pair.funding
        ) * 0.05 + base_rate * 0.02 * self.rng.gauss(0, 1)
        period = hours * 3_600_000
        day_ago = pair.minute_closes[0] if pair.minute_closes else pair.price
        tick = sym.inst.tick
        return Ticker(
            pair.venue,
            pair.symbol,
            when,
            last=_round(pair.price, tick),
            mark=_round(pair.price * (1 + 0.00002 * self.rng.gauss(0, 1)), tick),
            index=_round(math.exp(sym.x + sym.y), tick),
            funding_rate=round(pair.funding, 8),
            next_funding_time=(when // period + 1) * period,
            change_24h_pct=(pair.price / day_ago - 1) * 100,
            volume_24h_usd=pair.volume_24h + pair.minute_volume,
        )

    def _book(self, pair: _Pair, when: int) -> BookSnapshot:
        """Top of book: a tight touch, levels further apart and larger deeper in; thin after fast moves."""
        sym, rng = pair.sym, self.rng
        tick, price, liquidity = sym.inst.tick, pair.price, sym.liquidity
        levels = BOOK_LEVELS[pair.venue]
        span_ticks = 0.0008 * price / tick / math.sqrt(liquidity)
        gap_mean = max(1.0, span_ticks / levels)
        usd_per_level = sym.inst.depth_1pct_usd * DEPTH_SHARE[pair.venue] * 0.08 / levels * liquidity
        best_bid = math.floor(price / tick)
        spread = 1 + (int(rng.random() * 3 * (1 - liquidity)) if liquidity < 0.9 else 0)
        sides = []
        for direction, start in ((-1, best_bid), (1, best_bid + spread)):
            row, level_ticks = [], start
            for i in range(levels):
                size_usd = usd_per_level * (0.4 + 1.2 * i / levels) * rng.lognormvariate(0, 0.7)
                if rng.random() < 0.03:
                    size_usd *= 6  # a wall
                row.append((round(level_ticks * tick, 10), round(size_usd / price, 6)))
                level_ticks += direction * max(
                    1, int(gap_mean * (0.3 + 1.4 * i / levels) * rng.expovariate(1) + 0.5)
                )
            sides.append(tuple(row))
        return BookSnapshot(pair.venue, pair.symbol, sides[0], sides[1], when)


def _tiers(weights: dict[str, float], max_leverage: float) -> tuple[list[float], list[float]]:
    """Leverage tiers up to the venue's maximum and their cumulative weights (renormalized).

    Keys that are not numbers, and non-positive weights, are skipped: the demo keeps running on
    whatever mix is left (the engine reports a broken mix to the user).
    """
    usable: dict[float, float] = {}
    for key, weight in weights.items():
        try:
            leverage = float(str(key).lower().removesuffix("x"))
        except ValueError:
            continue
        if 1 < leverage <= max_leverage and weight > 0:
            usable[leverage] = usable.get(leverage, 0.0) + weight
    if not usable:
        usable = {min(max_leverage, 10.0): 1.0}
    total = sum(usable.values())
    tiers, cdf, acc = sorted(usable), [], 0.0
    for tier in tiers:
        acc += usable[tier] / total
        cdf.append(acc)
    return tiers, cdf


def demo_symbols(settings: Settings | None) -> list[str]:
    """The symbols the demo simulates: the watchlist, then the cross assets (unified, once each)."""
    settings = settings or Settings()
    seen: list[str] = []
    for symbol in [*settings.watchlist, *settings.cross_assets]:
        symbol = unified(symbol)
        if symbol not in seen:
            seen.append(symbol)
    return seen or ["BTC/USDT:USDT"]


_SETTERS = {f.name: Liquidation.__dict__[f.name].__set__ for f in fields(Liquidation)}
_DISCARD = deque[None](maxlen=0).extend  # runs an iterator of setter calls to its end


def liquidations(n: int, **values: object) -> list[Liquidation]:
    """``n`` liquidations at once, equal to ``Liquidation(**{field: its value or column[k]})`` for each
    ``k``: every field named, a list for a column, anything else the same for all ``n``. A frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__`` (~2.9 us a liquidation at
    stress's sizes); here each field is set on all ``n`` in one ``map`` over its slot's setter (~1.0 us):
    at stress the demo builds ~9,000 a second for Bybit's tape (bench/README.md, "Demo market")."""
    if values.keys() != _SETTERS.keys():
        raise TypeError(f"every field of Liquidation, no other: {sorted(values)}")
    made = list(map(object.__new__, repeat(Liquidation, n)))
    for name, value in values.items():
        if type(value) is list:
            if len(value) != n:
                raise ValueError(f"{name}: {len(value)} values for {n} liquidations")
            _DISCARD(map(_SETTERS[name], made, value))
        else:
            _DISCARD(map(_SETTERS[name], made, repeat(value, n)))
    return made


def _liquidation(venue: str, symbol: str, held: tuple, recv: int) -> Liquidation:
    side, price, qty, usd, when = held
    # A partial venue's part is its backstop liquidator's fills (Hyperliquid), as live.
    source = LiquidationSource.BACKSTOP if venue in PARTIAL_LIQUIDATION_VENUES else LiquidationSource.FEED
    return Liquidation(venue, symbol, side, price, qty, usd, when, recv, True, source)


def _round(value: float, tick: float) -> float:
    return round(round(value / tick) * tick, 10)
