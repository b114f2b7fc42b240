"""`liqtui alerts` on live venues as a user runs it (subprocess), against the loopback fakes with the
real ccxt client: a big liquidation is one JSON alert, a coin no venue lists is one clear error."""

from __future__ import annotations

import asyncio
import json

from fakes import FakeExchange
from test_live_commands import run_liqtui, write_config

RULES = """
[[alerts.rules]]
kind = "liquidation"
name = "big BTC"
min_usd = 50000
symbols = ["btcusdt"]
cooldown = 0
"""


def _config(tmp_path, fakes: list[FakeExchange], rules: str):
    path = write_config(tmp_path / "c.toml", fakes)
    path.write_text(path.read_text() + rules)
    return path


async def test_a_live_liquidation_above_the_rule_is_one_json_alert(fake_exchange, tmp_path):
    binance = await fake_exchange("binanceusdm")
    config = _config(tmp_path, [binance], RULES)
    proc = asyncio.ensure_future(run_liqtui("alerts", "--json", "--duration", "4", "--config", str(config)))
    await binance.wait_subscribed("!forceOrder@arr", timeout=20)
    await binance.push(binance.liquidation_frame("BTC", side="long", price=90_000, qty=0.1))  # $9k: below
    await binance.push(binance.liquidation_frame("BTC", side="short", price=90_000, qty=1.0))  # $90k
    await binance.push(binance.liquidation_frame("ETH", side="short", price=3_000, qty=100))  # not BTC
    code, out, err = await proc
    assert code == 0, err
    (alert,) = [json.loads(line) for line in out.splitlines()]
    assert {k: alert[k] for k in ("rule", "kind", "venue", "symbol", "side", "usd", "price", "count")} == {
        "rule": "big BTC",
        "kind": "liquidation",
        "venue": "binanceusdm",
        "symbol": "BTC/USDT:USDT",
        "side": "short",
        "usd": 90_000.0,
        "price": 90_000.0,
        "count": 1,
    }
    assert alert["text"] == "BTC short liquidated $90.0k at 90,000 on binanceusdm"
    assert "liqtui: 1 alerts" in err


async def test_a_rule_for_a_coin_no_venue_lists_is_one_error(fake_exchange, tmp_path):
    binance = await fake_exchange("binanceusdm")
    config = _config(tmp_path, [binance], RULES.replace('"btcusdt"', '"ZZZQQ"'))
    code, out, err = await run_liqtui("alerts", "--duration", "40", "--config", str(config))
    assert code == 2 and out == "" and "Traceback" not in err
    assert "no market trades 'ZZZQQ'" in err


async def test_a_tracked_position_near_its_liquidation_price_is_one_json_alert(fake_exchange, tmp_path):
    """position_near on live data: the tracked accounts' MEASURED positions (Hyperliquid's
    clearinghouseState, through the real ccxt client) reach the rules; the alert comes once."""
    import os
    import signal
    import sys

    hyperliquid = await fake_exchange("hyperliquid")
    hyperliquid.set_price("BTC", 95_000)
    whale, small = "0x" + "a1" * 20, "0x" + "b2" * 20
    hyperliquid.set_position(whale, "BTC", -0.5, 95_000, 101_234.5, leverage=20)  # 6.6 % from it
    hyperliquid.set_position(small, "BTC", -0.01, 95_000, 96_000.0, leverage=50)  # near, but $950
    rules = '\n[[alerts.rules]]\nkind = "position_near"\nname = "whale"\nmin_usd = 10000\npct = 10\n'
    config = _config(tmp_path, [hyperliquid], rules)
    text = config.read_text().replace(
        "[venues.hyperliquid]", f"[venues.hyperliquid]\naccounts = {json.dumps([whale, small])}"
    )
    config.write_text(text)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "liqtui", "alerts", "--json", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)  # the first alert, however long it takes
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    alert = json.loads(line)
    assert {k: alert[k] for k in ("rule", "kind", "venue", "symbol", "side", "usd", "price", "count")} == {
        "rule": "whale",
        "kind": "position_near",
        "venue": "hyperliquid",
        "symbol": "BTC/USDT:USDT",  # the watchlist's market, as the live feed maps Hyperliquid's
        "side": "short",
        "usd": 47_500.0,
        "price": 101_234.5,
        "count": None,
    }
    assert alert["text"] == (
        "BTC short of 0xa1a1…a1a1 $47.5k (20x cross) at 95,000 is 6.56 % from its liquidation price "
        "101,234 on hyperliquid (MEASURED)"
    )
    assert out.decode().count('"kind": "position_near"') == 0  # no second alert for it within the cooldown
