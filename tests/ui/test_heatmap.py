"""The heatmap pane on screen: its layout, the swap with the ladder, range and scale keys, the help,
shade characters without colours, and where the price path and realized marks are drawn."""

from __future__ import annotations

from frozen import frozen_app

from liqtui.domain import format as fmt
from liqtui.domain.events import PositionSnapshot, Side
from liqtui.ui.widgets import HeatmapPane

from desk_helpers import flashed, screen_lines


def lines_of(pane) -> list[str]:
    return [pane.render_line(y).text for y in range(pane.size.height)]


async def _painted(pilot):
    app = pilot.app
    while app.last_view is None:
        await pilot.pause(0.02)
    app.render_tick()
    await pilot.pause()


def _heatmap_text(app) -> str:
    return "\n".join(screen_lines(app))


async def test_the_heatmap_layout_shows_estimated_levels_the_price_and_the_scale():
    app = frozen_app(layout="heatmap")
    async with app.run_test(size=(160, 45)) as pilot:
        await _painted(pilot)
        text = _heatmap_text(app)
        assert "Heatmap · BTC · ESTIMATED · 24h · log" in text
        assert "DEMO" in text
        assert "▀" in text and "│" in text  # half-block cells and the price path
        assert "top $" in text and "(log)" in text
        assert "Ladder" not in text


async def test_range_and_scale_keys_change_the_title_and_the_legend():
    app = frozen_app(layout="heatmap")
    async with app.run_test(size=(160, 45)) as pilot:
        await _painted(pilot)
        pane = app.screen.query_one(HeatmapPane)
        before = lines_of(pane)
        await pilot.press("s")
        await pilot.pause()
        text = _heatmap_text(app)
        assert "ESTIMATED · 24h · linear" in text and "(linear)" in text
        said = [n.message for n in app._notifications] + flashed(app)
        assert not [n for n in said if "Heatmap" in n]  # the title says it
        assert lines_of(pane) != before  # the strengths are drawn again on the new scale
        seen = []
        for _ in range(5):
            await pilot.press("r")
            await pilot.pause()
            seen.append(
                next(
                    r for r in ("12h", "24h", "3d", "7d", "30d") if f"ESTIMATED · {r} ·" in _heatmap_text(app)
                )
            )
        assert seen == ["3d", "7d", "30d", "12h", "24h"]


async def test_h_swaps_the_heatmap_with_the_ladder_in_the_full_layout_and_back():
    app = frozen_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await _painted(pilot)
        assert "Ladder" in _heatmap_text(app) and "Heatmap" not in _heatmap_text(app)
        await pilot.press("h")
        await pilot.pause()
        await pilot.pause()
        text = _heatmap_text(app)
        assert "Heatmap · BTC · ESTIMATED" in text and "Ladder ·" not in text
        assert "Liquidations · all markets" in text  # the other panes stay (the tape's title)
        await pilot.press("h")
        await pilot.pause()
        assert "Ladder" in _heatmap_text(app) and "Heatmap ·" not in _heatmap_text(app)


async def test_heatmap_keys_are_in_the_help_and_say_where_they_apply():
    app = frozen_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await _painted(pilot)
        rows = dict(app.help_rows())
        assert "heatmap" in rows["h"] and "12h 24h 3d 7d 30d" in rows["r"] and "log or linear" in rows["s"]
        assert "each one" in rows["v"] and "heatmap" in rows["+, ="] and "heatmap" in rows["-"]
        await pilot.press("r")
        await pilot.pause()
        assert any("acts on the heatmap" in n for n in flashed(app))


async def test_the_ansi_theme_draws_strength_as_shade_characters():
    app = frozen_app(layout="heatmap", theme="ansi")
    async with app.run_test(size=(120, 40)) as pilot:
        await _painted(pilot)
        pane = app.screen.query_one(HeatmapPane)
        text = "\n".join(lines_of(pane))
        assert "▀" not in text.split("\n", 1)[1].rsplit("\n", 1)[0]  # no half blocks in the chart
        assert any(shade in text for shade in "░▒▓█")


async def test_v_shows_each_venue_alone_then_all_again():
    app = frozen_app(layout="heatmap")
    async with app.run_test(size=(160, 45)) as pilot:
        await _painted(pilot)
        pane = app.screen.query_one(HeatmapPane)
        venues = app.engine.heatmap_venues(app.symbol)
        assert len(venues) > 1 and set(pane._shown[1].venues) == set(venues)
        for venue in venues:
            await pilot.press("v")
            await pilot.pause()
            app.render_tick()
            assert pane._shown[1].venues == (venue,)
            assert f"{fmt.venue_name(venue)} only" in _heatmap_text(app)
        await pilot.press("v")
        await pilot.pause()
        app.render_tick()
        assert set(pane._shown[1].venues) == set(venues) and "only" not in _heatmap_text(app)


async def test_zooming_makes_the_heatmaps_rows_the_ladders_step():
    app = frozen_app(layout="heatmap")
    async with app.run_test(size=(160, 45)) as pilot:
        await _painted(pilot)
        pane = app.screen.query_one(HeatmapPane)
        await pilot.press("minus")
        await pilot.pause()
        app.render_tick()
        assert not any("acts on the ladder" in n for n in flashed(app))
        assert app.grid is not None and pane.zoom_step == app.grid
        assert f"step {fmt.price(app.grid)}" in _heatmap_text(app)


async def test_v_reaches_the_measured_levels_of_tracked_accounts_when_there_are_some():
    app = frozen_app(layout="heatmap", skip=(PositionSnapshot,))  # the demo's tracked accounts left out
    async with app.run_test(size=(160, 45)) as pilot:
        await _painted(pilot)
        pane = app.screen.query_one(HeatmapPane)
        venues = app.engine.heatmap_venues(app.symbol)
        for _ in venues:
            await pilot.press("v")
        await pilot.press("v")  # no tracked positions: back to every venue, never an empty MEASURED map
        await pilot.pause()
        app.render_tick()
        assert not pane.measured and "MEASURED" not in _heatmap_text(app)
        price = app.last_view.market.last
        app.engine.apply(
            PositionSnapshot(
                "hyperliquid",
                app.symbol,
                "0xabc",
                Side.LONG,
                10.0,
                5e6,
                price,
                price * 0.98,
                10.0,
                "cross",
                app.source.now_ms(),
            )
        )
        for _ in range(len(venues) + 1):
            await pilot.press("v")
        await pilot.pause()
        app.render_tick()
        text = _heatmap_text(app)
        assert pane.measured and "Heatmap · BTC · MEASURED" in text and "tracked accounts" in text
        assert "top $5.0M" in text
        since = fmt.hhmmss(app.source.now_ms() - app.source.now_ms() % 300_000)[:5]
        assert f"tracked accounts since {since}" in text  # earlier columns: no positions seen (blank)
        await pilot.press("v")
        await pilot.pause()
        app.render_tick()
        assert "Heatmap · BTC · ESTIMATED" in _heatmap_text(app)


async def test_r_and_next_symbol_draw_what_a_fresh_pane_draws_from_the_readied_columns():
    """The next range and the next symbol are readied while the desk is idle (their columns summed
    and drawn ahead); the key then shows exactly (glyphs and colours) what a desk set at once to that
    range and symbol shows."""

    async def drawn_after(keys, range_name=None, symbol=None, scale=None):
        app = frozen_app(layout="heatmap")
        async with app.run_test(size=(160, 45)) as pilot:
            await _painted(pilot)
            pane = app.screen.query_one(HeatmapPane)
            if range_name is not None or symbol is not None:
                pane.range_name = range_name or pane.range_name
                pane.scale = scale or pane.scale
                app.symbol = symbol or app.symbol
                pane._kept.clear()  # nothing readied nor drawn before: drawn from scratch
                pane._settings_changed()
            else:
                while pane._prepare_timer is not None or not pane._prepared[1]:  # the readying's steps
                    await pilot.pause(0.02)
            readied = set(pane._kept)
            for key in keys:
                await pilot.press(key)
                await pilot.pause()
            app.render_tick()
            await pilot.pause()
            return readied, app.symbol, [list(pane.render_line(y)) for y in range(pane.size.height)]

    readied, _symbol, after_r = await drawn_after(["r"])
    assert ("BTC/USDT:USDT", "3d") in readied
    assert after_r == (await drawn_after([], range_name="3d"))[2]
    _readied, _symbol, after_s_r = await drawn_after(["s", "r"])  # readied on the log scale
    assert after_s_r == (await drawn_after([], range_name="3d", scale="linear"))[2]
    readied, symbol, after_next = await drawn_after(["right_square_bracket"])
    assert (symbol, "24h") in readied and symbol != "BTC/USDT:USDT"
    assert after_next == (await drawn_after([], symbol=symbol))[2]
