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
