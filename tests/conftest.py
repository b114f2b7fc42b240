"""Every test: a desk that ran freezes its history out of the garbage collector (``gc.freeze``, in
ui/app.py); in one process of many desks that would keep each finished desk's cycles forever, so
the frozen objects go back to the collector after each test, and the collector's thresholds, which
the desk raises with it, are put back."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def _unfreeze_after():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
