"""The bulk path (``Engine.apply_many``: a run of liquidations at once) leaves exactly the engine state
of ``Engine.apply`` one event at a time, on a recorded stress stream with damaged rows: through
``warm``, through a replay's catch-up, and straight into the engine with hostile liquidations."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from liqtui.config import Settings
from liqtui.domain.events import Event, Liquidation, Side
from liqtui.engine import Engine
from liqtui.engine.views import WINDOWS
from liqtui.feeds.demo.market import DemoMarket
from liqtui.feeds.event_source import BulkEmit
from liqtui.feeds.replay import ReplaySource
from liqtui.storage import Recorder, describe, read_events, warm

HOUR_MS = 3_600_000


class OneByOne:
    """An engine reached only through ``apply`` (what every caller did before the bulk path)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def apply(self, event: Event) -> None:
        self.engine.apply(event)


def _stress_events() -> list[Event]:
    market = DemoMarket(Settings(), seed=3, rate="stress", backfill_hours=2, log_size=0)
    events = market.start_events()
    for _ in range(25):  # 2.5 simulated seconds at stress: ~20,000 liquidations
        events += market.step(100)
    return events


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A stress demo recording, then damage: a liquidation's time as text, another's price a blob,
    one OI value a blob, a ticker of a market the file does not name."""
    events = _stress_events()
    path = tmp_path_factory.mktemp("bulk") / "stress.sqlite"
    with Recorder(path, source_mode="DEMO") as recorder:
        for event in events:
            recorder.add(event)
    conn = sqlite3.connect(path)
    seqs = [s for (s,) in conn.execute("SELECT seq FROM liquidations ORDER BY seq LIMIT 3 OFFSET 5000")]
    conn.execute("UPDATE liquidations SET time = 'later' WHERE seq = ?", (seqs[0],))
    conn.execute("UPDATE liquidations SET price = x'00ff' WHERE seq = ?", (seqs[2],))
    conn.execute("UPDATE open_interest SET usd = x'00ff' WHERE seq = (SELECT max(seq) FROM open_interest)")
    conn.execute("UPDATE tickers SET market = 999 WHERE seq = (SELECT min(seq) FROM tickers)")
    conn.commit()
    conn.close()
    return path


def _state(engine: Engine, now_ms: int) -> dict:
    """What a reader of the engine can see: every symbol's view (totals, tape rows, levels, sweeps) in
    every window, the realized cells of every venue, the heatmap's columns, the raw tape."""
    symbols = engine.symbols()
    out: dict = {"symbols": symbols, "rejected": engine.rejected, "recent": engine.state.tape.recent()}
    for symbol in [*symbols, "all"]:
        venues = [*engine.realized.venues(symbol), "all"]
        for window in WINDOWS:
            out[symbol, window] = engine.view(symbol, now_ms, window=window)
            out[symbol, window, "cells"] = [
                engine.realized.cell(v, symbol, side, window, now_ms) for v in venues for side in Side
            ]
        if symbol != "all":
            heat = engine.heatmap(symbol, now_ms, 2 * HOUR_MS, 300_000)
            out[symbol, "heatmap"] = None if heat is None else list(heat.cells())
            out[symbol, "rows"] = engine.state.tape.rows()
    return out


def test_warm_up_in_bulk_equals_one_event_at_a_time(recording):
    now = describe(recording).end_ms
    bulk, single = Engine(), Engine()
    n_bulk = warm(bulk, recording, now, source_mode="DEMO")
    n_single = warm(OneByOne(single), recording, now, source_mode="DEMO")
    assert n_bulk == n_single > 10_000
    assert _state(bulk, now) == _state(single, now)


async def _catch_up(path, emit) -> ReplaySource:
    """A replay started at the recording's end: everything is its catch-up."""
    source = ReplaySource(path, speed=0, start_ms=describe(path).end_ms, hold_at_end=False)
    await asyncio.wait_for(source.run(emit), 60)
    return source


async def test_a_replay_catch_up_in_bulk_equals_one_event_at_a_time_and_says_what_it_skipped(recording):
    bulk, single = Engine(), Engine()
    lists: list[list] = []

    def many(events) -> None:
        lists.append(list(events))
        bulk.apply_many(events)

    bulk_source = await _catch_up(recording, BulkEmit(bulk.apply, many))
    single_source = await _catch_up(recording, single.apply)
    assert max(map(len, lists)) > 100  # the catch-up went through the bulk path
    # Only runs of liquidations go as lists: an OI step costs up to a millisecond, so a list of them
    # would hold the event loop (the desk's first frame waited seconds for one).
    assert all(len(got) == 1 or all(isinstance(e, Liquidation) for e in got) for got in lists)
    now = describe(recording).end_ms
    assert _state(bulk, now) == _state(single, now)
    note = "skipped 4 damaged rows (liquidations 2, oi 1, tickers 1)"
    assert note in bulk_source.damage_note and note in single_source.damage_note
    assert bulk_source.emitted == single_source.emitted == len(list(read_events(recording)))


def test_hostile_liquidations_are_rejected_alike_in_a_run():
    events = _stress_events()
    base = next(e for e in events if isinstance(e, Liquidation))
    hostile = [
        Liquidation(base.venue, base.symbol, base.side, float("nan"), 1.0, 1.0, base.time, base.time),
        Liquidation(base.venue, base.symbol, base.side, 1.0, 1.0, float("inf"), base.time, base.time),
        Liquidation(base.venue, base.symbol, base.side, -5.0, 1.0, 1.0, base.time, base.time),
        Liquidation(base.venue, base.symbol, base.side, 1.0, 1.0, -1.0, base.time, base.time),
        Liquidation(base.venue, base.symbol, base.side, 7, 1.0, 5, base.time, base.time),  # ints: used
    ]
    mixed = list(events)
    for i, liq in enumerate(hostile):
        mixed.insert(len(mixed) // 2 + i * 37, liq)
    bulk, single = Engine(), Engine()
    bulk.apply_many(mixed)
    for event in mixed:
        single.apply(event)
    now = max(getattr(e, "time", 0) for e in mixed)
    assert bulk.rejected == single.rejected == 4
    assert _state(bulk, now) == _state(single, now)


def test_the_alert_rules_over_runs_say_the_same_alerts_in_the_same_order():
    """The desk's bulk path: each run into the engine at once, then its liquidations to the rules."""
    from liqtui.engine.alerts import AlertEvaluator, Rule
    from liqtui.engine.engine import liquidation_runs

    events = _stress_events()
    since = events[-1].time - 2_000  # the last two seconds are news, the rest feeds the rules' memory
    rules = [
        *Settings().alerts.active_rules(),
        Rule("big", "liquidation", min_usd=20_000, cooldown_ms=300),
        Rule("burst", "burst", min_usd=500_000, window_ms=1_000, cooldown_ms=500),
    ]
    bulk, single = Engine(), Engine()
    bulk_alerts, single_alerts = AlertEvaluator(rules, bulk, since), AlertEvaluator(rules, single, since)
    said_bulk, said_single = [], []
    for item in liquidation_runs(events):
        if isinstance(item, list):
            bulk.apply_liquidations(item)
            said_bulk += bulk_alerts.see_liquidations(item)
        else:
            bulk.apply(item)
            said_bulk += bulk_alerts.see(item)
    for event in events:
        single.apply(event)
        said_single += single_alerts.see(event)
    said_bulk += bulk_alerts.flush()
    said_single += single_alerts.flush()
    assert len({a.rule for a in said_single}) >= 2 and any(a.update for a in said_single)
    assert said_bulk == said_single


def test_a_group_whose_cooldown_ran_out_inside_a_run_ends_there_as_one_by_one():
    from liqtui.engine.alerts import AlertEvaluator, Rule

    t0 = 1_769_860_800_000
    rules = [
        Rule("big", "liquidation", min_usd=10_000, cooldown_ms=1_000),
        Rule("burst", "burst", min_usd=25_000, window_ms=1_000, cooldown_ms=1_000),
    ]

    def liq(t: int, usd: float, symbol: str = "BTC/USDT:USDT") -> Liquidation:
        return Liquidation("bybit", symbol, Side.LONG, 80_000.0, usd / 80_000.0, usd, t, t)

    # One liquidation opens both rules' alerts, the next adds to both; small ones pass the second
    # their cooldowns end (the once-a-second sweep ends them, with their updates); then another coin.
    run = [liq(t0, 30_000), liq(t0 + 100, 30_000), liq(t0 + 1_500, 10), liq(t0 + 2_600, 10)]
    run.append(liq(t0 + 2_700, 50_000, "ETH/USDT:USDT"))
    bulk, single = AlertEvaluator(rules, Engine()), AlertEvaluator(rules, Engine())
    said_single = [a for e in run for a in single.see(e)] + single.flush()
    said_bulk = bulk.see_liquidations(run) + bulk.flush()
    assert [(a.rule, a.symbol[:3], a.update) for a in said_single] == [
        ("big", "BTC", False),
        ("burst", "BTC", False),
        ("big", "BTC", True),  # ended by the sweep, before ETH's alerts
        ("burst", "BTC", True),
        ("big", "ETH", False),
        ("burst", "ETH", False),
    ]
    assert said_bulk == said_single
