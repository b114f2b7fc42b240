"""Layouts: full, medium, compact by width; one pane with --layout; live resizing; no overlaps."""

from __future__ import annotations

import pytest

from liqtui.config import Settings, UISettings

from desk_helpers import make_app, notifications, screen_lines

SIZES = {
    (160, 45): "-full",
    (100, 30): "-medium",
    (60, 20): "-compact",
    (80, 24): "-compact",
    (150, 40): "-full",
    (149, 40): "-medium",
    (160, 24): "-full",
    (160, 30): "-full",
    (120, 20): "-medium",
    (200, 60): "-full",
}


def _visible_regions(app):
    screen = app.screen
    widgets = [
        screen.query_one("#header"),
        *screen.query("#desk > *"),
        screen.query_one("#cross"),
        screen.query_one("Footer"),
    ]
    return {w.id or type(w).__name__: w.region for w in widgets if w.display and w.region.area}


def _assert_tiles(app, size):
    regions = _visible_regions(app)
    width, height = size
    names = list(regions)
    for name, region in regions.items():
        assert region.x >= 0 and region.y >= 0, name
        assert region.right <= width and region.bottom <= height, (name, region, size)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not regions[a].overlaps(regions[b]), (a, regions[a], b, regions[b])
    return regions


@pytest.mark.parametrize(("size", "layout"), list(SIZES.items()))
async def test_auto_layout_by_width_tiles_without_overlap(size, layout):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert layout in app.screen.classes
        regions = _assert_tiles(app, size)
        assert {"header", "ladder", "tape"} <= set(regions)
        if layout == "-full" and size[1] >= 36:
            assert {"totals", "oi", "risk", "share", "cross"} <= set(regions)
        if layout == "-full" and size[1] < 36:
            assert {"totals", "oi", "cross"} <= set(regions) and not {"risk", "share"} & set(regions)
        for name, region in regions.items():
            assert region.height >= 1 and region.width >= 10, (name, region)
        if layout == "-compact":
            assert not {"totals", "oi", "risk", "share"} & set(regions)
        # every pane on screen got the view; hidden panes were not asked to draw
        shown = {p.id for p in app.visible_panes()}
        assert shown == set(regions) - {"header", "DeskFooter"}
        assert not [n for n in notifications(app) if "failed" in n]


async def test_live_resizing_switches_layout_and_keeps_drawing():
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        for size, layout in [
            ((100, 30), "-medium"),
            ((60, 20), "-compact"),
            ((160, 45), "-full"),
            ((40, 12), "-compact"),
        ]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.pause()
            assert layout in app.screen.classes
            _assert_tiles(app, size)
            app.render_tick()
        assert app.is_running
        assert not [n for n in notifications(app) if "failed" in n or "could not" in n]


@pytest.mark.parametrize("pane", ["tape", "ladder", "oi"])
async def test_single_pane_layouts_show_only_that_pane(pane):
    app = make_app(layout=pane)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.pause()
        regions = _assert_tiles(app, (100, 30))
        panes = set(regions) - {"header", "DeskFooter"}
        assert panes == {pane}
        assert regions[pane].height >= 20


@pytest.mark.parametrize("layout", ["full", "medium", "compact"])
async def test_a_forced_layout_ignores_the_width(layout):
    app = make_app(layout=layout)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert f"-{layout}" in app.screen.classes
        assert len([c for c in app.screen.classes if c in ("-full", "-medium", "-compact")]) == 1


async def test_the_layout_from_the_config_is_used():
    app = make_app(raw={"ui": {"layout": "tape"}})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "-only-tape" in app.screen.classes


async def test_60x20_every_key_keeps_the_desk_alive():
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        for key in ["right_square_bracket", "w", "plus", "minus", "f", "c", "p", "p", "t", "2"]:
            await pilot.press(key)
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.press("slash", "e", "t", "h", "enter")
        await pilot.pause()
        assert app.symbol == "ETH/USDT:USDT"
        _assert_tiles(app, (60, 20))
        assert not [n for n in notifications(app) if "failed" in n or "could not" in n]


async def test_an_unknown_layout_in_the_config_says_so_and_uses_auto():
    # The config file refuses it with exit code 2 (test_config); settings built in code reach the desk.
    app = make_app(settings=Settings(ui=UISettings(layout="sideways")))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert "-full" in app.screen.classes
        assert any("layout 'sideways'" in n for n in notifications(app))


@pytest.mark.parametrize("mode", ["DEMO", "REPLAY"])
@pytest.mark.parametrize("width", [160, 159, 130, 110, 80, 60])
async def test_the_keys_to_leave_to_get_help_and_the_alerts_log_are_on_screen_at_every_width(width, mode):
    app = make_app(mode=mode)
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.pause()
        await pilot.pause()
        footer = screen_lines(app)[-1]
        assert "? help" in footer and "q quit" in footer and "a alerts" in footer, footer
        if width >= 160 and mode == "DEMO":  # every key it lists is whole: the last one too
            assert footer.rstrip().endswith("p pause"), footer
