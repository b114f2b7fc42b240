"""What the settings say that the user must see on the desk, where stderr is hidden."""

from __future__ import annotations

from liqtui.cli import main
from liqtui.ui.app import LiqtuiApp


def test_tls_checks_off_become_a_desk_notification(tmp_path, monkeypatch, capsys):
    config = tmp_path / "c.toml"
    config.write_text("[venues.okx]\nccxt = { verify = false }\n")
    shown: list[str] = []
    monkeypatch.setattr(LiqtuiApp, "run", lambda app: shown.extend(app.startup_notes))
    assert main(["--config", str(config), "demo"]) == 0
    assert any("TLS" in note and "venues.okx" in note and "OFF" in note for note in shown)
    assert "TLS" in capsys.readouterr().err  # and on stderr, for the scrollback
