"""The heatmap's buckets in the recording: they round-trip exactly, a restart (warm-up) and a replay
of the recording draw the heatmap the recording desk drew, and a recording made before the heatmap
still reads and takes the new table."""

from __future__ import annotations

import sqlite3

import pytest

from liqtui.config import Settings
from liqtui.domain.events import Float32s, HeatmapBucket, Side
from liqtui.engine import Engine
from liqtui.engine.heatmap import BUCKET_MS, RANGES
from liqtui.feeds.demo import DemoMarket
from liqtui.storage.reader import describe, read_events, warm
from liqtui.storage.recorder import Recorder

SYMBOL = "BTC/USDT:USDT"


def _record_demo(path, minutes=40):
    """The seeded demo through an engine and a recorder, as the desk does (engine first, then its buckets)."""
    market = DemoMarket(Settings(), seed=3, rate="calm", backfill_hours=3)
    events = [*market.start_events(), *market.advance_to(market.now_ms + minutes * 60_000)]
    return _record_as_the_desk(path, events, "DEMO"), market.now_ms


def _record_as_the_desk(path, events, source_mode):
    """``events`` through a fresh engine and a recorder, as the desk does (each event, then the heatmap
    buckets it closed); returns the engine."""
    engine = Engine(Settings().levels)
    with Recorder(path, background=False, source_mode=source_mode) as recorder:
        for event in events:
            engine.apply(event)
            recorder.add(event)
            for bucket in engine.take_heatmap_buckets():
                recorder.add(bucket)
        recorder.flush()
    return engine


def _closed(view, engine):
    """The columns every venue closed (a later one reads a venue's live book, which a warm-up rebuilds
    from its own spans, as the ladder's)."""
    settled = min(t.open_bucket for t in engine.heat._tracks[SYMBOL].values() if t.open_bucket is not None)
    return tuple(c for c in view.columns if c.time + BUCKET_MS <= settled)


@pytest.mark.slow
def test_a_restart_and_a_replay_draw_the_heatmap_the_desk_drew(tmp_path):
    path = tmp_path / "demo.sqlite"
    desk, now = _record_demo(path)
    assert describe(path).rows["heatmap"] > 0
    drawn = desk.heatmap(SYMBOL, now, RANGES["12h"], BUCKET_MS)
    restarted = Engine(Settings().levels)
    warm(restarted, path, now, source_mode="DEMO")
    replayed = Engine(Settings().levels)
    for event in read_events(path):
        replayed.apply(event)
    after_restart = restarted.heatmap(SYMBOL, now, RANGES["12h"], BUCKET_MS)
    in_replay = replayed.heatmap(SYMBOL, now, RANGES["12h"], BUCKET_MS)
    closed = _closed(drawn, desk)
    assert sum(1 for c in closed if c.longs) > 30  # 3 h of backfill and 40 minutes: levels to compare
    assert sum(1 for c in closed if c.realized) > 3 and all(c.low for c in closed[-40:])
    assert after_restart.columns[: len(closed)] == closed
    assert in_replay.columns[: len(closed)] == closed


def test_a_bucket_round_trips_exactly_and_unchanged_levels_stay_null(tmp_path):
    path = tmp_path / "rec.sqlite"
    buckets = [
        HeatmapBucket(
            "bybit",
            SYMBOL,
            1_750_000_300_000,
            1_750_000_000_000,
            50.0,
            (1_700, (1_000.0, 0.0, 2.5)),
            (1_900, ()),
            85_000.5,
            85_100.0,
            ((1_699, Side.LONG, 123.25), (1_901, Side.SHORT, 7.0)),
        ),
        HeatmapBucket(
            "bybit", SYMBOL, 1_750_000_600_000, 1_750_000_300_000, 50.0, None, None, None, None, ()
        ),
    ]
    with Recorder(path, background=False) as recorder:
        for bucket in buckets:
            recorder.add(bucket)
        recorder.flush()
    assert list(read_events(path)) == buckets
    # read as the file holds them (float32), without a Python float per row: equal to the tuple
    usd = next(iter(read_events(path))).longs[1]
    assert type(usd) is Float32s and usd == (1_000.0, 0.0, 2.5)
    assert (1_000.0, 0.0, 2.5) == usd  # noqa: SIM300 - the tuple's side: Python asks Float32s reflected
    assert usd != (1_000.0, 0.0) and usd != [1_000.0, 0.0, 2.6] and usd == Float32s([1_000.0, 0.0, 2.5])


def test_a_recording_made_before_the_heatmap_reads_and_takes_the_new_table(tmp_path):
    path = tmp_path / "old.sqlite"
    with Recorder(path, background=False) as recorder:
        recorder.flush()
    with sqlite3.connect(path) as conn:  # as schema 1 files were made before the heatmap
        conn.execute("DROP TABLE heatmap_buckets")
    assert "heatmap" not in describe(path).rows
    assert list(read_events(path)) == []
    assert warm(Engine(), path, 1_750_000_000_000) == 0
    with Recorder(path, background=False) as recorder:  # recording into it again adds the table
        recorder.add(
            HeatmapBucket("okx", SYMBOL, 1_750_000_300_000, 1_750_000_000_000, 50.0, None, None, 1.0, 2.0)
        )
        recorder.flush()
    assert describe(path).rows["heatmap"] == 1


class _Clock:
    def __init__(self, now_ms):
        self._now = now_ms

    def now_ms(self):
        return self._now


def test_a_live_record_restarted_on_its_file_does_not_write_the_buckets_again(tmp_path):
    """`liqtui record`'s tap warms its engine from the file when live, as the desk: the history a
    venue hands out again at a restart (its OI backfill) makes no second copy of the buckets."""
    from liqtui.commands.record import RecordTap

    market = DemoMarket(Settings(), seed=3, rate="calm", backfill_hours=3)
    events = [*market.start_events(), *market.advance_to(market.now_ms + 20 * 60_000)]
    path = tmp_path / "live.sqlite"
    for warm_from in (None, path):  # the first run, then a restart on its file
        with Recorder(path, background=False, source_mode="LIVE") as recorder:
            tap = RecordTap(Settings(), _Clock(market.now_ms), recorder, warm_from=warm_from)
            for event in events:
                tap.take(event)
            recorder.flush()
            written = recorder.written.get("heatmap", 0)
        if warm_from is None:
            assert written > 20
    assert written == 0
    assert describe(path).rows["heatmap"] > 20


def test_the_measured_heatmap_history_is_recorded_and_a_restart_draws_it_again(tmp_path):
    """Positions older than the warm-up's span (6 h) are not replayed into a restart: their MEASURED
    buckets come from the recording's heatmap table."""
    from liqtui.domain.events import OpenInterest, PositionSnapshot, Ticker

    def position(t, liq, usd):
        return PositionSnapshot(
            "hyperliquid", SYMBOL, "0xabc", Side.LONG, 1.0, usd, 100.0, liq, 10.0, "cross", t
        )

    path, t0 = tmp_path / "measured.sqlite", 1_750_000_000_000 - 1_750_000_000_000 % BUCKET_MS
    hours8 = 96 * BUCKET_MS
    events = [
        Ticker("hyperliquid", SYMBOL, t0, last=100.0),
        OpenInterest("hyperliquid", SYMBOL, 1e3, 1e5, t0 + 1),
    ]
    # a tracked long whose liquidation price climbs a dollar a bucket, then a change 8 hours later
    events += [position(t0 + k * BUCKET_MS + 10, 90.0 + k, 100.0 * (k + 1)) for k in range(6)]
    events.append(position(t0 + hours8 + 10, 80.0, 50.0))
    desk = _record_as_the_desk(path, events, "LIVE")
    now = t0 + hours8 + 20
    drawn = desk.heatmap(SYMBOL, now, hours8 + BUCKET_MS, BUCKET_MS, measured=True)
    levels = [(c.time, c.longs, c.shorts) for c in drawn.columns[:-1]]  # the last reads the positions now
    assert [len(tuple(longs)) for _t, longs, _s in levels] == [1] * 96
    restarted = Engine(Settings().levels)
    warm(restarted, path, now, source_mode="LIVE")
    again = restarted.heatmap(SYMBOL, now, hours8 + BUCKET_MS, BUCKET_MS, measured=True)
    assert restarted.heatmap_has_measured(SYMBOL) and again.since == drawn.since == t0
    # the MEASURED levels as recorded (the price path comes from the venues' buckets, tested above)
    assert [(c.time, c.longs, c.shorts) for c in again.columns[:-1]] == levels
    assert "measured" not in restarted.heatmap_venues(SYMBOL)  # not a venue of the estimate


def test_a_bucket_is_read_before_the_oi_step_that_closed_it_and_the_warm_up_takes_no_snapshot_again(
    tmp_path, monkeypatch
):
    """The recorder writes a bucket right after the OI sample whose step closed it (same time); the
    reader hands it over first, so a warm-up or a replay finds it loaded and does not snapshot the
    book for it again (the OI steps' main cost there), and the heatmap is still the desk's."""
    from liqtui.domain.events import OpenInterest
    from liqtui.engine import heatmap

    path = tmp_path / "demo.sqlite"
    desk, now = _record_demo(path, minutes=10)
    events = list(read_events(path))
    others_at: set[int] = set()  # times of the events other than buckets read so far
    closing = 0
    for k, event in enumerate(events):
        if not isinstance(event, HeatmapBucket):
            others_at.add(getattr(event, "time", -1))
            continue
        assert event.time not in others_at
        closing += any(isinstance(e, OpenInterest) and e.time == event.time for e in events[k + 1 : k + 40])
    assert closing > 50  # each bucket's own OI step comes after it
    taken = []
    real = heatmap.Snapshot.of_book
    monkeypatch.setattr(heatmap.Snapshot, "of_book", lambda *a: taken.append(a[0]) or real(*a))
    restarted = Engine(Settings().levels)
    warm(restarted, path, now, source_mode="DEMO")
    assert taken == []
    drawn = desk.heatmap(SYMBOL, now, RANGES["12h"], BUCKET_MS)
    closed = _closed(drawn, desk)
    assert restarted.heatmap(SYMBOL, now, RANGES["12h"], BUCKET_MS).columns[: len(closed)] == closed


def test_oi_every_15_s_with_a_gap_and_falls_rebuilds_the_heatmap_the_desk_drew_in_bulk_and_one_by_one(
    tmp_path,
):
    """Several OI samples in a bucket (one closes it), a 20-minute gap with no sample, OI falling
    (levels closed pro rata) and rising: a warm-up through the bulk path and one event at a time, and
    a replay, draw the closed columns the recording desk drew, and their level books are the desk's."""
    from liqtui.domain.events import OpenInterest, PriceBar

    class OneByOne:  # the engine reached only through apply (warm hands it no lists)
        def __init__(self, engine):
            self.apply = engine.apply

    t0 = 1_769_860_800_000
    events = []
    base, price = 1_000.0, 80_000.0
    for k in range(240):  # an hour at 15 s
        t = t0 + k * 15_000
        if 80 <= k < 160:
            continue  # the venue's OI poll failed for 20 minutes
        opened, price = price, price * (1.0 + 0.002 * ((k * 7) % 5 - 2))
        base *= 0.97 if k % 9 in (3, 4) else 1.01
        events.append(
            PriceBar("bybit", SYMBOL, t - 15_000, opened, max(opened, price), min(opened, price), price)
        )
        events.append(OpenInterest("bybit", SYMBOL, base, base * price, t))
    path = tmp_path / "rec.sqlite"
    desk = _record_as_the_desk(path, events, "DEMO")
    now = events[-1].time
    closed = _closed(desk.heatmap(SYMBOL, now, RANGES["12h"], BUCKET_MS), desk)
    assert sum(1 for c in closed if c.longs) > 6
    bulk, single, replayed = Engine(Settings().levels), Engine(Settings().levels), Engine(Settings().levels)
    warm(bulk, path, now, source_mode="DEMO")
    warm(OneByOne(single), path, now, source_mode="DEMO")
    for event in read_events(path):
        replayed.apply(event)
    for engine in (bulk, single, replayed):
        assert engine.heatmap(SYMBOL, now, RANGES["12h"], BUCKET_MS).columns[: len(closed)] == closed
        book = engine.state.models[("bybit", SYMBOL)].book
        assert list(book.levels()) == list(desk.state.models[("bybit", SYMBOL)].book.levels())
