"""Symbol search speed: liqtui's SymbolPicker against a Textual command-palette provider over the same
markets. Prints figures, asserts nothing.

    .venv/bin/python bench/bench_picker.py [--markets N]

Per keystroke of "b", "bt", "btc", "btc/": the wall time from the key press until the list shows the
new matches (picker: pilot.press returns once Input.Changed has refilled its list; palette: its
gather worker is done as well). Both include the same pilot overhead; three runs each.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import string
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from textual.app import App  # noqa: E402
from textual.command import CommandPalette, Hit, Hits, Provider  # noqa: E402

from liqtui.ui.widgets.picker import SymbolPicker  # noqa: E402

QUERY = ["b", "t", "c", "/"]


def markets(n: int) -> list[str]:
    rng = random.Random(1)
    coins = {"BTC", "ETH", "SOL", "XRP", "DOGE"}
    while len(coins) < n // 2:
        coins.add("".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(2, 6))))
    out = [f"{c}/USDT:USDT" for c in sorted(coins)] + [f"{c}/USDC:USDC" for c in sorted(coins)]
    return out[:n]


SYMBOLS: list[str] = []


class Symbols(Provider):
    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for symbol in SYMBOLS:
            score = matcher.match(symbol)
            if score > 0:
                yield Hit(score, matcher.highlight(symbol), partial(print, symbol))


class Bench(App[None]):
    COMMANDS = {Symbols}


async def _keystrokes(pilot, done) -> list[float]:
    times = []
    for key in QUERY:
        start = time.perf_counter()
        await pilot.press(key)
        while not done():
            await asyncio.sleep(0.001)
        times.append((time.perf_counter() - start) * 1000)
    return times


async def picker() -> list[float]:
    app = Bench()
    async with app.run_test(size=(120, 40)) as pilot:
        picker = SymbolPicker()
        await app.screen.mount(picker)
        picker.pick(SYMBOLS, SYMBOLS[:5], print)
        await pilot.pause()
        # The picker refills its list on Input.Changed, which pilot.press has waited for.
        return await _keystrokes(pilot, lambda: True)


async def palette() -> list[float]:
    app = Bench()
    async with app.run_test(size=(120, 40)) as pilot:
        app.action_command_palette()
        await pilot.pause()
        pal = app.screen
        assert isinstance(pal, CommandPalette)

        def done() -> bool:
            return not any(
                w.group == CommandPalette._GATHER_COMMANDS_GROUP and not w.is_finished for w in app.workers
            )

        return await _keystrokes(pilot, done)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--markets", type=int, default=1500)
    n = parser.parse_args().markets
    SYMBOLS[:] = markets(n)
    for name, run in (("SymbolPicker", picker), ("command palette", palette)):
        times = [t for _ in range(3) for t in asyncio.run(run())]
        print(
            f"{name:<16} {n} markets: per keystroke median {statistics.median(times):6.1f} ms, max {max(times):6.1f} ms"
        )


if __name__ == "__main__":
    main()
