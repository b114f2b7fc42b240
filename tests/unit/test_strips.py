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


def test_a_new_strip_makes_no_cache_until_one_is_used() -> None:
    # Textual made a strip's seven caches (a FIFOCache each) with every strip, most never used: half
    # of what an opening of the symbol picker left for the collector.
    def caches(strip: Strip) -> list[object]:
        return [ref for ref in gc.get_referents(strip) if type(ref).__name__ == "FIFOCache"]

    strip = Strip([Segment("liq"), Segment("tui")])
    assert caches(strip) == []
    cropped = strip.crop(0, 3)
    assert cropped.text == "liq" and strip.crop(0, 3) is cropped  # the crop cache, made and used
    assert len(caches(strip)) == 1
    assert [part.text for part in strip.divide([2, 6])] == ["li", "qtui"]
    assert len(caches(strip)) == 2


def test_a_strip_s_caches_are_the_sizes_textual_gives_them() -> None:
    strip = Strip([Segment("liqtui")])
    for name, size in strips._cache_sizes().items():  # read from a strip Textual's own __init__ made
        assert getattr(strip, name)._maxsize == size
    with pytest.raises(AttributeError):
        strip.not_a_slot  # noqa: B018 - a name that is no cache is still an error
