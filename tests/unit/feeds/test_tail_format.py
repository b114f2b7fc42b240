import json

from liqtui.commands.tail import format_json, format_text
from liqtui.domain.events import Liquidation, Side

LIQ = Liquidation("binanceusdm", "BTC/USDT:USDT", Side.LONG, 91234.5, 0.25, 22808.625, 1_790_000_000_123, 1_790_000_000_130, True)


def test_json_line_has_exactly_the_documented_keys():
    row = json.loads(format_json(LIQ))
    assert row == {"venue": "binanceusdm", "symbol": "BTC/USDT:USDT", "side": "long", "price": 91234.5, "qty": 0.25,
                   "usd": 22808.62, "time": 1_790_000_000_123, "sampled": True}


def test_text_is_aligned_and_coloured_only_when_asked():
    plain = format_text(LIQ, colour=False)
    short = format_text(Liquidation("bybit", "ETH/USDT:USDT", Side.SHORT, 3000.0, 2.0, 6000.0, 1_790_000_000_000, 0), colour=False)
    assert "\x1b[" not in plain and plain.index("LONG") == short.index("SHORT")  # columns line up
    assert len(plain) == len(short)
    assert "~" in plain and "~" not in short  # sampled marker
    assert format_text(LIQ, colour=True).startswith("\x1b[31m")  # liquidated long: red
