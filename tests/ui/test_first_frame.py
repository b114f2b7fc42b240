"""The desk's first frame: the terminal's first screen write shows the mode badge, in the layout of
the terminal's size, and the source starts only after it (the demo builds its history in a thread,
which took half the CPU the first frame needed). What the first write shows, never how long it took."""

from __future__ import annotations

from liqtui.config import Settings
from liqtui.ui.app import DeskHeader, DeskScreen, LiqtuiApp

from desk_fakes import FakeEngine, FakeSource


class FirstWrite(LiqtuiApp):
    """Notes the desk's state at the first screen update handed to the terminal."""

    first: dict | None = None

    def _display(self, screen, renderable) -> None:
        if self.first is None and renderable is not None and isinstance(screen, DeskScreen):
            header = screen.query_one(DeskHeader)
            self.first = {
                "header": header.text,
                "classes": set(screen.classes),
                "source started": any(w.group == "source" for w in self.workers),
            }
        super()._display(screen, renderable)


async def test_the_first_screen_write_has_the_badge_and_the_layout_and_the_source_waits_for_it():
    app = FirstWrite(Settings(), FakeSource(mode="DEMO"), engine=FakeEngine(), theme_dir="/nonexistent")
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert app.first is not None
        assert app.first["header"].split()[0] == "DEMO", app.first["header"]
        assert {"-full", "-h-large"} <= app.first["classes"]  # not laid out at no size class first
        assert not app.first["source started"]
        # and it starts after: two refreshes later, which a loaded machine can take a while to reach
        for _ in range(200):
            if any(w.group == "source" for w in app.workers):
                break
            await pilot.pause(0.05)
        assert any(w.group == "source" for w in app.workers)


async def test_a_narrow_terminal_is_laid_out_compact_from_the_first_write():
    app = FirstWrite(Settings(), FakeSource(mode="LIVE"), engine=FakeEngine(), theme_dir="/nonexistent")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.first is not None and app.first["header"].split()[0] == "LIVE"
        assert {"-compact", "-h-small"} <= app.first["classes"]
        assert "-full" not in app.first["classes"]
