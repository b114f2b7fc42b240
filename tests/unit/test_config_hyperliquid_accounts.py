"""The keys of Hyperliquid's measured positions: accounts, accounts_file (every line checked, read
from the config file's directory), leaderboard_url; each bad value is one message naming the key."""

from __future__ import annotations

import pytest

from liqtui.config import ConfigError, load_settings

A, B = "0x" + "a1" * 20, "0x" + "B2" * 20


def _load(tmp_path, body: str):
    config = tmp_path / "c.toml"
    config.write_text("[venues.hyperliquid]\n" + body + "\n")
    return load_settings(str(config)).venues["hyperliquid"]


def test_accounts_and_an_accounts_file_read_from_the_config_directory(tmp_path):
    (tmp_path / "whales.txt").write_text(f"# whales\n{A}\n\n{B}  # a comment\n")
    venue = _load(tmp_path, f'accounts = ["{A}"]\naccounts_file = "whales.txt"')
    assert venue.accounts == [A] and venue.accounts_file == str(tmp_path / "whales.txt")
    assert (venue.weight_budget, venue.min_position_usd, venue.leaderboard_url) == (600.0, 10_000.0, "")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('accounts = ["0x12"]', ["venues.hyperliquid.accounts", "item 0", "40 hex digits"]),
        ('accounts_file = "missing.txt"', ["venues.hyperliquid.accounts_file", "missing.txt", "cannot read"]),
        ('leaderboard_url = "ftp://x"', ["venues.hyperliquid.leaderboard_url", "http(s) URL"]),
        ("weight_budget = 5000", ["venues.hyperliquid.weight_budget", "[200, 1200]"]),
        ("min_position_usd = -1", ["venues.hyperliquid.min_position_usd"]),
        ("account = []", ["unknown key 'venues.hyperliquid.account'"]),
    ],
)
def test_a_bad_value_is_one_message_naming_the_key(tmp_path, body, words):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, body)
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_a_bad_line_of_the_accounts_file_names_the_file_and_line(tmp_path):
    (tmp_path / "whales.txt").write_text(f"{A}\n# fine\nnot-an-address\n")
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, 'accounts_file = "whales.txt"')
    assert "whales.txt: line 3" in str(caught.value) and "'not-an-address'" in str(caught.value)
