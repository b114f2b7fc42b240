"""The fake exchanges speak each venue's protocol well enough for the REAL ccxt.pro client.

Every test drives a plain ccxt.pro client (built by liqtui's make_exchange with the fake's
url_rewrite) against a fake on 127.0.0.1 and checks that the values the fake was set to come out
of ccxt's parsers: markets, open interest, tickers, books, liquidations, and the fault switches
(server-side disconnect, 429 with Retry-After, 404). A few tests talk raw websocket to pin the
venue's control messages (acks, ping/pong) that ccxt hides.
"""

from __future__ import annotations

import asyncio
from itertools import pairwise

import aiohttp
import ccxt
import pytest

from fakes import FakeExchange

LIQUIDATION_VENUES = ["binanceusdm", "bybit", "okx"]  # hyperliquid has no public liquidation feed
ALL_VENUES = ["binanceusdm", "bybit", "okx", "hyperliquid"]
OKX_CT_VAL = {"BTC": 0.01, "ETH": 0.1, "SOL": 1.0}  # base coin per contract
WATCH_TIMEOUT = 10
# ccxt's throttle spaces requests by rateLimit x cost (Hyperliquid /info: 50 ms x 20, Bybit
# instruments-info: 20 ms x 5), which makes load_markets take 1-2 s; these protocol tests keep the
# throttle but make it quick.
FAST = {"rateLimit": 1}

# Per venue: the REST path load_markets needs, the path fetch_open_interest uses (Hyperliquid: one
# /info path, told apart by the body's type), the liquidation side ccxt passes through raw for a
# liquidated LONG, and the websocket topic of an order book.
SPEC = {
    "binanceusdm": dict(
        markets="/fapi/v1/exchangeInfo",
        open_interest="/fapi/v1/openInterest",
        long_raw_side="sell",
        short_raw_side="buy",
        book_topic="btcusdt@depth",
        liquidation_topic="forceOrder",
    ),
    "bybit": dict(
        markets="/v5/market/instruments-info",
        open_interest="/v5/market/open-interest",
        long_raw_side="buy",
        short_raw_side="sell",
        book_topic="orderbook.50.BTCUSDT",
        liquidation_topic="allLiquidation.BTCUSDT",
    ),
    "okx": dict(
        markets="/api/v5/public/instruments",
        open_interest="/api/v5/public/open-interest",
        long_raw_side="sell",
        short_raw_side="buy",
        book_topic="books:BTC-USDT-SWAP",
        liquidation_topic="liquidation-orders",
        ct_val=OKX_CT_VAL,
        tickers_params={"type": "swap"},
        book_limit=400,
    ),  # limit=50 means books50-l2-tbt, which needs a login
    "hyperliquid": dict(
        markets="/info",
        open_interest="/info",
        match={"type": "metaAndAssetCtxs"},
        book_topic="l2Book:BTC",
        book_limit=None,
    ),
}


def contracts(venue: str, base: str, base_amount: float) -> float:
    """What ccxt reports as amount/contracts for ``base_amount`` of the coin (OKX counts contracts)."""
    return base_amount / SPEC[venue].get("ct_val", {}).get(base, 1.0)


async def watch(coro, timeout: float = WATCH_TIMEOUT):
    return await asyncio.wait_for(coro, timeout)


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_load_markets_lists_the_perps(venue, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    exchange = ccxt_client(fake, **FAST)
    markets = await exchange.load_markets()
    for symbol in (fake.unified("BTC"), fake.unified("ETH"), fake.unified("SOL")):
        assert markets[symbol]["swap"] and markets[symbol]["linear"], symbol
    assert any(r.path == SPEC[venue]["markets"] for r in fake.requests)


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_fetch_open_interest_returns_what_the_fake_was_set_to(venue, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    fake.set_open_interest(fake.unified("ETH"), 1_234_567.891)
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()  # hyperliquid's fetch_open_interest does not load them itself
    interest = await exchange.fetch_open_interest(fake.unified("ETH"))
    assert interest["symbol"] == fake.unified("ETH")
    assert interest["openInterestAmount"] == pytest.approx(contracts(venue, "ETH", 1_234_567.891), rel=1e-6)
    assert any(r.path == SPEC[venue]["open_interest"] for r in fake.requests)


async def test_okx_open_interests_in_one_call_carry_contracts_coins_and_usd(fake_exchange, ccxt_client):
    fake = await fake_exchange("okx")
    fake.set_open_interest("SOL/USDT:USDT", 5_000_000)
    fake.set_price("SOL/USDT:USDT", 150)
    exchange = ccxt_client(fake, **FAST)
    interests = await exchange.fetch_open_interests()
    assert {"BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"} <= set(interests)
    sol = interests["SOL/USDT:USDT"]
    assert (sol["openInterestAmount"], sol["baseVolume"], sol["openInterestValue"]) == (
        5_000_000,
        5_000_000,
        750_000_000,
    )
    btc = interests["BTC/USDT:USDT"]
    assert btc["openInterestAmount"] == pytest.approx(btc["baseVolume"] / 0.01)
    assert [r.query.get("instType") for r in fake.requests if r.path == "/api/v5/public/open-interest"] == [
        "SWAP"
    ]


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_fetch_tickers_carry_the_price_set(venue, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    fake.set_price(fake.unified("SOL"), 151.23)
    exchange = ccxt_client(fake, **FAST)
    tickers = await exchange.fetch_tickers(params=SPEC[venue].get("tickers_params", {}))
    assert {fake.unified("BTC"), fake.unified("ETH"), fake.unified("SOL")} <= set(tickers)
    assert tickers[fake.unified("SOL")]["last"] == pytest.approx(151.23)


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_fetch_order_book_is_centred_on_the_price(venue, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    fake.set_price(fake.unified("BTC"), 90_000)
    exchange = ccxt_client(fake, **FAST)
    book = await exchange.fetch_order_book(fake.unified("BTC"), 20)
    assert 0 < len(book["bids"]) <= 20 and 0 < len(book["asks"]) <= 20
    assert book["bids"][0][0] < 90_000 < book["asks"][0][0]
    assert book["bids"][0][0] > book["bids"][-1][0]


async def test_binance_open_interest_history_is_5m_and_honours_limit(fake_exchange, ccxt_client):
    fake = await fake_exchange("binanceusdm")
    fake.set_open_interest("BTC/USDT:USDT", 77_000)
    exchange = ccxt_client(fake, **FAST)
    history = await exchange.fetch_open_interest_history("BTC/USDT:USDT", "5m", limit=12)
    assert len(history) == 12
    times = [h["timestamp"] for h in history]
    assert all(b - a == 300_000 for a, b in pairwise(times))
    assert history[-1]["openInterestAmount"] == pytest.approx(77_000)
    since = exchange.milliseconds() - 29 * 86_400_000
    oldest = await exchange.fetch_open_interest_history("BTC/USDT:USDT", "5m", since, limit=5)
    assert len(oldest) == 5 and since <= oldest[0]["timestamp"] < since + 300_000
    # ccxt sends endTime = since + limit x period: a window older than Binance's 30 days is empty
    too_old = exchange.milliseconds() - 40 * 86_400_000
    assert await exchange.fetch_open_interest_history("BTC/USDT:USDT", "5m", too_old, limit=5) == []


@pytest.mark.parametrize("venue", LIQUIDATION_VENUES)
@pytest.mark.parametrize("side", ["long", "short"])
async def test_watch_liquidations_returns_the_pushed_liquidation(venue, side, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    pending = asyncio.ensure_future(exchange.watch_liquidations(fake.unified("BTC")))
    await fake.wait_subscribed(SPEC[venue]["liquidation_topic"])
    delivered = await fake.push(
        fake.liquidation_frame(fake.unified("BTC"), side=side, price=93_456.7, qty=0.25)
    )
    assert delivered == 1
    liquidations = await watch(pending)
    assert liquidations[-1]["symbol"] == fake.unified("BTC")
    assert liquidations[-1]["price"] == pytest.approx(93_456.7)
    assert liquidations[-1]["side"] == SPEC[venue][f"{side}_raw_side"]


async def test_binance_all_market_liquidation_stream(fake_exchange, ccxt_client):
    fake = await fake_exchange("binanceusdm")
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    pending = asyncio.ensure_future(exchange.watch_liquidations_for_symbols(None))
    assert await fake.wait_subscribed("!forceOrder@arr") == "!forceOrder@arr"
    await fake.push(fake.liquidation_frame("SOL", side="long", price=139.5, qty=10))
    [liquidation] = await watch(pending)
    assert (liquidation["symbol"], liquidation["side"], liquidation["contracts"]) == (
        "SOL/USDT:USDT",
        "sell",
        10,
    )


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_watch_order_book_snapshot_then_update(venue, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    fake.set_price(fake.unified("BTC"), 95_000)
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    first = asyncio.ensure_future(
        exchange.watch_order_book(fake.unified("BTC"), SPEC[venue].get("book_limit", 50))
    )
    await fake.wait_subscribed(SPEC[venue]["book_topic"])
    book = await watch(first)
    best_bid = book["bids"][0][0]
    assert best_bid < 95_000 < book["asks"][0][0]
    better_bid = best_bid + 0.5
    update = asyncio.ensure_future(
        exchange.watch_order_book(fake.unified("BTC"), SPEC[venue].get("book_limit", 50))
    )
    await asyncio.sleep(0.05)
    await fake.push(fake.book_update_frame(fake.unified("BTC"), bids=[[better_bid, 2.5]]))
    book = await watch(update)
    assert book["bids"][0] == [better_bid, pytest.approx(contracts(venue, "BTC", 2.5))]


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_drop_connections_fails_the_pending_watch_with_network_error(venue, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    await watch(exchange.watch_order_book(fake.unified("BTC"), SPEC[venue].get("book_limit", 50)))
    pending = asyncio.ensure_future(
        exchange.watch_order_book(fake.unified("BTC"), SPEC[venue].get("book_limit", 50))
    )
    await asyncio.sleep(0.05)
    assert await fake.drop_connections() >= 1
    with pytest.raises(ccxt.NetworkError):
        await watch(pending)
    # calling watch again reconnects and resubscribes
    connections = fake.ws_connections
    again = asyncio.ensure_future(
        exchange.watch_order_book(fake.unified("BTC"), SPEC[venue].get("book_limit", 50))
    )
    await watch(again)
    assert fake.ws_connections == connections + 1
    assert fake.subscribe_count(SPEC[venue]["book_topic"]) == 2


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_429_with_retry_after_reaches_ccxt_as_rate_limit_error(venue, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    path = SPEC[venue]["open_interest"]
    fake.fail_next(path, status=429, times=1, retry_after=2, match=SPEC[venue].get("match"))
    # ccxt 4.5.90: RateLimitExceeded and DDoSProtection are siblings under NetworkError
    # (Binance raises DDoSProtection for 429/418, Bybit and OKX RateLimitExceeded).
    with pytest.raises((ccxt.RateLimitExceeded, ccxt.DDoSProtection)):
        await exchange.fetch_open_interest(fake.unified("BTC"))
    assert exchange.last_response_headers["Retry-After"] == "2"  # where a caller can read it
    assert (await exchange.fetch_open_interest(fake.unified("BTC")))["openInterestAmount"] > 0


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_404_degrades_only_that_endpoint(venue, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    fake.not_found(SPEC[venue]["open_interest"], match=SPEC[venue].get("match"))
    with pytest.raises((ccxt.ExchangeError, ccxt.ExchangeNotAvailable)) as raised:
        await exchange.fetch_open_interest(fake.unified("BTC"))
    assert not isinstance(raised.value, ccxt.DDoSProtection)
    book = await exchange.fetch_order_book(fake.unified("BTC"), 20)
    assert book["bids"]


async def test_429_answers_retry_after_header_and_venue_error_body(fake_exchange):
    fake = await fake_exchange("binanceusdm")
    fake.fail_next("/fapi/v1/depth", status=429, times=2, retry_after=7)
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.get(
                f"{fake.http_base}/fapi/v1/depth", params={"symbol": "BTCUSDT"}
            ) as response:
                assert response.status == 429
                assert response.headers["Retry-After"] == "7"
                assert (await response.json())["code"] == -1003
        async with session.get(
            f"{fake.http_base}/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": "5"}
        ) as response:
            assert response.status == 200
            assert len((await response.json())["bids"]) == 5
        async with session.get(f"{fake.http_base}/fapi/v1/nonexistent") as response:
            assert response.status == 404
            assert set(await response.json()) == {"code", "msg"}


async def test_binance_subscribe_ack_and_server_ping_answered_by_ccxt(fake_exchange, ccxt_client):
    fake = await fake_exchange("binanceusdm", server_ping_interval=0.05)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{fake.ws_base}/market/ws/0") as ws,
    ):
        await ws.send_json({"method": "SUBSCRIBE", "params": ["!forceOrder@arr"], "id": 7})
        assert await ws.receive_json(timeout=5) == {"result": None, "id": 7}
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 8})
        assert await ws.receive_json(timeout=5) == {"result": ["!forceOrder@arr"], "id": 8}
    exchange = ccxt_client(fake, **FAST)
    pending = asyncio.ensure_future(exchange.watch_liquidations_for_symbols(None))
    await fake.wait_subscribed("!forceOrder@arr")
    for _ in range(200):  # ccxt answers the server's websocket PINGs itself
        if fake.pongs_received:
            break
        await asyncio.sleep(0.02)
    assert fake.pongs_received >= 1
    pending.cancel()


async def test_push_routes_by_topic_sends_text_verbatim_and_silence_drops(fake_exchange):
    fake = await fake_exchange("binanceusdm")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{fake.ws_base}/public/ws/1") as books,
        session.ws_connect(f"{fake.ws_base}/market/ws/0") as liquidations,
    ):
        await books.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1})
        await liquidations.send_json({"method": "SUBSCRIBE", "params": ["!forceOrder@arr"], "id": 1})
        await books.receive_json(timeout=5)
        await liquidations.receive_json(timeout=5)
        assert sorted(fake.subscriptions) == ["!forceOrder@arr", "btcusdt@depth@100ms"]
        assert await fake.push(fake.liquidation_frame("ETH", side="short", price=3000, qty=1)) == 1
        frame = await liquidations.receive_json(timeout=5)
        assert (frame["e"], frame["o"]["S"], frame["o"]["s"]) == ("forceOrder", "BUY", "ETHUSDT")
        assert await fake.push("{not json") == 2
        assert await books.receive_str(timeout=5) == "{not json"
        assert await liquidations.receive_str(timeout=5) == "{not json"
        fake.silence(True)
        assert await fake.push(fake.liquidation_frame("ETH")) == 0
        fake.silence(False)
        assert await fake.push(fake.liquidation_frame("BTC", price=1, qty=1)) == 1
        assert (await liquidations.receive_json(timeout=5))["o"]["s"] == "BTCUSDT"
    assert fake.ws_connections == 2


def test_unknown_venue_is_a_clear_error():
    with pytest.raises(ValueError, match="no fake for venue 'kraken'"):
        FakeExchange("kraken")


async def test_bybit_subscribe_ack_ping_pong_and_snapshots_on_subscribe(fake_exchange):
    fake = await fake_exchange("bybit")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{fake.ws_base}/v5/public/linear") as ws,
    ):
        await ws.send_json(
            {"op": "subscribe", "req_id": "1", "args": ["orderbook.50.ETHUSDT", "tickers.ETHUSDT"]}
        )
        ack = await ws.receive_json(timeout=5)
        assert (ack["success"], ack["op"], ack["req_id"]) == (True, "subscribe", "1")
        book = await ws.receive_json(timeout=5)
        assert (book["topic"], book["type"], len(book["data"]["b"])) == (
            "orderbook.50.ETHUSDT",
            "snapshot",
            50,
        )
        ticker = await ws.receive_json(timeout=5)
        assert ticker["topic"] == "tickers.ETHUSDT" and float(ticker["data"]["openInterest"]) == 2_000_000
        fake.silence(True)
        await ws.send_json({"req_id": "2", "op": "ping"})
        pong = await ws.receive_json(timeout=5)
        assert (pong["ret_msg"], pong["op"]) == ("pong", "ping")
        await ws.send_json({"op": "subscribe", "req_id": "3", "args": ["allLiquidation.NOPEUSDT"]})
        assert (await ws.receive_json(timeout=5))["success"] is False
    assert fake.subscriptions == []  # the connection is gone


async def test_bybit_multi_entry_liquidation_message_reaches_ccxt_whole(fake_exchange, ccxt_client):
    fake = await fake_exchange("bybit")
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    pending = asyncio.ensure_future(exchange.watch_liquidations("SOL/USDT:USDT"))
    await fake.wait_subscribed("allLiquidation.SOLUSDT")
    frame = fake.liquidation_frame_multi(
        "SOL/USDT:USDT",
        [
            dict(side="long", price=138.1, qty=10),
            dict(side="short", price=141.2, qty=3),
            dict(side="long", price=137.9, qty=7),
        ],
    )
    assert [entry["S"] for entry in frame["data"]] == ["Buy", "Sell", "Buy"]
    await fake.push(frame)
    await watch(pending)
    assert [(liq["side"], liq["price"]) for liq in exchange.liquidations] == [
        ("buy", 138.1),
        ("sell", 141.2),
        ("buy", 137.9),
    ]


def okx_checksum(bids: list, asks: list) -> int:
    """OKX's book checksum: CRC32 (signed) of bid/ask price:size pairs interleaved, 25 a side."""
    import zlib

    parts = []
    for i in range(25):
        if i < len(bids):
            parts += bids[i][:2]
        if i < len(asks):
            parts += asks[i][:2]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= (1 << 31) else crc


async def test_okx_text_ping_pong_acks_per_arg_and_checksummed_snapshot(fake_exchange):
    fake = await fake_exchange("okx")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{fake.ws_base}/ws/v5/public") as ws,
    ):
        await ws.send_str("ping")
        assert await ws.receive_str(timeout=5) == "pong"
        await ws.send_json(
            {
                "op": "subscribe",
                "args": [
                    {"channel": "liquidation-orders", "instType": "SWAP"},
                    {"channel": "books", "instId": "ETH-USDT-SWAP"},
                    {"channel": "books", "instId": "DOGE-USDT-SWAP"},
                ],
            }
        )
        ack = await ws.receive_json(timeout=5)
        assert (ack["event"], ack["arg"]) == (
            "subscribe",
            {"channel": "liquidation-orders", "instType": "SWAP"},
        )
        assert (await ws.receive_json(timeout=5))["event"] == "subscribe"
        snapshot = await ws.receive_json(timeout=5)
        assert (snapshot["action"], snapshot["data"][0]["prevSeqId"]) == ("snapshot", -1)
        book = snapshot["data"][0]
        assert book["checksum"] == okx_checksum(book["bids"], book["asks"])
        error = await ws.receive_json(timeout=5)
        assert (error["event"], error["code"]) == ("error", "60018")
        assert sorted(fake.subscriptions) == ["books:ETH-USDT-SWAP", "liquidation-orders"]
        update = fake.book_update_frame("ETH", asks=[[3200.5, 0.0]])
        assert update["data"][0]["prevSeqId"] == book["seqId"]
        await fake.push(update)
        assert (await ws.receive_json(timeout=5))["action"] == "update"
        frame = fake.liquidation_frame_multi(
            "ETH", [dict(side="long", price=3100, qty=1.5), dict(side="short", price=3300, qty=0.2)]
        )
        await fake.push(frame)
        details = (await ws.receive_json(timeout=5))["data"][0]["details"]
        assert [(d["posSide"], d["side"], d["sz"], d["bkPx"]) for d in details] == [
            ("long", "sell", "15", "3100.00"),
            ("short", "buy", "2", "3300.00"),
        ]


async def test_okx_book_sequence_gap_reaches_ccxt_as_invalid_nonce(fake_exchange, ccxt_client):
    fake = await fake_exchange("okx")
    exchange = ccxt_client(fake, **FAST)
    await watch(exchange.watch_order_book("BTC/USDT:USDT"))
    pending = asyncio.ensure_future(exchange.watch_order_book("BTC/USDT:USDT"))
    await asyncio.sleep(0.05)
    await fake.push(fake.book_update_frame("BTC", bids=[[94_000.0, 1.0]], gap=True))
    with pytest.raises(ccxt.InvalidNonce):
        await watch(pending)


async def test_hyperliquid_open_interests_funding_and_no_liquidation_feed(fake_exchange, ccxt_client):
    from fakes.hyperliquid import NoLiquidationFeed

    fake = await fake_exchange("hyperliquid")
    fake.set_open_interest("ETH", 654_321.5)
    fake.set_funding_rate("ETH", 0.0004)  # per 8 h; Hyperliquid quotes hourly funding
    exchange = ccxt_client(fake, **FAST)
    interests = await exchange.fetch_open_interests()
    assert interests["ETH/USDC:USDC"]["openInterestAmount"] == pytest.approx(654_321.5)
    rates = await exchange.fetch_funding_rates()
    assert rates["ETH/USDC:USDC"]["fundingRate"] == pytest.approx(0.00005)
    assert not fake.has_liquidation_feed
    with pytest.raises(NoLiquidationFeed):
        fake.liquidation_frame("BTC", side="long", price=1, qty=1)
    types = [r.query.get("type") for r in fake.requests]
    assert {"metaAndAssetCtxs", "spotMetaAndAssetCtxs", "perpDexs"} <= set(types)


async def test_hyperliquid_ws_subscription_response_ping_and_pushes(fake_exchange):
    fake = await fake_exchange("hyperliquid")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{fake.ws_base}/ws") as ws,
    ):
        await ws.send_json({"method": "ping"})
        assert await ws.receive_json(timeout=5) == {"channel": "pong"}
        await ws.send_json({"method": "subscribe", "subscription": {"type": "l2Book", "coin": "SOL"}})
        ack = await ws.receive_json(timeout=5)
        assert (ack["channel"], ack["data"]["method"], ack["data"]["subscription"]["coin"]) == (
            "subscriptionResponse",
            "subscribe",
            "SOL",
        )
        book = await ws.receive_json(timeout=5)
        bids, asks = book["data"]["levels"]
        assert book["channel"] == "l2Book" and len(bids) == len(asks) == 20
        assert float(bids[0]["px"]) < 140 < float(asks[0]["px"])
        await ws.send_json(
            {"method": "subscribe", "subscription": {"type": "activeAssetCtx", "coin": "NOPE"}}
        )
        assert (await ws.receive_json(timeout=5))["channel"] == "error"
        assert fake.subscriptions == ["l2Book:SOL"]
        assert await fake.push(fake.asset_ctx_frame("BTC")) == 0  # nobody subscribed to it
        assert await fake.push(fake.book_update_frame("SOL", asks=[[140.05, 3.0]])) == 1
        assert (await ws.receive_json(timeout=5))["data"]["levels"][1][0] == {
            "px": "140.05",
            "sz": "3.00",
            "n": 1,
        }


async def until(predicate, timeout: float = WATCH_TIMEOUT, what: str = "condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


# ccxt 4.5.90 keeps every Binance frame and every Bybit entry in its cache, but parses only
# details[0] of an OKX liquidation-orders message (docs/exchanges.md): the fake sends all of them.
CCXT_KEEPS_OF_THREE = {"binanceusdm": 3, "bybit": 3, "okx": 1}


@pytest.mark.parametrize("venue", LIQUIDATION_VENUES)
async def test_liquidation_frames_carry_every_entry_in_the_venue_batching(venue, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    pending = asyncio.ensure_future(exchange.watch_liquidations(fake.unified("ETH")))
    await fake.wait_subscribed(SPEC[venue]["liquidation_topic"].replace("BTC", "ETH"))
    entries = [
        dict(side="long", price=3100.0, qty=1.0, time_ms=1_790_000_000_001),
        dict(side="short", price=3300.0, qty=2.0, time_ms=1_790_000_000_002),
        dict(side="long", price=3050.0, qty=3.0, time_ms=1_790_000_000_003),
    ]
    frames = fake.liquidation_frames("ETH", entries)
    assert len(frames) == (3 if venue == "binanceusdm" else 1)
    assert await fake.push_many(frames) == len(frames)
    await watch(pending)
    await until(
        lambda: len(exchange.liquidations) >= CCXT_KEEPS_OF_THREE[venue], what="ccxt to parse the frames"
    )
    kept = list(exchange.liquidations)
    assert [liq["timestamp"] for liq in kept] == [1_790_000_000_001, 1_790_000_000_002, 1_790_000_000_003][
        : len(kept)
    ]
    assert [liq["price"] for liq in kept] == [3100.0, 3300.0, 3050.0][: len(kept)]


async def test_binance_mark_price_and_ticker_array_streams(fake_exchange, ccxt_client):
    fake = await fake_exchange("binanceusdm")
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    marks = asyncio.ensure_future(exchange.watch_mark_prices())
    assert await fake.wait_subscribed("markPrice") == "!markPrice@arr@1s"
    fake.set_price("ETH", 3_333.3)
    fake.set_funding_rate("ETH", 0.0002)
    await fake.push(fake.mark_price_frame())
    marks = await watch(marks)
    assert marks["ETH/USDT:USDT"]["markPrice"] == pytest.approx(3_333.3)
    assert marks["ETH/USDT:USDT"]["info"]["r"] == "0.00020000"
    tickers = asyncio.ensure_future(exchange.watch_tickers(params={"name": "ticker"}))
    await fake.wait_subscribed("!ticker@arr")
    await fake.push(fake.ticker_frame(["SOL", "BTC"]))
    tickers = await watch(tickers)
    assert {"SOL/USDT:USDT", "BTC/USDT:USDT"} <= set(tickers)
    assert tickers["SOL/USDT:USDT"]["baseVolume"] == pytest.approx(25_000_000)
    minis = asyncio.ensure_future(exchange.watch_tickers())  # ccxt's default: !miniTicker@arr
    await fake.wait_subscribed("!miniTicker@arr")
    await fake.push(fake.mini_ticker_frame(["ETH"]))
    assert (await watch(minis))["ETH/USDT:USDT"]["last"] == pytest.approx(3_333.3)


async def test_bybit_ticker_snapshot_then_delta_merge(fake_exchange, ccxt_client):
    fake = await fake_exchange("bybit")
    exchange = ccxt_client(fake, **FAST)
    ticker = await watch(exchange.watch_ticker("BTC/USDT:USDT"))  # answered by the snapshot on subscribe
    assert (ticker["last"], float(ticker["info"]["openInterest"])) == (95_000, 80_000)
    fake.set_open_interest("BTC", 81_234.5)
    fake.set_price("BTC", 96_000)
    pending = asyncio.ensure_future(exchange.watch_ticker("BTC/USDT:USDT"))
    await asyncio.sleep(0.05)
    await fake.push(fake.ticker_delta_frame("BTC", ["openInterest", "openInterestValue"]))
    ticker = await watch(pending)
    assert float(ticker["info"]["openInterest"]) == 81_234.5
    assert ticker["last"] == 95_000  # not in the delta: ccxt keeps the snapshot's value


async def test_websocket_handshake_429_and_ccxt_waits_retry_after_before_redialing(
    fake_exchange, ccxt_client
):
    fake = await fake_exchange("bybit")
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    fake.fail_next("/v5/public/*", status=429, retry_after=1)
    with pytest.raises(ccxt.NetworkError, match="429"):
        await watch(exchange.watch_order_book("BTC/USDT:USDT"))
    assert fake.ws_connections == 0
    loop = asyncio.get_running_loop()
    started = loop.time()
    await watch(exchange.watch_order_book("BTC/USDT:USDT"))
    assert fake.ws_connections == 1
    assert loop.time() - started >= 0.9  # ccxt 4.5.90 honours the handshake's Retry-After


@pytest.mark.parametrize("venue", ALL_VENUES)
async def test_price_history_ends_at_the_price_and_honours_since(venue, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    fake.set_price("BTC", 92_345.6)
    exchange = ccxt_client(fake, **FAST)
    await exchange.load_markets()
    hour = 3_600_000
    hour_before = exchange.milliseconds() // hour * hour
    latest = await exchange.fetch_ohlcv(fake.unified("BTC"), "1h", limit=3)
    assert latest[-1][0] in (
        hour_before,
        exchange.milliseconds() // hour * hour,
    )  # an hour may turn meanwhile
    assert [c[0] for c in latest] == [latest[-1][0] - 2 * hour, latest[-1][0] - hour, latest[-1][0]]
    assert latest[-1][4] == pytest.approx(92_345.6)
    since = exchange.milliseconds() - 10 * hour
    window = await exchange.fetch_ohlcv(fake.unified("BTC"), "1h", since=since, limit=5)
    assert len(window) == 5 and since <= window[0][0] < since + hour
    assert all(b[0] - a[0] == hour for a, b in pairwise(window))
    assert all(
        c[3] <= min(c[1], c[4]) <= max(c[1], c[4]) <= c[2] for c in window
    )  # low <= open/close <= high


@pytest.mark.parametrize("venue", ["bybit", "okx"])
async def test_abrupt_drop_also_fails_the_pending_watch(venue, fake_exchange, ccxt_client):
    fake = await fake_exchange(venue)
    exchange = ccxt_client(fake, **FAST)
    await watch(exchange.watch_order_book(fake.unified("BTC"), SPEC[venue].get("book_limit", 50)))
    pending = asyncio.ensure_future(
        exchange.watch_order_book(fake.unified("BTC"), SPEC[venue].get("book_limit", 50))
    )
    await asyncio.sleep(0.05)
    assert await fake.drop_connections(abrupt=True) == 1
    with pytest.raises(ccxt.NetworkError):
        await watch(pending)
