"""The desk commands: `liqtui` / `liqtui live`, `liqtui demo`, `liqtui replay FILE`.

Each builds a source, an engine (warmed from the recording when the live desk records, after the
first frame) and runs the
Textual app. Textual is imported only when a desk actually starts, so `liqtui --help` stays fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from typing import Any

from liqtui.commands._args import REPLAY_SPEED, NumberIn
from liqtui.config import LAYOUTS, settings_warnings

DEMO_RATES = ("calm", "busy", "stress")


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default=None,
        help="auto (by terminal width), full, medium, compact, or one pane: tape, ladder, oi, heatmap "
        "(default: [ui] layout in the config)",
    )
    if name in ("live", "demo"):
        parser.add_argument(
            "--bus",
            metavar="URL",
            default=None,
            help="read a liqtui collector's NATS bus instead of the venues"
            + (" (default: [bus] url)" if name == "live" else "' demo stream (collect --demo)"),
        )
    if name == "demo":
        parser.add_argument("--seed", type=int, default=7, help="the simulation's seed (default 7)")
        parser.add_argument(
            "--rate", choices=DEMO_RATES, default="busy", help="how lively the market is (default busy)"
        )
    if name == "replay":
        parser.add_argument("file", metavar="FILE", help="a recording (liqtui record, or the desk's own)")
        parser.add_argument(
            "--speed",
            type=NumberIn(REPLAY_SPEED),
            default=1.0,
            help=f"replay speed, 1 = real time, in {REPLAY_SPEED} (default 1)",
        )
        parser.add_argument(
            "--from",
            dest="start",
            metavar="TIME",
            default=None,
            help="start here: '2026-01-31 15:00' (UTC), an ms epoch, or an offset from the "
            "recording's start such as +90m or +2h (default: where its live part starts, "
            "after the backfill)",
        )


def parse_start(text: str, recording_start_ms: int) -> int:
    """--from TIME as ms epoch; ValueError with words for anything else."""
    text = text.strip()
    offset = re.fullmatch(r"\+(\d+(?:\.\d+)?)\s*([smhd])", text)
    if offset:
        seconds = float(offset.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[offset.group(2)]
        return recording_start_ms + int(seconds * 1000)
    if text.isdigit():
        return int(text)
    try:
        when = dt.datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
    except ValueError:
        raise ValueError(
            f"--from {text!r}: expected '2026-01-31 15:00' (UTC), an ms epoch, or +90m"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def _fail(message: str) -> int:
    print(f"liqtui: {message}", file=sys.stderr)
    return 2


def _engine(settings: Any) -> Any:
    from liqtui.ui.app import default_engine

    return default_engine(settings)


def _demo_factory(settings: Any, *, seed: int = 7, rate: str = "busy") -> Any:
    def build() -> Any:
        from liqtui.feeds.demo import DemoSource

        return DemoSource(settings, seed=seed, rate=rate)

    return build


def _live_recorder(settings: Any, engine: Any, now_ms: int, child: Any = None) -> tuple[Any, Any, str | None]:
    """The recorder of the live desk and the warm-up of the engine from it (``Warming``, applied after
    the desk's first frame); (None, None, why) when the file cannot be used. ``child``: a reading child
    (``_warm_child``) that reads the warm-up's liquidations meanwhile (feeds/replay_ahead.py), or ends."""
    from liqtui.feeds.replay_ahead import discard
    from liqtui.storage.reader import start_warm
    from liqtui.storage.recorder import Recorder, default_path
    from liqtui.storage.schema import StoreError

    taken: list[Any] = []

    def ahead(path: Any, spans: Any, until_ms: int) -> Any:
        from liqtui.feeds.replay_ahead import ReadAhead

        try:
            taken.append(ReadAhead(path, until_ms, child, spans))
        except (StoreError, OSError):  # it ended the child: a file that fails says so when read here
            taken.append(None)
        return taken[0]

    path = default_path(settings)
    try:
        warming = start_warm(
            engine,
            path,
            now_ms,
            lookback_days=settings.levels.lookback_days,
            ahead=ahead if child is not None else None,
        )
    except (StoreError, OSError) as exc:
        if not taken:
            discard(child)
        return None, None, f"recording is off: {exc}"
    if not taken:
        discard(child)
    try:
        return Recorder(path, retention_days=settings.retention_days), warming, None
    except (StoreError, OSError) as exc:
        warming.close()
        return None, None, f"recording is off: {exc}"


def _warm_child(settings: Any) -> Any:
    """A child that reads the live desk's warm-up (``_live_recorder``), started first thing: it gets
    ready while the desk imports and starts; None without a recording to warm from, or on one core."""
    from pathlib import Path

    from liqtui.feeds.replay_ahead import held_in_blocks, spare_child

    path = Path(settings.recording_path)
    # A recording whose liquidations are in packed blocks is read by the desk itself (~0.1 s): no child.
    return spare_child() if settings.record and path.exists() and not held_in_blocks(path) else None


def run(args: argparse.Namespace, settings: Any) -> int:
    command = args.command or "live"
    url = getattr(args, "bus", None) or (settings.bus.url if command == "live" else "")
    if url and command in ("live", "demo"):
        return _run_bus(args, settings, url, demo=command == "demo")
    if command == "demo":
        return _run_demo(args, settings)
    if command == "replay":
        return _run_replay(args, settings)
    return _run_live(args, settings)


def _run_app(
    settings: Any,
    source: Any,
    engine: Any,
    layout: str | None,
    *,
    recorder: Any = None,
    demo: Any = None,
    notes: tuple[str, ...] = (),
    recording_off: bool = False,
    history: Any = None,
) -> int:
    from liqtui.ui.app import LiqtuiApp

    app = LiqtuiApp(settings, source, engine=engine, recorder=recorder, layout=layout, demo=demo)
    app.history = history  # the recording's, applied after the first frame
    for note in (*settings_warnings(settings), *notes):  # stderr is hidden behind the desk
        app.startup_notes.append(note)
    app.recording_off = recording_off
    try:
        app.run()
    finally:
        app.alerts.close()
        if app.recorder is not None:
            app.recorder.close()
        elif recorder is not None:
            recorder.close()
    return app.return_code or 0


def _run_demo(args: argparse.Namespace, settings: Any) -> int:
    source = _demo_factory(settings, seed=args.seed, rate=args.rate)()
    return _run_app(settings, source, _engine(settings), args.layout)


def _run_replay(args: argparse.Namespace, settings: Any) -> int:
    from liqtui.feeds.replay_ahead import discard, held_in_blocks, spare_child, take_early

    # A replay from a time given catches up to it: the child that may read the catch-up starts first,
    # getting ready while this process imports and reads what to tell it (feeds/replay_ahead.py); the
    # command line started it already when it saw a replay with --from (cli.py, ``_start_early``).
    child = take_early()
    if args.start is None:
        discard(child)
        child = None
    elif child is None and not held_in_blocks(args.file):  # a file in blocks is read by the desk itself
        child = spare_child()
    from liqtui.feeds.replay import ReplaySource
    from liqtui.storage.reader import describe
    from liqtui.storage.schema import StoreError

    try:
        info = describe(args.file)
        start = None
        if args.start is not None and info.start_ms is not None and info.end_ms is not None:
            start = parse_start(args.start, info.start_ms)
            _check_within(args.start, start, info)
        # --speed: checked by argparse; a large catch-up is read by a child process (feeds/replay_ahead.py)
        source = ReplaySource(
            args.file, speed=args.speed, start_ms=start, read_ahead=True, child=child, info=info
        )
    except (StoreError, ValueError, OSError) as exc:
        discard(child)
        return _fail(str(exc))
    return _run_app(settings, source, _engine(settings), args.layout)


def _check_within(text: str, start_ms: int, info: Any) -> None:
    """--from must fall inside the recording: say its time range otherwise."""
    if info.start_ms <= start_ms <= info.end_ms:
        return
    where = "after the recording ends" if start_ms > info.end_ms else "before the recording starts"
    span = f"{_utc(info.start_ms)} to {_utc(info.end_ms)}"
    if info.live_start_ms is not None and info.live_start_ms > info.start_ms:
        span += f" (backfill until {_utc(info.live_start_ms)})"
    raise ValueError(f"--from {text!r} ({_utc(start_ms)}) is {where}: {info.path} holds {span}")


def _utc(ms: int) -> str:
    try:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):  # beyond the calendar: say the number
        return f"ms epoch {ms}"


def _run_bus(args: argparse.Namespace, settings: Any, url: str, *, demo: bool) -> int:
    """The desk on a collector's bus: the stream's history (24 h totals, OI history and clusters),
    then live; no exchange connection, no recording of its own (the collector records: collect
    --record). The bus is checked before the desk starts: one message and exit 2 when it cannot be used."""
    import asyncio
    import dataclasses
    import time

    from liqtui.feeds.bus.client import BusError
    from liqtui.feeds.bus.source import BusSource

    settings = dataclasses.replace(settings, bus=dataclasses.replace(settings.bus, url=url))

    def source() -> BusSource:
        since = int(time.time() * 1000) - int(settings.bus.max_age_hours * 3_600_000)
        return BusSource(settings, demo=demo, history=("liq", "oi", "bar", "margin"), since_ms=since)

    async def check() -> None:
        probe = source()
        try:
            await probe.open()
        finally:
            await probe.close()

    try:
        asyncio.run(check())
    except BusError as exc:
        return _fail(str(exc))
    return _run_app(
        settings,
        source(),
        _engine(settings),
        args.layout,
        notes=("recording is off on a bus desk: the collector records (liqtui collect --record)",),
        recording_off=True,
    )


def _run_live(args: argparse.Namespace, settings: Any) -> int:
    if not settings.enabled_venues:
        return _fail(f"{settings.source}: every venue is disabled; enable one, or run `liqtui demo`")
    child = _warm_child(settings)
    from liqtui.feeds.live.source import LiveSource

    source = LiveSource(settings, ccxt_later=True)  # imported once the history is in
    engine = _engine(settings)
    recorder, history, why_not = (None, None, None)
    if settings.record:
        recorder, history, why_not = _live_recorder(settings, engine, source.now_ms(), child)
        if recorder is not None:
            source.resume_positions(recorder.path)  # the accounts tracked last time, looked at again
    notes = (why_not,) if why_not else ()
    return _run_app(
        settings,
        source,
        engine,
        args.layout,
        recorder=recorder,
        demo=_demo_factory(settings),
        notes=notes,
        recording_off=why_not is not None,
        history=history,
    )
