"""The live desk and `liqtui risk SYMBOL --to PRICE` on the same venues give the same at-risk figure
(docs/exchanges.md, maintenance margin): both feed the engine each venue's margin limits (its first margin tier) before the
symbol's history. The desk used to ignore the tiers (the model's 0.4 %, no leverage cap) while
`risk` used them, so a venue whose BTC tops out at 25x gave two different figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

from liqtui.config import load_settings
from liqtui.domain import format as fmt
from liqtui.domain.events import FeedState
from liqtui.ui.app import DeskScreen, LiqtuiApp

import fakes.core
from test_live_commands import run_liqtui, write_config

TARGET = "96500"  # the fakes' BTC trades at 95,000: the 100x and 50x levels lie in between


def _screen_text(app: LiqtuiApp) -> str:
    screen = next(s for s in app.screen_stack if isinstance(s, DeskScreen))
    return "\n".join(strip.text for strip in screen._compositor.render_strips())


async def _desk_figure(config: Path, tmp_path: Path) -> str:
    from liqtui.feeds.live.source import LiveSource
    from liqtui.ui.app import default_engine

    settings = load_settings(str(config))
    source = LiveSource(settings)
    app = LiqtuiApp(
        settings, source, engine=default_engine(settings), layout="full", theme_dir=tmp_path / "themes"
    )
    async with app.run_test(size=(160, 45)) as pilot:

        def ready() -> bool:
            return all(
                f.first_poll_done.is_set() and f.health.states.get("history", (None, ""))[0] is FeedState.LIVE
                for f in source.feeds.values()
            )

        await _until(pilot, ready)
        await pilot.pause(0.3)  # the held live OI sample follows the history
        await pilot.press("g", *TARGET, "enter")
        wanted = f"shorts at risk to {fmt.price(float(TARGET))}"
        await _until(pilot, lambda: wanted in _screen_text(app))
        line = next(line for line in _screen_text(app).splitlines() if wanted in line)
    return re.search(r"(\$[0-9.,]+[kMBT]?) shorts at risk", line).group(1)


async def _until(pilot, condition, timeout: float = 40.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the desk did not get there in time"
        await pilot.pause(0.05)


async def test_the_live_desk_shows_the_at_risk_figure_liqtui_risk_prints(
    fake_exchange, tmp_path, monkeypatch
):
    import time

    step = 300_000  # the fakes' 5-minute history: a frozen clock gives both runs the same series
    monkeypatch.setattr(fakes.core, "FROZEN_MS", int(time.time() * 1000) // step * step + 60_000)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    binance, bybit = await fake_exchange("binanceusdm"), await fake_exchange("bybit")
    bybit.max_leverage = 25
    config = write_config(
        tmp_path / "c.toml",
        [binance, bybit],
        record=False,
        watchlist=["BTC/USDT:USDT"],
        cross_assets=["BTC/USDT:USDT"],
        oi_poll_seconds=3600,
    )
    config.write_text(config.read_text() + "[levels]\nlookback_days = 1\n")

    code, out, err = await run_liqtui("risk", "btc", "--to", TARGET, "--json", "--config", str(config))
    assert code == 0, err
    data = json.loads(out)
    assert {r["venue"]: r["max_leverage"] for r in data["venues"]}["bybit"] == 25
    shown = await _desk_figure(config, tmp_path)
    assert shown == fmt.usd(data["total_usd"])
