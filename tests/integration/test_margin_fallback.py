"""`liqtui risk` live: when a venue's margin tiers cannot be read, a default stands in (the shipped table,
or the model's `[levels] maintenance_margin` where the table has none) and the output says why (it used
to fall back silently)."""

from __future__ import annotations

import json

from test_live_commands import run_liqtui, write_config


async def test_margin_tiers_falling_back_to_the_shipped_table_say_why(fake_exchange, tmp_path):
    bybit = await fake_exchange("bybit")
    bybit.fail_next("/v5/market/risk-limit", status=500, times=None)
    config = write_config(tmp_path / "c.toml", [bybit])
    code, out, err = await run_liqtui("risk", "btc", "--to", "100000", "--json", "--config", str(config))
    assert code == 0, err
    (row,) = json.loads(out)["venues"]
    assert row["margin_source"] is None  # the shipped table has no Bybit tiers
    note = row["margin_note"]
    assert "bybit risk-limit" in note and "500" in note and "[levels] maintenance_margin" in note
    code, out, err = await run_liqtui("risk", "btc", "--to", "100000", "--config", str(config))
    assert code == 0, err
    assert "liqtui risk: bybit: bybit risk-limit failed" in err and "[levels] maintenance_margin" in err


async def test_margin_tiers_the_venue_serves_carry_no_note(fake_exchange, tmp_path):
    bybit = await fake_exchange("bybit")
    config = write_config(tmp_path / "c.toml", [bybit])
    code, out, err = await run_liqtui("risk", "btc", "--to", "100000", "--json", "--config", str(config))
    assert code == 0, err
    (row,) = json.loads(out)["venues"]
    assert row["margin_source"] == "bybit risk-limit" and row["margin_note"] is None


async def test_the_live_desks_feed_says_why_a_default_stands_in_for_the_margin_tiers(fake_exchange):
    """The desk's feed reads the same tiers with the same fallback, and its live status says why."""
    from liqtui.domain.events import FeedState, MarginLimits

    from live_harness import LiveRun

    bybit = await fake_exchange("bybit")
    bybit.fail_next("/v5/market/risk-limit", status=500, times=None)
    async with LiveRun(bybit) as run:
        status = await run.until_status("all", FeedState.LIVE, contains="bybit risk-limit failed", timeout=20)
        assert "BTC/USDT:USDT" in status.detail and "[levels] maintenance_margin" in status.detail
        limits = {e.symbol: e for e in run.of_type(MarginLimits)}
        assert limits["BTC/USDT:USDT"].maintenance_rate is None and "500" in limits["BTC/USDT:USDT"].note
