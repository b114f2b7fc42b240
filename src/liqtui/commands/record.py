"""`liqtui record`: record every event of the live venues (or the demo market) to SQLite, headless.

Runs until ``--duration`` seconds have passed, or SIGINT/SIGTERM; either way every event received
is flushed to the file before the command exits. The config's alert rules run over the events (not
over the source's history) and the alerts they say are recorded too, so a replay shows them again.
Never imports Textual.

The engine the rules read runs whether there are rules or not, as in the desk, so the file also holds
the heatmap's closed buckets (engine/heatmap.py): a restart or a replay from it draws the history the
desk would have recorded. A live recording warms that engine from the file first, as the live desk does.

Exit codes: 0 done; 1 the source or the recording stopped (disk full: the message says why);
2 the file cannot be recorded into (another recorder holds it, foreign, unwritable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from liqtui.commands._args import DURATION, NumberIn
from liqtui.commands._bus import BusError, add_bus_arguments, bus_url
from liqtui.config import Settings
from liqtui.domain.events import Event
from liqtui.feeds.event_source import EventSource
from liqtui.storage import Recorder, StoreError
from liqtui.storage.recorder import default_path

DEMO_RATES = ("calm", "busy", "stress")
PROGRESS_EVERY_S = 60.0


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--out",
        metavar="PATH",
        default=None,
        help="recording file (default: the config's record_path, else <data dir>/liqtui.sqlite; "
        "with --demo the same name ending -demo: demo and live data never share a file)",
    )
    parser.add_argument(
        "--duration",
        metavar="S",
        type=NumberIn(DURATION),
        default=None,
        help=f"stop after S seconds, S in {DURATION} (default: until Ctrl-C or SIGTERM)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="record the simulated market instead of live venues (the file is marked DEMO)",
    )
    parser.add_argument(
        "--seed", metavar="N", type=int, default=None, help="demo: random seed (deterministic)"
    )
    parser.add_argument(
        "--rate", choices=DEMO_RATES, default=None, help="demo: market activity (default busy)"
    )
    add_bus_arguments(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not args.demo and (args.seed is not None or args.rate is not None):
        print("liqtui: --seed and --rate apply to --demo only", file=sys.stderr)
        return 2
    url = bus_url(args, settings)
    if url and (args.seed is not None or args.rate is not None):
        print("liqtui: --seed and --rate set the collector's demo, not a reader of the bus", file=sys.stderr)
        return 2
    mode = "DEMO" if args.demo else "LIVE"
    path = Path(args.out).expanduser() if args.out else default_path(settings, mode)
    try:
        recorder = Recorder(path, retention_days=settings.retention_days, source_mode=mode)
    except StoreError as exc:
        print(f"liqtui: {exc}", file=sys.stderr)
        return 2
    try:
        try:
            source = _bus_source(args, settings, url) if url else _source(args, settings)
            if hasattr(source, "resume_positions"):
                source.resume_positions(path)  # the tracked accounts of the last run, again
        except ImportError as exc:
            print(f"liqtui: this build cannot record that source ({exc})", file=sys.stderr)
            return 2
        where = " from the bus" if url else ""
        started = f"liqtui: recording {source.mode}{where} to {path} (Ctrl-C to stop)"
        try:
            tap = RecordTap(settings, source, recorder, warm_from=None if args.demo else path)
        except StoreError as exc:
            print(f"liqtui: {exc}", file=sys.stderr)
            return 2
        try:
            failure = asyncio.run(_record(source, tap.take, recorder, args.duration, started))
        except BusError as exc:
            print(f"liqtui: {exc}", file=sys.stderr)
            return 2
        tap.finish()
    finally:
        recorder.close()
    _report(recorder, path, hint=args.demo and not args.out)
    if tap.unusable:
        print(f"liqtui: {tap.unusable:,} events the engine could not use (recorded)", file=sys.stderr)
    if recorder.error is not None:
        print(f"liqtui: {recorder.error}", file=sys.stderr)
        return 1
    if failure:
        print(f"liqtui: the source stopped: {failure}", file=sys.stderr)
        return 1
    return 0


def _source(args: argparse.Namespace, settings: Settings) -> EventSource:
    # Imported here: only the source asked for is loaded.
    if args.demo:
        from liqtui.feeds.demo import DemoSource

        options: dict = {"realtime": True}
        if args.seed is not None:
            options["seed"] = args.seed
        if args.rate is not None:
            options["rate"] = args.rate
        return DemoSource(settings, **options)
    from liqtui.feeds.live.adapter import RECORD_BOOK_LEVELS
    from liqtui.feeds.live.source import LiveSource

    # The books of the whole watchlist (not just the desk's focus), 50 levels a side
    # where the venue has them; the recorder keeps one a second per venue and symbol.
    return LiveSource(settings, book_symbols=list(settings.watchlist), book_levels=RECORD_BOOK_LEVELS)


def _bus_source(args: argparse.Namespace, settings: Settings, url: str) -> EventSource:
    """Every event a collector publishes from now on, after the latest of each venue's ticker, book
    and feed state (no exchange connection; the collector's demo stream with --demo)."""
    import dataclasses

    from liqtui.feeds.bus.source import BusSource

    bus = dataclasses.replace(settings.bus, url=url)
    return BusSource(dataclasses.replace(settings, bus=bus), demo=args.demo)


class RecordTap:
    """Every event into the recorder, then into an engine as the desk's: the heatmap buckets it closes
    are recorded (event first, then its buckets, as the desk), and the config's alert rules read it
    (after the source's history: only live events alert), their alerts recorded beside the events.
    ``warm_from``: the recording whose history the engine starts from (buckets it holds are not made
    twice)."""

    def __init__(
        self, settings: Settings, source: EventSource, recorder: Recorder, warm_from: Path | None = None
    ) -> None:
        from liqtui.engine import Engine
        from liqtui.engine.alerts import AlertEvaluator

        self.recorder, self.unusable = recorder, 0
        self.engine = Engine(settings.levels)
        if warm_from is not None:
            from liqtui.storage.reader import warm

            warm(self.engine, warm_from, source.now_ms(), lookback_days=settings.levels.lookback_days)
        rules = settings.alerts.active_rules()
        history = lambda: getattr(source, "warmup", None) is not None  # noqa: E731 - the demo's backfill
        self.alerts = (
            AlertEvaluator(rules, self.engine, since_ms=source.now_ms(), history=history) if rules else None
        )

    def take(self, event: Event) -> None:
        self.recorder.add(event)
        try:
            self.engine.apply(event)
            fired = self.alerts.see(event) if self.alerts is not None else ()
        except Exception:  # noqa: BLE001 - the recording goes on; counted and said at the end
            self.unusable += 1
            return
        for bucket in self.engine.take_heatmap_buckets():
            self.recorder.add(bucket)
        for alert in fired:
            self.recorder.add(alert)

    def finish(self) -> None:
        """The running totals of alerts still open (their last update) go into the recording."""
        for alert in self.alerts.flush() if self.alerts is not None else []:
            self.recorder.add(alert)


async def _record(
    source: EventSource,
    take: Callable[[Event], None],
    recorder: Recorder,
    duration: float | None,
    started: str,
) -> str | None:
    """Run ``source`` into ``recorder`` until the duration, a signal, or a recording error.

    Returns a description of the source's failure, or None when it was stopped normally. A source
    with ``open`` (the bus) is opened first: BusError (exit 2) when it cannot be. ``started`` is said
    once the source is open.
    """
    if hasattr(source, "open"):
        await source.open()
    print(started, file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    feed = asyncio.create_task(source.run(take))
    watch = asyncio.create_task(_watch(recorder, stop, duration))
    await asyncio.wait({feed, watch}, return_when=asyncio.FIRST_COMPLETED)
    for task in (feed, watch):
        task.cancel()
    results = await asyncio.gather(feed, watch, return_exceptions=True)
    if hasattr(source, "close"):
        await source.close()
    error = results[0]
    if isinstance(error, BaseException) and not isinstance(error, asyncio.CancelledError):
        return f"{type(error).__name__}: {error}"
    return None


async def _watch(recorder: Recorder, stop: asyncio.Event, duration: float | None) -> None:
    started = time.monotonic()
    next_report = started + PROGRESS_EVERY_S
    while not stop.is_set() and recorder.error is None:
        now = time.monotonic()
        if duration is not None and now - started >= duration:
            return
        if now >= next_report:
            next_report += PROGRESS_EVERY_S
            print(f"liqtui: {_counts(recorder)}", file=sys.stderr, flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


def _counts(recorder: Recorder) -> str:
    written = {kind: count for kind, count in recorder.written.items() if kind != "alerts" and count}
    parts = ", ".join(f"{kind} {count:,}" for kind, count in sorted(written.items()))
    alerts = recorder.written["alerts"]
    return (
        f"{sum(written.values()):,} events recorded"
        + (f" ({parts})" if parts else "")
        + (f" and {alerts:,} alert{'s' if alerts > 1 else ''}" if alerts else "")
    )


def _report(recorder: Recorder, path: Path, hint: bool) -> None:
    print(f"liqtui: {_counts(recorder)} to {path}", file=sys.stderr)
    if recorder.rejected:
        print(f"liqtui: {recorder.rejected:,} malformed events skipped (not recordable)", file=sys.stderr)
    if recorder.dropped:
        print(f"liqtui: {recorder.dropped:,} events lost: the recording had stopped", file=sys.stderr)
    if hint:  # `liqtui stats` alone reads the live recording, not this one
        print(f"liqtui: read it with: liqtui stats {path}", file=sys.stderr)
