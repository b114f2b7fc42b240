import json
import tomllib

import pytest

from liqtui.cli import main
from liqtui.config import DEFAULT_CONFIG_TEXT, ConfigError, Settings, load_settings, settings_from_dict


def test_default_file_text_is_the_defaults():
    parsed = settings_from_dict(tomllib.loads(DEFAULT_CONFIG_TEXT))
    assert parsed == Settings(source=parsed.source)


def test_venue_table_merges_over_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[venues.okx]\nenabled = false\nurl_rewrite = { "https://www.okx.com" = "http://127.0.0.1:1" }\n')
    settings = load_settings(str(path))
    assert settings.enabled_venues == ["binanceusdm", "bybit", "hyperliquid"]
    assert settings.venues["okx"].url_rewrite == {"https://www.okx.com": "http://127.0.0.1:1"}
    assert settings.source == str(path)


@pytest.mark.parametrize(
    "text, words",
    [
        ("watchlist = 3", ["watchlist", "list of strings", "3"]),
        ("[ui]\nrender_hz = 'fast'", ["ui.render_hz", "a number", "'fast'"]),
        ("[ui]\nthemes = 'x'", ["unknown key 'ui.themes'", "theme"]),
        ("record = 1", ["record", "true or false"]),
        ("x = [", ["not valid TOML"]),
        ("[venues.okx]\nenabled = 'yes'", ["venues.okx.enabled", "true or false"]),
    ],
)
def test_broken_file_gives_one_clear_message_and_exit_2(tmp_path, capsys, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(str(path))
    for word in words:
        assert word in str(info.value)
    assert str(path) in str(info.value)
    assert main(["config", "show", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err


def test_config_chosen_by_env_and_flag_after_command(tmp_path, monkeypatch, capsys):
    path = tmp_path / "c.toml"
    path.write_text('watchlist = ["ETH/USDT:USDT"]\n')
    monkeypatch.setenv("LIQTUI_CONFIG", str(path))
    assert main(["config", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["watchlist"] == ["ETH/USDT:USDT"] and shown["source"] == str(path)
    other = tmp_path / "d.toml"
    other.write_text('watchlist = ["SOL/USDT:USDT"]\n')
    assert main(["config", "show", "--json", "--config", str(other)]) == 0
    assert json.loads(capsys.readouterr().out)["watchlist"] == ["SOL/USDT:USDT"]


def test_named_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(str(tmp_path / "nope.toml"))


def test_config_init_writes_a_loadable_file(tmp_path, capsys):
    path = tmp_path / "sub" / "config.toml"
    assert main(["--config", str(path), "config", "init"]) == 0
    assert load_settings(str(path)).watchlist == Settings().watchlist
    assert main(["--config", str(path), "config", "init"]) == 2  # never overwrites silently


def test_config_show_prints_toml_that_loads_back_to_the_same_settings(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text('watchlist = ["ETH/USDT:USDT"]\n[venues.okx]\nenabled = false\nccxt = { timeout = 5000 }\n[ui]\nkeys = { quit = "x" }\n')
    assert main(["config", "show", "--config", str(path)]) == 0
    shown = tmp_path / "shown.toml"
    shown.write_text(capsys.readouterr().out)
    assert load_settings(str(shown)) == load_settings(str(path)).__class__(
        **{**load_settings(str(path)).__dict__, "source": str(shown)}
    )
