"""The flash line: a key's short answer over the footer, on screen with the key's own frame (a toast's
mount waited for an idle loop), cleared after a few seconds; warnings and errors stay toasts.

No test here waits for the line to clear: its timer is stopped (``Flash.clear`` replaced) and the
clear is called by the test, so a slow machine cannot race it."""

from __future__ import annotations

import pytest

from liqtui.config import Settings, UISettings
from liqtui.ui.screens import HelpScreen
from liqtui.ui.widgets.flash import Flash

from desk_helpers import flashed, make_app, notifications, screen_lines, wait_for

REALIZED_4H = ("Realized 4h", "LONG ≥$30.0M", "SHORT ≥$4.0M")  # the fake's total row (Binance, OKX sampled)


@pytest.fixture
def held(monkeypatch):
    """The flash line stays until the test clears it; returns the real clear."""
    clear = Flash.clear
    monkeypatch.setattr(Flash, "clear", lambda self: None)
    return clear


async def _ready(pilot) -> None:
    app = pilot.app
    assert await wait_for(pilot, lambda: app.last_view is not None and app.visible_panes())
    await pilot.pause()


def _bottom(app, rows: int) -> str:
    """The last ``rows`` rows of the screen as one line, the wrap's breaks read as spaces."""
    return " ".join(" ".join(line.split()) for line in screen_lines(app)[-rows:])


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_w_without_a_totals_pane_says_the_numbers_on_the_footers_row_not_in_a_toast(size, held):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await _ready(pilot)
        assert "? help" in _bottom(app, 1)  # the footer's keys
        before = len(notifications(app))
        await pilot.press("w")
        flash = app.query_one(Flash)
        assert await wait_for(pilot, lambda: flash.region.height > 0)
        await pilot.pause()
        shown = _bottom(app, flash.region.height)
        assert shown.startswith("▸ Realized 4h") and all(words in shown for words in REALIZED_4H), shown
        assert flash.region.bottom == size[1]  # over the footer: no pane lost a row to it
        assert notifications(app)[before:] == [] and flashed(app) == [flash.message]
        held(flash)
        assert await wait_for(pilot, lambda: "? help" in _bottom(app, 1))  # the footer's keys are back
        assert "Realized" not in " ".join(screen_lines(app))


async def test_f_at_80x24_says_follow_on_the_flash_line_as_the_ladder_draws_no_subtitle_there(held):
    # The compact layout draws a title line only (no bottom border, so no subtitle): the ladder's
    # "scroll (home: follow)" is not on screen, and `f` said nothing at all.
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("f")
        flash = app.query_one(Flash)
        assert await wait_for(pilot, lambda: flash.region.height > 0)
        assert flash.message == "Ladder follow off" and "Ladder follow off" in _bottom(app, 1)
        await pilot.press("f")
        await pilot.pause()
        assert flash.message == "Ladder follow on"


async def test_a_newer_answer_replaces_the_line_and_two_in_one_frame_read_together(held):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("t")
        await pilot.pause()
        flash = app.query_one(Flash)
        assert flash.message == f"Theme: {app.theme}"
        await pilot.press("w")
        await pilot.pause()
        assert flash.message.startswith("Realized 4h") and "Theme" not in flash.message
        await pilot.press("p", "w")  # paused: the panes wait, the numbers do not
        await pilot.pause()
        paused = "Display paused: the change shows when you resume (p). · Realized 12h"
        assert flash.message.startswith(paused), flash.message


async def test_a_click_on_the_line_clears_it_and_gives_the_footer_back():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("t")
        flash = app.query_one(Flash)
        assert await wait_for(pilot, lambda: flash.region.height > 0)
        assert await pilot.click(Flash)
        assert await wait_for(pilot, lambda: "? help" in _bottom(app, 1))
        assert not flash.display and flash.message == ""


async def test_under_a_modal_screen_the_answer_is_a_toast():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("question_mark")
        assert await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        app.flash("Theme: light", 2)  # the desk's line is beneath the help
        assert await wait_for(pilot, lambda: "Theme: light" in notifications(app))
        assert flashed(app) == []


async def test_warnings_and_errors_stay_toasts():
    app = make_app(settings=Settings(ui=UISettings(layout="sideways")))  # a warning at start
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        app.report_once("tick", "The display could not be updated: boom")
        assert await wait_for(pilot, lambda: any("boom" in n for n in notifications(app)))
        assert any("layout 'sideways'" in n for n in notifications(app)) and flashed(app) == []


async def test_a_new_answer_of_the_same_height_asks_for_no_layout_of_the_screen(held, monkeypatch):
    # Showing the line lays the screen out once (a display change); an answer that keeps its height
    # only repaints it (each `w` at 80x24 is one).
    from textual.screen import Screen

    laid_out = []
    refresh_layout = Screen._refresh_layout

    def counted(self, *args, **kwargs):  # the widgets that asked for this layout
        laid_out.extend(type(w).__name__ for asked in self._layout_widgets.values() for w in asked)
        return refresh_layout(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("w")
        flash = app.query_one(Flash)
        assert await wait_for(pilot, lambda: flash.region.height > 0)
        assert "Flash" in laid_out
        height = flash.region.height
        laid_out.clear()
        await pilot.press("w")
        assert await wait_for(pilot, lambda: "Realized 12h" in _bottom(app, height))
        assert flash.region.height == height and "Flash" not in laid_out
