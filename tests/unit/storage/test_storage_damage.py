"""Hostile values never stop the recorder, and damaged rows never crash a reader.

The recorder skips (and counts) a row it cannot store and writes the rest; every reader (replay,
warm-up, `stats`, `export`) skips and counts a damaged row with one message, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest

from liqtui.cli import main
from liqtui.domain.events import BookSnapshot, FeedState, FeedStatus, Liquidation, OpenInterest, Side, Ticker
from liqtui.feeds.replay import ReplaySource
from liqtui.storage import Recorder, describe, read_events, warm
from liqtui.storage.summary import summarize

from storage_events import T0, stored_form, stream

BTC = "BTC/USDT:USDT"

# Each of these raised in the writer thread, or reached the file as a value no reader can use.
HOSTILE = {
    "time 10^30": Liquidation("okx", BTC, Side.LONG, 1.0, 1.0, 1.0, 10**30, 10**30),
    "received at 10^30": Liquidation("okx", BTC, Side.LONG, 1.0, 1.0, 1.0, T0, 10**30),
    "negative time": Liquidation("okx", BTC, Side.LONG, 1.0, 1.0, 1.0, -5, -5),
    "NaN price": Liquidation("okx", BTC, Side.LONG, float("nan"), 1.0, 1.0, T0, T0),
    "infinite usd": Liquidation("okx", BTC, Side.LONG, 1.0, 1.0, float("inf"), T0, T0),
    "unknown side": Liquidation("okx", BTC, "sideways", 1.0, 1.0, 1.0, T0, T0),  # type: ignore[arg-type]
    "venue not text": Liquidation(["okx"], BTC, Side.LONG, 1.0, 1.0, 1.0, T0, T0),  # type: ignore[arg-type]
    "text price": OpenInterest("okx", BTC, "lots", 1.0, T0),  # type: ignore[arg-type]
    "funding at 10^30": Ticker("okx", BTC, T0, last=1.0, next_funding_time=10**30),
    "book at 10^30": BookSnapshot("okx", BTC, ((1.0, 1.0),), ((2.0, 1.0),), 10**30),
    "book without a time": BookSnapshot("okx", BTC, ((1.0, 1.0),), ((2.0, 1.0),), None),  # type: ignore[arg-type]
    "book of a venue not text": BookSnapshot(["okx"], BTC, (), (), T0),  # type: ignore[arg-type]
    "status since 10^30": FeedStatus("okx", FeedState.LIVE, 10**30),
    "time as text": OpenInterest("okx", BTC, 1.0, 1.0, "soon"),  # type: ignore[arg-type]
}


def _good(i: int) -> Liquidation:
    return Liquidation("bybit", BTC, Side.SHORT, 80_000.0 + i, 0.01, 800.0 + i, T0 + i, T0 + i + 5)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_event_is_skipped_and_counted_and_the_rest_of_its_batch_is_written(tmp_path, name):
    path = tmp_path / "r.sqlite"
    with Recorder(path, background=False) as recorder:
        for i in range(5):
            recorder.add(_good(i))
        recorder.add(HOSTILE[name])
        for i in range(5, 10):
            recorder.add(_good(i))
        recorder.flush()  # raised OverflowError for 10^30 (and killed the writer thread) before
        assert recorder.error is None and recorder.rejected == 1
        recorder.add(_good(10))  # and the recorder goes on
    assert list(read_events(path)) == [_good(i) for i in range(11)]


def test_the_writer_thread_survives_every_hostile_event_and_records_the_rest(tmp_path):
    # The background thread, as the desk and `record` use it: the file at close holds every good
    # event (before the fix, one 10^30 left 0 of 226 in the file).
    path = tmp_path / "r.sqlite"
    good = [_good(i) for i in range(200)]
    recorder = Recorder(path, flush_interval=0.01)
    for i, event in enumerate(good):
        recorder.add(event)
        if i % 20 == 0:
            recorder.add(list(HOSTILE.values())[(i // 20) % len(HOSTILE)])
    recorder.close()
    assert recorder.error is None and recorder.rejected == 10
    assert list(read_events(path)) == good


def test_a_writer_that_cannot_go_on_says_why(tmp_path):
    path = tmp_path / "r.sqlite"
    recorder = Recorder(path, background=False)
    recorder._conn.execute("PRAGMA max_page_count = 30")  # the file may not grow: "disk full"
    for i in range(5000):
        recorder.add(_good(i))
    recorder.flush()
    recorder.close()
    assert recorder.error is not None and "recording stopped" in str(recorder.error)
    assert "full" in str(recorder.error) and str(path) in str(recorder.error)


# -- damaged recordings -----------------------------------------------------------------------


@pytest.fixture
def damaged(tmp_path):
    """A sound two-minute recording, then one liquidation's time stored as text, one OI value a
    blob, one book's bids cut short, one ticker's funding time a fraction, a row of an unknown
    market: each what a disk error or a hand edit leaves."""
    events = stream(seconds=120, seed=21)
    path = tmp_path / "d.sqlite"
    with Recorder(path) as recorder:
        for e in events:
            recorder.add(e)
    conn = sqlite3.connect(path)
    first = lambda table: conn.execute(f"SELECT min(seq) FROM {table}").fetchone()[0]  # noqa: E731
    conn.execute("UPDATE liquidations SET time = 'yesterday' WHERE seq = ?", (first("liquidations"),))
    conn.execute("UPDATE open_interest SET usd = x'00ff' WHERE seq = ?", (first("open_interest"),))
    conn.execute("UPDATE books SET bids = substr(bids, 1, 7) WHERE seq = ?", (first("books"),))
    conn.execute("UPDATE tickers SET next_funding_time = 1.5 WHERE seq = ?", (first("tickers"),))
    conn.execute("UPDATE price_bars SET market = 99 WHERE seq = ?", (first("price_bars"),))
    conn.commit()
    conn.close()
    kinds = {"liquidations": Liquidation, "oi": OpenInterest, "books": BookSnapshot, "tickers": Ticker}
    counts = {kind: sum(isinstance(e, cls) for e in stored_form(events)) for kind, cls in kinds.items()}
    return path, counts


def test_replay_reading_skips_and_counts_the_damaged_rows(damaged):
    path, counts = damaged
    stream_ = read_events(path)
    events = list(stream_)
    assert dict(stream_.skipped) == {"liquidations": 1, "oi": 1, "books": 1, "tickers": 1, "bars": 1}
    assert (
        stream_.note() == f"{path}: skipped 5 damaged rows (bars 1, books 1, liquidations 1, oi 1, tickers 1)"
    )
    assert sum(isinstance(e, Liquidation) for e in events) == counts["liquidations"] - 1
    times = [e.time for e in events if not isinstance(e, FeedStatus)]
    assert times == sorted(times)


async def test_the_replay_desk_source_plays_past_damaged_rows_and_says_so(damaged):
    path, counts = damaged
    info = describe(path)  # a text time is never the start or the end of the recording
    assert isinstance(info.end_ms, int) and isinstance(info.start_ms, int)
    source = ReplaySource(path, speed=0, hold_at_end=False)
    got = []
    await asyncio.wait_for(source.run(got.append), 30)
    assert sum(isinstance(e, Liquidation) for e in got) == counts["liquidations"] - 1
    assert "skipped 5 damaged rows" in source.damage_note


def test_warm_up_skips_damaged_rows(damaged):
    path, _counts = damaged

    class Engine:
        def apply(self, event):
            assert isinstance(event.time, int)

    assert warm(Engine(), path, describe(path).end_ms) > 0


def test_stats_leaves_damaged_rows_out_with_one_message(damaged, capsys):
    path, counts = damaged
    assert main(["stats", str(path), "--window", "all", "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert sum(r["count"] for r in out["liquidations"]) == counts["liquidations"] - 1
    assert out["damaged"] == {"liquidations": 1, "oi": 1}
    assert captured.err == f"liqtui: {path}: skipped 2 damaged rows (liquidations 1, oi 1)\n"
    assert summarize(path, "1h").to_ms == describe(path).end_ms  # the text time is not the newest


@pytest.mark.parametrize(
    "kind, expected", [("liquidations", 1), ("oi", 1), ("books", 1), ("tickers", 1), ("bars", 1)]
)
def test_export_leaves_damaged_rows_out_with_one_message(damaged, tmp_path, capsys, kind, expected):
    path, counts = damaged
    out = tmp_path / f"{kind}.csv"
    assert main(["export", str(path), "--to", "csv", "--kind", kind, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err == f"liqtui: {path}: skipped 1 damaged row ({kind} 1)\n"
    df = pd.read_csv(out)
    if kind in ("liquidations", "oi", "tickers"):
        assert len(df) == counts[kind] - expected
        assert pd.api.types.is_integer_dtype(df["time"])


def test_no_traceback_from_any_command_on_a_damaged_recording(damaged, tmp_path):
    path, _counts = damaged
    for argv in (
        ["stats", str(path)],
        ["export", str(path), "--to", "csv", "--kind", "books", "--out", str(tmp_path / "b.csv")],
        ["export", str(path), "--to", "parquet", "--out", str(tmp_path / "l.parquet")],
    ):
        result = subprocess.run([sys.executable, "-m", "liqtui", *argv], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and "damaged row" in result.stderr
