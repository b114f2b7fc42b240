"""Snapshots of every layout and theme on the seeded demo, frozen at one simulated instant.

Regenerate after a deliberate change with `pytest tests/ui/test_snapshots.py --snapshot-update`
and look at the report before committing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from frozen import frozen_app

NO_THEMES = "/nonexistent-liqtui-themes"

CASES = {
    "full-dark-160x45": dict(size=(160, 45), layout=None, theme="dark"),
    "medium-dark-100x30": dict(size=(100, 30), layout=None, theme="dark"),
    "compact-dark-60x20": dict(size=(60, 20), layout=None, theme="dark"),
    "compact-ansi-80x24": dict(size=(80, 24), layout=None, theme="ansi"),
    "full-light-160x45": dict(size=(160, 45), layout=None, theme="light"),
    "full-ansi-160x45": dict(size=(160, 45), layout=None, theme="ansi"),
    "single-tape-100x30": dict(size=(100, 30), layout="tape", theme="dark"),
    "single-ladder-60x30": dict(size=(60, 30), layout="ladder", theme="dark"),
    "single-oi-80x24": dict(size=(80, 24), layout="oi", theme="dark"),
    "single-heatmap-160x45": dict(size=(160, 45), layout="heatmap", theme="dark"),
    "single-heatmap-ansi-100x30": dict(size=(100, 30), layout="heatmap", theme="ansi"),
}


async def _painted(pilot) -> None:
    """Wait for the first render tick to reach the panes, so a modal opens over a drawn desk."""
    app = pilot.app
    for _ in range(200):
        if app.last_view is not None:
            break
        await pilot.pause(0.01)
    app.render_tick()
    await pilot.pause()


@pytest.mark.parametrize("case", list(CASES))
def test_layout_and_theme_snapshot(snap_compare, case):
    spec = CASES[case]
    app = frozen_app(layout=spec["layout"], theme=spec["theme"], theme_dir=NO_THEMES)
    assert snap_compare(app, terminal_size=spec["size"], run_before=_painted)


def test_help_screen_snapshot(snap_compare):
    app = frozen_app(theme_dir=NO_THEMES)
    assert snap_compare(app, terminal_size=(100, 30), press=["question_mark"], run_before=_painted)


def test_symbol_picker_snapshot(snap_compare):
    app = frozen_app(theme_dir=NO_THEMES)
    assert snap_compare(app, terminal_size=(100, 30), press=["slash", "e", "t"], run_before=_painted)


def test_every_stored_snapshot_is_one_this_module_takes():
    # syrupy fails a run that leaves a stored snapshot unused, but not under pytest-xdist (addopts -n 2):
    # a case renamed or dropped would leave its old SVG behind unnoticed.
    stored = {p.name for p in (Path(__file__).parent / "__snapshots__" / "test_snapshots").glob("*.svg")}
    taken = {f"test_layout_and_theme_snapshot[{case}].svg" for case in CASES}
    taken |= {"test_help_screen_snapshot.svg", "test_symbol_picker_snapshot.svg"}
    assert stored == taken, (sorted(stored - taken), sorted(taken - stored))
