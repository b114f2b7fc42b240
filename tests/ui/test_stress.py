"""60 seconds of the simulated `stress` market through the whole desk, headless, faster than real
time: no error, the keyboard still answers, every event reaches the engine, memory stays bounded.

The liquidations are counted twice, apart: as the source hands them to the desk, and in the real
engine's 24h totals (the desk's own arithmetic), so a desk that dropped or doubled any shows it."""

from __future__ import annotations

import os

import pytest

from liqtui.config import Settings
from liqtui.domain.events import Liquidation
from liqtui.engine import Engine
from liqtui.feeds.demo import DemoSource
from liqtui.ui.app import LiqtuiApp

from desk_helpers import notifications, wait_for

SIMULATED_MS = 60_000


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


@pytest.mark.slow
async def test_sixty_simulated_seconds_of_stress():
    settings = Settings()
    source = DemoSource(settings, seed=3, rate="stress", realtime=False, backfill_hours=1)
    start = source.now_ms()
    emitted = []
    engine = Engine(settings.levels)
    app = LiqtuiApp(settings, source, engine=engine, theme_dir="/nonexistent-liqtui-themes")
    source_run = source.run

    async def counted_run(emit):  # what the source hands the desk, counted before the desk sees it
        def counted(event):
            if isinstance(event, Liquidation):
                emitted.append(1)
            emit(event)

        await source_run(counted)

    source.run = counted_run  # type: ignore[method-assign]
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
        # every liquidation the source emitted is in the engine's totals (at least 2,000/s at stress);
        # the backfill hour and the 60 s all fall inside 24h
        totals = engine.view("all", source.now_ms(), window="24h").realized
        assert (
            totals.total_long.count + totals.total_short.count == len(emitted) >= 2_000 * SIMULATED_MS // 1000
        )
        assert len(view.tape) <= 2_000
        assert rss_late - rss_early < 200, (rss_early, rss_late)
