"""`liqtui alerts`: the config's alert rules run headless, one line (or JSON object) per alert.

    liqtui alerts [--json] [--exec CMD]                      live venues, until Ctrl-C or --duration
    liqtui alerts --replay FILE [--json] [--exec CMD]        back-test: the rules again over a recording
    liqtui alerts --demo [--seed N] [--rate R] [--json]      the simulated market, marked DEMO
    liqtui alerts --bus URL [--demo] [--json]                a collector's NATS bus (docs/bus.md)

JSON objects carry ``time`` (exchange ms of the event that fired it), ``rule``, ``kind``, ``venue``
and ``side`` (null when the alert spans several), ``symbol``, ``usd``, ``price``, ``count`` and
``text``; an update of a grouped alert (a burst, a cascade) repeats ``rule`` and the first ``time``
with ``"update": true`` (docs/alerts.md). Alerts fire on events from the start of the run (live,
demo once its history is handed out) or of the recording's live part (replay); the history before
it only warms the rules.

``--exec CMD`` runs CMD (split like a shell would split it, but never run by one) once per alert,
with the alert's fields appended as arguments in the order above (null as an empty argument, then
``update`` as true/false) and as environment variables ``LIQTUI_ALERT_<FIELD>`` plus
``LIQTUI_ALERT_JSON``. It never blocks the alerts: commands run beside them, and a live run waits
for the last ones at its end. Never imports Textual.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from liqtui.commands._args import DURATION, NumberIn
from liqtui.commands._bus import add_bus_arguments, open_bus_source
from liqtui.commands.headless_live import CommandError, print_err
from liqtui.config import Settings
from liqtui.domain.alerts import Alert
from liqtui.domain.events import Event
from liqtui.domain.terminal import notice_bytes, notice_title
from liqtui.domain.text import printable
from liqtui.feeds.event_source import OnABus

DEMO_RATES = ("calm", "busy", "stress")
FIELDS = ("time", "rule", "kind", "venue", "symbol", "side", "usd", "price", "count", "text")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per alert (for jq)")
    parser.add_argument(
        "--replay",
        metavar="FILE",
        help="back-test: the config's rules run again over a recording's events, as fast as it reads "
        "(the alerts recorded live are not read; `liqtui replay FILE` shows those)",
    )
    parser.add_argument("--demo", action="store_true", help="run the rules on the simulated market (DEMO)")
    parser.add_argument(
        "--seed", metavar="N", type=int, default=None, help="demo: random seed (deterministic)"
    )
    parser.add_argument(
        "--rate", choices=DEMO_RATES, default=None, help="demo: market activity (default busy)"
    )
    parser.add_argument(
        "--duration",
        type=NumberIn(DURATION),
        metavar="S",
        help=f"live, demo: stop after S seconds, S in {DURATION}",
    )
    add_bus_arguments(parser)
    parser.add_argument(
        "--exec",
        dest="exec_cmd",
        metavar="CMD",
        help="run CMD per alert, never through a shell: the alert's fields as arguments and LIQTUI_ALERT_* variables",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        runner = _Runner(args, settings, sys.stdout)
        if args.replay:
            return runner.replay(args.replay)
        return asyncio.run(runner.follow())
    except CommandError as exc:
        print_err(f"liqtui: {exc}")
        return 2
    except BrokenPipeError:  # `| head` closed the pipe: a normal way to stop
        return 0


def format_text(alert: Alert) -> str:
    clock = time.strftime("%H:%M:%S", time.gmtime(alert.at / 1000))  # when it said so (an update: now)
    mark = "update" if alert.update else "ALERT "
    return printable(f"{clock}  {mark}  {alert.text}  [{alert.rule}]")


def format_json(alert: Alert) -> str:
    return json.dumps(alert.fields(), separators=(", ", ": "), allow_nan=False)


def exec_argv(command: list[str], alert: Alert) -> tuple[list[str], dict[str, str]]:
    """The argv and the environment additions for one alert (see the module docstring)."""
    fields = alert.fields()
    values = [_arg(fields[name]) for name in FIELDS] + ["true" if alert.update else "false"]
    env = {
        f"LIQTUI_ALERT_{name.upper()}": value for name, value in zip((*FIELDS, "update"), values, strict=True)
    }
    env["LIQTUI_ALERT_JSON"] = format_json(alert)
    return [*command, *values], env


def _arg(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


class _Runner:
    def __init__(self, args: argparse.Namespace, settings: Settings, out: TextIO) -> None:
        if (args.seed is not None or args.rate is not None) and not args.demo:
            raise CommandError("--seed and --rate apply to --demo only")
        if args.replay and (args.demo or args.duration is not None or args.bus):
            raise CommandError("--replay runs the whole recording: no --demo, --duration or --bus with it")
        if args.bus and (args.seed is not None or args.rate is not None):
            raise CommandError("--seed and --rate set the collector's demo, not a reader of the bus")
        self.args, self.settings, self.out = args, settings, out
        self.rules = settings.alerts.active_rules()
        if not self.rules:
            raise CommandError(
                f"no alert rule is enabled in {settings.source} (`liqtui config init` writes examples)"
            )
        self.command = self._command(args.exec_cmd)
        self.notices = settings.alerts.notices()
        # Not live: every notification and push says so (webhooks never fire on a replay).
        self.label = "REPLAY" if args.replay else "DEMO" if args.demo else ""
        self.pusher = None if args.replay else self._pusher(settings, self.label)
        self.terminal = self._terminal() if self.notices.any else None
        self.children: list[subprocess.Popen[bytes]] = []
        self.failed_exec = 0
        self.fired = 0

    @staticmethod
    def _command(text: str | None) -> list[str] | None:
        if text is None:
            return None
        try:
            argv = shlex.split(text)
        except ValueError as exc:
            raise CommandError(f"--exec {text!r}: {exc}") from None
        if not argv or shutil.which(argv[0]) is None:
            raise CommandError(f"--exec: no command {argv[0] if argv else text!r} found")
        return argv

    @staticmethod
    def _pusher(settings: Settings, label: str) -> Any:
        if not settings.alerts.webhooks:
            return None
        from liqtui.feeds.webhooks import WebhookPusher

        try:
            return WebhookPusher(
                settings.alerts.webhooks, batch_seconds=settings.alerts.webhook_batch_seconds, label=label
            )
        except ValueError as exc:
            raise CommandError(f"{settings.source}: key 'alerts.webhooks': {exc}") from None

    def _terminal(self) -> TextIO | None:
        """Where the bell and notifications go: stdout when it is the terminal, else the controlling
        terminal (stdout piped to jq), else nowhere (said once)."""
        if self.out.isatty():
            return self.out
        try:
            return open("/dev/tty", "w", encoding="utf-8")  # noqa: SIM115 - kept open for the whole run
        except OSError:
            print_err("liqtui: no terminal for [alerts] bell/osc notifications: they are off for this run")
            return None

    def emit(self, alert: Alert) -> None:
        self.fired += 1
        self.out.write((format_json(alert) if self.args.json else format_text(alert)) + "\n")
        self.out.flush()
        if self.terminal is not None:
            tmux = bool(os.environ.get("TMUX"))
            self.terminal.write(
                notice_bytes(alert.text, self.notices, tmux=tmux, title=notice_title(self.label))
            )
            self.terminal.flush()
        if self.command is not None:
            self._spawn(alert)
        if self.pusher is not None:
            self.pusher.add(alert)

    def _spawn(self, alert: Alert) -> None:
        argv, extra = exec_argv(self.command or [], alert)
        try:
            child = subprocess.Popen(argv, env={**os.environ, **extra}, stdin=subprocess.DEVNULL)
        except OSError as exc:
            self.failed_exec += 1
            print_err(f"liqtui: --exec could not start: {exc}")
            return
        self.children = [c for c in self.children if not self._ended(c)] + [child]

    def _ended(self, child: subprocess.Popen[bytes]) -> bool:
        """The child has exited (and was reaped); a non-zero exit is counted."""
        if child.poll() is None:
            return False
        self.failed_exec += child.returncode != 0
        return True

    def finish(self) -> None:
        if self.pusher is not None:
            if not self.pusher.close(timeout=10):
                print_err(
                    f"liqtui: webhooks: {self.pusher.pending} alert(s) not delivered ({self.pusher.last_error}); "
                    "every one is printed above"
                )
            elif self.pusher.failures:
                print_err(f"liqtui: webhooks: delivered after {self.pusher.failures} refused attempt(s)")
        for child in self.children:
            if child.wait():
                self.failed_exec += 1
        if self.failed_exec:
            print_err(f"liqtui: --exec failed for {self.failed_exec} alert(s)")

    def _evaluator(self, engine: Any, since_ms: int, history: Callable[[], bool] | None = None) -> Any:
        from liqtui.engine.alerts import AlertEvaluator

        return AlertEvaluator(self.rules, engine, since_ms=since_ms, history=history)

    def _check_symbols(self, symbols: list[str] | tuple[str, ...]) -> None:
        from liqtui.engine.alerts import unknown_coins

        unknown = unknown_coins(self.rules, symbols)
        if unknown:
            raise CommandError(
                f"{self.settings.source}: key 'alerts.rules': no market trades {unknown[0]!r} "
                f"(markets here: {', '.join(sorted({s.split('/')[0] for s in symbols})[:12])})"
            )

    def replay(self, file: str) -> int:
        from liqtui.engine import Engine
        from liqtui.storage.reader import describe, read_events
        from liqtui.storage.schema import StoreError

        try:
            info = describe(file)
            events = read_events(file)
        except StoreError as exc:
            raise CommandError(str(exc)) from None
        self._check_symbols(info.symbols)
        engine = Engine(self.settings.levels)
        alerts = self._evaluator(engine, info.live_start_ms or 0)
        if not self.args.json:
            n = info.alerts or 0
            said = f"; it holds {n:,} alert{'s' if n > 1 else ''} said live (`liqtui replay` shows those)"
            print_err(
                f"liqtui: back-testing {len(self.rules)} rules on {Path(file)} ({info.source_mode} data); "
                f"webhooks never fire on a replay{said if n else ''}"
            )
        for event in events:
            engine.apply(event)
            for alert in alerts.see(event):
                self.emit(alert)
        for alert in alerts.flush():
            self.emit(alert)
        self.finish()
        print_err(f"liqtui: {self.fired} alerts")
        return 0

    async def follow(self) -> int:
        from liqtui.engine import Engine

        source = await self._source()
        on_bus = isinstance(source, OnABus)
        engine = Engine(self.settings.levels)
        # The demo's history ends on the start time itself, and a bus hands out its stream's first:
        # each says when that is over (warmup); the bus's demo clock is known from its first beat.
        since = 0 if on_bus else source.now_ms()
        alerts = self._evaluator(engine, since, lambda: getattr(source, "warmup", None) is not None)
        if source.mode == "DEMO" and not on_bus:
            self._check_symbols(source.symbols())
        if not self.args.json:
            print_err(f"liqtui: {len(self.rules)} alert rules on {source.mode} data (Ctrl-C to stop)")

        def take(event: Event) -> None:
            engine.apply(event)
            for alert in alerts.see(event):
                self.emit(alert)

        try:
            await _run_until(source, take, self.args.duration, None if on_bus else self._live_check(source))
        finally:
            for alert in alerts.flush():
                self.emit(alert)
            self.finish()
            if on_bus:
                await source.close()
        print_err(f"liqtui: {self.fired} alerts")
        return 0

    def _live_check(self, source: Any) -> Callable[[], Any] | None:
        if source.mode != "LIVE":
            return None

        async def check() -> None:
            from liqtui.commands.headless_live import wait_markets

            await wait_markets(source, timeout=30)
            if source.symbols():
                self._check_symbols(source.symbols())
            await asyncio.Event().wait()  # checked: the run goes on

        return check

    async def _source(self) -> Any:
        url = self.args.bus or ("" if self.args.demo else self.settings.bus.url)
        if url:  # the stream's history warms the rules (as the desk's), then live; CommandError if unusable
            since = int(time.time() * 1000) - int(self.settings.bus.max_age_hours * 3_600_000)
            return await open_bus_source(
                self.settings,
                url,
                demo=self.args.demo,
                history=("liq", "oi", "bar", "margin"),
                since_ms=since,
            )
        if self.args.demo:
            from liqtui.feeds.demo import DemoSource

            options: dict[str, Any] = {"realtime": True}
            if self.args.seed is not None:
                options["seed"] = self.args.seed
            if self.args.rate is not None:
                options["rate"] = self.args.rate
            return DemoSource(self.settings, **options)
        from liqtui.feeds.live.source import LiveSource

        # positions: the MEASURED positions of tracked accounts (position_near, cluster_near read them)
        kinds = frozenset({"liquidations", "prices", "market", "history", "positions"})
        return LiveSource(self.settings, kinds=kinds)


async def _run_until(
    source: Any, take: Callable[[Event], None], duration: float | None, check: Callable[[], Any] | None
) -> None:
    """The source until ``duration``, Ctrl-C or SIGTERM; ``check`` (the live symbol check) runs beside it."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    feed = asyncio.ensure_future(source.run(take))
    tasks = {feed, asyncio.ensure_future(stop.wait())}
    checking = asyncio.ensure_future(check()) if check else None
    if checking is not None:
        tasks.add(checking)
    try:
        await asyncio.wait(tasks, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
        if checking is not None and checking.done():
            checking.result()  # an unknown symbol: CommandError
        if feed.done() and not feed.cancelled() and feed.exception() is not None:
            raise CommandError(f"the source stopped: {feed.exception()}")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
