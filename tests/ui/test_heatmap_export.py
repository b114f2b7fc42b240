"""`liqtui heatmap`: the exported matrix is the pane's data, the SVG is the pane, bad usage says why
with exit code 2, and `liqtui heatmap --help` imports no heavy library."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys

import pytest

from liqtui.cli import main
from liqtui.commands.heatmap import SVG_SIZE, _Still, rows_of
from liqtui.config import Settings
from liqtui.engine import Engine
from liqtui.feeds.demo import DemoMarket
from liqtui.storage.reader import read_events
from liqtui.storage.recorder import Recorder
from liqtui.ui.app import LiqtuiApp
from liqtui.ui.widgets import HeatmapPane

SYMBOL = "BTC/USDT:USDT"


# One worker runs this module (pytest-xdist, --dist loadgroup): its module-scoped recording is
# built once, not once per worker.
pytestmark = pytest.mark.xdist_group("heatmap_export")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "demo.sqlite"
    market = DemoMarket(Settings(), seed=5, rate="calm", backfill_hours=14)
    engine = Engine(Settings().levels)
    with Recorder(path, background=False, source_mode="DEMO") as recorder:
        for event in [*market.start_events(), *market.advance_to(market.now_ms + 20 * 60_000)]:
            engine.apply(event)
            recorder.add(event)
            for bucket in engine.take_heatmap_buckets():
                recorder.add(bucket)
        recorder.flush()
    return path, market.now_ms


def _csv_rows(path):
    with path.open(encoding="utf-8") as f:
        reader = csv.reader(f)
        assert next(reader) == ["time", "price", "side", "usd"]
        return [(int(t), float(p), s, float(u)) for t, p, s, u in reader]


async def _pane_data(recording, range_name):
    """The heatmap pane of the desk at 160x45 on the recording's engine, at its last event."""
    path, _now = recording
    engine = Engine()
    last = 0
    for event in read_events(path):
        engine.apply(event)
        last = max(last, getattr(event, "time", 0))
    app = LiqtuiApp(Settings(), _Still("DEMO", last, SYMBOL), engine=engine, layout="heatmap")
    async with app.run_test(size=SVG_SIZE) as pilot:
        await pilot.pause()
        pane = app.screen.query_one(HeatmapPane)
        pane.range_name = range_name
        app.render_tick()
        await pilot.pause()
        return pane._shown[1]


@pytest.mark.parametrize("range_name", ["12h", "24h"])
async def test_the_csv_holds_the_panes_matrix(recording, tmp_path, range_name):
    out = tmp_path / "heat.csv"
    assert (
        main(["heatmap", "BTC", "--from-file", str(recording[0]), "--range", range_name, "--out", str(out)])
        == 0
    )
    shown = await _pane_data(recording, range_name)
    rows = _csv_rows(out)
    assert len(rows) > 1000
    assert rows == rows_of(shown)
    assert {s for _t, _p, s, _u in rows} == {"long", "short"}


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="needs pyarrow")
def test_parquet_holds_what_the_csv_holds(recording, tmp_path):
    import pandas as pd

    rec = str(recording[0])
    assert main(["heatmap", "BTC", "--from-file", rec, "--out", str(tmp_path / "a.csv")]) == 0
    assert main(["heatmap", "BTC", "--from-file", rec, "--out", str(tmp_path / "a.parquet")]) == 0
    frame = pd.read_parquet(tmp_path / "a.parquet")
    assert list(frame.columns) == ["time", "price", "side", "usd"]
    assert list(frame.itertuples(index=False, name=None)) == _csv_rows(tmp_path / "a.csv")


def test_the_svg_is_the_heatmap_pane(recording, tmp_path):
    out = tmp_path / "heat.svg"
    assert (
        main(["heatmap", "btcusdt", "--from-file", str(recording[0]), "--range", "12h", "--out", str(out)])
        == 0
    )
    svg = out.read_text(encoding="utf-8")
    assert "ESTIMATED" in svg and "12h" in svg and "DEMO" in svg and "▀" in svg


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["BTC", "--out", "x.txt"], "must end in .csv, .parquet, .svg"),
        (["DOGEFOO", "--out", "x.csv"], "holds no DOGEFOO"),
        (["BTC", "--venues", "kraken", "--out", "x.csv"], "holds no kraken"),
    ],
)
def test_bad_usage_says_why_with_exit_code_2(recording, tmp_path, capsys, argv, words):
    argv = [a if a != "x.csv" else str(tmp_path / "x.csv") for a in argv]
    assert main(["heatmap", *argv, "--from-file", str(recording[0])]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_a_missing_recording_and_an_existing_output_are_refused(tmp_path, capsys):
    assert (
        main(
            ["heatmap", "BTC", "--from-file", str(tmp_path / "none.sqlite"), "--out", str(tmp_path / "a.csv")]
        )
        == 2
    )
    (tmp_path / "b.csv").write_text("keep")
    assert (
        main(
            ["heatmap", "BTC", "--from-file", str(tmp_path / "none.sqlite"), "--out", str(tmp_path / "b.csv")]
        )
        == 2
    )
    assert "already exists" in capsys.readouterr().err and (tmp_path / "b.csv").read_text() == "keep"


def test_heatmap_help_imports_no_heavy_library():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "liqtui", "heatmap", "--help"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "--from-file" in result.stdout
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "liqtui" in imported
    assert not imported & {"ccxt", "pandas", "pyarrow", "textual", "aiohttp"}
