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
    path.write_text(
        '[venues.okx]\nenabled = false\nurl_rewrite = { "https://www.okx.com" = "http://127.0.0.1:1" }\n'
    )
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
    path.write_text(
        'watchlist = ["ETH/USDT:USDT"]\n[venues.okx]\nenabled = false\nccxt = { timeout = 5000 }\n[ui]\nkeys = { quit = "x" }\n'
    )
    assert main(["config", "show", "--config", str(path)]) == 0
    shown = tmp_path / "shown.toml"
    shown.write_text(capsys.readouterr().out)
    assert load_settings(str(shown)) == load_settings(str(path)).__class__(
        **{**load_settings(str(path)).__dict__, "source": str(shown)}
    )


# --- ranges of the numeric keys -------------------------------------------

import math  # noqa: E402
import typing  # noqa: E402
from dataclasses import fields, is_dataclass  # noqa: E402

from liqtui.config import AlertsSettings, BusSettings, LevelSettings, Range, UISettings, VenueSettings  # noqa: E402

# Every number of the file, as written in it (a venue's table stands for all of them).
NUMERIC_KEYS = {
    "oi_poll_seconds": (Settings, "oi_poll_seconds"),
    "stale_after_seconds": (Settings, "stale_after_seconds"),
    "retention_days": (Settings, "retention_days"),
    "venues.okx.oi_poll_seconds": (VenueSettings, "oi_poll_seconds"),
    "venues.hyperliquid.weight_budget": (VenueSettings, "weight_budget"),
    "venues.hyperliquid.min_position_usd": (VenueSettings, "min_position_usd"),
    "levels.leverage_weights.10": (LevelSettings, "leverage_weights"),
    "levels.maintenance_margin": (LevelSettings, "maintenance_margin"),
    "levels.long_share": (LevelSettings, "long_share"),
    "levels.lookback_days": (LevelSettings, "lookback_days"),
    "levels.half_life_hours": (LevelSettings, "half_life_hours"),
    "ui.render_hz": (UISettings, "render_hz"),
    "ui.tape_min_usd": (UISettings, "tape_min_usd"),
    "ui.big_liquidation_usd": (UISettings, "big_liquidation_usd"),
    "bus.max_age_hours": (BusSettings, "max_age_hours"),
    "bus.max_bytes_mb": (BusSettings, "max_bytes_mb"),
    "bus.duplicate_window_seconds": (BusSettings, "duplicate_window_seconds"),
    "alerts.webhook_batch_seconds": (AlertsSettings, "webhook_batch_seconds"),
}


def _nested(key: str, value) -> dict:
    """{"a": {"b": value}} from "a.b"."""
    *tables, name = key.split(".")
    raw: dict = {name: value}
    for table in reversed(tables):
        raw = {table: raw}
    return raw


def _range_of(key: str) -> Range:
    cls, name = NUMERIC_KEYS[key]
    return next(f for f in fields(cls) if f.name == name).metadata["range"]


def _bad_values(span: Range) -> list[float]:
    values = [math.nan, math.inf, -math.inf, -5.0, 1e300, span.high * 2 + 1]
    if 0.0 not in span:
        values.append(0.0)
    if span.low > 0:
        values.append(span.low / 2)
    return values


def test_every_number_of_the_settings_declares_a_range():
    def numeric_fields(cls):
        for f in fields(cls):
            tp = typing.get_type_hints(cls)[f.name]
            if is_dataclass(tp):
                yield from numeric_fields(tp)
            elif tp in (float, int) or typing.get_args(tp)[-1:] in ((float,), (int,)):
                yield cls, f
            elif typing.get_origin(tp) is dict and is_dataclass(typing.get_args(tp)[1]):
                yield from numeric_fields(typing.get_args(tp)[1])

    found = {(cls, f.name) for cls, f in numeric_fields(Settings)}
    assert found == set(NUMERIC_KEYS.values())
    assert all(isinstance(_range_of(key), Range) for key in NUMERIC_KEYS)


@pytest.mark.parametrize("key", sorted(NUMERIC_KEYS))
def test_every_number_out_of_its_range_is_one_message_naming_file_key_and_range(tmp_path, key):
    span = _range_of(key)
    for value in _bad_values(span):
        path = tmp_path / "bad.toml"
        path.write_text(to_toml_value(key, value))
        with pytest.raises(ConfigError) as info:
            load_settings(str(path))
        message = str(info.value)
        assert str(path) in message and f"'{key}'" in message and str(span) in message, (value, message)


@pytest.mark.parametrize("key", sorted(NUMERIC_KEYS))
def test_the_ends_of_every_range_are_accepted(key):
    span = _range_of(key)
    ends = [span.high * (0.999 if span.high_open else 1), span.low if not span.low_open else span.low + 1e-9]
    for value in ends:
        raw = _nested(key, value)
        if key.startswith("levels.leverage_weights"):
            raw["levels"]["leverage_weights"]["20"] = 1.0  # a mix needs one positive weight
        settings_from_dict(raw)


def to_toml_value(key: str, value: float) -> str:
    """The key set to ``value`` as a TOML document (nan and inf spelled as TOML spells them)."""
    text = (
        "nan"
        if math.isnan(value)
        else ("inf" if value == math.inf else "-inf" if value == -math.inf else repr(value))
    )
    *tables, name = key.split(".")
    if tables and tables[-1] == "leverage_weights":
        return f'[{".".join(tables[:-1])}]\nleverage_weights = {{ "{name}" = {text} }}\n'
    return (f"[{'.'.join(tables)}]\n" if tables else "") + f"{name} = {text}\n"


@pytest.mark.parametrize(
    "raw, words",
    [
        ({"levels": {"leverage_weights": {"10x": 1.0}}}, ["levels.leverage_weights", "(1, 1000]", "'10x'"]),
        ({"levels": {"leverage_weights": {"0.5": 1.0}}}, ["levels.leverage_weights", "(1, 1000]", "'0.5'"]),
        ({"levels": {"leverage_weights": {"nan": 1.0}}}, ["levels.leverage_weights", "'nan'"]),
        (
            {"levels": {"leverage_weights": {"10": 0.0, "20": 0.0}}},
            ["levels.leverage_weights", "positive weight"],
        ),
        ({"levels": {"leverage_weights": {}}}, ["levels.leverage_weights", "positive weight"]),
        ({"ui": {"layout": "wide"}}, ["ui.layout", "auto, full", "'wide'"]),
        ({"venues": {"kraken": {"enabled": True}}}, ["unknown key 'venues.kraken'", "binanceusdm"]),
        ({"watchlist": []}, ["'watchlist'", "at least one symbol"]),
        ({"record_path": "rec\x00.sqlite"}, ["'record_path'", "NUL"]),
        ({"record_path": "~nosuchuser-liqtui/rec.sqlite"}, ["'record_path'", "'~nosuchuser-liqtui'"]),
    ],
)
def test_keys_and_names_outside_what_liqtui_knows_are_one_message(raw, words):
    with pytest.raises(ConfigError) as info:
        settings_from_dict(raw, source="c.toml")
    for word in words:
        assert word in str(info.value)


def test_a_maintenance_margin_of_2_is_refused_before_anything_starts(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text("[levels]\nmaintenance_margin = 2\n")
    assert (
        main(
            [
                "--config",
                str(path),
                "record",
                "--demo",
                "--duration",
                "1",
                "--out",
                str(tmp_path / "r.sqlite"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "levels.maintenance_margin" in err and "[0, 0.5)" in err and "Traceback" not in err
    assert not (tmp_path / "r.sqlite").exists()


def test_an_unknown_theme_is_refused_with_the_themes_there_are(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    path = tmp_path / "c.toml"
    path.write_text('[ui]\ntheme = "solarised"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(str(path))
    message = str(info.value)
    assert "ui.theme" in message and "'solarised'" in message
    assert all(name in message for name in ("dark", "light", "ansi"))
    mine = tmp_path / "cfg" / "liqtui" / "themes" / "solarised.toml"
    mine.parent.mkdir(parents=True)
    mine.write_text('[colors]\nprimary = "#268bd2"\n')
    assert load_settings(str(path)).ui.theme == "solarised"  # a theme file of the user's own


def test_record_path_on_a_dangling_symlink_is_refused_at_load(tmp_path):
    link = tmp_path / "rec.sqlite"
    link.symlink_to(tmp_path / "gone" / "target.sqlite")
    path = tmp_path / "c.toml"
    path.write_text(f'record_path = "{link}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(str(path))
    message = str(info.value)
    assert str(path) in message and "record_path" in message and "target.sqlite" in message
    assert not (tmp_path / "gone").exists()
    (tmp_path / "gone").mkdir()
    (tmp_path / "gone" / "target.sqlite").write_bytes(b"")
    assert load_settings(str(path)).recording_path == link  # a link to a file that is there is fine


def test_the_default_file_states_the_range_of_every_number():
    lines = DEFAULT_CONFIG_TEXT.splitlines()
    for key in NUMERIC_KEYS:
        span = str(_range_of(key))
        *tables, name = key.split(".")
        name = "leverage_weights" if tables[-1:] == ["leverage_weights"] else name
        section = {"venues": "[venues.binanceusdm]", "levels": "[levels]", "ui": "[ui]", "bus": "[bus]"}.get(
            tables[0] if tables else ""
        )
        start = lines.index(section) if section else 0
        at = next(i for i in range(start, len(lines)) if lines[i].startswith(f"{name} ="))
        above = []
        for line in reversed(lines[:at]):
            if not line.startswith("#"):
                break
            above.append(line)
        assert span in lines[at] or any(span in line for line in above), (key, span)


# --- secrets and TLS -----------------------------------------------------------

SECRET_CONFIG = """\
[venues.binanceusdm]
ccxt = { apiKey = "AK-123456", secret = "S-abcdef", timeout = 5000, headers = { "X-MBX-APIKEY" = "H-777" }, httpsProxy = "http://me:pw-999@proxy.example:8080" }
[venues.okx]
ccxt = { password = "P-okx", uid = "U-42", options = { privateKey = "0xPRIV", walletAddress = "0xWALLET" } }
[venues.hyperliquid]
url_rewrite = { "https://api.hyperliquid.xyz" = "https://TOKEN-5@mirror.example" }
[bus]
url = "nats://desk:BUSPW-6@bus.example:4222"
user = "desk"
password = "BUSPW-7"
token = "BUSTOK-8"
"""
SECRETS = (
    "AK-123456",
    "S-abcdef",
    "H-777",
    "pw-999",
    "P-okx",
    "U-42",
    "0xPRIV",
    "0xWALLET",
    "TOKEN-5",
    "BUSPW-6",
    "BUSPW-7",
    "BUSTOK-8",
)


@pytest.mark.parametrize("form", [[], ["--json"]])
def test_config_show_never_prints_a_secret(tmp_path, capsys, form):
    path = tmp_path / "c.toml"
    path.write_text(SECRET_CONFIG)
    assert main(["config", "show", *form, "--config", str(path)]) == 0
    out, err = capsys.readouterr()
    for secret in SECRETS:
        assert secret not in out + err
    assert "<redacted>" in out and "5000" in out and "proxy.example:8080" in out and "me:" in out
    assert "bus.example:4222" in out and "desk" in out


def test_bus_credentials_from_the_environment_are_never_printed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LIQTUI_BUS_PASSWORD", "ENVPW-1")
    monkeypatch.setenv("LIQTUI_BUS_TOKEN", "ENVTOK-2")
    monkeypatch.setenv("LIQTUI_BUS_URL", "nats://127.0.0.1:4999")
    path = tmp_path / "c.toml"
    path.write_text('[bus]\ntoken = "FILETOK-3"\n')
    settings = load_settings(str(path))
    # the file wins over the environment; the environment fills what the file leaves empty
    assert (settings.bus.token, settings.bus.password, settings.bus.url) == (
        "FILETOK-3",
        "ENVPW-1",
        "nats://127.0.0.1:4999",
    )
    assert main(["config", "show", "--config", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "ENVPW-1" not in out + err and "FILETOK-3" not in out + err and "nats://127.0.0.1:4999" in out


def test_settings_repr_has_no_ccxt_options():
    settings = load_settings_text(SECRET_CONFIG)
    assert "AK-123456" not in repr(settings) and "S-abcdef" not in repr(settings)


def load_settings_text(text: str) -> Settings:
    return settings_from_dict(tomllib.loads(text))


def test_tls_checks_off_are_warned_about_loudly_on_stderr(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(
        "[venues.okx]\nccxt = { verify = false }\n[venues.bybit]\nenabled = false\nccxt = { verify = false }\n"
    )
    assert main(["config", "show", "--config", str(path)]) == 0
    err = capsys.readouterr().err
    assert "WARNING" in err and "TLS" in err and "venues.okx" in err and str(path) in err
    assert "venues.bybit" not in err  # a disabled venue never connects
    path.write_text("[venues.okx]\nccxt = { verify = true }\n")
    assert main(["config", "show", "--config", str(path)]) == 0
    assert "TLS" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "option, words",
    [
        ('timeout = "abc"', ["venues.okx.ccxt", "option 'timeout'", "(0, 600000] ms", "'abc'"]),
        ("timeout = -1", ["option 'timeout'", "-1"]),
        ("rateLimit = nan", ["option 'rateLimit'", "nan"]),
        ("verify = 'no'", ["option 'verify'", "true or false"]),
        ("apiKey = 5", ["option 'apiKey'", "a string"]),
        ("options = 3", ["option 'options'", "a table"]),
        ("fetch_ticker = 1", ["unknown option 'fetch_ticker'", "timeout", "httpsProxy"]),
        ("urls = { api = 'http://evil.example' }", ["unknown option 'urls'"]),
    ],
)
def test_ccxt_options_are_checked_before_they_reach_ccxt(tmp_path, capsys, option, words):
    """The ccxt table was passed to the client as is: ccxt sets each key as an attribute, so a typo or
    a value of the wrong kind broke the venue later, or replaced one of the client's methods or URLs."""
    path = tmp_path / "c.toml"
    path.write_text(f"[venues.okx]\nccxt = {{ {option} }}\n")
    assert main(["config", "show", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, err
