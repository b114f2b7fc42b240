"""The heatmap pane on a hand-built view: where the levels, the price path and realized marks land;
an unchanged view repaints nothing."""

from __future__ import annotations

import dataclasses

from liqtui.domain.events import Side
from liqtui.engine.heatmap import HeatColumn, HeatmapView
from liqtui.ui.widgets import HeatmapPane

from widget_fixtures import PaneApp, article_view, lines_of

T0 = 1_750_000_000_000 - 1_750_000_000_000 % 600_000


def _view(columns):
    return HeatmapView("BTC/USDT:USDT", 10.0, 600_000, ("bybit",), tuple(columns))


def _col(k, low, high, longs=(), shorts=(), realized=()):
    return HeatColumn(T0 + k * 600_000, tuple(longs), tuple(shorts), low, high, tuple(realized))


async def test_price_path_levels_and_realized_marks_land_on_their_cells():
    # Window 1,000..1,200 plus a quarter margin (50 each side): 900..1,300 over 2 x 20 rows of 10.
    columns = [_col(k, 1_000.0, 1_010.0, longs=[(95, 5_000.0)]) for k in range(10)]
    columns.append(_col(10, 1_190.0, 1_200.0, shorts=[(125, 9_000.0)], realized=[(119, Side.SHORT, 700.0)]))
    pane = HeatmapPane()
    pane.source = lambda *_a: _view(columns)
    async with PaneApp(pane).run_test(size=(40, 21)) as pilot:
        pane.show(article_view())
        await pilot.pause()
        lines = lines_of(pane)
        # 11 columns spread over the 31 cells left of the price axis: the last column is x 29..30
        chart = [line[: 40 - 9] for line in lines[:20]]
        # row r (0 at the bottom, 900 + 10 r) sits on line (39 - r) // 2
        assert chart[(39 - 29) // 2][29:] == "●│"  # the realized short at 1,195 (row 29), over the price path
        assert chart[(39 - 30) // 2 - 1][29:] == "  " and chart[(39 - 30) // 2][29:] == "││"
        assert chart[(39 - 10) // 2][:29] == "│" * 29  # the price at 1,000..1,010 for ten columns
        assert chart[(39 - 5) // 2][:29] == "▀" * 29  # the long cluster at 950
        assert chart[(39 - 35) // 2][29:] == "▀▀"  # the short cluster at 1,250 in the last column only
        assert chart[(39 - 35) // 2][:29].strip() == ""
        assert "top $9.0k (log)" in lines[-1]


async def test_an_unchanged_heatmap_is_not_repainted():
    view = _view([_col(0, 1_000.0, 1_010.0, longs=[(95, 5_000.0)])])
    pane = HeatmapPane()
    pane.source = lambda *_a: view
    async with PaneApp(pane).run_test(size=(60, 20)) as pilot:
        pane.show(article_view())
        await pilot.pause()
        calls = []
        original = pane.refresh
        pane.refresh = lambda *a, **k: (calls.append(a), original(*a, **k))[1]
        pane.show(dataclasses.replace(article_view(), now=article_view().now + 250))
        assert calls == []


async def test_tiny_sizes_and_an_unknown_history_never_raise():
    known = _view([_col(0, 1_000.0, 1_010.0, longs=[(95, 5_000.0)], realized=[(100, Side.LONG, 5.0)])])
    unknown = _view([HeatColumn(T0, None, None, None, None)])
    for size in ((60, 20), (30, 3), (12, 2), (1, 1)):
        for view in (known, unknown, None):
            pane = HeatmapPane()
            pane.source = lambda *_a, v=view: v
            async with PaneApp(pane).run_test(size=size) as pilot:
                pane.show(article_view())
                await pilot.pause()
                lines = lines_of(pane)
                assert len(lines) == size[1]
                if view is not known and size[1] > 1:
                    assert "$0" not in "".join(lines)  # unknown is never shown as zero


async def test_zoomed_rows_are_the_ladders_step_around_the_latest_price():
    # The ladder zoomed to 20: rows of 20 around the last column's middle (1,195 -> 1,200), 800..1,600.
    columns = [_col(k, 1_000.0, 1_010.0, longs=[(95, 5_000.0)]) for k in range(10)]
    columns.append(_col(10, 1_190.0, 1_200.0, shorts=[(125, 9_000.0)]))
    pane = HeatmapPane()
    pane.source = lambda *_a: _view(columns)
    pane.zoom_step = 20.0
    async with PaneApp(pane).run_test(size=(40, 21)) as pilot:
        pane.show(article_view())
        await pilot.pause()
        chart = [line[: 40 - 9] for line in lines_of(pane)[:20]]
        # row r (0 at the bottom, 800 + 20 r) sits on line (39 - r) // 2
        assert chart[(39 - 7) // 2][:29] == "▀" * 29  # the long cluster at 950..960: row 7
        assert chart[(39 - 10) // 2][:29] == "│" * 29  # the price at 1,000..1,010: row 10
        assert chart[(39 - 22) // 2][29:] == "▀▀"  # the short cluster at 1,250..1,260: row 22
        assert "step 20" in pane.border_title  # a zoomed heatmap says so whenever the title has room


def test_binning_sums_each_grid_row_into_the_frame_row_its_centre_lands_on():
    """bin_column sums slices of rows; each row lands where Frame.row_of puts its centre, also on
    frames whose edges fall exactly on row centres, finer than the grid, and past either end."""
    from array import array

    from liqtui.engine.heatmap import Rows
    from liqtui.ui.widgets.heatmap import Frame, bin_column

    grid = 0.1
    usd = array("d", [float((7 * k) % 11) * 1_000.0 for k in range(300)])  # zero rows among them
    rows = Rows(9_950, usd)
    frames = [
        Frame(995.0 - 0.05, 0.3, 40),  # edges on row centres
        Frame(990.0, 0.7, 20),  # rows below and above the frame
        Frame(1_000.0, 0.03, 30),  # finer than the grid: most frame rows empty
        Frame(900.0, 50.0, 4),  # every row in one frame row
        Frame(2_000.0, 1.0, 10),  # nothing in the frame
    ]
    for frame in frames:
        expected = [[0.0, 0.0] for _ in range(frame.rows)]
        for i, u in rows:
            r = frame.row_of((i + 0.5) * grid)
            if r is not None:
                expected[r][0] += u
                expected[r][1] += 2 * u
        doubled = Rows(9_950, array("d", [2 * u for u in usd]))
        col = HeatColumn(T0, rows, doubled, None, None)
        assert bin_column(col, grid, frame) == [(a, b) for a, b in expected], frame
