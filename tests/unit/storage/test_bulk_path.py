"""The bulk path (``Engine.apply_many``: a run of liquidations at once) leaves exactly the engine state
of ``Engine.apply`` one event at a time, on a recorded stress stream with damaged rows: through
``warm``, through a replay's catch-up, and straight into the engine with hostile liquidations.

A warm-up and a replay read the liquidations as columns (``read_runs``: ``LiquidationBatch``), applied
without an object per row; the state is the same to the bit (each sum adds its rows in their order),
so every comparison here is ``==``, floats included."""

from __future__ import annotations

import asyncio
import random
import sqlite3

import pytest

from liqtui.config import Settings
from liqtui.domain.events import Event, HeatmapBucket, Liquidation, LiquidationSource, OpenInterest, Side
from liqtui.engine import Engine
from liqtui.engine import tape as tape_module
from liqtui.engine.batch import LiquidationBatch
from liqtui.engine.tape import LiquidationTape
from liqtui.engine.views import WINDOWS, TapeFilter
from liqtui.feeds import replay
from liqtui.feeds.demo.market import DemoMarket
from liqtui.feeds.event_source import BulkEmit
from liqtui.feeds.replay import ReplaySource
from liqtui.storage import Recorder, describe, read_events, warm
from liqtui.storage.reader import read_runs, start_warm
from liqtui.storage.schema import StoreError

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
    # The heatmap's realized marks as kept (what a closed bucket records; after the views, which sum
    # what a bulk path left waiting), beside the drawn columns.
    out["marks"] = {
        (s, v): dict(t.realized) for s, tracks in engine.heat._tracks.items() for v, t in tracks.items()
    }
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
    # Runs of liquidations go as lists, and so do the other events between them (the backfill's
    # thousands), a few at a time: an OI step costs up to a millisecond, so a long list of them would
    # hold the event loop (the desk's first frame once waited seconds for lists of 1,024).
    others = [got for got in lists if not all(isinstance(e, Liquidation) for e in got)]
    assert not any(isinstance(e, Liquidation) for got in others for e in got)
    assert max(map(len, others)) == replay._CATCH_RUN
    now = describe(recording).end_ms
    assert _state(bulk, now) == _state(single, now)
    note = "skipped 4 damaged rows (liquidations 2, oi 1, tickers 1)"
    assert note in bulk_source.damage_note and note in single_source.damage_note
    assert bulk_source.emitted == single_source.emitted == len(list(read_events(recording)))


async def test_a_catch_up_s_events_read_before_the_reader_fails_go_in_before_it_raises(recording):
    """The other events a catch-up takes into one list: those read before the reader raised are
    handed over first, as one at a time did, then the failure ends the source."""
    first = [e for e in read_events(recording) if not isinstance(e, Liquidation)][:3]

    def failing():
        yield from first
        raise StoreError("the file went away")

    source = ReplaySource(recording, speed=0, start_ms=describe(recording).end_ms, hold_at_end=False)
    source._read = failing  # type: ignore[method-assign]
    got: list = []
    with pytest.raises(StoreError, match="went away"):
        await asyncio.wait_for(source.run(BulkEmit(got.append, got.extend)), 60)
    assert got == first and source.emitted == 3


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


def _alerts_bulk_and_one_by_one(runs, events, since):
    """The alerts said by rules fed ``runs`` (lists or batches of liquidations at once, other events
    one by one), as the desk's bulk path does, and by rules fed ``events`` one at a time."""
    from liqtui.engine.alerts import AlertEvaluator, Rule

    rules = [
        *Settings().alerts.active_rules(),
        Rule("big", "liquidation", min_usd=20_000, cooldown_ms=300),
        Rule("burst", "burst", min_usd=500_000, window_ms=1_000, cooldown_ms=500),
    ]
    bulk, single = Engine(), Engine()
    bulk_alerts, single_alerts = AlertEvaluator(rules, bulk, since), AlertEvaluator(rules, single, since)
    said_bulk, said_single = [], []
    for item in runs:
        if isinstance(item, list | LiquidationBatch):
            bulk.apply_liquidations(item)
            said_bulk += bulk_alerts.see_liquidations(item)
        else:
            bulk.apply(item)
            said_bulk += bulk_alerts.see(item)
    for event in events:
        single.apply(event)
        said_single += single_alerts.see(event)
    return said_bulk + bulk_alerts.flush(), said_single + single_alerts.flush()


def test_the_alert_rules_over_runs_say_the_same_alerts_in_the_same_order():
    """The desk's bulk path: each run into the engine at once, then its liquidations to the rules."""
    from liqtui.engine.engine import liquidation_runs

    events = _stress_events()
    since = events[-1].time - 2_000  # the last two seconds are news, the rest feeds the rules' memory
    said_bulk, said_single = _alerts_bulk_and_one_by_one(liquidation_runs(events), events, since)
    assert len({a.rule for a in said_single}) >= 2 and any(a.update for a in said_single)
    assert said_bulk == said_single


def test_a_burst_alert_live_through_a_stress_stream_adds_every_trigger_as_one_by_one():
    """The burst rule triggers for a large part of the liquidations at stress; over runs, a trigger
    that adds to its open alert is never built: the alerts, their running USD and counts, are those
    of one by one (the whole stream live, so thousands of triggers add to a few alerts)."""
    from liqtui.engine.alerts import AlertEvaluator, Rule
    from liqtui.engine.engine import liquidation_runs

    events = _stress_events()
    rules = [
        Rule("burst", "burst", min_usd=200_000, window_ms=2_000, cooldown_ms=60_000),
        Rule("burst longs", "burst", side=Side.LONG, min_usd=100_000, window_ms=500, cooldown_ms=200),
    ]
    since = min(e.time for e in events if type(e) is Liquidation)
    bulk, single = AlertEvaluator(rules, Engine(), since), AlertEvaluator(rules, Engine(), since)
    said_single = [a for e in events for a in single.see(e)] + single.flush()
    said_bulk = []
    for item in liquidation_runs(events):
        said_bulk += bulk.see_liquidations(item) if isinstance(item, list) else bulk.see(item)
    said_bulk += bulk.flush()
    assert said_bulk == said_single
    assert sum(a.count or 0 for a in said_single if a.update and a.rule == "burst") > 1_000
    assert sum(not a.update for a in said_single if a.rule == "burst longs") > 1


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
    columns = AlertEvaluator(rules, Engine())
    said_columns = columns.see_liquidations(LiquidationBatch.of(run)) + columns.flush()
    assert said_columns == said_single
    assert [(a.rule, a.symbol[:3], a.update) for a in said_single] == [
        ("big", "BTC", False),
        ("burst", "BTC", False),
        ("big", "BTC", True),  # ended by the sweep, before ETH's alerts
        ("burst", "BTC", True),
        ("big", "ETH", False),
        ("burst", "ETH", False),
    ]
    assert said_bulk == said_single


def _expanded(items) -> list[Event]:
    return [e for item in items for e in (item if isinstance(item, LiquidationBatch) else (item,))]


@pytest.fixture(scope="module")
def edgy(tmp_path_factory):
    """The stress stream with every edge the bulk reader meets: damaged rows (a text time, a blob price,
    an unknown market; a side of 7 in a read of numbers only), rows the engine rejects (a zero price, a negative USD: sound in the file), a
    recorded heatmap bucket that stands for later liquidations' marks, an OI sample sharing a
    liquidation's millisecond, and liquidations of a venue and symbol the demo does not have."""
    events = _stress_events()
    liqs = [e for e in events if isinstance(e, Liquidation)]
    base = liqs[len(liqs) // 2]
    t = base.time
    extra: list[Event] = [
        Liquidation(base.venue, base.symbol, base.side, 0.0, 1.0, 5.0, t, t),
        Liquidation(base.venue, base.symbol, base.side, base.price, 1.0, -5.0, t, t),
        Liquidation(
            "okx", "DOGE/USDT:USDT", Side.SHORT, 0.1, 10.0, 1.0, t, t + 3, True, LiquidationSource.FEED
        ),
        Liquidation(
            "hyperliquid", "DOGE/USDC:USDC", Side.LONG, 0.1, 10.0, 1.0, t, t, True, LiquidationSource.TRACKED
        ),
        HeatmapBucket(
            base.venue, base.symbol, t - 1, t - t % 300_000, _grid(events, base), None, None, 1.0, 2.0
        ),
    ]
    oi = next(e for e in events if type(e).__name__ == "OpenInterest" and e.time > t)
    extra.append(Liquidation(oi.venue, oi.symbol, Side.LONG, base.price, 1.0, 2.0, oi.time, oi.time))
    path = tmp_path_factory.mktemp("edgy") / "edgy.sqlite"
    with Recorder(path, source_mode="DEMO") as recorder:
        for event in sorted(events + extra, key=lambda e: getattr(e, "time", 0)):
            recorder.add(event)
    conn = sqlite3.connect(path)
    seqs = [s for (s,) in conn.execute("SELECT seq FROM liquidations ORDER BY seq LIMIT 4 OFFSET 7000")]
    conn.execute("UPDATE liquidations SET time = 'later' WHERE seq = ?", (seqs[0],))
    conn.execute("UPDATE liquidations SET price = x'00ff' WHERE seq = ?", (seqs[1],))
    conn.execute("UPDATE liquidations SET market = 999 WHERE seq = ?", (seqs[2],))
    # Damage of the right types (numbers a reader refuses), alone in an early read of the bulk reader.
    early = [s for (s,) in conn.execute("SELECT seq FROM liquidations ORDER BY seq LIMIT 2 OFFSET 100")]
    conn.execute("UPDATE liquidations SET market = 999 WHERE seq = ?", (early[0],))
    conn.execute("UPDATE liquidations SET side = 7 WHERE seq = ?", (early[1],))
    conn.commit()
    conn.close()
    return path


def _grid(events: list[Event], liq: Liquidation) -> float:
    """The heatmap's row height for ``liq``'s symbol in an engine given ``events`` (a recorded bucket
    of another grid is not taken)."""
    probe = Engine()
    probe.apply_many(events)
    grid = probe.heat.grid(liq.symbol)
    assert grid is not None
    return grid


def test_the_bulk_reader_gives_the_same_events_in_the_same_order_and_counts_the_same_damage(edgy, recording):
    for path in (edgy, recording):
        objects, runs = read_events(path), read_runs(path)
        items = list(runs)
        assert _expanded(items) == list(objects)
        assert runs.skipped == objects.skipped and sum(runs.skipped.values()) >= 4
        assert any(isinstance(i, LiquidationBatch) and len(i) > 100 for i in items)
        assert all(len(i) for i in items if isinstance(i, LiquidationBatch))
    end = describe(edgy).end_ms
    middle = end - 1_000
    assert _expanded(read_runs(edgy, middle - 500, middle)) == list(read_events(edgy, middle - 500, middle))


def test_a_warm_up_and_a_catch_up_with_every_edge_equal_one_event_at_a_time(edgy):
    now = describe(edgy).end_ms
    bulk, single = Engine(), Engine()
    assert warm(bulk, edgy, now, source_mode="DEMO") == warm(OneByOne(single), edgy, now, source_mode="DEMO")
    assert bulk.rejected == single.rejected == 2
    assert "DOGE/USDT:USDT" in bulk.symbols()
    assert _state(bulk, now) == _state(single, now)
    replayed = Engine()
    asyncio.run(_catch_up(edgy, BulkEmit(replayed.apply, replayed.apply_many)))
    objects = Engine()
    for event in read_events(edgy):
        objects.apply(event)
    assert _state(replayed, now) == _state(objects, now)


def test_a_warm_up_in_steps_shows_progress_and_keeps_each_step_short(recording):
    now = describe(recording).end_ms
    warming = start_warm(Engine(), recording, now, source_mode="DEMO")
    shares, counts = [], []
    while warming.step():
        shares.append(warming.share)
        counts.append(warming.count)
    assert len(shares) >= 3 and shares == sorted(shares) and 0 < shares[0] < shares[-1] <= 1.0
    # A step spends a budget (a liquidation 1, another event EVENT_COST): never the whole history at once.
    steps = [b - a for a, b in zip([0, *counts], counts, strict=False)]
    assert max(steps) < counts[-1] / 2


def _liqs_of(events) -> list[Liquidation]:
    return [e for e in events if isinstance(e, Liquidation)]


@pytest.mark.parametrize(
    "tape_filter", [TapeFilter(), TapeFilter(min_usd=5_000.0), TapeFilter(symbol="ETH/USDT:USDT")]
)
@pytest.mark.parametrize("rows_kept", [2, 40, 512])
def test_the_tape_folds_a_batch_as_one_by_one_even_when_groups_are_pushed_out(tape_filter, rows_kept):
    liqs = _liqs_of(_stress_events())
    bulk = LiquidationTape(rows_kept=rows_kept, history_kept=300)
    single = LiquidationTape(rows_kept=rows_kept, history_kept=300)
    for tape in (bulk, single):
        tape.set_filter(tape_filter)
    for k in range(0, len(liqs), 700):
        bulk.add_batch(LiquidationBatch.of(liqs[k : k + 700]))
        assert bulk.rows() == _added(single, liqs[k : k + 700]).rows()
    assert bulk.recent() == single.recent()
    bulk.set_filter(TapeFilter(min_usd=20_000.0))
    single.set_filter(TapeFilter(min_usd=20_000.0))
    assert bulk.rows() == single.rows()


@pytest.mark.parametrize(
    "tape_filter", [TapeFilter(), TapeFilter(min_usd=5_000.0), TapeFilter(symbol="ETH/USDT:USDT")]
)
@pytest.mark.parametrize("rows_kept", [2, 40, 512])
def test_the_tape_folds_a_run_as_one_by_one_late_ones_and_pushed_out_groups_too(tape_filter, rows_kept):
    # The live path's runs (add_many: a liquidation that joins its open group folded in the loop),
    # runs of 1 to 250, some with their times shuffled (late ones join a group or open one).
    rnd = random.Random(rows_kept)
    liqs = _liqs_of(_stress_events())[:20_000]
    bulk = LiquidationTape(rows_kept=rows_kept, history_kept=300)
    single = LiquidationTape(rows_kept=rows_kept, history_kept=300)
    for tape in (bulk, single):
        tape.set_filter(tape_filter)
    k = 0
    while k < len(liqs):
        n = rnd.choice([1, 7, 250])
        run = liqs[k : k + n]
        k += n
        if rnd.random() < 0.3:
            run = sorted(run, key=lambda liq: liq.time + rnd.randrange(-3_000, 3_000))
        bulk.add_many(run)
        assert bulk.rows() == _added(single, run).rows()
    assert bulk.recent() == single.recent()


def test_every_size_tier_keeps_the_history_of_one_by_one_when_waiting_batches_are_cut(monkeypatch):
    monkeypatch.setattr(tape_module, "PENDING_ROWS", 1_000)  # cut every 1,000 rows (_trim)
    liqs = _liqs_of(_stress_events())
    bulk, single = LiquidationTape(history_kept=30), LiquidationTape(history_kept=30)
    for k in range(0, len(liqs), 700):
        bulk.add_batch(LiquidationBatch.of(liqs[k : k + 700]))
        _added(single, liqs[k : k + 700])
    assert bulk.recent() == single.recent()
    assert {t: list(h) for t, h in bulk._history.items()} == {t: list(h) for t, h in single._history.items()}
    assert [len(h) for h in single._history.values()] == [30, 30, 30, 1, 0]  # full tiers and a part-full one
    bulk.set_filter(TapeFilter(min_usd=100_000.0))
    single.set_filter(TapeFilter(min_usd=100_000.0))
    assert bulk.rows() == single.rows()


def _added(tape: LiquidationTape, liqs: list[Liquidation]) -> LiquidationTape:
    for liq in liqs:
        tape.add(liq)
    return tape


def test_a_batch_out_of_time_order_is_applied_as_its_objects():
    liqs = _liqs_of(_stress_events())[:3_000]
    shuffled = liqs[1_000:2_000] + liqs[:1_000] + liqs[2_000:]
    bulk, single = Engine(), Engine()
    bulk.apply_liquidations(LiquidationBatch.of(shuffled))
    for liq in shuffled:
        single.apply(liq)
    now = max(liq.time for liq in liqs)
    assert _state(bulk, now) == _state(single, now)


def test_the_alert_rules_over_batches_say_the_same_alerts_in_the_same_order(edgy):
    since = describe(edgy).end_ms - 2_000
    said_bulk, said_single = _alerts_bulk_and_one_by_one(read_runs(edgy), read_events(edgy), since)
    assert len({a.rule for a in said_single}) >= 2 and any(a.update for a in said_single)
    assert said_bulk == said_single


def _crossing_events() -> list[Event]:
    """BTC liquidations with ETH's OI steps, book, recorded bucket and ticker between them (a run may go
    past those), then BTC's own OI step (it ends a run), BTC's own ticker (gone past: its market's model
    is there), a ticker making bybit BTC's model after a bybit BTC row, a new symbol's ticker and an
    ETH row after an ETH event the run went past (each ends a run), and ETH rows around another venue's
    ETH OI step."""
    from liqtui.domain.events import BookSnapshot, OpenInterest, Ticker

    t0 = 1_700_000_100_000
    btc, eth = "BTC/USDT:USDT", "ETH/USDT:USDT"

    def liq(symbol: str, dt: int, price: float) -> Liquidation:
        return Liquidation("binance", symbol, Side.LONG, price, 1.0, price, t0 + dt, t0 + dt)

    def oi(symbol: str, dt: int, base: float, venue: str = "binance") -> OpenInterest:
        return OpenInterest(venue, symbol, base, base * (50_000.0 if symbol == btc else 3_000.0), t0 + dt)

    def book(symbol: str, dt: int) -> BookSnapshot:
        return BookSnapshot("binance", symbol, ((2_999.0, 1.0),), ((3_001.0, 1.0),), t0 + dt)

    bucket = HeatmapBucket("binance", eth, t0 + 15, t0 - t0 % 300_000, 10.0, None, None, 2_990.0, 3_010.0)
    return [
        Ticker("binance", btc, t0, last=50_000.0),
        Ticker("binance", eth, t0, last=3_000.0),
        oi(btc, 1, 100.0),
        oi(eth, 1, 1_000.0),
        liq(eth, 5, 2_995.0),
        liq(btc, 6, 49_950.0),
        book(btc, 7),  # neither symbol has its grid yet (their first rows are in this run): it ends
        liq(btc, 10, 49_900.0),
        oi(eth, 11, 1_010.0),
        liq(btc, 12, 49_800.0),
        book(eth, 13),
        liq(btc, 14, 49_700.0),
        bucket,
        liq(btc, 16, 49_600.0),
        Ticker("binance", eth, t0 + 17, last=2_990.0),
        liq(btc, 18, 49_500.0),
        oi(btc, 20, 90.0),  # the run's own market: it ends there
        liq(btc, 21, 49_400.0),
        liq(eth, 22, 2_980.0),
        Ticker("binance", btc, t0 + 23, last=49_350.0),  # BTC's own, its model there: gone past
        liq(btc, 24, 49_300.0),
        Liquidation("bybit", btc, Side.LONG, 49_310.0, 1.0, 49_310.0, t0 + 24, t0 + 24),
        Ticker("bybit", btc, t0 + 24, last=49_320.0),  # makes its market's model: the run ends
        Ticker("binance", "SOL/USDT:USDT", t0 + 25, last=100.0),  # a symbol not listed yet: it ends
        liq(btc, 26, 49_200.0),
        oi(eth, 27, 1_020.0),  # gone past, but the next row is ETH's: the run ends before it
        liq(eth, 28, 2_970.0),
        oi(eth, 29, 500.0, "bybit"),  # another venue's ETH: gone past
        liq(eth, 30, 2_960.0),
    ]


def test_a_run_goes_past_other_symbols_events_and_its_own_tickers_and_books_and_ends_at_the_rest(tmp_path):
    events = _crossing_events()
    path = tmp_path / "crossing.sqlite"
    with Recorder(path, source_mode="DEMO") as recorder:
        for event in events:
            recorder.add(event)
    runs = read_runs(path)
    runs.merge_until = events[-1].time
    items = list(runs)
    shape = [len(i) if isinstance(i, LiquidationBatch) else type(i).__name__ for i in items]
    assert shape == [
        *["Ticker", "Ticker", "OpenInterest", "OpenInterest"],
        2,
        "BookSnapshot",
        5,
        *["OpenInterest", "BookSnapshot", "HeatmapBucket", "Ticker"],
        "OpenInterest",
        4,
        *["Ticker", "Ticker", "Ticker"],
        1,
        "OpenInterest",
        2,
        "OpenInterest",
    ]
    # Without merge_until (a replay that plays), every other event ends a run, as before.
    plain = [len(i) for i in read_runs(path) if isinstance(i, LiquidationBatch)]
    assert plain == [2, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1]
    bulk, single = Engine(), Engine()
    for item in items:
        bulk.apply_many(item) if isinstance(item, LiquidationBatch) else bulk.apply(item)
    for event in read_events(path):
        single.apply(event)
    now = events[-1].time
    assert _state(bulk, now) == _state(single, now)


def test_a_merged_warm_up_equals_the_events_one_at_a_time(edgy):
    now = describe(edgy).end_ms
    merged = read_runs(edgy)
    merged.merge_until = now
    items = list(merged)
    plain = [i for i in read_runs(edgy) if isinstance(i, LiquidationBatch)]
    batches = [i for i in items if isinstance(i, LiquidationBatch)]
    assert len(batches) < len(plain) // 2 and sum(map(len, batches)) == sum(map(len, plain))
    bulk, single = Engine(), Engine()
    for item in items:
        bulk.apply_many(item) if isinstance(item, LiquidationBatch) else bulk.apply(item)
    for event in read_events(edgy):
        single.apply(event)
    assert _state(bulk, now) == _state(single, now)


def _rules_memory(evaluator) -> list:
    """What the rules remember (burst and cascade windows to the bit, when each read the engine), rule by rule."""

    def window(w) -> tuple:
        return [list(b) for b in w.buckets], list(w.totals), dict(w.seen), w._expired_at

    out = []
    detectors = {id(d.__self__): d.__self__ for ds in evaluator._detectors.values() for _r, d in ds}
    for detector in detectors.values():
        if hasattr(detector, "checked") or hasattr(detector, "seen"):  # cluster_near, position_near, swept
            out.append(dict(getattr(detector, "checked", None) or detector.seen))
        elif hasattr(detector, "windows"):
            out.append({s: window(w) for s, w in detector.windows.items()})
        elif hasattr(detector, "states"):
            out.append(
                {
                    s: (window(st.window), st.window_index, st.window_usd, list(st.past), st.threshold)
                    for s, st in detector.states.items()
                }
            )
    return out


def _merged_until(path, until_ms: int):
    """``read_runs`` as a replay's first catch-up reads: its runs go past other events up to ``until_ms``."""
    runs = read_runs(path)
    runs.merge_until = until_ms
    return runs


def test_a_catch_up_read_as_columns_leaves_the_rules_the_memory_and_alerts_of_one_by_one(edgy, monkeypatch):
    """A replay's catch-up (history: nothing fires) hands the rules batches that they remember as columns,
    no object per row, and the other events that they remember without reading the engine where
    nothing fires; then the replay plays: the same memory to the bit, the same alerts after."""
    from liqtui.engine.alerts import AlertEvaluator, Rule

    absorbed = []
    absorb = AlertEvaluator._absorb
    monkeypatch.setattr(AlertEvaluator, "_absorb", lambda self, b: absorbed.append(len(b)) or absorb(self, b))
    rules = [
        *Settings().alerts.active_rules(),
        Rule("big", "liquidation", min_usd=20_000, cooldown_ms=300),
        Rule("burst", "burst", min_usd=500_000, window_ms=1_000, cooldown_ms=500),
        Rule("long", "burst", min_usd=100_000, window_ms=2_000, side=Side.LONG, venues=frozenset({"bybit"})),
        Rule("fast cascade", "cascade", min_usd=1.0, window_ms=1_500, percentile=50.0, k=0.0, side_share=0.5),
        Rule("near", "position_near", pct=100.0),
    ]
    cut = describe(edgy).end_ms - 1_000  # the catch-up's end: the last second plays
    said, memory = [], []
    # The columns and one by one told it is history, then the rules as they were, every event through
    # ``see`` and nothing before the catch-up's end said (``since_ms``).
    for bulk, history in ((True, True), (False, True), (False, False)):
        engine, catching_up = Engine(), [True]
        told = (lambda flag=catching_up: flag[0]) if history else None
        rules_now = AlertEvaluator(rules, engine, since_ms=0 if history else cut + 1, history=told)
        out = []
        for item in _merged_until(edgy, cut) if bulk else read_events(edgy):
            pieces = [item]
            if isinstance(item, LiquidationBatch):  # a batch the catch-up's end goes through: in two
                k = int(item.time.searchsorted(cut, side="right"))
                pieces = [p for p in (item[:k], item[k:]) if len(p)]
            for piece in pieces:
                first = piece.time[0] if isinstance(piece, LiquidationBatch) else getattr(piece, "time", 0)
                if catching_up[0] and first > cut:  # the catch-up's end: what the rules remember then
                    memory.append(_rules_memory(rules_now))
                catching_up[0] = first <= cut
                if isinstance(piece, LiquidationBatch):
                    engine.apply_liquidations(piece)
                    out += rules_now.see_liquidations(piece)
                else:
                    engine.apply(piece)
                    out += rules_now.see(piece)
        said.append(out + rules_now.flush())
        memory.append(_rules_memory(rules_now))
    assert absorbed and sum(absorbed) > 10_000  # the catch-up's rows went as columns
    # At the catch-up's end and at the end, every rule with a memory remembered the same
    assert memory[0] == memory[2] == memory[4] and all(memory[4])
    assert memory[1] == memory[3] == memory[5]
    assert len({a.rule for a in said[2]}) >= 2
    assert said[0] == said[1] == said[2]


def _busiest_ms(path) -> int:
    """The millisecond holding the most events (the catch-up's end there: the child reads them all)."""
    from collections import Counter

    return Counter(getattr(e, "time", None) for e in read_events(path)).most_common(1)[0][0]


def test_runs_with_their_liquidations_read_elsewhere_equal_the_runs_read_at_once(edgy):
    """A read-ahead's child reads the liquidations alone (``read_liquidations``) and this process the
    other events beside them (``read_runs(liquidations=...)``): the same items in the same order, the
    damaged rows skipped alike (counted on the side that reads them), up to a time and from the start."""
    from liqtui.storage.layouts import damage_note
    from liqtui.storage.reader import newest_seq, read_liquidations

    until = _busiest_ms(edgy)
    for end in (until, None):
        here = read_runs(edgy, until_ms=end)
        here.merge_until = until
        top = newest_seq(edgy)
        apart = read_liquidations(edgy, until_ms=end, top_seq=top)
        joined = read_runs(edgy, until_ms=end, top_seq=top, liquidations=apart)
        joined.merge_until = until
        assert _expanded(joined) == _expanded(here)
        assert apart.skipped + joined.skipped == here.skipped and not joined.skipped["liquidations"]
        assert damage_note(edgy, apart.skipped + joined.skipped) == here.note()
    assert apart.skipped["liquidations"] > 0  # from the start: the damaged liquidations, skipped apart


def test_a_read_ahead_hands_out_the_items_read_here_and_its_child_ends_with_it(edgy, monkeypatch):
    """The first catch-up read by a child process: the same events in the same order (the damaged rows
    skipped alike), the rest after the catch-up's end read here (a run may end there); a child that
    says nothing leaves the reading here."""
    import sys

    from liqtui.feeds.replay_ahead import WAIT, ReadAhead

    until = _busiest_ms(edgy)
    here = read_runs(edgy)
    here.merge_until = until
    expected = _expanded(here)
    ahead = ReadAhead(edgy, until)
    assert _expanded(ahead) == expected
    assert ahead.note() == here.note() and "skipped" in ahead.note()
    assert ahead._child.wait(30) == 0  # it ends on its own once it sent its last chunk
    ahead.close()

    stopped = ReadAhead(edgy, until)  # closed part way: its child is ended
    while stopped.poll() is WAIT:
        stopped._pump.join(0.01)
    stopped.close()
    assert stopped._child.returncode is not None

    monkeypatch.setattr(sys, "executable", "/bin/false")  # a child that exits saying nothing
    silent = ReadAhead(edgy, until)
    assert _expanded(silent) == expected


def test_a_child_started_before_it_is_told_what_to_read_hands_out_the_same_items(edgy):
    """The desk starts the reading child first thing (``spare_child``), before it knows the file and
    the catch-up's end: told them later, the child reads as one started then; told nothing, it ends."""
    from liqtui.feeds.replay_ahead import ReadAhead, discard, spare_child

    until = _busiest_ms(edgy)
    here = read_runs(edgy)
    here.merge_until = until
    child = spare_child()
    assert child is not None  # the test machine has two cores or more
    ahead = ReadAhead(edgy, until, child)
    assert ahead._child is child
    assert _expanded(ahead) == _expanded(here)
    assert child.wait(30) == 0
    ahead.close()

    unused = spare_child()
    assert unused is not None
    discard(unused)
    assert unused.returncode is not None


async def test_a_read_ahead_catch_up_is_counted_once_and_its_share_known_from_its_first_event(
    recording, monkeypatch
):
    """The events up to a large first catch-up's end are counted once, when its read-ahead is weighed,
    and that count is the progress line's total from the first event on (a thread counted them again,
    ~20 ms of CPU on a stress minute, the share 0 % until it was done)."""
    from liqtui.feeds import replay

    monkeypatch.setattr(replay, "AHEAD_ROWS", 0)
    calls = []
    count = replay.count_events
    monkeypatch.setattr(replay, "count_events", lambda *args: calls.append(args) or count(*args))
    source = ReplaySource(
        recording, speed=0, start_ms=_busiest_ms(recording), hold_at_end=False, read_ahead=True
    )
    engine, shares = Engine(), []

    def one(event):
        shares.append(source.warmup)
        engine.apply(event)

    def many(events):
        shares.append(source.warmup)
        engine.apply_many(events)

    await asyncio.wait_for(source.run(BulkEmit(one, many)), 60)
    assert len(calls) == 1
    caught = [s for s in shares if s is not None]
    assert caught[0] > 0 and caught == sorted(caught) and caught[-1] == 1.0


async def test_a_replay_takes_the_child_started_for_it_or_ends_it(recording, monkeypatch):
    """``ReplaySource(child=...)``: the read-ahead of a large first catch-up reads with the child the desk
    started; a catch-up read here (short, or none asked) ends the child at once."""
    from liqtui.feeds import replay
    from liqtui.feeds.replay_ahead import ReadAhead, spare_child

    middle = _busiest_ms(recording)
    monkeypatch.setattr(replay, "AHEAD_ROWS", 0)
    child = spare_child()
    source = ReplaySource(
        recording, speed=0, start_ms=middle, hold_at_end=False, read_ahead=True, child=child
    )
    assert isinstance(source._ahead, ReadAhead) and source._ahead._child is child
    engine = Engine()
    await asyncio.wait_for(source.run(BulkEmit(engine.apply, engine.apply_many)), 60)
    assert child.wait(30) == 0 and source.emitted == len(list(read_events(recording)))

    monkeypatch.setattr(replay, "AHEAD_ROWS", 10**9)
    for read_ahead in (True, False):
        child = spare_child()
        source = ReplaySource(recording, start_ms=middle, read_ahead=read_ahead, child=child)
        assert source._ahead is None and child.returncode is not None

    child = spare_child()  # a file that cannot be read: the child ends, the reading here says why
    with pytest.raises(StoreError):
        ReadAhead(recording.parent / "missing.sqlite", middle, child)
    assert child.returncode is not None


async def test_a_desk_s_catch_up_read_ahead_equals_reading_here(recording, monkeypatch):
    """A replay from the middle with its catch-up read by a child (``read_ahead``, as the desk asks):
    the engine's state, the events and the damage said are those of reading here; for a shorter
    catch-up than ``AHEAD_ROWS``, on one core or with no child process to be had, it reads here."""
    import sys

    from liqtui.feeds import replay
    from liqtui.feeds.replay_ahead import ReadAhead

    monkeypatch.setattr(replay, "AHEAD_ROWS", 0)  # the test recording is small
    info = describe(recording)
    middle = _busiest_ms(recording)
    runs = []
    for read_ahead in (True, False):
        engine = Engine()
        source = ReplaySource(recording, speed=0, start_ms=middle, hold_at_end=False, read_ahead=read_ahead)
        await asyncio.wait_for(source.run(BulkEmit(engine.apply, engine.apply_many)), 60)
        runs.append((source, engine))
    (ahead, ahead_engine), (here, here_engine) = runs
    assert isinstance(ahead._stream, ReadAhead) and not isinstance(here._stream, ReadAhead)
    assert _state(ahead_engine, info.end_ms) == _state(here_engine, info.end_ms)
    assert ahead.emitted == here.emitted == len(list(read_events(recording)))
    assert ahead.damage_note == here.damage_note and "skipped 4" in here.damage_note

    from liqtui.storage.reader import count_events

    short = count_events(recording, None, middle) + 1
    for where, name, value in (
        (replay, "AHEAD_ROWS", short),
        (replay, "_cores", lambda: 1),
        (sys, "executable", "/nonexistent/python"),
    ):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(where, name, value)
            engine = Engine()
            source = ReplaySource(recording, speed=0, start_ms=middle, hold_at_end=False, read_ahead=True)
            await asyncio.wait_for(source.run(BulkEmit(engine.apply, engine.apply_many)), 60)
        assert not isinstance(source._stream, ReadAhead)
        assert _state(engine, info.end_ms) == _state(here_engine, info.end_ms)


@pytest.fixture(scope="module")
def plain_recording(tmp_path_factory):
    """A sound recording of 3,000 liquidations (one read of the bulk reader) and a few OI samples."""
    events: list[Event] = []
    for i in range(3_000):
        t = 1_700_000_000_000 + i * 7
        side = Side.LONG if i % 3 else Side.SHORT
        events.append(Liquidation("binance", "BTC/USDT:USDT", side, 50_000.0 + i, 0.01, 500.0 + i, t, t + 4))
        if i % 500 == 0:
            events.append(OpenInterest("binance", "BTC/USDT:USDT", 1_000.0 + i, 5e7 + i, t))
    path = tmp_path_factory.mktemp("plain") / "plain.sqlite"
    with Recorder(path, source_mode="DEMO") as recorder:
        for event in events:
            recorder.add(event)
    return path


# Values a liquidation row can hold in a damaged file that numpy would read as numbers (a blob or a
# text of digits, a fraction in an integer column) though the layout's checks refuse them, and one
# rowid no float holds exactly.
@pytest.mark.parametrize(
    ("column", "value", "damaged"),
    [
        ("price", b"3", 1),
        ("usd", "1_000", 1),
        ("qty", "\u0663", 1),
        ("price", float("inf"), 1),
        ("side", 1.5, 1),
        ("side", 2, 1),
        ("sampled", 6, 1),
        ("sampled", 0.5, 1),
        ("time", "1700000000100", 0),  # a text of digits in an INTEGER column is stored as the number
        ("time", 1_700_000_000_100.5, 1),
        ("recv_delay", 2.5, 1),
        ("recv_delay", 10**14, 1),
        ("market", 1.5, 1),
        ("market", b"\x01", 1),
        ("seq", 2**60 + 1, 0),
    ],
)
def test_the_bulk_reader_refuses_what_the_checks_refuse_though_it_reads_as_a_number(
    plain_recording, tmp_path, column, value, damaged
):
    path = tmp_path / "damaged.sqlite"
    path.write_bytes(plain_recording.read_bytes())
    conn = sqlite3.connect(path)
    conn.execute(
        f"UPDATE liquidations SET {column} = ? WHERE seq = (SELECT max(seq) - 1500 FROM liquidations)",
        (value,),
    )
    conn.commit()
    conn.close()
    objects, runs = read_events(path), read_runs(path)
    assert _expanded(runs) == list(objects)
    assert runs.skipped == objects.skipped and sum(objects.skipped.values()) == damaged


def _warm_ahead(path, now: int, child) -> tuple[Engine, int, list[bool]]:
    """``warm`` in the desk's steps with the liquidations read by ``child`` (``start_warm``'s ``ahead``);
    (the engine, the events applied, each step's ``waiting``)."""
    import time

    from liqtui.feeds.replay_ahead import ReadAhead

    engine = Engine()
    warming = start_warm(
        engine, path, now, source_mode="DEMO", ahead=lambda p, spans, until: ReadAhead(p, until, child, spans)
    )
    waits = []
    while warming.step():
        waits.append(warming.waiting)
        if warming.waiting:
            time.sleep(0.001)  # what the desk does: a turn of its loop while the child reads
    return engine, warming.count, waits


@pytest.mark.parametrize("edge", ["end", "busiest"])
def test_a_warm_up_read_ahead_by_a_child_equals_the_warm_up_read_here(edgy, monkeypatch, edge):
    """The live desk's warm-up with its liquidations read by a child started first (feeds/replay_ahead.py):
    the same engine state and count as read here, with each kind's own span (the liquidations' starting
    mid-file, at a millisecond holding many rows; the warm-up's end at the file's end or at that
    millisecond), the damaged rows skipped alike; the child ends with it."""
    from liqtui.feeds.replay_ahead import spare_child
    from liqtui.storage import reader

    busiest, end = _busiest_ms(edgy), describe(edgy).end_ms
    now = end if edge == "end" else busiest
    monkeypatch.setitem(reader.WARM_SPANS_MS, "liquidations", now - busiest + (0 if edge == "end" else 1_000))
    here = Engine()
    count = warm(here, edgy, now, source_mode="DEMO")
    child = spare_child()
    assert child is not None  # the test machine has two cores or more
    ahead, ahead_count, _waits = _warm_ahead(edgy, now, child)
    assert ahead_count == count > 0
    assert _state(ahead, now) == _state(here, now)
    assert child.poll() is not None  # ended with the warm-up


def test_a_warm_up_step_waits_for_reads_not_there_yet_and_applies_nothing_then():
    """A step meeting an item not read yet (a read-ahead's child behind) ends at once, ``waiting`` set
    (the desk's loop turns, it does not block); the next steps apply the rest in order."""
    import types
    from pathlib import Path

    from liqtui.storage.reader import Warming

    not_yet = object()
    events = [
        OpenInterest("binanceusdm", "BTC/USDT:USDT", 10.0, 1e6, 1_000),
        OpenInterest("okx", "BTC/USDT:USDT", 9.0, 9e5, 1_500),
    ]

    class Reads:
        def __init__(self) -> None:
            self.items = [not_yet, events[0], not_yet, not_yet, events[1]]

        def poll(self):
            return self.items.pop(0) if self.items else None

        def close(self) -> None:
            self.items = []

    seen: list[Event] = []
    engine = types.SimpleNamespace(apply=seen.append)  # what the warm-up applies, in order
    warming = Warming(engine, None, {}, 2_000, Path("unused.sqlite"), 4096, Reads())
    assert warming.step() and warming.waiting and seen == []
    assert warming.step() and warming.waiting and seen == events[:1]
    assert warming.step() and warming.waiting
    assert warming.step() is True and not warming.waiting and seen == events
    assert warming.step() is False and warming.count == 2


def test_the_reading_child_reads_without_the_collector(monkeypatch):
    """The child is a short-lived reader of rows, freed by their count: the collector's passes over
    them were ~8 % of its CPU. Told nothing, it ends; it never renices this test's process."""
    import gc
    import io

    from liqtui.feeds import replay_ahead

    monkeypatch.setattr(replay_ahead.os, "nice", lambda _n: 0)
    monkeypatch.setattr(replay_ahead.sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    assert gc.isenabled()
    try:
        replay_ahead._child()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_events_counted_up_to_the_end_are_those_in_the_span_row_by_row(recording, tmp_path):
    """``count_events`` up to the recording's end (a late replay's catch-up, counted before its first
    frame) takes all the rows but those outside the span; the same count as each row's time looked at:
    damaged times (text, a blob, numbers beyond any time) are in no span."""
    from liqtui.storage.reader import count_events
    from liqtui.storage.schema import EVENT_TABLES

    path = tmp_path / "damaged.sqlite"
    with sqlite3.connect(recording) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    for table, damage in (("open_interest", "x'01'"), ("price_bars", "1e30"), ("tickers", "-1e30")):
        with sqlite3.connect(path) as conn:
            conn.execute(f"UPDATE {table} SET time = {damage} WHERE seq = (SELECT min(seq) FROM {table})")
    info = describe(path)
    with sqlite3.connect(path) as conn:
        times = [t for table in EVENT_TABLES for (t,) in conn.execute(f"SELECT time FROM {table}")]

    def in_span(since, until):
        low, high = -(2**63) if since is None else since, 2**63 - 1 if until is None else until
        return sum(1 for t in times if type(t) in (int, float) and low <= t <= high)

    middle = _busiest_ms(path)
    spans = ((None, None), (None, info.end_ms), (None, info.end_ms - 1), (None, middle), (middle, None))
    for since, until in spans:
        assert count_events(path, since, until) == in_span(since, until)
    assert count_events(path) < len(times)  # the damaged rows are left out
