"""Hyperliquid's liquidations as a user sees them: the backstop vault's fills, through the
real ccxt client and the loopback fake, printed by `liqtui tail --json` once each with their source."""

from __future__ import annotations

import asyncio
import json

import pytest

from test_live_commands import run_liqtui, write_config

VAULT = "0x2e3d94f0562703b25c83308a05046ddaf9a8dd14"
OTHER_VAULT = "0x" + "5e" * 20
ALICE, BOB, CAROL = "0x" + "a1" * 20, "0x" + "b2" * 20, "0x" + "c3" * 20


async def test_tail_json_prints_each_backstop_liquidation_once_with_its_source(fake_exchange, tmp_path):
    fake = await fake_exchange("hyperliquid")
    config = write_config(tmp_path / "c.toml", [fake])
    proc = asyncio.ensure_future(run_liqtui("tail", "--json", "--duration", "6", "--config", str(config)))
    await fake.wait_subscribed(f"userFills:{VAULT}", timeout=20)
    _, long_fill = fake.liquidation(ALICE, VAULT, "BTC", side="long", px=90_000, sz=0.5, method="backstop")
    _, short_fill = fake.liquidation(BOB, VAULT, "ETH", side="short", px=3_600, sz=4, method="backstop")
    fake.liquidation(
        CAROL, BOB, "BTC", side="long", px=89_000, sz=1, method="market"
    )  # the book took it: not the vault's
    assert await fake.push_fills(VAULT, [long_fill, short_fill]) == 1
    await asyncio.sleep(0.5)
    await fake.drop_connections()  # the resubscription repeats the snapshot: nothing is printed twice
    await fake.wait_subscribed(f"userFills:{VAULT}", timeout=20, count=2)
    code, out, err = await proc
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [
        (r["symbol"], r["side"], r["price"], r["qty"], r["source"], r["sampled"], r["price_kind"])
        for r in rows
    ] == [
        ("BTC/USDC:USDC", "long", 90_000, 0.5, "backstop", True, "fill"),
        ("ETH/USDC:USDC", "short", 3_600, 4, "backstop", True, "fill"),
    ]
    assert rows[0]["usd"] == pytest.approx(45_000) and rows[0]["time"] == long_fill["time"]


async def test_the_vault_address_comes_from_the_config(fake_exchange, tmp_path):
    fake = await fake_exchange("hyperliquid")
    config = write_config(tmp_path / "c.toml", [fake])
    config.write_text(
        config.read_text().replace(
            "[venues.hyperliquid]", f'[venues.hyperliquid]\nliquidator_vault = "{OTHER_VAULT}"'
        )
    )
    proc = asyncio.ensure_future(run_liqtui("tail", "--json", "--duration", "4", "--config", str(config)))
    await fake.wait_subscribed(f"userFills:{OTHER_VAULT}", timeout=20)
    _, fill = fake.liquidation(ALICE, OTHER_VAULT, "SOL", side="long", px=140, sz=100, method="backstop")
    await fake.push_fills(OTHER_VAULT, [fill])
    code, out, err = await proc
    assert code == 0, err
    assert [json.loads(line)["symbol"] for line in out.splitlines()] == ["SOL/USDC:USDC"]
    assert f"userFills:{VAULT}" not in fake.subscriptions


async def test_a_bad_vault_address_is_one_clear_config_error(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[venues.hyperliquid]\nliquidator_vault = "0x12"\n')
    code, out, err = await run_liqtui("tail", "--json", "--duration", "1", "--config", str(config))
    assert code == 2 and out == ""
    assert "venues.hyperliquid.liquidator_vault" in err and "40 hex digits" in err and "Traceback" not in err
