"""The desk's MEASURED side (Hyperliquid's tracked accounts): the ladder's MEAS column, the coverage
line under it, and the positions view (key o), on a real engine fed by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from liqtui.config import Settings
from liqtui.domain.events import OpenInterest, PositionSnapshot, Side, Ticker
from liqtui.engine import Engine
from liqtui.ui.app import LiqtuiApp
from liqtui.ui.screens import HelpScreen, PositionsScreen

from desk_fakes import NOW, FakeSource
from desk_helpers import screen_lines

BTC = "BTC/USDT:USDT"
A, B = "0x" + "a1" * 20, "0x" + "b2" * 20


def _engine(positions: bool = True) -> Engine:
    engine = Engine()
    engine.apply(Ticker("hyperliquid", BTC, NOW - 1_000, last=82_800.0, mark=82_800.0))
    engine.apply(OpenInterest("hyperliquid", BTC, 10_000.0, 828_000_000.0, NOW - 5_000))
    if positions:
        for account, side, usd, liq, age in (
            (A, Side.LONG, 2_500_000.0, 82_410.0, 40_000),
            (B, Side.SHORT, 1_200_000.0, 83_020.0, 3_000),
        ):
            engine.apply(
                PositionSnapshot(
                    "hyperliquid",
                    BTC,
                    account,
                    side,
                    usd / 82_800,
                    usd,
                    82_000.0,
                    liq,
                    20.0,
                    "cross",
                    NOW - age,
                )
            )
    return engine


def make_app(engine: Engine) -> LiqtuiApp:
    return LiqtuiApp(Settings(), FakeSource(), engine=engine, theme_dir=Path("/nonexistent-liqtui-themes"))


def _line(app, needle: str) -> str:
    return next((line for line in screen_lines(app) if needle in line), "")


@pytest.mark.parametrize("size", [(160, 45), (60, 20)])
async def test_the_ladder_shows_measured_usd_per_row_and_the_coverage_line(size):
    app = make_app(_engine())
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert "HL MEAS" in _line(app, "price")  # the column's header, beside the estimate's
        coverage = _line(app, "accts")  # the coverage line, as much of it as the width keeps
        assert "HL MEAS 2 accts" in coverage
        assert "0.45 %" in coverage  # $3.7M of $828M
        assert "err" not in coverage  # the model has no estimate yet (one OI sample): no score
        assert "40s" in coverage  # the oldest snapshot
        if size == (160, 45):
            # Each position in the row of its liquidation price (step 50), its side and USD.
            assert "L $2.5M" in _line(app, "82,400")
            assert "S $1.2M" in _line(app, "83,000")
            assert "L $2.5M" not in _line(app, "82,450")


async def test_without_tracked_accounts_the_line_says_so_and_shows_no_zero():
    app = make_app(_engine(positions=False))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert "HL MEASURED: no account tracked yet" in "\n".join(screen_lines(app))
        assert "$0" not in _line(app, "HL MEAS")


async def test_key_o_lists_the_positions_nearest_to_liquidation_first_and_help_lists_it():
    app = make_app(_engine())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, PositionsScreen)
        text = "\n".join(screen_lines(app, app.screen))
        assert "MEASURED positions · Hyperliquid · BTC · DEMO" in text
        # The short is 0.27 % from its liquidation price, the long 0.47 %: the short comes first.
        assert text.index("0xb2b2…b2b2") < text.index("0xa1a1…a1a1")
        short = next(line for line in text.splitlines() if "0xb2b2…b2b2" in line).split()
        at = short.index("0xb2b2…b2b2")
        assert short[at + 1 : at + 7] == ["SHORT", "$1.2M", "83,020", "+0.3", "%", "3s"]
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "tracked Hyperliquid accounts' MEASURED positions" in "\n".join(screen_lines(app, app.screen))
