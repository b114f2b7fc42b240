"""Recording the demo market: `liqtui record --demo` keeps every event the simulator published,
`stats` agrees with totals computed here from the simulator itself, and a replay through
ReplaySource gives an engine the same numbers as feeding it the events directly."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import defaultdict

import pytest

from liqtui.cli import main
from liqtui.config import Settings
from liqtui.domain.events import BookSnapshot, HeatmapBucket, Liquidation, OpenInterest
from liqtui.engine import Engine
from liqtui.engine.heatmap import BUCKET_MS, RANGES
from liqtui.engine.views import WINDOWS
from liqtui.feeds.demo.market import DemoMarket
from liqtui.feeds.replay import ReplaySource
from liqtui.storage import Recorder, event_time, read_events
from liqtui.storage.layouts import BY_TYPE
from liqtui.storage.reader import describe, warm


def stored_form(events):
    """What a recording keeps: the kinds the recorder writes, books at most once a second per market,
    50 levels a side."""
    kept, last_book = [], {}
    for e in events:
        if type(e) not in BY_TYPE:  # a kind the recorder has no table for (counted, not written)
            continue
        if isinstance(e, BookSnapshot):
            key = (e.venue, e.symbol)
            if key in last_book and 0 <= e.time - last_book[key] < 1000:
                continue
            last_book[key] = e.time
            e = BookSnapshot(e.venue, e.symbol, e.bids[:50], e.asks[:50], e.time)
        kept.append(e)
    return kept


def _key(e):
    return event_time(e), type(e).__name__, repr(e)


@pytest.fixture
def no_config(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text("")
    monkeypatch.setenv("LIQTUI_CONFIG", str(config))


LIQTUI = [sys.executable, "-m", "liqtui"]


def _rows_in(path, kind: str) -> int:
    try:
        return describe(path).rows.get(kind, 0)
    except Exception:  # noqa: BLE001 - not created yet
        return 0


def _record_until(out, kind: str, count: int, *demo: str) -> None:
    """`liqtui record --demo` in a subprocess, stopped (SIGINT) once ``count`` rows of ``kind`` are in
    the file: however fast this machine gets through the demo's backfill (the heatmap's engine makes
    the backfill's buckets first), the test sees what it needs."""
    proc = subprocess.Popen(
        [*LIQTUI, "record", "--demo", *demo, "--out", str(out)], stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 180
        while _rows_in(out, kind) <= count and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()


def test_record_demo_keeps_what_the_simulator_published_and_stats_agree(tmp_path, capsys, no_config):
    out = tmp_path / "demo.sqlite"
    _record_until(out, "liquidations", 2000, "--seed", "3", "--rate", "stress")
    recorded = [e for e in read_events(out) if not isinstance(e, HeatmapBucket)]  # buckets: next test
    # The same seed, stepped here without the clock, publishes the same market.
    market = DemoMarket(seed=3, rate="stress")
    sent = market.start_events()
    while len(stored_form(sent)) < len(recorded):
        sent += market.step(100)
    # The demo hands a tick's events out in chunks (feeds/demo/source.py), so Ctrl-C can land inside
    # a tick: the recording is then a prefix of what the simulator publishes, in the order published.
    expected = stored_form(sent)[: len(recorded)]
    assert sorted(recorded, key=_key) == sorted(expected, key=_key)
    liquidations = [e for e in expected if isinstance(e, Liquidation)]
    assert len(liquidations) > 2000  # the stress rate really was recorded

    capsys.readouterr()
    assert main(["stats", str(out), "--json", "--window", "all"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["source_mode"] == "DEMO"
    cells = defaultdict(lambda: [0, 0.0, 0.0])
    for e in liquidations:
        cell = cells[e.venue, e.symbol, e.side.value]
        cell[0] += 1
        cell[1] += e.usd
        cell[2] = max(cell[2], e.usd)
    rows = {(r["venue"], r["symbol"], r["side"]): r for r in stats["liquidations"]}
    assert set(rows) == set(cells)
    for key, (count, usd, largest) in cells.items():
        assert (rows[key]["count"], rows[key]["largest_usd"]) == (count, largest)
        assert rows[key]["usd"] == pytest.approx(usd, rel=1e-9)
    oi = [e for e in expected if isinstance(e, OpenInterest)]
    first = {}
    for e in oi:
        first.setdefault((e.venue, e.symbol), e)
    assert {(r["venue"], r["symbol"]): r["first_base"] for r in stats["open_interest"]} == {
        k: e.base for k, e in first.items()
    }


def test_record_writes_the_heatmap_buckets_the_desk_makes_and_a_restart_draws_them(tmp_path, no_config):
    out = tmp_path / "demo.sqlite"
    _record_until(out, "tickers", 50, "--seed", "4", "--rate", "calm")  # past the backfill
    events = list(read_events(out))
    buckets = [e for e in events if isinstance(e, HeatmapBucket)]
    market = DemoMarket(seed=4, rate="calm")  # what was recorded, stepped here without the clock
    sent = market.start_events()
    while len(stored_form(sent)) < len(events) - len(buckets):
        sent += market.step(100)
    desk = Engine(Settings().levels)  # as the desk's engine makes its buckets (ui/app.py emit)
    made = []
    for e in sent:
        desk.apply(e)
        made += desk.take_heatmap_buckets()
    assert len(buckets) > 200 and sum(1 for b in buckets if b.longs and b.longs[1]) > 50
    assert sorted(buckets, key=_key) == sorted(made, key=_key)

    now = max(event_time(e) for e in sent)
    restarted = Engine(Settings().levels)
    warm(restarted, out, now, source_mode="DEMO")
    for symbol in market.symbols():
        drawn = desk.heatmap(symbol, now, RANGES["24h"], BUCKET_MS)
        settled = min(t.open_bucket for t in desk.heat._tracks[symbol].values())
        closed = [c for c in drawn.columns if c.time + BUCKET_MS <= settled]
        assert len(closed) > 200
        assert list(restarted.heatmap(symbol, now, RANGES["24h"], BUCKET_MS).columns[: len(closed)]) == closed


def _demo_events(seconds: int, seed: int = 5, rate: str = "busy"):
    market = DemoMarket(seed=seed, rate=rate)
    events = market.start_events()
    for _ in range(seconds * 10):
        events += market.step(100)
    return market.symbols(), events


def _views(engine: Engine, symbols, now_ms):
    return {(s, w): engine.view(s, now_ms, window=w, cross_assets=symbols) for s in symbols for w in WINDOWS}


def _replay_into(path, **options) -> tuple[Engine, ReplaySource]:
    engine = Engine()
    source = ReplaySource(path, speed=0, hold_at_end=False, **options)
    asyncio.run(asyncio.wait_for(source.run(lambda e: engine.apply(e)), 120))
    return engine, source


def test_replay_reproduces_the_engines_numbers_exactly(tmp_path):
    symbols, events = _demo_events(seconds=120)
    path = tmp_path / "d.sqlite"
    with Recorder(path, source_mode="DEMO") as recorder:
        for e in events:
            recorder.add(e)
    stored = stored_form(events)
    direct = Engine()
    for e in sorted(stored, key=event_time):  # a recording plays back in time order
        direct.apply(e)
    replayed, source = _replay_into(path)
    now = source.end_ms
    assert source.emitted == len(stored)
    direct_views, replay_views = _views(direct, symbols, now), _views(replayed, symbols, now)
    assert replay_views == direct_views
    for s in symbols:
        price = direct_views[s, "1h"].market.last
        for target in (price * 0.9, price * 1.1):
            assert replayed.at_risk(s, price, target) == direct.at_risk(s, price, target)

    # Fed in the order the simulator published (not time order), only the tape's order differs.
    arrival = Engine()
    for e in stored:
        arrival.apply(e)
    for key, view in _views(arrival, symbols, now).items():
        assert (view.market, view.realized, view.oi, view.levels) == (
            replay_views[key].market,
            replay_views[key].realized,
            replay_views[key].oi,
            replay_views[key].levels,
        )
        assert _recent(view.tape, replay_views[key].tape) == _recent(replay_views[key].tape, view.tape)


def _recent(tape, other, margin_ms: int = 5_000) -> list:
    """``tape`` sorted, from a few seconds after where both tapes start: a capped tape fed in arrival
    order keeps the last arrived, which differ at its old end from the last by time (sampled venues
    publish up to a second late)."""
    start = max(min((e.time for e in tape), default=0), min((e.time for e in other), default=0)) + margin_ms
    return sorted((e for e in tape if e.time >= start), key=_key)


def test_a_backward_seek_rebuilds_the_same_engine(tmp_path):
    symbols, events = _demo_events(seconds=60, seed=8)
    path = tmp_path / "d.sqlite"
    with Recorder(path, source_mode="DEMO") as recorder:
        for e in events:
            recorder.add(e)
    desk = {"engine": Engine()}

    def on_reset():
        desk["engine"] = Engine()  # what the desk does: a fresh engine

    source = ReplaySource(path, speed=0, hold_at_end=True, on_reset=on_reset)

    async def play():
        task = asyncio.create_task(source.run(lambda e: desk["engine"].apply(e)))
        while not source.finished:
            await asyncio.sleep(0.01)
        end_views = _views(desk["engine"], symbols, source.end_ms)
        source.seek(source.start_ms + (source.end_ms - source.start_ms) // 2)
        await asyncio.sleep(0)
        while not source.finished:
            await asyncio.sleep(0.01)
        task.cancel()
        return end_views

    first = asyncio.run(asyncio.wait_for(play(), 120))
    assert _views(desk["engine"], symbols, source.end_ms) == first
