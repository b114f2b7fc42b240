"""`liqtui record` in a subprocess: SIGTERM flushes everything, SIGKILL loses at most the last second.

The recorded source is a small deterministic one (liquidation i has price i) that prints, after
every batch it emits, how many it has emitted and the wall time: a side channel that does not go
through the recorder, read back by the test after the process is gone.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from liqtui.domain.events import Liquidation
from liqtui.storage import describe, read_events

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, time
    from liqtui.domain.events import Liquidation, Side
    import liqtui.commands.record as record

    class Counting:
        mode = "LIVE"
        def now_ms(self): return int(time.time() * 1000)
        def set_focus(self, symbol): pass
        def symbols(self): return ["BTC/USDT:USDT"]
        async def run(self, emit):
            i = 0
            while True:  # about 2,000 liquidations a second, in batches of 20
                now = int(time.time() * 1000)
                for _ in range(20):
                    emit(Liquidation("okx", "BTC/USDT:USDT", Side.LONG, float(i), 1.0, float(i), now, now))
                    i += 1
                sys.stdout.write(f"{i} {now}\\n")
                sys.stdout.flush()
                await asyncio.sleep(0.01)

    record._source = lambda args, settings: Counting()
    from liqtui.cli import main
    sys.exit(main(["record", "--out", sys.argv[1]]))
    """
)


def _start(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "recorder.py"
    script.write_text(SCRIPT)
    out = tmp_path / "rec.sqlite"
    env = {**os.environ, "LIQTUI_CONFIG": str(tmp_path / "none.toml")}
    (tmp_path / "none.toml").write_text("")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return proc, out


def _wait_for_rows(proc: subprocess.Popen, out: Path, rows: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        try:
            if out.exists() and describe(out).rows["liquidations"] >= rows:
                return
        except Exception:
            pass  # the file is being created
        time.sleep(0.1)
    pytest.fail("the recorder wrote nothing")


def _emitted(stdout: str) -> list[tuple[int, int]]:
    """(events emitted so far, wall ms) after each batch."""
    lines = [line.split() for line in stdout.splitlines() if line.strip()]
    return [(int(a), int(b)) for a, b in lines]


def _prices(out: Path) -> list[int]:
    return [int(e.price) for e in read_events(out, kinds=["liquidations"])]


def test_sigterm_flushes_every_event_emitted(tmp_path):
    proc, out = _start(tmp_path)
    _wait_for_rows(proc, out, 3000)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    emitted = _emitted(stdout)[-1][0]
    # SIGTERM is handled between batches (on the event loop): every emitted event is in the file.
    assert _prices(out) == list(range(emitted))
    assert f"{emitted:,} events recorded" in stderr
    assert not Path(str(out) + "-wal").exists() or Path(str(out) + "-wal").stat().st_size == 0


def test_sigkill_leaves_a_readable_file_missing_at_most_the_last_second(tmp_path):
    proc, out = _start(tmp_path)
    _wait_for_rows(proc, out, 3000)
    time.sleep(0.37)  # land somewhere inside a flush interval
    proc.kill()
    stdout, _stderr = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    batches = _emitted(stdout)
    last_count, last_ms = batches[-1]

    conn = sqlite3.connect(out)  # plain SQLite recovers the write-ahead log
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    prices = _prices(out)
    kept = len(prices)
    assert prices == list(range(kept))  # nothing lost in the middle
    assert kept <= last_count + 20  # (events of a batch cut short by the kill are not printed)
    if kept < last_count:
        # The oldest event lost was emitted within the last second before the last batch printed.
        first_lost_ms = next(ms for count, ms in batches if count > kept)
        assert last_ms - first_lost_ms <= 1000, (last_ms - first_lost_ms, last_count - kept)
    assert isinstance(next(iter(read_events(out))), Liquidation)
