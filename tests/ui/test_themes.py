"""Themes as data: the built-in three, user themes, broken files, NO_COLOR."""

from __future__ import annotations

import re

import pytest

from liqtui.ui.theme import APP_VARIABLES, BUILTIN_NAMES, ThemeError, load_theme_file, load_themes
from liqtui.ui.widgets import THEME_VARIABLES

from desk_helpers import make_app, notifications, wait_for


def test_every_builtin_theme_defines_every_pane_colour():
    loaded = load_themes(None)
    assert not loaded.errors
    by_name = {t.name: t for t in loaded.themes}
    assert set(BUILTIN_NAMES) <= set(by_name)
    assert set(THEME_VARIABLES) <= set(APP_VARIABLES)
    for name in BUILTIN_NAMES:
        assert set(THEME_VARIABLES) <= set(by_name[name].variables), name
    assert by_name["ansi"].ansi and not by_name["dark"].ansi
    assert all(value.startswith("ansi_") for value in by_name["ansi"].variables.values())
    assert by_name["light"].dark is False


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("dark = true\n[colors\nprimary = 1", "not valid TOML"),
        ("[colors]\nbackground = '#000000'\n", "needs at least 'primary'"),
        ("[colors]\nprimary = 'chartreuse-ish'\n", "'colors.primary' is not a colour"),
        ("[colors]\nprimary = '#123456'\n[variables]\nbid = 5\n", "'variables.bid' must be a colour"),
        ("palette = 1\n[colors]\nprimary = '#123456'\n", "unknown key 'palette'"),
        ("[colors]\nprimary = '#123456'\nhighlight = '#fff'\n", "unknown colour 'highlight'"),
        ("dark = 'yes'\n[colors]\nprimary = '#123456'\n", "'dark' must be true or false"),
    ],
)
def test_a_broken_theme_file_is_named_with_what_is_wrong(tmp_path, text, words):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ThemeError) as info:
        load_theme_file(path)
    assert str(info.value).startswith("mine.toml: ")
    assert words in str(info.value)


async def test_user_themes_load_and_broken_ones_give_one_notification(tmp_path):
    (tmp_path / "night.toml").write_text(
        "[colors]\nprimary = '#225588'\nbackground = '#000010'\n[variables]\nbid = '#00ff00'\n"
    )
    (tmp_path / "bad1.toml").write_text("[colors\n")
    (tmp_path / "bad2.toml").write_text("[colors]\nprimary = 'nope'\n")
    app = make_app(theme_dir=tmp_path, raw={"ui": {"theme": "night"}})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "night"
        assert app.theme_variables["bid"] == "#00ff00"
        assert app.theme_variables["ask"] == APP_VARIABLES["ask"]  # defaults fill the gaps
        theme_notes = [n for n in notifications(app) if "Theme" in n]
        assert len(theme_notes) == 1
        assert "bad1.toml" in theme_notes[0] and "bad2.toml" in theme_notes[0]
        assert app.is_running


async def test_a_broken_chosen_theme_starts_the_desk_in_dark(tmp_path):
    (tmp_path / "mine.toml").write_text("[colors]\nprimary = 'nope'\n")
    app = make_app(theme_dir=tmp_path, raw={"ui": {"theme": "mine"}})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "dark"
        notes = [n for n in notifications(app) if "mine" in n]
        assert len(notes) == 1 and "mine.toml" in notes[0]


async def test_an_unknown_theme_name_says_so_and_uses_dark():
    app = make_app(raw={"ui": {"theme": "solarised"}})
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(
            pilot, lambda: any("Theme 'solarised' not found" in n for n in notifications(app))
        )
        assert app.theme == "dark"


def _text_and_background_fills(svg: str) -> tuple[set[str], set[str]]:
    classes = dict(re.findall(r"\.(terminal-\d+-r\d+) \{ fill: (#[0-9a-f]{6})", svg))
    used = set(re.findall(r'<text class="(terminal-\d+-r\d+)"[^>]*>[^<]*[^\s<&]', svg))
    text_fills = {classes[c] for c in used if c in classes}
    backgrounds = set(re.findall(r'<rect fill="(#[0-9a-f]{6})"', svg))
    return text_fills, backgrounds


@pytest.mark.parametrize("theme", ["ansi", "dark", "light"])
async def test_no_color_stays_readable_in_every_theme(monkeypatch, theme):
    # Textual 8.2.8 with NO_COLOR and an ANSI theme draws black text on black: the header's text
    # must differ from the background it sits on.
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(raw={"ui": {"theme": theme}})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert app.no_color
        svg = app.export_screenshot()
        text_fills, backgrounds = _text_and_background_fills(svg)
        assert text_fills, "no text found in the screenshot"
        assert text_fills - backgrounds, (text_fills, backgrounds)
        # and no colour at all: every fill is a grey
        for fill in text_fills | backgrounds:
            r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
            assert max(r, g, b) - min(r, g, b) <= 4, fill  # #c5c8c6: the default foreground


async def test_no_color_filter_follows_a_theme_change(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for _ in range(3):
            await pilot.press("t")
            await pilot.pause()
            svg = app.export_screenshot()
            text_fills, backgrounds = _text_and_background_fills(svg)
            assert text_fills - backgrounds, (app.theme, text_fills, backgrounds)


async def test_without_the_shipped_theme_files_the_desk_still_starts(monkeypatch, tmp_path):
    import liqtui.ui.theme as theme_module

    monkeypatch.setattr(theme_module, "BUILTIN_DIR", tmp_path / "gone")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.is_running and app.theme == "textual-dark"
        assert app.theme_variables["bid"] == APP_VARIABLES["bid"]  # the panes' colours still resolve


async def test_a_theme_change_repaints_the_panes_in_the_new_colours():
    # A pane keeps the styles it paints with between draws (Textual drops its own at every refresh):
    # the theme's change must reach them, as a pane drawn fresh in that theme shows.
    from liqtui.ui.widgets.line_pane import LinePane

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        app.render_tick()
        await pilot.pause()
        panes = [p for p in app.screen.query(LinePane) if p.display and p.size.area > 0]
        drawn = {p.id: [p.render_line(y) for y in range(p.size.height)] for p in panes}
        await pilot.press("t")
        await pilot.pause()
        assert app.theme == "light"
        changed = 0
        for pane in panes:
            now = [list(pane.render_line(y)) for y in range(pane.size.height)]
            pane._paint_styles = {}  # a fresh draw in the light theme
            pane._strips = None
            fresh = [list(pane.render_line(y)) for y in range(pane.size.height)]
            assert now == fresh, pane.id
            changed += now != [list(strip) for strip in drawn[pane.id]]
        assert changed == len(panes)  # every pane's colours moved with the theme
