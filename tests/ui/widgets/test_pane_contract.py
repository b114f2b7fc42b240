"""Every pane keeps the contract: show() with an unchanged view repaints nothing, missing data and tiny
sizes never raise, and sides read as text without colour (NO_COLOR, ANSI theme)."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Grid

from liqtui.ui.widgets import (
    THEME_VARIABLES,
    CrossAssetStrip,
    HeatmapPane,
    LadderPane,
    OIPane,
    RiskChartPane,
    TapePane,
    TotalsPane,
    VolumeSharePane,
)

from widget_fixtures import (
    THEME_DEFAULTS,
    PaneApp,
    article_view,
    empty_view,
    lines_of,
    replace,
    run_busy_demo,
)

PANES = (
    LadderPane,
    TapePane,
    TotalsPane,
    OIPane,
    RiskChartPane,
    VolumeSharePane,
    CrossAssetStrip,
    HeatmapPane,
)


def test_the_test_app_defines_every_theme_variable_the_panes_use():
    assert set(THEME_DEFAULTS) == set(THEME_VARIABLES)


@pytest.mark.parametrize("pane_class", PANES, ids=lambda c: c.__name__)
async def test_unchanged_view_does_not_refresh(pane_class):
    pane = pane_class()
    async with PaneApp(pane).run_test(size=(100, 30)) as pilot:
        view = article_view()
        pane.show(view)
        await pilot.pause()
        calls = []
        original = pane.refresh
        pane.refresh = lambda *a, **k: (calls.append(a), original(*a, **k))[1]
        pane.show(article_view())  # a fresh but equal view, as the engine builds each tick
        pane.show(replace(view, now=view.now + 250))
        assert calls == []


@pytest.mark.parametrize("pane_class", PANES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("size", [(60, 20), (30, 3), (12, 2), (1, 1)], ids=str)
async def test_tiny_sizes_and_missing_data_never_raise(pane_class, size):
    """Each view draws exactly the pane's box; data that goes missing leaves nothing of the old view
    behind (the empty view draws the same before and after real data) and never reads as $0."""
    pane = pane_class()
    async with PaneApp(pane).run_test(size=size) as pilot:
        drawn = []
        for view in (empty_view(), article_view(), empty_view()):
            pane.show(view)
            await pilot.pause()
            lines = lines_of(pane)
            assert len(lines) == pane.size.height and {cell_len(line) for line in lines} == {pane.size.width}
            drawn.append((lines, pane.border_title))
        assert drawn[2] == drawn[0]
        assert "$0" not in "\n".join(drawn[0][0])


class DeskGrid(PaneApp):
    """All panes at once in a 60x20 terminal: each gets a few rows."""

    CSS = "Grid { grid-size: 2 4; } CrossAssetStrip { column-span: 2; }"

    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type]
        self.panes = [cls() for cls in PANES]

    def compose(self) -> ComposeResult:
        with Grid():
            yield from self.panes


async def test_all_panes_in_60x20_then_resized():
    app = DeskGrid()
    async with app.run_test(size=(60, 20)) as pilot:
        view = article_view()
        for pane in app.panes:
            pane.show(view)
        await pilot.pause()
        for size in ((40, 10), (160, 45), (60, 20)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            for pane in app.panes:
                pane.show(view)
                lines_of(pane)
        assert "▶82,800◀" in "\n".join(lines_of(app.panes[0]))


@pytest.mark.parametrize("theme", ["ansi-dark", "ansi-light", "textual-light"])
async def test_sides_read_without_colour(theme, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    pane = TapePane()
    app = PaneApp(pane)
    async with app.run_test(size=(80, 10)) as pilot:
        app.theme = theme
        pane.show(article_view())
        await pilot.pause()
        text = "\n".join(lines_of(pane))
        assert "LONG" in text and "SHORT" in text and "longs" in text
        assert "~" in text  # sampled marks are glyphs, not colours


@pytest.mark.parametrize("pane_class", PANES, ids=lambda c: c.__name__)
async def test_a_running_market_repaints_only_changed_lines_and_the_screen_stays_right(pane_class):
    """The busy demo through the real engine, one view per render tick: mostly line regions are
    repainted (not whole panes), and a screen updated only inside them equals a fresh draw."""
    ticks = await run_busy_demo(pane_class(), size=(100, 30))
    for tick in ticks:
        assert tick.patched == tick.fresh
    full = sum(tick.full for tick in ticks)
    partial = sum(bool(tick.refreshes) and not tick.full for tick in ticks)
    # Most changes repaint lines, not the whole pane. Not the tape: its title names the sampled
    # venues in view and a title change repaints the whole pane (10 of 16 changes here).
    if pane_class is not TapePane:
        assert partial > full or partial == full == 0
