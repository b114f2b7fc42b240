"""`liqtui record` on live venues (real ccxt against loopback fake exchanges), stopped with SIGTERM,
then `liqtui stats` on the file: the liquidations pushed by the fakes are all there; the order
books of every watchlist symbol (not just the focus) are recorded, 50 levels a side."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liqtui.domain.events import BookSnapshot
from liqtui.storage import describe, read_events

from fakes import FakeExchange

LIQTUI = [sys.executable, "-m", "liqtui"]
T = int(time.time() * 1000) - 60_000  # recent: retention counts back from the newest event


def write_config(path: Path, fakes: list[FakeExchange]) -> Path:
    def table(mapping: dict[str, str]) -> str:
        return "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in mapping.items()) + " }"

    lines = ['watchlist = ["BTC/USDT:USDT", "ETH/USDT:USDT"]', "cross_assets = []"]
    used = {fake.venue for fake in fakes}
    for fake in fakes:
        lines += [
            f"[venues.{fake.venue}]",
            f"url_rewrite = {table(fake.url_rewrite)}",
            'ccxt = { "rateLimit" = 1 }',
        ]
    for venue in ("binanceusdm", "bybit", "okx", "hyperliquid"):
        if venue not in used:
            lines += [f"[venues.{venue}]", "enabled = false"]
    path.write_text("\n".join(lines) + "\n")
    return path


async def _until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def _liquidations_in(path: Path) -> int:
    try:
        return describe(path).rows["liquidations"]
    except Exception:
        return 0  # not created yet


async def test_record_live_venues_then_stats(fake_exchange, tmp_path):
    binance, bybit = await fake_exchange("binanceusdm"), await fake_exchange("bybit")
    config = write_config(tmp_path / "c.toml", [binance, bybit])
    out = tmp_path / "live.sqlite"
    proc = await asyncio.create_subprocess_exec(
        *LIQTUI,
        "record",
        "--out",
        str(out),
        "--config",
        str(config),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        # The exact topics of the frames pushed below: the fakes drop a frame whose topic is not
        # subscribed yet (any "allLiquidation" topic could be BTC's alone).
        await binance.wait_subscribed("!forceOrder@arr", timeout=30)
        await bybit.wait_subscribed("allLiquidation.ETHUSDT", timeout=30)
        for i in range(10):
            await binance.push(
                binance.liquidation_frame("BTC", side="long", price=90_000, qty=0.1, time_ms=T + i)
            )
        await bybit.push(
            bybit.liquidation_frame_multi(
                "ETH", [dict(side="short", price=3000, qty=2, time_ms=T + 1000 + i) for i in range(5)]
            )
        )
        await _until(lambda: _liquidations_in(out) >= 15, 30, "15 liquidations in the recording")
    finally:
        proc.send_signal(signal.SIGTERM)
        _stdout, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert "recording LIVE" in err.decode()

    result = await asyncio.to_thread(
        subprocess.run,
        [*LIQTUI, "stats", str(out), "--json", "--window", "all"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    rows = {(r["venue"], r["symbol"], r["side"]): r for r in json.loads(result.stdout)["liquidations"]}
    assert set(rows) == {("binanceusdm", "BTC/USDT:USDT", "long"), ("bybit", "ETH/USDT:USDT", "short")}
    binance_row = rows["binanceusdm", "BTC/USDT:USDT", "long"]
    assert binance_row["count"] == 10 and binance_row["usd"] == pytest.approx(90_000.0)
    assert binance_row["largest_usd"] == pytest.approx(9_000.0) and binance_row["sampled"]
    bybit_row = rows["bybit", "ETH/USDT:USDT", "short"]
    assert (
        bybit_row["count"] == 5 and bybit_row["usd"] == pytest.approx(30_000.0) and not bybit_row["sampled"]
    )
    info = describe(out)
    assert info.source_mode == "LIVE" and info.rows["status"] > 0  # feed states are recorded too


def _books_in(path: Path) -> list[BookSnapshot]:
    try:
        return list(read_events(path, kinds=["books"]))
    except Exception:
        return []  # not created yet


async def test_record_live_stores_the_books_of_every_watchlist_symbol(fake_exchange, tmp_path):
    from fakes.core import DEFAULT_COINS

    deep = {base: {**spec, "book_depth": 80} for base, spec in DEFAULT_COINS.items()}  # deeper than stored
    binance, bybit = await fake_exchange("binanceusdm", coins=deep), await fake_exchange("bybit", coins=deep)
    config = write_config(tmp_path / "c.toml", [binance, bybit])
    out = tmp_path / "live.sqlite"
    wanted = {
        (venue, symbol) for venue in ("binanceusdm", "bybit") for symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT")
    }
    proc = await asyncio.create_subprocess_exec(
        *LIQTUI,
        "record",
        "--out",
        str(out),
        "--config",
        str(config),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        await _until(
            lambda: wanted <= {(b.venue, b.symbol) for b in _books_in(out)},
            60,
            "BTC and ETH books of both venues",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        _stdout, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    books = _books_in(out)
    assert {(b.venue, b.symbol) for b in books} == wanted  # SOL is listed but not on the watchlist
    for book in books:
        assert len(book.bids) == len(book.asks) == 50, (book.venue, book.symbol)
        assert book.bids[0][0] < book.asks[0][0]
