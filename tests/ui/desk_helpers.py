"""Building a desk on the test doubles."""

from __future__ import annotations

from pathlib import Path

from liqtui.config import Settings, settings_from_dict
from liqtui.ui.app import LiqtuiApp

from desk_fakes import FakeEngine, FakeSource


def make_app(
    *,
    mode: str = "DEMO",
    settings: Settings | None = None,
    layout: str | None = None,
    theme_dir: Path | None = None,
    raw: dict | None = None,
    **kwargs,
) -> LiqtuiApp:
    if settings is None:
        settings = settings_from_dict(raw) if raw else Settings()
    return LiqtuiApp(
        settings,
        FakeSource(mode=mode),
        engine=FakeEngine(),
        layout=layout,
        theme_dir=theme_dir or Path("/nonexistent-liqtui-themes"),
        **kwargs,
    )


def notifications(app: LiqtuiApp) -> list[str]:
    # Textual 8.2.8 has no public read of the notifications (only notify and clear_notifications);
    # the toasts on screen expire, so they cannot stand in.
    return [n.message for n in app._notifications]


def flashed(app: LiqtuiApp) -> list[str]:
    """What the desk's flash line said (a key's short answer, ui/widgets/flash.py), newest last: the
    line clears after a few seconds, the list stays."""
    from liqtui.ui.app import DeskScreen
    from liqtui.ui.widgets.flash import Flash

    desk = next(s for s in app.screen_stack if isinstance(s, DeskScreen))
    return list(desk.query_one(Flash).said)


async def wait_for(pilot, condition, timeout: float = 30.0) -> bool:
    """Let the app run until ``condition()`` holds (generous: CI machines are slow, and a loaded one
    took over 10 s; a condition that never holds costs its test 30 s)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.05)
    return True


def screen_lines(app, screen=None) -> list[str]:
    """What the terminal shows for ``screen`` (default: the desk under any modal), as plain text lines."""
    from liqtui.ui.app import DeskScreen

    if screen is None:
        screen = next(s for s in app.screen_stack if isinstance(s, DeskScreen))
    # No public API gives a screen's text (export_screenshot is SVG of the top screen only).
    return [strip.text for strip in screen._compositor.render_strips()]
