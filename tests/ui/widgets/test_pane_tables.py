"""Totals, OI gauges, volume share and the cross-asset strip, read as a trader would."""

from __future__ import annotations

import re

import pytest

from liqtui.domain.events import FeedState, FeedStatus, Side
from liqtui.engine.views import RealizedCell, RealizedView
from liqtui.ui.widgets import CrossAssetStrip, OIPane, TotalsPane, VolumeSharePane

from widget_fixtures import BTC, NOW, PaneApp, empty_view, lines_of, replace


def _line_with(lines: list[str], word: str) -> str:
    return next(line for line in lines if word in line)


async def test_totals_per_venue_with_lower_bounds_no_feed_and_total(view):
    pane = TotalsPane()
    async with PaneApp(pane).run_test(size=(80, 12)) as pilot:
        pane.show(view)
        await pilot.pause()
        lines = lines_of(pane)
        assert lines[0].split() == ["venue", "LONG", "SHORT", "count", "largest"]
        binance = _line_with(lines, "Binance")
        assert "≥$30.0M" in binance and "447" in binance and "$2.1M L" in binance
        bybit = _line_with(lines, "Bybit")
        assert "$21.4M" in bybit and "≥" not in bybit  # Bybit pushes every liquidation
        # Changed on purpose: Hyperliquid has a partial feed that has not delivered yet, not "no public feed".
        assert _line_with(lines, "Hyperliquid").split()[1] == "n/a"
        total = _line_with(lines, "Total")
        assert "≥$61.2M" in total and "1,623" in total
        assert any("lower bound" in line for line in lines)
        assert pane.border_title == "Realized liquidations · 24h · BTC"
        assert [line.split()[0] for line in lines[1:6]] == ["Binance", "Bybit", "OKX", "Hyperliquid", "Total"]


async def test_hyperliquid_numbers_show_when_data_exists_without_a_no_feed_status(view):
    cells = view.realized.cells + (RealizedCell("hyperliquid", BTC, Side.LONG, 87.1e6, 2_100, 4.0e6),)
    feeds = tuple(f for f in view.feeds if f.kind != "liquidations")
    pane = TotalsPane()
    async with PaneApp(pane).run_test(size=(80, 12)) as pilot:
        pane.show(replace(view, realized=replace(view.realized, cells=cells), feeds=feeds))
        await pilot.pause()
        assert "$87.1M" in _line_with(lines_of(pane), "Hyperliquid")


async def test_hyperliquid_totals_are_a_floor_and_the_note_says_which_part(view):
    cells = view.realized.cells + (RealizedCell("hyperliquid", BTC, Side.LONG, 87.1e6, 2_100, 4.0e6),)
    pane = TotalsPane()
    async with PaneApp(pane).run_test(size=(80, 12)) as pilot:
        pane.show(replace(view, realized=replace(view.realized, cells=cells)))
        await pilot.pause()
        lines = lines_of(pane)
        assert "≥$87.1M" in _line_with(lines, "Hyperliquid")
        note = next(line for line in lines if "≥ lower bound" in line)
        assert (
            "sampled feed" in note and "Hyperliquid partial: backstop" in note
        )  # Binance and OKX sample; Hyperliquid's is partial


async def test_hyperliquid_note_counts_its_tracked_accounts_once_there_are_any(view):
    cells = view.realized.cells + (RealizedCell("hyperliquid", BTC, Side.LONG, 87.1e6, 2_100, 4.0e6),)
    realized = replace(view.realized, cells=cells, tracked=(("hyperliquid", 12),))
    pane = TotalsPane()
    async with PaneApp(pane).run_test(size=(140, 12)) as pilot:
        pane.show(replace(view, realized=realized))
        await pilot.pause()
        note = next(line for line in lines_of(pane) if "≥ lower bound" in line)
        assert "Hyperliquid partial: backstop + 12 tracked accounts" in note


async def test_totals_mark_an_unhealthy_feed_and_follow_the_window(view):
    feeds = view.feeds + (FeedStatus("okx", FeedState.STALE, NOW - 40_000, kind="liquidations"),)
    pane = TotalsPane()
    async with PaneApp(pane).run_test(size=(80, 12)) as pilot:
        pane.show(replace(view, feeds=feeds, realized=replace(view.realized, window="1h")))
        await pilot.pause()
        assert "OKX stale" in _line_with(lines_of(pane), "OKX")
        assert "· 1h ·" in pane.border_title


async def test_oi_gauges_read_the_article(view):
    pane = OIPane()
    async with PaneApp(pane).run_test(size=(100, 10)) as pilot:
        pane.show(view)
        await pilot.pause()
        lines = lines_of(pane)
        assert "123,500 BTC" in lines[0] and "$10.2B" in lines[0]
        assert "1h   +0.8 %" in lines[0] and "24h   +6.0 %" in lines[0]
        assert "+31.9 % from 93,600 BTC low" in lines[1]
        assert "●" in lines[1] and "├" in lines[1]
        assert "1h        —" in _line_with(lines, "BYB")  # a missing window reads as a dash
        assert "ALL" in _line_with(lines, "$14.8B")
        assert pane.border_title == "Open interest · BTC · new shorts"


async def test_oi_says_stale_when_a_venue_stopped_updating(view):
    old = replace(view.oi[0], time=NOW - 300_000)
    pane = OIPane()
    async with PaneApp(pane).run_test(size=(100, 10)) as pilot:
        pane.show(view)
        await pilot.pause()
        assert "stale" not in lines_of(pane)[0]
        pane.show(replace(view, oi=(old,) + view.oi[1:]))
        await pilot.pause()
        assert "stale 5m" in lines_of(pane)[0]
        calls = []
        original = pane.refresh
        pane.refresh = lambda *a, **k: (calls.append(a), original(*a, **k))[1]
        pane.show(replace(view, oi=(old,) + view.oi[1:], now=NOW + 1_000))  # same minute: no repaint
        assert calls == []


async def test_oi_narrow_pane_wraps_changes_under_the_amounts(view):
    pane = OIPane()
    async with PaneApp(pane).run_test(size=(50, 12)) as pilot:
        pane.show(view)
        await pilot.pause()
        lines = lines_of(pane)
        assert "123,500 BTC" in lines[0] and "5m" not in lines[0]
        assert "+0.1 %" in lines[1]
        assert "from 93,600 BTC low" in lines[2]


async def test_volume_share_bars_usd_percent_and_funding(view):
    pane = VolumeSharePane()
    async with PaneApp(pane).run_test(size=(80, 8)) as pilot:
        pane.show(view)
        await pilot.pause()
        lines = lines_of(pane)
        assert lines[0].startswith("BIN █") and "45.0 %" in lines[0] and "$12.6B" in lines[0]
        assert [line[:3] for line in lines[:4]] == ["BIN", "OKX", "BYB", "HL "]
        assert len(lines[0].split()[1]) > len(lines[1].split()[1])  # the bigger share, the longer bar
        assert "OI-weighted funding +0.0071 %" in _line_with(lines, "OI-weighted")


async def test_volume_share_derived_when_missing(view):
    venues = tuple(replace(v, volume_share=None) for v in view.market.venues)
    venues = (replace(venues[0], volume_24h_usd=20.0e9),) + venues[1:]
    pane = VolumeSharePane()
    async with PaneApp(pane).run_test(size=(80, 8)) as pilot:
        pane.show(replace(view, market=replace(view.market, venues=venues)))
        await pilot.pause()
        assert "56.5 %" in lines_of(pane)[0]  # 20.0 / (20.0 + 5.6 + 5.2 + 4.6)


async def test_cross_asset_strip_signs_in_text_and_colour(view):
    pane = CrossAssetStrip()
    async with PaneApp(pane).run_test(size=(100, 3)) as pilot:
        pane.show(view)
        await pilot.pause()
        assert pane.size.height == 1
        line = pane.render_line(0)
        assert line.text.startswith(
            "BTC 82,800 ▼-9.0 %   ETH 2,750.2 ▼-7.1 %   XAU 4,890.0 ▼-8.0 %   XAG 104.20 ▼-11.9 %"
        )
        down = pane.get_component_rich_style("pane--down")
        assert any(seg.text == "▼-9.0 %" and seg.style == down for seg in line)
        pane.show(
            replace(
                view, cross=(replace(view.cross[0], change_24h_pct=2.5), replace(view.cross[1], last=None))
            )
        )
        await pilot.pause()
        assert pane.render_line(0).text.startswith("BTC 82,800 ▲+2.5 %   ETH — ▼-7.1 %")


async def test_empty_views_say_waiting():
    for pane, words in (
        (TotalsPane(), "no venue reporting yet"),
        (OIPane(), "waiting for data"),
        (VolumeSharePane(), "waiting for data"),
        (CrossAssetStrip(), "none configured"),
    ):
        async with PaneApp(pane).run_test(size=(60, 6)) as pilot:
            pane.show(empty_view())
            await pilot.pause()
            assert any(words in line for line in lines_of(pane)), type(pane).__name__


DNS_DOWN = (
    "cannot load markets: DNS failed (ExchangeNotAvailable: binanceusdm GET https://x); retry 3 in 2.0 s"
)
PARTIAL_WORDS = re.compile(
    r"\b(?!(?:stale|Hyperliquid|Binance|reconnecting|connecting|public|feed|down)\b)"
    r"(stal|Hyperl\w*|Binanc|reconn\w*|connec\w*|publi|fee|dow)\b"
)


def _no_data(view, feeds, since=None):
    nothing = RealizedView(
        "1h", (), RealizedCell("all", BTC, Side.LONG), RealizedCell("all", BTC, Side.SHORT), since
    )
    return replace(view, realized=nothing, feeds=feeds)


async def test_totals_say_n_a_with_the_reason_for_venues_that_never_answered(view):
    feeds = tuple(
        FeedStatus(v, FeedState.DOWN, NOW - 30_000, DNS_DOWN) for v in ("binanceusdm", "bybit", "okx")
    )
    feeds += (FeedStatus("hyperliquid", FeedState.CONNECTING, NOW - 30_000, "loading markets"),)
    pane = TotalsPane()
    async with PaneApp(pane).run_test(size=(80, 12)) as pilot:
        pane.show(_no_data(view, feeds))
        await pilot.pause()
        lines = lines_of(pane)
        assert not [line for line in lines if "$0" in line], lines  # unknown is never zero
        assert "n/a: down (cannot load markets: DNS failed)" in _line_with(lines, "Binance")
        assert "n/a: down" in _line_with(lines, "OKX")
        assert "n/a: connecting (loading markets)" in _line_with(lines, "Hyperliquid")  # was "no public feed"
        assert "n/a" in _line_with(lines, "Total")


async def test_a_sampled_venue_with_nothing_yet_is_a_lower_bound_and_the_window_says_its_coverage(view):
    feeds = tuple(FeedStatus(v, FeedState.LIVE, NOW - 11_000) for v in ("binanceusdm", "bybit", "okx"))
    bybit = RealizedCell("bybit", BTC, Side.SHORT, 5_000.0, 2, 3_000.0)
    realized = RealizedView(
        "1h",
        (bybit, RealizedCell("bybit", BTC, Side.LONG)),
        RealizedCell("all", BTC, Side.LONG),
        replace(bybit, venue="all"),
        NOW - 11_000,
    )
    pane = TotalsPane()
    async with PaneApp(pane).run_test(size=(80, 12)) as pilot:
        pane.show(replace(view, realized=realized, feeds=feeds))
        await pilot.pause()
        lines = lines_of(pane)
        assert _line_with(lines, "Binance").split()[1:3] == ["≥$0", "≥$0"]
        assert _line_with(lines, "OKX").split()[1:3] == ["≥$0", "≥$0"]
        assert _line_with(lines, "Bybit").split()[1:3] == ["$0", "$5.0k"]  # every liquidation: a true zero
        assert _line_with(lines, "Total").split()[1:3] == ["≥$0", "≥$5.0k"]
        assert pane.border_title == "Realized liquidations · 1h (<1m so far) · BTC"
        pane.show(replace(view, realized=realized, feeds=feeds, now=NOW + 180_000))
        await pilot.pause()
        assert pane.border_title == "Realized liquidations · 1h (3m so far) · BTC"


@pytest.mark.parametrize("width", [30, 36, 42, 50, 58, 64, 80])
async def test_totals_cut_no_word_and_no_title_at_any_width(view, width):
    feeds = view.feeds + (
        FeedStatus("okx", FeedState.STALE, NOW - 40_000, kind="liquidations"),
        FeedStatus("bybit", FeedState.RECONNECTING, NOW - 40_000, "attempt 2"),
        FeedStatus("binanceusdm", FeedState.DOWN, NOW - 40_000, DNS_DOWN),
    )
    cells = tuple(c for c in view.realized.cells if c.venue != "binanceusdm")
    realized = replace(view.realized, cells=cells, since=NOW - 600_000)
    pane = TotalsPane()
    async with PaneApp(pane).run_test(size=(width, 12)) as pilot:
        pane.show(replace(view, feeds=feeds, realized=realized))
        await pilot.pause()
        lines = lines_of(pane)
        assert not [line for line in lines if PARTIAL_WORDS.search(line)], lines
        assert "stale" in _line_with(lines, "OKX")
        assert "n/a" in next(line for line in lines if line.startswith(("Binance", "BIN")))
        assert len(pane.border_title) <= width - 4, pane.border_title  # a border title is never cut


async def test_oi_low_and_regime_name_their_lookback_and_window(view):
    binance, bybit, total = view.oi
    rows = (
        replace(binance, since=NOW - 25 * 3_600_000, regime_window="1h"),
        bybit,
        replace(total, regime_window="1h"),
    )
    pane = OIPane()
    async with PaneApp(pane).run_test(size=(100, 10)) as pilot:
        pane.show(replace(view, oi=rows))
        await pilot.pause()
        lines = lines_of(pane)
        assert "+31.9 % from 93,600 BTC 25h low" in lines[1]
        assert "regime over 1h: new shorts (price down, OI up)" in _line_with(lines, "regime")
        assert pane.border_title == "Open interest · BTC · new shorts (1h)"
        pane.show(replace(view, oi=(replace(rows[0], since=NOW - 30 * 86_400_000 + 1_800_000),) + rows[1:]))
        await pilot.pause()
        assert "+31.9 % from 93,600 BTC 30d low" in lines_of(pane)[1]


@pytest.mark.parametrize("width", [36, 44, 60])
async def test_the_oi_title_is_never_cut(view, width):
    rows = (view.oi[0], view.oi[1], replace(view.oi[2], regime_window="1h"))
    pane = OIPane()
    async with PaneApp(pane).run_test(size=(width, 12)) as pilot:
        pane.show(replace(view, oi=rows))
        await pilot.pause()
        assert len(pane.border_title) <= width - 4, pane.border_title
        assert "BTC" in pane.border_title


async def test_each_funding_rate_says_its_interval(view):
    intervals = {"binanceusdm": 8.0, "okx": 8.0, "bybit": 8.0, "hyperliquid": 1.0}
    venues = tuple(replace(v, funding_interval_hours=intervals[v.venue]) for v in view.market.venues)
    pane = VolumeSharePane()
    async with PaneApp(pane).run_test(size=(80, 8)) as pilot:
        pane.show(replace(view, market=replace(view.market, venues=venues)))
        await pilot.pause()
        lines = lines_of(pane)
        assert "fund +0.0100 %/8h" in _line_with(lines, "BIN")
        assert "fund +0.0013 %/1h" in _line_with(lines, "HL ")  # Hyperliquid pays every hour
        assert "OI-weighted funding +0.0071 %/8h" in _line_with(lines, "OI-weighted")
        assert "$12.6B" in _line_with(lines, "BIN")


@pytest.mark.parametrize("width", [34, 36, 40, 46, 52])
async def test_oi_changes_drop_whole_windows_in_a_narrow_pane(view, width):
    pane = OIPane()
    async with PaneApp(pane).run_test(size=(width, 12)) as pilot:
        pane.show(view)
        await pilot.pause()
        text = "\n".join(lines_of(pane))
        labels = re.findall(r"(?<!\S)(5m|1h|4h|24h)(?!\S)", text)
        whole = re.findall(r"(?<!\S)(5m|1h|4h|24h)\s+([+-]?\d+\.\d %|—)", text)
        assert len(labels) == len(whole) and labels, text  # a label never loses its figure
        assert "24h" in labels and "1h" in labels  # the day and the hour go last


@pytest.mark.parametrize("width", [58, 80])
async def test_totals_columns_never_run_together_on_big_counts(view, width):
    """A cascade's counts (117,527) and sums ($49.3M) read as separate columns ("$49.3M117,527" did not)."""
    bybit = (
        RealizedCell("bybit", BTC, Side.LONG, 49.3e6, 60_000, 155e3),
        RealizedCell("bybit", BTC, Side.SHORT, 41.9e6, 57_527, 99e3),
    )
    realized = RealizedView(
        "1h", bybit, replace(bybit[0], venue="all"), replace(bybit[1], venue="all"), NOW - 600_000
    )
    feeds = (FeedStatus("bybit", FeedState.LIVE, NOW - 600_000),)
    pane = TotalsPane()
    async with PaneApp(pane).run_test(size=(width, 12)) as pilot:
        pane.show(replace(view, realized=realized, feeds=feeds))
        await pilot.pause()
        lines = lines_of(pane)
        assert _line_with(lines, "Bybit").split()[1:4] == ["$49.3M", "$41.9M", "117,527"], lines
        assert _line_with(lines, "Total").split()[1:4] == ["$49.3M", "$41.9M", "117,527"], lines


async def test_the_total_is_a_lower_bound_when_a_venue_in_it_has_no_feed(view, monkeypatch):
    """Bybit pushes every liquidation, but a venue publishes none: the total misses its liquidations,
    so it reads "≥" and the note says why. (Hyperliquid has a partial feed now: it stands in for such a venue.)"""
    from liqtui.domain import venues

    monkeypatch.setitem(
        venues.VENUES, "hyperliquid", replace(venues.VENUES["hyperliquid"], no_feed_reason="none")
    )
    bybit = (
        RealizedCell("bybit", BTC, Side.LONG, 2e6, 10, 1e6),
        RealizedCell("bybit", BTC, Side.SHORT, 1e6, 5, 5e5),
    )
    realized = RealizedView(
        "1h", bybit, replace(bybit[0], venue="all"), replace(bybit[1], venue="all"), NOW - 600_000
    )
    feeds = (
        FeedStatus("bybit", FeedState.LIVE, NOW - 600_000),
        FeedStatus(
            "hyperliquid", FeedState.DOWN, NOW - 600_000, "no public liquidation feed (n/a)", "liquidations"
        ),
    )
    pane = TotalsPane()
    async with PaneApp(pane).run_test(size=(80, 12)) as pilot:
        pane.show(replace(view, realized=realized, feeds=feeds))
        await pilot.pause()
        lines = lines_of(pane)
        assert _line_with(lines, "Bybit").split()[1:4] == ["$2.0M", "$1.0M", "15"]  # Bybit's own are exact
        assert _line_with(lines, "Total").split()[1:4] == ["≥$2.0M", "≥$1.0M", "≥15"]
        assert _line_with(lines, "lower bound").strip() == "≥ lower bound: Hyperliquid has no feed"
        pane.show(replace(view, realized=realized, feeds=feeds[:1]))  # Bybit alone: the total is exact
        await pilot.pause()
        lines = lines_of(pane)
        assert _line_with(lines, "Total").split()[1:4] == ["$2.0M", "$1.0M", "15"]
        assert not [line for line in lines if "lower bound" in line]


async def test_the_regime_line_says_what_it_compared_and_its_threshold(view):
    """ "new shorts" alone did not say against what: the line gives the price and OI moves over its
    window and that any move counts (there is no threshold)."""
    binance, bybit, total = view.oi
    total = replace(
        total, regime_window="1h", regime_price_pct=-4.8, change_pct={**total.change_pct, "1h": 1.1}
    )
    pane = OIPane()
    async with PaneApp(pane).run_test(size=(100, 10)) as pilot:
        pane.show(replace(view, oi=(binance, bybit, total)))
        await pilot.pause()
        line = _line_with(lines_of(pane), "regime").strip()
        assert line == "regime over 1h: new shorts (price -4.80 %, OI +1.10 %) · any move counts"


@pytest.mark.parametrize("width", [30, 45, 64, 100])
async def test_the_cross_strip_never_cuts_a_number_and_says_its_window(view, width):
    """At 60 columns the strip ended "XAG 104.2": entries are whole or left out, and the changes
    say they are over 24 h where there is room."""
    pane = CrossAssetStrip()
    async with PaneApp(pane).run_test(size=(width, 3)) as pilot:
        pane.show(view)
        await pilot.pause()
        text = pane.render_line(0).text.rstrip()
        entries = [e for e in re.split(r" {3}", text.removesuffix("(24h change)").strip()) if e]
        assert entries and all(re.fullmatch(r"\S+ \S+ [▲▼][-+]\d+\.\d %", e) for e in entries), text
        assert ("(24h change)" in text) is (width == 100), text


def test_the_one_line_realized_summary_marks_a_sampled_count_as_a_lower_bound(view):
    """The compact layout's `w` note: the count of a total with a sampled venue is a lower bound too."""
    from liqtui.ui.widgets.totals import realized_summary

    text = realized_summary(view)
    assert "LONG ≥$" in text and "· ≥1,623 liquidations" in text, text
