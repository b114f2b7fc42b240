"""ReplaySource: order, clock, pacing, start time, pause, speed, seek forward and backward."""

from __future__ import annotations

import asyncio

import pytest

from liqtui.domain.events import Liquidation, OpenInterest
from liqtui.feeds.demo import DemoSource
from liqtui.feeds.event_source import EventSource, ReplayControls
from liqtui.feeds.replay import MAX_SPEED, ReplaySource
from liqtui.storage import Recorder, StoreError, event_time

from storage_events import T0, stored_form, stream


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    events = stream(seconds=120, seed=5)
    path = tmp_path_factory.mktemp("replay") / "r.sqlite"
    with Recorder(path) as recorder:
        for e in events:
            recorder.add(e)
    return path, stored_form(events)


def _sparse(path, times):
    with Recorder(path) as recorder:
        for i, t in enumerate(times):
            recorder.add(OpenInterest("okx", "BTC/USDT:USDT", float(i), float(i), t))
    return path


async def _run(source, emit, timeout=20.0):
    await asyncio.wait_for(source.run(emit), timeout)


def test_it_is_an_event_source_marked_replay(session):
    source = ReplaySource(session[0])
    assert isinstance(source, EventSource)
    assert source.mode == "REPLAY"
    assert source.symbols() == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert source.start_ms == T0 and source.end_ms == event_time(session[1][-1])
    assert source.now_ms() == T0


def test_only_a_replay_offers_the_desk_its_controls(session):
    """The desk reaches pause, speed and seek through the ReplayControls protocol, never by guessing
    attributes: a replay has them, the demo does not."""
    assert isinstance(ReplaySource(session[0]), ReplayControls)
    assert not isinstance(DemoSource(), ReplayControls)


async def test_unpaced_replay_emits_every_event_in_order(session):
    path, stored = session
    source = ReplaySource(path, speed=0, hold_at_end=False)
    got = []
    await _run(source, got.append)
    assert got == stored
    assert source.finished and source.now_ms() == source.end_ms


async def test_realtime_false_is_unpaced_whatever_the_speed(session):
    source = ReplaySource(session[0], speed=1.0, realtime=False, hold_at_end=False)
    got = []
    await _run(source, got.append, timeout=20)
    assert len(got) == len(session[1])


async def test_paced_replay_follows_the_replay_clock(tmp_path):
    path = _sparse(tmp_path / "r.sqlite", [T0, T0 + 1000, T0 + 2000])
    source = ReplaySource(path, speed=10.0, hold_at_end=False)  # 2 s of recording in ~0.2 s
    seen = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    await _run(source, lambda e: seen.append((e.time, source.now_ms(), loop.time() - started)))
    assert [t for t, _, _ in seen] == [T0, T0 + 1000, T0 + 2000]
    for event_ms, clock_ms, _elapsed in seen:
        assert clock_ms >= event_ms  # never emitted ahead of the clock
    assert seen[-1][2] >= 0.2 * 0.9  # it waited: 2 s at 10x


async def test_start_time_emits_the_past_at_once_then_paces(tmp_path):
    path = _sparse(tmp_path / "r.sqlite", [T0, T0 + 60_000, T0 + 120_000, T0 + 120_500])
    source = ReplaySource(path, speed=1.0, start_ms=T0 + 120_000, hold_at_end=False)
    assert source.from_ms == T0 + 120_000 and source.now_ms() == T0 + 120_000
    got = []
    await _run(source, got.append, timeout=10)
    assert [e.time for e in got] == [T0, T0 + 60_000, T0 + 120_000, T0 + 120_500]


async def test_pause_holds_the_clock_and_resume_continues(tmp_path):
    path = _sparse(tmp_path / "r.sqlite", [T0, T0 + 100_000])
    source = ReplaySource(path, speed=1.0, hold_at_end=False)
    got = []
    task = asyncio.create_task(source.run(got.append))
    await asyncio.sleep(0.05)
    assert [e.time for e in got] == [T0]
    source.pause()
    assert source.paused
    held = source.now_ms()
    await asyncio.sleep(0.1)
    assert source.now_ms() == held
    source.speed = 1000.0  # 100 s of recording in 0.1 s once resumed
    assert source.now_ms() == held
    source.resume()
    await asyncio.wait_for(task, 10)
    assert [e.time for e in got] == [T0, T0 + 100_000]


async def test_seek_forward_emits_everything_up_to_the_target(tmp_path):
    times = [T0 + i * 10_000 for i in range(10)]
    path = _sparse(tmp_path / "r.sqlite", times)
    source = ReplaySource(path, speed=1.0, hold_at_end=False)
    got = []

    def emit(event):
        got.append(event)
        if len(got) == 1:
            source.seek(T0 + 55_000)

    task = asyncio.create_task(source.run(emit))
    await asyncio.sleep(0.1)
    assert [e.time for e in got] == times[:6]
    assert T0 + 55_000 <= source.now_ms() < T0 + 60_000
    source.seek(source.end_ms)
    await asyncio.wait_for(task, 10)
    assert [e.time for e in got] == times


async def test_a_catch_up_s_end_is_told_once_its_last_event_is_emitted_before_any_played(tmp_path):
    # The desk draws its frame then (``on_caught_up``), not at its next render tick.
    times = [T0 + i * 10_000 for i in range(10)]
    path = _sparse(tmp_path / "r.sqlite", times)
    source = ReplaySource(path, speed=1000.0, start_ms=T0 + 45_000, hold_at_end=False)
    got, told = [], []
    source.on_caught_up = lambda: told.append((len(got), source.warmup, source.heading_ms))

    def emit(event):
        got.append(event)
        if len(got) == 7:
            source.seek(T0 + 85_000)  # a seek's catch-up ends too

    await _run(source, emit, timeout=10)
    assert [e.time for e in got] == times
    assert told == [(5, None, None), (9, None, None)]


async def test_seek_backward_asks_for_a_reset_then_rebuilds_from_the_start(session):
    path, stored = session
    engine: list = []  # stands in for the desk's engine: rebuilt on reset
    resets = []

    def on_reset():
        resets.append(source.reset_needed)
        engine.clear()

    source = ReplaySource(path, speed=0, hold_at_end=True, on_reset=on_reset)
    target = stored[len(stored) // 3]
    seek_to = event_time(target)

    async def drive():
        await asyncio.wait_for(_until(lambda: source.finished), 10)
        source.seek(seek_to)  # backward: from the end to a third of the way
        await asyncio.sleep(0)
        await asyncio.wait_for(_until(lambda: source.finished), 10)

    task = asyncio.create_task(source.run(engine.append))
    await drive()
    task.cancel()
    assert resets == [True]  # called once, while the flag was up
    assert not source.reset_needed
    # Rebuilt from the first event, then played to the end again: the same events; in the catch-up a
    # run of liquidations may go past the other events beside it (storage/reader.py ``_Runs``), whose
    # order, and the liquidations', stays.
    assert sorted(map(repr, engine)) == sorted(map(repr, stored))
    for kind in (lambda e: type(e) is Liquidation, lambda e: type(e) is not Liquidation):
        assert [e for e in engine if kind(e)] == [e for e in stored if kind(e)]


async def test_seek_backward_while_paced_replays_the_start_at_once(tmp_path):
    times = [T0 + i * 1000 for i in range(5)] + [T0 + 3_600_000]
    path = _sparse(tmp_path / "r.sqlite", times)
    got: list = []
    source = ReplaySource(path, speed=1.0, hold_at_end=False, on_reset=got.clear)
    task = asyncio.create_task(source.run(got.append))
    source.seek(T0 + 4000)
    await _until(lambda: len(got) == 5)
    source.seek(T0 + 1500)
    await _until(lambda: source.now_ms() < T0 + 4000)
    assert [e.time for e in got] == times[:2]
    assert T0 + 1500 <= source.now_ms() < T0 + 4000
    task.cancel()


async def _until(condition, step=0.01):
    while not condition():
        await asyncio.sleep(step)


def test_an_empty_recording_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.sqlite"
    Recorder(path).close()
    with pytest.raises(StoreError, match="holds no events"):
        ReplaySource(path)


async def test_the_clock_stands_still_until_run_starts(tmp_path):
    path = _sparse(tmp_path / "r.sqlite", [T0, T0 + 60_000])
    source = ReplaySource(path, speed=1000.0, hold_at_end=False)
    await asyncio.sleep(0.05)
    assert source.now_ms() == T0


HOUR = 3_600_000


def _with_backfill(path):
    """A session as recorded: an hour of OI history fetched at start (backfill), then the live part."""
    live = T0 + HOUR
    with Recorder(path) as recorder:
        for i in range(60):
            base = 10_000.0 + i
            recorder.add(OpenInterest("okx", "BTC/USDT:USDT", base, base * 87_000.0, T0 + i * 60_000))
        for event in stream(seconds=5, seed=3, start=live, books=False):
            recorder.add(event)
    return path, live


async def test_a_replay_starts_where_the_live_part_starts_after_applying_the_backfill(tmp_path):
    path, live = _with_backfill(tmp_path / "r.sqlite")
    source = ReplaySource(path, speed=100.0, hold_at_end=False)
    assert (source.start_ms, source.live_start_ms, source.from_ms) == (T0, live, live)
    assert source.now_ms() == live
    seen = []
    await _run(source, lambda e: seen.append((event_time(e), source.warmup, source.heading_ms)))
    backfill = [s for s in seen if s[0] < live]
    assert len(backfill) == 60  # every backfilled sample reached the engine...
    assert all(warmup is not None and heading == live for _, warmup, heading in backfill)  # ...at once
    assert [t for t, *_ in seen] == sorted(t for t, *_ in seen)
    assert seen[-1][1] is None and source.warmup is None and source.heading_ms is None


def test_a_recording_of_history_only_starts_at_its_first_event(tmp_path):
    source = ReplaySource(_sparse(tmp_path / "r.sqlite", [T0, T0 + 60_000]))
    assert source.live_start_ms is None and source.from_ms == T0


@pytest.mark.parametrize("speed", [float("nan"), float("inf"), -1.0, MAX_SPEED * 2])
def test_a_speed_that_would_stick_or_race_the_clock_is_refused(tmp_path, speed):
    path = _sparse(tmp_path / "r.sqlite", [T0, T0 + 60_000])
    with pytest.raises(ValueError, match=r"expected a number in \[0, 3600\]"):
        ReplaySource(path, speed=speed)
    source = ReplaySource(path, speed=MAX_SPEED)
    with pytest.raises(ValueError, match=r"expected a number in \[0, 3600\]"):
        source.speed = speed
    assert source.speed == MAX_SPEED and source.now_ms() == T0


async def test_seek_by_during_a_catch_up_counts_from_where_it_is_heading(tmp_path):
    path, live = _with_backfill(tmp_path / "r.sqlite")
    source = ReplaySource(path, speed=1.0, hold_at_end=False)
    seen = []

    def emit(event):
        if not seen:
            source.seek_by(3_000)  # pressed while warming up: 3 s past the live start
            source.seek_by(1_000)  # and again before the first seek was taken up: adds up
        seen.append((event_time(event), source.heading_ms))

    await _run(source, emit)  # 4 s caught up at once, the last second played at 1x
    assert seen[-1][1] is None and {heading for _, heading in seen} == {live, live + 4_000, None}
    assert all(heading is not None for t, heading in seen if t <= live + 4_000)
