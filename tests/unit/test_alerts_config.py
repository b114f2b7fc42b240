"""[[alerts.rules]] in the config: each bad rule is one message naming the file and the key (exit 2
through the real CLI), every number declares its range, and the kinds' defaults apply."""

from __future__ import annotations

import math
import tomllib
from dataclasses import fields

import pytest

from liqtui.cli import main
from liqtui.config import DEFAULT_CONFIG_TEXT, AlertRuleSettings, ConfigError, Range, settings_from_dict
from liqtui.domain.events import Side


def _rules(*rules: dict):
    return settings_from_dict({"alerts": {"rules": list(rules)}}, source="c.toml")


@pytest.mark.parametrize(
    "rule, words",
    [
        ({"kind": "liquidation", "min_usd": 1, "colour": "red"}, ["unknown key 'alerts.rules[0].colour'"]),
        ({"kind": "whale"}, ["alerts.rules[0]", "kind: expected one of liquidation, burst", "'whale'"]),
        ({"min_usd": 5}, ["alerts.rules[0]", "kind: expected one of"]),
        ({"kind": "position_near", "window": 30}, ["a position_near rule takes no 'window'", "min_usd, pct"]),
        ({"kind": "position_near", "pct": 0.5, "scope": "total"}, ["a position_near rule takes no 'scope'"]),
        ({"kind": "position_near", "pct": 101}, ["alerts.rules[0].pct", "(0, 100] %"]),
        ({"kind": "liquidation", "window": 30}, ["a liquidation rule takes no 'window'", "min_usd"]),
        ({"kind": "cluster_near", "venues": ["okx"]}, ["a cluster_near rule takes no 'venues'"]),
        ({"kind": "burst", "symbols": ["BTC", "$$$"]}, ["symbols: '$$$' names no market"]),
        ({"kind": "burst", "venues": ["binance"]}, ["venues: unknown venue 'binance'", "binanceusdm"]),
        ({"kind": "burst", "side": "up"}, ["side: expected long or short, got 'up'"]),
        ({"kind": "oi_change", "scope": "all"}, ["alerts.rules[0].scope", "venue, total"]),
        ({"kind": "burst", "min_usd": -1}, ["alerts.rules[0].min_usd", "[0, 1e12] USD"]),
        ({"kind": "cascade", "k": 100}, ["alerts.rules[0].k", "[0.5, 20] sigma"]),
        ({"kind": "funding", "rate": math.nan}, ["alerts.rules[0].rate", "(0, 10] % per 8 h"]),
    ],
)
def test_a_bad_rule_is_one_message_naming_the_key(rule, words):
    with pytest.raises(ConfigError) as info:
        _rules(rule)
    message = str(info.value)
    assert message.startswith("c.toml: ") and "\n" not in message
    for word in words:
        assert word in message, (word, message)


def test_two_rules_of_one_name_are_refused():
    with pytest.raises(ConfigError, match="two rules are named 'x'"):
        _rules({"kind": "burst", "name": "x"}, {"kind": "liquidation", "name": "x"})


def test_a_bad_rule_through_the_cli_is_exit_2_and_one_line(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text('[[alerts.rules]]\nkind = "liquidation"\nmin_usd = 1e6\nwindow = 30\n')
    assert main(["--config", str(path), "config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "alerts.rules[0]" in err and "Traceback" not in err


def test_every_number_of_a_rule_declares_a_range_and_the_default_file_states_it():
    numbers = [f for f in fields(AlertRuleSettings) if f.type in ("float", float)]
    assert {f.name for f in numbers} == {
        "min_usd",
        "window",
        "pct",
        "k",
        "percentile",
        "side_share",
        "rate",
        "cooldown",
    }
    for f in numbers:
        span = f.metadata["range"]
        assert isinstance(span, Range)
        assert any(
            line.startswith(f"{f.name} =") and str(span) in line for line in DEFAULT_CONFIG_TEXT.splitlines()
        ), f.name


def test_the_default_file_holds_the_default_rules_and_they_resolve():
    parsed = settings_from_dict(tomllib.loads(DEFAULT_CONFIG_TEXT))
    rules = parsed.alerts.active_rules()
    assert [r.kind for r in rules] == [
        "liquidation",
        "burst",
        "cascade",
        "cluster_near",
        "cluster_swept",
        "oi_change",
        "funding",
    ]
    assert rules[0].name == "liquidation ≥ $500,000"
    assert not (parsed.alerts.bell or parsed.alerts.osc9 or parsed.alerts.osc777 or parsed.alerts.osc99)


def test_the_default_files_position_near_example_is_a_rule_once_uncommented():
    lines = DEFAULT_CONFIG_TEXT.splitlines()
    start = lines.index("# [[alerts.rules]]")
    example = "\n".join(line.removeprefix("# ") for line in lines[start:] if line.startswith("# "))
    parsed = settings_from_dict(tomllib.loads(DEFAULT_CONFIG_TEXT + "\n" + example))
    rule = parsed.alerts.active_rules()[-1]
    assert (rule.kind, rule.min_usd, rule.pct, rule.cooldown_ms) == ("position_near", 1_000_000, 2.0, 60_000)
    (default,) = _rules({"kind": "position_near", "symbols": ["BTC"]}).alerts.active_rules()
    assert default.pct == 2.0 and default.coins == frozenset({"BTC"})


def test_a_rule_takes_its_kinds_defaults_and_reads_short_symbols():
    (rule,) = _rules(
        {"kind": "cascade", "symbols": ["btcusdt", "ETH-PERP"], "side": "long", "cooldown": 0}
    ).alerts.active_rules()
    assert (rule.window_ms, rule.k, rule.percentile, rule.side_share) == (60_000, 3.0, 95.0, 0.65)
    assert rule.coins == frozenset({"BTC", "ETH"}) and rule.side is Side.LONG and rule.cooldown_ms == 0
    assert rule.name == "cascade BTC ETH long"
    (funding,) = _rules({"kind": "funding"}).alerts.active_rules()
    assert funding.rate == pytest.approx(0.001)  # 0.1 % per 8 h
    assert _rules({"kind": "burst", "enabled": False}).alerts.active_rules() == []
