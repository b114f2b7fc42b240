from liqtui.feeds.live.exchange import make_exchange, rewrite_url


def test_longest_prefix_wins_and_hostname_is_substituted_first():
    mapping = {
        "https://api.bybit.com": "http://127.0.0.1:1",
        "https://api.bybit.com/v5/x": "http://127.0.0.1:2",
    }
    assert (
        rewrite_url("https://api.{hostname}/v5/market", "bybit.com", mapping)
        == "http://127.0.0.1:1/v5/market"
    )
    assert rewrite_url("https://api.bybit.com/v5/x/y", None, mapping) == "http://127.0.0.1:2/y"
    assert rewrite_url("https://elsewhere.com/a", None, mapping) == "https://elsewhere.com/a"


def test_every_rest_and_websocket_url_of_a_client_is_rewritten():
    exchange = make_exchange(
        "okx",
        url_rewrite={"https://www.okx.com": "http://127.0.0.1:9", "wss://ws.okx.com:443": "ws://127.0.0.1:9"},
    )
    assert exchange.urls["api"] == {"rest": "http://127.0.0.1:9", "ws": "ws://127.0.0.1:9/ws/v5"}
    binance = make_exchange("binanceusdm", url_rewrite={"wss://fstream.binance.com": "ws://127.0.0.1:8"})
    assert binance.urls["api"]["ws"]["linear"] == "ws://127.0.0.1:8/ws"
    assert binance.urls["api"]["fapiPublic"] == "https://fapi.binance.com/fapi/v1"
