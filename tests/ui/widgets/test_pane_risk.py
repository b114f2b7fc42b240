"""The at-risk arithmetic against hand sums, and the pane reading the article's sentences."""

from __future__ import annotations

from liqtui.engine.levels import at_risk
from liqtui.engine.views import LevelRow
from liqtui.ui.widgets import RiskChartPane
from liqtui.ui.widgets.risk_chart import PLOT_GLYPHS, at_risk_sentence, cumulative_curves

from widget_fixtures import PRICE, PaneApp, empty_view, level_books, lines_of, replace

ROWS = (
    LevelRow(80_000.0, long_usd=100.0),
    LevelRow(82_000.0, long_usd=10.0, short_usd=7.0),  # a short row below price never counts upward
    LevelRow(82_800.0, long_usd=1.0, short_usd=2.0),  # the price row itself counts for neither side
    LevelRow(83_000.0, short_usd=20.0, swept_short_usd=999.0),  # swept estimate is already gone
    LevelRow(92_000.0, short_usd=300.0),
    LevelRow(92_100.0, short_usd=4_000.0),
)


# The chart reads the engine's at_risk over the view's levels (here one level per hand-made row).
def test_at_risk_above_sums_shorts_in_price_to_target_inclusive():
    assert at_risk(level_books(ROWS), 82_800.0, 92_000.0) == 20.0 + 300.0
    assert at_risk(level_books(ROWS), 82_800.0, 92_100.0) == 20.0 + 300.0 + 4_000.0


def test_at_risk_below_sums_longs_from_target_inclusive_to_price():
    assert at_risk(level_books(ROWS), 82_800.0, 80_000.0) == 100.0 + 10.0
    assert at_risk(level_books(ROWS), 82_800.0, 80_000.01) == 10.0


def test_cumulative_curves_run_outwards_from_price():
    longs, shorts = cumulative_curves(ROWS, 82_800.0)
    assert longs == [(82_000.0, 10.0), (80_000.0, 110.0)]
    assert shorts == [(83_000.0, 20.0), (92_000.0, 320.0), (92_100.0, 4_320.0)]


def test_article_sentences(view):
    # By hand, from the article's rows: shorts 0.8 + 1.2 + 1.5 + 1.0 + 2.0 (at 92,000) = $6.5B, and
    # $4.5B short of it; longs 0.15 + 0.30 + 0.25 + 0.20 + 0.30 (at 72,600) = $1.2B, and $900M above it.
    levels = view.levels
    assert at_risk_sentence(levels, PRICE, 92_000.0) == "$6.5B shorts at risk to 92,000 (+11.1 %)"
    assert at_risk_sentence(levels, PRICE, 91_999.0) == "$4.5B shorts at risk to 91,999 (+11.1 %)"
    assert at_risk_sentence(levels, PRICE, 72_600.0) == "$1.2B longs at risk to 72,600 (-12.3 %)"
    assert at_risk_sentence(levels, PRICE, 72_601.0) == "$900M longs at risk to 72,601 (-12.3 %)"


async def test_pane_reads_target_max_pain_imbalance_and_says_estimated(view):
    pane = RiskChartPane()
    async with PaneApp(pane).run_test(size=(100, 30)) as pilot:
        pane.target = 92_000.0
        pane.show(view)
        await pilot.pause()
        text = "\n".join(lines_of(pane))
        assert "$6.5B shorts at risk to 92,000 (+11.1 %)" in text
        assert "max pain S $2.0B at 92,000 (+11.1 %)" in text
        assert "L $500M at 70,000 (-15.5 %)" in text
        assert "±2 % +0.40" in text and "±10 % +0.69" in text
        assert "ESTIMATED" in pane.border_title and "BIN BYB OKX" in pane.border_title
        assert any(ch in PLOT_GLYPHS for ch in text), "the plotext chart is drawn"

        pane.target = 72_600.0
        await pilot.pause()
        assert "$1.2B longs at risk to 72,600 (-12.3 %)" in "\n".join(lines_of(pane))


async def test_chart_colours_longs_left_and_shorts_right_of_price(view):
    pane = RiskChartPane()
    async with PaneApp(pane).run_test(size=(100, 30)) as pilot:
        pane.show(view)
        await pilot.pause()
        long_colour = pane.get_component_rich_style("pane--long").color
        short_colour = pane.get_component_rich_style("pane--short").color
        seen = set()
        for y in range(pane.size.height):
            for segment in pane.render_line(y):
                if any(ch in PLOT_GLYPHS for ch in segment.text):
                    seen.add(segment.style.color)
        assert {long_colour, short_colour} <= seen


async def test_without_levels_it_says_why(view):
    pane = RiskChartPane()
    async with PaneApp(pane).run_test(size=(60, 10)) as pilot:
        pane.show(empty_view())
        await pilot.pause()
        assert "waiting for a price" in lines_of(pane)[0]
        pane.show(replace(view, levels=replace(view.levels, rows=())))
        await pilot.pause()
        assert "no ESTIMATED levels yet" in lines_of(pane)[0]


async def test_a_new_target_shows_its_sentence_at_once_and_the_chart_in_a_turn_of_its_own(view):
    # plotext's plot (10-20 ms at stress) held `g`'s answer, the "at risk to" sentence, off the
    # screen: the sentence is drawn over the last chart, and the chart with the target follows.
    pane = RiskChartPane()
    async with PaneApp(pane).run_test(size=(100, 30)) as pilot:
        pane.show(view)
        await pilot.pause()
        before = lines_of(pane)
        assert not any("72.6k" in line for line in before)
        pane.target = 72_600.0  # redrawn now, as a key's frame draws it
        now = lines_of(pane)
        assert "$1.2B longs at risk to 72,600 (-12.3 %)" in "\n".join(now)
        assert not any("72.6k" in line for line in now)  # the chart is the last one still
        await pilot.pause()
        assert any("72.6k" in line for line in lines_of(pane))  # the target's tick on the new chart
