"""MEASURED positions in the recording: they round-trip exactly (a missing liquidation price too), a
warm-up gives the engine each account's newest, and ``latest_positions`` is what a restart resumes."""

from __future__ import annotations

from liqtui.config import Settings
from liqtui.domain.events import PositionSnapshot, Side
from liqtui.engine import Engine
from liqtui.storage.reader import latest_positions, read_events, warm
from liqtui.storage.recorder import Recorder

A, B = "0x" + "a1" * 20, "0x" + "b2" * 20
SYMBOL = "BTC/USDT:USDT"
T0 = 1_800_000_000_000


def _snap(account: str, size: float, time: int, liq: float | None = 90_000.0) -> PositionSnapshot:
    side = Side.SHORT if account == B else Side.LONG
    return PositionSnapshot(
        "hyperliquid", SYMBOL, account, side, size, size * 95_000.5, 94_000.25, liq, 20.0, "isolated", time
    )


def test_positions_round_trip_and_a_restart_resumes_the_newest_open_ones(tmp_path):
    path = tmp_path / "rec.sqlite"
    snaps = [
        _snap(A, 1.5, T0),
        _snap(B, 2.0, T0 + 1, liq=None),
        _snap(A, 1.25, T0 + 2),
        _snap(B, 0.0, T0 + 3),
    ]
    with Recorder(path, background=False) as recorder:
        for snap in snaps:
            recorder.add(snap)
        recorder.flush()
    assert list(read_events(path, kinds=["positions"])) == snaps
    assert latest_positions(path, T0) == [snaps[2]]  # B closed: not resumed
    engine = Engine(Settings().levels)
    warm(engine, path, T0 + 60_000)
    assert engine.state.positions.of(SYMBOL) == [snaps[2]]
