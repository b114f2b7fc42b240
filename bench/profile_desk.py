"""The desk in-process, headless: where its CPU goes, measured as CPU time so it holds on a busy machine.

    PYTHONPATH=src .venv/bin/python bench/profile_desk.py --rate stress --size 160x45 [--seconds 20]
        [--keys 10] [--key-list "],w,g,/"] [--layout heatmap] [--profile out.prof] [--stall-profile out.prof --stall-ms 40
        --profile-phase steady|keys]

Runs `liqtui demo`'s app (the real LiqtuiApp and DemoSource, paced in real time, seed 7) under
Textual's headless driver, waits until the history is in, then measures a steady window and a series
of key presses 0.3 s apart. Every figure is CPU time of the loop's thread (time.thread_time), so it
holds while other programs load the machine, where wall-clock figures do not (bench_desk.py measures
the program as a user sees it, from outside; this one says where the time goes):
- CPU % of a core over the steady window and CPU per event (everything the process does, divided);
- each render tick, the view's build, each pane's show, the header, Textual's screen updates, and the
  source's side: the demo's ticks, the desk's bulk emit, the engine's and the rules' runs of
  liquidations in it (each with its total and share of a core over the steady window);
- the garbage collector's pauses per generation (gc.callbacks), what they freed and what it still
  tracks, over the steady window and during each key;
- every asyncio callback on the loop (a stall: no key or frame can run meanwhile), the longest
  named by task; with --stall-profile, a cProfile of the callbacks longer than --stall-ms;
- per key (`]`, `w`, `g` then a price and Enter, `/` then a symbol and Enter, `r` the heatmap's range): its action's CPU, the
  stalls while the keys ran, and "key to screen": the loop thread's CPU from the press to the end of
  the first screen write that shows the change (the header naming the new symbol, the totals pane's
  title naming the window (the flash line where the layout has none), the
  prompt, the price typed into it, the chart's target, the picker, the symbol typed into it as one burst of keys (its input
  reads it and its highlighted match is the symbol), the header after its Enter), everything the loop did meanwhile included (a render tick
  or a demo tick that ran first delays the key as it does for a user). The screen writes are built
  as for a terminal (Textual's headless driver skips that step; here it runs, into a byte counter).
  With --layout heatmap, `r` and `/` with the heatmap on screen.
Not a test: nothing passes or fails here, and the tests never time anything.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import gc
import os
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TEXTUAL_COLOR_SYSTEM", "truecolor")  # screen writes built as for a terminal

from liqtui.config import Settings  # noqa: E402 - after the colour system is chosen (read at import)
from liqtui.feeds.demo import DemoSource  # noqa: E402
from liqtui.ui.app import LiqtuiApp  # noqa: E402


def say(*parts: Any) -> None:
    """Print to the real stdout: Textual captures print() while the app runs (and with a
    non-headless driver never passes it on)."""
    print(*parts, file=sys.__stdout__, flush=True)


def _wrap(record: list[float], fn: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            record.append((time.thread_time() - start) * 1000)

    return timed


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _line(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:28} (none)"
    return (
        f"{name:28} n={len(values):5}  p50 {statistics.median(values):7.2f}  p95 {_pct(values, 0.95):7.2f}"
        f"  max {max(values):7.2f} ms CPU"
    )


def _name(handle: Any) -> str:
    """The coroutine (task) or function a loop callback runs."""
    callback = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        return f"task {owner.get_name()}: {getattr(coro, '__qualname__', coro)}"
    return repr(handle)[:160]


def _time_parts(app: LiqtuiApp, parts: dict[str, list[float]]) -> None:
    """CPU of the view's build, each pane's show and Textual's screen updates, kept per name."""
    from textual.screen import Screen

    from liqtui.ui.header import DeskHeader
    from liqtui.ui.widgets.line_pane import LinePane

    app.build_view = _wrap(parts["build_view"], app.build_view)  # type: ignore[method-assign]
    app.engine.book_sides = _wrap(parts["engine.book_sides (alert rules)"], app.engine.book_sides)
    for key, action in (
        ("]", "action_step_symbol"),
        ("w", "action_cycle_window"),
        ("/", "action_pick_symbol"),
        ("r", "action_heatmap_range"),
        ("g", "action_set_target"),
    ):
        setattr(app, action, _wrap(parts[f"action {key}"], getattr(app, action)))

    def timed_show(show: Callable[..., Any]) -> Callable[..., Any]:
        def pane_show(pane: Any, view: Any) -> Any:
            start = time.thread_time()
            try:
                return show(pane, view)
            finally:
                parts[f"pane {pane.id}"].append((time.thread_time() - start) * 1000)

        return pane_show

    for kind in (LinePane, *LinePane.__subclasses__()):
        if "show" in vars(kind):
            kind.show = timed_show(vars(kind)["show"])  # type: ignore[method-assign]
    DeskHeader.show = _wrap(parts["header"], DeskHeader.show)  # type: ignore[method-assign]
    # The source's side: the demo's ticks, the desk's bulk emit and, inside it, the engine and the rules.
    from liqtui.engine.alerts import AlertEvaluator as Rules
    from liqtui.engine.engine import Engine
    from liqtui.feeds.demo.market import DemoMarket

    DemoMarket.step = _wrap(parts["source: demo ticks"], DemoMarket.step)  # type: ignore[method-assign]
    app.emit_many = _wrap(parts["source: emit_many (all in)"], app.emit_many)  # type: ignore[method-assign]
    engine_runs, rules_runs = parts["source: engine liquidations"], parts["source: rules liquidations"]
    Engine.apply_liquidations = _wrap(engine_runs, Engine.apply_liquidations)  # type: ignore[method-assign]
    Rules.see_liquidations = _wrap(rules_runs, Rules.see_liquidations)  # type: ignore[method-assign]
    Screen._compositor_refresh = _wrap(parts["screen update"], Screen._compositor_refresh)  # type: ignore[method-assign]


def _tracked() -> str:
    """How many objects the collector tracks now (what a full pass walks) and the most common kinds."""
    tracked = gc.get_objects()
    kinds = collections.Counter(type(o).__qualname__ for o in tracked).most_common(6)
    return f"objects tracked by gc (not frozen): {len(tracked):,}; most: {kinds}"


class GcTimes:
    """The garbage collector's pauses, per generation (gc.callbacks), CPU ms."""

    def __init__(self) -> None:
        self.ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.freed: dict[int, int] = {0: 0, 1: 0, 2: 0}  # objects each generation's passes found unreachable
        self._start = 0.0
        self.total = 0.0  # every pass's CPU ms so far (a stall's share is the difference across it)
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.thread_time()
        else:
            spent = (time.thread_time() - self._start) * 1000
            self.ms[info["generation"]].append(spent)
            self.freed[info["generation"]] += info["collected"]
            self.total += spent

    def reset(self) -> None:
        for v in self.ms.values():
            v.clear()
        self.freed = dict.fromkeys(self.freed, 0)

    def lines(self, indent: str = "") -> list[str]:
        return [
            _line(f"{indent}gc generation {g}", v) + f", total {sum(v):.0f} ms, {self.freed[g]:,} freed"
            for g, v in self.ms.items()
        ]


class Stalls:
    """Every asyncio callback's CPU time on the loop (a Handle._run wrapper)."""

    def __init__(self, gcs: GcTimes) -> None:
        self.ms: list[float] = []
        self.worst: list[tuple[float, str, float]] = []  # (CPU ms, whose, the collector's ms inside)
        self.gcs = gcs
        self._orig = asyncio.events.Handle._run
        self.profile_over_ms = 0.0  # > 0: profile every callback, keep those longer than this
        self.stats: pstats.Stats | None = None

    def install(self) -> None:
        orig, ms, worst, stalls, gcs = self._orig, self.ms, self.worst, self, self.gcs

        def run(handle: Any) -> None:
            profile = cProfile.Profile() if stalls.profile_over_ms else None
            start, gc_before = time.thread_time(), gcs.total
            if profile:
                profile.enable()
            orig(handle)
            if profile:
                profile.disable()
            spent = (time.thread_time() - start) * 1000
            ms.append(spent)
            if spent > 20:
                worst.append((spent, _name(handle), gcs.total - gc_before))
            if profile and spent > stalls.profile_over_ms:
                if stalls.stats is None:
                    stalls.stats = pstats.Stats(profile)
                else:
                    stalls.stats.add(profile)

        asyncio.events.Handle._run = run  # type: ignore[method-assign]

    def reset(self) -> None:
        self.ms.clear()
        self.worst.clear()

    def lines(self, top: int, over_ms: float) -> list[str]:
        """The longest callbacks with the collector's share, then those over ``over_ms`` less that share."""
        out = [
            f"   {spent:7.1f} ms  (gc {in_gc:5.1f})  {what}"
            for spent, what, in_gc in sorted(self.worst)[::-1][:top]
        ]
        long = [(spent, in_gc) for spent, _what, in_gc in self.worst if spent > over_ms]
        if long:
            with_gc = sum(1 for _spent, in_gc in long if in_gc >= 10)
            out.append(
                _line(f"  over {over_ms:.0f} ms less gc", [spent - in_gc for spent, in_gc in long])
                + f"  ({with_gc} of {len(long)} held a gc pass >= 10 ms)"
            )
        return out


class KeyToScreen:
    """The loop thread's CPU from a key press to the end of the first screen write showing its change.

    ``expect`` starts the clock with a predicate on the app's state; every screen write (App._display)
    asks it first (what the write is about to show), and the first write for which it held stops the
    clock. The predicate's own CPU is left out. The headless driver's writes are built as for a
    terminal (truecolor) and counted, not skipped."""

    def __init__(self, app: LiqtuiApp) -> None:
        from textual.drivers.headless_driver import HeadlessDriver

        self.ms: dict[str, list[float]] = collections.defaultdict(list)
        self.missed: collections.Counter[str] = collections.Counter()
        self.bytes = 0
        self._pending: list[Any] | None = None  # [label, start (thread time), shown(screen)]
        display = app._display

        def write(_driver: Any, data: str) -> None:
            self.bytes += len(data)

        HeadlessDriver.is_headless = property(lambda _driver: False)  # type: ignore[method-assign,assignment]
        HeadlessDriver.write = write  # type: ignore[method-assign]

        def timed_display(screen: Any, renderable: Any) -> None:
            pending = self._pending
            ready = False
            if pending is not None and renderable is not None:
                before = time.thread_time()
                ready = pending[2](screen)
                pending[1] += time.thread_time() - before  # the probe's own CPU is not the key's
            display(screen, renderable)
            if ready and self._pending is pending:
                assert pending is not None
                self.ms[pending[0]].append((time.thread_time() - pending[1]) * 1000)
                self._pending = None

        app._display = timed_display  # type: ignore[method-assign]

    def expect(self, label: str, shown: Callable[[Any], bool]) -> None:
        self._pending = [label, time.thread_time(), shown]

    async def wait(self, pilot: Any, timeout: float = 3.0) -> bool:
        """Until the change was written (True), or ``timeout`` wall seconds (a miss, False). Polled with
        a plain sleep: Textual's ``Pilot.pause`` posts a callback to every widget of the screen (~2.5 ms
        of the loop's CPU at 160x45, counted in the key's figure before 2026-11-29 16:00 UTC) and forces
        a screen update, off the desk's own frame clock."""
        end = time.perf_counter() + timeout
        while self._pending is not None and time.perf_counter() < end:
            await asyncio.sleep(0.002)
        if self._pending is not None:
            self.missed[self._pending[0]] += 1
            self._pending = None
            return False
        return True


def _header_symbol(app: LiqtuiApp) -> str | None:
    """The symbol the header names (its first line's second piece)."""
    header = app._header()
    line = header._lines[0] if header is not None else ()
    return line[1][1][0][0].strip() if len(line) > 1 else None


_CHARACTERS = {"right_square_bracket": "]", "slash": "/", "enter": "\r", "escape": "\x1b"}


def send(app: LiqtuiApp, *keys: str) -> None:
    """Keys as a terminal's read hands them to the desk (the driver's input thread posts each to the
    App), all at once and without waiting: Textual's ``Pilot.press`` waits for the screen after each
    key (a callback to every widget, counted in the key's CPU before 2026-11-29 16:00 UTC)."""
    from textual import events

    driver = app._driver
    assert driver is not None
    for name in keys:
        key = events.Key(name, _CHARACTERS.get(name, name if len(name) == 1 else None))
        key.set_sender(app)
        driver.send_message(key)


async def press_key(pilot: Any, app: LiqtuiApp, seen: KeyToScreen, key: str, n: int) -> None:
    """One press of ``key`` (and for `g` and `/` the answer typed and Enter), timed to the screen."""
    from textual.widgets import Input

    from liqtui.engine.views import WINDOWS
    from liqtui.ui.app import DeskScreen
    from liqtui.ui.header import display_symbol
    from liqtui.ui.widgets import PromptBar, RiskChartPane, SymbolPicker, TotalsPane
    from liqtui.ui.widgets.flash import Flash

    if key == "]":
        before = _header_symbol(app)
        seen.expect("]", lambda _s: _header_symbol(app) not in (None, before))
        send(app, "right_square_bracket")
    elif key == "w":
        window = WINDOWS[(WINDOWS.index(app.window) + 1) % len(WINDOWS)]
        said = re.compile(rf"Realized {window}\b")  # the flash line where the layout has no totals pane
        if app.on_screen("totals"):  # the pane's title names the window
            totals = app._pane("totals", TotalsPane)
            seen.expect("w", lambda _s: window in str(totals.border_title).split())
        else:
            flash = app.query_one(Flash)
            seen.expect("w", lambda _s: flash.display and said.match(flash.message) is not None)
        send(app, "w")
    elif key == "g":
        seen.expect("g prompt", lambda s: any(bar.is_open for bar in s.query(PromptBar)))
        send(app, "g")
        if not await seen.wait(pilot):
            return
        view = app.last_view
        price = view.market.last if view is not None else None
        target = float(f"{(price or 1.0) * (1.07 if n % 2 else 0.93):.3g}")
        prompt_input = app.query_one("#prompt-input", Input)
        seen.expect("g price typed", lambda _s: prompt_input.value == f"{target:g}")
        send(app, *f"{target:g}")
        if not await seen.wait(pilot):
            return
        await asyncio.sleep(0.05)
        chart = app._pane("risk", RiskChartPane)
        if not app.on_screen("risk"):  # this layout has no chart: the answer is on the flash line, not timed
            send(app, "enter")
            return
        seen.expect(
            "g price Enter",
            lambda s: isinstance(s, DeskScreen) and chart is not None and chart._shown[2] == target,
        )
        send(app, "enter")
    elif key == "/":
        wanted = next(w for w in app.watchlist if w != app.symbol)
        coin = wanted.split("/")[0]
        seen.expect("/ picker", lambda s: any(bar.is_open for bar in s.query(SymbolPicker)))
        send(app, "slash")
        if not await seen.wait(pilot):
            return
        picker = app.query_one(SymbolPicker)
        typed = coin.upper()  # as bench_desk types it: one burst, as a paste or keys typed in one read
        seen.expect(
            "/ symbol typed",
            lambda _s: picker.query_one("#picker-input", Input).value == typed and picker.candidate == wanted,
        )
        send(app, *typed)
        if not await seen.wait(pilot):
            return
        await asyncio.sleep(0.05)
        seen.expect(
            "/ symbol Enter",
            lambda s: isinstance(s, DeskScreen) and _header_symbol(app) == display_symbol(wanted),
        )
        send(app, "enter")
    else:
        send(app, key)
        return
    await seen.wait(pilot)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", default="stress")
    parser.add_argument("--size", default="160x45")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--key-list", default="],w,g,/")
    parser.add_argument("--layout", default=None, help="one layout (heatmap: its keys r, ], /)")
    parser.add_argument("--profile", default=None)
    parser.add_argument(
        "--stall-profile", default=None, help="FILE: profile of the callbacks over --stall-ms"
    )
    parser.add_argument("--stall-ms", type=float, default=40.0)
    parser.add_argument("--profile-phase", default="steady", choices=("steady", "keys", "start", "all"))
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    settings = Settings()
    source = DemoSource(settings, seed=7, rate=args.rate)
    app = LiqtuiApp(settings, source, layout=args.layout, theme_dir="/nonexistent-liqtui-themes")
    ticks: list[float] = []
    app.render_tick = _wrap(ticks, app.render_tick)  # type: ignore[method-assign]
    parts: dict[str, list[float]] = collections.defaultdict(list)
    _time_parts(app, parts)
    seen = KeyToScreen(app)
    gcs = GcTimes()
    stalls = Stalls(gcs)
    stalls.install()
    stall_phase = args.profile_phase if args.stall_profile else ""
    if stall_phase in ("all", "start"):
        stalls.profile_over_ms = args.stall_ms
    profiler = cProfile.Profile() if args.profile else None
    t0, c0 = time.perf_counter(), time.process_time()
    if profiler and args.profile_phase in ("start", "all"):
        profiler.enable()
    async with app.run_test(size=(width, height), notifications=True) as pilot:
        while source.warmup is not None or app.last_view is None or app.warmup() is not None:
            await pilot.pause(0.05)
        say(f"history built: wall {time.perf_counter() - t0:.2f} s, CPU {time.process_time() - c0:.2f} s")
        await pilot.pause(3.0)  # the backfill's events are applied in chunks after the build
        say(f"history applied: wall {time.perf_counter() - t0:.2f} s, CPU {time.process_time() - c0:.2f} s")
        if profiler and args.profile_phase == "start":
            profiler.disable()
        ticks.clear()
        for values in parts.values():
            values.clear()
        gcs.reset()
        stalls.reset()
        events_before = app.events_seen  # every event, one by one or in a bulk list
        if profiler and args.profile_phase == "steady":
            profiler.enable()
        stalls.profile_over_ms = args.stall_ms if stall_phase in ("steady", "all") else 0.0
        w0, c1 = time.perf_counter(), time.process_time()
        await pilot.pause(args.seconds)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c1
        events = app.events_seen - events_before
        if profiler and args.profile_phase == "steady":
            profiler.disable()
        say(
            f"steady {args.rate} {args.size}: CPU {100 * cpu / wall:.1f} % of a core over {wall:.1f} s wall,"
            f" {events / wall:.0f} events/s, {cpu * 1e6 / max(1, events):.1f} us CPU per event (all in)"
        )
        say(_line("render_tick", ticks))
        for name, values in sorted(parts.items()):
            say(
                _line(f"  {name}", values)
                + (
                    f"  total {sum(values):.0f} ms, {sum(values) / wall / 10:.1f} % of a core"
                    if values
                    else ""
                )
            )
        say("\n".join(gcs.lines()))
        say(_tracked())
        say(_line("loop callbacks", stalls.ms))
        say("\n".join(stalls.lines(5, args.stall_ms)))
        if profiler and args.profile_phase == "keys":
            profiler.enable()
        stalls.profile_over_ms = args.stall_ms if stall_phase in ("keys", "all") else 0.0
        for key in args.key_list.split(","):
            stalls.reset()
            gcs.reset()
            ticks.clear()
            for values in parts.values():
                values.clear()
            seen.ms.clear()
            for n in range(args.keys):
                await press_key(pilot, app, seen, key, n)
                await asyncio.sleep(0.3)
            if f"action {key}" in parts:
                say(_line(f"key {key}: its action", parts[f"action {key}"]))
            for label, values in seen.ms.items():
                say(_line(f"  {label}: key to screen", values))
            if seen.missed:
                say(f"  never on screen within 3 s: {dict(seen.missed)}")
                seen.missed.clear()
            say(_line(f"  loop callbacks during {key}", stalls.ms))
            say(_line(f"  render_tick during {key}", ticks))
            say("\n".join(gcs.lines("  ")))
            say("  " + _tracked())
            for name, values in sorted(parts.items()):
                say(_line(f"    {name}", values))
            say("\n".join(stalls.lines(3, args.stall_ms)))
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        if stalls.stats is not None:
            stalls.stats.dump_stats(args.stall_profile)


if __name__ == "__main__":
    asyncio.run(main())
