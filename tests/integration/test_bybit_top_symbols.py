"""Bybit has one liquidation topic per symbol: liqtui subscribes the watchlist and the top symbols by
volume. When they cannot be ranked (the tickers fail), the watchlist alone is watched and the live
status says so (it used to be silent), until they are ranked and subscribed."""

from __future__ import annotations

from liqtui.domain.events import FeedState

from live_harness import LiveRun

TICKERS = "/v5/market/tickers"


async def test_liquidations_of_the_watchlist_only_are_said_until_the_symbols_are_ranked(fake_exchange):
    fake = await fake_exchange("bybit")
    fake.fail_next(TICKERS, status=500, times=None)
    async with LiveRun(fake, oi_poll_seconds=0.3, resubscribe_check=0.3) as run:
        status = await run.until_status("all", FeedState.LIVE, contains="watchlist only", timeout=20)
        assert "top symbols" in status.detail
        fake.clear_faults()
        after = len(run.statuses("all"))
        await run.until(
            lambda: any(
                s.state is FeedState.LIVE and "watchlist only" not in s.detail
                for s in run.statuses("all")[after:]
            ),
            what="a live status without the note once a poll ranked the symbols",
        )
