"""The requests behind Hyperliquid's MEASURED positions (the "positions" task of its ``VenueFeed``).

One request at a time, each through the venue's REST policy (Retry-After on 429) and its weight
budget (``hyperliquid_budget.py``, background priority): a candidate liquidation's fills first
(``userFillsByTime``), then the account most overdue (``clearinghouseState``), then a discovered
one. Snapshots and tracked liquidations leave through ``VenueFeed.deliver`` like every other event
(engine, recorder, bus). An answer that cannot be read is skipped and counted; nothing here raises
to the feed. The task's health is the "positions" status: accounts, looks, weight, skips.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liqtui.domain.events import FeedState, LiquidationSource, PositionSnapshot
from liqtui.domain.text import printable
from liqtui.feeds.live import hyperliquid_budget
from liqtui.feeds.live.adapter import MalformedEntry
from liqtui.feeds.live.hyperliquid_accounts import Account, snapshots_from_state
from liqtui.feeds.live.supervision import PollOutcome, now_ms, supervise

if TYPE_CHECKING:
    from liqtui.feeds.live.hyperliquid import Hyperliquid
    from liqtui.feeds.live.venue_feed import VenueFeed

STATUS_EVERY_S = 10.0
LOOKUP_SLACK_MS = 2_000  # fills are read from a little before the previous look
LOOKUP_TRIES = 3
RESUME_SPAN_MS = 24 * 3_600_000  # a restart resumes the accounts recorded in the last day
LEADERBOARD_MAX = 2_000


async def run(feed: VenueFeed) -> None:
    """Until cancelled: seed the accounts, hold the trades feed that discovers more, and poll."""
    hyperliquid_budget.background.set(True)
    await feed.markets_ready.wait()
    adapter: Hyperliquid = feed.adapter  # type: ignore[assignment]
    await _seed(feed, adapter)
    trades = asyncio.ensure_future(supervise(feed, "all", lambda: _hold_trades(feed)))
    try:
        next_status = 0.0
        while True:
            await _step(feed, adapter)
            if time.monotonic() >= next_status:
                next_status = time.monotonic() + STATUS_EVERY_S
                _report(feed, adapter)
    finally:
        trades.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await trades


async def _seed(feed: VenueFeed, adapter: Hyperliquid) -> None:
    from liqtui.config import ConfigError, read_accounts_file

    now, settings = now_ms(), feed.venue_settings
    configured = list(settings.accounts)
    if settings.accounts_file:
        try:
            configured += await asyncio.to_thread(read_accounts_file, Path(settings.accounts_file))
        except ConfigError as exc:
            adapter.problems.append(str(exc))
    for address in configured:
        adapter.tracker.add(address, now, configured=True)
    adapter.configured = {a.lower() for a in configured}
    if adapter.resume_from is not None:
        recorded = await asyncio.to_thread(_recorded, adapter.resume_from, now)
        adapter.tracker.resume(_as_listed(feed, recorded), now)
    if settings.leaderboard_url:
        for address in await _leaderboard(feed, adapter, settings.leaderboard_url):
            adapter.tracker.discover(address, now)


def _as_listed(feed: VenueFeed, snaps: list[PositionSnapshot]) -> list[PositionSnapshot]:
    """The venue's recorded snapshots under the symbols it lists (a desk records BTC/USDC:USDC as
    the BTC/USDT:USDT it asked for); those of markets it no longer lists are left out."""
    out = []
    for snap in snaps:
        listed = feed.listed([snap.symbol]) if snap.venue == feed.venue else []
        if listed:
            out.append(replace(snap, symbol=listed[0]))
    return out


def _recorded(path: Path, now: int) -> list[PositionSnapshot]:
    from liqtui.storage.reader import latest_positions
    from liqtui.storage.schema import StoreError

    try:
        return latest_positions(path, now - RESUME_SPAN_MS)
    except (StoreError, OSError):
        return []  # no recording yet, or one that cannot be read: the desk says so itself


async def _leaderboard(feed: VenueFeed, adapter: Hyperliquid, url: str) -> list[str]:
    """Addresses of the leaderboard at ``url`` (``{"leaderboardRows": [{"ethAddress": ...}]}`` or a
    list of addresses or rows), best first; [] and a problem noted when it cannot be read."""
    from liqtui.feeds.live.hyperliquid import ADDRESS

    try:
        payload = await feed.exchange.fetch(url, "GET")
    except Exception as exc:  # noqa: BLE001 - an optional, undocumented endpoint: said, never fatal
        adapter.problems.append(f"leaderboard {url}: {type(exc).__name__}: {printable(str(exc))[:120]}")
        return []
    rows = payload.get("leaderboardRows") if isinstance(payload, dict) else payload
    out = []
    for row in rows if isinstance(rows, list) else []:
        text = row.get("ethAddress") or row.get("user") if isinstance(row, dict) else row
        if isinstance(text, str) and ADDRESS.fullmatch(text):
            out.append(text.lower())
    if not out:
        adapter.problems.append(f"leaderboard {url}: no addresses in its answer")
    return out[:LEADERBOARD_MAX]


async def _hold_trades(feed: VenueFeed) -> None:
    """The ``trades`` feed of the watched coins: its frames name both users of every trade (read
    by ``Hyperliquid.parse_liquidations`` in the frame tap)."""
    symbols = feed.listed(feed.wanted)
    if not symbols:
        await asyncio.Event().wait()
    watches = {asyncio.ensure_future(feed.exchange.watch_trades(s)): s for s in symbols}
    try:
        while True:
            done, _ = await asyncio.wait(watches, return_when=asyncio.FIRST_COMPLETED)
            for watch in done:
                symbol = watches.pop(watch)
                watch.result()  # a failed socket raises: the supervisor reconnects
                watches[asyncio.ensure_future(feed.exchange.watch_trades(symbol))] = symbol
    finally:
        for watch in watches:
            watch.cancel()


async def _step(feed: VenueFeed, adapter: Hyperliquid) -> None:
    now = now_ms()
    watched = set(feed.listed(feed.wanted))
    for symbol in watched:
        ticker = feed.merged_ticker(symbol)
        if ticker is not None and (ticker.mark or ticker.last):
            adapter.marks.see(symbol, ticker.time, ticker.mark or ticker.last or 0.0)
        mark, before = adapter.marks.last(symbol), adapter.checked.get(symbol)
        if mark is not None and before is not None:
            adapter.tracker.crossed(symbol, before, mark, now)
        if mark is not None:
            adapter.checked[symbol] = mark
    while adapter.discovered:
        adapter.tracker.discover(adapter.discovered.popleft(), now)
    if adapter.lookups:
        await _lookup(feed, adapter, *adapter.lookups.popleft())
        return
    account = adapter.tracker.next_due(now)
    if account is None:
        await asyncio.sleep(min(1.0, adapter.tracker.wait_ms(now) / 1000))
        return
    await _look(feed, adapter, account, watched)


async def _call(feed: VenueFeed, adapter: Hyperliquid, body: dict[str, Any]) -> Any:
    """One info request through the venue's REST policy; None (and the reason noted) on failure."""
    poll = PollOutcome()
    payload = await feed.rest.guarded_call(poll)(
        "positions", f"/info {body['type']}", feed.exchange.publicPostInfo, body
    )
    if "positions" in poll.failed:
        adapter.failures += 1
        adapter.last_failure = poll.failed["positions"][0]
    return payload


async def _look(feed: VenueFeed, adapter: Hyperliquid, account: Account, watched: set[str]) -> None:
    payload = await _call(feed, adapter, {"type": "clearinghouseState", "user": account.address})
    now = now_ms()
    if payload is None:
        adapter.tracker.failed(account, now)
        return
    try:
        snaps = snapshots_from_state(payload, account.address, adapter.markets.by_id, now)
    except MalformedEntry as exc:
        _malformed(feed, adapter, f"clearinghouseState of {account.address}: {exc}")
        adapter.tracker.failed(account, now)
        return
    result = adapter.tracker.looked(account, snaps, watched, now, adapter.marks)
    for snap in result.emit:
        feed.deliver(snap)
    adapter.read.add(account.address)
    for old in result.candidates:
        adapter.lookups.append((account.address, old, now, 1))


async def _lookup(
    feed: VenueFeed, adapter: Hyperliquid, address: str, old: PositionSnapshot, seen: int, tries: int
) -> None:
    """The fills of ``address`` since ``old`` was read: those liquidating it are its liquidation."""
    body = {
        "type": "userFillsByTime",
        "user": address,
        "startTime": old.time - LOOKUP_SLACK_MS,
        "endTime": seen,
    }
    fills = await _call(feed, adapter, body)
    if fills is None:
        if tries < LOOKUP_TRIES:
            adapter.lookups.append((address, old, seen, tries + 1))
        return
    if not isinstance(fills, list):
        _malformed(feed, adapter, f"userFillsByTime of {address}: not a list of fills")
        return
    mine = [f for f in fills if isinstance(f, dict) and _liquidated_user(f) == address]
    liquidations = adapter.new_liquidations(mine, address, now_ms(), LiquidationSource.TRACKED)
    if adapter.rejected:
        feed._count_rejected()
    adapter.lookups_done += 1
    feed.counters.liquidations += len(liquidations)
    adapter.tracked_liquidations += len(liquidations)
    for liquidation in liquidations:
        feed.deliver(liquidation)


def _liquidated_user(fill: dict[str, Any]) -> str:
    info = fill.get("liquidation")
    return str(info.get("liquidatedUser") or "").lower() if isinstance(info, dict) else ""


def _malformed(feed: VenueFeed, adapter: Hyperliquid, why: str) -> None:
    adapter.malformed += 1
    feed.counters.malformed += 1
    feed.counters.last_error = printable(f"answer skipped: {why}")[:200]


def _report(feed: VenueFeed, adapter: Hyperliquid) -> None:
    feed.report("positions", FeedState.LIVE, adapter.positions_detail())
