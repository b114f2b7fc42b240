"""The estimate scored against the measurement: a hand-worked case where every figure is known."""

import pytest

from liqtui.domain.events import Side
from liqtui.engine.fidelity import TARGETS_PCT, Levels, Mass, at_risk_of, score

L, S = Side.LONG, Side.SHORT
# Price 100, the venue's OI $1,000. Measured: $800 of it (covered share 0.8).
MEASURED = [Mass(L, 95.5, 300.0), Mass(L, 90.7, 200.0), Mass(S, 110.5, 300.0)]
# The estimate (of the whole OI): $500 of longs at 90.5, $500 of shorts at 105.5; scaled: $400 each.
ESTIMATED = [Mass(L, 90.5, 500.0), Mass(S, 105.5, 500.0)]


def test_hand_worked_score() -> None:
    fid = score(MEASURED, Levels(ESTIMATED, grid=1.0), price=100.0, oi_usd=1_000.0)
    assert fid is not None
    assert fid.covered_share == pytest.approx(0.8)
    assert [p.target_pct for p in fid.curve] == list(TARGETS_PCT)
    # Differences: -15..-10 %: |400 - 500| x 6; -9..-5 %: |0 - 300| x 5; -4..+5 %: 0;
    # +6..+10 %: |400 - 0| x 5; +11..+15 %: |400 - 300| x 5. Sum 4,600 over 31 targets, divided by
    # the measured USD at risk over the range (500 + 300).
    assert fid.curve_error == pytest.approx(4_600 / 31 / 800)
    by_pct = {p.target_pct: p for p in fid.curve}
    assert (by_pct[-12].estimated_usd, by_pct[-12].measured_usd) == pytest.approx((400.0, 500.0))
    assert (by_pct[8].estimated_usd, by_pct[8].measured_usd) == pytest.approx((400.0, 0.0))
    # Clusters: the long row [90, 91) (mid 90.5) and the short row [105, 106). Only the $200 long
    # at 90.7 is within 0.5 % of one: a quarter of the measured USD.
    assert fid.clusters == 2
    assert fid.near_share == pytest.approx(0.25)


def test_a_perfect_estimate_scores_zero() -> None:
    measured = [Mass(L, 95.5, 300.0), Mass(S, 104.2, 100.0)]
    estimated = [Mass(m.side, m.price, m.usd * 2) for m in measured]  # the whole OI, twice the covered part
    fid = score(measured, Levels(estimated, 1.0), price=100.0, oi_usd=800.0)
    assert fid is not None and fid.curve_error == pytest.approx(0.0) and fid.near_share == 1.0


def test_at_risk_counts_like_the_level_model() -> None:
    masses = [Mass(L, 95.0, 1.0), Mass(S, 105.0, 2.0)]
    assert at_risk_of(masses, 100.0, 95.0) == 1.0  # target <= level < price
    assert at_risk_of(masses, 100.0, 105.0) == 2.0  # price < level <= target
    assert at_risk_of(masses, 100.0, 100.0) == 0.0


def test_nothing_to_score() -> None:
    assert score([], Levels(ESTIMATED, 1.0), 100.0, 1_000.0) is None
    assert score(MEASURED, Levels(ESTIMATED, 1.0), 100.0, 0.0) is None
    assert score(MEASURED, Levels([], 1.0), 100.0, 1_000.0) is None  # no estimate yet
    far = score([Mass(L, 50.0, 10.0)], Levels(ESTIMATED, 1.0), 100.0, 1_000.0)
    assert far is not None and far.curve_error is None and far.near_share == 0.0
