"""`liqtui stats` and `liqtui export` against numbers computed here, independently, from what was sent."""

from __future__ import annotations

import json
from collections import defaultdict

import pandas as pd
import pytest

from liqtui.cli import main
from liqtui.domain.events import BookSnapshot, Liquidation, OpenInterest, Ticker
from liqtui.storage import Recorder, retention
from liqtui.storage.schema import open_for_writing

from storage_events import T0, stored_form, stream

SECONDS = 2 * 3600 + 120  # long enough for the 1h window to leave events out


# One worker runs this module (pytest-xdist, --dist loadgroup): its module-scoped recording is
# built once, not once per worker.
pytestmark = pytest.mark.xdist_group("storage_stats_export")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    # Books are left out here: they do not enter the stats, and two hours of them are slow to make.
    events = stream(seconds=SECONDS, seed=11, books=False)
    path = tmp_path_factory.mktemp("stats") / "s.sqlite"
    with Recorder(path) as recorder:
        for e in events:
            recorder.add(e)
    return path, events


@pytest.fixture(scope="module")
def short_session(tmp_path_factory):
    events = stream(seconds=120, seed=12)
    path = tmp_path_factory.mktemp("export") / "e.sqlite"
    with Recorder(path) as recorder:
        for e in events:
            recorder.add(e)
    return path, events


def _expected_liquidations(events, start):
    cells = defaultdict(lambda: [0, 0.0, 0.0])
    for e in events:
        if isinstance(e, Liquidation) and (start is None or e.time > start):
            cell = cells[e.venue, e.symbol, e.side.value]
            cell[0] += 1
            cell[1] += e.usd
            cell[2] = max(cell[2], e.usd)
    return cells


def _expected_oi(events, start):
    first, last = {}, {}
    for e in events:
        if isinstance(e, OpenInterest) and (start is None or e.time > start):
            first.setdefault((e.venue, e.symbol), e)
            last[e.venue, e.symbol] = e
    return first, last


@pytest.mark.parametrize("window", ["1h", "4h", "all"])
def test_stats_json_matches_what_was_sent(session, capsys, window):
    path, events = session
    assert main(["stats", str(path), "--json", "--window", window]) == 0
    out = json.loads(capsys.readouterr().out)
    # The window ends at the newest event in the file (the second book of a second is not kept).
    newest = max(
        e.time if not hasattr(e, "since") else max(e.since, e.last_message or 0) for e in stored_form(events)
    )
    start = None if window == "all" else newest - {"1h": 3_600_000, "4h": 14_400_000}[window]
    assert out["to_ms"] == newest and out["from_ms"] == start
    assert out["source_mode"] == "LIVE"
    expected = _expected_liquidations(events, start)
    rows = {(r["venue"], r["symbol"], r["side"]): r for r in out["liquidations"]}
    assert set(rows) == set(expected)
    for key, (count, usd, largest) in expected.items():
        assert set(rows[key]) >= {"venue", "symbol", "side", "count", "usd", "largest_usd"}
        assert rows[key]["count"] == count
        assert rows[key]["usd"] == pytest.approx(usd, rel=1e-12)
        assert rows[key]["largest_usd"] == largest
        assert rows[key]["sampled"] == (key[0] in ("binanceusdm", "okx"))
    first, last = _expected_oi(events, start)
    oi = {(r["venue"], r["symbol"]): r for r in out["open_interest"]}
    assert set(oi) == set(first)
    for key, f in first.items():
        end = last[key]
        assert oi[key]["first_base"] == f.base and oi[key]["last_base"] == end.base
        assert oi[key]["change_usd"] == pytest.approx(end.usd - f.usd)
        assert oi[key]["change_base_pct"] == pytest.approx((end.base - f.base) / f.base * 100)


def test_the_1h_window_really_leaves_older_events_out(session, capsys):
    path, events = session
    main(["stats", str(path), "--json", "--window", "1h"])
    one_hour = sum(r["count"] for r in json.loads(capsys.readouterr().out)["liquidations"])
    main(["stats", str(path), "--json", "--window", "all"])
    everything = sum(r["count"] for r in json.loads(capsys.readouterr().out)["liquidations"])
    assert everything == sum(isinstance(e, Liquidation) for e in events)
    assert 0 < one_hour < everything / 2


def test_stats_text_names_every_venue_and_the_totals(session, capsys):
    path, _events = session
    assert main(["stats", str(path)]) == 0
    out = capsys.readouterr().out
    for word in (
        "Realized liquidations",
        "binanceusdm",
        "bybit",
        "okx",
        "total",
        "sampled: a lower bound",
        "Open interest change",
    ):
        assert word in out


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("kind", ["liquidations", "oi", "tickers", "books"])
def test_export_round_trips_row_counts(short_session, tmp_path, capsys, fmt, kind):
    path, events = short_session
    out = tmp_path / f"x.{fmt}"
    assert main(["export", str(path), "--to", fmt, "--kind", kind, "--out", str(out)]) == 0
    df = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    stored = stored_form(events)
    expected = {
        "liquidations": sum(isinstance(e, Liquidation) for e in stored),
        "oi": sum(isinstance(e, OpenInterest) for e in stored),
        "tickers": sum(isinstance(e, Ticker) for e in stored),
        "books": sum(len(e.bids) + len(e.asks) for e in stored if isinstance(e, BookSnapshot)),
    }[kind]
    assert len(df) == expected
    assert f"wrote {expected:,} {kind} rows" in capsys.readouterr().out
    if kind == "liquidations":
        sent = [e for e in stored if isinstance(e, Liquidation)]
        assert df["usd"].sum() == pytest.approx(sum(e.usd for e in sent))
        assert list(df["side"][:5]) == [e.side.value for e in sent[:5]]


def test_export_without_pyarrow_says_so(short_session, tmp_path, capsys, monkeypatch):
    def no_pyarrow(*args, **kwargs):
        raise ImportError("Unable to find a usable engine; tried using: 'pyarrow'")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", no_pyarrow)
    assert (
        main(["export", str(short_session[0]), "--to", "parquet", "--out", str(tmp_path / "x.parquet")]) == 2
    )
    assert "parquet export needs pyarrow" in capsys.readouterr().err


def test_retention_deletes_rows_older_than_the_window(tmp_path):
    path = tmp_path / "r.sqlite"
    day = retention.DAY_MS
    old = stream(seconds=30, seed=3, start=T0 - 40 * day)
    recent = stream(seconds=30, seed=4, start=T0)
    with Recorder(path, retention_days=0) as recorder:  # 0 keeps everything
        for e in old + recent:
            recorder.add(e)
    conn = open_for_writing(path)
    before = conn.execute("SELECT count(*) FROM liquidations").fetchone()[0]
    deleted = retention.prune(conn, retention_days=30)
    after = conn.execute("SELECT count(*) FROM liquidations").fetchone()[0]
    assert deleted == len(stored_form(old)) and after == before - sum(isinstance(e, Liquidation) for e in old)
    assert conn.execute("SELECT min(time) FROM tickers").fetchone()[0] >= T0
    conn.close()


def test_the_recorder_prunes_on_open_with_its_retention(tmp_path):
    path = tmp_path / "r.sqlite"
    day = retention.DAY_MS
    with Recorder(path, retention_days=0) as recorder:
        for e in stream(seconds=10, seed=3, start=T0 - 3 * day) + stream(seconds=10, seed=4, start=T0):
            recorder.add(e)
    Recorder(path, retention_days=2).close()
    from liqtui.storage import describe

    assert describe(path).start_ms >= T0


def test_books_are_kept_for_their_shorter_retention(tmp_path):
    from liqtui.storage import describe, read_events

    path = tmp_path / "r.sqlite"
    day = retention.DAY_MS
    with Recorder(path, retention_days=0) as recorder:
        for e in stream(seconds=5, seed=3, start=T0 - 5 * day) + stream(seconds=5, seed=4, start=T0):
            recorder.add(e)
    Recorder(path, retention_days=30, book_retention_days=3).close()
    books = list(read_events(path, kinds=["books"]))
    assert books and min(b.time for b in books) >= T0
    assert describe(path).start_ms == T0 - 5 * day  # everything else is kept 30 days


def test_an_event_from_a_broken_clock_does_not_wipe_the_file(tmp_path):
    import time as wall

    from liqtui.domain.events import OpenInterest
    from liqtui.storage import describe

    path = tmp_path / "r.sqlite"
    now = int(wall.time() * 1000)
    with Recorder(path) as recorder:
        recorder.add(OpenInterest("okx", "BTC/USDT:USDT", 1.0, 1.0, now - 10 * retention.DAY_MS))
        recorder.add(OpenInterest("okx", "BTC/USDT:USDT", 2.0, 2.0, now + 400 * retention.DAY_MS))
    assert describe(path).rows["oi"] == 2


def test_export_kinds_are_the_storage_kinds():
    from liqtui.commands.export import EXPORT_KINDS
    from liqtui.storage.export import EXPORT_KINDS as STORAGE_KINDS

    assert EXPORT_KINDS == STORAGE_KINDS


def test_the_storage_commands_do_not_load_pandas_until_an_export_runs():
    import subprocess
    import sys

    # `liqtui --help` imports every command module: pandas alone takes most of a second to load.
    code = (
        "import sys, liqtui.commands.record, liqtui.commands.stats, liqtui.commands.export, liqtui.storage;"
        "print('pandas' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
