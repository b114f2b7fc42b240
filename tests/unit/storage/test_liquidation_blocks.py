"""The liquidations held as packed blocks beside their rows (storage/blocks.py): the bulk reader reads
from the blocks the same rows, in the same order and the same reads, as from the rows alone, bit for
bit: a recording whose every liquidation is in a block, one partly blocked (rows from before blocks, a
crash's rows without a block), one with damaged blocks (said once), and one after retention cut into a
block. The recorder keeps the blocks and the rows in agreement, whatever it was handed."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from pathlib import Path

import pytest

from liqtui.config import Settings
from liqtui.domain.events import Event, Liquidation, LiquidationSource, Side
from liqtui.engine import Engine
from liqtui.feeds.demo.market import DemoMarket
from liqtui.feeds.event_source import BulkEmit
from liqtui.feeds.replay import ReplaySource
from liqtui.storage import Recorder, blocks, describe, retention
from liqtui.storage import reader as reader_module
from liqtui.storage.layouts import BLOCK_NOTE, damage_note
from liqtui.storage.reader import check_soon, read_liquidations, read_runs, start_warm, warm

BLOCK_ROWS = 1500  # small blocks: a few seconds of the stress demo fill a dozen


def _events(steps: int, seed: int = 5) -> list[Event]:
    market = DemoMarket(Settings(), seed=seed, rate="stress", backfill_hours=1, log_size=0)
    events = market.start_events()
    for _ in range(steps):  # 0.1 simulated second each at stress: ~800 liquidations
        events += market.step(100)
    return events


def _record(path: Path, events: list[Event], flush_every: int = 700) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocks, "BLOCK_ROWS", BLOCK_ROWS)
        with Recorder(path, source_mode="DEMO", background=False) as recorder:
            for k, event in enumerate(events):
                recorder.add(event)
                if k % flush_every == flush_every - 1:
                    recorder.flush()


@pytest.fixture(scope="module")
def blocked(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("blocks") / "stress.sqlite"
    _record(path, _events(12))
    return path


def _copy(path: Path, to: Path) -> Path:
    """A copy with what the write-ahead log holds."""
    source, copy = sqlite3.connect(path), sqlite3.connect(to)
    source.backup(copy)
    source.close()
    copy.close()
    return to


def _rows_only(path: Path, tmp_path: Path) -> Path:
    """The same file without its blocks: what a reader made before them reads."""
    copy = _copy(path, tmp_path / f"rows-{path.name}")
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TABLE liquidation_blocks")
    return copy


def _reads(path: Path, **span) -> tuple[list[tuple], Counter]:
    stream = read_liquidations(path, **span)
    reads = []
    for seqs, batch in stream:
        columns = (
            seqs,
            batch.market,
            batch.side,
            batch.price,
            batch.qty,
            batch.usd,
            batch.time,
            batch.recv,
            batch.flags,
        )
        markets = {int(m): batch.markets[int(m)] for m in set(batch.market.tolist())}
        reads.append((tuple((c.dtype.str, c.tobytes()) for c in columns), markets))
    return reads, stream.skipped


def _rows(reads: list[tuple]) -> list:
    """The reads' rows whole, wherever a read ends (a damaged row skipped shortens its read)."""
    import numpy as np

    columns = [
        np.concatenate([np.frombuffer(read[0][k][1], dtype=read[0][k][0]) for read in reads])
        for k in range(9)
    ]
    return [c.tobytes() for c in columns]


def _middle(path: Path) -> int:
    """The median liquidation's time (the file's own middle is in its backfill hour)."""
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT time FROM liquidations ORDER BY time LIMIT 1 OFFSET (SELECT count(*) / 2 FROM liquidations)"
        ).fetchone()[0]


def _block_count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM liquidation_blocks").fetchone()[0]


def _agree(path: Path) -> None:
    """Each block holds exactly the table's liquidations of its seq range."""
    with sqlite3.connect(path) as conn:
        for first, last, n in conn.execute("SELECT first_seq, last_seq, n FROM liquidation_blocks"):
            rows = conn.execute("SELECT count(*) FROM liquidations WHERE seq BETWEEN ? AND ?", (first, last))
            assert rows.fetchone()[0] == n


def test_a_recording_s_liquidations_read_from_its_blocks_equal_its_rows_read_alone_bit_for_bit(
    blocked, tmp_path, monkeypatch
):
    assert _block_count(blocked) >= 5
    _agree(blocked)
    rows = _rows_only(blocked, tmp_path)
    info = describe(blocked)
    assert info.blocks and not describe(rows).blocks
    middle = _middle(blocked)
    monkeypatch.setattr(reader_module, "RUN_ROWS", 1000)  # reads of 1,000 rows: several a span
    read_from_rows: list[str] = []
    chunks = reader_module._chunks

    def counted(conn, layout, *args, **kwargs):
        read_from_rows.append(layout.kind)
        return chunks(conn, layout, *args, **kwargs)

    for span in (
        {},
        {"since_ms": middle},
        {"until_ms": middle},
        {"since_ms": middle - 300, "until_ms": middle + 100},
    ):
        monkeypatch.setattr(reader_module, "_chunks", counted)
        got, skipped = _reads(blocked, **span)
        assert "liquidations" not in read_from_rows  # every one came out of a block
        monkeypatch.setattr(reader_module, "_chunks", chunks)
        want, skipped_rows = _reads(rows, **span)
        assert got == want  # the same reads, each column's bytes and type, the same markets
        assert len(got) > 1 or len(_rows(got)[0]) <= 8 * 1000
        assert skipped == skipped_rows == Counter()


def _items(path: Path) -> list:
    out = []
    for item in read_runs(path):
        if isinstance(item, Event):
            out.append(item)
        else:
            out.append([(c.dtype.str, c.tobytes()) for c in (item.market, item.price, item.time, item.flags)])
    return out


def test_the_runs_and_the_events_between_them_are_those_of_the_rows(blocked, tmp_path):
    assert _items(blocked) == _items(_rows_only(blocked, tmp_path))


@pytest.mark.parametrize("few", [65_536, 100], ids=["found-by-seq", "along-the-time-index"])
def test_a_file_partly_blocked_reads_its_rows_from_before_blocks_and_after_the_last_block_in_order(
    tmp_path, monkeypatch, few
):
    events = _events(24, seed=8)
    liquidations = [k for k, e in enumerate(events) if isinstance(e, Liquidation)]
    cut = liquidations[len(liquidations) // 3]
    path = tmp_path / "partly.sqlite"
    _record(path, events[:cut])
    with sqlite3.connect(path) as conn:  # as a recording made before blocks: its rows alone
        conn.execute("DELETE FROM liquidation_blocks")
    _record(path, events[cut:])  # a later session appends with blocks
    with sqlite3.connect(path) as conn:  # the newest block lost, as to a crash: its rows stay
        conn.execute(
            "DELETE FROM liquidation_blocks WHERE first_seq = (SELECT max(first_seq) FROM liquidation_blocks)"
        )
        before = conn.execute(
            "SELECT count(*) FROM liquidations WHERE seq < (SELECT min(first_seq) FROM liquidation_blocks)"
        )
        assert before.fetchone()[0] > 1000
    assert _block_count(path) >= 5
    monkeypatch.setattr(reader_module, "_FEW_ROWS", few)  # a range of more rows: along the time index
    rows = _rows_only(path, tmp_path)
    got, skipped = _reads(path)
    assert got == _reads(rows)[0]
    assert skipped == Counter()
    middle = _middle(path)
    assert _reads(path, since_ms=middle)[0] == _reads(rows, since_ms=middle)[0]


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE liquidation_blocks SET data = substr(data, 1, 100) || x'00' || substr(data, 102) WHERE first_seq = ?",
        "UPDATE liquidation_blocks SET data = substr(data, 1, length(data) - 54) WHERE first_seq = ?",
        "UPDATE liquidation_blocks SET n = n - 1 WHERE first_seq = ?",
        "UPDATE liquidation_blocks SET last_seq = 'later', first_time = x'00' WHERE first_seq = ?",
        "UPDATE liquidation_blocks SET data = 'text' WHERE first_seq = ?",
        "UPDATE liquidation_blocks SET last_seq = last_seq + 100000 WHERE first_seq = ?",
    ],
    ids=["byte", "size", "count", "header", "text", "range"],
)
@pytest.mark.parametrize("ahead", [False, True], ids=["checked-at-the-read", "checked-ahead"])
def test_a_damaged_block_s_rows_are_read_from_the_table_and_the_note_says_so_once(
    blocked, tmp_path, damage, ahead
):
    path = _copy(blocked, tmp_path / "damaged.sqlite")
    with sqlite3.connect(path) as conn:
        seqs = [s for (s,) in conn.execute("SELECT first_seq FROM liquidation_blocks ORDER BY first_seq")]
        conn.execute(damage, (seqs[2],))
    got, skipped = _reads(path, checked=check_soon(path) if ahead else None)
    assert _rows(got) == _rows(_reads(_rows_only(blocked, tmp_path))[0])
    assert skipped[BLOCK_NOTE] >= 1
    assert sum(n for kind, n in skipped.items() if kind != BLOCK_NOTE) == 0
    note = damage_note(path, skipped)
    assert note == f"{path}: liquidations read from their rows where their packed blocks are damaged"


def test_the_damage_note_says_the_rows_skipped_and_the_damaged_blocks_in_one_line():
    said = damage_note("f.sqlite", Counter({"liquidations": 2, BLOCK_NOTE: 3, "oi": 0}))
    assert said == (
        "f.sqlite: skipped 2 damaged rows (liquidations 2); "
        "liquidations read from their rows where their packed blocks are damaged"
    )
    assert damage_note("f.sqlite", Counter({BLOCK_NOTE: 0})) is None


def test_retention_cuts_into_a_block_and_writes_it_again_with_the_rows_it_kept(blocked, tmp_path):
    path = _copy(blocked, tmp_path / "pruned.sqlite")
    with sqlite3.connect(path, isolation_level=None) as conn:
        first, last, first_time, last_time = conn.execute(
            "SELECT first_seq, last_seq, first_time, last_time FROM liquidation_blocks ORDER BY first_seq LIMIT 1 OFFSET 3"
        ).fetchone()
        cutoff = (first_time + last_time) // 2 + 1
        newest = retention.newest_time(conn)
        held = conn.execute("SELECT count(*) FROM liquidation_blocks").fetchone()[0]
        assert retention.prune(conn, (newest - cutoff) / retention.DAY_MS, newest) > 0
        kept = conn.execute(
            "SELECT first_seq, n FROM liquidation_blocks WHERE first_seq BETWEEN ? AND ?", (first, last)
        ).fetchall()
        assert len(kept) == 1 and kept[0][0] > first  # written again from its first row kept
        assert 0 < conn.execute("SELECT count(*) FROM liquidation_blocks").fetchone()[0] < held
        assert conn.execute("SELECT min(time) FROM liquidations").fetchone()[0] >= cutoff
    _agree(path)
    got, skipped = _reads(path)
    assert got == _reads(_rows_only(path, tmp_path))[0]
    assert skipped == Counter()


def test_a_row_changed_or_deleted_by_any_program_takes_its_block_with_it(blocked, tmp_path):
    path = _copy(blocked, tmp_path / "changed.sqlite")
    held = _block_count(path)
    with sqlite3.connect(path) as conn:
        seqs = [s for (s,) in conn.execute("SELECT first_seq FROM liquidation_blocks ORDER BY first_seq")]
        conn.execute(
            "UPDATE liquidations SET price = price * 2 WHERE seq = (SELECT min(seq) FROM liquidations WHERE seq > ?)",
            (seqs[1],),
        )
        conn.execute(
            "DELETE FROM liquidations WHERE seq = (SELECT min(seq) FROM liquidations WHERE seq > ?)",
            (seqs[3],),
        )
    assert _block_count(path) == held - 2
    _agree(path)
    assert _reads(path)[0] == _reads(_rows_only(path, tmp_path))[0]


def _liquidation(time: int, price: object, **fields) -> Liquidation:
    values = {"usd": 1_000.0, "qty": 0.01, "recv_time": time + 5} | fields
    return Liquidation(
        "bybit",
        "BTC/USDT:USDT",
        Side.LONG,
        price,
        values["qty"],
        values["usd"],
        time,
        values["recv_time"],
        False,
        LiquidationSource.FEED,
    )  # type: ignore[arg-type]


def test_the_recorder_s_blocks_hold_what_the_file_holds_whatever_it_was_handed(tmp_path):
    """Values SQLite stores otherwise than given (an integer price, -0.0, a float delay) and rows it
    deletes (an infinite price): the block is read back from the file then, or packed as SQLite holds it."""
    t0 = 1_769_860_800_000
    handed = [
        [_liquidation(t0 + k, 80_000.0 + k) for k in range(50)],
        [_liquidation(t0 + 100, 80_000), _liquidation(t0 + 101, -0.0, usd=-0.0)],
        [_liquidation(t0 + 200, 80_000.5), _liquidation(t0 + 201, float("inf")), _liquidation(t0 + 202, 1.5)],
        [_liquidation(t0 + 300, 80_001.0, recv_time=t0 + 305.0), _liquidation(t0 + 301, 2.0)],
        [_liquidation(t0 + 400 - k, 79_000.0 + k) for k in range(30)],  # out of time order
    ]
    path = tmp_path / "handed.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocks, "BLOCK_ROWS", 3)
        with Recorder(path, source_mode="DEMO", background=False) as recorder:
            for flush in handed:
                for liq in flush:
                    recorder.add(liq)
                recorder.flush()
    assert recorder.rejected == 1
    assert _block_count(path) >= 3
    _agree(path)
    got = _reads(path)[0]
    assert got == _reads(_rows_only(path, tmp_path))[0]
    assert sum(len(read[1]) for read in got) == 1  # one market


def test_a_recorder_writes_what_it_collected_as_a_block_at_its_close_and_before_a_prune(tmp_path):
    path = tmp_path / "closed.sqlite"
    t0 = 1_769_860_800_000
    with Recorder(path, source_mode="DEMO", background=False) as recorder:
        recorder.add(_liquidation(t0, 80_000.0))
        recorder.flush()
        assert _block_count(path) == 0  # collected, not a block yet: read from its row meanwhile
        assert len(_reads(path)[0]) == 1
        recorder._prune()
        assert _block_count(path) == 1
        recorder.add(_liquidation(t0 + 1, 80_001.0))
    assert _block_count(path) == 2
    _agree(path)


async def test_a_blocked_recording_s_catch_up_is_read_here_without_a_child(blocked, monkeypatch):
    monkeypatch.setattr("liqtui.feeds.replay.AHEAD_ROWS", 10)
    monkeypatch.setattr("liqtui.feeds.replay._cores", lambda: 2)
    source = ReplaySource(blocked, speed=0, start_ms=describe(blocked).end_ms, read_ahead=True)
    assert source._ahead is None
    asked: list[Path] = []
    warming = start_warm(
        object(),
        blocked,
        describe(blocked).end_ms,
        source_mode="DEMO",
        ahead=lambda *args: asked.append(args[0]),
    )
    warming.close()
    assert asked == []


def test_a_block_whose_crc_holds_but_whose_values_no_sound_row_holds_is_read_from_the_rows(blocked, tmp_path):
    path = _copy(blocked, tmp_path / "values.sqlite")
    with sqlite3.connect(path) as conn:
        block = conn.execute(
            "SELECT * FROM liquidation_blocks ORDER BY first_seq LIMIT 1 OFFSET 1"
        ).fetchone()
        table = blocks.decode(block)
        assert table is not None
        part = blocks.part_of({**table, "side": table["side"] + 2})  # side 2 or 3: no side
        conn.execute("DELETE FROM liquidation_blocks WHERE first_seq = ?", (block[0],))
        blocks.insert(conn, [part])
    got, skipped = _reads(path)
    assert _rows(got) == _rows(_reads(_rows_only(blocked, tmp_path))[0])
    assert skipped == Counter({BLOCK_NOTE: 1})


def test_no_reading_child_is_started_for_a_recording_held_in_blocks(blocked, tmp_path, monkeypatch):
    from liqtui.feeds import replay_ahead

    monkeypatch.setattr(replay_ahead, "cores", lambda: 2)

    rows = _rows_only(blocked, tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("not a recording")
    assert replay_ahead.held_in_blocks(blocked)
    assert not any(replay_ahead.held_in_blocks(p) for p in (rows, text, tmp_path / "none.sqlite", tmp_path))
    replay_ahead.start_early(["replay", str(blocked), "--from", "+1m"])
    assert replay_ahead.take_early() is None
    replay_ahead.start_early(["replay", str(rows), "--from", "+1m", "--config", str(text)])
    child = replay_ahead.take_early()
    assert child is not None
    replay_ahead.discard(child)


def _first_seqs(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [
            first for (first,) in conn.execute("SELECT first_seq FROM liquidation_blocks ORDER BY first_seq")
        ]


@pytest.fixture
def checks_on_this_thread(monkeypatch) -> list[int]:
    """The blocks (first seqs) whose bytes are checked (``blocks.whole``) on the calling thread (a desk's
    loop): each once, as its rows are read (``decode``), not also all of them before the first rows."""
    here, checked, whole = threading.get_ident(), [], blocks.whole

    def watched(block):
        if threading.get_ident() == here:
            checked.append(block[0])
        return whole(block)

    monkeypatch.setattr(blocks, "whole", watched)
    return checked


def test_a_warm_up_s_blocks_are_checked_and_its_rows_counted_in_threads_not_again_in_its_steps(
    blocked, monkeypatch, checks_on_this_thread
):
    here, counted = threading.get_ident(), []
    count = reader_module._count

    def watched(conn, table, *span):
        if threading.get_ident() == here:
            counted.append(table)
        return count(conn, table, *span)

    monkeypatch.setattr(reader_module, "_count", watched)
    end = describe(blocked).end_ms
    warming = start_warm(Engine(), blocked, end, source_mode="DEMO")
    while warming.step():
        pass
    assert sorted(checks_on_this_thread) == _first_seqs(blocked)
    assert counted == []
    assert warming.share == 1.0
    assert warming.count == warm(Engine(), blocked, end, source_mode="DEMO")


async def test_a_replay_s_blocks_are_checked_in_a_thread_from_its_source_s_start_not_again_at_its_read(
    blocked, checks_on_this_thread
):
    source = ReplaySource(blocked, speed=0, start_ms=describe(blocked).end_ms, hold_at_end=False)
    engine = Engine()
    await source.run(BulkEmit(engine.apply, engine.apply_many))
    assert sorted(checks_on_this_thread) == _first_seqs(blocked)
    assert source.emitted == sum(describe(blocked).rows.values())
