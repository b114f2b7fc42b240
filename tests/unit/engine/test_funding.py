"""Funding on one interval: the OI-weighted rate per 8 h whatever each venue's interval,
each venue's own rate with its interval, and the countdown of the venue the view's price is from.
Every expected number is worked by hand in the comments."""

import math

import pytest

from liqtui.domain.events import OpenInterest, Ticker
from liqtui.engine import Engine
from liqtui.engine.funding import apr, funding_interval_hours, per_basis

BTC = "BTC/USDT:USDT"
T0 = 1_750_000_000_000
HOUR = 3_600_000


def engine_with(*venues):
    """venues: (venue, OI in USD, rate, next funding time, 24 h volume, reported interval)."""
    e = Engine()
    for venue, oi_usd, rate, next_time, volume, hours in venues:
        e.apply(OpenInterest(venue, BTC, oi_usd / 100.0, oi_usd, T0))
        e.apply(
            Ticker(
                venue,
                BTC,
                T0,
                last=100.0,
                funding_rate=rate,
                next_funding_time=next_time,
                volume_24h_usd=volume,
                funding_interval_hours=hours,
            )
        )
    return e


def test_the_oi_weighted_rate_puts_hyperliquids_hourly_rate_on_8_hours():
    # Binance $3,000 of OI at 0.0100 % / 8 h; Hyperliquid $1,000 at 0.0020 % / 1 h = 0.0160 % / 8 h.
    # (3,000 x 0.0001 + 1,000 x 0.00016) / 4,000 = 0.000115 (averaged as given it was 0.00008).
    e = engine_with(
        ("binanceusdm", 3_000.0, 0.0001, T0 + 3 * HOUR, 12e9, None),
        ("hyperliquid", 1_000.0, 0.00002, T0 + HOUR, 4e9, None),
    )
    market = e.view(BTC, T0).market
    assert market.funding_rate_oi_weighted == pytest.approx(0.000115, rel=1e-12)
    assert market.funding_basis_hours == 8.0
    venues = {v.venue: v for v in market.venues}
    assert (venues["binanceusdm"].funding_rate, venues["binanceusdm"].funding_interval_hours) == (0.0001, 8.0)
    assert (venues["hyperliquid"].funding_rate, venues["hyperliquid"].funding_interval_hours) == (
        0.00002,
        1.0,
    )


def test_a_reported_interval_wins_over_the_venues_usual_one():
    # Bybit says this market settles every 4 h: 0.0001 / 4 h = 0.0002 / 8 h; with OKX's 0.0001 / 8 h
    # on equal OI the weighted rate is (0.0002 + 0.0001) / 2 = 0.00015.
    e = engine_with(
        ("bybit", 1_000.0, 0.0001, T0 + HOUR, 1e9, 4.0), ("okx", 1_000.0, 0.0001, T0 + HOUR, 1e9, None)
    )
    market = e.view(BTC, T0).market
    assert {v.venue: v.funding_interval_hours for v in market.venues} == {"bybit": 4.0, "okx": 8.0}
    assert market.funding_rate_oi_weighted == pytest.approx(0.00015, rel=1e-12)


def test_a_venue_whose_interval_is_unknown_is_left_out_of_the_average():
    e = engine_with(
        ("binanceusdm", 1_000.0, 0.0001, T0 + HOUR, 1e9, None),
        ("somevenue", 9_000.0, 0.05, T0 + HOUR, 1e6, None),
    )
    market = e.view(BTC, T0).market
    assert {v.venue: v.funding_interval_hours for v in market.venues} == {
        "binanceusdm": 8.0,
        "somevenue": None,
    }
    assert market.funding_rate_oi_weighted == pytest.approx(0.0001, rel=1e-12)


def test_the_countdown_is_the_lead_venues_not_hyperliquids_next_hour():
    # Binance has the most 24 h volume (its price is the view's): its settlement in 3 h is counted
    # down, not Hyperliquid's in 20 minutes; the view says whose it is.
    e = engine_with(
        ("binanceusdm", 3_000.0, 0.0001, T0 + 3 * HOUR, 12e9, None),
        ("hyperliquid", 1_000.0, 0.00002, T0 + HOUR // 3, 4e9, None),
    )
    market = e.view(BTC, T0).market
    assert (market.next_funding_time, market.next_funding_venue) == (T0 + 3 * HOUR, "binanceusdm")
    assert {v.venue: v.next_funding_time for v in market.venues} == {
        "binanceusdm": T0 + 3 * HOUR,
        "hyperliquid": T0 + HOUR // 3,
    }
    # once the lead's settlement has passed (no new one yet) the next venue by volume speaks
    market = e.view(BTC, T0 + 3 * HOUR + 1).market
    assert market.next_funding_time is None and market.next_funding_venue is None  # HL's is past too
    late = engine_with(
        ("binanceusdm", 3_000.0, 0.0001, None, 12e9, None),
        ("hyperliquid", 1_000.0, 0.00002, T0 + HOUR // 3, 4e9, None),
    )
    assert late.view(BTC, T0).market.next_funding_venue == "hyperliquid"


def test_an_impossible_reported_interval_is_not_used():
    for bad in (0.0, -8.0, math.inf, math.nan):
        assert funding_interval_hours("bybit", bad) == 8.0
    e = engine_with(("bybit", 1_000.0, 0.0001, T0 + HOUR, 1e9, math.nan))
    assert e.view(BTC, T0).market.venues[0].funding_interval_hours == 8.0


def test_per_basis_and_apr_by_hand():
    assert per_basis(0.0000125, 1.0) == pytest.approx(0.0001)  # x 8
    assert per_basis(0.0001, 4.0) == pytest.approx(0.0002)
    assert apr(0.0001, 8.0) == pytest.approx(0.1095)  # 3 settlements a day x 365
    assert apr(0.0000125, 1.0) == pytest.approx(0.1095)  # 24 a day x 365
