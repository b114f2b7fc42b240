"""The recording's safety, with real processes and real files.

- a liquidation stamped 10^30 in the stream: every other event is in the file (`record` exit 0);
- a file that cannot grow (the process's file-size limit): `record` says why and exits 1;
- one writer per file: a second `record` on the same file, or the desk's recorder, is refused with
  one message (exit 2), and the first one's events are not doubled;
- a reader left open beside a recorder does not let the write-ahead log grow without bound;
- `stats`, `export` and replay read a recording in a directory they may not write to.

The recorded source is a small scripted one (liquidation i has price i) swapped into `liqtui record`;
it prints how many it emitted, then idles until the command stops.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from liqtui.domain.events import Liquidation, Side
from liqtui.storage import Recorder, read_events

T0 = 1_764_000_000_000

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, time
    from liqtui.domain.events import Liquidation, Side
    import liqtui.commands.record as record

    TOTAL, BAD_AT, BATCH = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

    class Scripted:
        mode = "LIVE"
        def now_ms(self): return int(time.time() * 1000)
        def set_focus(self, symbol): pass
        def symbols(self): return ["BTC/USDT:USDT"]
        async def run(self, emit):
            for i in range(TOTAL):
                now = int(time.time() * 1000)
                if i == BAD_AT:
                    emit(Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 1.0, 1.0, 1.0, 10**30, 10**30))
                emit(Liquidation("okx", "BTC/USDT:USDT", Side.LONG, float(i), 1.0, float(i), now, now))
                if i % BATCH == BATCH - 1:
                    await asyncio.sleep(0.001)
            print("emitted", TOTAL, flush=True)
            await asyncio.Event().wait()

    record._source = lambda args, settings: Scripted()
    from liqtui.cli import main
    out = ["--out", sys.argv[1]] if sys.argv[1] != "-" else []  # "-": the config's record_path
    sys.exit(main(["record", *out, *sys.argv[5:]]))
    """
)


def _start(
    tmp_path: Path,
    out: Path | str,
    total: int,
    *,
    bad_at: int = -1,
    batch: int = 20,
    extra=(),
    config: str = "",
    **popen,
):
    script = tmp_path / "recorder.py"
    script.write_text(SCRIPT)
    (tmp_path / "config.toml").write_text(config)
    env = {**os.environ, "LIQTUI_CONFIG": str(tmp_path / "config.toml")}
    return subprocess.Popen(
        [sys.executable, str(script), str(out), str(total), str(bad_at), str(batch), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **popen,
    )


def _wait_for_line(proc: subprocess.Popen, word: str) -> None:
    line = proc.stdout.readline()
    assert word in line, proc.stderr.read()


def _prices(out: Path) -> list[int]:
    return [int(e.price) for e in read_events(out, kinds=["liquidations"])]


def test_a_liquidation_at_time_10_30_loses_nothing_else(tmp_path):
    out = tmp_path / "rec.sqlite"
    proc = _start(tmp_path, out, 226, bad_at=3)
    _wait_for_line(proc, "emitted")
    proc.send_signal(signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert _prices(out) == list(range(226))  # before the fix: 0 of 226
    assert "226 events recorded" in stderr and "1 malformed events skipped" in stderr
    assert "Traceback" not in stderr


def _file_size_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # Python ignores SIGXFSZ: EFBIG

    return apply


def test_a_recording_that_cannot_grow_stops_record_with_its_reason(tmp_path):
    out = tmp_path / "rec.sqlite"
    proc = _start(tmp_path, out, 200_000, batch=2000, preexec_fn=_file_size_limit(1_000_000))
    _stdout, stderr = proc.communicate(timeout=120)  # stops by itself: the recorder failed
    assert proc.returncode == 1, stderr
    assert f"liqtui: {out}: recording stopped: " in stderr and "Traceback" not in stderr, stderr
    prices = _prices(out)
    assert prices == list(range(len(prices)))  # what was committed is whole


def _recording_started(proc: subprocess.Popen, out: Path) -> None:
    deadline = time.monotonic() + 60
    while not (out.exists() and _rows(out)):
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the first recorder wrote nothing"
        time.sleep(0.05)


def _rows(out: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM liquidations").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_a_second_recorder_on_the_same_file_is_refused_with_one_message(tmp_path):
    out = tmp_path / "rec.sqlite"
    first = _start(tmp_path, out, 229)
    try:
        _wait_for_line(first, "emitted")
        _recording_started(first, out)
        (tmp_path / "second").mkdir()
        second = _start(tmp_path / "second", out, 229, extra=["--duration", "30"])
        _stdout, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert err == (
            f"liqtui: {out}: already being recorded by another liqtui (pid {first.pid}); one recorder per "
            "file: stop that one, or record to another file (--out PATH)\n"
        )
        # The desk's recorder on that file says the same, and the desk runs without recording.
        from liqtui.commands import desk
        from liqtui.config import Settings
        from liqtui.engine import Engine

        settings = Settings(record_path=str(out))
        recorder, _history, why_not = desk._live_recorder(
            settings, Engine(settings.levels), int(time.time() * 1000)
        )
        assert recorder is None and "already being recorded by another liqtui" in why_not
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert _prices(out) == list(range(229))  # not 458: nothing was recorded twice


READER = textwrap.dedent(
    """
    import sys
    from liqtui.storage import read_events
    events = read_events(sys.argv[1])
    first = next(events)
    print("reading", flush=True)
    sys.stdin.readline()  # holds the file open, mid-read, until the test says go on
    print(1 + sum(1 for _ in events), flush=True)
    """
)


def test_a_reader_left_open_does_not_let_the_write_ahead_log_grow_without_bound(tmp_path):
    # Small commits, as the recorder makes four times a second, each add a few pages to the log.
    # A reader in the middle of the file (a replay left open) pinned the log before the fix:
    # 3,000 commits took it to ~40 MB. The recorder is in this process and the reader in another
    # (this process must not open the file any other way while SQLite holds its locks on it).
    out = tmp_path / "rec.sqlite"
    wal = Path(f"{out}-wal")
    recorder = Recorder(out, background=False)
    try:
        for i in range(10_000):  # more than one chunk of the reader
            recorder.add(Liquidation("okx", "BTC/USDT:USDT", Side.LONG, float(i), 1.0, 1.0, T0 + i, T0 + i))
        recorder.flush()
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert reader.stdout.readline() == "reading\n"
        largest = 0
        for batch in range(3000):
            for k in range(10):
                t = T0 + 10_000 + batch * 10 + k
                recorder.add(Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 1.0, 1.0, 1.0, t, t))
            recorder.flush()
            largest = max(largest, wal.stat().st_size)
        stdout, _ = reader.communicate("go on\n", timeout=60)
        assert recorder.error is None
    finally:
        recorder.close()
    assert largest < 8 * 1024 * 1024, f"the log reached {largest / 1e6:.0f} MB"
    assert int(stdout) == 10_000  # the reader reads what the file held when it opened it


def _without_root_file_rights() -> None:
    # Root reads and writes anything; without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH it meets
    # the directory's permission bits like anyone else (capabilities are recomputed at exec).
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_readers_work_on_a_recording_in_a_read_only_directory(tmp_path):
    directory = tmp_path / "archive"
    directory.mkdir()
    out = directory / "rec.sqlite"
    proc = _start(tmp_path, out, 50)
    _wait_for_line(proc, "emitted")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    directory.chmod(0o555)
    try:
        replay = "from liqtui.feeds.replay import ReplaySource; import sys; print(ReplaySource(sys.argv[1]).end_ms > 0)"
        for argv in (
            ["-m", "liqtui", "stats", str(out), "--json"],
            ["-m", "liqtui", "export", str(out), "--to", "csv", "--out", str(tmp_path / "l.csv")],
            ["-c", replay, str(out)],
        ):
            result = subprocess.run(
                [sys.executable, *argv], capture_output=True, text=True, preexec_fn=_without_root_file_rights
            )
            assert result.returncode == 0, (argv, result.stderr)
        assert len((tmp_path / "l.csv").read_text().splitlines()) == 51
        assert sorted(p.name for p in directory.iterdir()) == ["rec.sqlite", "rec.sqlite.lock"]
    finally:
        directory.chmod(0o755)


@pytest.mark.parametrize("how", ["--out", "record_path"])
def test_record_refuses_a_dangling_symlink_instead_of_creating_its_target(tmp_path, how):
    target = tmp_path / "elsewhere" / "target.sqlite"
    target.parent.mkdir()
    link = tmp_path / "link.sqlite"
    link.symlink_to(target)
    if how == "--out":
        proc = _start(tmp_path, link, 10)
    else:
        proc = _start(tmp_path, "-", 10, config=f'record_path = "{link}"\n')
    _stdout, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    if how == "--out":
        assert err == (
            f"liqtui: {link}: a symbolic link to {target}, which does not exist; not creating it "
            "(give a real path, or create the target first)\n"
        )
    else:  # the config loader says it first, naming the file and the key
        assert err.count("\n") == 1 and "key 'record_path'" in err and "symbolic link" in err
    assert not target.exists()  # before the fix: created, and recorded into


def test_the_desk_records_nothing_through_a_dangling_symlink(tmp_path):
    from liqtui.commands import desk
    from liqtui.config import Settings
    from liqtui.engine import Engine

    target = tmp_path / "target.sqlite"
    link = tmp_path / "link.sqlite"
    link.symlink_to(target)
    settings = Settings(record_path=str(link))
    recorder, _history, why_not = desk._live_recorder(
        settings, Engine(settings.levels), int(time.time() * 1000)
    )
    assert recorder is None and "a symbolic link to" in why_not
    assert not target.exists()
