"""`liqtui export --out` and `liqtui stats`: never write over the recording or an existing file,
whole files only, parquet from the documented install, readable tables, the demo file named
(issues 14.3, 14.12, 12.15)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from liqtui.cli import main
from liqtui.storage import Recorder

from storage_events import stream

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "rec.sqlite"
    with Recorder(path) as recorder:
        for e in stream(seconds=120, seed=31):
            recorder.add(e)
    return path


def test_export_refuses_to_write_over_the_recording_it_reads(recording, capsys):
    before = recording.read_bytes()
    for extra in ([], ["--force"]):
        assert main(["export", str(recording), "--to", "csv", "--out", str(recording), *extra]) == 2
        err = capsys.readouterr().err
        assert err == (
            f"liqtui: {recording}: that is the recording being exported (or one of its files); choose another --out\n"
        )
    assert recording.read_bytes() == before  # before the fix: exit 0, then "not an SQLite database"


def test_export_refuses_an_existing_file_unless_forced(recording, tmp_path, capsys):
    out = tmp_path / "mine.csv"
    out.write_text("my own notes\n")
    assert main(["export", str(recording), "--to", "csv", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"liqtui: {out}: already exists; --force replaces it\n"
    assert out.read_text() == "my own notes\n"
    assert main(["export", str(recording), "--to", "csv", "--out", str(out), "--force"]) == 0
    assert out.read_text().startswith("time,time_utc,recv_time,venue,symbol")
    assert [p.name for p in tmp_path.iterdir()] == ["mine.csv"]  # no temporary file left


def test_the_default_output_name_is_not_replaced_either(recording, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(recording), "--to", "csv"]) == 0
    assert main(["export", str(recording), "--to", "csv"]) == 2
    assert "rec-liquidations.csv: already exists; --force replaces it" in capsys.readouterr().err


def test_export_refuses_a_dangling_symlink_and_follows_a_live_one(recording, tmp_path, capsys):
    target = tmp_path / "target.csv"
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert main(["export", str(recording), "--to", "csv", "--out", str(link)]) == 2
    assert (
        f"{link}: a symbolic link to {target}, which does not exist; not creating it"
        in capsys.readouterr().err
    )
    assert not target.exists()  # before the fix: created through the link
    target.write_text("old\n")
    assert main(["export", str(recording), "--to", "csv", "--out", str(link), "--force"]) == 0
    assert link.is_symlink() and target.read_text().startswith("time,")


def test_a_failed_export_leaves_no_half_file(recording, tmp_path):
    out = tmp_path / "books.csv"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))  # the disk fills up mid-write

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "liqtui",
            "export",
            str(recording),
            "--to",
            "csv",
            "--kind",
            "books",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"liqtui: cannot write {out}: File too large\n"
    assert list(tmp_path.iterdir()) == []  # before the fix: a 200 kB half file


def test_parquet_export_without_pyarrow_says_so_before_reading(recording, tmp_path):
    blocked = (
        "import sys; sys.modules['pyarrow'] = None; from liqtui.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    out = tmp_path / "l.parquet"
    result = subprocess.run(
        [sys.executable, "-c", blocked, "export", str(recording), "--to", "parquet", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("liqtui: parquet export needs pyarrow, which this install lacks")
    assert not out.exists()


def test_the_documented_install_brings_pyarrow():
    # README: `pip install -c requirements.lock -e .` must be enough for `export --to parquet`.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(dep.startswith("pyarrow==") for dep in project["dependencies"])
    locked = (ROOT / "requirements.lock").read_text().splitlines()
    assert next(d for d in project["dependencies"] if d.startswith("pyarrow==")) in locked


def test_the_stats_tables_keep_their_columns_apart(tmp_path, capsys):
    from liqtui.domain.events import Liquidation, OpenInterest, Side

    path = tmp_path / "wide.sqlite"
    symbol = "1000PEPE/USDT:USDT"  # 18 characters: ran into the next column
    with Recorder(path) as recorder:
        recorder.add(OpenInterest("hyperliquid", symbol, 369_267_164.08, 1e9, 1_764_000_000_000))
        recorder.add(OpenInterest("hyperliquid", symbol, 452_047_715.69, 2e9, 1_764_000_060_000))
        t = 1_764_000_000_000
        recorder.add(Liquidation("bybit", symbol, Side.LONG, 1.0, 1e6, 12_345_678.0, t, t + 1))
    assert main(["stats", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if "first base" in line)
    row = lines[header + 1].split()
    assert row == [
        "hyperliquid",
        symbol,
        "369,267,164.08",
        "452,047,715.69",
        "+82,780,551.61",
        "+22.42",
        "+1,000,000,000",
        "+100.00",
    ]
    # Right-aligned columns end where their headers end.
    for title, cell in (("first base", "369,267,164.08"), ("change USD", "+1,000,000,000")):
        assert lines[header].index(title) + len(title) == lines[header + 1].index(cell) + len(cell)


def test_plain_stats_after_record_demo_says_where_the_demo_file_is(tmp_path, capsys, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(f'record_path = "{tmp_path / "live.sqlite"}"\n')
    monkeypatch.setenv("LIQTUI_CONFIG", str(config))
    demo = tmp_path / "live-demo.sqlite"
    with Recorder(demo, source_mode="DEMO") as recorder:
        for e in stream(seconds=5, seed=1, books=False):
            recorder.add(e)
    assert main(["stats"]) == 2  # the live recording does not exist
    err = capsys.readouterr().err
    assert err == (
        f"liqtui: {tmp_path / 'live.sqlite'}: no such recording; the demo recording is {demo} (name it to read it)\n"
    )
    Recorder(tmp_path / "live.sqlite").close()  # a live desk that recorded nothing yet
    assert main(["stats"]) == 0
    assert f"holds no events yet; the demo recording is {demo}" in capsys.readouterr().err
    assert main(["export", "--to", "csv", "--out", str(tmp_path / "x.csv")]) == 0
    assert f"holds no liquidations yet; the demo recording is {demo}" in capsys.readouterr().err
    assert main(["stats", str(demo)]) == 0
    assert "(DEMO: a simulated market)" in capsys.readouterr().out


def test_record_demo_says_how_to_read_what_it_wrote(tmp_path, capsys, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(f'record_path = "{tmp_path / "live.sqlite"}"\n')
    monkeypatch.setenv("LIQTUI_CONFIG", str(config))
    assert main(["record", "--demo", "--duration", "0.5"]) == 0
    assert f"liqtui: read it with: liqtui stats {tmp_path / 'live-demo.sqlite'}\n" in capsys.readouterr().err
    assert os.path.exists(tmp_path / "live-demo.sqlite")
