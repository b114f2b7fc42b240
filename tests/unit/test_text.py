"""printable(): outside text made safe for a terminal."""

import json

from liqtui.domain.text import printable


def test_escape_sequences_and_controls_are_removed():
    assert printable("BTC\x1b]0;pwned\x07/USDT\x1b[2J\r\x9b31m") == "BTC]0;pwned/USDT[2J31m"
    assert printable("a\tb\nc\x00d\x7f") == "abcd"


def test_bidi_overrides_zero_width_and_lone_surrogates_are_removed():
    assert printable("ETH\u202eDSU\u200b/USDT\u2028") == "ETHDSU/USDT"
    lone = json.loads('"SOL\\ud800"')  # a JSON string may carry a lone surrogate; printing it raises
    assert printable(lone) == "SOL"


def test_clean_text_and_kept_characters_pass_unchanged():
    assert printable("BTC/USDT:USDT 1000PEPE 比特币 €") == "BTC/USDT:USDT 1000PEPE 比特币 €"
    assert printable("line 1\nline\x1b 2", keep="\n") == "line 1\nline 2"


def test_stats_prints_no_escape_sequence_from_an_old_recording(tmp_path, capsys):
    from liqtui.cli import main
    from liqtui.domain.events import Liquidation, Side
    from liqtui.storage import Recorder

    path = tmp_path / "dirty.sqlite"
    dirty = "EVIL\x1b]0;owned\x07\x1b[2J/USDT:USDT"  # recorded before names were cleaned at the edge
    with Recorder(path) as recorder:
        recorder.add(
            Liquidation("bybit", dirty, Side.LONG, 2.0, 10.0, 20.0, 1_764_000_000_000, 1_764_000_000_001)
        )
    assert main(["stats", str(path), "--window", "all"]) == 0
    out = capsys.readouterr().out
    assert "EVIL]0;owned[2J/USDT:USDT" in out
    assert not any(c in out for c in "\x1b\x07")
