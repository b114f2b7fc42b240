import pytest

from liqtui.feeds.live.markets import MarketInfo
from liqtui.feeds.margin import bybit_tiers, default_tiers, first_tier, hyperliquid_tiers, okx_tiers


def test_shipped_binance_table_has_btc_first_bracket_and_a_fallback():
    btc = first_tier(default_tiers("binanceusdm", "BTCUSDT"))
    assert (btc.max_notional_usd, btc.maintenance_rate, btc.max_leverage) == (50_000.0, 0.004, 125.0)
    other = default_tiers("binanceusdm", "NEWUSDT")
    assert other and other[-1].max_notional_usd is None  # the last tier has no cap
    rates = [t.maintenance_rate for t in default_tiers("binanceusdm", "BTCUSDT")]
    assert rates == sorted(rates)


def test_bybit_risk_limit_tiers():
    payload = {
        "result": {
            "list": [
                {
                    "id": 2,
                    "symbol": "BTCUSDT",
                    "riskLimitValue": "4000000",
                    "maintenanceMargin": "0.0100",
                    "maxLeverage": "66.67",
                },
                {
                    "id": 1,
                    "symbol": "BTCUSDT",
                    "riskLimitValue": "2000000",
                    "maintenanceMargin": "0.0050",
                    "maxLeverage": "100.00",
                },
                {
                    "id": 9,
                    "symbol": "ETHUSDT",
                    "riskLimitValue": "1",
                    "maintenanceMargin": "0.9",
                    "maxLeverage": "1",
                },
            ]
        }
    }
    tiers = bybit_tiers(payload, "BTCUSDT")
    assert [(t.max_notional_usd, t.maintenance_rate, t.max_leverage) for t in tiers] == [
        (2e6, 0.005, 100.0),
        (4e6, 0.01, 66.67),
    ]


def test_okx_position_tiers_convert_contracts_to_usd():
    market = MarketInfo("BTC/USDT:USDT", "BTC-USDT-SWAP", "BTC", "USDT", contract_size=0.01)
    rows = [
        {"tier": "1", "maxSz": "5000", "mmr": "0.004", "maxLever": "125"},
        {"tier": "2", "maxSz": "10000", "mmr": "0.006", "maxLever": "100"},
    ]
    tiers = okx_tiers(rows, market, 90_000.0)
    assert (
        tiers[0].max_notional_usd == pytest.approx(5000 * 0.01 * 90_000)
        and tiers[0].maintenance_rate == 0.004
    )
    assert tiers[1].max_leverage == 100


def test_hyperliquid_maintenance_is_half_the_initial_margin_at_max_leverage():
    (tier,) = hyperliquid_tiers(MarketInfo("BTC/USDC:USDC", "BTC", "BTC", "USDC", max_leverage=40))
    assert tier.maintenance_rate == pytest.approx(1 / 80) and tier.max_leverage == 40
    assert hyperliquid_tiers(MarketInfo("X/USDC:USDC", "X", "X", "USDC")) == []


def test_tiers_no_model_can_take_are_left_out():
    """A NaN, infinite, negative or 100 % rate, or a leverage below 1x, never reaches the level model."""
    payload = {
        "result": {
            "list": [
                {
                    "symbol": "BTCUSDT",
                    "riskLimitValue": "1",
                    "maintenanceMargin": "NaN",
                    "maxLeverage": "100",
                },
                {
                    "symbol": "BTCUSDT",
                    "riskLimitValue": "2",
                    "maintenanceMargin": "-0.005",
                    "maxLeverage": "100",
                },
                {
                    "symbol": "BTCUSDT",
                    "riskLimitValue": "3",
                    "maintenanceMargin": "100",
                    "maxLeverage": "100",
                },
                {
                    "symbol": "BTCUSDT",
                    "riskLimitValue": "4",
                    "maintenanceMargin": "0.006",
                    "maxLeverage": "inf",
                },
                {
                    "symbol": "BTCUSDT",
                    "riskLimitValue": "5",
                    "maintenanceMargin": "0.007",
                    "maxLeverage": "0.5",
                },
            ]
        }
    }
    tiers = bybit_tiers(payload, "BTCUSDT")
    assert [(t.maintenance_rate, t.max_leverage) for t in tiers] == [(0.006, None), (0.007, None)]
    assert hyperliquid_tiers(MarketInfo("X/USDC:USDC", "X", "X", "USDC", max_leverage=float("nan"))) == []
