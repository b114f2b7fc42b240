"""Desk tests: the helpers beside this file are importable; no test reads the user's config or
inherits NO_COLOR."""

from __future__ import annotations

import sys
from pathlib import Path

import plotext  # noqa: F401 - first: a screenshot never races the at-risk chart's import of it
import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
