"""The desk's small pure helpers: ladder steps, symbol ranking, typed amounts and targets."""

from __future__ import annotations

import pytest

from liqtui.ui.app import nice_step
from liqtui.ui.widgets import parse_amount, parse_target, rank_symbols


@pytest.mark.parametrize(
    ("step", "finer", "coarser"),
    [(50, 20, 100), (100, 50, 200), (1, 0.5, 2), (0.01, 0.005, 0.02), (2.5, 2, 5), (7, 5, 10)],
)
def test_ladder_steps_move_on_the_1_2_5_scale(step, finer, coarser):
    assert nice_step(step, -1) == pytest.approx(finer)
    assert nice_step(step, 1) == pytest.approx(coarser)


def test_symbols_rank_prefix_matches_first_and_the_watchlist_leads_an_empty_query():
    symbols = ["ETH/USDT:USDT", "BTC/USDT:USDT", "BTCDOM/USDT:USDT", "SOL/USDT:USDT", "ETHFI/USDT:USDT"]
    watch = ["SOL/USDT:USDT", "BTC/USDT:USDT"]
    assert rank_symbols("", symbols, watch)[:2] == watch
    assert rank_symbols("btc", symbols, watch)[0] == "BTC/USDT:USDT"
    assert rank_symbols("eth", symbols, watch)[0] == "ETH/USDT:USDT"
    assert rank_symbols("zzz", symbols, watch) == []
    assert "ETHFI/USDT:USDT" in rank_symbols("ethfi", symbols, watch)


@pytest.mark.parametrize(
    ("text", "value"), [("250k", 250_000), ("1.5M", 1_500_000), ("$10,000", 10_000), ("0", 0), ("2b", 2e9)]
)
def test_amounts(text, value):
    assert parse_amount(text) == value


@pytest.mark.parametrize("text", ["abc", "-5", "1e999", "k"])
def test_bad_amounts_say_why(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_targets_absolute_relative_and_cleared():
    assert parse_target("92k", 82_800) == 92_000
    assert parse_target("+11.1%", 82_800) == pytest.approx(82_800 * 1.111)
    assert parse_target("  ", 82_800) is None
    with pytest.raises(ValueError, match="no price yet"):
        parse_target("+5%", None)
    with pytest.raises(ValueError, match="above zero"):
        parse_target("-100%", 82_800)
