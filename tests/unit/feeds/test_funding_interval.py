"""Each venue's funding interval as its payload gives it (recorded payloads)."""

from liqtui.feeds.live import bybit, hyperliquid, okx
from liqtui.feeds.live.markets import MarketInfo

RECV = 1_700_000_000_000
BTC = MarketInfo("BTC/USDT:USDT", "BTCUSDT", "BTC", "USDT")


def test_bybit_reads_the_interval_from_the_ticker(payload):
    row = payload("bybit_watchTicker_tickers_linear_snapshot.json")["data"]  # "fundingIntervalHour": "8"
    _oi, ticker = bybit.market_from_ticker(row, BTC, RECV)
    assert ticker.funding_interval_hours == 8.0
    _oi, ticker = bybit.market_from_ticker(dict(row, fundingIntervalHour="4"), BTC, RECV)
    assert ticker.funding_interval_hours == 4.0
    _oi, ticker = bybit.market_from_ticker(
        {k: v for k, v in row.items() if k != "fundingIntervalHour"}, BTC, RECV
    )
    assert ticker.funding_interval_hours is None  # not said: the engine falls back to Bybit's usual 8 h


def test_okx_interval_runs_from_the_next_settlement_to_the_one_after(payload):
    rows = payload("okx_watchTicker_tickers_swap.json")["data"]
    uni = {
        "UNI-USD-SWAP": MarketInfo(
            "UNI/USD:UNI", "UNI-USD-SWAP", "UNI", "USD", contract_size=10.0, inverse=True
        )
    }
    funding = {
        "UNI-USD-SWAP": {
            "fundingRate": "0.0002",
            "fundingTime": "1652486400000",
            "nextFundingTime": "1652515200000",
        }
    }
    (ticker,) = okx.tickers(rows, {}, funding, uni, {"UNI/USD:UNI"}, RECV)
    assert ticker.funding_interval_hours == 8.0  # 1652515200000 - 1652486400000 = 28,800,000 ms
    funding["UNI-USD-SWAP"]["nextFundingTime"] = "1652500800000"
    (ticker,) = okx.tickers(rows, {}, funding, uni, {"UNI/USD:UNI"}, RECV)
    assert ticker.funding_interval_hours == 4.0
    del funding["UNI-USD-SWAP"]["nextFundingTime"]
    (ticker,) = okx.tickers(rows, {}, funding, uni, {"UNI/USD:UNI"}, RECV)
    assert ticker.funding_interval_hours is None


def test_hyperliquid_funding_is_hourly(payload):
    ctx = payload("hyperliquid_fetchOpenInterests_assetCtx_merged.json")
    _oi, ticker = hyperliquid.market_from_asset_ctx(
        ctx, MarketInfo("HYPE/USDC:USDC", "HYPE", "HYPE", "USDC"), RECV
    )
    assert ticker.funding_interval_hours == 1.0
