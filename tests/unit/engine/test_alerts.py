"""The alert rules over hand-made events: each kind fires when it should with exact fields and words,
stays quiet when it should not, and a burst or a cascade is one alert with updates."""

from __future__ import annotations

import math

import pytest

from liqtui.domain.alerts import Alert
from liqtui.domain.events import Liquidation, OpenInterest, PositionSnapshot, Side, Ticker
from liqtui.engine import Engine
from liqtui.engine.alerts import AlertEvaluator, Rule, unknown_coins

T0 = 1_769_860_800_000
BTC = "BTC/USDT:USDT"


def liq(
    t: int,
    usd: float,
    side: Side = Side.LONG,
    venue: str = "bybit",
    symbol: str = BTC,
    price: float = 80_000.0,
) -> Liquidation:
    return Liquidation(venue, symbol, side, price, usd / price, usd, t, t)


def run(rules: list[Rule], events, since_ms: int = 0, engine: Engine | None = None) -> list[Alert]:
    engine = engine or Engine()
    alerts = AlertEvaluator(rules, engine, since_ms=since_ms)
    out: list[Alert] = []
    for event in events:
        engine.apply(event)
        out += alerts.see(event)
    return out + alerts.flush()


BIG = Rule("big", "liquidation", min_usd=250_000, cooldown_ms=0)


def test_one_big_liquidation_is_one_alert_with_its_fields_and_words():
    (alert,) = run([BIG], [liq(T0, 100_000), liq(T0 + 10, 312_400, price=82_410.5, venue="binanceusdm")])
    assert alert.fields() == {
        "time": T0 + 10,
        "rule": "big",
        "kind": "liquidation",
        "venue": "binanceusdm",
        "symbol": BTC,
        "side": "long",
        "usd": 312_400,
        "price": 82_410.5,
        "count": 1,
        "text": "BTC long liquidated $312k at 82,410 on binanceusdm",
    }


@pytest.mark.parametrize(
    "rule",
    [
        Rule("r", "liquidation", min_usd=250_000, coins=frozenset({"ETH"})),
        Rule("r", "liquidation", min_usd=250_000, venues=frozenset({"okx"})),
        Rule("r", "liquidation", min_usd=250_000, side=Side.SHORT),
        Rule("r", "liquidation", min_usd=500_000),
    ],
)
def test_a_liquidation_outside_the_rule_fires_nothing(rule):
    assert run([rule], [liq(T0, 300_000)]) == []


def test_a_coin_covers_every_venue_market_of_it():
    rule = Rule("r", "liquidation", min_usd=1, coins=frozenset({"BTC"}))
    fired = run([rule], [liq(T0, 10, symbol="BTC/USDC:USDC", venue="hyperliquid")])
    assert [a.symbol for a in fired] == ["BTC/USDC:USDC"]
    assert unknown_coins([rule, Rule("s", "burst", coins=frozenset({"DOGE"}))], [BTC]) == ["DOGE"]


def test_liquidations_within_the_cooldown_are_one_alert_then_its_running_totals():
    rule = Rule("big", "liquidation", min_usd=250_000, cooldown_ms=60_000)
    fired = run(
        [rule], [liq(T0, 300_000), liq(T0 + 20_000, 400_000, price=79_000), liq(T0 + 200_000, 500_000)]
    )
    assert [(a.update, a.time, a.usd, a.count) for a in fired] == [
        (False, T0, 300_000, 1),
        (True, T0, 700_000, 2),  # emitted when the cooldown ran out (or at the end), same first time
        (False, T0 + 200_000, 500_000, 1),
    ]
    assert fired[1].text == "BTC 2 long liquidations of ≥ $250k: $700k (last at 79,000)"
    assert fired[1].fields()["update"] is True and "update" not in fired[0].fields()


def test_a_cooldown_of_zero_makes_every_trigger_an_alert():
    rule = Rule("big", "liquidation", min_usd=250_000, cooldown_ms=0)
    assert [a.update for a in run([rule], [liq(T0, 300_000), liq(T0 + 1, 300_000)])] == [False, False]


def test_events_before_since_feed_memory_but_fire_nothing():
    rule = Rule("b", "burst", min_usd=1_000_000, window_ms=60_000)
    events = [liq(T0 + i * 1000, 100_000) for i in range(20)]
    fired = run([rule], events, since_ms=T0 + 15_000)
    assert fired[0].time == T0 + 15_000 and fired[0].usd == 1_600_000  # the window held 16 already


def test_events_while_the_source_hands_out_history_fire_nothing_whatever_their_time():
    rule = Rule("big", "burst", min_usd=1_000_000, window_ms=60_000)
    engine, history = Engine(), [True]
    alerts = AlertEvaluator([rule], engine, since_ms=T0, history=lambda: history[0])
    fired: list[Alert] = []
    for i in range(12):  # at and after since_ms, but history: memory only, and no group opened
        event = liq(T0 + i * 1000, 100_000)
        engine.apply(event)
        fired += alerts.see(event)
    assert fired == []
    history[0] = False
    event = liq(T0 + 12_000, 100_000)
    engine.apply(event)
    (alert,) = alerts.see(event)
    assert alert.usd == 1_300_000 and alert.count == 13 and not alert.update  # a new alert, not an update


def test_a_burst_is_one_alert_that_updates_its_running_usd_and_count():
    rule = Rule("burst", "burst", min_usd=1_000_000, window_ms=60_000)
    events = [liq(T0 + i * 200, 50_000, venue=("bybit", "okx")[i % 2]) for i in range(300)]  # 60 s, $15M
    fired = run([rule], events)
    first, *updates = fired
    assert (first.time, first.usd, first.count, first.venue, first.side) == (
        T0 + 19 * 200,
        1_000_000,
        20,
        None,
        Side.LONG,
    )
    assert first.text == "BTC burst: $1.0M of longs liquidated in 60s (20 liquidations)"
    assert updates and all(u.update and u.time == first.time for u in updates)
    assert updates[-1].usd == 15_000_000 and updates[-1].count == 300
    assert updates[-1].text == "BTC burst: $15.0M of longs liquidated so far (300 liquidations)"
    assert len(fired) <= 1 + 12  # readable: updates only when the total grew by a quarter


def test_liquidations_spread_wider_than_the_window_or_split_by_side_make_no_burst():
    rule = Rule("burst", "burst", min_usd=1_000_000, window_ms=60_000)
    slow = [liq(T0 + i * 10_000, 100_000) for i in range(30)]  # $600k a minute
    split = [
        liq(T0 + i * 100, 90_000, side=(Side.LONG, Side.SHORT)[i % 2]) for i in range(20)
    ]  # $900k a side
    assert run([rule], slow) == [] and run([rule], split) == []


def _quiet_then_move(move_pct: float, sides: tuple[Side, ...]) -> list:
    """15 minutes of a price wiggling 0.01 % a second with small liquidations, then 20 s in which the
    price moves ``move_pct`` with $200k liquidated every 100 ms on ``sides`` in turn."""
    events: list = []
    price = 80_000.0
    for s in range(900):
        price *= 1 + 0.0001 * (1 if s % 2 else -1)
        events.append(Ticker("bybit", BTC, T0 + s * 1000, last=price))
        if s % 5 == 0:
            events.append(liq(T0 + s * 1000 + 1, 5_000, side=(Side.LONG, Side.SHORT)[s % 2]))
    start = T0 + 900_000
    for i in range(200):
        t = start + i * 100
        if i % 10 == 0:
            events.append(Ticker("bybit", BTC, t, last=price * (1 + move_pct / 100 * i / 200)))
        events.append(liq(t + 1, 200_000, side=sides[i % len(sides)]))
    return events


CASCADE = Rule("cascade", "cascade", window_ms=30_000, k=3.0, percentile=95.0, side_share=0.65)


def test_a_cascade_is_one_alert_with_updates():
    fired = run([CASCADE], _quiet_then_move(-2.0, (Side.LONG,)))
    first, *updates = fired
    assert not first.update and first.kind == "cascade" and first.side is Side.LONG and first.venue == "bybit"
    assert first.text.startswith("BTC cascade: price -") and "σ), 100 % longs; $" in first.text
    assert updates and all(u.update and u.time == first.time and u.rule == "cascade" for u in updates)
    assert updates[-1].count > first.count and updates[-1].usd > first.usd * 5
    assert len(updates) <= 12


def test_no_cascade_without_a_price_move_or_without_a_dominant_side():
    assert run([CASCADE], _quiet_then_move(0.0, (Side.LONG,))) == []
    assert run([CASCADE], _quiet_then_move(-2.0, (Side.LONG, Side.SHORT))) == []


def _said(rules: list[Rule], events: list, path: str) -> list[Alert]:
    """The alerts of ``rules`` over ``events`` one by one ("see"), in runs of liquidations ("runs"), or
    with the first half as history handed over as columns, then runs ("history")."""
    from liqtui.engine.batch import LiquidationBatch
    from liqtui.engine.engine import liquidation_runs

    engine, history = Engine(), [path == "history"]
    alerts = AlertEvaluator(rules, engine, history=lambda: history[0])
    out: list[Alert] = []
    if path == "see":
        for event in events:
            engine.apply(event)
            out += alerts.see(event)
        return out + alerts.flush()
    runs = list(liquidation_runs(events))
    for n, item in enumerate(runs):
        history[0] = path == "history" and n < len(runs) // 2
        if not isinstance(item, list):
            engine.apply(item)
            out += alerts.see(item)
        elif history[0]:
            batch = LiquidationBatch.of(item)
            engine.apply_liquidations(batch)
            out += alerts.see_liquidations(batch)
        else:
            engine.apply_liquidations(item)
            out += alerts.see_liquidations(item)
    return out + alerts.flush()


@pytest.mark.parametrize("path", ["see", "runs", "history"])
@pytest.mark.parametrize("burst_first", [True, False])
def test_a_burst_and_a_cascade_of_one_window_say_together_what_each_says_alone(path, burst_first):
    """The two rules share their windows (one adds each liquidation, both read): the same alerts."""
    burst = Rule("burst", "burst", min_usd=1_000_000, window_ms=30_000)
    events = _quiet_then_move(-2.0, (Side.LONG,))
    rules = [burst, CASCADE] if burst_first else [CASCADE, burst]
    together = _said(rules, events, path)
    alone = _said([burst], events, path) + _said([CASCADE], events, path)
    assert {a.kind for a in alone} == {"burst", "cascade"}
    assert sorted(together, key=repr) == sorted(alone, key=repr)


def test_funding_restated_per_8h_beyond_the_rate():
    rule = Rule("f", "funding", rate=0.001, cooldown_ms=3_600_000)
    events = [
        Ticker("binanceusdm", BTC, T0, last=80_000, funding_rate=0.0001),  # 0.01 %/8h
        Ticker("hyperliquid", "BTC/USDC:USDC", T0 + 1, last=80_010, funding_rate=0.0002),  # 0.16 %/8h
        Ticker("hyperliquid", "BTC/USDC:USDC", T0 + 60_000, last=80_010, funding_rate=0.0002),  # same episode
    ]
    (alert,) = run([rule], events)
    assert (alert.venue, alert.side, alert.price, alert.usd, alert.count) == (
        "hyperliquid",
        Side.LONG,
        80_010,
        None,
        None,
    )
    assert alert.text == "BTC funding +0.1600 %/8h on hyperliquid: longs pay"


def _oi(venue: str, t: int, base: float, price: float = 80_000.0) -> OpenInterest:
    return OpenInterest(venue, BTC, base, base * price, t)


def test_oi_change_per_venue_and_in_total_with_the_regime():
    events = [
        _oi("bybit", T0, 1000),
        _oi("okx", T0, 1000),
        _oi("bybit", T0 + 300_000, 1040, price=81_000),
        _oi("okx", T0 + 300_000, 1000),
    ]
    venue_rule = Rule("oi", "oi_change", pct=3.0, window_ms=300_000)
    (alert,) = run([venue_rule], events)
    assert (alert.venue, alert.price, alert.usd) == ("bybit", 81_000, pytest.approx(40 * 81_000))
    assert alert.text == "BTC OI +4.0 % in 5m on bybit, new longs"
    total = Rule("oi", "oi_change", pct=3.0, window_ms=300_000, scope="total")
    assert run([total], events) == []  # +2 % summed over both venues
    total_low = Rule("oi", "oi_change", pct=1.5, window_ms=300_000, scope="total")
    (summed,) = run([total_low], events)
    assert summed.venue is None and summed.text.startswith("BTC OI +2.0 % in 5m on all venues")


def _levels_engine() -> tuple[Engine, list]:
    """A market at 100 where 1M coins of OI opened: ESTIMATED 10x longs near 90.4, shorts near 109.6."""
    return Engine(), [
        Ticker("bybit", "SOL/USDT:USDT", T0, last=100.0),
        OpenInterest("bybit", "SOL/USDT:USDT", 1_000_000, 100_000_000, T0),
        Ticker("bybit", "SOL/USDT:USDT", T0 + 1000, last=100.0),
        OpenInterest("bybit", "SOL/USDT:USDT", 2_000_000, 200_000_000, T0 + 15_000),
    ]


def test_cluster_near_names_the_estimated_row_it_is_near():
    engine, events = _levels_engine()
    events += [
        Ticker("bybit", "SOL/USDT:USDT", T0 + 20_000 + i * 1000, last=p)
        for i, p in enumerate((95.0, 91.0, 90.9))
    ]
    rule = Rule("near", "cluster_near", min_usd=5_000_000, pct=1.0, cooldown_ms=600_000)
    (alert,) = run([rule], events, engine=engine)
    assert (alert.side, alert.venue, alert.count) == (Side.LONG, None, None)
    assert 90.0 < alert.price < 91.0 and alert.usd >= 5_000_000
    assert alert.text == "SOL 91.00 is 0.71 % from an ESTIMATED $15.0M long cluster at 90.35"


def test_the_rows_cluster_near_reads_are_the_ladders_rows_with_usd():
    engine, events = _levels_engine()
    for event in [*events, Ticker("bybit", "SOL/USDT:USDT", T0 + 20_000, last=91.0)]:
        engine.apply(event)
    price, grid, sides = engine.book_sides("SOL/USDT:USDT")
    levels = engine.view("SOL/USDT:USDT", T0 + 20_000).levels
    assert (price, grid) == (levels.price, levels.grid) and len(sides[Side.LONG]) >= 10
    assert sides[Side.LONG] == [(r.price, r.long_usd) for r in levels.rows if r.long_usd or r.short_usd]
    assert sides[Side.SHORT] == [(r.price, r.short_usd) for r in levels.rows if r.long_usd or r.short_usd]


def test_the_rows_near_the_price_are_the_ladders_rows_in_that_reach_and_few_more():
    engine, events = _levels_engine()
    for event in [*events, Ticker("bybit", "SOL/USDT:USDT", T0 + 20_000, last=91.0)]:
        engine.apply(event)
    price, grid, sides = engine.book_sides("SOL/USDT:USDT")
    assert price
    for reach in (0.0, 0.001, 0.005, 0.02, 0.05, 10.0):  # the wide ones: more rows than the books hold
        low, high = price * (1 - reach), price * (1 + reach)
        assert engine.book_sides("SOL/USDT:USDT", reach)[:2] == (price, grid)
        near = engine.book_sides("SOL/USDT:USDT", reach)[2]
        for side in (Side.LONG, Side.SHORT):
            inside = [(p, usd) for p, usd in sides[side] if low <= p <= high]
            assert [(p, usd) for p, usd in near[side] if low <= p <= high] == inside
            assert near[side] == sorted(near[side]) and set(near[side]) <= set(sides[side])
            assert len(near[side]) <= len(inside) + 2, "a row either side at most, not the whole book"


def test_cluster_swept_says_what_the_tape_realized():
    engine, events = _levels_engine()
    events += [
        Ticker("bybit", "SOL/USDT:USDT", T0 + 20_000, last=88.0),
        liq(T0 + 21_000, 700_000, symbol="SOL/USDT:USDT", price=90.3),
        OpenInterest("bybit", "SOL/USDT:USDT", 1_900_000, 1_900_000 * 88.0, T0 + 30_000),
    ]
    rule = Rule("swept", "cluster_swept", min_usd=1_000_000)
    fired = run([rule], events, engine=engine)
    assert fired, "the drop to 88 sweeps the 10x longs near 90.4"
    alert = fired[0]
    assert alert.side is Side.LONG and alert.venue == "bybit" and alert.time == T0 + 30_000
    assert "swept an ESTIMATED $" in alert.text and "long cluster" in alert.text and "on bybit" in alert.text
    assert math.isclose(sum(a.usd or 0 for a in fired), 700_000) or "no tape there" in alert.text


# ----- position_near: MEASURED positions (PositionSnapshot) near their liquidation price -----------

HL_BTC = "BTC/USDC:USDC"
WHALE = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20


def position(
    t: int,
    account: str = WHALE,
    usd: float = 8_000_000.0,
    liq_price: float | None = 79_000.0,
    side: Side = Side.LONG,
    mark: float = 80_000.0,
) -> PositionSnapshot:
    return PositionSnapshot(
        "hyperliquid", HL_BTC, account, side, usd / mark, usd, 85_000.0, liq_price, 20.0, "cross", t
    )


NEAR_LIQ = Rule("whale", "position_near", min_usd=5_000_000, pct=2.0, cooldown_ms=600_000)


def test_a_position_near_its_liquidation_price_is_one_alert_per_account_with_its_fields_and_words():
    events = [
        position(T0),  # 1.25 % above its liquidation price
        position(T0 + 30_000, liq_price=79_500.0),  # the same account again, within the cooldown
        position(T0 + 31_000, account=OTHER, usd=6_000_000.0, liq_price=81_000.0, side=Side.SHORT),
    ]
    first, other = run([NEAR_LIQ], events)
    assert first.fields() == {
        "time": T0,
        "rule": "whale",
        "kind": "position_near",
        "venue": "hyperliquid",
        "symbol": HL_BTC,
        "side": "long",
        "usd": 8_000_000.0,
        "price": 79_000.0,
        "count": None,
        "text": "BTC long of 0xabab…abab $8.0M (20x cross) at 80,000 is 1.25 % from its liquidation "
        "price 79,000 on hyperliquid (MEASURED)",
    }
    assert (other.side, other.price, other.time) == (Side.SHORT, 81_000.0, T0 + 31_000)
    assert "short of 0xcdcd…cdcd $6.0M" in other.text and "1.25 % from" in other.text


@pytest.mark.parametrize(
    "snap",
    [
        position(T0, usd=4_000_000.0),  # below min_usd
        position(T0, liq_price=70_000.0),  # 12.5 % away
        position(T0, liq_price=None),  # no price liquidates it
        position(T0, side=Side.SHORT, liq_price=85_000.0),  # a short's is above the price: 6.25 % away
    ],
)
def test_a_position_far_from_liquidation_or_small_fires_nothing(snap):
    assert run([NEAR_LIQ], [snap]) == []


def test_the_price_moving_toward_a_tracked_position_fires_and_the_cooldown_holds_per_account():
    events = [
        position(T0, liq_price=75_000.0),  # 6.25 % away: quiet
        Ticker("hyperliquid", HL_BTC, T0 + 1_000, mark=78_000.0),  # 3.8 %: quiet
        Ticker("hyperliquid", HL_BTC, T0 + 2_000, mark=76_400.0),  # 1.83 %: fires
        Ticker("hyperliquid", HL_BTC, T0 + 3_000, mark=75_100.0),  # within the cooldown: the same alert
        Ticker("bybit", "BTC/USDT:USDT", T0 + 4_000, mark=70_000.0),  # another venue's market: not its price
        Ticker("hyperliquid", HL_BTC, T0 + 700_000, mark=74_900.0),  # cooldown over: past it, a new alert
    ]
    fired = run([NEAR_LIQ], events)
    assert [(a.time, a.update) for a in fired] == [(T0 + 2_000, False), (T0 + 700_000, False)]
    assert "at 76,400 is 1.83 % from its liquidation price 75,000" in fired[0].text
    assert "at 74,900 is past its liquidation price 75,000" in fired[1].text


def test_a_closed_position_is_forgotten():
    events = [
        position(T0, liq_price=75_000.0),
        position(T0 + 500, usd=0.0, liq_price=75_000.0),  # size 0: closed (the engine drops it)
        Ticker("hyperliquid", HL_BTC, T0 + 2_000, mark=75_500.0),
    ]
    assert run([NEAR_LIQ], events) == []


def test_cluster_near_reads_the_measured_positions_where_no_estimated_row_is_near():
    near = Rule("near", "cluster_near", min_usd=5_000_000, pct=1.0, cooldown_ms=600_000)
    events = [
        position(T0, liq_price=79_600.0),  # a tracked whale's long, $8M, liquidated at 79,600
        position(T0, account=OTHER, usd=1_000_000.0, liq_price=79_900.0),  # nearer, but too small
        Ticker("hyperliquid", HL_BTC, T0 + 1_000, last=80_000.0, mark=80_000.0),
    ]
    (alert,) = run([near], events)
    assert (alert.side, alert.venue, alert.price, alert.usd) == (Side.LONG, None, 79_600.0, 8_000_000.0)
    assert (
        alert.text == "BTC 80,000 is 0.50 % from a MEASURED $8.0M long cluster at 79,600 (tracked accounts)"
    )


def test_history_older_than_a_window_holds_is_remembered_row_by_row_as_one_by_one():
    """A batch of history whose rows are older than what a burst window already holds (another venue's
    clock) joins the window's newest second and sets its venue's, as one by one: the same memory and alerts."""
    from liqtui.engine.batch import LiquidationBatch

    rule = Rule("b", "burst", min_usd=150.0, window_ms=2_000)
    t0 = 1_769_860_800_000

    def liq(t: int, usd: float, venue: str = "bybit") -> Liquidation:
        return Liquidation(venue, "BTC/USDT:USDT", Side.LONG, 80_000.0, usd / 80_000.0, usd, t, t)

    late = [liq(t0 + 1_000, 10.0, "okx"), liq(t0 + 2_500, 20.0), liq(t0 + 2_600, 30.0)]
    said = []
    for columns in (True, False):
        evaluator = AlertEvaluator([rule], Engine(), history=lambda: True)
        evaluator.see(liq(t0 + 2_000, 100.0, "okx"))  # the window's newest second is t0 + 2 s
        if columns:
            evaluator.see_liquidations(LiquidationBatch.of(late))
        else:
            for event in late:
                evaluator.see(event)
        evaluator.history = None
        window = evaluator._detectors[Liquidation][0][1].__self__.windows["BTC/USDT:USDT"]
        memory = ([list(b) for b in window.buckets], list(window.totals), dict(window.seen))
        said.append((memory, evaluator.see(liq(t0 + 3_100, 50.0))))
    assert said[0] == said[1]
    assert said[1][0][1][0] == 160.0 and said[1][1]  # the late rows joined; the next one fires


def _random_runs(seed: int) -> list[list[Liquidation]]:
    """Runs of liquidations of many venues, late and across seconds (see the test below)."""
    import random

    rnd = random.Random(seed)
    t, runs = T0, []
    for _ in range(150):
        one = []
        for _ in range(rnd.choice([0, 1, 3, 40])):
            t += rnd.choice([0, 5, 90, 700, 2_500])
            at = t - rnd.choice([0, 0, 0, 400, 1_300, 30_000])
            usd = rnd.choice([10.0, 3_000.0, 25_000.0, rnd.expovariate(1 / 8_000)])
            side = rnd.choice([Side.LONG, Side.SHORT])
            symbol = rnd.choice([BTC, "ETH/USDT:USDT"])
            venue = rnd.choice(["bybit", "bybit", "okx", "binanceusdm"])
            one.append(Liquidation(venue, symbol, side, 80_000.0, usd / 80_000.0, usd, at, t))
        runs.append(one)
    return runs


_RUN_RULES = {
    "big": Rule("big", "liquidation", min_usd=20_000, cooldown_ms=700),
    "burst": Rule("burst", "burst", min_usd=40_000, window_ms=2_000, cooldown_ms=1_500),
    "longs": Rule("longs", "burst", side=Side.LONG, min_usd=15_000, window_ms=1_000, cooldown_ms=30_000),
    "cascade": Rule("cascade", "cascade", window_ms=2_000, cooldown_ms=3_000),
}


def _one_by_one_and_runs(
    rules: list[Rule], runs: list[list[Liquidation]]
) -> tuple[list, list, AlertEvaluator]:
    single, bulk = AlertEvaluator(rules, Engine(), T0 + 5_000), AlertEvaluator(rules, Engine(), T0 + 5_000)
    said_single = [a for r in runs for e in r for a in single.see(e)] + single.flush()
    said_bulk = [a for r in runs for a in bulk.see_liquidations(r)] + bulk.flush()
    return said_single, said_bulk, bulk


@pytest.mark.parametrize("seed", range(4))
def test_runs_of_many_venues_late_and_across_seconds_say_the_alerts_of_one_by_one(seed):
    # see_liquidations (a burst and a cascade rule sharing their windows, their adds and the
    # offers to an open alert written out in its loop) against see() one by one: venues joining and
    # leaving a window, times back and forth inside a run and across runs, cooldowns and updates
    # running out inside a run; the same alerts (venue, USD, count, text), in the same order.
    rules = [_RUN_RULES[name] for name in ("big", "burst", "longs", "cascade")]
    said_single, said_bulk, _ = _one_by_one_and_runs(rules, _random_runs(seed))
    assert said_bulk == said_single
    assert sum(a.update for a in said_single) > 5 and sum(not a.update for a in said_single) > 5
    assert any(a.venue is None for a in said_single) and any(a.venue for a in said_single)


@pytest.mark.parametrize(
    "order",
    [
        ("big", "burst", "cascade"),  # the default rules' order
        ("cascade", "big", "longs", "burst"),
        ("longs", "cascade", "burst", "big"),
        ("burst", "cascade", "big", "longs"),
    ],
)
@pytest.mark.parametrize("seed", range(2))
def test_a_shared_pair_s_run_and_its_offers_in_one_pass_say_the_alerts_of_one_by_one(order, seed):
    # With one burst and cascade pair (as the default rules), see_liquidations detects and offers in
    # one pass (_see_fused): the other rules' offers before, between and after the pair's, each order.
    rules = [_RUN_RULES[name] for name in order]
    said_single, said_bulk, bulk = _one_by_one_and_runs(rules, _random_runs(seed))
    assert bulk._fused is not None
    assert said_bulk == said_single
    assert {a.rule for a in said_single} == set(order) - {"cascade"}  # no price: no cascade here (below)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 0, 2), (0, 2, 1)])
def test_a_shared_pair_s_cascades_and_bursts_in_one_pass_say_the_alerts_of_one_by_one_in_order(order):
    # The cascade firing too: every rule's alerts (and updates) in the order one by one says them.
    big = Rule("big", "liquidation", min_usd=150_000, cooldown_ms=5_000)
    # The burst opens on the liquidation that opens the cascade (4.2M of longs in the window then).
    burst = Rule("burst", "burst", min_usd=4_150_000, window_ms=30_000, cooldown_ms=8_000)
    rules = [(big, burst, CASCADE)[k] for k in order]
    events = _quiet_then_move(-2.0, (Side.LONG,))
    assert AlertEvaluator(rules, Engine())._fused is not None
    said = _said(rules, events, "runs")
    assert said == _said(rules, events, "see")
    assert {a.rule for a in said} == {"big", "burst", "cascade"} and any(a.update for a in said)


def test_two_shared_pairs_go_through_their_runs_with_the_alerts_of_one_by_one():
    rules = [
        *_RUN_RULES.values(),
        Rule("burst 5s", "burst", min_usd=30_000, window_ms=5_000, cooldown_ms=1_000),
        Rule("cascade 5s", "cascade", window_ms=5_000, cooldown_ms=2_000),
    ]
    said_single, said_bulk, bulk = _one_by_one_and_runs(rules, _random_runs(7))
    assert bulk._fused is None
    assert said_bulk == said_single and said_single
