"""The desk commands: arguments, clear errors without tracebacks, the live desk's recording and
warm start, and a real replay of a recording through the desk."""

from __future__ import annotations

import argparse
import asyncio
import gc
import re

import pytest

from liqtui.cli import build_parser, main
from liqtui.commands import desk
from liqtui.config import Settings, settings_from_dict
from liqtui.domain.events import FeedState, FeedStatus
from liqtui.engine import Engine
from liqtui.feeds import replay as replay_module
from liqtui.feeds.demo import DemoMarket
from liqtui.feeds.demo.market import DEFAULT_START_MS
from liqtui.feeds.replay import ReplaySource
from liqtui.storage.reader import describe, read_events, warm
from liqtui.storage.recorder import Recorder
from liqtui.storage.schema import StoreError
from liqtui.ui.app import LiqtuiApp
from liqtui.ui.header import DeskHeader, fmt_clock

from desk_fakes import FakeSource
from desk_helpers import make_app, notifications, wait_for


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_every_desk_command_takes_a_layout():
    assert _args("demo", "--layout", "tape").layout == "tape"
    assert _args("live", "--layout", "oi").layout == "oi"
    assert _args("replay", "f.sqlite", "--layout", "ladder").layout == "ladder"
    demo = _args("demo", "--seed", "3", "--rate", "stress")
    assert (demo.seed, demo.rate, demo.layout) == (3, "stress", None)
    replay = _args("replay", "f.sqlite", "--speed", "10", "--from", "+90m")
    assert (replay.file, replay.speed, replay.start) == ("f.sqlite", 10.0, "+90m")
    with pytest.raises(SystemExit):
        _args("demo", "--layout", "sideways")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+90m", 1_000_000 + 90 * 60_000),
        ("+2h", 1_000_000 + 7_200_000),
        ("1769874660000", 1769874660000),
        ("2026-01-31 15:51", 1769874660000),
        ("2026-01-31T15:51:00+00:00", 1769874660000),
    ],
)
def test_replay_from_accepts_times_epochs_and_offsets(text, expected):
    assert desk.parse_start(text, 1_000_000) == expected


def test_replay_from_rejects_garbage_with_words():
    with pytest.raises(ValueError, match="--from 'yesterday'"):
        desk.parse_start("yesterday", 0)


def test_replay_of_a_missing_file_is_one_clear_error(tmp_path, capsys):
    code = main(["replay", str(tmp_path / "nope.sqlite")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("liqtui: ") and "nope.sqlite" in err and "Traceback" not in err


def test_replay_with_a_bad_from_is_one_clear_error(tmp_path, capsys):
    path = _record_demo(tmp_path, seconds=5)
    code = main(["replay", str(path), "--from", "soon"])
    err = capsys.readouterr().err
    assert code == 2 and "--from 'soon'" in err and "Traceback" not in err


def test_a_live_desk_with_every_venue_disabled_says_so(capsys, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(
        "\n".join(f"[venues.{v}]\nenabled = false" for v in ("binanceusdm", "bybit", "okx", "hyperliquid"))
    )
    assert main(["--config", str(config), "live"]) == 2
    assert "every venue is disabled" in capsys.readouterr().err


def _record_demo(tmp_path, seconds: float = 30.0, rate: str = "busy"):
    """A demo session through the real recorder: an hour of backfill, then ``seconds`` live."""
    path = tmp_path / "session.sqlite"
    market = DemoMarket(Settings(), seed=5, rate=rate, backfill_hours=1)
    recorder = Recorder(path, background=False, source_mode="DEMO")
    for event in [*market.start_events(), *market.advance_to(market.now_ms + int(seconds * 1000))]:
        recorder.add(event)
    recorder.close()
    return path


def test_the_live_recorder_warms_the_engine_from_the_file(tmp_path):
    path = tmp_path / "live.sqlite"
    market = DemoMarket(Settings(), seed=5, rate="busy", backfill_hours=1)
    events = [*market.start_events(), *market.advance_to(market.now_ms + 20_000)]
    recorder = Recorder(path, background=False)
    for event in events:
        recorder.add(event)
    recorder.close()
    settings = settings_from_dict({"record_path": str(path)})
    engine = Engine(settings.levels)
    recorder, history, why_not = desk._live_recorder(settings, engine, market.now_ms)
    try:
        assert why_not is None and recorder is not None
        while history.step():  # what the desk does after its first frame (below)
            pass
        view = engine.view("BTC/USDT:USDT", market.now_ms, window="1h")
        assert view.realized.total_long.count + view.realized.total_short.count > 0
    finally:
        recorder.close()


def test_the_live_recorder_s_warm_up_read_by_a_child_equals_the_warm_up_read_here(tmp_path):
    """``liqtui live`` starts a child first thing that reads its recording's liquidations while the desk
    starts (feeds/replay_ahead.py): the warm-up leaves the engine as read here, and the child ends; a
    file that cannot warm the desk (demo data) ends the child, the recording off as before."""
    import time

    from liqtui.feeds.replay_ahead import spare_child

    path = tmp_path / "live.sqlite"
    market = DemoMarket(Settings(), seed=5, rate="busy", backfill_hours=1)
    with Recorder(path, background=False) as recorder:
        for event in [*market.start_events(), *market.advance_to(market.now_ms + 20_000)]:
            recorder.add(event)
    settings = settings_from_dict({"record_path": str(path)})
    states = []
    for child in (None, spare_child()):
        engine = Engine(settings.levels)
        recorder, history, why_not = desk._live_recorder(settings, engine, market.now_ms, child)
        assert why_not is None
        while history.step():
            if history.waiting:
                time.sleep(0.001)  # the desk's loop turns while the child reads
        recorder.close()
        states.append(_state(engine, market.now_ms))
    assert states[0] == states[1] and states[0] != _state(Engine(settings.levels), market.now_ms)
    assert child is not None and child.poll() is not None

    demo = _record_demo(tmp_path, seconds=2)
    settings = settings_from_dict({"record_path": str(demo)})
    child = spare_child()
    recorder, history, why_not = desk._live_recorder(settings, Engine(settings.levels), market.now_ms, child)
    assert recorder is None and "DEMO data" in why_not
    assert child.poll() is not None


class _Held:
    """A warm-up that applies nothing until the test lets it (``go``): the desk's state before the
    history is in, seen without racing it."""

    def __init__(self, warming) -> None:
        self.warming, self.go, self.steps_held = warming, False, 0

    @property
    def share(self) -> float:
        return self.warming.share

    @property
    def waiting(self) -> bool:
        return self.warming.waiting

    def step(self) -> bool:
        if not self.go:
            self.steps_held += 1
            return True
        return self.warming.step()

    def close(self) -> None:
        self.warming.close()


def _state(engine, now_ms: int) -> tuple:
    view = engine.view("BTC/USDT:USDT", now_ms, window="1h")
    heatmap = engine.heatmap("BTC/USDT:USDT", now_ms, 3_600_000, 60_000)
    return view.realized, view.oi, view.levels, view.market, heatmap


def _live_recording(path) -> DemoMarket:
    """20 s of the busy demo (after its hour of backfill) recorded at ``path`` as a live desk's file."""
    market = DemoMarket(Settings(), seed=5, rate="busy", backfill_hours=1)
    recorder = Recorder(path, background=False)
    for event in [*market.start_events(), *market.advance_to(market.now_ms + 20_000)]:
        recorder.add(event)
    recorder.close()
    return market


async def test_the_live_desk_draws_first_then_applies_its_recording_then_starts_the_source(tmp_path):
    path = tmp_path / "live.sqlite"
    market = _live_recording(path)
    settings = settings_from_dict({"record_path": str(path)})
    blocking = Engine(settings.levels)
    assert warm(blocking, path, market.now_ms) > 0  # the old way: all of it before the desk
    engine = Engine(settings.levels)
    recorder, history, why_not = desk._live_recorder(settings, engine, market.now_ms)
    empty = _state(Engine(settings.levels), market.now_ms)
    assert why_not is None and _state(engine, market.now_ms) == empty  # nothing applied yet
    source = FakeSource(mode="LIVE", now=market.now_ms)
    source.queue.put_nowait(FeedStatus(venue="binance", state=FeedState.LIVE, since=market.now_ms))
    app = LiqtuiApp(settings, source, engine=engine, recorder=recorder)
    app.history = held = _Held(history)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            header = lambda: app.query_one(DeskHeader).text  # noqa: E731
            assert await wait_for(pilot, lambda: "building history 0 %" in header() and held.steps_held > 2)
            assert app.events_seen == 0  # the live source waits for the history
            assert _state(engine, market.now_ms) == empty
            held.go = True
            assert await wait_for(pilot, lambda: app.history is None and app.events_seen == 1)
            await pilot.pause()
            app.render_tick()
            assert "building history" not in header()
    finally:
        recorder.close()
    assert _state(engine, market.now_ms) == _state(blocking, market.now_ms) != empty


async def test_the_live_desk_shows_its_history_whole_and_frozen_before_the_venues_start(tmp_path):
    # The render timer came up to 0.25 s after the history, and the venues' start (ccxt's import in a
    # thread) held the interpreter meanwhile: the history reached the screen ~0.45 s late. With no
    # venue answering, the history's objects also stayed in the collector's generations.
    path = tmp_path / "live.sqlite"
    market = _live_recording(path)
    settings = settings_from_dict({"record_path": str(path)})
    engine = Engine(settings.levels)
    recorder, history, _why_not = desk._live_recorder(settings, engine, market.now_ms)
    at_start: list[tuple[str, bool, bool]] = []

    class Venues(FakeSource):
        async def run(self, emit) -> None:
            header = app.query_one(DeskHeader).text
            at_start.append((header, app.last_view is not None, gc.get_freeze_count() > 0))
            await super().run(emit)

    app = LiqtuiApp(settings, Venues(mode="LIVE", now=market.now_ms), engine=engine, recorder=recorder)
    app.history = history
    gc.unfreeze()
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            assert await wait_for(pilot, lambda: bool(at_start))
    finally:
        recorder.close()
        gc.unfreeze()
    header, drawn, frozen = at_start[0]
    assert drawn and "building history" not in header and " LIVE " in f" {header} "
    assert frozen


class _Breaks:
    """A recording that passed its checks at start, then fails to read part way (a disk error)."""

    share = 0.5

    def step(self) -> bool:
        raise StoreError("live.sqlite: database disk image is malformed")

    def close(self) -> None:
        pass


async def test_a_recording_that_fails_part_way_is_said_once_and_the_live_source_starts():
    app = make_app(mode="LIVE")
    app.source.queue.put_nowait(FeedStatus(venue="binance", state=FeedState.LIVE, since=app.source.now))
    app.history = _Breaks()
    async with app.run_test(size=(160, 40)) as pilot:
        assert await wait_for(pilot, lambda: app.history is None and app.events_seen == 1)
        assert await wait_for(
            pilot,
            lambda: any("history stopped part way" in n and "malformed" in n for n in notifications(app)),
        )


def test_an_unusable_recording_turns_recording_off_with_a_reason(tmp_path):
    path = tmp_path / "live.sqlite"
    path.write_text("this is not a recording")
    settings = settings_from_dict({"record_path": str(path)})
    recorder, _history, why_not = desk._live_recorder(settings, Engine(settings.levels), 0)
    assert recorder is None and why_not.startswith("recording is off: ")


async def test_a_recording_replays_through_the_desk_with_its_clock_and_seek(tmp_path):
    path = _record_demo(tmp_path, seconds=30)
    settings = Settings()
    source = ReplaySource(path, speed=0)  # as fast as possible, the clock follows the events
    app = LiqtuiApp(settings, source, engine=Engine(settings.levels), theme_dir=tmp_path / "none")
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: source.finished, timeout=60)
        app.render_tick()
        header = app.query_one(DeskHeader).text
        assert "REPLAY" in header and "of DEMO data" in header and "UTC" in header
        view = app.last_view
        assert view.now == source.end_ms
        long_count = view.realized.total_long.count + view.realized.total_short.count
        assert long_count > 0
        old_engine = app.engine
        await pilot.press("comma")  # one minute back: before the start, the replay rebuilds
        assert await wait_for(pilot, lambda: app.engine is not old_engine, timeout=30)
        assert await wait_for(pilot, lambda: source.finished and not source.reset_needed, timeout=60)
        app.render_tick()
        rebuilt = app.last_view.realized
        assert rebuilt.total_long.count + rebuilt.total_short.count == long_count


def test_replay_from_past_the_end_names_the_recordings_time_range(tmp_path, capsys):
    path = _record_demo(tmp_path, seconds=5)
    code = main(["replay", str(path), "--from", "+3h"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "--from '+3h'" in err and "after the recording ends" in err
    assert "holds 2026-01-31 11:00:00 UTC to 2026-01-31 12:00:05 UTC" in err
    assert "(backfill until 2026-01-31 12:00:00 UTC)" in err


def test_replay_from_before_the_start_is_refused_too(tmp_path, capsys):
    path = _record_demo(tmp_path, seconds=5)
    assert main(["replay", str(path), "--from", "2026-01-30 09:00"]) == 2
    assert "before the recording starts" in capsys.readouterr().err


def _replay_app(source, tmp_path, **raw):
    settings = settings_from_dict(raw) if raw else Settings()
    return LiqtuiApp(settings, source, engine=Engine(settings.levels), theme_dir=tmp_path / "none")


async def test_a_replay_starts_at_the_live_part_with_the_engine_warmed_from_the_backfill(tmp_path):
    path = _record_demo(tmp_path, seconds=10)  # 11:00-12:00 backfill, 12:00-12:00:10 live
    source = ReplaySource(path)  # real time, from the default start
    source.pause()  # held at its start once caught up: the engine holds exactly what came before
    app = _replay_app(source, tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:

        def header() -> str:
            return app.query_one(DeskHeader).text

        assert await wait_for(
            pilot, lambda: "(stopped)" in header() and "warming" not in header(), timeout=60
        )
        assert "REPLAY" in header() and "2026-01-31 12:00:00 UTC x1 (stopped)" in header()
        live = DEFAULT_START_MS
        played_through = Engine(Settings().levels)
        for event in read_events(path, until_ms=live):
            played_through.apply(event)
        for symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT"):
            for window in ("5m", "24h"):
                assert app.engine.view(symbol, live, window=window) == played_through.view(
                    symbol, live, window=window
                )


# One worker runs this module (pytest-xdist, --dist loadgroup): its module-scoped recording is
# built once, not once per worker.
pytestmark = pytest.mark.xdist_group("desk_commands")


@pytest.fixture(scope="module")
def stress_recording(tmp_path_factory):
    return _record_demo(tmp_path_factory.mktemp("stress"), seconds=3, rate="stress")


async def test_a_late_start_shows_its_warm_up_progress_then_the_clock(
    stress_recording, tmp_path, monkeypatch
):
    # The catch-up gives the loop a turn after every event, not every 20 ms of work: on a fast machine
    # the whole catch-up fits in one frame and no progress would ever be drawn (CI failed on exactly that).
    monkeypatch.setattr(replay_module, "_SLICE_S", 0.0)
    end = describe(stress_recording).end_ms
    source = ReplaySource(stress_recording, start_ms=end)
    app = _replay_app(source, tmp_path, ui={"render_hz": 30})
    shown = []
    async with app.run_test(size=(160, 45)) as pilot:

        async def progress() -> bool:
            header = app.query_one(DeskHeader).text
            match = re.search(r"warming up (\d+) % to (.+? UTC)", header)
            if match:
                shown.append((int(match.group(1)), match.group(2)))
            return "warming" not in header and fmt_clock(end) in header

        deadline = asyncio.get_running_loop().time() + 120
        while not await progress() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        assert shown, "no progress line while catching up"
        percents = [p for p, _ in shown]
        assert percents == sorted(percents) and percents[-1] <= 100
        assert {clock for _, clock in shown} == {fmt_clock(end)}  # where it is heading
        await pilot.pause(0.2)
        header = app.query_one(DeskHeader).text
        assert "warming up" not in header and fmt_clock(end) in header
