"""`liqtui risk --samples FILE.csv --to PRICE [--json]`: the api's number, and clear errors (exit 2)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from engine.reference import ReferenceBook  # tests/unit/engine/reference.py

from liqtui.api import at_risk, estimate_levels
from liqtui.cli import main

SRC = str(Path(__file__).resolve().parents[2] / "src")

ROWS = {"time": [0, 300_000, 600_000], "price": [100.0, 101.0, 99.0], "open_interest": [0.0, 10.0, 12.0]}


@pytest.fixture(autouse=True)
def default_config(tmp_path, monkeypatch):
    """An empty config file: the model's defaults, whatever the user's own config says."""
    path = tmp_path / "config.toml"
    path.write_text("")
    monkeypatch.setenv("LIQTUI_CONFIG", str(path))


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "samples.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False)
    return path


def run(capsys, *argv):
    code = main(["risk", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_reports_the_same_number_as_the_api(capsys, csv):
    code, out, err = run(capsys, "--samples", csv, "--to", 105, "--json")
    assert code == 0, err
    data = json.loads(out)
    expected = at_risk(estimate_levels(pd.DataFrame(ROWS)), 99.0, 105.0)
    assert data["price"] == 99.0 and data["target"] == 105.0 and data["side"] == "short"
    assert data["usd"] == pytest.approx(expected)
    # worked by hand: shorts 101.6, 102.6, 104.6 from the step at 101 and 99.6, 100.6, 102.5 from 99
    assert data["usd"] == pytest.approx(332.2)


def test_text_names_the_side_and_says_estimated(capsys, csv):
    code, out, _ = run(capsys, "--samples", csv, "--to", 90)
    assert code == 0
    assert "ESTIMATED longs at risk" in out and "$332" in out


@pytest.mark.parametrize(
    "content,words",
    [
        ("time,price\n1,2\n", "missing column open_interest"),
        ("time,price,open_interest\n1,2,3\n2,abc,4\n", "column price, row 2"),
        ("", "not a readable CSV"),
    ],
)
def test_bad_csv_is_one_clear_error_and_exit_2(capsys, tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out, err = run(capsys, "--samples", path, "--to", 100)
    assert code == 2 and out == ""
    assert words in err and "Traceback" not in err


def test_the_config_file_sets_the_model(capsys, csv, tmp_path, monkeypatch):
    path = tmp_path / "custom.toml"
    path.write_text('[levels]\nleverage_weights = { "10" = 1.0 }\n')
    code, out, err = run(capsys, "--samples", csv, "--to", 105, "--json", "--config", path)
    assert code == 0, err
    expected = at_risk(estimate_levels(pd.DataFrame(ROWS), leverage_weights={10: 1.0}), 99.0, 105.0)
    assert json.loads(out)["usd"] == pytest.approx(expected)


def test_missing_file_and_bad_target(capsys, csv, tmp_path):
    code, _, err = run(capsys, "--samples", tmp_path / "nope.csv", "--to", 100)
    assert code == 2 and "file not found" in err
    code, _, err = run(capsys, "--samples", csv, "--to", "-5")
    assert code == 2 and "--to" in err


# --- time order, OI units, the desk's price forms, assumptions and sensitivity ---------


def write(tmp_path, rows, name="samples.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_rows_in_reverse_time_order_are_sorted_and_it_says_so(capsys, tmp_path):
    backwards = write(tmp_path, {k: v[::-1] for k, v in ROWS.items()})
    code, out, err = run(capsys, "--samples", backwards, "--to", 105, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["usd"] == pytest.approx(332.2)  # the hand-worked figure of the rows in order
    assert data["warnings"] == ["the rows were not in time order: sorted by time (2 of 3 rows moved)"]
    code, out, _ = run(capsys, "--samples", backwards, "--to", 105)
    assert "$332" in out and "warning: the rows were not in time order: sorted by time" in out


def test_a_repeated_time_is_one_clear_error(capsys, tmp_path):
    path = write(tmp_path, {**ROWS, "time": [0, 300_000, 300_000]})
    code, out, err = run(capsys, "--samples", path, "--to", 105)
    assert code == 2 and out == ""
    assert "rows 2 and 3 have the same time 300000: one OI sample per time" in err


def test_oi_that_looks_like_usd_is_warned_about(capsys, tmp_path):
    # 90,000 BTC given as USD at 80,000: 7.2e9 "coins" x 80,000 = $576T, beyond any market
    path = write(
        tmp_path, {"time": [0, 300_000], "price": [80_000.0, 80_000.0], "open_interest": [7.1e9, 7.2e9]}
    )
    code, out, err = run(capsys, "--samples", path, "--to", "90k", "--json")
    assert code == 0, err
    (warning,) = json.loads(out)["warnings"]
    assert (
        "open_interest x price reaches $576.0T (row 2" in warning
        and "in coins (base currency), not USD" in warning
    )


@pytest.mark.parametrize(
    "to,target",
    [
        ("105", 105.0),
        ("105.0", 105.0),
        ("0.105k", 105.0),
        ("$105", 105.0),
        ("+10%", 99.0 * 1.10),
        ("-10%", 99.0 * 0.90),
    ],
)
def test_the_target_takes_the_desks_forms(capsys, csv, to, target):
    code, out, err = run(capsys, "--samples", csv, f"--to={to}", "--json")
    assert code == 0, err
    assert json.loads(out)["target"] == pytest.approx(target)


def test_a_move_down_in_percent_needs_no_equals_sign(csv):
    """`--to -5%` reaches the parser as a price, not as an unknown option (real CLI, subprocess)."""
    env = {**os.environ, "PYTHONPATH": SRC, "LIQTUI_CONFIG": os.environ["LIQTUI_CONFIG"]}
    done = subprocess.run(
        [sys.executable, "-m", "liqtui", "risk", "--samples", str(csv), "--to", "-5%", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["target"] == pytest.approx(99.0 * 0.95)


def test_the_output_states_the_models_assumptions(capsys, csv):
    code, out, _ = run(capsys, "--samples", csv, "--to", 105)
    assert code == 0
    assert (
        "assumptions: leverage mix 5x 15%, 10x 30%, 25x 25%, 50x 20%, 100x 10%; 50% of new OI long; "
        "maintenance margin 0.40%; levels older than 30 days dropped; no decay"
    ) in out


def test_shifted_mix_moves_each_weight_one_tier():
    from liqtui.commands.risk import shifted_mix

    default = {"5": 0.15, "10": 0.30, "25": 0.25, "50": 0.20, "100": 0.10}
    assert shifted_mix(default, -1) == pytest.approx({5: 0.45, 10: 0.25, 25: 0.20, 50: 0.10, 100: 0.0})
    assert shifted_mix(default, +1) == pytest.approx({5: 0.0, 10: 0.15, 25: 0.30, 50: 0.25, 100: 0.30})
    assert shifted_mix({"20": 1.0}, +1) == {20.0: 1.0}


SENSITIVE = {
    "time": [0, 300_000, 600_000, 900_000, 1_200_000],
    "price": [100.0, 102.0, 99.0, 101.0, 98.0],
    "open_interest": [0.0, 10.0, 6.0, 14.0, 12.0],
}


def reference_at_risk(steps, target, weights=None):
    ref = ReferenceBook(weights)
    for low, high, price, d_oi in steps:
        ref.step(low, high, price, d_oi)
    return ref.at_risk(98.0, target)


def test_sensitivity_over_the_sampling_step_and_the_leverage_mix(capsys, tmp_path):
    path = write(tmp_path, SENSITIVE)
    code, out, err = run(capsys, "--samples", path, "--to", 110, "--json")
    assert code == 0, err
    sens = json.loads(out)["sensitivity"]
    every = [(100, 102, 102, 10), (99, 102, 99, -4), (99, 101, 101, 8), (98, 101, 98, -2)]
    # every 2nd sample: rows 0, 2, 4, each step over the prices of the rows it spans
    every_2nd = [(99, 102, 99, 6), (98, 101, 98, 6)]
    assert sens["sampling"] == pytest.approx(
        {"1": reference_at_risk(every, 110), "2": reference_at_risk(every_2nd, 110)}
    )
    lower = {5: 0.45, 10: 0.25, 25: 0.20, 50: 0.10, 100: 0.0}
    higher = {5: 0.0, 10: 0.15, 25: 0.30, 50: 0.25, 100: 0.30}
    assert sens["leverage_mix"] == pytest.approx(
        {
            "lower": reference_at_risk(every, 110, lower),
            "configured": reference_at_risk(every, 110),
            "higher": reference_at_risk(every, 110, higher),
        }
    )
    assert len(set(sens["sampling"].values()) | set(sens["leverage_mix"].values())) == 4  # each run moved it
    code, out, _ = run(capsys, "--samples", path, "--to", 110)
    assert "  sensitivity: $" in out and "over the sampling step (every sample $" in out
    assert "over the leverage mix (one tier lower $" in out


def test_no_sensitivity_says_so(capsys, tmp_path):
    code, out, _ = run(capsys, "--samples", write(tmp_path, SENSITIVE), "--to", 110, "--no-sensitivity")
    assert code == 0 and "sensitivity: not computed (--no-sensitivity)" in out


def test_a_long_input_on_a_terminal_shows_progress_with_the_time_left(capsys, tmp_path, monkeypatch):
    import io

    from liqtui import api
    from liqtui.commands import risk

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(risk, "PROGRESS_FROM_STEPS", 3)
    monkeypatch.setattr(api, "STEPS_PER_CHUNK", 2)
    terminal = Terminal()
    monkeypatch.setattr(risk.sys, "stderr", terminal)
    code = main(["risk", "--samples", str(write(tmp_path, SENSITIVE)), "--to", "110", "--no-sensitivity"])
    assert code == 0
    shown = terminal.getvalue()
    assert "liqtui risk: 2 of 4 model steps (50%), about " in shown and " left" in shown
    assert shown.endswith("\r")  # the line is erased before the figure is printed


def test_a_large_file_on_a_terminal_says_it_is_being_read_and_an_error_clears_that_line(
    capsys, tmp_path, monkeypatch
):
    import io

    from liqtui.commands import risk

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(risk, "READING_NOTE_BYTES", 10)
    terminal = Terminal()
    monkeypatch.setattr(risk.sys, "stderr", terminal)
    path = write(tmp_path, {**ROWS, "time": [0, 300_000, 300_000]})
    assert main(["risk", "--samples", str(path), "--to", "105"]) == 2
    shown = terminal.getvalue()
    assert shown.startswith(f"liqtui risk: reading {path} (0 MB)\r")
    assert shown.endswith(
        f"\rliqtui risk: {path}: rows 2 and 3 have the same time 300000: one OI sample per time\n"
    )
