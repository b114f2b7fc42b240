"""The bell and the OSC 9 / 777 / 99 notifications, byte for byte, with and without tmux."""

from __future__ import annotations

from liqtui.domain.terminal import TerminalNotices, notice_bytes, notice_title

TEXT = "BTC long liquidated $312k at 82,410 on binanceusdm"


def test_everything_off_writes_nothing():
    assert notice_bytes(TEXT, TerminalNotices()) == ""
    assert not TerminalNotices().any


def test_each_way_byte_for_byte():
    assert notice_bytes(TEXT, TerminalNotices(bell=True)) == "\x07"
    assert notice_bytes(TEXT, TerminalNotices(osc9=True)) == f"\x1b]9;liqtui: {TEXT}\x07"
    assert notice_bytes(TEXT, TerminalNotices(osc777=True)) == f"\x1b]777;notify;liqtui;{TEXT}\x07"
    assert notice_bytes(TEXT, TerminalNotices(osc99=True)) == f"\x1b]99;;liqtui: {TEXT}\x1b\\"


def test_inside_tmux_osc_passes_through_with_every_escape_doubled_and_the_bell_stays_plain():
    every = TerminalNotices(bell=True, osc9=True, osc777=True, osc99=True)
    assert notice_bytes(TEXT, every, tmux=True) == (
        f"\x1bPtmux;\x1b\x1b]9;liqtui: {TEXT}\x07\x1b\\"
        f"\x1bPtmux;\x1b\x1b]777;notify;liqtui;{TEXT}\x07\x1b\\"
        f"\x1bPtmux;\x1b\x1b]99;;liqtui: {TEXT}\x1b\x1b\\\x1b\\"
        "\x07"
    )


def test_text_from_outside_cannot_end_a_sequence_or_start_another():
    hostile = "BTC\x1b]0;pwned\x07\x1b\\ done"
    out = notice_bytes(hostile, TerminalNotices(osc9=True, osc777=True, osc99=True), title="a;b\x07")
    assert out == (
        "\x1b]9;a;b: BTC]0;pwned\\ done\x07"
        "\x1b]777;notify;a,b;BTC]0;pwned\\ done\x07"
        "\x1b]99;;a;b: BTC]0;pwned\\ done\x1b\\"
    )


def test_data_that_is_not_live_says_so_in_the_title():
    assert notice_title() == "liqtui" and notice_title("DEMO") == "liqtui DEMO"
    out = notice_bytes(TEXT, TerminalNotices(osc9=True, osc777=True), title=notice_title("DEMO"))
    assert out == f"\x1b]9;liqtui DEMO: {TEXT}\x07\x1b]777;notify;liqtui DEMO;{TEXT}\x07"
