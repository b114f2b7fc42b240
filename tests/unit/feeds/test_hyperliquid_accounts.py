"""Hyperliquid's measured positions, the pure parts: reading clearinghouseState, which accounts are
kept and how soon each is looked at again, candidate liquidations, and the weight budget."""

from __future__ import annotations

import asyncio

import pytest

from liqtui.domain.events import PositionSnapshot, Side
from liqtui.feeds.live import hyperliquid_budget
from liqtui.feeds.live.adapter import MalformedEntry
from liqtui.feeds.live.hyperliquid_accounts import (
    FORGET_DROPPED_MS,
    NEAR_MS,
    SLOW_MS,
    MarkHistory,
    Tracker,
    snapshots_from_state,
)
from liqtui.feeds.live.hyperliquid_budget import WeightBudget, info_kind, weight
from liqtui.feeds.live.markets import MarketInfo

A, B = "0x" + "a1" * 20, "0x" + "b2" * 20
BTC = "BTC/USDC:USDC"
T0 = 1_800_000_000_000


def _markets() -> dict[str, MarketInfo]:
    from liqtui.feeds.live.markets import MarketIndex

    index = MarketIndex.from_ccxt(
        {
            "BTC/USDC:USDC": {
                "id": "0",
                "baseName": "BTC",
                "base": "BTC",
                "symbol": BTC,
                "swap": True,
                "contractSize": 1,
            },
        },
        by_coin=True,
    )
    return index.by_id


def _state(*positions: dict) -> dict:
    return {"assetPositions": [{"type": "oneWay", "position": p} for p in positions], "time": T0}


def _position(szi: str, liq: str | None, value: str = "47500.0", lev: int = 20, kind: str = "cross") -> dict:
    return {
        "coin": "BTC",
        "szi": szi,
        "entryPx": "95000.0",
        "positionValue": value,
        "liquidationPx": liq,
        "leverage": {"type": kind, "value": lev},
        "marginUsed": "2375.0",
    }


def _snap(
    account: str, usd: float, liq: float | None, side: Side = Side.LONG, time: int = T0, size: float = 1.0
) -> PositionSnapshot:
    return PositionSnapshot("hyperliquid", BTC, account, side, size, usd, 95_000.0, liq, 10.0, "cross", time)


def test_a_state_gives_each_position_signed_size_as_side_and_null_liquidation_price_as_none():
    markets = _markets()
    snaps = snapshots_from_state(
        _state(_position("-0.5", "101234.5"), _position("2", None, value="190000", lev=5, kind="isolated")),
        A,
        markets,
        T0 + 5,
    )
    assert [(s.side, s.size, s.usd, s.liquidation_price, s.leverage, s.margin, s.time) for s in snaps] == [
        (Side.SHORT, 0.5, 47_500.0, 101_234.5, 20.0, "cross", T0),
        (Side.LONG, 2.0, 190_000.0, None, 5.0, "isolated", T0),
    ]
    assert {s.symbol for s in snaps} == {BTC} and {s.account for s in snaps} == {A}


@pytest.mark.parametrize(
    "payload",
    [
        {"assetPositions": "not a list"},
        None,
        _state(_position("abc", "1")),
        _state(_position("1", "NaN")),
        _state({**_position("1", "1"), "leverage": 3}),
    ],
)
def test_an_unreadable_state_is_malformed_not_a_crash(payload):
    with pytest.raises(MalformedEntry):
        snapshots_from_state(payload, A, _markets(), T0)


def test_accounts_below_the_minimum_are_dropped_configured_ones_stay_and_a_drop_is_remembered():
    tracker, marks = Tracker(min_usd=10_000), MarkHistory()
    tracker.add(A, T0, configured=True)
    tracker.discover(B, T0)
    first, second = tracker.next_due(T0), tracker.next_due(T0)
    assert (first.address, second.address) == (A, B)
    small = [_snap(A, 5_000, 80_000)]
    assert not tracker.looked(first, small, {BTC}, T0, marks).dropped  # configured: kept
    result = tracker.looked(second, [_snap(B, 5_000, 80_000)], {BTC}, T0, marks)
    assert result.dropped and result.emit == [] and B not in tracker.accounts
    tracker.discover(B, T0 + 1000)
    assert B not in tracker.discovered  # dropped a moment ago: not looked at again yet
    tracker.discover(B, T0 + FORGET_DROPPED_MS + 1)
    assert B in tracker.discovered


def test_positions_near_their_liquidation_price_are_looked_at_sooner():
    tracker, marks = Tracker(min_usd=10_000), MarkHistory()
    marks.see(BTC, T0, 100_000)
    tracker.add(A, T0)
    tracker.add(B, T0)
    near, far = tracker.next_due(T0), tracker.next_due(T0)
    tracker.looked(near, [_snap(A, 50_000, 99_000)], {BTC}, T0, marks)  # 1 % away
    tracker.looked(far, [_snap(B, 50_000, 50_000)], {BTC}, T0, marks)  # 50 % away
    assert (near.due - T0, far.due - T0) == (NEAR_MS, SLOW_MS)


def test_a_position_gone_after_the_mark_reached_its_liquidation_price_is_a_candidate_only_then():
    tracker, marks = Tracker(min_usd=10_000), MarkHistory()
    tracker.add(A, T0, configured=True)
    tracker.add(B, T0, configured=True)
    a, b = tracker.next_due(T0), tracker.next_due(T0)
    tracker.looked(a, [_snap(A, 50_000, 90_000)], {BTC}, T0, marks)
    tracker.looked(b, [_snap(B, 50_000, 80_000)], {BTC}, T0, marks)
    marks.see(BTC, T0 + 10_000, 89_500)  # below A's liquidation price, above B's
    assert tracker.crossed(BTC, 95_000, 89_500, T0 + 10_000) == 1 and a.due == T0 + 10_000
    result = tracker.looked(a, [], {BTC}, T0 + 20_000, marks)
    assert [c.account for c in result.candidates] == [A]
    assert [(s.size, s.time) for s in result.emit] == [(0.0, T0 + 20_000)]  # gone: size 0
    assert tracker.looked(b, [], {BTC}, T0 + 20_000, marks).candidates == []  # closed, not liquidated


def test_the_budget_holds_every_minute_at_its_limit_and_a_429_halves_it(monkeypatch):
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr(hyperliquid_budget.asyncio, "sleep", sleep)
    budget = WeightBudget(100, headroom=20, clock=lambda: now[0])
    charged: list[tuple[float, float]] = []

    async def spend(n: int, most: int, real: int) -> None:
        for _ in range(n):
            entry = await budget.take(most)
            budget.settle(entry, real)
            charged.append((now[0], real))
            now[0] += 0.1

    asyncio.run(spend(200, 22, 2))
    worst = max(sum(w for t, w in charged if start - 60 < t <= start) for start, _ in charged)
    assert worst <= 100 and now[0] > 60  # 400 weight at 0.1 s apart would be 20 s unpaced
    budget.rate_limited()
    assert budget.cap() == 50
    now[0] += 61  # a minute without a 429
    assert budget.cap() == 100


def test_weights_as_the_venue_publishes_them():
    assert (weight("clearinghouseState"), weight("metaAndAssetCtxs"), weight("userFillsByTime", 45)) == (
        2,
        20,
        22,
    )
    assert info_kind("http://x/info", '{"type": "l2Book", "coin": "BTC"}') == "l2Book"
    assert info_kind("http://x/exchange", "{}") is None
