"""Hostile values from a venue, end to end: the real ccxt.pro
client against a loopback fake speaking the venue's wire format.

An entry no venue can mean (NaN, infinite, negative or zero price or size, no price or size, a time
in 1970 or in 10^30, a side that is neither long nor short) is counted, said in the venue's status,
and never delivered; the other entries of its frame, and the frames after it, arrive as usual.
"""

from __future__ import annotations

import json

import pytest

from liqtui.domain.events import FeedState, liquidation_problem

from fakes.core import DEFAULT_COINS
from live_harness import LIQUIDATION_TOPIC, LiveRun

LIQUIDATION_VENUES = ["binanceusdm", "bybit", "okx"]  # a venue without its fake fails, never skips
MISSING = object()

# The wire keys of each field, per venue (docs/exchanges.md): a hostile value is written to all of
# them (Binance falls back from ``ap`` to ``p``, and from ``z`` to ``l`` and ``q``).
KEYS = {
    "binanceusdm": {"price": ("ap", "p"), "size": ("z", "l", "q"), "side": ("S",), "time": ("T",)},
    "bybit": {"price": ("p",), "size": ("v",), "side": ("S",), "time": ("T",)},
    "okx": {"price": ("bkPx",), "size": ("sz",), "side": ("posSide", "side"), "time": ("ts",)},
}

HOSTILE = [
    ("price", "NaN"),
    ("price", "nan"),
    ("price", "Infinity"),
    ("price", "-inf"),
    ("price", "-5"),
    ("price", "0"),
    ("price", MISSING),
    ("price", ""),
    ("price", "abc"),
    ("price", True),
    ("price", [1]),
    ("size", "NaN"),
    ("size", "1e400"),
    ("size", "-1"),
    ("size", "0"),
    ("size", MISSING),
    ("size", None),
    ("time", 1e30),
    ("time", "1e30"),
    ("time", -1),
    ("time", 1_700_000_000),
    ("time", "NaN"),
    ("time", "soon"),
    ("side", "sideways"),
    ("side", MISSING),
    ("side", 1),
    ("side", "LONG"),
]


def entry_of(venue: str, frame: dict) -> dict:
    """The one liquidation entry of a single-entry frame of the fake."""
    if venue == "binanceusdm":
        return frame["o"]
    if venue == "bybit":
        return frame["data"][0]
    return frame["data"][0]["details"][0]


def hostile_frame(fake, field: str, value: object, time_ms: int) -> dict:
    frame = fake.liquidation_frame("BTC", side="long", price=90_000, qty=0.5, time_ms=time_ms)
    entry = entry_of(fake.venue, frame)
    for key in KEYS[fake.venue][field]:
        if value is MISSING:
            entry.pop(key, None)
        else:
            entry[key] = value
    return frame


def not_an_object(fake, time_ms: int) -> dict:
    frame = fake.liquidation_frame("BTC", time_ms=time_ms)
    if fake.venue == "binanceusdm":
        frame["o"] = 5
    elif fake.venue == "bybit":
        frame["data"][0] = "entry"
    else:
        frame["data"][0]["details"][0] = ["detail"]
    return frame


@pytest.mark.parametrize("venue", LIQUIDATION_VENUES)
async def test_hostile_entries_are_counted_shown_and_never_delivered(venue, fake_exchange):
    fake = await fake_exchange(venue)
    async with LiveRun(fake) as run:
        await run.subscribed()
        base = 1_790_000_000_000
        await fake.push(fake.liquidation_frame("BTC", qty=0.1, time_ms=base))
        for i, (field, value) in enumerate(HOSTILE):
            await fake.push(hostile_frame(fake, field, value, base + 100 + i))
        await fake.push(not_an_object(fake, base + 200), topic=LIQUIDATION_TOPIC[venue])
        await fake.push(fake.liquidation_frame("BTC", qty=0.2, time_ms=base + 1))
        hostile = len(HOSTILE) + 1
        await run.until(
            lambda: len(run.liquidations()) >= 2 and run.feed.counters.malformed >= hostile,
            what="every frame handled",
        )
        status = await run.until_status("all", FeedState.LIVE, contains=f"{hostile} malformed")
        assert "last: liquidation entry skipped" in status.detail
        assert sorted(liq.time for liq in run.liquidations()) == [base, base + 1]
        assert all(liquidation_problem(liq) is None for liq in run.liquidations())
        assert run.feed.counters.malformed == hostile


@pytest.mark.parametrize("venue", [v for v in LIQUIDATION_VENUES if v != "binanceusdm"])
async def test_a_hostile_entry_leaves_the_rest_of_its_frame_standing(venue, fake_exchange):
    fake = await fake_exchange(venue)
    async with LiveRun(fake) as run:
        await run.subscribed()
        base = 1_790_000_000_000
        frame = fake.liquidation_frame_multi(
            "BTC", [dict(side="long", qty=0.1 * (k + 1), time_ms=base + k) for k in range(3)]
        )
        entries = frame["data"] if venue == "bybit" else frame["data"][0]["details"]
        entries[1][KEYS[venue]["price"][0]] = "NaN"  # the middle one
        await fake.push(frame)
        await run.until(
            lambda: run.feed.counters.malformed >= 1 and len(run.liquidations()) >= 2, what="two of three"
        )
        assert sorted(liq.time for liq in run.liquidations()) == [base, base + 2]


@pytest.mark.parametrize("venue", LIQUIDATION_VENUES)
async def test_a_market_named_with_escape_sequences_is_left_out_and_the_rest_flows(venue, fake_exchange):
    dirty = "EV\x1b[2JIL"
    fake = await fake_exchange(venue, coins={**DEFAULT_COINS, dirty: dict(DEFAULT_COINS["SOL"])})
    async with LiveRun(fake) as run:
        await run.subscribed()
        assert run.feed.adapter.markets.symbols() and all(
            s.isprintable() for s in run.feed.adapter.markets.symbols()
        )
        await fake.push(
            fake.liquidation_frame(dirty, qty=3, time_ms=1_790_000_000_000), topic=LIQUIDATION_TOPIC[venue]
        )
        await fake.push(fake.liquidation_frame("BTC", qty=1, time_ms=1_790_000_000_001))
        (liq,) = await run.until(run.liquidations, what="the BTC liquidation")
        assert liq.symbol == "BTC/USDT:USDT"
        assert not any(s.state is FeedState.RECONNECTING for s in run.statuses())


async def test_a_negative_or_nan_open_interest_never_reaches_snapshot(fake_exchange, tmp_path):
    """A venue serving OI -5 (or NaN) for BTC gives no BTC OI (unknown, never a
    negative or NaN figure), ETH's stands, and the poll's status counts the skipped sample."""
    from test_live_commands import run_liqtui, write_config

    bybit, okx = await fake_exchange("bybit"), await fake_exchange("okx")
    bybit.set_open_interest("BTC", -5.0)
    okx.set_open_interest("BTC", float("nan"))
    config = write_config(tmp_path / "c.toml", [bybit, okx], watchlist=["BTC/USDT:USDT", "ETH/USDT:USDT"])
    code, out, err = await run_liqtui("snapshot", "--json", "--config", str(config))
    assert code == 0, err
    assert "NaN" not in out and "Infinity" not in out
    rows = {(r["venue"], r["symbol"].split("/")[0]): r for r in json.loads(out)["rows"]}
    for venue in ("bybit", "okx"):
        assert rows[(venue, "BTC")]["oi_base"] is None and rows[(venue, "BTC")]["oi_usd"] is None
        assert rows[(venue, "ETH")]["oi_base"] > 0
