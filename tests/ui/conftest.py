"""Desk tests: the real panes when the widgets package exports them, stand-ins until then."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import placeholder_widgets  # noqa: E402


def _install_placeholders_if_needed() -> bool:
    try:
        widgets = importlib.import_module("liqtui.ui.widgets")
    except ImportError:  # pragma: no cover - the package directory always exists
        raise
    missing = [name for name in placeholder_widgets.NAMES if not hasattr(widgets, name)]
    for name in missing:
        setattr(widgets, name, getattr(placeholder_widgets, name))
    return bool(missing)


USING_PLACEHOLDERS = _install_placeholders_if_needed()


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path, monkeypatch):
    """Tests never read the user's config dir (themes) nor inherit NO_COLOR."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
