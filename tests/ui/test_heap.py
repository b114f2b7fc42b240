"""The desk's history leaves the garbage collector's generations once it is in (``gc.freeze``): a
full collection passing over 25 h of demo history stalled keys and frames for ~100 ms at a time."""

from __future__ import annotations

import gc

from liqtui.config import Settings
from liqtui.feeds.demo import DemoSource
from liqtui.ui.app import LiqtuiApp

from desk_helpers import wait_for


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
    finally:
        gc.unfreeze()
