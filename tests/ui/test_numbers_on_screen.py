"""What the desk's numbers say about themselves, read off the screen: unknown is never zero, a
window that is not full says how much it covers, a lookback names its span."""

from __future__ import annotations

import re

import pytest
from frozen import frozen_app

from liqtui.config import Settings
from liqtui.domain.events import FeedState, FeedStatus
from liqtui.engine import Engine
from liqtui.ui.app import LiqtuiApp

from desk_fakes import FakeSource
from desk_helpers import screen_lines, wait_for

NO_THEMES = "/nonexistent-liqtui-themes"
DNS = "cannot load markets: DNS failed (ExchangeNotAvailable: binanceusdm GET https://fapi.binance.com/x); retry 4 in 8.0 s"


def _pane_lines(app, pane_id: str) -> list[str]:
    pane = app.screen.query_one(f"#{pane_id}")
    return [pane.render_line(y).text for y in range(pane.size.height)]


@pytest.mark.parametrize("size", [(160, 45), (110, 40), (82, 30)])
async def test_with_no_network_the_realized_pane_says_n_a_never_zero(size):
    source = FakeSource(mode="LIVE")
    app = LiqtuiApp(Settings(), source, engine=Engine(), theme_dir=NO_THEMES)
    async with app.run_test(size=size) as pilot:
        for venue in ("binanceusdm", "bybit", "okx", "hyperliquid"):
            source.queue.put_nowait(FeedStatus(venue, FeedState.DOWN, source.now - 20_000, DNS))
        assert await wait_for(pilot, lambda: app.events_seen == 4)
        app.render_tick()
        await pilot.pause()
        lines = _pane_lines(app, "totals")
        assert not [line for line in lines if "$0" in line], lines
        binance = next(line for line in lines if line.startswith(("Binance", "BIN")))
        assert "n/a: down" in binance
        assert "n/a" in next(line for line in lines if line.startswith("Total"))
        assert not [line for line in lines if re.search(r"\bstal\b", line)]


async def test_the_frozen_demo_says_how_much_its_windows_cover():
    app = frozen_app(theme_dir=NO_THEMES)  # five simulated minutes after a 25 h backfill
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        app.render_tick()
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "Realized liquidations · 1h (5m so far) · BTC" in text
        assert re.search(r"from [\d,]+ BTC 25h low", text), text
        assert "regime over 1h: " in text
