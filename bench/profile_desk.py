"""The desk in-process, headless: where its CPU goes, measured as CPU time so it holds on a busy machine.

    PYTHONPATH=src .venv/bin/python bench/profile_desk.py --rate stress --size 160x45 [--seconds 20]
        [--keys 10] [--key-list "],w,/"] [--layout heatmap] [--profile out.prof] [--stall-profile out.prof --stall-ms 40
        --profile-phase steady|keys]

Runs `liqtui demo`'s app (the real LiqtuiApp and DemoSource, paced in real time, seed 7) under
Textual's headless driver, waits until the history is in, then measures a steady window and a series
of key presses 0.3 s apart. Every figure is CPU time of the loop's thread (time.thread_time), so it
holds while other programs load the machine, where wall-clock figures do not (bench_desk.py measures
the program as a user sees it, from outside; this one says where the time goes):
- CPU % of a core over the steady window and CPU per event (everything the process does, divided);
- each render tick, the view's build, each pane's show, the header, Textual's screen updates;
- the garbage collector's pauses per generation (gc.callbacks) and what it still tracks;
- every asyncio callback on the loop (a stall: no key or frame can run meanwhile), the longest
  named by task; with --stall-profile, a cProfile of the callbacks longer than --stall-ms;
- per key (`]`, `w`, `/` then "eth" Enter, `r` the heatmap's range): its action's CPU and the stalls
  while the keys ran; with --layout heatmap, `r` and `/` with the heatmap on screen.
Not a test: nothing passes or fails here, and the tests never time anything.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import gc
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

from liqtui.config import Settings
from liqtui.feeds.demo import DemoSource
from liqtui.ui.app import LiqtuiApp


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
    app.engine.levels_of = _wrap(parts["engine.levels_of (alert rules)"], app.engine.levels_of)
    for key, action in (
        ("]", "action_step_symbol"),
        ("w", "action_cycle_window"),
        ("/", "action_pick_symbol"),
        ("r", "action_heatmap_range"),
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
    Screen._compositor_refresh = _wrap(parts["screen update"], Screen._compositor_refresh)  # type: ignore[method-assign]


class GcTimes:
    """The garbage collector's pauses, per generation (gc.callbacks), CPU ms."""

    def __init__(self) -> None:
        self.ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.thread_time()
        else:
            self.ms[info["generation"]].append((time.thread_time() - self._start) * 1000)

    def reset(self) -> None:
        for v in self.ms.values():
            v.clear()

    def lines(self) -> list[str]:
        return [_line(f"gc generation {g}", v) + f", total {sum(v):.0f} ms" for g, v in self.ms.items()]


class Stalls:
    """Every asyncio callback's CPU time on the loop (a Handle._run wrapper)."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self.worst: list[tuple[float, str]] = []
        self._orig = asyncio.events.Handle._run
        self.profile_over_ms = 0.0  # > 0: profile every callback, keep those longer than this
        self.stats: pstats.Stats | None = None

    def install(self) -> None:
        orig, ms, worst, stalls = self._orig, self.ms, self.worst, self

        def run(handle: Any) -> None:
            profile = cProfile.Profile() if stalls.profile_over_ms else None
            start = time.thread_time()
            if profile:
                profile.enable()
            orig(handle)
            if profile:
                profile.disable()
            spent = (time.thread_time() - start) * 1000
            ms.append(spent)
            if spent > 20:
                worst.append((spent, _name(handle)))
            if profile and spent > stalls.profile_over_ms:
                if stalls.stats is None:
                    stalls.stats = pstats.Stats(profile)
                else:
                    stalls.stats.add(profile)

        asyncio.events.Handle._run = run  # type: ignore[method-assign]

    def reset(self) -> None:
        self.ms.clear()
        self.worst.clear()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", default="stress")
    parser.add_argument("--size", default="160x45")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--key-list", default="],w,/")
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
    stalls = Stalls()
    stalls.install()
    gcs = GcTimes()
    stall_phase = args.profile_phase if args.stall_profile else ""
    if stall_phase in ("all", "start"):
        stalls.profile_over_ms = args.stall_ms
    profiler = cProfile.Profile() if args.profile else None
    t0, c0 = time.perf_counter(), time.process_time()
    if profiler and args.profile_phase in ("start", "all"):
        profiler.enable()
    async with app.run_test(size=(width, height)) as pilot:
        while source.warmup is not None or app.last_view is None or app.warmup() is not None:
            await pilot.pause(0.05)
        print(f"history built: wall {time.perf_counter() - t0:.2f} s, CPU {time.process_time() - c0:.2f} s")
        await pilot.pause(3.0)  # the backfill's events are applied in chunks after the build
        print(f"history applied: wall {time.perf_counter() - t0:.2f} s, CPU {time.process_time() - c0:.2f} s")
        if profiler and args.profile_phase == "start":
            profiler.disable()
        ticks.clear()
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
        print(
            f"steady {args.rate} {args.size}: CPU {100 * cpu / wall:.1f} % of a core over {wall:.1f} s wall,"
            f" {events / wall:.0f} events/s, {cpu * 1e6 / max(1, events):.1f} us CPU per event (all in)"
        )
        print(_line("render_tick", ticks))
        for name, values in sorted(parts.items()):
            print(_line(f"  {name}", values))
        print("\n".join(gcs.lines()))
        tracked = gc.get_objects()
        kinds = collections.Counter(type(o).__qualname__ for o in tracked).most_common(6)
        print(f"objects tracked by gc (not frozen): {len(tracked):,}; most: {kinds}")
        del tracked
        print(_line("loop callbacks", stalls.ms))
        for spent, what in sorted(stalls.worst, reverse=True)[:5]:
            print(f"   {spent:7.1f} ms  {what}")
        if profiler and args.profile_phase == "keys":
            profiler.enable()
        stalls.profile_over_ms = args.stall_ms if stall_phase in ("keys", "all") else 0.0
        for key in args.key_list.split(","):
            press = {"]": "right_square_bracket", "w": "w", "/": "slash"}.get(key, key)
            stalls.reset()
            ticks.clear()
            for values in parts.values():
                values.clear()
            for _ in range(args.keys):
                await pilot.press(press)
                if key == "/":
                    await pilot.pause(0.05)
                    await pilot.press("e", "t", "h", "enter")
                await pilot.pause(0.3)
            print(_line(f"key {key}: its action", parts[f"action {key}"]))
            print(_line(f"  loop callbacks during {key}", stalls.ms))
            print(_line(f"  render_tick during {key}", ticks))
            for name, values in sorted(parts.items()):
                print(_line(f"    {name}", values))
            for spent, what in sorted(stalls.worst, reverse=True)[:3]:
                print(f"   {spent:7.1f} ms  {what}")
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        if stalls.stats is not None:
            stalls.stats.dump_stats(args.stall_profile)


if __name__ == "__main__":
    asyncio.run(main())
