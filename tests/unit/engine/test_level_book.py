"""The level model: hand-worked steps, invariants, and random sequences against a slow reference."""

import math
import random

import pytest

from liqtui.domain.events import Side
from liqtui.engine.levels import LevelBook, LevelModel, LevelModelError

from .reference import ReferenceBook

MMR = 0.004
WEIGHTS = {5: 0.15, 10: 0.30, 25: 0.25, 50: 0.20, 100: 0.10}


def long_liq(p, L, m=MMR):
    return p * (1 - 1 / L) / (1 - m)


def short_liq(p, L, m=MMR):
    return p * (1 + 1 / L) / (1 + m)


def levels_of(book):
    return sorted(book.levels(), key=lambda lv: (lv[1].value, lv[2]))


def test_one_oi_rise_places_every_tier_at_its_liquidation_price():
    book = LevelBook(LevelModel.create())
    book.step(100.0, 100.0, 100.0, 10.0)  # dOI 10 coins at 100: N = 1,000 USD, 500 each side
    got = {(side, lev): (price, usd) for price, side, lev, usd in book.levels()}
    assert len(got) == 10
    for L, w in WEIGHTS.items():
        price, usd = got[(Side.LONG, L)]
        assert price == pytest.approx(long_liq(100.0, L), rel=1e-12)
        assert usd == pytest.approx(500.0 * w, rel=1e-12)
        price, usd = got[(Side.SHORT, L)]
        assert price == pytest.approx(short_liq(100.0, L), rel=1e-12)
        assert usd == pytest.approx(500.0 * w, rel=1e-12)
    # 100x long: 100 x 0.99 / 0.996 = 99.3976; 5x short: 100 x 1.2 / 1.004 = 119.5219
    assert got[(Side.LONG, 100)][0] == pytest.approx(99.39759036, rel=1e-9)
    assert got[(Side.SHORT, 5)][0] == pytest.approx(119.52191235, rel=1e-9)
    assert book.live_usd() == pytest.approx(1000.0)


def test_a_drop_consumes_exactly_the_long_levels_at_or_above_the_low():
    book = LevelBook(LevelModel.create())
    book.step(100.0, 100.0, 100.0, 10.0)
    low = long_liq(100.0, 25)  # exactly the 25x level: consumed (low <= level)
    swept = book.consume(low, 100.0)
    assert len(swept) == 1 and swept[0].side is Side.LONG
    assert swept[0].usd == pytest.approx(500.0 * (0.10 + 0.20 + 0.25))
    assert swept[0].price_low == pytest.approx(long_liq(100.0, 25))
    assert swept[0].price_high == pytest.approx(long_liq(100.0, 100))
    left = {lev for price, side, lev, usd in book.levels() if side is Side.LONG}
    assert left == {5, 10}
    assert book.live_usd(Side.SHORT) == pytest.approx(500.0)  # the shorts are untouched


def test_a_rise_consumes_short_levels_at_or_below_the_high():
    book = LevelBook(LevelModel.create())
    book.step(100.0, 100.0, 100.0, 10.0)
    swept = book.consume(99.9, short_liq(100.0, 50) + 1e-9)
    assert [s.side for s in swept] == [Side.SHORT]
    assert swept[0].usd == pytest.approx(500.0 * (0.10 + 0.20))


def test_consumption_happens_before_the_step_adds():
    # A step whose low reaches the new 100x long level must not sweep levels opened in that step.
    book = LevelBook(LevelModel.create())
    book.step(90.0, 100.0, 100.0, 10.0)
    assert book.live_usd() == pytest.approx(1000.0)


def test_an_oi_drop_removes_proportionally_and_never_goes_negative():
    book = LevelBook(LevelModel.create())
    book.step(100.0, 100.0, 100.0, 10.0)  # 1,000 USD
    book.step(100.0, 100.0, 100.0, -2.5)  # removes 250 USD: every level keeps 75 %
    for _price, _side, lev, usd in book.levels():
        assert usd == pytest.approx(500.0 * WEIGHTS[lev] * 0.75, rel=1e-12)
    book.step(100.0, 100.0, 100.0, -100.0)  # more than is left: everything goes, nothing negative
    assert book.count() == 0 and book.live_usd() == 0.0
    book.step(100.0, 100.0, 100.0, -1.0)  # falling OI on an empty book stays empty
    assert book.live_usd() == 0.0


def test_removal_scales_levels_added_before_and_not_those_added_after():
    book = LevelBook(LevelModel.create())
    book.step(100.0, 100.0, 100.0, 10.0)  # 1,000 at 100
    book.step(100.0, 100.0, 100.0, -5.0)  # -500: the first batch keeps 50 %
    book.step(100.0, 100.0, 100.0, 10.0)  # +1,000 fresh
    at = {}
    for _price, side, lev, usd in book.levels():
        at.setdefault((side, lev), []).append(usd)
    assert sorted(at[(Side.LONG, 10)]) == pytest.approx([500 * 0.3 * 0.5, 500 * 0.3])
    assert book.live_usd() == pytest.approx(1500.0)


def test_at_risk_bounds_are_half_open_as_specified():
    book = LevelBook(LevelModel.create(mmr=0.0, leverage_weights={10: 1.0}))
    book.step(100.0, 100.0, 100.0, 2.0)  # 100 long at ~90, 100 short at ~110
    (long_level,) = [p for p, side, *_ in book.levels() if side is Side.LONG]
    (short_level,) = [p for p, side, *_ in book.levels() if side is Side.SHORT]
    assert long_level == pytest.approx(90.0) and short_level == pytest.approx(110.0)
    assert book.at_risk(100.0, short_level) == pytest.approx(100.0)  # level <= target counts
    assert book.at_risk(100.0, math.nextafter(short_level, 0)) == 0.0
    assert book.at_risk(short_level, 120.0) == 0.0  # price < level: a level at the price does not count
    assert book.at_risk(100.0, long_level) == pytest.approx(100.0)  # target <= level
    assert book.at_risk(100.0, math.nextafter(long_level, 200)) == 0.0
    assert book.at_risk(long_level, 80.0) == 0.0  # level < price
    assert book.at_risk(100.0, 100.0) == 0.0


def test_leverage_is_capped_at_the_venue_max_and_renormalized():
    model = LevelModel.create(max_leverage=20)
    assert [t.leverage for t in model.tiers] == [10, 5]
    assert [t.weight for t in model.tiers] == pytest.approx([0.30 / 0.45, 0.15 / 0.45])
    assert [t.leverage for t in LevelModel.create(max_leverage=3).tiers] == [3]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"leverage_weights": {}},
        {"leverage_weights": {5: -1}},
        {"leverage_weights": {0.5: 1}},
        {"mmr": 1.0},
        {"long_share": 1.5},
        {"leverage_weights": {"x": 1}},
    ],
)
def test_bad_model_parameters_are_refused(kwargs):
    with pytest.raises(LevelModelError):
        LevelModel.create(**kwargs)


def test_long_share_splits_new_notional():
    book = LevelBook(LevelModel.create(long_share=0.7))
    book.step(100.0, 100.0, 100.0, 10.0)
    assert book.live_usd(Side.LONG) == pytest.approx(700.0)
    assert book.live_usd(Side.SHORT) == pytest.approx(300.0)


def random_steps(seed, n=400):
    rnd = random.Random(seed)
    price, steps = 100.0, []
    for _ in range(n):
        new = price * math.exp(rnd.gauss(0, 0.01))
        low = min(price, new) * (1 - abs(rnd.gauss(0, 0.003)))
        high = max(price, new) * (1 + abs(rnd.gauss(0, 0.003)))
        d_oi = rnd.choice([0.0, rnd.gauss(0.5, 2.0), rnd.gauss(0.5, 2.0), -rnd.expovariate(0.2)])
        steps.append((low, high, new, d_oi))
        price = new
    return steps


@pytest.mark.parametrize("seed", range(12))
def test_random_sequences_match_the_slow_reference(seed):
    book, ref = LevelBook(LevelModel.create(long_share=0.55)), ReferenceBook(long_share=0.55)
    for i, (low, high, price, d_oi) in enumerate(random_steps(seed)):
        swept = book.step(low, high, price, d_oi)
        ref_swept = ref.step(low, high, price, d_oi)
        assert sum(s.usd for s in swept) == pytest.approx(
            sum(lv["usd"] for lv in ref_swept), rel=1e-9, abs=1e-9
        )
        total = book.live_usd()
        assert total == pytest.approx(ref.total(), rel=1e-9, abs=1e-9)
        # Invariants: never negative, never more than was ever added.
        assert total >= 0.0 and total <= book.added_usd * (1 + 1e-12)
        assert all(usd >= 0.0 for *_rest, usd in book.levels())
        if i % 40 == 0:
            for target in (price * 0.9, price * 0.99, price * 1.01, price * 1.2):
                assert book.at_risk(price, target) == pytest.approx(
                    ref.at_risk(price, target), rel=1e-9, abs=1e-9
                )
    got = sorted((round(p, 9), s.value, lev, round(u, 6)) for p, s, lev, u in book.levels())
    want = sorted((round(lv["price"], 9), lv["side"], lv["lev"], round(lv["usd"], 6)) for lv in ref.levels)
    assert got == want


def test_the_scale_factor_is_folded_before_it_underflows():
    book = LevelBook(LevelModel.create())
    ref = ReferenceBook()
    for _ in range(400):
        book.step(100.0, 100.0, 100.0, 10.0)
        ref.step(100.0, 100.0, 100.0, 10.0)
        book.step(100.0, 100.0, 100.0, -9.0)  # each round keeps a fraction of everything before it
        ref.step(100.0, 100.0, 100.0, -9.0)
    assert book.live_usd() == pytest.approx(ref.total(), rel=1e-9)
    assert all(math.isfinite(u) and u > 0 for *_r, u in book.levels())


def test_tracked_rows_equal_rows_recomputed_from_the_levels():
    book = LevelBook(LevelModel.create())
    book.track_rows(0.5)
    for low, high, price, d_oi in random_steps(3, 300):
        book.step(low, high, price, d_oi)
    expected: dict[int, list[float]] = {}
    for price, side, _lev, usd in book.levels():
        row = expected.setdefault(math.floor(price / 0.5), [0.0, 0.0])
        row[0 if side is Side.LONG else 1] += usd
    got = book.rows(0.5)
    assert set(got) == set(expected)
    for i, (long_usd, short_usd) in got.items():
        assert long_usd == pytest.approx(expected[i][0], rel=1e-9, abs=1e-9)
        assert short_usd == pytest.approx(expected[i][1], rel=1e-9, abs=1e-9)


def test_a_new_model_applies_to_new_positions_only():
    book = LevelBook(LevelModel.create())
    book.step(100.0, 100.0, 100.0, 10.0)
    book.set_model(LevelModel.create(max_leverage=10))
    book.step(100.0, 100.0, 100.0, 10.0)
    levs = [lev for _p, side, lev, _u in book.levels() if side is Side.LONG]
    assert sorted(levs) == sorted([5, 10, 25, 50, 100, 5, 10])
    assert book.live_usd() == pytest.approx(2000.0)


def test_swept_levels_are_kept_when_asked():
    book = LevelBook(LevelModel.create(), keep_swept_levels=True)
    book.step(100.0, 100.0, 100.0, 10.0)
    (swept,) = book.consume(long_liq(100.0, 50), 100.0)
    assert sorted(swept.prices) == pytest.approx(sorted([long_liq(100.0, 50), long_liq(100.0, 100)]))
    assert sum(swept.usds) == pytest.approx(swept.usd)


def test_a_level_leaves_the_book_one_step_after_the_lookback_and_not_before():
    step_ms, lookback = 300_000, 86_400_000
    book = LevelBook(LevelModel.create(), lookback_ms=lookback)
    t0 = 1_750_000_000_000
    book.step(100.0, 100.0, 100.0, 10.0, t0)  # 1,000 USD placed at t0
    book.step(100.0, 100.0, 100.0, 0.0, t0 + lookback - step_ms)
    book.step(100.0, 100.0, 100.0, 0.0, t0 + lookback)  # exactly lookback old: still live
    assert book.live_usd() == pytest.approx(1_000.0)
    assert book.count() == 10
    assert book.at_risk(100.0, 200.0) == pytest.approx(500.0)
    book.step(100.0, 100.0, 100.0, 1.0, t0 + lookback + step_ms)  # older than the lookback: gone
    assert book.count() == 10  # only the 100 USD placed by this step
    assert book.live_usd() == pytest.approx(100.0)
    assert book.at_risk(100.0, 200.0) == pytest.approx(50.0)
    assert book.at_risk(100.0, 50.0) == pytest.approx(50.0)


def test_without_a_time_or_a_lookback_levels_never_age_out():
    book = LevelBook(LevelModel.create())
    book.step(100.0, 100.0, 100.0, 10.0, 0)
    book.step(100.0, 100.0, 100.0, 0.0, 10**15)
    timed = LevelBook(LevelModel.create(), lookback_ms=1)
    timed.step(100.0, 100.0, 100.0, 10.0)  # no time: not a cohort that can age
    timed.step(100.0, 100.0, 100.0, 0.0, 10**15)
    assert book.live_usd() == timed.live_usd() == pytest.approx(1_000.0)


@pytest.mark.parametrize("seed", range(8))
def test_random_sequences_with_a_lookback_match_the_slow_reference(seed):
    lookback = 40
    book = LevelBook(LevelModel.create(long_share=0.55), lookback_ms=lookback)
    ref = ReferenceBook(long_share=0.55)
    book.track_rows(0.5)
    rnd = random.Random(seed)
    added = 0.0
    for t, (low, high, price, d_oi) in enumerate(random_steps(seed, 300)):
        if rnd.random() < 0.3:  # the same price again: equal keys in a tier, from different cohorts
            low, high, price = price, price, 100.0
        swept = book.step(low, high, price, d_oi, t)
        ref_swept = ref.step(low, high, price, d_oi, t, lookback)
        added += max(d_oi, 0.0) * price
        assert sum(s.usd for s in swept) == pytest.approx(
            sum(lv["usd"] for lv in ref_swept), rel=1e-9, abs=1e-9
        )
        total = book.live_usd()
        assert total == pytest.approx(ref.total(), rel=1e-9, abs=1e-9)
        assert 0.0 <= total <= added * (1 + 1e-12)
        assert book.count() == len([lv for lv in ref.levels if lv["usd"] > 0]) or ref.total() == 0.0
    got = sorted((round(p, 9), s.value, lev, round(u, 6)) for p, s, lev, u in book.levels())
    want = sorted((round(lv["price"], 9), lv["side"], lv["lev"], round(lv["usd"], 6)) for lv in ref.levels)
    assert got == want
    expected: dict[int, list[float]] = {}
    for price, side, _lev, usd in book.levels():
        row = expected.setdefault(math.floor(price / 0.5), [0.0, 0.0])
        row[0 if side is Side.LONG else 1] += usd
    rows = book.rows(0.5)
    assert set(rows) == set(expected)
    for i, (long_usd, short_usd) in rows.items():
        assert long_usd == pytest.approx(expected[i][0], rel=1e-9, abs=1e-9)
        assert short_usd == pytest.approx(expected[i][1], rel=1e-9, abs=1e-9)


def test_a_lookback_survives_the_scale_being_folded():
    book, ref = LevelBook(LevelModel.create(), lookback_ms=50), ReferenceBook()
    for t in range(600):  # 300 rounds: the scale falls below _RENORMALIZE_BELOW and is folded
        d_oi = 10.0 if t % 2 == 0 else -9.999  # each round keeps a small fraction of everything before it
        book.step(100.0, 100.0, 100.0, d_oi, t)
        ref.step(100.0, 100.0, 100.0, d_oi, t, 50)
    assert book.live_usd() == pytest.approx(ref.total(), rel=1e-9)
    assert book.count() == 10 * 25  # the adds at t = 550, 552 .. 598 (599 - 50 = 549 is the edge)
