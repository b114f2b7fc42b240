"""The header says REC only while the desk really records.

A recorder that stopped (the file cannot grow) or could not start (another recorder holds the
file) shows "REC OFF" and a notification with the reason, never a REC that records nothing.
"""

from __future__ import annotations

from liqtui.domain.events import Liquidation, Side
from liqtui.storage.recorder import Recorder
from liqtui.ui.header import Badge, badge_spans

from desk_helpers import make_app, notifications, wait_for


def _text(spans) -> str:
    return "".join(text for text, _ in spans)


def test_the_badge_says_rec_off_when_the_desk_cannot_record():
    assert _text(badge_spans(Badge("LIVE", recording_off=True))) == " LIVE  REC OFF"
    assert _text(badge_spans(Badge("LIVE", recording=True))) == " LIVE  REC"


async def test_a_recorder_that_stops_turns_rec_into_rec_off_with_its_reason(tmp_path):
    recorder = Recorder(tmp_path / "live.sqlite", flush_interval=0.05)
    recorder._conn.execute("PRAGMA max_page_count = 30")  # the file may not grow: a full disk
    app = make_app(mode="LIVE", recorder=recorder)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            app.render_tick()
            assert " REC" in app.query_one("#header").text and "REC OFF" not in app.query_one("#header").text
            for i in range(5000):
                t = 1_769_874_660_000 + i
                app.source.queue.put_nowait(
                    Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 1.0, 1.0, 1.0, t, t)
                )
            assert await wait_for(pilot, lambda: recorder.error is not None)
            app.render_tick()
            assert "REC OFF" in app.query_one("#header").text
            assert await wait_for(  # notifications arrive as messages
                pilot, lambda: any("Recording stopped" in n and "full" in n for n in notifications(app))
            )
    finally:
        recorder.close()


async def test_a_desk_whose_recording_is_held_by_another_recorder_says_rec_off(tmp_path):
    from liqtui.commands import desk
    from liqtui.config import Settings
    from liqtui.engine import Engine

    path = tmp_path / "live.sqlite"
    holder = Recorder(path, background=False)  # a `liqtui record` on the desk's file
    try:
        settings = Settings(record_path=str(path))
        recorder, _history, why_not = desk._live_recorder(
            settings, Engine(settings.levels), 1_769_874_660_000
        )
        assert recorder is None and "already being recorded by another liqtui" in why_not
        app = make_app(mode="LIVE")
        app.startup_notes.append(why_not)
        app.recording_off = True  # what desk._run_app sets from _live_recorder's answer
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.pause()
            app.render_tick()
            assert "REC OFF" in app.query_one("#header").text
            assert await wait_for(
                pilot, lambda: any("already being recorded" in n for n in notifications(app))
            )
    finally:
        holder.close()


async def test_a_replay_of_a_damaged_recording_plays_on_and_says_how_many_rows_it_skipped(tmp_path):
    import sqlite3

    from liqtui.config import Settings
    from liqtui.feeds.replay import ReplaySource
    from liqtui.ui.app import LiqtuiApp

    path = tmp_path / "rec.sqlite"
    with Recorder(path) as recorder:
        for i in range(50):
            t = 1_769_874_660_000 + i * 1000
            recorder.add(Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 80_000.0, 0.1, 8_000.0, t, t))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE liquidations SET time = 'yesterday' WHERE seq = 3")  # crashed replay before
    conn.commit()
    conn.close()
    app = LiqtuiApp(Settings(), ReplaySource(path, speed=0), theme_dir=tmp_path / "no-themes")
    async with app.run_test(size=(160, 40)) as pilot:
        assert await wait_for(pilot, lambda: app.source.finished)  # played to the end
        assert app.events_seen == 49
        app.render_tick()
        note = f"{path}: skipped 1 damaged row (liquidations 1)"
        assert await wait_for(pilot, lambda: any(note in n for n in notifications(app)))
