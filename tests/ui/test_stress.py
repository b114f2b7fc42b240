"""60 seconds of the simulated `stress` market through the whole desk, headless, faster than real
time: no error, the keyboard still answers, every event reaches the engine, memory stays bounded."""

from __future__ import annotations

import os

import pytest
from desk_helpers import notifications, wait_for

from liqtui.config import Settings
from liqtui.domain.events import Liquidation
from liqtui.engine import Engine
from liqtui.feeds.demo import DemoSource
from liqtui.ui.app import LiqtuiApp

SIMULATED_MS = 60_000


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class CountingEngine(Engine):
    """The real engine, counting the liquidations it was given (to prove none were dropped)."""

    liquidations = 0

    def apply(self, event):
        if isinstance(event, Liquidation):
            self.liquidations += 1
        return super().apply(event)


@pytest.mark.slow
async def test_sixty_simulated_seconds_of_stress():
    settings = Settings()
    source = DemoSource(settings, seed=3, rate="stress", realtime=False, backfill_hours=1)
    start = source.now_ms()
    emitted = []
    engine = CountingEngine(settings.levels)
    app = LiqtuiApp(settings, source, engine=engine, theme_dir="/nonexistent-liqtui-themes")
    original_emit = app.emit

    def counting_emit(event):
        if isinstance(event, Liquidation):
            emitted.append(1)
        original_emit(event)

    app.emit = counting_emit  # type: ignore[method-assign]
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: source.now_ms() >= start + 10_000, timeout=120)
        rss_early = _rss_mb()
        await pilot.press("right_square_bracket")  # the keyboard answers mid-storm
        assert app.symbol == "ETH/USDT:USDT"
        await pilot.press("w", "p", "p")
        assert await wait_for(pilot, lambda: source.now_ms() >= start + SIMULATED_MS, timeout=300)
        app.paused = False
        app.render_tick()
        rss_late = _rss_mb()
        view = app.last_view
        assert view is not None and view.now >= start + SIMULATED_MS
        assert view.symbol == "ETH/USDT:USDT"
        assert app.is_running
        errors = [n for n in notifications(app) if "failed" in n or "could not" in n or "stopped" in n]
        assert not errors
        # every liquidation the source emitted reached the engine (at least 2,000/s at stress)
        assert engine.liquidations == len(emitted) >= 2_000 * SIMULATED_MS // 1000
        assert len(view.tape) <= 2_000
        assert rss_late - rss_early < 200, (rss_early, rss_late)
