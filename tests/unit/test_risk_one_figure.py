"""One at-risk figure: the same OI samples through the desk's path (events into the
engine, the at-risk chart reading the view) and through `liqtui risk --samples` (a real subprocess)
give the same number to the cent; the pandas API and the reference model agree with both."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from engine.reference import ReferenceBook  # tests/unit/engine/reference.py

from liqtui.api import at_risk as api_at_risk
from liqtui.api import estimate_levels
from liqtui.config import load_settings
from liqtui.domain.events import OpenInterest, PriceBar, Ticker
from liqtui.engine import Engine, at_risk
from liqtui.ui.widgets.risk_chart import at_risk_sentence

BTC = "BTC/USDT:USDT"
STEP_MS = 30 * 60_000  # 2,000 samples span 41 days: the 30-day lookback drops the oldest levels
SRC = str(Path(__file__).resolve().parents[2] / "src")


def samples(seed: int, n: int = 2_000) -> pd.DataFrame:
    rnd = random.Random(seed)
    price, oi, rows = 80_000.0, 50_000.0, []
    for i in range(n):
        price *= math.exp(rnd.gauss(0, 0.006))
        oi = max(0.0, oi + rnd.gauss(5.0, 300.0))
        row = {
            "time": 1_700_000_000_000 + i * STEP_MS,
            "price": round(price, 1),
            "open_interest": round(oi, 3),
            "high": float("nan"),
            "low": float("nan"),
        }
        if i % 3:  # a bar for two samples in three: the step's range goes beyond the two prices
            row["high"] = round(price * (1 + abs(rnd.gauss(0, 0.004))), 1)
            row["low"] = round(price * (1 - abs(rnd.gauss(0, 0.004))), 1)
        rows.append(row)
    return pd.DataFrame(rows)


def desk_engine(frame: pd.DataFrame, settings) -> Engine:
    """The desk's path: a price bar ending at each sample, the ticker, then the OI sample."""
    engine = Engine(settings.levels)
    for row in frame.itertuples():
        t = int(row.time)
        if not math.isnan(getattr(row, "high", math.nan)):
            engine.apply(PriceBar("binanceusdm", BTC, t - 1, row.price, row.high, row.low, row.price))
        engine.apply(Ticker("binanceusdm", BTC, t, last=row.price))
        engine.apply(OpenInterest("binanceusdm", BTC, row.open_interest, row.open_interest * row.price, t))
    return engine


def cli(csv: Path, config: Path, target: str) -> dict:
    env = {**os.environ, "PYTHONPATH": SRC, "LIQTUI_CONFIG": str(config)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "liqtui",
            "risk",
            "--samples",
            str(csv),
            "--to",
            target,
            "--json",
            "--no-sensitivity",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize(
    "seed,config_text",
    [
        (1, ""),
        (2, '[levels]\nhalf_life_hours = 12.0\nleverage_weights = { "3" = 0.5, "20" = 0.3, "75" = 0.2 }\n'),
    ],
)
def test_the_desk_and_liqtui_risk_give_the_same_figure_to_the_cent(tmp_path, seed, config_text):
    config = tmp_path / "config.toml"
    config.write_text(config_text)
    settings = load_settings(str(config))
    frame = samples(seed)
    csv = tmp_path / "samples.csv"
    frame.to_csv(csv, index=False)
    view = desk_engine(frame, settings).view(BTC, int(frame["time"].iloc[-1]))
    price = view.levels.price
    assert price == frame["price"].iloc[-1]
    for target in ("+6%", "-6%", "+25%"):
        got = cli(csv, config, target)
        desk = at_risk(view.levels.level_books, price, got["target"])  # what the at-risk chart shows
        assert got["price"] == price and got["usd"] > 0
        assert round(desk, 2) == round(got["usd"], 2), (target, desk, got["usd"])


def both_paths(
    tmp_path, rows: list[tuple[int, float, float]], config_text: str, target: str
) -> tuple[float, float, str]:
    """(desk figure, `liqtui risk` figure, the chart's sentence) for hand-made samples (time, price, OI)."""
    config = tmp_path / "config.toml"
    config.write_text(config_text)
    frame = pd.DataFrame(rows, columns=["time", "price", "open_interest"])
    csv = tmp_path / "samples.csv"
    frame.to_csv(csv, index=False)
    got = cli(csv, config, target)
    view = desk_engine(frame, load_settings(str(config))).view(BTC, rows[-1][0])
    desk = at_risk(view.levels.level_books, view.levels.price, got["target"])
    return desk, got["usd"], at_risk_sentence(view.levels, view.levels.price, got["target"])


# Hand-worked: 10 BTC of new OI at 80,000 is $800,000, half short; the 100x short tier holds 10 % of
# that, $40,000, liquidated at 80,000 x 1.01 / 1.004 = 80,478.09. The desk's grid at 80,000 is 50.
ADD_AT_80K = [(0, 80_000.0, 0.0), (300_000, 80_000.0, 10.0)]


def test_a_level_above_the_target_in_the_targets_grid_row_is_not_at_risk(tmp_path):
    # The row 80,450-80,500 holds the level; 80,460 stops short of it, 80,480 reaches it.
    desk, risk, sentence = both_paths(tmp_path, ADD_AT_80K, "", "80460")
    assert desk == risk == 0.0
    assert sentence == "$0 shorts at risk to 80,460 (+0.6 %)"
    desk, risk, sentence = both_paths(tmp_path, ADD_AT_80K, "", "80480")
    assert desk == risk == pytest.approx(40_000.0)
    assert sentence.startswith("$40.0k shorts at risk to 80,480")


def test_levels_older_than_the_lookback_leave_in_both(tmp_path):
    rows = [*ADD_AT_80K, (300_000 + 31 * 86_400_000, 80_000.0, 10.0)]  # 31 days later, nothing new
    assert both_paths(tmp_path, rows, "[levels]\nlookback_days = 30\n", "81000")[:2] == (0.0, 0.0)
    desk, risk, _ = both_paths(tmp_path, rows, "[levels]\nlookback_days = 0\n", "81000")  # 0: kept
    assert desk == risk == pytest.approx(40_000.0)


def test_a_half_life_decays_in_both(tmp_path):
    rows = [*ADD_AT_80K, (300_000 + 12 * 3_600_000, 80_000.0, 10.0)]  # one half-life later
    desk, risk, _ = both_paths(tmp_path, rows, "[levels]\nhalf_life_hours = 12\n", "81000")
    assert desk == risk == pytest.approx(20_000.0)


def test_the_cli_and_the_api_agree_with_the_reference_model(tmp_path):
    """The reference rescans every level (tests/unit/engine/reference.py): no liqtui code in it."""
    frame = samples(3, n=600)
    prices, ois, highs, lows = (frame[c].tolist() for c in ("price", "open_interest", "high", "low"))
    ref = ReferenceBook()
    for i in range(1, len(prices)):
        low = min(prices[i - 1], prices[i], *([] if math.isnan(lows[i]) else [lows[i]]))
        high = max(prices[i - 1], prices[i], *([] if math.isnan(highs[i]) else [highs[i]]))
        ref.step(low, high, prices[i], ois[i] - ois[i - 1])
    config = tmp_path / "config.toml"
    config.write_text("[levels]\nlookback_days = 0\n")  # the reference keeps every level
    csv = tmp_path / "samples.csv"
    frame.to_csv(csv, index=False)
    levels = estimate_levels(frame)
    for target in (prices[-1] * 1.08, prices[-1] * 0.92):
        expected = ref.at_risk(prices[-1], target)
        assert expected > 0
        assert cli(csv, config, f"{target!r}")["usd"] == pytest.approx(expected, rel=1e-9)
        assert api_at_risk(levels, prices[-1], target) == pytest.approx(expected, rel=1e-9)
