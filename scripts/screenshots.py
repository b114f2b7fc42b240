"""Write screenshots/*.svg: every layout and theme of the real desk on the seeded demo.

    .venv/bin/python scripts/screenshots.py            # all of them, into screenshots/
    .venv/bin/python scripts/screenshots.py --png      # also a PNG beside each (needs cairosvg)

The demo runs with a fixed seed and is stopped at a fixed simulated time (tests/ui/frozen.py, the
snapshot tests' fixture: not shipped in the package), so the same code draws the same pictures. No
user config or user theme is read.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "ui"))

import plotext  # noqa: E402, F401 - imported first: a picture never races the at-risk chart's import of it
from frozen import frozen_app  # noqa: E402 (the fixture is importable once tests/ui is on the path)

MINUTES = 20.0  # of simulated trading before the picture: clusters, sweeps and a full tape

# name -> (columns, rows, layout, theme, keys pressed after the first paint)
SHOTS: dict[str, tuple[int, int, str | None, str, tuple[str, ...]]] = {
    "full-dark": (160, 45, None, "dark", ()),
    "full-light": (160, 45, None, "light", ()),
    "full-ansi": (160, 45, None, "ansi", ()),
    "at-risk-target-92000": (160, 45, None, "dark", ("g", "9", "2", "0", "0", "0", "enter")),
    "medium-dark": (110, 34, None, "dark", ()),
    "compact-dark": (80, 24, None, "dark", ()),
    "compact-ansi-60x20": (60, 20, None, "ansi", ()),
    "compact-window-flash": (80, 24, None, "dark", ("w",)),  # `w` without a totals pane: the flash line
    "single-tape": (100, 30, "tape", "dark", ()),
    "single-ladder": (70, 40, "ladder", "dark", ()),
    "single-oi": (90, 24, "oi", "dark", ()),
    "heatmap-dark": (160, 45, "heatmap", "dark", ()),
    "heatmap-light": (160, 45, "heatmap", "light", ()),
    "heatmap-ansi": (120, 36, "heatmap", "ansi", ()),
    "help": (110, 34, None, "dark", ("question_mark",)),
    "symbol-picker": (110, 34, None, "dark", ("slash", "s", "o")),
}


async def shoot(name: str, spec: tuple, out: Path, png: bool) -> Path:
    columns, rows, layout, theme, keys = spec
    app = frozen_app(layout=layout, theme=theme, minutes=MINUTES, theme_dir=out / "no-user-themes")
    async with app.run_test(size=(columns, rows)) as pilot:
        while app.last_view is None:
            await pilot.pause(0.02)
        app.render_tick()
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
            await pilot.pause()
        svg = app.export_screenshot(title=f"liqtui demo · {name} · {columns}x{rows}")
    path = out / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    if png:
        import cairosvg

        cairosvg.svg2png(bytestring=svg.encode(), write_to=str(path.with_suffix(".png")))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--png", action="store_true", help="also write PNGs (for review; not committed)")
    parser.add_argument("only", nargs="*", help=f"some of: {', '.join(SHOTS)}")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or SHOTS:
        path = asyncio.run(shoot(name, SHOTS[name], args.out, args.png))
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
