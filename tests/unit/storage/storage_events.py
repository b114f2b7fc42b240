"""Hand-made, deterministic event streams for the storage tests (no demo, no network)."""

from __future__ import annotations

import random

from liqtui.domain.events import (
    BookSnapshot,
    Event,
    FeedState,
    FeedStatus,
    Liquidation,
    OpenInterest,
    PriceBar,
    Side,
    Ticker,
)

T0 = 1_764_000_000_000  # 2025-11-24 16:00 UTC
VENUES = ("binanceusdm", "bybit", "okx")
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT")
PRICES = {"BTC/USDT:USDT": 87_000.0, "ETH/USDT:USDT": 2_900.0}


def book(venue: str, symbol: str, time: int, mid: float, levels: int = 60) -> BookSnapshot:
    step = mid * 0.0001
    bids = tuple((round(mid - step * (i + 1), 2), 0.5 + i * 0.25) for i in range(levels))
    asks = tuple((round(mid + step * (i + 1), 2), 0.75 + i * 0.5) for i in range(levels))
    return BookSnapshot(venue, symbol, bids, asks, time)


def stream(seconds: int = 600, seed: int = 7, start: int = T0, books: bool = True) -> list[Event]:
    """About ``seconds`` of a small market: every kind, time-ordered, a few events per second."""
    rng = random.Random(seed)
    events: list[Event] = [FeedStatus(v, FeedState.LIVE, start, "", "all", None) for v in VENUES]
    mids = dict(PRICES)
    oi = {(v, s): 10_000.0 if s.startswith("BTC") else 200_000.0 for v in VENUES for s in SYMBOLS}
    for second in range(seconds):
        now = start + second * 1000
        for symbol in SYMBOLS:
            mids[symbol] *= 1 + rng.gauss(0, 0.0005)
            for venue in VENUES:
                mid = round(mids[symbol] * (1 + rng.uniform(-2e-4, 2e-4)), 2)
                events.append(Ticker(venue, symbol, now + 1, last=mid, mark=mid, funding_rate=0.0001))
                # Two books a second: the recorder keeps one.
                if books:
                    events.append(book(venue, symbol, now + 2, mid))
                    events.append(book(venue, symbol, now + 500, mid))
                if second % 15 == 0:
                    oi[venue, symbol] *= 1 + rng.uniform(-0.01, 0.012)
                    base = round(oi[venue, symbol], 3)
                    events.append(OpenInterest(venue, symbol, base, base * mid, now + 3))
                if second % 60 == 0:
                    events.append(PriceBar(venue, symbol, now, mid, mid * 1.001, mid * 0.999, mid, 1e6))
                for k in range(rng.randrange(0, 3)):
                    side = Side.LONG if rng.random() < 0.55 else Side.SHORT
                    qty = round(
                        rng.expovariate(1 / 2.0) if symbol.startswith("BTC") else rng.expovariate(1 / 30), 4
                    )
                    t = now + 10 + k * 7 + rng.randrange(0, 400)
                    events.append(
                        Liquidation(
                            venue,
                            symbol,
                            side,
                            mid,
                            qty,
                            qty * mid,
                            t,
                            t + rng.randrange(1, 300),
                            sampled=venue in ("binanceusdm", "okx"),
                        )
                    )
        if second == seconds // 2:
            events.append(
                FeedStatus("okx", FeedState.STALE, now, "no message for 30 s", "liquidations", now - 30_000)
            )
    events.sort(key=_time)
    return events


def _time(event: Event) -> int:
    if isinstance(event, FeedStatus):
        return max(event.since, event.last_message or 0)
    return event.time


def stored_form(events: list[Event]) -> list[Event]:
    """What a recording keeps of ``events``: books at most once a second per market, 50 levels a side."""
    kept: list[Event] = []
    last_book: dict[tuple[str, str], int] = {}
    for e in events:
        if isinstance(e, BookSnapshot):
            key = (e.venue, e.symbol)
            if key in last_book and 0 <= e.time - last_book[key] < 1000:
                continue
            last_book[key] = e.time
            e = BookSnapshot(e.venue, e.symbol, e.bids[:50], e.asks[:50], e.time)
        kept.append(e)
    return kept
