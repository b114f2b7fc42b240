"""Hyperliquid's MEASURED positions as a user sees them, through the real ccxt client and the
loopback fake: `liqtui positions --json` equal to the script, tracked liquidations printed once by
`liqtui tail --json`, the weight budget never exceeded, 429s honoured, a malformed answer skipped and
counted, and a restart resuming the accounts of its recording."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from test_live_commands import run_liqtui, write_config

VAULT = "0x2e3d94f0562703b25c83308a05046ddaf9a8dd14"
ALICE, BOB, CAROL, DAVE, ERIN = ("0x" + c * 20 for c in ("a1", "b2", "c3", "d4", "e5"))


def _config(tmp_path, fake, *, accounts=(), **hyperliquid):
    config = write_config(tmp_path / "c.toml", [fake])
    keys = {"accounts": list(accounts), **hyperliquid}
    extra = "".join(f"\n{key} = {json.dumps(value)}" for key, value in keys.items())
    config.write_text(config.read_text().replace("[venues.hyperliquid]", "[venues.hyperliquid]" + extra))
    return config


def _looks(fake, user: str | None = None) -> list[float]:
    return [
        r.time
        for r in fake.requests
        if r.query.get("type") == "clearinghouseState" and (user is None or r.query.get("user") == user)
    ]


async def _until(check, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_positions_json_is_exactly_the_script_within_the_budget(fake_exchange, tmp_path):
    fake = await fake_exchange("hyperliquid")
    fake.set_price("BTC", 95_000)
    fake.set_position(ALICE, "BTC", -0.5, 95_000, 101_234.5, leverage=20)
    fake.set_position(BOB, "BTC", 2, 90_000, None, leverage=5, margin="isolated")
    fake.set_position(BOB, "ETH", 10, 3_000, 2_500)  # another symbol: not asked for
    config = _config(tmp_path, fake, accounts=[ALICE, BOB, CAROL])  # Carol holds nothing
    code, out, err = await run_liqtui("positions", "BTC", "--json", "--config", str(config))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    times = [r.pop("time") for r in rows]
    assert rows == [
        {
            "venue": "hyperliquid",
            "symbol": "BTC/USDC:USDC",
            "account": BOB,
            "side": "long",
            "size": 2.0,
            "usd": 190_000.0,
            "entry": 90_000.0,
            "liquidation_price": None,
            "leverage": 5.0,
            "margin": "isolated",
        },
        {
            "venue": "hyperliquid",
            "symbol": "BTC/USDC:USDC",
            "account": ALICE,
            "side": "short",
            "size": 0.5,
            "usd": 47_500.0,
            "entry": 95_000.0,
            "liquidation_price": 101_234.5,
            "leverage": 20.0,
            "margin": "cross",
        },
    ]
    assert all(abs(t - time.time() * 1000) < 60_000 for t in times)
    assert sorted(r.query["user"] for r in fake.requests if r.query.get("type") == "clearinghouseState") == [
        ALICE,
        BOB,
        CAROL,
    ]
    assert fake.max_weight_per_minute() <= 600

    code, out, err = await run_liqtui("positions", "BTC", "--near", "10", "--json", "--config", str(config))
    assert code == 0, err
    assert [json.loads(line)["account"] for line in out.splitlines()] == [ALICE]  # 6.6 % away; Bob: none


async def test_an_unknown_symbol_is_one_clear_error(fake_exchange, tmp_path):
    fake = await fake_exchange("hyperliquid")
    code, out, err = await run_liqtui("positions", "NOPE", "--config", str(_config(tmp_path, fake)))
    assert code == 2 and out == "" and "NOPE" in err and "Traceback" not in err


async def test_the_weight_budget_is_never_exceeded(fake_exchange, tmp_path):
    fake = await fake_exchange("hyperliquid")
    accounts = [f"0x{i:040x}" for i in range(1, 151)]  # 300 weight of looks alone, above the budget
    for address in accounts:
        fake.set_position(address, "BTC", 1, 90_000, 80_000)
    config = _config(tmp_path, fake, accounts=accounts, weight_budget=200)
    code, out, err = await run_liqtui(
        "positions", "BTC", "--json", "--duration", "8", "--config", str(config)
    )
    assert code == 0, err
    assert 150 <= fake.max_weight_per_minute() <= 200  # spent up to the budget, never above
    assert 0 < len(out.splitlines()) < len(accounts)


async def test_429_is_honoured_and_a_malformed_answer_is_skipped_and_counted(fake_exchange, tmp_path):
    fake = await fake_exchange("hyperliquid")
    fake.set_position(ALICE, "BTC", 1, 90_000, 80_000)
    fake.set_position(BOB, "BTC", -1, 90_000, 99_000)
    fake.fail_next("/info", 429, retry_after=2, match={"type": "clearinghouseState"})
    fake.answer_malformed("clearinghouseState", 1)
    config = _config(tmp_path, fake, accounts=[ALICE, BOB])
    code, out, err = await run_liqtui("positions", "BTC", "--json", "--config", str(config))
    assert code == 0, err
    assert sorted(json.loads(line)["account"] for line in out.splitlines()) == [ALICE, BOB]
    assert "1 malformed answers skipped" in err and "failed requests" in err and "Traceback" not in err
    refused = next(r.time for r in fake.requests if r.query.get("type") == "clearinghouseState")
    after = [r.time for r in fake.requests if r.path == "/info" and r.time > refused]
    assert after and min(after) >= refused + 1.9  # nothing asked of the venue within its Retry-After


async def test_tail_prints_each_liquidation_of_a_tracked_account_once_with_its_source(
    fake_exchange, tmp_path
):
    fake = await fake_exchange("hyperliquid")
    fake.set_price("BTC", 95_000)
    fake.set_position(ALICE, "BTC", 1.0, 95_000, 90_000)
    fake.set_position(CAROL, "BTC", 0.5, 95_000, 89_900)
    config = _config(tmp_path, fake, accounts=[ALICE, CAROL])
    proc = asyncio.ensure_future(run_liqtui("tail", "--json", "--duration", "12", "--config", str(config)))
    await fake.wait_subscribed(f"userFills:{VAULT}", timeout=20)
    await _until(lambda: _looks(fake, ALICE) and _looks(fake, CAROL))
    # The price falls through both liquidation prices: the book takes Alice's, the vault Carol's.
    fake.set_price("BTC", 89_000)
    fake.liquidation(ALICE, BOB, "BTC", side="long", px=89_400, sz=1.0, method="market")
    _, vault_fill = fake.liquidation(CAROL, VAULT, "BTC", side="long", px=89_700, sz=0.5, method="backstop")
    fake.close_position(ALICE, "BTC")
    fake.close_position(CAROL, "BTC")
    await fake.push_fills(VAULT, [vault_fill])
    await fake.push(fake.all_mids_frame())  # the mids stream the new price
    await _until(lambda: sum(r.query.get("type") == "userFillsByTime" for r in fake.requests) >= 2)
    code, out, err = await proc
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert sorted((r["source"], r["side"], r["price"], r["qty"], r["sampled"]) for r in rows) == [
        ("backstop", "long", 89_700, 0.5, True),
        ("tracked", "long", 89_400, 1.0, True),
    ]
    assert fake.max_weight_per_minute() <= 600


@pytest.mark.slow
async def test_a_restart_resumes_the_accounts_of_its_recording(fake_exchange, tmp_path):
    from liqtui.storage.reader import read_events

    fake = await fake_exchange("hyperliquid")
    fake.set_position(DAVE, "BTC", 3, 90_000, 70_000)
    config = _config(tmp_path, fake, weight_budget=1200)  # the backfill's candles take most of 600 at start
    out_file = tmp_path / "rec.sqlite"
    first = asyncio.ensure_future(
        run_liqtui("record", "--duration", "6", "--out", str(out_file), "--config", str(config))
    )
    await fake.wait_subscribed("trades:BTC", timeout=20)
    await fake.push(fake.trades_frame("BTC", [("B", 90_000, 0.1, DAVE, ERIN)]))  # Erin holds nothing
    code, _, err = await first
    assert code == 0, err
    recorded = [e for e in read_events(out_file, kinds=["positions"])]
    assert [(e.account, e.size, e.liquidation_price) for e in recorded][-1:] == [(DAVE, 3, 70_000)]
    before = len(_looks(fake, DAVE))
    code, _, err = await run_liqtui(
        "record", "--duration", "4", "--out", str(out_file), "--config", str(config)
    )
    assert code == 0, err
    assert len(_looks(fake, DAVE)) > before and not _looks(fake, ERIN)[1:]  # Dave again; Erin was dropped
    after = list(read_events(out_file, kinds=["positions"]))[len(recorded) :]
    assert after and all(e.size == 3 for e in after)  # resumed as it was: never a "closed" in between


async def test_positions_from_the_bus_are_what_the_collector_measured(fake_exchange, nats_server, tmp_path):
    from test_bus import start, stop, wait_published

    fake = await fake_exchange("hyperliquid")
    fake.set_position(ALICE, "BTC", -0.5, 95_000, 101_234.5, leverage=20)
    config = _config(tmp_path, fake, accounts=[ALICE], weight_budget=1200)
    collector = await start("collect", "--bus", nats_server.url, "--config", str(config))
    try:
        await wait_published(nats_server, "liqtui.position.", 1)
        code, out, err = await run_liqtui(
            "positions", "BTC", "--json", "--bus", nats_server.url, "--config", str(config)
        )
        assert code == 0, err
        rows = [json.loads(line) for line in out.splitlines()]
        assert [(r["account"], r["side"], r["size"], r["liquidation_price"]) for r in rows] == [
            (ALICE, "short", 0.5, 101_234.5)
        ]
        code, out, err = await run_liqtui(
            "positions", "DOGE", "--bus", nats_server.url, "--config", str(config)
        )
        assert code == 2 and "DOGE" in err and "Traceback" not in err
    finally:
        await stop(collector)
