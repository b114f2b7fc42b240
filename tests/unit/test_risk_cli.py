"""`liqtui risk --samples FILE.csv --to PRICE [--json]`: the api's number, and clear errors (exit 2)."""

import json

import pandas as pd
import pytest

from liqtui.api import at_risk, estimate_levels
from liqtui.cli import main

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


@pytest.mark.parametrize("content,words", [
    ("time,price\n1,2\n", "missing column open_interest"),
    ("time,price,open_interest\n1,2,3\n2,abc,4\n", "column price, row 2"),
    ("", "not a readable CSV"),
])
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
