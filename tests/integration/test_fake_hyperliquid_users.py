"""The fake Hyperliquid's user side (accounts, positions, fills, weight) read by the REAL ccxt client."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import ccxt
import pytest
from test_fakes import FAST, watch

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
VAULT = "0x2e3d94f0562703b25c83308a05046ddaf9a8dd14"
RECORDED = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "exchange-payloads"
    / "hyperliquid_fetchMyTrades_userFills_with_liquidation.json"
)


async def test_clearinghouse_state_gives_scripted_positions_to_ccxt(fake_exchange, ccxt_client):
    fake = await fake_exchange("hyperliquid")
    fake.set_position(ALICE, "BTC", -0.5, 95_000, 101_234.5, leverage=20)
    fake.set_position(ALICE, "ETH", 3.0, 3_500, 3_100.25, leverage=5, margin="isolated")
    exchange = ccxt_client(fake, **FAST)
    positions = {p["symbol"]: p for p in await exchange.fetch_positions(None, {"user": ALICE})}
    btc, eth = positions["BTC/USDC:USDC"], positions["ETH/USDC:USDC"]
    assert (btc["side"], btc["contracts"], btc["entryPrice"], btc["liquidationPrice"]) == (
        "short",
        0.5,
        95_000,
        101_234.5,
    )
    assert (btc["leverage"], btc["marginMode"]) == (20, "cross")
    assert (eth["side"], eth["contracts"], eth["marginMode"]) == ("long", 3.0, "isolated")
    assert await exchange.fetch_positions(None, {"user": BOB}) == []  # unknown account: no positions
    assert fake.weight_log[-1][1:] == (2, "clearinghouseState")


async def test_fills_by_time_carry_both_sides_of_a_liquidation(fake_exchange, ccxt_client):
    fake = await fake_exchange("hyperliquid")
    mine, theirs = fake.liquidation(
        ALICE, VAULT, "BTC", side="long", px=90_000, sz=0.25, method="backstop", time_ms=1_700_000_000_000
    )
    assert (mine["side"], theirs["side"], mine["tid"]) == ("A", "B", theirs["tid"])
    assert (
        mine["liquidation"]
        == theirs["liquidation"]
        == {"liquidatedUser": ALICE, "markPx": "90000.0", "method": "backstop"}
    )
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    rows = await exchange.publicPostInfo(
        {"type": "userFillsByTime", "user": VAULT, "startTime": 1_699_999_999_000}
    )
    assert rows == [theirs]
    assert (
        await exchange.publicPostInfo(
            {"type": "userFillsByTime", "user": VAULT, "startTime": 1_700_000_000_001}
        )
        == []
    )
    trades = await exchange.fetch_my_trades(None, None, None, {"user": ALICE})
    assert [(t["side"], t["amount"], t["price"]) for t in trades] == [("sell", 0.25, 90_000)]


async def test_weight_is_counted_per_minute(fake_exchange, ccxt_client):
    fake = await fake_exchange("hyperliquid")
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    before = fake.max_weight_per_minute()
    for _ in range(3):
        await exchange.publicPostInfo({"type": "clearinghouseState", "user": ALICE})
    await exchange.publicPostInfo({"type": "userFills", "user": ALICE})
    assert fake.max_weight_per_minute({"clearinghouseState", "userFills"}) == 3 * 2 + 20
    assert fake.max_weight_per_minute() == before + 26


async def test_malformed_answer_and_429_are_scriptable(fake_exchange, ccxt_client):
    fake = await fake_exchange("hyperliquid")
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    fake.answer_malformed("clearinghouseState")
    assert (await exchange.publicPostInfo({"type": "clearinghouseState", "user": ALICE}))[
        "assetPositions"
    ] == "not a list"
    fake.fail_next("/info", 429, retry_after=3, match={"type": "clearinghouseState"})
    with pytest.raises(ccxt.RateLimitExceeded):
        await exchange.publicPostInfo({"type": "clearinghouseState", "user": ALICE})
    assert (await exchange.publicPostInfo({"type": "clearinghouseState", "user": ALICE}))[
        "assetPositions"
    ] == []


async def test_ws_user_fills_snapshot_then_live_fills_reach_ccxt(fake_exchange, ccxt_client):
    fake = await fake_exchange("hyperliquid")
    fake.liquidation(
        ALICE, VAULT, "ETH", side="short", px=3_600, sz=2, method="backstop", time_ms=1_700_000_000_000
    )
    exchange = ccxt_client(fake, **FAST)
    first = await watch(exchange.watch_my_trades(None, None, None, {"user": VAULT}))
    assert [(t["symbol"], t["side"], t["amount"]) for t in first] == [("ETH/USDC:USDC", "sell", 2.0)]
    _, theirs = fake.liquidation(BOB, VAULT, "BTC", side="long", px=88_000, sz=0.1, method="backstop")
    pending = asyncio.ensure_future(exchange.watch_my_trades(None, None, None, {"user": VAULT}))
    await asyncio.sleep(0.05)
    assert await fake.push_fills(VAULT, [theirs]) == 1
    trades = await watch(pending)
    assert (trades[-1]["symbol"], trades[-1]["side"], trades[-1]["price"]) == ("BTC/USDC:USDC", "buy", 88_000)


async def test_ws_trades_carry_both_users_and_user_subscriptions_are_capped(fake_exchange):
    import aiohttp

    fake = await fake_exchange("hyperliquid")
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{fake.ws_base}/ws") as ws:
        await ws.send_json({"method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}})
        assert (await ws.receive_json(timeout=5))["channel"] == "subscriptionResponse"
        await fake.push(fake.trades_frame("BTC", [("B", 95_000, 0.3, ALICE, BOB)]))
        pushed = await ws.receive_json(timeout=5)
        assert pushed["channel"] == "trades" and pushed["data"][0]["users"] == [ALICE, BOB]
        for i in range(11):
            user = "0x" + f"{i:02x}" * 20
            await ws.send_json({"method": "subscribe", "subscription": {"type": "userFills", "user": user}})
            answer = await ws.receive_json(timeout=5)
            if i < 10:
                assert answer["channel"] == "subscriptionResponse"
                assert (await ws.receive_json(timeout=5))["data"]["isSnapshot"] is True
            else:
                assert answer["channel"] == "error" and "10 total users" in answer["data"]


def test_a_scripted_liquidation_fill_has_the_recorded_fill_shape():
    """Every key of the recorded real liquidation fill is in the fake's fill, and its liquidation object alike."""
    from fakes import FakeExchange

    recorded = json.loads(RECORDED.read_text())[1]
    fake = FakeExchange("hyperliquid")
    mine, _ = fake.liquidation(ALICE, BOB, "BTC", side="long", px=1, sz=1)
    assert set(recorded) - {"builderFee", "twapId"} <= set(mine)
    assert set(recorded["liquidation"]) == set(mine["liquidation"])
    assert (recorded["side"], recorded["dir"]) == (mine["side"], mine["dir"]) == ("A", "Close Long")
