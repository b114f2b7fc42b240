"""The bus's wire format (feeds/bus/codec.py): every event type round-trips, the id is the content's."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest

from liqtui.domain.events import (
    BookSnapshot,
    Event,
    FeedState,
    FeedStatus,
    Liquidation,
    MarginLimits,
    OpenInterest,
    PositionSnapshot,
    PriceBar,
    Side,
    Ticker,
)
from liqtui.feeds.bus.codec import (
    KINDS,
    MADE_BY_READERS,
    Beat,
    DecodeError,
    RecentIds,
    decode,
    encode,
    encode_beat,
    symbol_token,
)

T = 1_790_000_000_000
EVENTS = [
    Liquidation("binanceusdm", "BTC/USDT:USDT", Side.LONG, 90_000.5, 0.1, 9_000.05, T, T + 40, sampled=True),
    OpenInterest("okx", "ETH/USDT:USDT", 12_345.5, 4.2e7, T),
    PriceBar("bybit", "SOL/USDT:USDT", T, 150.0, 151.0, 149.5, 150.5, 1e6),
    BookSnapshot("okx", "BTC/USDT:USDT", ((90_000.0, 1.5), (89_999.5, 2.0)), ((90_000.5, 0.25),), T),
    Ticker(
        "hyperliquid",
        "BTC/USDC:USDC",
        T,
        last=90_001.0,
        mark=90_000.0,
        funding_rate=1.25e-5,
        funding_interval_hours=1.0,
    ),
    FeedStatus("okx", FeedState.RECONNECTING, T, "attempt 3, next try in 8 s", "liquidations", T - 5_000),
    MarginLimits("bybit", "BTC/USDT:USDT", T, 0.005, 100.0, "bybit risk-limit"),
    MarginLimits("okx", "ETH/USDT:USDT", T, None, None, None, "no tiers"),
    PositionSnapshot(
        "hyperliquid",
        "BTC/USDC:USDC",
        "0x" + "ab" * 20,
        Side.SHORT,
        2.5,
        225_000.0,
        88_000.0,
        97_250.5,
        20.0,
        "cross",
        T,
    ),
    PositionSnapshot(
        "hyperliquid",
        "ETH/USDC:USDC",
        "0x" + "cd" * 20,
        Side.LONG,
        0.0,
        0.0,
        3_000.0,
        None,
        5.0,
        "isolated",
        T,
    ),
]


def test_every_event_type_of_the_domain_has_a_kind():
    # or is made by each reader's engine, never published (the heatmap's buckets)
    assert {type(e) for e in EVENTS} | MADE_BY_READERS == set(typing.get_args(Event))
    assert not MADE_BY_READERS & set(KINDS)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_type_comes_back_equal(event):
    subject, msg_id, payload = encode(event)
    assert decode(payload) == event
    assert len(msg_id) == 32 and subject.count(".") == 3 and " " not in subject


def test_subjects_follow_the_documented_scheme():
    assert encode(EVENTS[0])[0] == "liqtui.liq.binanceusdm.BTC-USDT-USDT"
    assert encode(EVENTS[5])[0] == "liqtui.status.okx.liquidations"
    assert encode(EVENTS[1], "liqtui-demo")[0] == "liqtui-demo.oi.okx.ETH-USDT-USDT"
    assert (
        symbol_token("1000PEPE/USDT:USDT") == "1000PEPE-USDT-USDT"
        and symbol_token("a.b*c>d e") == "a_b_c_d_e"
    )


def test_the_id_is_the_content_not_the_moment_of_receipt():
    liq = EVENTS[0]
    same_elsewhere = dataclasses.replace(liq, recv_time=liq.recv_time + 900)  # another collector, later
    assert encode(same_elsewhere)[1] == encode(liq)[1]
    for change in (
        {"time": T + 1},
        {"qty": 0.2},
        {"venue": "bybit"},
        {"side": Side.SHORT},
        {"price": 90_000.0},
    ):
        assert encode(dataclasses.replace(liq, **change))[1] != encode(liq)[1], change


@pytest.mark.parametrize(
    "payload, words",
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"v": 2, "event": "liq"}', "version 2"),
        (b'{"v": 1, "event": "trade"}', "unknown event 'trade'"),
        (b'{"v": 1, "event": "oi", "venue": "okx", "symbol": "X", "base": 1.0, "usd": 2.0}', "no 'time'"),
        (
            b'{"v": 1, "event": "oi", "venue": "okx", "symbol": "X", "base": "1", "usd": 2.0, "time": 5}',
            "'base'",
        ),
        (
            b'{"v": 1, "event": "oi", "venue": "okx", "symbol": "X", "base": 1e999, "usd": 2.0, "time": 5}',
            "'base'",
        ),
        (
            b'{"v": 1, "event": "book", "venue": "okx", "symbol": "X", "bids": [[1]], "asks": [], "time": 5}',
            "'bids'",
        ),
    ],
)
def test_a_message_that_is_no_event_says_why(payload, words):
    with pytest.raises(DecodeError, match=words.replace("(", r"\(")):
        decode(payload)


def test_a_liquidation_no_venue_could_mean_is_refused():
    body = json.loads(encode(EVENTS[0])[2])
    for field, value in (("side", "sideways"), ("price", -1.0), ("time", 5)):
        with pytest.raises(DecodeError):
            decode(json.dumps({**body, field: value}).encode())


def test_nan_cannot_be_encoded():
    with pytest.raises(ValueError):
        encode(dataclasses.replace(EVENTS[1], usd=float("nan")))


def test_beats_round_trip_and_recent_ids_forget_the_oldest():
    subject, payload = encode_beat(Beat("host-1", T, T - 7, 42))
    assert subject == "liqtui.beat.host-1" and decode(payload) == Beat("host-1", T, T - 7, 42)
    recent = RecentIds(size=2)
    assert [recent.seen(i) for i in ("a", "b", "a", "c", "a")] == [False, False, True, False, False]
