"""What keeps the desk's loop free (issue 15): no test here times anything.

- The history leaves the garbage collector's generations once it is in (``gc.freeze``): a full
  collection passing over 25 h of demo history stalled keys and frames for ~100 ms at a time. Then
  the youngest generation's threshold goes up (its passes, ~20 a second at stress, cost 2-3 % of a core).
- A symbol switch draws the header and the ladder at once and the other panes after the screen
  showed them, one per turn of the loop (all of them in one handler took 40-50 ms at stress); with
  the ladder not on screen (the heatmap layout), the header alone first.
- Under a modal screen (help, the alerts log) the desk holds still: Textual draws a modal over a
  tinted copy of the whole screen beneath, so a pane redrawn there repainted every cell of both screens.
- The symbol picker and the prompts are no modal but the desk's command bar: opening and closing
  them redraws no pane's line and no tinted copy, and the desk keeps moving while they are open.
- Textual's frame clock runs at 120 a second for the desk (a key's change waited up to 16.7 ms for
  the next frame at its default 60), unless the user set TEXTUAL_FPS."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from liqtui.config import Settings
from liqtui.feeds.demo import DemoSource
from liqtui.ui.app import YOUNG_GC_THRESHOLD, LiqtuiApp
from liqtui.ui.widgets import PromptBar, SymbolPicker

from desk_helpers import make_app, screen_lines, wait_for


def _spy(monkeypatch, cls, name: str, record=lambda self, *args: self, into: list | None = None) -> list:
    """The calls of ``cls.name`` from now on, each as ``record(self, *args)`` makes it; the method runs."""
    calls = [] if into is None else into
    original = getattr(cls, name)

    def spied(self, *args):
        calls.append(record(self, *args))
        return original(self, *args)

    monkeypatch.setattr(cls, name, spied)
    return calls


def _every_cell(widget, region, monkeypatch, styles_cache=None) -> list[list]:
    """Every cell of ``widget``'s lines in ``region``, with its style, the widget refreshed first (every
    line styled again); with ``styles_cache``, styled by that one (Textual's own, to compare with)."""
    if styles_cache is not None:
        monkeypatch.setattr(widget, "_styles_cache", styles_cache)
    widget.refresh()
    return [list(strip) for strip in widget.render_lines(region)]


async def _held_still(pilot, app: LiqtuiApp, settle: float = 0.1) -> None:
    """The desk drawn, then paused: no frame changes a pane meanwhile."""
    assert await wait_for(pilot, lambda: app.last_view is not None)
    await pilot.press("p")
    await pilot.pause(settle)


async def test_the_history_is_frozen_once_it_is_in():
    gc.unfreeze()
    settings = Settings()
    source = DemoSource(settings, seed=3, rate="calm", realtime=False, backfill_hours=1)
    app = LiqtuiApp(settings, source, theme_dir="/nonexistent-liqtui-themes")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            assert await wait_for(pilot, lambda: source.warmup is None and app.last_view is not None)
            await pilot.pause(0.3)  # a render tick after the history is in
            assert gc.get_freeze_count() > 0
            # and the youngest generation passes less often (a pass ~20 times a second at stress)
            assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD
    finally:
        gc.unfreeze()


async def test_a_replay_catches_up_with_the_desk_frozen_and_the_youngest_generation_raised(tmp_path):
    # A catch-up of half a million rows builds objects by the hundred thousand: at 700 the collector's
    # passes over them and the desk's start-up objects took ~0.1-0.2 s of the launched desk's CPU.
    from liqtui.domain.events import Liquidation, Side
    from liqtui.feeds.replay import ReplaySource
    from liqtui.storage.recorder import Recorder

    path = tmp_path / "rec.sqlite"
    with Recorder(path, background=False) as recorder:
        for i in range(10):
            t = 1_769_860_800_000 + i * 1_000
            recorder.add(Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 82_410.0, 0.1, 8_241.0, t, t))
    seen: list[tuple[int, int]] = []

    class Watched(ReplaySource):
        async def run(self, emit):
            seen.append((gc.get_freeze_count(), gc.get_threshold()[0]))  # as the catch-up starts
            await super().run(emit)

    gc.unfreeze()
    gc.set_threshold(700)
    source = Watched(path, speed=0, start_ms=1 << 50)  # after the end: all of it is catch-up
    app = LiqtuiApp(Settings(), source, theme_dir=tmp_path / "no-themes")
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_for(pilot, lambda: bool(seen))
    frozen, young = seen[0]
    assert frozen > 0 and young == YOUNG_GC_THRESHOLD


async def test_a_replay_s_catch_up_is_drawn_as_soon_as_it_ends_not_at_the_next_render_tick(
    tmp_path, monkeypatch
):
    # The launched desk waited up to a render tick (0.25 s) after a late replay's catch-up ended
    # before it drew the panes and took "warming up N %" off the header.
    from liqtui.domain.events import Liquidation, Side
    from liqtui.feeds.replay import ReplaySource
    from liqtui.storage.recorder import Recorder

    path = tmp_path / "rec.sqlite"
    with Recorder(path, background=False) as recorder:
        for i in range(10):
            t = 1_769_860_800_000 + i * 1_000
            recorder.add(Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 82_410.0, 0.1, 8_241.0, t, t))
    monkeypatch.setattr(LiqtuiApp, "_timer_tick", lambda self: None)  # no periodic frame at all
    source = ReplaySource(path, speed=0, start_ms=1 << 50)  # after the end: all of it is catch-up
    app = LiqtuiApp(Settings(), source, theme_dir=tmp_path / "no-themes")
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        assert source.warmup is None and len(app.last_view.tape) == 10  # the catch-up's end, whole
        await pilot.pause()
        assert "warming up" not in "\n".join(screen_lines(app))


async def test_a_symbol_switch_draws_the_ladder_first_then_every_other_pane():
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        # every pane drawn once: a timer's frame before the first layout (a loaded machine) sets the
        # view with no pane drawn yet
        shown = app.visible_panes
        assert await wait_for(pilot, lambda: shown() and all(p._view is not None for p in shown()))
        panes = {p.id: p for p in app.visible_panes()}
        assert {"ladder", "totals", "tape", "risk"} <= set(panes)
        app.action_step_symbol(1)  # what `]` runs, here without a turn of the loop after it
        new = app.symbol
        assert panes["ladder"]._view.symbol == new
        assert panes["totals"]._view.symbol != new and panes["risk"]._view.symbol != new
        assert await wait_for(pilot, lambda: all(p._view.symbol == new for p in panes.values()))


async def test_a_symbol_switch_without_the_ladder_on_screen_draws_the_header_first():
    # The heatmap layout: the heatmap in the ladder's place summed a symbol's every column (50-100 ms)
    # before the header could name it (`/` symbol Enter p95 212 ms from outside); now it follows.
    app = make_app(layout="heatmap")
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        panes = {p.id: p for p in app.visible_panes()}
        assert "heatmap" in panes and "ladder" not in panes
        app.action_step_symbol(1)  # what `]` runs, here without a turn of the loop after it
        new = app.symbol
        assert app.last_view.symbol == new  # the header's view
        assert all(p._view is None or p._view.symbol != new for p in panes.values())
        assert await wait_for(pilot, lambda: all(p._view.symbol == new for p in panes.values()))


async def test_the_periodic_frame_waits_while_a_key_s_panes_are_still_drawn():
    # A full frame queued between a key's header and the screen's refresh held the key's change off
    # the screen (`]` p95 123 ms from outside): the timer's frame skips while the key's panes follow.
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        app.action_step_symbol(1)  # what `]` runs; its other panes are drawn on the loop's next turns
        keyed = app.last_view
        app._timer_tick()
        assert app.last_view is keyed  # skipped: no new frame while the key's panes are pending
        panes = app.visible_panes()
        assert await wait_for(
            pilot, lambda: all(p._view is keyed for p in panes) or app.last_view is not keyed
        )
        assert await wait_for(pilot, lambda: app._later is None)
        app._timer_tick()
        assert app.last_view is not keyed  # once they are drawn, the periodic frame runs again


async def test_the_desk_holds_still_under_a_modal_and_draws_again_once_it_closes():
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        ladder = app.query_one("#ladder")
        await pilot.press("question_mark")  # the help screen
        assert await wait_for(pilot, lambda: len(app.screen_stack) == 2)
        app.source.now += 60_000  # a minute later: a frame would show another clock
        app.render_tick()
        under = app.last_view
        assert under.now == app.source.now  # the view is still built (the positions view reads it)
        assert ladder._view is not under  # but not drawn behind the modal
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: len(app.screen_stack) == 1)
        app.render_tick()
        assert ladder._view is app.last_view


async def test_the_desk_keeps_moving_while_the_command_bar_is_open():
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        ladder = app.query_one("#ladder")
        await pilot.press("g")  # the at-risk target prompt
        assert await wait_for(pilot, lambda: app.query_one(PromptBar).is_open)
        app.source.now += 60_000
        app.render_tick()
        assert ladder._view is app.last_view and app.last_view.now == app.source.now


async def test_opening_and_closing_the_picker_redraws_no_pane_and_no_tinted_desk(monkeypatch):
    # As a modal screen, the picker's opening drew a tinted copy of all 7,200 cells of the desk and
    # its close repainted the whole desk (40-60 ms of CPU at p50 before the key showed). On the desk's
    # own screen only the cells it covers change: the panes beneath keep their drawn lines.
    from textual.renderables.background_screen import BackgroundScreen

    from liqtui.ui.widgets.line_pane import LinePane

    tinted = _spy(monkeypatch, BackgroundScreen, "__rich_console__", lambda self, *_: self.screen)
    lines = _spy(monkeypatch, LinePane, "render_line", lambda self, y: self.id)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await _held_still(pilot, app)
        lines.clear()
        await pilot.press("slash")
        picker = app.query_one(SymbolPicker)
        assert await wait_for(pilot, lambda: picker.is_open)
        await pilot.press("e", "t", "h")  # each keystroke changes the list and its count
        await pilot.pause(0.1)
        assert app.query_one("#picker-input").value == "eth"
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert not picker.is_open
        assert tinted == [] and lines == []


async def test_g_s_enter_draws_the_chart_once_with_the_key_s_own_frame(monkeypatch):
    # The target's watcher plotted the chart with the view from before the prompt, then the key's
    # frame plotted it again with the new one (plotext, 10-20 ms each at stress): now only the latter.
    from liqtui.ui.widgets import RiskChartPane

    app = make_app()
    # how many views were built when the chart drew
    drawn = _spy(monkeypatch, RiskChartPane, "_redraw", lambda self: len(app.engine.calls))
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        await pilot.press("g")
        prompt = app.query_one(PromptBar)
        assert await wait_for(pilot, lambda: prompt.is_open)
        await pilot.press("9", "2", "k")
        built, drawn[:] = len(app.engine.calls), []
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: not prompt.is_open and bool(drawn))
        assert app.query_one("#risk").target == 92000.0
        assert drawn[0] > built  # the first plot after the Enter is the key's frame's, with its new view


async def test_the_footer_is_not_rebuilt_when_the_command_bar_opens_and_closes(monkeypatch):
    # Textual's footer rebuilt every key (20-odd widgets and a layout of the screen) at each change
    # of focus: the bar's input hid the letter keys, then gave them back, for the same keys shown.
    from liqtui.ui.app import DeskFooter

    rebuilt = []
    recompose = DeskFooter.recompose

    async def counted(self):
        rebuilt.append(self)
        await recompose(self)

    monkeypatch.setattr(DeskFooter, "recompose", counted)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        await pilot.pause(0.2)
        rebuilt.clear()
        for keys in (("slash", "e", "t", "escape"), ("g", "9", "escape")):
            await pilot.press(*keys)
            await pilot.pause(0.1)
        assert rebuilt == []
        assert "g target" in screen_lines(app)[-1]  # the desk's keys, as before the bar opened


def _layouts_asked(monkeypatch) -> list[str]:
    """The class names of the widgets that ask for each layout of the screen from now on (a toast's may
    too), as Textual's Screen._refresh_layout takes them."""
    from textual.screen import Screen

    laid_out: list[str] = []
    refresh_layout = Screen._refresh_layout

    def counted(self, *args, **kwargs):
        laid_out.extend(type(w).__name__ for asked in self._layout_widgets.values() for w in asked)
        return refresh_layout(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    return laid_out


async def test_a_keystroke_in_the_command_bar_asks_for_no_layout_of_the_screen(monkeypatch):
    # An Input's virtual size follows its text, and Textual's Widget.virtual_size asks for a layout of
    # the whole screen at each change: one per keystroke (~5 ms p50) for an input of a fixed size.
    laid_out = _layouts_asked(monkeypatch)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        await pilot.press("p", "g")  # paused: no frame changes a pane meanwhile
        prompt = app.query_one(PromptBar)
        assert await wait_for(pilot, lambda: prompt.is_open)
        await pilot.pause(0.1)
        laid_out.clear()
        await pilot.press("9", "2", "k", "backspace")
        await pilot.pause(0.1)
        assert app.query_one("#prompt-input").value == "92"
        assert not any("Input" in name for name in laid_out)


async def test_a_keystroke_that_changes_the_picker_s_matches_asks_for_no_layout_of_the_screen(monkeypatch):
    # The picker's list has a fixed height; Textual's OptionList sets its virtual size (its lines'
    # count) at each change of its options, and Widget.virtual_size asked for a layout of the whole
    # screen: one in each typed symbol's frame (~1.5-2 ms of CPU at busy, 160x45).
    laid_out = _layouts_asked(monkeypatch)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        await pilot.press("p", "slash")  # paused: no frame changes a pane meanwhile
        picker = app.query_one(SymbolPicker)
        assert await wait_for(pilot, lambda: picker.is_open)
        await pilot.pause(0.1)
        options = picker.query_one("#picker-list")
        shown = options.option_count
        laid_out.clear()
        await pilot.press("e", "t", "h")
        await pilot.pause(0.1)
        assert options.option_count < shown and picker.candidate == "ETH/USDT:USDT"
        assert not any("List" in name for name in laid_out), laid_out
        assert options.virtual_size.height == options.option_count  # still what its scrolling reads


async def test_the_ladder_giving_and_taking_back_the_focus_redraws_none_of_its_lines(monkeypatch):
    # The ladder has the focus on the desk (its arrow keys scroll it); the command bar's input takes
    # it and gives it back. Textual restyled the ladder and repainted its every line at each move
    # (~5 ms of CPU and the whole pane's cells written, at the bar's opening and again at its
    # close), for a pane that looks the same focused or not.
    from liqtui.ui.widgets import LadderPane

    lines = _spy(monkeypatch, LadderPane, "render_line", lambda self, y: y)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        ladder = app.query_one(LadderPane)
        assert app.focused is ladder
        await _held_still(pilot, app)
        lines.clear()
        for keys, bar in ((("slash",), SymbolPicker), (("g",), PromptBar)):
            await pilot.press(*keys)
            assert await wait_for(pilot, lambda bar=bar: app.query_one(bar).is_open)
            await pilot.pause(0.1)
            await pilot.press("escape")
            assert await wait_for(pilot, lambda: app.focused is ladder)
            await pilot.pause(0.1)
        assert lines == []
        await pilot.press("down")  # the ladder's own keys still reach it
        assert await wait_for(pilot, lambda: not ladder.follow)


async def test_showing_and_hiding_the_command_bar_repaints_only_the_cells_it_covers(monkeypatch):
    # Textual orders the screen's widgets for painting by their place among the screen's children;
    # the bar, mounted last, took the first place when shown and moved every other widget's, which
    # marked every cell of the desk for repainting at each opening and each close (7,200 cells at
    # 160x45). Mounted first, it takes the last place and the others keep theirs. And Textual
    # repainted the whole screen at every move of the focus (Screen.focused is a reactive that
    # repaints): the bar's input taking it and giving it back was a full update of the desk each.
    from textual._compositor import Compositor
    from textual.geometry import Region

    painted = []
    render_partial_update = Compositor.render_partial_update
    render_full_update = Compositor.render_full_update

    def recorded(self):
        painted.extend(self._dirty_regions)
        return render_partial_update(self)

    def recorded_full(self, *args, **kwargs):
        painted.append(self.size.region)
        return render_full_update(self, *args, **kwargs)

    monkeypatch.setattr(Compositor, "render_partial_update", recorded)
    monkeypatch.setattr(Compositor, "render_full_update", recorded_full)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await _held_still(pilot, app, 0.2)
        # the bars mounted (a second after the first frame): a mount lays out the screen
        bars = (SymbolPicker, PromptBar)
        assert await wait_for(pilot, lambda: all(any(b.is_mounted for b in app.query(kind)) for kind in bars))
        await pilot.pause(0.2)
        for key, kind in (("slash", SymbolPicker), ("g", PromptBar)):
            painted.clear()
            await pilot.press(key)
            assert await wait_for(
                pilot, lambda kind=kind: any(b.is_open and b.region for b in app.query(kind))
            )
            bar = app.query_one(kind)
            covered = bar.region
            await pilot.pause(0.2)
            await pilot.press("escape")
            assert await wait_for(pilot, lambda bar=bar: not bar.is_open)
            await pilot.pause(0.2)
            assert painted and Region.from_union(painted) == covered


async def test_what_the_open_command_bar_covers_is_not_drawn_and_the_screen_is_the_same(monkeypatch):
    # To update a part of the screen Textual asks every widget overlapping it for its lines, then keeps
    # the front-most one's cells: the footer's keys, the panes and the desk's grid under the open bar
    # were drawn at its opening (about a third of the opening's drawing) and dropped.
    from textual._compositor import Compositor
    from textual.widgets._footer import FooterKey

    drawn = _spy(monkeypatch, FooterKey, "render_lines")
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await _held_still(pilot, app)
        await pilot.press("slash")
        picker = app.query_one(SymbolPicker)
        assert await wait_for(pilot, lambda: picker.is_open and picker.region)
        await pilot.pause(0.1)
        compositor = app.screen._compositor
        drawn.clear()
        screen = [list(strip) for strip in compositor.render_strips()]  # every cell, with its style
        assert drawn == []  # the footer lies whole under the bar
        monkeypatch.setattr(Compositor, "_get_renders", Compositor._get_renders.__wrapped__)  # Textual's
        assert [list(strip) for strip in compositor.render_strips()] == screen
        assert drawn  # Textual's own drew the footer's keys, for no cell


@pytest.mark.parametrize(("size", "layout"), [((160, 45), None), ((80, 24), None), ((160, 45), "heatmap")])
async def test_the_desk_s_grid_and_screen_under_the_panes_are_not_drawn_and_the_screen_is_the_same(
    size, layout, monkeypatch
):
    # A frame spanning the desk (a symbol switch, most render ticks) drew the panes' grid container
    # and the screen itself, whose every cell the panes, the header, the strip and the footer cover.
    from textual._compositor import Compositor
    from textual.containers import Container

    from liqtui.ui.app import DeskScreen

    drawn: list = []
    for kind in (Container, DeskScreen):
        _spy(monkeypatch, kind, "render_lines", lambda self, crop: type(self), into=drawn)
    app = make_app(layout=layout)
    async with app.run_test(size=size) as pilot:
        await _held_still(pilot, app)
        compositor = app.screen._compositor
        drawn.clear()
        screen = [list(strip) for strip in compositor.render_strips()]  # every cell, with its style
        assert drawn == []
        monkeypatch.setattr(Compositor, "_get_renders", Compositor._get_renders.__wrapped__)  # Textual's
        assert [list(strip) for strip in compositor.render_strips()] == screen
        assert DeskScreen in drawn  # Textual's own drew the screen, for no cell


@pytest.mark.parametrize(("size", "heatmap"), [((160, 45), False), ((80, 24), False), ((160, 45), True)])
async def test_a_widget_no_part_of_an_update_touches_is_not_drawn_and_the_update_is_the_same(
    size, heatmap, monkeypatch
):
    # Textual crops a partial update to the one rectangle around its parts: a frame changing the
    # header (the top rows) and the ladder (on the left) spans the screen, and every other pane, the
    # strip and the footer were drawn and cut for it, though none of their cells is written.
    from textual._compositor import Compositor

    from liqtui.ui.widgets.line_pane import LinePane

    drawn: list = []
    _spy(monkeypatch, LinePane, "render_lines", lambda self, crop: self.id, into=drawn)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await _held_still(pilot, app)
        if heatmap:  # in the ladder's place
            await pilot.press("h")
            assert await wait_for(pilot, lambda: app.on_screen("heatmap"))
            await pilot.pause(0.1)
        compositor = app.screen._compositor
        desk = app._desk_screen()
        assert desk is not None and desk.header is not None
        changed = [desk.header, *(p for p in app.visible_panes() if p.id in ("ladder", "heatmap"))]
        assert len(changed) == 2
        parts = {compositor.visible_widgets[w][0] for w in changed}
        others = {p.id for p in app.visible_panes()} - {w.id for w in changed}
        assert others  # the tape, the totals... lie inside the rectangle around the parts, outside them

        def update() -> dict[tuple[int, int], tuple[str, object]]:
            """Each cell the update writes to the terminal, with its style."""
            for widget in changed:
                widget.refresh()  # every line of theirs drawn again
            compositor._dirty_regions.clear()
            compositor._dirty_regions.update(parts)
            chops = compositor.render_update()
            assert chops is not None
            cells, x, y = {}, 0, 0
            for segment in chops.__rich_console__(app.console, app.console.options):
                if segment.control:
                    (_kind, x, y), *_ = segment.control  # a cursor move (Textual's only control here)
                elif segment.text != "\n":
                    for char in segment.text:
                        cells[x, y] = (char, segment.style)
                        x += 1
            return cells

        drawn.clear()
        ours = update()
        assert set(drawn) == {changed[1].id}  # of the panes, the one that changed
        monkeypatch.setattr(  # Textual's own
            Compositor, "render_partial_update", Compositor.render_partial_update.__wrapped__
        )
        drawn.clear()
        assert update() == ours
        assert others <= set(drawn)  # Textual's drew them, for no cell written


async def test_the_ladder_s_rows_drawn_before_are_not_styled_again_and_look_as_textual_styles_them(
    monkeypatch,
):
    # Textual styles each line of a widget again at every refresh of it (its border cells, its
    # background, ~0.1 ms a line); a symbol switch redraws the ladder's 43 lines, most of them rows it
    # drew on an earlier visit and keeps (its LRU by what a row shows).
    from textual._styles_cache import StylesCache
    from textual.geometry import Region

    from liqtui.ui.widgets import LadderPane

    styled = _spy(monkeypatch, StylesCache, "render_line", lambda self, styles, y, *rest: y)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await _held_still(pilot, app)
        ladder = app.query_one(LadderPane)
        whole = Region(0, 0, *ladder.size)

        def lines(styles_cache=None) -> list[list]:  # every line drawn again, as at a symbol switch
            return _every_cell(ladder, whole, monkeypatch, styles_cache)

        for theme in ("textual-light", app.theme):
            app.theme = theme
            await pilot.pause(0.1)
            lines()  # drawn once at this theme
            styled.clear()
            ours = lines()
            assert len(styled) <= 3  # the borders and the column header, made anew at each draw
            kept = ladder._styles_cache
            assert ours == lines(StylesCache())  # Textual's own styling, every line
            assert len(styled) >= ladder.size.height
            monkeypatch.setattr(ladder, "_styles_cache", kept)


@pytest.mark.parametrize("pane_id", ["tape", "totals", "risk", "oi", "share", "cross"])
async def test_a_pane_s_lines_that_show_the_same_again_are_not_built_nor_styled_again(pane_id, monkeypatch):
    # At stress every render tick redrew the tape's every line (its entries move down a line) and
    # Textual styled each again (its border cells, its background: ~50-100 us a line); a line that
    # shows the same as one drawn before is now that line's strip and styled line again.
    from textual._styles_cache import StylesCache
    from textual.geometry import Region

    from liqtui.ui.widgets.line_pane import LinePane

    styled = _spy(monkeypatch, StylesCache, "render_line", lambda self, styles, y, *rest: y)
    built = _spy(monkeypatch, LinePane, "to_strip", lambda self, parts, width: self.id)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await _held_still(pilot, app)
        pane = app.query_one(f"#{pane_id}", LinePane)
        whole = Region(0, 0, *pane.size)

        def lines(styles_cache=None) -> list[list]:
            pane._strips = None  # drawn again from its slice, as at a change of it
            return _every_cell(pane, whole, monkeypatch, styles_cache)

        for theme in ("textual-light", app.theme):
            app.theme = theme
            await pilot.pause(0.1)
            lines()  # drawn once at this theme
            styled.clear()
            built.clear()
            ours = lines()
            assert built == [] and len(styled) <= 2  # the borders, made anew at each draw
            kept = pane._styles_cache
            assert ours == lines(StylesCache())  # Textual's own styling, every line
            assert len(styled) >= pane.size.height - 2
            monkeypatch.setattr(pane, "_styles_cache", kept)


@pytest.mark.parametrize("key", ["right_square_bracket", "picker"])
async def test_a_symbol_switch_hands_the_header_and_the_ladder_to_the_screen_with_the_key(key, monkeypatch):
    # A widget's refresh reaches the screen in two hops of Textual's messages (the widget's idle,
    # then the screen's queue). Closing the picker lays out the screen, which resumed its frame timer
    # meanwhile: the header's new symbol missed that frame in 8 of 30 `/` Enters and came a frame
    # later. The key's change is now in the screen's queue before the key's handler returns.
    from textual import messages

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.last_view is not None)
        if key == "picker":
            await pilot.press("slash")
            picker = app.query_one(SymbolPicker)
            assert await wait_for(pilot, lambda: picker.is_open)
        desk = app._desk_screen()
        assert desk is not None and desk.header is not None
        posted = []
        post_message = desk.post_message
        monkeypatch.setattr(
            desk, "post_message", lambda message: posted.append(message) or post_message(message)
        )
        before = app.symbol
        if key == "picker":
            picker.answer(next(s for s in app.watchlist if s != before))  # Enter on a match
        else:
            app.action_step_symbol(1)
        assert app.symbol != before
        updated = {m.widget for m in posted if isinstance(m, messages.Update)}
        assert {desk.header, app.query_one("#ladder")} <= updated


async def test_the_picker_opens_on_the_list_it_holds_and_builds_it_again_only_when_it_changed(monkeypatch):
    # Each opening built the list of matches twice (once for the empty query, once more for the
    # search's Changed as it was cleared), each time new options whose lines were drawn again. Now
    # the list goes back to the empty query's matches once the bar closed, off the key's frame, and
    # an opening on the same markets finds it there.
    from textual.widgets import OptionList

    built = _spy(monkeypatch, OptionList, "set_options", lambda self, options: self.id)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        await pilot.press("slash", "s", "o", "l", "enter")
        assert await wait_for(pilot, lambda: app.symbol == "SOL/USDT:USDT")
        await pilot.pause(0.2)  # the list back to the empty query's matches
        built.clear()
        await pilot.press("slash")
        picker = app.query_one(SymbolPicker)
        assert await wait_for(pilot, lambda: picker.is_open)
        await pilot.pause(0.2)
        assert built == []
        options = app.query_one("#picker-list", OptionList)
        assert [options.get_option_at_index(i).id for i in range(3)] == [
            "BTC/USDT:USDT",
            "ETH/USDT:USDT",
            "SOL/USDT:USDT",
        ]  # the watchlist first, the empty query's order
        assert options.highlighted == 0 and app.query_one("#picker-input").value == ""
        await pilot.press("e", "t", "h")  # a query builds its matches, at most once a keystroke
        assert await wait_for(pilot, lambda: options.option_count == 1)
        assert options.get_option_at_index(0).id == "ETH/USDT:USDT"
        assert 1 <= len(built) <= 3


@pytest.mark.parametrize(("given", "expected"), [(None, "120"), ("30", "30")])
def test_the_desk_draws_at_120_frames_a_second_unless_the_user_set_it(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    if given is not None:
        env["TEXTUAL_FPS"] = given
    probe = "import liqtui.ui.app, textual.constants as c; print(c.MAX_FPS)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_the_bench_probe_leaves_the_desk_its_frame_clock(tmp_path):
    """bench_desk.py's loop probe (a sitecustomize) wrapped Textual's App at the interpreter's start:
    Textual then read TEXTUAL_FPS before the desk set it, and the measured desk drew at 60 a second."""
    probe_dir = Path(__file__).resolve().parents[2] / "bench" / "probe"
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(probe_dir), env.get("PYTHONPATH"))))
    env["LIQTUI_BENCH_PROBE"] = str(tmp_path / "lags.txt")
    probe = "import liqtui.ui.app, textual.app, textual.constants as c; print(c.MAX_FPS)"
    probe += "; print(textual.app.App.run_async.__name__)"  # the probe is in: its wrapper runs the app
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["120", "probed_run_async"]


_PLOTEXT_PROBE = """
import asyncio, dataclasses, sys
sys.path.insert(0, {here!r})
from desk_fakes import FakeEngine
from desk_helpers import make_app, wait_for
from liqtui.ui.widgets.risk_chart import PLOT_GLYPHS

class Levels(FakeEngine):
    shown = False
    def view(self, symbol, now_ms, **kwargs):
        view = super().view(symbol, now_ms, **kwargs)
        return view if self.shown else dataclasses.replace(view, levels=dataclasses.replace(view.levels, rows=()))

async def main():
    app = make_app(mode="LIVE")
    app.engine = engine = Levels()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        await pilot.pause(0.3)
        print("no levels yet, plotext imported:", "plotext" in sys.modules)
        engine.shown = True
        app.render_tick()
        chart = lambda: any(c in strip.text for strip in app.query_one("#risk")._strips for c in PLOT_GLYPHS)
        print("levels, chart drawn:", await wait_for(pilot, chart, timeout=20))

asyncio.run(main())
"""


def test_plotext_is_imported_once_there_is_a_chart_to_draw_and_the_chart_draws_then():
    # Imported at the chart pane's mount, plotext (~0.13 s of CPU, in a thread) held the interpreter
    # while a live desk started and applied its recording: the history was that much later.
    probe = _PLOTEXT_PROBE.format(here=str(Path(__file__).parent))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == [
        "no levels yet, plotext imported: False",
        "levels, chart drawn: True",
    ], out.stderr[-2000:]


async def _picker_on(pilot, app: LiqtuiApp, typed: str) -> SymbolPicker:
    """The picker open with ``typed`` in its search, and the frames after it drawn."""
    await pilot.press("slash")
    picker = app.query_one(SymbolPicker)
    assert await wait_for(pilot, lambda: picker.is_open)
    await pilot.press(*typed)
    assert await wait_for(pilot, lambda: app.query_one("#picker-input").value == typed)
    await pilot.pause(0.1)
    return picker


async def test_the_picker_s_enter_shows_the_view_and_ladder_built_while_it_was_open():
    # `/` Enter built the picked symbol's view (~4 ms at busy, 160x45) and its ladder's rows and heat
    # (~2-3 ms) in the key's frame, the one key over 50 ms at p95 as launched: they are built while the
    # picker is open, after a frame, for the symbol it highlights, and Enter shows them.
    from liqtui.ui.widgets.ladder import LadderPane, build_ladder

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        picker = await _picker_on(pilot, app, "eth")
        assert picker.candidate == "ETH/USDT:USDT"
        assert await wait_for(pilot, lambda: app._prepared is not None)
        prepared = app._prepared[1]
        assert prepared.symbol == "ETH/USDT:USDT" and prepared.now >= app.last_view.now
        built = len(app.engine.calls)
        picker.submitted("eth")  # what Enter runs, here without a turn of the loop after it
        ladder = app.query_one(LadderPane)
        assert app.symbol == "ETH/USDT:USDT" and app.last_view is prepared and ladder._view is prepared
        assert len(app.engine.calls) == built  # no view built in the key's frame
        assert ladder._ladder == build_ladder(prepared, padding=max(20, ladder.size.height))
        assert app._prepared is None and ladder._prepared is None


async def test_after_a_step_along_the_watchlist_the_next_one_that_way_is_built_before_its_key():
    # `]` built the next symbol's view (~4 ms at busy, 160x45) and its ladder's rows and heat (~2-3 ms)
    # in the key's frame: after a step, the next symbol the same way is built after the frame (and
    # after each render tick), as the picker's match is, and the next press shows it.
    from liqtui.ui.widgets.ladder import LadderPane, build_ladder

    app = make_app()  # watchlist BTC, ETH, SOL
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        assert app._prepared is None  # nothing stepped yet: nothing built ahead
        await pilot.press("right_square_bracket")
        assert app.symbol == "ETH/USDT:USDT"
        assert await wait_for(pilot, lambda: app._prepared is not None)
        prepared = app._prepared[1]
        assert prepared.symbol == "SOL/USDT:USDT" and prepared.now >= app.last_view.now
        built = len(app.engine.calls)
        app.action_step_symbol(1)  # what `]` runs, here without a turn of the loop after it
        ladder = app.query_one(LadderPane)
        assert app.symbol == "SOL/USDT:USDT" and app.last_view is prepared and ladder._view is prepared
        assert len(app.engine.calls) == built  # no view built in the key's frame
        assert ladder._ladder == build_ladder(prepared, padding=max(20, ladder.size.height))
        await pilot.press("left_square_bracket")  # the other way: the one before
        assert await wait_for(pilot, lambda: app._prepared is not None and app.symbol == "ETH/USDT:USDT")
        assert app._prepared[1].symbol == "BTC/USDT:USDT"


async def test_what_a_step_built_ahead_is_dropped_once_no_step_came_for_a_while(monkeypatch):
    import liqtui.ui.app as desk_app

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        await pilot.press("right_square_bracket")
        assert await wait_for(pilot, lambda: app._prepared is not None)
        monkeypatch.setattr(desk_app, "STEP_PREPARED_S", 0.0)
        app._timer_tick()  # a render tick: nothing built ahead any more, the ladder's rows dropped too
        assert await wait_for(pilot, lambda: app.query_one("#ladder")._prepared is None)
        assert app._prepared is None and app._stepped is None
        built = len(app.engine.calls)
        app._timer_tick()
        await pilot.pause(0.1)
        assert app._prepared is None  # and the ticks built the shown symbol's view only
        assert {call["symbol"] for call in app.engine.calls[built:]} == {app.symbol}


async def test_a_render_tick_while_the_open_picker_s_widgets_are_being_removed_raises_nothing():
    # The render tick asks the open picker for its match (the symbol to build ahead): at the desk's
    # exit the picker's list goes before the tick's timer, and the tick raised NoMatches.
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        picker = await _picker_on(pilot, app, "eth")
        await picker.query_one("#picker-list").remove()
        assert picker.is_open and picker.candidate is None
        app._timer_tick()
        await pilot.pause(0.1)


async def test_a_view_prepared_before_the_last_frame_is_not_shown():
    # The header's clock never goes back: a view prepared before a newer frame is built again.
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        picker = await _picker_on(pilot, app, "eth")
        assert await wait_for(pilot, lambda: app._prepared is not None)
        prepared = app._prepared[1]
        app.source.now += 1_000
        app.render_tick()  # a frame of the symbol shown, newer than what was prepared
        picker.submitted("eth")
        assert app.last_view is not prepared and app.last_view.now == app.source.now
        assert app.last_view.symbol == "ETH/USDT:USDT"


async def test_nothing_is_prepared_for_a_tape_of_one_symbol_and_escape_drops_what_was():
    # The tape of this symbol only: a candidate's view would fold the engine's tape again for it.
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        await _picker_on(pilot, app, "eth")
        assert await wait_for(pilot, lambda: app._prepared is not None)
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: not app.query_one(SymbolPicker).is_open)
        assert app._prepared is None and app.query_one("#ladder")._prepared is None
        await pilot.press("c")  # the tape: this symbol only
        await _picker_on(pilot, app, "sol")
        app._timer_tick()
        await pilot.pause(0.1)
        assert app._prepared is None


async def test_a_bar_s_close_does_not_restyle_its_hidden_input_and_its_opening_does(monkeypatch):
    # Textual restyles a widget at each move of its focus: the hidden input's restyle was ~1.5 ms of
    # each close of the picker (its Enter included) and of each prompt.
    from liqtui.ui.widgets.command_bar import BarInput

    restyled = _spy(monkeypatch, BarInput, "update_node_styles", lambda self, *_: self.id)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: app.last_view is not None)
        picker = await _picker_on(pilot, app, "eth")
        restyled.clear()
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: not picker.is_open)
        await pilot.pause(0.1)
        assert restyled == []
        await pilot.press("slash")
        assert await wait_for(pilot, lambda: picker.is_open)
        await pilot.pause(0.1)
        assert "picker-input" in restyled and app.query_one("#picker-input").has_focus
