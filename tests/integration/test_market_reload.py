"""A liquidation of a market the venue listed after start makes the feed reload its market list;
when that reload fails the venue's status says why (it used to be swallowed), and the reload never
outlives the feed."""

from __future__ import annotations

import asyncio

from liqtui.domain.events import FeedState

from live_harness import LiveRun

EXCHANGE_INFO = "/fapi/v1/exchangeInfo"


async def test_a_failed_market_reload_says_why_in_the_status_and_clears_when_one_succeeds(fake_exchange):
    fake = await fake_exchange("binanceusdm")
    async with LiveRun(fake, markets_reload_delay=0.05, markets_reload=0.0) as run:
        await run.subscribed()
        fake.add_coin("NEWCOIN", price=2.0, open_interest=1_000.0)  # listed after the markets were loaded
        fake.fail_next(EXCHANGE_INFO, status=500, times=None)
        await fake.push(fake.liquidation_frame("NEWCOIN"))
        failed = await run.until_status("all", FeedState.LIVE, contains="cannot reload markets")
        assert "HTTP 500" in failed.detail and "1 new market" in failed.detail
        fake.clear_faults()
        after = len(run.statuses("all"))
        await fake.push(fake.liquidation_frame("NEWCOIN"))  # the next unknown id tries again
        ok = await run.until(
            lambda: [s for s in run.statuses("all")[after:] if "cannot reload" not in s.detail],
            what="a clean status",
        )
        assert ok[-1].state is FeedState.LIVE


async def test_the_market_reload_never_outlives_the_feed(fake_exchange):
    fake = await fake_exchange("binanceusdm")
    before = asyncio.all_tasks()
    async with LiveRun(fake, markets_reload_delay=30.0) as run:
        await run.subscribed()
        fake.add_coin("NEWCOIN", price=2.0, open_interest=1_000.0)
        await fake.push(fake.liquidation_frame("NEWCOIN"))
        await run.until(lambda: run.liquidations(), what="the new market's liquidation")
        await asyncio.sleep(0.05)  # the reload is now waiting out its delay
    await asyncio.sleep(0)
    # The feed's own coroutines (ccxt's throttler may linger a moment: not ours to hold).
    left = [t for t in asyncio.all_tasks() - before if not t.done() and _of_the_feed(t)]
    assert not left, left


def _of_the_feed(task: asyncio.Task) -> bool:
    return getattr(task.get_coro(), "__qualname__", "").startswith("VenueFeed.")
