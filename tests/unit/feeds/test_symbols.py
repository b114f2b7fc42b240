import pytest

from liqtui.feeds.live.markets import MarketIndex, MarketInfo
from liqtui.feeds.symbols import UnknownSymbol, resolve, resolve_everywhere, venue_symbol


def index(*entries: tuple[str, str]) -> MarketIndex:
    out = MarketIndex()
    for symbol, exchange_id in entries:
        base, rest = symbol.split("/")
        out.add(MarketInfo(symbol, exchange_id, base, rest.split(":")[0]))
    return out


BINANCE = index(
    ("BTC/USDT:USDT", "BTCUSDT"),
    ("ETH/USDT:USDT", "ETHUSDT"),
    ("BTC/USDC:USDC", "BTCUSDC"),
    ("SOL/USDT:USDT", "SOLUSDT"),
)
OKX = index(("BTC/USDT:USDT", "BTC-USDT-SWAP"), ("BTC/USD:BTC", "BTC-USD-SWAP"))
HL = index(("BTC/USDC:USDC", "BTC"), ("ETH/USDC:USDC", "ETH"))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("BTC/USDT:USDT", "BTC/USDT:USDT"),
        ("BTC", "BTC/USDT:USDT"),
        ("btc", "BTC/USDT:USDT"),
        ("btcusdt", "BTC/USDT:USDT"),
        ("BTCUSDT", "BTC/USDT:USDT"),
        ("BTC-PERP", "BTC/USDT:USDT"),
        ("BTC-USDT-SWAP", "BTC/USDT:USDT"),
        ("BTCUSDT.P", "BTC/USDT:USDT"),
        ("BTC/USDC", "BTC/USDC:USDC"),
        ("eth-usdt", "ETH/USDT:USDT"),
    ],
)
def test_short_forms_resolve_on_binance(text, expected):
    assert resolve(text, BINANCE, "binanceusdm") == expected


def test_exchange_ids_and_venue_specific_forms():
    assert resolve("BTC-USDT-SWAP", OKX) == "BTC/USDT:USDT"
    assert resolve("BTC-USD-SWAP", OKX) == "BTC/USD:BTC"
    assert resolve("BTC-PERP", HL) == "BTC/USDC:USDC"
    # another venue's unified symbol maps to the same coin's stable perpetual here
    assert venue_symbol("BTC/USDT:USDT", HL) == "BTC/USDC:USDC"
    assert venue_symbol("SOL/USDT:USDT", HL) is None


def test_unknown_symbol_names_the_closest_matches():
    with pytest.raises(UnknownSymbol) as err:
        resolve("BTCUSTD", BINANCE, "binanceusdm")
    assert "BTC/USDT:USDT" in err.value.matches
    assert "unknown symbol 'BTCUSTD' on binanceusdm" in str(err.value) and "closest" in str(err.value)
    with pytest.raises(UnknownSymbol) as err:
        resolve("ETHH", BINANCE)
    assert err.value.matches and err.value.matches[0] == "ETH/USDT:USDT"


def test_resolve_everywhere():
    assert resolve_everywhere("BTC", {"binanceusdm": BINANCE, "okx": OKX, "hyperliquid": HL}) == {
        "binanceusdm": "BTC/USDT:USDT",
        "okx": "BTC/USDT:USDT",
        "hyperliquid": "BTC/USDC:USDC",
    }
    assert resolve_everywhere("SOL", {"binanceusdm": BINANCE, "hyperliquid": HL}) == {
        "binanceusdm": "SOL/USDT:USDT"
    }
    with pytest.raises(UnknownSymbol):
        resolve_everywhere("DOGE", {"okx": OKX, "hyperliquid": HL})
