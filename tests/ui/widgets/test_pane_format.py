"""Pure tests of the shared formatting, bars and venue-coverage rules."""

from __future__ import annotations

import math

import pytest

from liqtui.domain import format as fmt
from liqtui.domain.events import FeedState, FeedStatus
from liqtui.ui.widgets.bars import bar_left, bar_right, eighths, range_gauge
from liqtui.ui.widgets.feed_health import is_unhealthy, liquidation_feed_state, no_public_liquidation_feed


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (6.5e9, "$6.5B"),
        (87.1e6, "$87.1M"),
        (4_200.0, "$4.2k"),
        (950.0, "$950"),
        (378e9, "$378B"),
        (1.09e12, "$1.1T"),
        (300e6, "$300M"),
        (999_960.0, "$1.0M"),  # not "$1000.0k"
        (-1_250_000.0, "-$1.2M"),
        (0.0, "$0"),
        (None, "—"),
        (math.nan, "—"),
    ],
)
def test_usd_is_compact(value, text):
    assert fmt.usd(value) == text


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (87_123_000.0, 2, "$87.12M"),  # liqtui snapshot's OI and volume columns
        (1_234.0, 2, "$1.23k"),
        (950.4, 2, "$950"),
        (576e12, 1, "$576.0T"),  # liqtui risk's compact figures
        (40_000.0, 1, "$40.0k"),
        (0.0, 1, "$0"),
    ],
)
def test_usd_with_fixed_decimals_is_what_the_headless_tables_print(value, decimals, text):
    assert fmt.usd(value, decimals) == text


def test_usd_says_what_is_missing_in_the_callers_words():
    assert fmt.usd(None, 2, missing="n/a") == "n/a" and fmt.usd(math.inf, missing="n/a") == "n/a"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (82_800.0, "82,800"),
        (2_750.25, "2,750.2"),
        (101.25, "101.25"),
        (1.2345, "1.2345"),
        (0.14321, "0.1432"),
        (0.000012345, "0.00001234"),
        (None, "—"),
    ],  # fmt: skip
)
def test_price_decimals_follow_magnitude(value, text):
    assert fmt.price(value) == text


def test_step_decimals_tell_rows_apart():
    assert fmt.step_decimals(100.0) == 0
    assert fmt.step_decimals(0.5) == 1
    assert fmt.step_decimals(0.0001) == 4
    assert fmt.price(82_800.5, fmt.step_decimals(0.5)) == "82,800.5"


@pytest.mark.parametrize(
    ("value", "text"),
    [(11.11, "+11.1 %"), (-9.0, "-9.0 %"), (-0.01, "0.0 %"), (31.94, "+31.9 %"), (None, "—")],
)
def test_pct_is_signed_with_a_space(value, text):
    assert fmt.pct(value) == text


def test_funding_coin_size_age():
    assert fmt.funding(0.0001) == "+0.0100 %"
    assert fmt.coin(123_500.0) == "123,500"
    assert fmt.coin(12.345) == "12.35"
    assert fmt.size(30.1) == "30.1"
    assert fmt.size(1_250.0) == "1.2k"
    assert fmt.age(42_500) == "42s"
    assert fmt.age(180_000) == "3m"
    assert fmt.age(None) == "—"


def test_venue_and_symbol_names():
    assert [fmt.venue_tag(v) for v in ("binanceusdm", "bybit", "okx", "hyperliquid", "demo-okx")] == [
        "BIN", "BYB", "OKX", "HL", "OKX",
    ]  # fmt: skip
    assert fmt.venue_name("hyperliquid") == "Hyperliquid"
    assert fmt.base_coin("BTC/USDT:USDT") == "BTC"
    assert sorted(["okx", "hyperliquid", "bybit", "binanceusdm"], key=fmt.venue_sort_key) == [
        "binanceusdm", "bybit", "okx", "hyperliquid",
    ]  # fmt: skip
    assert fmt.hhmmss(1_769_874_667_000) == "15:51:07"


def test_bars_scale_and_align():
    assert eighths(50.0, 100.0, 4) == 16
    assert eighths(0.001, 100.0, 4) == 1  # something is never drawn as nothing
    assert eighths(None, 100.0, 4) == 0
    assert bar_left(16, 4) == "██  "
    assert bar_left(12, 4) == "█▌  "
    assert bar_right(16, 4) == "  ██"
    assert bar_right(12, 4) == "  ▐█"
    assert range_gauge(0.0, 7) == "├●────┤"
    assert range_gauge(1.0, 7) == "├────●┤"
    assert range_gauge(None, 5) == "├╌╌╌┤"


def test_no_public_feed_rule(monkeypatch):
    # Hyperliquid has a partial feed: the rule is checked on a registry venue without one.
    from liqtui.domain import venues

    monkeypatch.setitem(
        venues.VENUES,
        "nofeed",
        venues.Venue(
            "nofeed", "NoFeed", "NF", False, None, 8, venues.MarginSource.SHIPPED, no_feed_reason="none"
        ),
    )
    said = FeedStatus("nofeed", FeedState.DOWN, 0, detail="no public liquidation feed", kind="liquidations")
    assert no_public_liquidation_feed("nofeed", [said], has_data=True)  # the feed's word wins
    assert no_public_liquidation_feed("nofeed", [], has_data=False)
    assert not no_public_liquidation_feed("nofeed", [], has_data=True)  # data arrived: show it
    assert not no_public_liquidation_feed("binanceusdm", [], has_data=False)  # quiet, not missing
    assert not no_public_liquidation_feed("hyperliquid", [], has_data=False)


def test_feed_health_prefers_the_liquidations_status():
    general = FeedStatus("okx", FeedState.LIVE, 0)
    liqs = FeedStatus("okx", FeedState.STALE, 0, kind="liquidations")
    assert liquidation_feed_state("okx", [general, liqs]) is liqs
    assert liquidation_feed_state("okx", [general]) is general
    assert is_unhealthy(liqs) and not is_unhealthy(general) and not is_unhealthy(None)
