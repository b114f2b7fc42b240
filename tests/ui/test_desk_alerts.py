"""Alerts on the desk: a toast per alert, the alerts log screen (`a`, listed by `?`), and the ladder
row of a cluster_near alert marked."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

from liqtui.config import settings_from_dict
from liqtui.domain.events import Liquidation, Side, Ticker
from liqtui.feeds.demo import DEFAULT_START_MS, DemoSource
from liqtui.ui.app import LiqtuiApp
from liqtui.ui.screens import AlertsScreen

from desk_fakes import NOW
from desk_helpers import make_app, notifications, screen_lines, wait_for

BIG = {"alerts": {"rules": [{"kind": "liquidation", "min_usd": 200_000, "name": "big", "cooldown": 0}]}}
NEAR = {"alerts": {"rules": [{"kind": "cluster_near", "min_usd": 4_000_000, "pct": 0.1, "name": "near"}]}}


def _toasts_said(app: LiqtuiApp) -> list[tuple[str, str]]:
    """Every toast's (title, message) as it is made: a toast expires after its timeout (8 s for an
    alert), which a replay on a loaded machine can outlast before the test reads the screen's."""
    said: list[tuple[str, str]] = []
    notify = app.notify

    def spy(message: str, **kwargs):
        said.append((kwargs.get("title", ""), message))
        return notify(message, **kwargs)

    app.notify = spy  # type: ignore[method-assign]
    return said


def _liq(usd: float, t: int = NOW + 1_000) -> Liquidation:
    return Liquidation("bybit", "BTC/USDT:USDT", Side.LONG, 82_410.0, usd / 82_410.0, usd, t, t)


async def test_an_alert_is_a_toast_and_a_line_of_the_alerts_log():
    app = make_app(raw=BIG)
    async with app.run_test(size=(160, 45)) as pilot:
        app.source.queue.put_nowait(_liq(150_000))  # below the rule: nothing
        app.source.queue.put_nowait(_liq(312_400, NOW + 2_000))
        text = "BTC long liquidated $312k at 82,410 on bybit"
        assert await wait_for(pilot, lambda: text in notifications(app))
        assert [n.title for n in app._notifications if n.message == text] == ["alert: big"]
        await pilot.press("a")
        assert await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
        title = str(app.screen.query_one(".title", Static).render())
        assert title.startswith("Alerts on DEMO data: 1 this session, newest first")
        log = app.screen.query_one("#alerts-log", OptionList)
        assert [str(log.get_option_at_index(i).prompt) for i in range(log.option_count)] == [
            f"15:51:02  ALERT   {text}  [big]"
        ]
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: not isinstance(app.screen, AlertsScreen))


async def test_the_log_says_when_nothing_fired_and_the_help_lists_its_key():
    app = make_app(raw=BIG)
    async with app.run_test(size=(160, 45)) as pilot:
        assert ("a", "the alerts log: every alert of this session") in app.help_rows()
        await pilot.press("a")
        assert await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
        assert str(app.screen.query_one("#alerts-empty", Static).render()) == "none yet"


async def test_events_before_the_desk_started_fire_no_alert():
    app = make_app(raw=BIG)
    async with app.run_test(size=(160, 45)) as pilot:
        app.source.queue.put_nowait(_liq(312_400, NOW - 60_000))  # backfill, history
        assert await wait_for(pilot, lambda: len(app.engine.applied) == 1)
        await pilot.pause(0.1)
        assert not app.alerts.log and not any("liquidated" in n for n in notifications(app))


async def test_the_demo_desk_fires_nothing_from_its_history():
    """The seeded demo (7, the desk's) sweeps an ESTIMATED ETH cluster at its history's last OI sample,
    which falls on the start time: that is history, not news. Live alerts still fire after it."""
    rules = [{"kind": "liquidation", "min_usd": 1, "name": "any"}, {"kind": "cluster_swept", "min_usd": 10e6}]
    raw = {"alerts": {"rules": rules}}
    source = DemoSource(settings_from_dict(raw), seed=7)
    app = LiqtuiApp(settings_from_dict(raw), source, theme_dir=Path("/nonexistent-liqtui-themes"))
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_for(pilot, lambda: source.now_ms() > DEFAULT_START_MS + 1_000, timeout=120)
        swept = [a.text for a in app.alerts.log if a.kind == "cluster_swept" and a.time <= DEFAULT_START_MS]
        assert swept == []
        assert await wait_for(pilot, lambda: any(a.rule == "any" for a in app.alerts.log), timeout=120)


async def test_a_cluster_near_alert_marks_its_ladder_row():
    app = make_app(raw=NEAR)
    async with app.run_test(size=(160, 45)) as pilot:
        app.source.queue.put_nowait(Ticker("bybit", "BTC/USDT:USDT", NOW + 1_000, last=82_800.0))
        assert await wait_for(pilot, lambda: any("long cluster at 82,750" in n for n in notifications(app)))

        def marked_row() -> str:
            return next((line for line in screen_lines(app) if "82,750" in line and "!" in line), "")

        assert await wait_for(pilot, lambda: bool(marked_row()))
        assert "!◆ L $5.0M" in marked_row()  # ◆: also one of the largest long rows
        assert not any("82,850" in line and "!" in line for line in screen_lines(app))  # only its row


@pytest.mark.parametrize("mode, title", [("LIVE", "liqtui: BTC alert"), ("DEMO", "liqtui DEMO: BTC alert")])
async def test_the_desk_pushes_its_alerts_to_a_webhook_and_keeps_running(tmp_path, mode, title):
    import http.server
    import json
    import threading

    received: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        raw = {
            "alerts": {
                **BIG["alerts"],
                "webhooks": [f"json://127.0.0.1:{httpd.server_address[1]}/hook"],
                "webhook_batch_seconds": 0,
            }
        }
        app = make_app(mode=mode, raw=raw)
        async with app.run_test(size=(160, 45)) as pilot:
            app.source.queue.put_nowait(_liq(312_400, NOW + 2_000))
            assert await wait_for(pilot, lambda: bool(received), timeout=30)
            assert received[0]["title"] == title  # simulated data says so on the phone too
            assert received[0]["message"] == "BTC long liquidated $312k at 82,410 on bybit [big]"
        app.alerts.close()
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_a_replay_desk_never_pushes_webhooks():
    raw = {"alerts": {**BIG["alerts"], "webhooks": ["json://127.0.0.1:9/never"]}}
    app = make_app(mode="REPLAY", raw=raw)
    assert app.alerts.pusher is None


async def test_the_live_desk_records_its_alerts_beside_the_events(tmp_path):
    from liqtui.storage.reader import read_alerts
    from liqtui.storage.recorder import Recorder

    recorder = Recorder(tmp_path / "live.sqlite", flush_interval=0.05)
    app = make_app(mode="LIVE", raw=BIG, recorder=recorder)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            app.source.queue.put_nowait(_liq(312_400, NOW + 2_000))
            assert await wait_for(pilot, lambda: bool(app.alerts.log))
    finally:
        recorder.close()
    assert read_alerts(tmp_path / "live.sqlite") == list(app.alerts.log)


def _recording(path, *, with_alert: bool) -> None:
    """A minute of BTC liquidations on okx, one of $312k at +30 s; with the alert its live desk said."""
    from liqtui.domain.alerts import Alert
    from liqtui.storage.recorder import Recorder

    with Recorder(path, background=False) as recorder:
        for i in range(60):
            t = NOW + i * 1_000
            usd = 312_400.0 if i == 30 else 8_000.0
            recorder.add(Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 82_410.0, usd / 82_410.0, usd, t, t))
            if with_alert and i == 30:
                text = "BTC long liquidated $312k at 82,410 on okx"
                recorder.add(
                    Alert(
                        t,
                        "said live",
                        "liquidation",
                        "okx",
                        "BTC/USDT:USDT",
                        Side.LONG,
                        usd,
                        82_410.0,
                        1,
                        text,
                        at=t,
                    )
                )
        recorder.flush()


async def test_a_replay_shows_the_alerts_its_session_said_labelled_recorded(tmp_path):
    from liqtui.feeds.replay import ReplaySource

    path = tmp_path / "rec.sqlite"
    _recording(path, with_alert=True)
    raw = {
        "alerts": {"rules": [{"kind": "liquidation", "min_usd": 1_000, "name": "today"}]}
    }  # would fire 60 times
    app = LiqtuiApp(settings_from_dict(raw), ReplaySource(path, speed=0), theme_dir=tmp_path / "no-themes")
    toasts = _toasts_said(app)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.source.finished)
        assert [(a.rule, a.text) for a in app.alerts.log] == [
            ("said live", "BTC long liquidated $312k at 82,410 on okx")
        ]
        assert [title for title, message in toasts if "liquidated" in message] == [
            "recorded alert: said live"
        ]
        await pilot.press("a")
        assert await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
        title = str(app.screen.query_one(".title", Static).render())
        assert title.startswith("Alerts on REPLAY data, recorded live: 1 so far, newest first")


async def test_a_replay_of_a_recording_without_alerts_runs_the_rules_again_and_says_so(tmp_path):
    from liqtui.feeds.replay import ReplaySource

    path = tmp_path / "rec.sqlite"
    _recording(path, with_alert=False)
    app = LiqtuiApp(settings_from_dict(BIG), ReplaySource(path, speed=0), theme_dir=tmp_path / "no-themes")
    toasts = _toasts_said(app)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.source.finished)
        assert [a.text for a in app.alerts.log] == ["BTC long liquidated $312k at 82,410 on okx"]
        assert [title for title, message in toasts if "liquidated" in message] == ["alert: big"]
        await pilot.press("a")
        assert await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
        title = str(app.screen.query_one(".title", Static).render())
        assert "said again by the config's rules (the recording holds no alerts): 1 this session" in title


def test_a_replay_seeking_back_shows_the_recorded_alerts_again_as_it_reaches_them():
    """DeskAlerts on a replay: a seek back (reset) empties the log, the catch-up refills it quietly
    (no toast), and what the replay then plays through is said again."""
    from liqtui.config import Settings
    from liqtui.domain.alerts import Alert
    from liqtui.ui.alerts import DeskAlerts

    said = [
        Alert(
            NOW + i * 1_000,
            "r",
            "liquidation",
            "okx",
            "BTC/USDT:USDT",
            Side.LONG,
            1e6,
            1.0,
            1,
            f"a{i}",
            at=NOW + i * 1_000,
        )
        for i in range(3)
    ]
    catching_up = [False]
    desk = DeskAlerts(Settings(), object(), NOW, push=False, history=lambda: catching_up[0], recorded=said)

    def at(t: int) -> list[str]:
        return [a.text for a in desk.see(Ticker("okx", "BTC/USDT:USDT", t, last=1.0))]

    assert at(NOW + 1_500) == ["a0", "a1"] and at(NOW + 1_600) == [] and at(NOW + 2_000) == ["a2"]
    desk.reset(object(), 0)  # a seek back: the replay starts over
    assert list(desk.log) == []
    catching_up[0] = True
    assert at(NOW + 1_000) == [] and [a.text for a in desk.log] == ["a0", "a1"]  # history: no toast
    catching_up[0] = False
    assert at(NOW + 2_500) == ["a2"] and len(desk.log) == 3
