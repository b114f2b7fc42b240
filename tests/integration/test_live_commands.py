"""`liqtui tail` and `liqtui snapshot` as a user runs them (subprocess), against loopback fakes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fakes import FakeExchange

LIQTUI = [sys.executable, "-m", "liqtui"]


def write_config(path: Path, fakes: list[FakeExchange], **top: object) -> Path:
    def table(mapping: dict[str, str]) -> str:
        return "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in mapping.items()) + " }"

    lines = [f"{key} = {json.dumps(value)}" for key, value in top.items()]
    used = {fake.venue for fake in fakes}
    for fake in fakes:
        lines += [
            f"[venues.{fake.venue}]",
            f"url_rewrite = {table(fake.url_rewrite)}",
            'ccxt = { "rateLimit" = 1, "timeout_on_exit" = 0 }',
        ]
    for venue in ("binanceusdm", "bybit", "okx", "hyperliquid"):
        if venue not in used:
            lines += [f"[venues.{venue}]", "enabled = false"]
    path.write_text("\n".join(lines) + "\n")
    return path


async def run_liqtui(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *LIQTUI, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"}
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def test_tail_json_lines_from_two_venues_with_health_on_stderr(fake_exchange, tmp_path):
    binance, bybit = await fake_exchange("binanceusdm"), await fake_exchange("bybit")
    config = write_config(tmp_path / "c.toml", [binance, bybit])
    proc = asyncio.ensure_future(
        run_liqtui("tail", "--json", "--duration", "3", "--min-usd", "1000", "--config", str(config))
    )
    # The exact topics of the frames pushed below: the fakes drop a frame whose topic is not subscribed.
    await binance.wait_subscribed("!forceOrder@arr", timeout=20)
    await bybit.wait_subscribed("allLiquidation.ETHUSDT", timeout=20)
    for i in range(10):
        await binance.push(
            binance.liquidation_frame(
                "BTC", side="long", price=90_000, qty=0.1, time_ms=1_790_000_000_000 + i
            )
        )
    await bybit.push(
        bybit.liquidation_frame_multi(
            "ETH", [dict(side="long", price=3000, qty=2, time_ms=1_790_000_001_000 + i) for i in range(5)]
        )
    )
    await bybit.push(
        bybit.liquidation_frame("ETH", side="short", price=3000, qty=0.01)
    )  # $30: below --min-usd
    code, out, err = await proc
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 15
    # price_kind added on purpose (fill or bankruptcy price, docs/exchanges.md); source too (feed, backstop, tracked)
    assert set(rows[0]) == {
        "venue",
        "symbol",
        "side",
        "price",
        "price_kind",
        "qty",
        "usd",
        "time",
        "sampled",
        "source",
    }
    assert {r["source"] for r in rows} == {"feed"}
    by_venue = {v: [r for r in rows if r["venue"] == v] for v in ("binanceusdm", "bybit")}
    assert all(
        r["side"] == "long" and r["usd"] == pytest.approx(9000) and r["sampled"]
        for r in by_venue["binanceusdm"]
    )
    assert all(
        r["symbol"] == "ETH/USDT:USDT" and r["usd"] == pytest.approx(6000) and not r["sampled"]
        for r in by_venue["bybit"]
    )
    assert "binanceusdm live" in err and "bybit live" in err  # health goes to stderr, not into the JSON


async def test_tail_text_is_aligned_and_symbols_filter_accepts_short_forms(fake_exchange, tmp_path):
    binance = await fake_exchange("binanceusdm")
    config = write_config(tmp_path / "c.toml", [binance])
    proc = asyncio.ensure_future(
        run_liqtui("tail", "--duration", "2.5", "--symbols", "eth", "--config", str(config))
    )
    await binance.wait_subscribed("!forceOrder@arr", timeout=20)
    await asyncio.sleep(0.5)  # the filter is ready once the markets are loaded
    await binance.push(binance.liquidation_frame("BTC", side="long", qty=1))
    await binance.push(binance.liquidation_frame("ETH", side="short", qty=3, price=3100))
    code, out, err = await proc
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 1 and "ETH/USDT:USDT" in lines[0] and "SHORT" in lines[0] and "$" in lines[0]
    assert "\x1b[" not in out  # not a terminal: no colour codes


async def test_tail_unknown_symbol_is_one_clear_error(fake_exchange, tmp_path):
    binance = await fake_exchange("binanceusdm")
    config = write_config(tmp_path / "c.toml", [binance])
    code, out, err = await run_liqtui(
        "tail", "--duration", "10", "--symbols", "BTCUSTD", "--config", str(config)
    )
    assert code == 2 and out == ""
    assert "unknown symbol 'BTCUSTD'" in err and "BTC/USDT:USDT" in err and "Traceback" not in err


async def test_snapshot_json_per_venue_and_symbol(fake_exchange, tmp_path):
    venues = ["binanceusdm", "bybit", "okx", "hyperliquid"]
    fakes = [await fake_exchange(v) for v in venues]
    for fake in fakes:
        fake.set_open_interest("BTC", 12_345.0)
        fake.set_price("BTC", 80_000.0)
    config = write_config(tmp_path / "c.toml", fakes, watchlist=["BTC/USDT:USDT", "ETH/USDT:USDT"])
    code, out, err = await run_liqtui("snapshot", "--json", "--config", str(config))
    assert code == 0, err
    data = json.loads(out)
    assert data["unavailable"] == {}
    btc = {r["venue"]: r for r in data["rows"] if r["symbol"].startswith("BTC/")}
    assert set(btc) == set(venues)
    for row in btc.values():
        assert row["oi_base"] == pytest.approx(12_345.0)
        assert row["oi_usd"] == pytest.approx(12_345.0 * 80_000.0, rel=0.01)
        assert row["mark"] == pytest.approx(80_000.0, rel=0.01)
        assert row["funding_rate"] is not None and row["volume_24h_usd"] > 0


async def test_snapshot_labels_each_venues_funding_interval(fake_exchange, tmp_path):
    """Each rate is per its venue's interval and says which (Hyperliquid hourly, the others 8-hourly)."""
    venues = [v for v in ("binanceusdm", "bybit", "okx", "hyperliquid") if v in FakeExchange._venues]
    fakes = [await fake_exchange(v) for v in venues]
    config = write_config(tmp_path / "c.toml", fakes, watchlist=["BTC/USDT:USDT"])
    code, out, err = await run_liqtui("snapshot", "--json", "--config", str(config))
    assert code == 0, err
    hours = {r["venue"]: r["funding_interval_hours"] for r in json.loads(out)["rows"]}
    assert hours == {v: (1.0 if v == "hyperliquid" else 8.0) for v in venues}
    code, out, err = await run_liqtui("snapshot", "--config", str(config))
    assert code == 0, err
    for line in out.splitlines()[2:]:
        venue = line.split()[1]
        assert ("%/1h" if venue == "hyperliquid" else "%/8h") in line, line


async def test_snapshot_reports_a_venue_that_is_down_and_still_shows_the_others(fake_exchange, tmp_path):
    binance, bybit = await fake_exchange("binanceusdm"), await fake_exchange("bybit")
    bybit.not_found("/v5/market/tickers")
    config = write_config(tmp_path / "c.toml", [binance, bybit])
    code, out, err = await run_liqtui("snapshot", "--config", str(config), "--timeout", "10")
    assert code == 0, err
    assert "binanceusdm" in out and "bybit" not in out
    assert "bybit unavailable" in err and "404" in err


async def test_risk_live_backfills_each_venue_and_prints_per_venue_and_total(fake_exchange, tmp_path):
    binance, bybit = await fake_exchange("binanceusdm"), await fake_exchange("bybit")
    config = write_config(tmp_path / "c.toml", [binance, bybit])
    code, out, err = await run_liqtui("risk", "btc", "--to", "100000", "--json", "--config", str(config))
    assert code == 0, err
    data = json.loads(out)
    assert data["estimated"] is True and data["target"] == 100000
    rows = {r["venue"]: r for r in data["venues"]}
    assert set(rows) == {"binanceusdm", "bybit"}
    assert all(r["side"] == "shorts" and r["usd"] > 0 and r["oi_samples"] > 100 for r in rows.values())
    assert (
        rows["binanceusdm"]["maintenance_rate"] == 0.004 and rows["binanceusdm"]["margin_source"] == "default"
    )
    assert rows["bybit"]["margin_source"] == "bybit risk-limit"
    assert data["total_usd"] == pytest.approx(sum(r["usd"] for r in rows.values()))
    assert data["measured"] == []  # no venue here publishes positions (Hyperliquid's tracked accounts)
    # a target below the price asks for the longs instead
    code, out, err = await run_liqtui(
        "risk", "BTC/USDT:USDT", "--to", "90000", "--json", "--venues", "binanceusdm", "--config", str(config)
    )
    (row,) = json.loads(out)["venues"]
    assert code == 0 and row["side"] == "longs" and row["usd"] > 0


async def test_risk_live_takes_the_desks_price_forms(fake_exchange, tmp_path):
    """`92k` and `+5%` as the desk's `g` takes them; a % is from the venue with the most 24 h volume."""
    binance, bybit = await fake_exchange("binanceusdm"), await fake_exchange("bybit")
    config = write_config(tmp_path / "c.toml", [binance, bybit])
    code, out, err = await run_liqtui("risk", "btc", "--to", "100k", "--json", "--config", str(config))
    assert code == 0, err
    assert json.loads(out)["target"] == 100_000 and json.loads(out)["target_from"] is None
    code, out, err = await run_liqtui("risk", "btc", "--to", "+5%", "--json", "--config", str(config))
    assert code == 0, err
    data = json.loads(out)
    rows = {r["venue"]: r for r in data["venues"]}
    lead = data["target_from"]
    assert lead["venue"] in rows and lead["price"] == rows[lead["venue"]]["price"]
    assert data["target"] == pytest.approx(lead["price"] * 1.05)
    assert all(r["side"] == "shorts" for r in rows.values())


async def test_risk_unknown_symbol_is_one_clear_error(fake_exchange, tmp_path):
    binance = await fake_exchange("binanceusdm")
    config = write_config(tmp_path / "c.toml", [binance])
    code, out, err = await run_liqtui("risk", "ETHH", "--to", "5000", "--config", str(config))
    assert code == 2 and "unknown symbol 'ETHH'" in err and "ETH/USDT:USDT" in err and "Traceback" not in err


def _entry(frame: dict, venue: str) -> dict:
    """The (first) liquidation entry of a fake's frame."""
    return (
        frame["o"]
        if venue == "binanceusdm"
        else frame["data"][0]
        if venue == "bybit"
        else frame["data"][0]["details"][0]
    )


def _set(frame: dict, venue: str, keys: tuple[str, ...], value: object = None) -> dict:
    """``frame`` with ``keys`` of its entry set to ``value`` (None: removed)."""
    entry = _entry(frame, venue)
    for key in keys:
        if value is None:
            entry.pop(key)
        else:
            entry[key] = value
    return frame


async def test_tail_json_skips_entries_without_price_or_size_or_with_nan_and_keeps_full_precision(
    fake_exchange, tmp_path
):
    # An entry with no price was printed as price 0, usd 0; usd was rounded to cents; NaN reached
    # the JSON.
    binance, bybit, okx = [await fake_exchange(v) for v in ("binanceusdm", "bybit", "okx")]
    config = write_config(tmp_path / "c.toml", [binance, bybit, okx])
    proc = asyncio.ensure_future(run_liqtui("tail", "--json", "--duration", "4", "--config", str(config)))
    await binance.wait_subscribed("!forceOrder@arr", timeout=20)
    await bybit.wait_subscribed("allLiquidation.ETHUSDT", timeout=20)
    await okx.wait_subscribed("liquidation-orders", timeout=20)
    no_price = {"binanceusdm": ("ap", "p"), "bybit": ("p",), "okx": ("bkPx",)}
    no_size = {"binanceusdm": ("z", "l", "q"), "bybit": ("v",), "okx": ("sz",)}
    for fake in (binance, bybit, okx):
        await fake.push(
            _set(
                fake.liquidation_frame("ETH", qty=1, time_ms=1_790_000_000_000),
                fake.venue,
                no_price[fake.venue],
            )
        )
        await fake.push(
            _set(
                fake.liquidation_frame("ETH", qty=1, time_ms=1_790_000_000_001),
                fake.venue,
                no_size[fake.venue],
            )
        )
        await fake.push(
            _set(
                fake.liquidation_frame("ETH", qty=1, time_ms=1_790_000_000_002),
                fake.venue,
                no_price[fake.venue],
                "NaN",
            )
        )
    await bybit.push(
        bybit.liquidation_frame("ETH", side="short", price=1880.78, qty=0.02, time_ms=1_790_000_000_003)
    )
    code, out, err = await proc
    assert code == 0, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["usd"] == 37.6156 and '"usd": 37.6156' in out
    assert row["price_kind"] == "bankruptcy" and row["price"] == 1880.78
    assert "NaN" not in out and "Infinity" not in out
    assert "1 liquidations" in err and "9 malformed frames or entries skipped" in err
    assert (
        "malformed frames or entries skipped (last: liquidation entry skipped:" in err
    )  # the venue's status says so


async def test_tail_symbols_filter_from_the_start_and_a_dead_venue_never_holds_back_the_duration(
    fake_exchange, tmp_path
):
    # Symbol resolution waited 30 s for every venue, whatever --duration said, and
    # printed every symbol meanwhile. A venue on a closed port never loads its markets here.
    binance = await fake_exchange("binanceusdm")
    config = write_config(tmp_path / "c.toml", [binance])
    text = config.read_text().replace(
        "[venues.bybit]\nenabled = false",
        '[venues.bybit]\nurl_rewrite = { "https://api.bybit.com" = "http://127.0.0.1:9", "wss://stream.bybit.com" = "ws://127.0.0.1:9" }',
    )
    config.write_text(text)
    proc = asyncio.ensure_future(
        run_liqtui("tail", "--json", "--symbols", "BTC", "--duration", "4", "--config", str(config))
    )
    await binance.wait_subscribed("!forceOrder@arr", timeout=20)
    await binance.push(binance.liquidation_frame("ETH", qty=1, time_ms=1_790_000_000_000))
    await binance.push(binance.liquidation_frame("BTC", qty=1, time_ms=1_790_000_000_001))
    code, out, err = await asyncio.wait_for(proc, 25)  # a hang guard: the old code ran 31 s
    assert code == 0, err
    assert [json.loads(line)["symbol"] for line in out.splitlines()] == ["BTC/USDT:USDT"]
    assert "liqtui: 1 liquidations (binanceusdm 1, bybit 0)" in err
    assert "bybit down" in err and "Traceback" not in err


async def test_sigterm_ends_tail_with_its_summary_and_exit_0(fake_exchange, tmp_path):
    binance = await fake_exchange("binanceusdm")
    config = write_config(tmp_path / "c.toml", [binance])
    proc = await asyncio.create_subprocess_exec(
        *LIQTUI,
        "tail",
        "--json",
        "--config",
        str(config),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    await binance.wait_subscribed("!forceOrder@arr", timeout=20)
    await binance.push(binance.liquidation_frame("BTC", qty=1, time_ms=1_790_000_000_000))
    first = await asyncio.wait_for(proc.stdout.readline(), 20)
    assert json.loads(first)["symbol"] == "BTC/USDT:USDT"
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert "liqtui: 1 liquidations (binanceusdm 1)" in err.decode() and "Traceback" not in err.decode()
