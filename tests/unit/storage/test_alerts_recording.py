"""Alerts in the recording: the desk and `liqtui record` write the alerts they said beside the events,
they round-trip exactly (updates, null venue and side included), never come out of ``read_events``,
and a recording made before alerts were recorded reads (no alerts) and takes the new table."""

from __future__ import annotations

import asyncio
import sqlite3

from liqtui.config import Settings, settings_from_dict
from liqtui.domain.alerts import Alert
from liqtui.domain.events import Liquidation, Side
from liqtui.feeds.demo import DEFAULT_START_MS, DemoSource
from liqtui.storage.reader import describe, read_alerts, read_events
from liqtui.storage.recorder import Recorder

T0 = 1_769_874_660_000
BTC = "BTC/USDT:USDT"
ALERTS = [
    Alert(T0, "big", "liquidation", "okx", BTC, Side.LONG, 312_400.0, 82_410.5, 1, "BTC long ...", at=T0),
    Alert(T0 + 5, "burst", "burst", None, BTC, None, 6e6, None, 1_204, "BTC burst ...", at=T0 + 5),
    Alert(
        T0, "big", "liquidation", "okx", BTC, Side.LONG, 9e5, 82_000.0, 3, "BTC 3 long ...", True, T0 + 20_000
    ),
    Alert(T0 + 9, "f", "funding", "bybit", BTC, Side.SHORT, None, 80_000.0, None, "funding ...", at=T0 + 9),
]


def test_alerts_round_trip_exactly_in_the_order_they_were_said_and_are_not_events(tmp_path):
    path = tmp_path / "rec.sqlite"
    liq = Liquidation("okx", BTC, Side.LONG, 82_410.5, 3.79, 312_400.0, T0, T0 + 40)
    with Recorder(path, background=False) as recorder:
        recorder.add(liq)
        for alert in ALERTS:
            recorder.add(alert)
        recorder.flush()
        assert recorder.written["alerts"] == 4 and recorder.rejected == 0
    assert read_alerts(path) == [ALERTS[0], ALERTS[1], ALERTS[3], ALERTS[2]]  # by when each was said
    assert list(read_events(path)) == [liq]  # the replay's events, the engine's input: no alert
    assert describe(path).alerts == 4 and describe(path).end_ms == T0  # the span is the events'


def test_a_recording_made_before_alerts_were_recorded_reads_none_and_takes_the_table(tmp_path):
    path = tmp_path / "old.sqlite"
    with Recorder(path, background=False) as recorder:
        recorder.add(Liquidation("okx", BTC, Side.LONG, 80_000.0, 0.1, 8_000.0, T0, T0))
        recorder.flush()
    with sqlite3.connect(path) as conn:  # as files were made before alerts were recorded
        conn.execute("DROP TABLE alerts")
    assert read_alerts(path) is None and describe(path).alerts is None
    assert len(list(read_events(path))) == 1
    with Recorder(path, background=False) as recorder:  # recording into it again adds the table
        recorder.add(ALERTS[0])
        recorder.flush()
    assert read_alerts(path) == [ALERTS[0]]


def test_a_damaged_alert_row_is_left_out(tmp_path):
    path = tmp_path / "rec.sqlite"
    with Recorder(path, background=False) as recorder:
        for alert in ALERTS[:2]:
            recorder.add(alert)
        recorder.flush()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alerts SET side = 7 WHERE rule = 'big'")
    assert read_alerts(path) == [ALERTS[1]]


async def test_liqtui_record_writes_the_alerts_its_rules_say_on_live_events_only(tmp_path):
    """`liqtui record`'s tap on the seeded demo (the desk's seed 7, whose history ends with a sweep of
    an ESTIMATED cluster on the start time): the rules' alerts are recorded, none from the history."""
    from liqtui.commands.record import RecordTap

    rules = [{"kind": "liquidation", "min_usd": 1, "name": "any"}, {"kind": "cluster_swept", "min_usd": 10e6}]
    settings = settings_from_dict({"alerts": {"rules": rules}})
    source = DemoSource(settings, seed=7, realtime=False)
    path = tmp_path / "demo.sqlite"
    with Recorder(path, background=False, source_mode="DEMO") as recorder:
        tap = RecordTap(settings, source, recorder)
        task = asyncio.create_task(source.run(tap.take))
        while source.now_ms() < DEFAULT_START_MS + 30_000:
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        tap.finish()
        recorder.flush()
    said = read_alerts(path)
    assert said and {a.rule for a in said} >= {"any"}
    assert not [a for a in said if a.kind == "cluster_swept" and a.at <= DEFAULT_START_MS]
    assert [a for a in said if a.rule == "any" and not a.update][0].kind == "liquidation"
    assert describe(path).rows["liquidations"] > 0  # the events themselves, as before


def test_no_rule_enabled_records_the_events_only(tmp_path):
    from liqtui.commands.record import RecordTap

    settings = settings_from_dict({"alerts": {"rules": [{"kind": "burst", "enabled": False}]}})
    with Recorder(tmp_path / "r.sqlite", background=False) as recorder:
        tap = RecordTap(settings, DemoSource(Settings(), realtime=False), recorder)
        assert tap.alerts is None
        tap.take(Liquidation("okx", BTC, Side.LONG, 80_000.0, 100.0, 8e6, T0, T0))
        recorder.flush()
        assert recorder.written == {"liquidations": 1}
