"""Venue parsers against the recorded payloads in tests/fixtures/exchange-payloads/."""

import math

import pytest

from liqtui.domain.events import Side
from liqtui.feeds.live import binanceusdm, bybit, hyperliquid, okx
from liqtui.feeds.live.markets import MarketIndex, MarketInfo

RECV = 1_760_000_000_000  # 2025-10: after every recorded liquidation (a time more than a day after receipt is malformed)

BINANCE = {"BTCUSDT": MarketInfo("BTC/USDT:USDT", "BTCUSDT", "BTC", "USDT")}
BYBIT = {
    "ROSEUSDT": MarketInfo("ROSE/USDT:USDT", "ROSEUSDT", "ROSE", "USDT"),
    "GALAUSDT": MarketInfo("GALA/USDT:USDT", "GALAUSDT", "GALA", "USDT"),
    "BTCUSDT": MarketInfo("BTC/USDT:USDT", "BTCUSDT", "BTC", "USDT"),
    "BTCUSD": MarketInfo("BTC/USD:BTC", "BTCUSD", "BTC", "USD", contract_size=1.0, inverse=True),
}
OKX = {
    "BTC-USDT-SWAP": MarketInfo("BTC/USDT:USDT", "BTC-USDT-SWAP", "BTC", "USDT", contract_size=0.01),
    "IOST-USDT-SWAP": MarketInfo("IOST/USDT:USDT", "IOST-USDT-SWAP", "IOST", "USDT", contract_size=1000.0),
    "BTC-USD-SWAP": MarketInfo(
        "BTC/USD:BTC", "BTC-USD-SWAP", "BTC", "USD", contract_size=100.0, inverse=True
    ),
    "UNI-USD-SWAP": MarketInfo("UNI/USD:UNI", "UNI-USD-SWAP", "UNI", "USD", contract_size=10.0, inverse=True),
}


# ---------------------------------------------------------------- Binance
def test_binance_sell_order_is_a_long_liquidated_with_z_times_ap(payload):
    frame = payload("binanceusdm_watchLiquidations_forceOrder_docssample.json")
    (liq,) = binanceusdm.liquidations_from_frame(frame, BINANCE, RECV, set())
    assert liq.side is Side.LONG  # o.S == SELL
    assert liq.symbol == "BTC/USDT:USDT" and liq.venue == "binanceusdm"
    assert liq.qty == pytest.approx(0.014) and liq.price == pytest.approx(9910)
    assert liq.usd == pytest.approx(0.014 * 9910)
    assert liq.time == 1568014460893 and liq.recv_time == RECV and liq.sampled


def test_binance_buy_order_is_a_short_liquidated_priced_at_average(payload):
    frame = payload("binanceusdm_watchLiquidations_forceOrder_ccxtsample.json")
    (liq,) = binanceusdm.liquidations_from_frame(frame, BINANCE, RECV, set())
    assert liq.side is Side.SHORT
    assert liq.price == pytest.approx(34959.70)  # ap, not the order price p=35100.81
    assert liq.usd == pytest.approx(1.437 * 34959.70)


def test_binance_combined_stream_and_list_of_events_deliver_every_entry(payload):
    event = payload("binanceusdm_watchLiquidations_forceOrder_docssample.json")
    wrapped = {"stream": "!forceOrder@arr", "data": event}
    assert len(binanceusdm.liquidations_from_frame(wrapped, BINANCE, RECV, set())) == 1
    assert len(binanceusdm.liquidations_from_frame([event, event, event], BINANCE, RECV, set())) == 3


def test_binance_other_frames_are_not_liquidation_frames(payload):
    assert (
        binanceusdm.liquidations_from_frame(
            payload("binanceusdm_watchOrderBook_depthUpdate.json"), BINANCE, RECV, set()
        )
        is None
    )
    assert binanceusdm.liquidations_from_frame({"result": None, "id": 1}, BINANCE, RECV, set()) is None


def test_binance_unknown_id_is_guessed_and_reported(payload):
    frame = payload("binanceusdm_watchLiquidations_forceOrder_docssample.json")
    frame["o"]["s"] = "NEWCOINUSDT"
    unknown: set[str] = set()
    (liq,) = binanceusdm.liquidations_from_frame(frame, BINANCE, RECV, unknown)
    assert liq.symbol == "NEWCOIN/USDT:USDT" and unknown == {"NEWCOINUSDT"}


def test_binance_open_interest_and_history(payload):
    market = MarketInfo("ETH/USDT:USDT", "ETHUSDT_230331", "ETH", "USDT")
    oi = binanceusdm.open_interest_from_rest(
        payload("binanceusdm_fetchOpenInterest_openInterest.json"), market, 1600.0, RECV
    )
    assert (
        oi.base == pytest.approx(23581.677)
        and oi.usd == pytest.approx(23581.677 * 1600.0)
        and oi.time == 1677356872265
    )
    assert (
        binanceusdm.open_interest_from_rest({"openInterest": "1"}, market, None, RECV) is None
    )  # no mark: no USD
    (hist,) = binanceusdm.open_interest_history(
        payload("binanceusdm_fetchOpenInterestHistory_openInterestHist.json"), BINANCE["BTCUSDT"]
    )
    assert (
        hist.base == pytest.approx(75375.617)
        and hist.usd == pytest.approx(3248828883.7125144)
        and hist.time == 1642179900000
    )


def test_binance_tickers_merge_premium_index_and_24h(payload):
    premium = payload("binanceusdm_fetchFundingRate_premiumIndex.json")
    day = {
        "symbol": "BTCUSDT",
        "lastPrice": "45800.1",
        "priceChangePercent": "-1.5",
        "quoteVolume": "1000000.5",
        "closeTime": 1,
    }
    (ticker,) = binanceusdm.tickers_from_rest([premium], [day], BINANCE, {"BTC/USDT:USDT"}, RECV)
    assert ticker.mark == pytest.approx(45802.81129892) and ticker.index == pytest.approx(45745.47701915)
    assert ticker.funding_rate == pytest.approx(0.00063521) and ticker.next_funding_time == 1621267200000
    assert ticker.last == pytest.approx(45800.1) and ticker.change_24h_pct == pytest.approx(-1.5)
    assert ticker.volume_24h_usd == pytest.approx(1000000.5) and ticker.time == 1621252344001
    assert binanceusdm.tickers_from_rest([premium], [day], BINANCE, {"ETH/USDT:USDT"}, RECV) == []


# ---------------------------------------------------------------- Bybit
def test_bybit_sell_is_a_short_liquidated_with_v_times_p(payload):
    (liq,) = bybit.liquidations_from_frame(
        payload("bybit_watchLiquidations_allLiquidation_docssample.json"), BYBIT, RECV, set()
    )
    assert liq.side is Side.SHORT  # S == "Sell": a short position (Bybit states the position side)
    assert (
        liq.symbol == "ROSE/USDT:USDT"
        and liq.qty == pytest.approx(20000)
        and liq.price == pytest.approx(0.04499)
    )
    assert liq.usd == pytest.approx(20000 * 0.04499) and liq.time == 1739502302929 and not liq.sampled


def test_bybit_buy_is_a_long_and_every_entry_of_a_batch_arrives(payload):
    frame = payload("bybit_watchLiquidations_allLiquidation_docssample.json")
    entry = frame["data"][0]
    frame["data"] = [dict(entry, S="Buy", T=entry["T"] + i, v=str(i + 1)) for i in range(7)]
    liqs = bybit.liquidations_from_frame(frame, BYBIT, RECV, set())
    assert [liq.side for liq in liqs] == [Side.LONG] * 7
    assert [liq.qty for liq in liqs] == [float(i + 1) for i in range(7)]


def test_bybit_legacy_topic_and_inverse_contracts(payload):
    (legacy,) = bybit.liquidations_from_frame(
        payload("bybit_watchLiquidations_liquidation_legacy.json"), BYBIT, RECV, set()
    )
    assert (
        legacy.side is Side.LONG
        and legacy.qty == pytest.approx(1637)
        and legacy.usd == pytest.approx(1637 * 0.03803)
    )
    frame = {
        "topic": "allLiquidation.BTCUSD",
        "data": [{"T": 1739502302929, "s": "BTCUSD", "S": "Sell", "v": "5000", "p": "50000"}],
    }
    (inverse,) = bybit.liquidations_from_frame(frame, BYBIT, RECV, set())
    assert inverse.usd == pytest.approx(5000) and inverse.qty == pytest.approx(0.1)


def test_bybit_non_liquidation_frames(payload):
    assert (
        bybit.liquidations_from_frame(
            payload("bybit_watchTicker_tickers_linear_snapshot.json"), BYBIT, RECV, set()
        )
        is None
    )
    assert bybit.liquidations_from_frame({"op": "pong"}, BYBIT, RECV, set()) is None


def test_bybit_ticker_row_gives_oi_in_coin_and_usd_and_ticker(payload):
    row = payload("bybit_watchTicker_tickers_linear_snapshot.json")["data"]
    oi, ticker = bybit.market_from_ticker(row, BYBIT["BTCUSDT"], RECV)
    assert oi.base == pytest.approx(59891.732) and oi.usd == pytest.approx(3899996265.01)
    assert ticker.mark == pytest.approx(65117.44) and ticker.funding_rate == pytest.approx(0.0001)
    assert ticker.change_24h_pct == pytest.approx(0.1624) and ticker.volume_24h_usd == pytest.approx(
        1142118412.9021
    )
    assert ticker.next_funding_time == 1786320000000


def test_bybit_inverse_ticker_swaps_oi_units(payload):
    oi, ticker = bybit.market_from_ticker(
        payload("bybit_fetchTicker_tickers_inverse.json"), BYBIT["BTCUSD"], RECV
    )
    assert oi.usd == pytest.approx(373504107) and oi.base == pytest.approx(22505.67)
    assert ticker.volume_24h_usd == pytest.approx(49337318)


def test_bybit_oi_history_priced_with_closes(payload):
    response = payload("bybit_fetchOpenInterest_open-interest.json")
    market = BYBIT["BTCUSD"]  # the recorded sample is inverse (USD contracts)
    closes = {1669571400000: 16500.0, 1669571100000: 16400.0}
    rows = bybit.open_interest_history(response, market, closes)
    assert [r.time for r in rows] == [1669571100000, 1669571400000]  # oldest first
    assert rows[1].usd == pytest.approx(461134384.0) and rows[1].base == pytest.approx(461134384.0 / 16500.0)


# ---------------------------------------------------------------- OKX
def test_okx_pos_side_long_and_contracts_times_ctval_times_bkpx(payload):
    (liq,) = okx.liquidations_from_frame(
        payload("okx_watchLiquidations_liquidation-orders_demo_capture.json"), OKX, RECV, set()
    )
    assert liq.side is Side.LONG and liq.symbol == "BTC/USDT:USDT"
    assert liq.qty == pytest.approx(10000 * 0.01)  # sz is in contracts of 0.01 BTC
    assert liq.usd == pytest.approx(10000 * 0.01 * 57102.9) and liq.price == pytest.approx(57102.9)
    assert liq.time == 1723038122631 and liq.sampled


def test_okx_short_and_net_mode_side_fallback(payload):
    frame = payload("okx_watchLiquidations_liquidation-orders_docssample.json")
    (liq,) = okx.liquidations_from_frame(frame, OKX, RECV, set())
    assert liq.side is Side.SHORT and liq.usd == pytest.approx(13 * 1000 * 0.007831)
    detail = frame["data"][0]["details"][0]
    frame["data"][0]["details"] = [
        dict(detail, posSide="net", side="sell"),
        dict(detail, posSide="", side="buy"),
    ]
    assert [liq.side for liq in okx.liquidations_from_frame(frame, OKX, RECV, set())] == [
        Side.LONG,
        Side.SHORT,
    ]


def test_okx_every_detail_of_every_item_arrives(payload):
    frame = payload("okx_watchLiquidations_liquidation-orders_demo_capture.json")
    item = frame["data"][0]
    detail = item["details"][0]
    frame["data"] = [dict(item, details=[dict(detail, sz=str(i + 1)) for i in range(4)]) for _ in range(3)]
    assert len(okx.liquidations_from_frame(frame, OKX, RECV, set())) == 12


def test_okx_inverse_contracts_are_usd(payload):
    frame = payload("okx_watchLiquidations_liquidation-orders_demo_capture.json")
    frame["data"][0]["instId"] = "BTC-USD-SWAP"
    frame["data"][0]["details"][0]["sz"] = "3"
    (liq,) = okx.liquidations_from_frame(frame, OKX, RECV, set())
    assert liq.usd == pytest.approx(300) and liq.qty == pytest.approx(300 / 57102.9)


def test_okx_unknown_instrument_is_reported_not_guessed(payload):
    frame = payload("okx_watchLiquidations_liquidation-orders_demo_capture.json")
    frame["data"][0]["instId"] = "NEW-USDT-SWAP"
    unknown: set[str] = set()
    assert okx.liquidations_from_frame(frame, OKX, RECV, unknown) == [] and unknown == {"NEW-USDT-SWAP"}
    assert (
        okx.liquidations_from_frame(
            {"event": "subscribe", "arg": {"channel": "liquidation-orders"}}, OKX, RECV, set()
        )
        is None
    )


def test_okx_open_interest_and_tickers(payload):
    rows = payload("okx_fetchOpenInterest_open-interest.json")["data"]
    (oi,) = okx.open_interests(rows, OKX, {"BTC/USDT:USDT"}, RECV)
    assert oi.base == pytest.approx(21254.19) and math.isnan(
        oi.usd
    )  # no oiUsd in this sample: priced by the caller
    rows[0]["oiUsd"] = "1400000000"
    (oi,) = okx.open_interests(rows, OKX, {"BTC/USDT:USDT"}, RECV)
    assert oi.usd == pytest.approx(1.4e9) and oi.time == 1664005108969
    ticker_rows = payload("okx_watchTicker_tickers_swap.json")["data"]
    funding = {"UNI-USD-SWAP": {"fundingRate": "0.0002", "fundingTime": "1652486400000"}}
    (ticker,) = okx.tickers(ticker_rows, {"UNI-USD-SWAP": 5.13}, funding, OKX, {"UNI/USD:UNI"}, RECV)
    assert ticker.last == pytest.approx(5.123) and ticker.mark == pytest.approx(5.13)
    assert ticker.change_24h_pct == pytest.approx((5.123 / 4.799 - 1) * 100)
    assert ticker.volume_24h_usd == pytest.approx(577730.7823 * 5.123)
    assert ticker.funding_rate == pytest.approx(0.0002) and ticker.next_funding_time == 1652486400000


def test_okx_oi_history_rows():
    rows = [["1700000300000", "200", "2", "190000"], ["1700000000000", "100", "1", "95000"]]
    out = okx.open_interest_history(rows, OKX["BTC-USDT-SWAP"])
    assert [(o.time, o.base, o.usd) for o in out] == [
        (1700000000000, 1.0, 95000.0),
        (1700000300000, 2.0, 190000.0),
    ]


# ---------------------------------------------------------------- Hyperliquid
def test_hyperliquid_asset_ctx_gives_oi_and_ticker(payload):
    ctx = payload("hyperliquid_fetchOpenInterests_assetCtx_merged.json")
    market = MarketInfo("HYPE/USDC:USDC", "HYPE", "HYPE", "USDC")
    oi, ticker = hyperliquid.market_from_asset_ctx(ctx, market, RECV)
    assert oi.base == pytest.approx(14677900.74) and oi.usd == pytest.approx(14677900.74 * 27.63)
    assert ticker.mark == pytest.approx(27.63) and ticker.index == pytest.approx(27.569)
    assert ticker.funding_rate == pytest.approx(0.00014735) and ticker.volume_24h_usd == pytest.approx(
        299643445.12560016
    )
    assert ticker.change_24h_pct == pytest.approx((27.63 / 26.145 - 1) * 100)
    assert ticker.next_funding_time % 3_600_000 == 0 and ticker.next_funding_time > RECV


def test_hyperliquid_meta_and_asset_ctxs_pairs_universe_with_contexts(payload):
    ctx = payload("hyperliquid_fetchOpenInterests_assetCtx_merged.json")
    meta = [
        {"universe": [{"name": "BTC", "maxLeverage": 40}, {"name": "HYPE", "maxLeverage": 3}]},
        [dict(ctx, markPx="90000"), ctx],
    ]
    markets = {"HYPE": MarketInfo("HYPE/USDC:USDC", "HYPE", "HYPE", "USDC")}
    events = hyperliquid.markets_from_meta(meta, markets, {"HYPE/USDC:USDC"}, RECV)
    assert {type(e).__name__ for e in events} == {"Ticker", "OpenInterest"}
    assert all(e.symbol == "HYPE/USDC:USDC" for e in events)


def test_hyperliquid_has_a_partial_liquidation_feed_from_its_backstop_vault():
    # Changed on purpose: Hyperliquid's liquidations are read from its liquidator vault's fills.
    from liqtui.domain.venues import VENUES, liquidations_are_floor

    adapter = hyperliquid.Hyperliquid()
    assert adapter.has_liquidations and not adapter.sampled and liquidations_are_floor("hyperliquid")
    assert (
        adapter.vault
        == VENUES["hyperliquid"].backstop_account
        == "0x2e3d94f0562703b25c83308a05046ddaf9a8dd14"
    )


HL_MARKETS = {
    "HYPE": MarketInfo("HYPE/USDC:USDC", "HYPE", "HYPE", "USDC"),
    "BTC": MarketInfo("BTC/USDC:USDC", "BTC", "BTC", "USDC"),
}
LIQUIDATED = "0x193bd350ec838b1e22d6f302da5343b920aa1c2b"


def _hl_adapter(vault: str = LIQUIDATED) -> hyperliquid.Hyperliquid:
    adapter = hyperliquid.Hyperliquid()
    adapter.set_markets(MarketIndex(HL_MARKETS.values()))
    adapter.vault = vault
    return adapter


def test_hyperliquid_recorded_liquidation_fills_of_the_liquidated_user(payload):
    """The recorded userFills of a liquidated account: its own sells closing a long are LONG liquidations;
    fills without a liquidation object, and a HIP-3 coin (flx:CRCL) the markets do not list, give nothing."""
    fills = payload("hyperliquid_fetchMyTrades_userFills_with_liquidation.json")
    adapter = _hl_adapter()
    (liq,) = adapter.new_liquidations(
        fills, LIQUIDATED, 1_770_500_000_000, hyperliquid.LiquidationSource.TRACKED
    )
    assert (liq.symbol, liq.side, liq.price, liq.qty, liq.time) == (
        "HYPE/USDC:USDC",
        Side.LONG,
        21.147,
        5.2,
        1768931202995,
    )
    assert liq.usd == pytest.approx(21.147 * 5.2) and liq.sampled and liq.source == "tracked"
    assert adapter.unknown_ids == set() and adapter.rejected == []
    assert (
        adapter.new_liquidations(fills, LIQUIDATED, 1_770_500_000_000, hyperliquid.LiquidationSource.TRACKED)
        == []
    )  # once


def _vault_frame(fills, snapshot=False, user=LIQUIDATED):
    return {
        "channel": "userFills",
        "data": {"user": user, "fills": fills} | ({"isSnapshot": True} if snapshot else {}),
    }


def _fill(
    side, coin="BTC", px="90000.5", sz="0.2", time=1_760_000_000_000, tid=7, liquidated="0x" + "ab" * 20
):
    return {
        "coin": coin,
        "px": px,
        "sz": sz,
        "side": side,
        "time": time,
        "tid": tid,
        "hash": "0x1",
        "liquidation": {"liquidatedUser": liquidated, "markPx": px, "method": "backstop"},
    }


def test_hyperliquid_vault_fills_are_backstop_liquidations_once_and_snapshot_history_is_skipped():
    adapter = _hl_adapter()
    adapter.subscribed_ms = 1_760_000_000_000
    assert adapter.parse_liquidations({"channel": "trades", "data": []}, RECV) is None
    assert (
        adapter.parse_liquidations(_vault_frame([_fill("B")], user="0x" + "cd" * 20), RECV) is None
    )  # not the vault
    old = _fill("B", time=1_759_999_999_999, tid=1)
    (bought,) = adapter.parse_liquidations(_vault_frame([old, _fill("B")], snapshot=True), RECV)
    assert (bought.side, bought.price, bought.qty, bought.source, bought.sampled) == (
        Side.LONG,
        90_000.5,
        0.2,
        "backstop",
        True,
    )
    assert (
        adapter.parse_liquidations(_vault_frame([_fill("B")], snapshot=True), RECV) == []
    )  # a resubscribe's repeat
    (sold,) = adapter.parse_liquidations(_vault_frame([_fill("A", tid=8)]), RECV)
    assert sold.side is Side.SHORT  # the vault sold: it took over a short
    assert (
        adapter.parse_liquidations(_vault_frame([old]), RECV)[0].time == 1_759_999_999_999
    )  # live, not snapshot: news


def test_hyperliquid_unreadable_vault_fills_are_counted_and_the_others_stand():
    adapter = _hl_adapter()
    bad = [
        _fill("X", tid=1),
        _fill("B", px="NaN", tid=2),
        _fill("B", liquidated="nobody", tid=3),
        _fill("B", coin="NEWCOIN", tid=4),
    ]
    (good,) = adapter.parse_liquidations(_vault_frame([*bad, _fill("A", tid=5)]), RECV)
    assert good.side is Side.SHORT and len(adapter.rejected) == 3 and adapter.unknown_ids == {"NEWCOIN"}


def test_market_index_from_ccxt_keeps_swaps_and_contract_sizes():
    markets = {
        "BTC/USDT:USDT": {
            "id": "BTC-USDT-SWAP",
            "symbol": "BTC/USDT:USDT",
            "base": "BTC",
            "quote": "USDT",
            "swap": True,
            "contractSize": 0.01,
            "inverse": False,
            "limits": {"leverage": {"max": 100}},
        },
        "BTC/USDT": {"id": "BTC-USDT", "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "swap": False},
    }
    index = MarketIndex.from_ccxt(markets)
    assert index.symbols() == ["BTC/USDT:USDT"] and index.by_id["BTC-USDT-SWAP"].contract_size == 0.01
    assert index.by_id["BTC-USDT-SWAP"].max_leverage == 100
    hl = MarketIndex.from_ccxt(
        {
            "BTC/USDC:USDC": {
                "id": "0",
                "symbol": "BTC/USDC:USDC",
                "base": "BTC",
                "quote": "USDC",
                "swap": True,
                "info": {"name": "BTC"},
            }
        },
        by_coin=True,
    )
    assert list(hl.by_id) == ["BTC"]


def test_the_venue_table_of_sampled_streams_agrees_with_the_adapters():
    from liqtui.domain.venues import samples_liquidations

    for adapter in (binanceusdm.BinanceUsdm, bybit.Bybit, okx.Okx, hyperliquid.Hyperliquid):
        assert samples_liquidations(adapter.venue) is adapter.sampled, adapter.venue


# ---------------------------------------------------------------- values no venue can mean
def test_the_time_window_is_year_2000_to_a_day_after_receipt():
    from liqtui.domain.events import EARLIEST_TIME_MS, MAX_AHEAD_MS, Liquidation, liquidation_problem

    def at(time: int) -> Liquidation:
        return Liquidation("bybit", "BTC/USDT:USDT", Side.LONG, 90_000.0, 1.0, 90_000.0, time, RECV)

    assert (
        liquidation_problem(at(EARLIEST_TIME_MS)) is None
        and liquidation_problem(at(RECV + MAX_AHEAD_MS)) is None
    )
    assert "outside" in liquidation_problem(at(EARLIEST_TIME_MS - 1))
    assert "outside" in liquidation_problem(at(RECV + MAX_AHEAD_MS + 1))
    assert "outside" in liquidation_problem(at(1_700_000_000))  # seconds, not ms: January 1970


def test_every_venue_names_why_an_entry_was_left_out(payload):
    frames = {
        "binanceusdm": (
            binanceusdm,
            payload("binanceusdm_watchLiquidations_forceOrder_docssample.json"),
            lambda f: f["o"],
            BINANCE,
        ),
        "bybit": (
            bybit,
            payload("bybit_watchLiquidations_allLiquidation_docssample.json"),
            lambda f: f["data"][0],
            BYBIT,
        ),
        "okx": (
            okx,
            payload("okx_watchLiquidations_liquidation-orders_demo_capture.json"),
            lambda f: f["data"][0]["details"][0],
            OKX,
        ),
    }
    price_key = {"binanceusdm": "ap", "bybit": "p", "okx": "bkPx"}
    for venue, (module, frame, entry, markets) in frames.items():
        entry(frame)[price_key[venue]] = "NaN"
        rejected: list[str] = []
        assert module.liquidations_from_frame(frame, markets, RECV, set(), rejected) == []
        assert rejected == ["price nan is not a positive finite number"], venue
