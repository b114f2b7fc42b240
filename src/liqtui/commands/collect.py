"""`liqtui collect --bus URL`: one process reads the venues (or the seeded demo) and publishes every
event to a NATS JetStream stream that any number of desks read (docs/bus.md). Never imports Textual.

It creates the stream (or checks the one there has the settings of ``[bus]``), then publishes until
``--duration``, SIGINT or SIGTERM, with a heartbeat every few seconds so desks can tell a silent
collector from a quiet market. ``--record`` also writes every event to SQLite as `liqtui record`
does. Two collectors may run at once on the same bus: each event's content id makes the stream
keep it once.

Exit codes: 0 done; 1 the recording or the source stopped; 2 the bus cannot be used (unreachable,
credentials, a stream with other settings) or the recording file cannot be opened.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from liqtui.commands._args import DURATION, NumberIn
from liqtui.commands.record import DEMO_RATES, _source
from liqtui.config import Settings
from liqtui.feeds.bus.client import BusError, BusLink, ensure_stream, redacted_url, stream_spec, subject_root


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--bus", metavar="URL", default=None, help="the NATS server, nats://HOST:PORT (default: [bus] url)"
    )
    parser.add_argument(
        "--demo", action="store_true", help="publish the seeded demo market (to its own stream, marked DEMO)"
    )
    parser.add_argument(
        "--seed", metavar="N", type=int, default=None, help="demo: random seed (deterministic)"
    )
    parser.add_argument(
        "--rate", choices=DEMO_RATES, default=None, help="demo: market activity (default busy)"
    )
    parser.add_argument(
        "--record", action="store_true", help="also record every event to SQLite, as `liqtui record`"
    )
    parser.add_argument(
        "--out", metavar="PATH", default=None, help="with --record: the file (default as `liqtui record`)"
    )
    parser.add_argument(
        "--duration",
        metavar="S",
        type=NumberIn(DURATION),
        default=None,
        help=f"stop after S seconds, S in {DURATION}",
    )
    parser.add_argument(
        "--name", metavar="ID", default=None, help="this collector's id in its heartbeat (default host-pid)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    url = args.bus or settings.bus.url
    if not url:
        print(
            "liqtui: collect needs a bus: --bus nats://HOST:PORT or [bus] url in the config", file=sys.stderr
        )
        return 2
    if not args.demo and (args.seed is not None or args.rate is not None):
        print("liqtui: --seed and --rate apply to --demo only", file=sys.stderr)
        return 2
    import dataclasses

    settings = dataclasses.replace(settings, bus=dataclasses.replace(settings.bus, url=url))
    recorder = _recorder(args, settings) if args.record else None
    if recorder is False:
        return 2
    try:
        return asyncio.run(_collect(args, settings, recorder or None))
    except BusError as exc:
        print(f"liqtui: {exc}", file=sys.stderr)
        return 2
    finally:
        if recorder:
            recorder.close()


def _recorder(args: argparse.Namespace, settings: Settings) -> Any:
    from liqtui.storage import Recorder, StoreError
    from liqtui.storage.recorder import default_path

    mode = "DEMO" if args.demo else "LIVE"
    path = Path(args.out).expanduser() if args.out else default_path(settings, mode)
    try:
        return Recorder(path, retention_days=settings.retention_days, source_mode=mode)
    except StoreError as exc:
        print(f"liqtui: {exc}", file=sys.stderr)
        return False


async def _collect(args: argparse.Namespace, settings: Settings, recorder: Any) -> int:
    from liqtui.feeds.bus.publish import Publisher

    link = BusLink(settings.bus, name="liqtui collect")
    await link.open()
    spec = stream_spec(settings.bus, demo=args.demo)
    try:
        outcome = await ensure_stream(link, spec)
        source = _source(args, settings)
        collector = args.name or f"{socket.gethostname()}-{os.getpid()}"
        publisher = Publisher(link, root=subject_root(args.demo), collector=collector, now_ms=source.now_ms)
        print(
            f"liqtui: collecting {source.mode} to {redacted_url(link.bus.url)} stream {spec.name} ({outcome}) "
            f"as {collector}" + (f", recording to {recorder.path}" if recorder else ""),
            file=sys.stderr,
            flush=True,
        )

        def emit(event: Any) -> None:
            publisher.add(event)
            if recorder is not None:  # the events only: the collector runs no engine, so nothing
                recorder.add(event)  # delays publishing (a desk warming from the file rebuilds the heatmap)

        failure = await _until_stopped(source.run(emit), publisher.run(), args.duration, recorder)
        await publisher.flush()
    finally:
        await link.close()
    published = ", ".join(f"{kind} {n:,}" for kind, n in sorted(publisher.published.items()))
    print(
        f"liqtui: {sum(publisher.published.values()):,} events published ({published or 'none'})",
        file=sys.stderr,
    )
    for count, what in (
        (publisher.lost, "not sent (the bus was away too long)"),
        (publisher.unencodable, "not encodable (NaN or infinite values)"),
    ):
        if count:
            print(f"liqtui: {count:,} events {what}", file=sys.stderr)
    if recorder is not None and recorder.error is not None:
        print(f"liqtui: {recorder.error}", file=sys.stderr)
        return 1
    if failure:
        print(f"liqtui: the source stopped: {failure}", file=sys.stderr)
        return 1
    return 0


async def _until_stopped(
    feed_run: Any, publish_run: Any, duration: float | None, recorder: Any
) -> str | None:
    """Run the source and the publisher until --duration, SIGINT/SIGTERM, or a recording error."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [
        asyncio.ensure_future(feed_run),
        asyncio.ensure_future(publish_run),
        asyncio.ensure_future(_stop_when(stop, recorder)),
    ]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED), duration)
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [
        r for r in results[:2] if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
    ]
    return f"{type(errors[0]).__name__}: {errors[0]}" if errors else None


async def _stop_when(stop: asyncio.Event, recorder: Any) -> None:
    while not stop.is_set() and (recorder is None or recorder.error is None):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)
