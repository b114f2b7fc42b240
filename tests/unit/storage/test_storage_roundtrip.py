"""Recording and reading back: exact round trip, order, filters, book throttling, the recorder's lifecycle."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from liqtui.domain.events import Liquidation, OpenInterest, Side
from liqtui.storage import KINDS, Recorder, StoreError, describe, read_events
from liqtui.storage import reader as reader_module
from liqtui.storage.schema import APPLICATION_ID, SCHEMA_VERSION

from storage_events import T0, book, stored_form, stream


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    events = stream(seconds=300)
    path = tmp_path_factory.mktemp("rec") / "session.sqlite"
    with Recorder(path) as recorder:
        for event in events:
            recorder.add(event)
    return path, events


def test_every_event_comes_back_equal_and_in_order(recorded):
    path, events = recorded
    assert list(read_events(path)) == stored_form(events)


def test_a_read_s_first_chunk_of_each_kind_is_small_and_its_events_the_same(recorded, monkeypatch):
    """A read primes every kind's stream at once: the first chunk of each is ``FIRST_CHUNK_ROWS`` (a warm-up's
    first step on the desk's loop fetched a full chunk of each, ~70 ms), then ``CHUNK_ROWS`` a chunk."""
    path, events = recorded
    monkeypatch.setattr(reader_module, "CHUNK_ROWS", 50)
    monkeypatch.setattr(reader_module, "FIRST_CHUNK_ROWS", 7, raising=False)
    fetched: list[tuple[str, int]] = []
    chunks = reader_module._chunks

    def watched(conn, layout, *args, **kwargs):
        for chunk, made in chunks(conn, layout, *args, **kwargs):
            fetched.append((layout.kind, len(chunk)))
            yield chunk, made

    monkeypatch.setattr(reader_module, "_chunks", watched)
    assert list(read_events(path)) == stored_form(events)
    for kind in ("books", "tickers", "liquidations", "oi"):
        sizes = [n for k, n in fetched if k == kind]
        assert sizes[0] == 7
        assert max(sizes) == 50


def test_books_are_kept_once_a_second_with_50_levels(recorded):
    path, events = recorded
    books = list(read_events(path, kinds=["books"]))
    sent = [e for e in events if type(e).__name__ == "BookSnapshot"]
    assert len(books) == len(sent) // 2  # two a second were sent per market
    assert {len(b.bids) for b in books} == {50} and {len(b.asks) for b in books} == {50}
    assert books[0].bids == sent[0].bids[:50]


def test_kinds_and_time_bounds_filter(recorded):
    path, events = recorded
    since, until = T0 + 60_000, T0 + 120_000
    got = list(read_events(path, since_ms=since, until_ms=until, kinds=["liquidations", "oi"]))
    expected = [
        e
        for e in stored_form(events)
        if isinstance(e, (Liquidation, OpenInterest)) and since <= e.time <= until
    ]
    assert got == expected and got


def test_unknown_kind_is_a_clear_error(recorded):
    with pytest.raises(ValueError, match="unknown event kind 'trades'"):
        read_events(recorded[0], kinds=["trades"])


def test_describe_spans_the_file(recorded):
    path, events = recorded
    info = describe(path)
    stored = stored_form(events)
    assert info.rows["liquidations"] == sum(isinstance(e, Liquidation) for e in stored)
    assert sum(info.rows.values()) == len(stored)
    assert set(info.rows) == set(KINDS)
    assert info.venues == ("binanceusdm", "bybit", "okx")
    assert set(info.symbols) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
    assert info.start_ms == T0 and info.end_ms >= T0 + 299_000


def test_the_file_is_stamped(recorded):
    conn = sqlite3.connect(recorded[0])
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert dict(conn.execute("SELECT key, value FROM meta"))["app"] == "liqtui"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_second_session_appends_after_the_first(tmp_path):
    path = tmp_path / "r.sqlite"
    first = stream(seconds=20, seed=1)
    second = stream(seconds=20, seed=2, start=T0 + 20_000)
    for events in (first, second):
        with Recorder(path) as recorder:
            for e in events:
                recorder.add(e)
    assert list(read_events(path)) == stored_form(first) + stored_form(second)


def test_events_sharing_a_millisecond_keep_their_arrival_order(tmp_path):
    path = tmp_path / "r.sqlite"
    a = OpenInterest("okx", "BTC/USDT:USDT", 2.0, 2.0, T0)
    b = Liquidation("okx", "BTC/USDT:USDT", Side.SHORT, 1.0, 1.0, 1.0, T0, T0)
    c = OpenInterest("okx", "BTC/USDT:USDT", 1.0, 1.0, T0)
    with Recorder(path) as recorder:
        for e in (a, b, c):
            recorder.add(e)
    assert list(read_events(path)) == [a, b, c]


def test_flush_commits_what_was_added_and_close_is_idempotent(tmp_path):
    path = tmp_path / "r.sqlite"
    recorder = Recorder(path, background=False)
    events = stream(seconds=5)
    for e in events:
        recorder.add(e)
    assert recorder.pending > 0
    assert list(read_events(path)) == []  # nothing committed before the flush
    recorder.flush()
    assert recorder.pending == 0
    assert list(read_events(path)) == stored_form(events)
    recorder.close()
    recorder.close()
    recorder.add(events[0])
    assert recorder.dropped == 1


def test_background_thread_commits_without_being_asked(tmp_path):
    path = tmp_path / "r.sqlite"
    recorder = Recorder(path, flush_interval=0.05)
    try:
        recorder.add(OpenInterest("okx", "BTC/USDT:USDT", 1.0, 1.0, T0))
        done = threading.Event()
        for _ in range(200):  # up to 10 s on a loaded machine
            if sum(1 for _ in read_events(path)) == 1:
                done.set()
                break
            done.wait(0.05)
        assert done.is_set()
    finally:
        recorder.close()


def test_adding_from_many_threads_loses_nothing(tmp_path):
    path = tmp_path / "r.sqlite"
    recorder = Recorder(path, flush_interval=0.01)

    def produce(venue: str) -> None:
        for i in range(2000):
            recorder.add(Liquidation(venue, "BTC/USDT:USDT", Side.LONG, 1.0, 1.0, 1.0, T0 + i, T0 + i))

    threads = [threading.Thread(target=produce, args=(f"v{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorder.close()
    assert describe(path).rows["liquidations"] == 8000
    assert recorder.written["liquidations"] == 8000


def test_a_book_from_an_earlier_clock_is_kept(tmp_path):
    path = tmp_path / "r.sqlite"
    with Recorder(path) as recorder:
        recorder.add(book("okx", "BTC/USDT:USDT", T0 + 5000, 100.0, levels=3))
        recorder.add(book("okx", "BTC/USDT:USDT", T0 + 5500, 100.0, levels=3))  # throttled
        recorder.add(book("okx", "BTC/USDT:USDT", T0, 100.0, levels=3))  # another source's clock
        recorder.add(book("okx", "BTC/USDT:USDT", T0 + 6000, 100.0, levels=3))
    assert [b.time for b in read_events(path)] == [T0, T0 + 5000, T0 + 6000]


def test_a_write_error_stops_recording_and_is_reported(tmp_path):
    path = tmp_path / "r.sqlite"
    recorder = Recorder(path, background=False)
    recorder.add(OpenInterest("okx", "BTC/USDT:USDT", 1.0, 1.0, T0))
    recorder.flush()
    # Another process breaks the file under the recorder: the table it writes to is gone.
    other = sqlite3.connect(path)
    other.execute("DROP TABLE open_interest")
    other.commit()
    other.close()
    recorder.add(OpenInterest("okx", "BTC/USDT:USDT", 2.0, 2.0, T0 + 1))
    recorder.flush()
    assert recorder.error is not None and "recording stopped" in str(recorder.error)
    recorder.add(OpenInterest("okx", "BTC/USDT:USDT", 3.0, 3.0, T0 + 2))
    assert recorder.dropped == 2
    recorder.close()


def test_demo_and_live_data_never_share_a_file(tmp_path):
    from liqtui.config import Settings
    from liqtui.feeds.replay import ReplaySource
    from liqtui.storage import StoreError, default_path, warm

    demo = tmp_path / "demo.sqlite"
    with Recorder(demo, source_mode="DEMO") as recorder:
        recorder.add(OpenInterest("okx", "BTC/USDT:USDT", 1.0, 1.0, T0))
    with pytest.raises(StoreError, match="holds DEMO data; LIVE data goes to another recording"):
        Recorder(demo)
    Recorder(demo, source_mode="DEMO").close()  # the same kind appends

    class Engine:
        applied = 0

        def apply(self, event):
            self.applied += 1

    with pytest.raises(StoreError, match="holds DEMO data, not LIVE data"):
        warm(Engine(), demo, T0 + 1)
    assert warm(Engine(), demo, T0 + 1, source_mode="DEMO") == 1
    assert describe(demo).source_mode == "DEMO"
    assert ReplaySource(demo).recorded_mode == "DEMO"
    settings = Settings(record_path=str(tmp_path / "desk.sqlite"))
    assert default_path(settings, "LIVE") == tmp_path / "desk.sqlite"
    assert default_path(settings, "DEMO") == tmp_path / "desk-demo.sqlite"


def test_warm_applies_the_spans_the_engine_needs(tmp_path):
    from liqtui.domain.events import Ticker
    from liqtui.storage import warm

    hour, day = 3_600_000, 86_400_000
    now = T0 + 40 * day
    path = tmp_path / "r.sqlite"
    events = [
        OpenInterest("okx", "BTC/USDT:USDT", 1.0, 1.0, now - 31 * day),  # beyond the OI lookback
        OpenInterest("okx", "BTC/USDT:USDT", 2.0, 2.0, now - 29 * day),
        Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 1.0, 1.0, 1.0, now - 25 * hour, now - 25 * hour),
        Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 1.0, 2.0, 2.0, now - 23 * hour, now - 23 * hour),
        Ticker("okx", "BTC/USDT:USDT", now - hour, last=1.0),  # stale price: not needed
        Ticker("okx", "BTC/USDT:USDT", now - 60_000, last=2.0),
        book("okx", "BTC/USDT:USDT", now - 1000, 100.0, levels=2),  # a book of another session: stale
        Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 1.0, 3.0, 3.0, now + 5000, now + 5000),  # future
    ]
    with Recorder(path, retention_days=0) as recorder:
        for e in events:
            recorder.add(e)

    class Engine:
        def __init__(self):
            self.events = []

        def apply(self, event):
            self.events.append(event)

    engine = Engine()
    assert warm(engine, path, now) == 3
    assert engine.events == [events[1], events[3], events[5]]
    assert warm(Engine(), tmp_path / "missing.sqlite", now) == 0  # first start: nothing to warm


def test_a_malformed_event_is_skipped_and_the_rest_recorded(tmp_path):
    path = tmp_path / "r.sqlite"
    good = [
        OpenInterest("okx", "BTC/USDT:USDT", 1.0, 1.0, T0),
        OpenInterest("okx", "BTC/USDT:USDT", 3.0, 3.0, T0 + 2),
    ]
    with Recorder(path, background=False) as recorder:
        recorder.add(good[0])
        recorder.add(OpenInterest("okx", "BTC/USDT:USDT", None, 2.0, T0 + 1))  # type: ignore[arg-type]
        recorder.add(Liquidation("okx", "BTC/USDT:USDT", "sideways", 1.0, 1.0, 1.0, T0, T0))  # type: ignore[arg-type]
        recorder.add("not an event")  # type: ignore[arg-type]
        recorder.add(good[1])
        recorder.flush()
        assert recorder.error is None and recorder.rejected == 3
    assert list(read_events(path)) == good


def test_a_second_recorder_on_one_file_is_refused_until_the_first_closes(tmp_path):
    # Two recorders on one file doubled every liquidation; one writer per file now.
    path = tmp_path / "r.sqlite"
    first = Recorder(path, background=False)
    try:
        with pytest.raises(StoreError, match=r"already being recorded by another liqtui \(pid \d+\)"):
            Recorder(path, background=False)
        first.add(OpenInterest("okx", "BTC/USDT:USDT", 1.0, 1.0, T0))
    finally:
        first.close()
    with Recorder(path, background=False) as second:
        second.add(OpenInterest("okx", "BTC/USDT:USDT", 2.0, 1.0, T0 + 1))
    assert [e.base for e in read_events(path)] == [1.0, 2.0]
