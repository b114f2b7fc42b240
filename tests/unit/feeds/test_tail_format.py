import json

import pytest

from liqtui.commands.tail import format_json, format_text, price_note
from liqtui.domain.events import Liquidation, Side

LIQ = Liquidation(
    "binanceusdm",
    "BTC/USDT:USDT",
    Side.LONG,
    91234.5,
    0.25,
    22808.625,
    1_790_000_000_123,
    1_790_000_000_130,
    True,
)


def test_json_line_has_exactly_the_documented_keys():
    # Changed on purpose: usd at full precision (was 22808.62), price_kind, and source (feed, backstop or tracked).
    row = json.loads(format_json(LIQ))
    assert row == {
        "venue": "binanceusdm",
        "symbol": "BTC/USDT:USDT",
        "side": "long",
        "price": 91234.5,
        "price_kind": "fill",
        "qty": 0.25,
        "usd": 22808.625,
        "time": 1_790_000_000_123,
        "sampled": True,
        "source": "feed",
    }


def test_json_usd_keeps_full_precision():
    liq = Liquidation(
        "okx",
        "ETH/USDT:USDT",
        Side.SHORT,
        1880.78,
        0.02,
        0.02 * 1880.78,
        1_790_000_000_000,
        1_790_000_000_001,
        True,
    )
    row = json.loads(format_json(liq))
    assert row["usd"] == 37.6156 and '"usd": 37.6156' in format_json(liq)
    assert row["price_kind"] == "bankruptcy"


def test_json_never_prints_nan_or_infinity():
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError):
            format_json(
                Liquidation(
                    "bybit", "BTC/USDT:USDT", Side.LONG, bad, 1.0, 1.0, 1_790_000_000_000, 1_790_000_000_000
                )
            )


def test_text_is_aligned_and_coloured_only_when_asked():
    plain = format_text(LIQ, colour=False)
    short = format_text(
        Liquidation("bybit", "ETH/USDT:USDT", Side.SHORT, 3000.0, 2.0, 6000.0, 1_790_000_000_000, 0),
        colour=False,
    )
    assert "\x1b[" not in plain and plain.index("LONG") == short.index("SHORT")  # columns line up
    assert len(plain) == len(short)
    assert "~" in plain and "~" not in short  # sampled marker
    assert format_text(LIQ, colour=True).startswith("\x1b[31m")  # liquidated long: red


def test_text_marks_fill_and_bankruptcy_prices_and_the_note_names_the_venues():
    assert " fill " in format_text(LIQ, colour=False)
    bybit = Liquidation("bybit", "ETH/USDT:USDT", Side.SHORT, 3000.0, 2.0, 6000.0, 1_790_000_000_000, 0)
    assert " bkrpt " in format_text(bybit, colour=False)
    # hyperliquid added on purpose: its backstop vault's fill prices
    assert (
        price_note() == "fill = fill price (binanceusdm, hyperliquid); bkrpt = bankruptcy price (bybit, okx)"
    )


def test_text_strips_control_characters_from_the_symbol():
    dirty = Liquidation(
        "bybit", "EVIL\x1b]0;owned\x07\x1b[2J/USDT:USDT", Side.SHORT, 3.0, 2.0, 6.0, 1_790_000_000_000, 0
    )
    line = format_text(dirty, colour=False)
    assert "\x1b" not in line and "\x07" not in line and "EVIL]0;owned[2J/USDT:USDT" in line
