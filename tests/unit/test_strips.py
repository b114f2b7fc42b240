"""A strip the screen's adjustments left unchanged is freed with its last reference, not by the collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from rich.segment import Segment
from textual.strip import Strip

import liqtui.ui.app  # noqa: F401 - the desk's import installs the change
from liqtui.ui import strips


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_an_unchanged_strip_is_not_left_for_the_collector(collector_off: None) -> None:
    strip = Strip([Segment("liq"), Segment("tui")])
    assert strip.adjust_cell_length(6) is strip
    assert strip.crop_extend(0, 6, None) is strip
    assert strip.divide([6]) == [strip]
    del strip
    assert gc.collect() == 0


def test_a_changed_strip_is_still_cached() -> None:
    strip = Strip([Segment("liqtui")])
    longer = strip.adjust_cell_length(8)
    assert longer.cell_length == 8
    assert strip.adjust_cell_length(8) is longer
    assert strip.divide([3, 6]) is strip.divide([3, 6])


def test_install_twice_wraps_once() -> None:
    strips.install()
    method = Strip.adjust_cell_length
    strips.install()
    assert Strip.adjust_cell_length is method
    assert not hasattr(method.__wrapped__, "__wrapped__")
