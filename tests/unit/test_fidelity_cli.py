"""`liqtui fidelity`: the estimate scored on the demo's truth (--json fields), a recording's tracked
positions, and one clear message with exit code 2 for a bad file or bad usage."""

import json

import pytest

from liqtui.cli import main
from liqtui.domain.events import OpenInterest, PositionSnapshot, Side, Ticker
from liqtui.storage.recorder import Recorder


@pytest.fixture(autouse=True)
def default_config(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text("")
    monkeypatch.setenv("LIQTUI_CONFIG", str(path))


def test_demo_json_scores_every_hyperliquid_symbol_against_the_truth(capsys):
    assert main(["fidelity", "--demo", "--minutes", "0.5", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["source"], doc["against"], doc["file"]) == ("demo", "truth", None)
    assert doc["demo"] == {"seed": 0, "rate": "busy", "minutes": 0.5}
    assert doc["levels"]["long_share"] == 0.5
    assert [s["symbol"] for s in doc["symbols"]] == [
        "BTC/USDT:USDT",
        "ETH/USDT:USDT",
        "SOL/USDT:USDT",
        "XRP/USDT:USDT",
    ]
    for s in doc["symbols"]:
        assert s["venues"] == ["hyperliquid"] and s["accounts"] is None  # every simulated position
        assert 0 < s["covered_share"] < 1 and s["measured_usd"] > 0
        assert 0 <= s["curve_error"] < 1 and 0 <= s["near_share"] <= 1
        assert [p["target_pct"] for p in s["curve"]] == list(range(-15, 16))
        assert s["curve"][15]["estimated_usd"] == s["curve"][15]["measured_usd"] == 0  # at the price
    errors = [s["curve_error"] for s in doc["symbols"]]
    assert doc["mean_curve_error"] == pytest.approx(sum(errors) / len(errors))
    assert "fit" not in doc


def test_a_recording_scores_its_tracked_positions(tmp_path, capsys):
    path = tmp_path / "hl.sqlite"
    btc, t = "BTC/USDC:USDC", 1_769_860_800_000
    events = [Ticker("hyperliquid", btc, t + 60_000 * i, last=90_000.0 - 200 * i) for i in range(4)]
    events += [
        OpenInterest("hyperliquid", btc, 1_000.0 + 100 * i, (1_000.0 + 100 * i) * 90_000, t + 60_000 * i)
        for i in range(4)
    ]
    events.append(
        PositionSnapshot(
            "hyperliquid",
            btc,
            "0x" + "c" * 40,
            Side.LONG,
            10.0,
            890_000.0,
            90_000.0,
            86_000.0,
            20.0,
            "cross",
            t + 200_000,
        )
    )
    with Recorder(path, source_mode="LIVE") as recorder:
        for e in sorted(events, key=lambda e: e.time):
            recorder.add(e)
    code = main(["fidelity", str(path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["source"], doc["against"]) == ("recording", "measured")
    (row,) = doc["symbols"]
    assert (row["symbol"], row["accounts"], row["measured_usd"]) == (btc, 1, 890_000.0)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["fidelity", "NOPE.sqlite"], "NOPE.sqlite"),
        (["fidelity"], "give a recording FILE, or --demo"),
    ],
)
def test_bad_input_is_one_message_and_exit_2(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and err[0].startswith("liqtui fidelity: ")


def test_a_file_that_is_not_a_recording_is_refused(tmp_path, capsys):
    bad = tmp_path / "notes.sqlite"
    bad.write_text("not sqlite at all")
    assert main(["fidelity", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "notes.sqlite" in err[0]
