"""Fixtures for the pane tests; the builders live in widget_fixtures.py (importable by the tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from liqtui.engine.views import SymbolView  # noqa: E402

from widget_fixtures import article_view  # noqa: E402


@pytest.fixture
def view() -> SymbolView:
    """The seed article's BTC desk at 2026-01-31 15:51 UTC."""
    return article_view()
