"""Every key of the desk, driven with Textual's pilot on the test doubles."""

from __future__ import annotations

import re

import pytest
from frozen import frozen_app

from liqtui.domain.events import FeedState, FeedStatus
from liqtui.ui.screens import HelpScreen
from liqtui.ui.widgets import PromptBar, SymbolPicker

from desk_helpers import flashed, make_app, notifications, screen_lines, wait_for

SIZE = (160, 45)


async def _ready(pilot):
    await pilot.pause()
    await pilot.pause()


def _shown(app, pattern: str) -> str | None:
    """The first group of ``pattern`` as the desk shows it now (None when it is not on screen)."""
    found = re.search(pattern, "\n".join(screen_lines(app)))
    return found.group(1) if found else None


def _asking(app, kind) -> bool:
    """The command bar ``kind`` (the symbol picker, the prompt) is open on the desk's screen."""
    return any(bar.is_open for bar in app.query(kind))


def _window_shown(app) -> str | None:
    return _shown(app, r"Realized liquidations · (\S+)")


def _step_shown(app) -> str | None:
    return _shown(app, r"step ([\d,.]+)")


async def test_slash_opens_the_picker_and_a_fuzzy_match_switches_symbol():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("slash")
        assert _asking(app, SymbolPicker)
        await pilot.press("s", "o", "l", "enter")
        await _ready(pilot)
        assert app.symbol == "SOL/USDT:USDT"
        assert app.source.focus[-1] == "SOL/USDT:USDT"
        assert "SOL/USDT perp" in app.query_one("#header").text
        assert float(_shown(app, r"▶([\d,.]+)◀")) == 118.42  # the ladder centres on SOL's price


async def test_a_symbol_set_before_the_desk_runs_is_where_it_opens_and_the_feeds_hear_it_once():
    app = make_app()
    app.symbol = "ETH/USDT:USDT"  # as a script may, before running the app
    assert app.source.focus == [] and app.last_view is None  # nothing moves before the desk runs
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert app.source.focus == ["ETH/USDT:USDT"]
        assert "ETH/USDT perp" in app.query_one("#header").text


async def test_ctrl_p_opens_the_picker_and_escape_changes_nothing():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("ctrl+p")
        assert _asking(app, SymbolPicker)
        await pilot.press("x", "r", "p", "escape")
        await _ready(pilot)
        assert not _asking(app, SymbolPicker)
        assert app.symbol == "BTC/USDT:USDT"


async def test_a_question_answered_twice_in_one_read_closes_once_and_the_desk_lives():
    # Enter and Escape in one read queue two answers (the picker's Submitted, then its cancel): as a
    # modal screen, the second found the picker gone and popped the desk's own screen
    # (ScreenStackError, seen at stress). The command bar takes the first answer only.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        desk = app.screen
        await pilot.press("slash", "s", "o", "l")
        picker = app.query_one(SymbolPicker)
        assert picker.is_open
        picker.answer("SOL/USDT:USDT")
        picker.action_cancel()
        await _ready(pilot)
        assert app.screen is desk and app.symbol == "SOL/USDT:USDT" and not picker.is_open
        await pilot.press("g")
        prompt = app.query_one(PromptBar)
        assert prompt.is_open
        prompt.action_cancel()
        prompt.action_cancel()
        await _ready(pilot)
        assert app.screen is desk and app.is_running and not prompt.is_open
        await pilot.press("slash", "e", "t", "h", "enter", "escape")  # the real keys, one after the other
        await _ready(pilot)
        assert app.screen is desk and app.is_running and not picker.is_open


async def test_the_command_bar_gives_the_focus_back_and_keys_reach_the_desk_again():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        before = app.focused
        await pilot.press("slash")
        assert app.focused is app.query_one("#picker-input")  # typed keys go to the search
        await pilot.press("escape")
        await _ready(pilot)
        assert app.focused is before
        await pilot.press("right_square_bracket")  # a desk key again, not a character in the bar
        assert app.symbol == "ETH/USDT:USDT"


@pytest.mark.parametrize(("key", "kind"), [("slash", SymbolPicker), ("g", PromptBar)])
async def test_a_click_on_a_pane_closes_the_open_bar_as_cancelled_and_escape_is_not_lost(key, kind):
    # A click that took the focus off the open bar (onto the ladder) left the bar over the footer,
    # and Escape, sent to the ladder, no longer reached it: the trader was stuck with the bar.
    app = make_app()
    answers = []
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press(key)
        bar = app.query_one(kind)
        ask = bar._on_answer
        bar._on_answer = lambda result: (answers.append(result), ask(result))
        await pilot.press("x")
        assert await pilot.click("#ladder")
        await _ready(pilot)
        assert not _asking(app, kind) and answers == [None]  # cancelled, once
        assert app.focused is app.query_one("#ladder")  # the focus stays where the trader clicked
        await pilot.press("escape", "right_square_bracket")  # desk keys again, not the bar's
        await _ready(pilot)
        assert not _asking(app, kind) and answers == [None] and app.symbol == "ETH/USDT:USDT"


async def test_the_terminal_losing_the_focus_keeps_the_bar_open_and_typing_goes_on():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("slash", "s")
        app.app_focus = False  # the terminal's window lost the focus: Textual takes it off every widget
        await _ready(pilot)
        assert app.focused is None and _asking(app, SymbolPicker)
        app.app_focus = True
        await _ready(pilot)
        await pilot.press("o", "l", "enter")
        await _ready(pilot)
        assert not _asking(app, SymbolPicker) and app.symbol == "SOL/USDT:USDT"


async def test_a_click_inside_the_picker_off_the_matches_keeps_it_open_and_enter_picks_the_match():
    # The list of matches takes no focus (a click on a match picks it, below): a click elsewhere in
    # the picker leaves the focus in the search, where typing goes on.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("slash", "s", "o")
        assert await pilot.click("#picker-count", offset=(2, 0))  # "N of M markets"
        await _ready(pilot)
        assert _asking(app, SymbolPicker) and app.focused is app.query_one("#picker-input")
        await pilot.press("l", "enter")
        await _ready(pilot)
        assert not _asking(app, SymbolPicker) and app.symbol == "SOL/USDT:USDT"


async def test_a_question_longer_than_the_bar_shows_its_end_where_the_cursor_is():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot)
        await pilot.press("slash", *"x" * 100, "s", "o", "l")
        await _ready(pilot)
        assert app.query_one("#picker-input").value.endswith("xsol")
        assert "xxxsol" in screen_lines(app)[-2]  # the input's line, scrolled to its end


async def test_one_question_at_a_time_and_none_under_a_modal_screen():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("ctrl+p", "g")  # `g` is typed into the search
        assert _asking(app, SymbolPicker) and app.query_one("#picker-input").value == "g"
        await pilot.press("escape", "g", "ctrl+p")  # ctrl+p over the prompt: the picker instead
        assert _asking(app, SymbolPicker) and not _asking(app, PromptBar)
        await pilot.press("escape", "question_mark", "slash")  # under help, the desk asks nothing
        await _ready(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert not any(bar.is_open for bar in app.screen_stack[0].query("CommandBar"))


# Tab steps as down does: the list takes no focus (a click picks), so Tab left the bar and closed it.
@pytest.mark.parametrize("keys", [("down",), ("tab", "tab", "shift+tab")], ids=["down", "tab"])
async def test_picker_keys_step_among_matches_and_keep_it_open(keys):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("slash")
        await pilot.pause()
        # no query: the watchlist comes first, in order
        await pilot.press(*keys)
        await pilot.pause()
        assert _asking(app, SymbolPicker)
        await pilot.press("enter")
        await _ready(pilot)
        assert app.symbol == "ETH/USDT:USDT"


async def test_a_symbol_only_one_venue_lists_works():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("slash", "p", "e", "p", "e", "enter")
        await _ready(pilot)
        assert app.symbol == "PEPE/USDT:USDT"
        view = app.last_view
        assert view is not None and view.symbol == "PEPE/USDT:USDT"
        assert [v.venue for v in view.market.venues] == ["bybit"]
        header = app.query_one("#header").text
        assert "PEPE/USDT perp" in header
        assert not [n for n in notifications(app) if "failed" in n]


async def test_brackets_step_through_the_watchlist_and_wrap():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("right_square_bracket")
        assert app.symbol == "ETH/USDT:USDT"
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert app.symbol == "BTC/USDT:USDT"
        await pilot.press("left_square_bracket")
        assert app.symbol == "SOL/USDT:USDT"
        # the feeds are told every step, from the first symbol on
        assert app.source.focus == [
            "BTC/USDT:USDT",
            "ETH/USDT:USDT",
            "SOL/USDT:USDT",
            "BTC/USDT:USDT",
            "SOL/USDT:USDT",
        ]


async def test_number_keys_jump_to_watchlist_entries():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("3")
        assert app.symbol == "SOL/USDT:USDT"
        await pilot.press("1")
        assert app.symbol == "BTC/USDT:USDT"
        await pilot.press("9")  # the watchlist has three entries
        await pilot.pause()
        assert app.symbol == "BTC/USDT:USDT"
        assert any("watchlist has 3" in n for n in flashed(app))


async def test_w_cycles_the_totals_window_through_every_window():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert _window_shown(app) == "1h"
        seen = []
        for _ in range(6):
            await pilot.press("w")
            await pilot.pause()
            seen.append(_window_shown(app))
        assert seen == ["4h", "12h", "24h", "1m", "5m", "1h"]


async def test_w_names_the_new_window_on_the_totals_pane_at_once_and_no_toast_repeats_it():
    app = make_app(raw={"ui": {"render_hz": 0.2}})  # no render tick between the key and the check
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        before = len(notifications(app))
        await pilot.press("w")
        assert "Realized liquidations · 4h" in app.query_one("#totals").border_title  # the key's frame
        await _ready(pilot)
        assert _window_shown(app) == "4h"
        assert notifications(app)[before:] == [] and flashed(app) == []


@pytest.mark.parametrize(
    ("key", "words"),
    [("f", "scroll (home: follow)"), ("c", "Liquidations · BTC ")],
)
async def test_a_key_whose_pane_says_the_change_needs_no_toast(key, words):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        before = len(notifications(app))
        await pilot.press(key)
        await _ready(pilot)
        assert words in " ".join(screen_lines(app))
        assert notifications(app)[before:] == [] and flashed(app) == []


async def test_plus_and_minus_zoom_the_ladder_step_on_a_1_2_5_scale():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert _step_shown(app) == "50"
        seen = []
        for key in ("plus", "plus", "minus", "minus", "minus"):
            await pilot.press(key)
            await pilot.pause()
            seen.append(_step_shown(app))
        assert seen == ["20", "10", "20", "50", "100"]
        # a new symbol starts again from the engine's default step (ETH 2,750.3: 2.7503 in the fake)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert _step_shown(app) == "2.7503"


async def test_f_toggles_ladder_follow():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        ladder = app.query_one("#ladder")
        before = ladder.follow
        await pilot.press("f")
        assert ladder.follow is (not before)
        await pilot.press("f")
        assert ladder.follow is before


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("92000", 92000.0),
        ("92k", 92000.0),
        ("92,000", 92000.0),
        ("+10%", 82800.0 * 1.1),
        ("-5 %", 82800 * 0.95),
    ],
)
async def test_g_sets_the_at_risk_target(typed, expected):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("g")
        assert _asking(app, PromptBar)
        await pilot.press(*typed.replace(" ", ""), "enter")
        await _ready(pilot)
        assert app.query_one("#risk").target == pytest.approx(expected)


async def test_g_with_a_typo_says_so_and_keeps_asking_and_empty_clears():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        risk = app.query_one("#risk")
        risk.target = 90000.0
        await pilot.press("g", "a", "b", "c", "enter")
        await pilot.pause()
        assert _asking(app, PromptBar)
        assert "not a number" in str(app.query_one("#prompt-error").render())
        await pilot.press("backspace", "backspace", "backspace", "enter")
        await _ready(pilot)
        assert not _asking(app, PromptBar)
        assert risk.target is None


async def test_m_sets_the_tape_minimum_and_c_toggles_current_symbol_only():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        tape = app.query_one("#tape")
        await pilot.press("m", "2", "5", "0", "k", "enter")
        await _ready(pilot)
        assert tape.min_usd == 250_000.0
        before = tape.current_only
        await pilot.press("c")
        assert tape.current_only is (not before)


async def test_tape_minimum_starts_from_the_config():
    app = make_app(raw={"ui": {"tape_min_usd": 5000.0}})
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert app.query_one("#tape").min_usd == 5000.0


async def test_p_pauses_the_display_while_data_keeps_flowing():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("p")
        await _ready(pilot)
        assert app.paused
        assert "PAUSED" in app.query_one("#header").text
        before = screen_lines(app)[2:-1]  # the panes: between the header (PAUSED) and the footer
        status = FeedStatus("bybit", FeedState.LIVE, 1, last_message=1)
        app.source.queue.put_nowait(status)
        app.engine.feeds = (FeedStatus("bybit", FeedState.DOWN, 1, detail="connection refused"),)  # news
        app.window = "24h"
        for _ in range(3):
            app.render_tick()
        assert await wait_for(pilot, lambda: status in app.engine.applied)  # data reached the engine
        await pilot.pause()
        assert screen_lines(app)[2:-1] == before  # but the panes did not move
        await pilot.press("p")
        await pilot.pause()
        assert not app.paused
        assert "PAUSED" not in app.query_one("#header").text
        assert _window_shown(app) == "24h" and "Bybit down" in "\n".join(screen_lines(app))


async def test_t_cycles_the_desk_themes():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert app.theme == "dark"
        seen = []
        for _ in range(3):
            await pilot.press("t")
            seen.append(app.theme)
        assert seen == ["light", "ansi", "dark"]


async def test_question_mark_shows_every_key_and_escape_closes():
    app = make_app(raw={"ui": {"keys": {"toggle_pause": "x"}}})
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-keys").render())
        for words in (
            "symbol",
            "window",
            "theme",
            "target",
            "minimum USD",
            "follow",
            "quit",
            "watchlist 3: SOL/USDT:USDT",
        ):
            assert words in text
        assert [line.split()[0] for line in text.splitlines() if "pause the display" in line] == ["x"]
        assert "play/stop" not in text  # replay keys only in replay
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_keys_are_remappable_from_the_config():
    app = make_app(raw={"ui": {"keys": {"toggle_pause": "x", "no_such_action": "y"}}})
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("p")
        assert not app.paused
        await pilot.press("x")
        assert app.paused
        assert any("unknown action no_such_action" in n for n in notifications(app))


async def test_replay_keys_pause_change_speed_and_seek():
    app = make_app(mode="REPLAY")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        source = app.source
        start = source.now
        await pilot.press("space")
        assert source.paused
        assert "(stopped)" in app.query_one("#header").text
        await pilot.press("space")
        assert not source.paused
        await pilot.press("greater_than_sign")
        assert source.speed == 2.0
        await pilot.press("less_than_sign", "less_than_sign")
        assert source.speed == 0.5
        await pilot.press("comma")
        assert source.seeks[-1] == start - 60_000
        await pilot.press("full_stop", "full_stop")
        assert source.seeks[-1] == start + 60_000
        header = app.query_one("#header").text
        assert "REPLAY" in header and "x0.5" in header and "2026-01-31" in header


async def test_replay_seeks_ten_minutes_with_the_arrows_and_an_hour_with_shift():
    app = make_app(mode="REPLAY")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        source = app.source
        start = source.now
        await pilot.press("right")
        assert source.seeks[-1] == start + 600_000
        await pilot.press("shift+right")
        assert source.seeks[-1] == start + 4_200_000
        await pilot.press("shift+left", "left", "left")
        assert source.seeks[-1] == start - 600_000
        footer = app.screen.query_one("Footer")
        assert "←/→" in "".join(str(key.render()) for key in footer.query("FooterKey"))
        await pilot.press("question_mark")
        text = str(app.screen.query_one("#help-keys").render())
        for words in ("back one minute", "ahead ten minutes", "back one hour", "shift+→"):
            assert words in text


async def test_replay_keys_do_nothing_outside_replay():
    app = make_app(mode="DEMO")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("space", "greater_than_sign", "comma")
        assert not app.source.paused and app.source.speed == 1.0 and not app.source.seeks


async def test_a_typed_target_reads_on_the_real_at_risk_chart():
    app = frozen_app(theme_dir="/nonexistent-liqtui-themes")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("g", *"92000", "enter")
        await _ready(pilot)
        screen_text = app.export_screenshot().replace("&#160;", " ")
        assert "shorts at risk to 92,000" in screen_text


async def test_a_symbol_the_real_engine_has_no_data_for_shows_empty_panes_not_errors():
    app = frozen_app(theme_dir="/nonexistent-liqtui-themes")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        app.symbol = "PEPE/USDT:USDT"  # listed by one venue live; the demo has no data for it
        await _ready(pilot)
        app.render_tick()
        await _ready(pilot)
        assert app.last_view.symbol == "PEPE/USDT:USDT"
        assert "PEPE/USDT perp" in app.query_one("#header").text
        assert not [n for n in notifications(app) if "failed" in n or "could not" in n]


async def test_a_key_pressed_while_paused_says_its_change_waits():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("p", "w")
        await pilot.pause()
        assert any("Display paused" in n for n in flashed(app))
        assert _window_shown(app) == "1h"  # not yet
        await pilot.press("p")
        await pilot.pause()
        assert _window_shown(app) == "4h"


@pytest.mark.parametrize("size", [(110, 34), (80, 24), (60, 20)])
async def test_w_where_the_totals_pane_is_hidden_or_not_says_the_new_totals(size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await _ready(pilot)
        await pilot.press("w")
        await _ready(pilot)
        if "-compact" in app.screen.classes:  # no totals pane: the numbers on the flash line
            said = flashed(app)[-1]
            assert "Realized 4h" in said and "LONG ≥$30.0M" in said and "SHORT ≥$4.0M" in said, (
                said
            )  # Binance, OKX: sampled
        else:
            assert "Realized liquidations · 4h" in " ".join(screen_lines(app))


@pytest.mark.parametrize("size", [(110, 34), (80, 24)])
async def test_g_where_the_at_risk_chart_is_hidden_says_what_is_at_risk(size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await _ready(pilot)
        assert "risk" not in {p.id for p in app.visible_panes()}
        await pilot.press("g", *"83300", "enter")
        await _ready(pilot)
        said = flashed(app)[-1]
        # the fake's rows: $7M of shorts every 50 above 82,800: ten rows up to 83,300
        assert "ESTIMATED" in said and "$70.0M shorts at risk to 83,300 (+0.6 %)" in said, said


async def test_g_where_the_chart_shows_needs_no_toast():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("g", *"83300", "enter")
        await _ready(pilot)
        assert not [n for n in notifications(app) + flashed(app) if "at risk" in n]


@pytest.mark.parametrize(
    ("layout", "keys", "words"),
    [
        ("oi", ["m", "escape"], "tape"),
        ("oi", ["c"], "tape"),
        ("ladder", ["c"], "tape"),
        ("tape", ["f"], "ladder"),
        ("tape", ["plus"], "ladder"),
        ("tape", ["g", *"83300", "enter"], "at risk"),
        ("tape", ["w"], "Realized"),
    ],
)
async def test_a_key_whose_pane_is_not_in_the_layout_says_so(layout, keys, words):
    app = make_app(layout=layout)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await pilot.press(*keys)
        await _ready(pilot)
        assert not _asking(app, PromptBar)
        said = " | ".join(flashed(app))
        assert words in said, said


# What a trader cannot read unaided; each one the desk shows must be explained by `?`.
ABBREVIATIONS = [
    "imb",
    "max pain",
    "ESTIMATED",
    "≥",
    "~",
    "†",
    "!",
    "n/a",
    "no tape",
    "swept",
    "◆",
    "▶",
    "L",
    "S",
    "bid",
    "ask",
    "step",
    "follow",
    "mark",
    "24h",
    "fund",
    "OI",
    "REC",
    "DEMO",
    "BIN",
    "BYB",
    "OKX",
    "HL",
    "ALL",
    "regime",
    "so far",
    "low",
    "├",
    "●",
    "<5s",
    "stale",
    "▼",
    "▲",
    "largest",
    "x",
    "in",
]


def _glossary_terms(app) -> set[str]:
    """The term column of the help screen's glossary, split into its terms ("L  S" -> L, S)."""
    text = str(app.screen.query_one("#help-glossary").render())
    lines = [
        line for line in text.splitlines() if line.strip() and not line.startswith(" ")
    ]  # not continuations
    return {term for line in lines for term in re.split(r"\s{2,}", line.strip())[0].split(" / ")}


@pytest.mark.parametrize("size", [(160, 45), (110, 34), (80, 24), (60, 20)])
async def test_help_explains_every_abbreviation_the_desk_shows(size):
    app = frozen_app(theme_dir="/nonexistent-liqtui-themes")
    async with app.run_test(size=size) as pilot:
        await _ready(pilot)
        app.render_tick()
        await _ready(pilot)
        shown = "\n".join(screen_lines(app))
        on_screen = [a for a in ABBREVIATIONS if re.search(rf"(?<!\w){re.escape(a)}(?!\w)", shown)]
        assert "imb" in on_screen or size[0] < 150
        await pilot.press("question_mark")
        await pilot.pause()
        terms = _glossary_terms(app)
        assert not [a for a in on_screen if a not in terms], sorted(terms)


async def test_a_click_on_a_match_in_the_picker_picks_it():
    # A click on a symbol in the list only moved the focus into the list: a trader expects it to pick
    # the symbol, as Enter on it does.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("slash", "s", "o", "l")
        picker = app.query_one(SymbolPicker)
        assert await wait_for(pilot, lambda: picker.query_one("#picker-list").option_count > 0)
        assert await pilot.click("#picker-list", offset=(2, 0))  # the first match's row
        assert await wait_for(pilot, lambda: not _asking(app, SymbolPicker))
        assert app.symbol == "SOL/USDT:USDT"
        assert app.focused is app.query_one("#ladder")  # the focus back where it was


@pytest.mark.parametrize(
    ("opening", "typed", "check"),
    [
        (("slash", "/"), "eth", lambda app: app.symbol == "ETH/USDT:USDT"),
        (
            ("g", "g"),
            "92000",
            lambda app: app.query_one("#risk").target == 92000 and app.symbol == "BTC/USDT:USDT",
        ),
    ],
)
async def test_keys_typed_in_one_read_after_a_bar_s_key_go_to_the_bar_not_to_the_desk(opening, typed, check):
    # A trader who types `/eth` Enter fast, or pastes it, sends the terminal one read: the keys after
    # `/` were handed to the desk before the `/` opened the bar, so `t` cycled the theme, `h` swapped
    # in the heatmap and Enter picked the first symbol. Pilot's `press` waits between keys: this
    # hands the app the keys as its driver does, all at once.
    from textual import events

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert await wait_for(pilot, lambda: app._bars_mounting is not None)
        await pilot.pause(0.1)
        theme = app.theme
        for key, char in (opening, *((c, c) for c in typed), ("enter", None)):
            app._driver.send_message(events.Key(key, char))
        assert await wait_for(pilot, lambda: check(app), timeout=10)
        await _ready(pilot)
        assert not _asking(app, SymbolPicker) and not _asking(app, PromptBar)
        # no key reached the desk's own bindings: `t` the theme, `h` the heatmap, digits the watchlist
        assert app.theme == theme and not app.screen.has_class("-heat")


async def test_a_bar_s_own_keys_keep_their_order_in_one_read_and_keys_after_its_answer_reach_the_desk():
    # Over SSH keys typed fast come in one read. A key the bar's input does not insert (Backspace,
    # Enter, Escape, Down) went back up to the App's bindings and ran after the characters behind it:
    # `/ethx` Backspace Enter searched "eth" less its `h`, and `]` after Enter was typed into the search.
    from textual import events

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert await wait_for(pilot, lambda: app._bars_mounting is not None)
        await pilot.pause(0.1)
        keys = [("slash", "/"), *((c, c) for c in "ethx"), ("backspace", None), ("enter", None)]
        keys.append(("right_square_bracket", "]"))  # the desk's next watchlist symbol, after ETH
        watchlist = app.watchlist
        after_eth = watchlist[(watchlist.index("ETH/USDT:USDT") + 1) % len(watchlist)]
        assert app.symbol not in ("ETH/USDT:USDT", after_eth)
        for key, char in keys:
            app._driver.send_message(events.Key(key, char))
        assert await wait_for(pilot, lambda: not _asking(app, SymbolPicker) and app.symbol == after_eth, 10)
        await _ready(pilot)
        assert app.query_one("#picker-input").value == ""
        following = watchlist[(watchlist.index(after_eth) + 1) % len(watchlist)]
        for key, char in [("slash", "/"), ("e", "e"), ("escape", None), ("right_square_bracket", "]")]:
            app._driver.send_message(events.Key(key, char))
        assert await wait_for(pilot, lambda: app.symbol == following and not _asking(app, SymbolPicker), 10)


@pytest.mark.parametrize(
    "toast_first", [True, False, None], ids=["toast-then-bar", "bar-then-toast", "opening"]
)
@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_an_alert_s_toast_shows_above_the_open_command_bar_not_over_it(size, toast_first):
    # Textual's toasts sit at the bottom right, where the command bar opens: at 80x24 an alert's toast
    # covered half the picker's matches, its count and its input for the toast's seconds. "opening": the
    # toast comes while the bar opens, before its first layout (it has no height yet to be lifted over).
    from textual.widgets._toast import Toast

    def toasts():
        return [t for t in app.screen.query(Toast) if t.region]

    app = make_app()
    async with app.run_test(size=size, notifications=True) as pilot:
        await _ready(pilot)
        if toast_first:
            app.notify("BTC burst: $5.0M of longs liquidated in 60s", title="alert", timeout=30)
            assert await wait_for(pilot, lambda: toasts())
        if toast_first is None:
            await app.action_pick_symbol()
            app.notify("BTC burst: $5.0M of longs liquidated in 60s", title="alert", timeout=30)
        else:
            await pilot.press("slash")
        picker = app.query_one(SymbolPicker)
        assert await wait_for(pilot, lambda: picker.is_open and picker.region)
        if toast_first is False:
            app.notify("BTC burst: $5.0M of longs liquidated in 60s", title="alert", timeout=30)
        assert await wait_for(
            pilot, lambda: toasts() and not any(t.region.overlaps(picker.region) for t in toasts())
        )
        await pilot.pause(0.2)
        assert toasts() and not any(t.region.overlaps(picker.region) for t in toasts())
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: not picker.is_open)
        await pilot.pause(0.2)
        footer = app.screen.query_one("DeskFooter")
        assert toasts() and max(t.region.bottom for t in toasts()) == footer.region.y  # back down


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_a_command_bar_opened_over_a_key_s_flash_line_shows_its_input_not_the_line(size):
    # At 80x24 `w` answers on the flash line (no totals pane) for 8 s; the bars are the screen's first
    # children, so the flash line, a later one on the same layer, was drawn over the picker's input and
    # bottom border: the symbol typed was hidden until the line cleared.
    from liqtui.ui.widgets.flash import Flash

    app = make_app()
    async with app.run_test(size=size) as pilot:
        await _ready(pilot)
        await pilot.press("w")
        line = app.screen.query_one(Flash)
        assert await wait_for(pilot, lambda: line.display and line.region)
        await pilot.press("slash", "e", "t", "h")
        picker = app.query_one(SymbolPicker)
        assert await wait_for(pilot, lambda: picker.is_open and picker.region)
        await pilot.pause(0.1)
        field = app.query_one("#picker-input")
        assert field.value == "eth"
        shown = screen_lines(app)
        assert shown[field.region.y].lstrip("│ ").startswith("eth"), shown[-4:]  # the typed symbol
        assert shown[-1].startswith("╰"), shown[-4:]  # the bar's bottom border
        assert not line.display
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: not picker.is_open)
        await pilot.press("w")  # a key's answer after the bar closed shows on the line again
        assert await wait_for(pilot, lambda: line.display)
