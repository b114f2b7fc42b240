"""Hyperliquid perpetuals: wire shapes and endpoint choices.

Liquidations: Hyperliquid has NO liquidation channel; liquidations show only in the fills of the
accounts involved, each side of a liquidation fill carrying ``liquidation: {liquidatedUser, markPx,
method}``. liqtui subscribes the websocket ``userFills`` of the backstop liquidator vault (address
in ``[venues.hyperliquid] liquidator_vault``, default from the registry): each of its fills with a
``liquidation`` object is a liquidation, exact in price and size, but only the ones the book could
not absorb (docs/exchanges.md). They are ``sampled`` (a part) with source ``backstop``; each is
delivered once, keyed on (liquidated user, coin, time, tid), so the snapshot a resubscribe repeats
adds nothing. Fills of the snapshot older than the subscription are history, not news: skipped.

MEASURED positions (the "positions" task): accounts found in the ``trades`` feed of the watched coins
(both ``users`` of every trade), in the config and in the recording, polled with
``clearinghouseState`` within the weight budget (``hyperliquid_accounts.py``, ``hyperliquid_poller.py``,
``hyperliquid_budget.py``); a tracked position that vanished past its liquidation price is looked up
in the account's fills, and its liquidation reported with source ``tracked``, once (same key).

Open interest, mark, oracle price, funding (hourly) and 24 h notional volume of every coin come
in ONE ``POST /info {"type": "metaAndAssetCtxs"}`` (weight 20 of 1200/min). No OI history is
published: the level model starts from the first poll. Order book ``l2Book`` (20 levels).
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liqtui.config import VenueSettings
from liqtui.domain.events import Liquidation, LiquidationSource, OpenInterest, Side, Ticker
from liqtui.domain.venues import VENUES
from liqtui.feeds.live.adapter import (
    MalformedEntry,
    RestCall,
    VenueAdapter,
    checked,
    entry_number,
    entry_time,
    fnum,
)
from liqtui.feeds.live.hyperliquid_accounts import MarkHistory, Tracker
from liqtui.feeds.live.hyperliquid_budget import WeightBudget, install
from liqtui.feeds.live.markets import MarketInfo

if TYPE_CHECKING:
    from liqtui.domain.events import PositionSnapshot
    from liqtui.feeds.live.venue_feed import VenueFeed

VENUE = "hyperliquid"
HOUR_MS = 3_600_000
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
SEEN_KEYS = 100_000  # liquidation keys remembered for de-duplication (a few MB)

LiquidationKey = tuple[str, str, int, str]  # (liquidated user, coin, time, tid)


def liquidation_from_fill(
    fill: Any, owner: str, market: MarketInfo, recv_ms: int, source: LiquidationSource
) -> tuple[LiquidationKey, Liquidation] | None:
    """A fill of ``owner`` -> (its key, the Liquidation), or None when the fill is no liquidation::

        {"coin": "BTC", "px": "94000.0", "sz": "0.5", "side": "A", "time": 1700000000000, "dir": "Close Long",
         "tid": 7, "hash": "0x..", "liquidation": {"liquidatedUser": "0x..", "markPx": "94010.0", "method": "market"}}

    ``side`` is the fill's: "A" sold, "B" bought. The liquidated account closes its position (a
    long sells); its counterparty (the vault, or a book participant) takes the other side. So the
    liquidated side is LONG when the liquidated user sold, or when anyone else bought.
    MalformedEntry when the fill cannot be read."""
    info = fill.get("liquidation") if isinstance(fill, dict) else None
    if not isinstance(info, dict):
        return None
    user = str(info.get("liquidatedUser") or "").lower()
    if fill.get("side") not in ("A", "B") or not ADDRESS.fullmatch(user):
        raise MalformedEntry(
            f"liquidation fill with side {fill.get('side')!r} and liquidated user {user[:44]!r}"
        )
    sold = fill["side"] == "A"
    side = Side.LONG if sold == (user == owner.lower()) else Side.SHORT
    price, qty = entry_number(fill.get("px"), "price"), entry_number(fill.get("sz"), "size")
    time = entry_time(recv_ms, fill.get("time"))
    liquidation = checked(
        Liquidation(
            VENUE, market.symbol, side, price, qty, price * qty, time, recv_ms, sampled=True, source=source
        )
    )
    return (user, str(fill.get("coin")), time, str(fill.get("tid"))), liquidation


def market_from_asset_ctx(
    ctx: dict[str, Any], market: MarketInfo, now_ms: int
) -> tuple[OpenInterest | None, Ticker]:
    """One asset context of ``metaAndAssetCtxs`` (same order as ``universe``)::

        {"funding": "0.00014735", "openInterest": "14677900.74", "prevDayPx": "26.145",
         "dayNtlVlm": "299643445.12", "premium": "0.00081613", "oraclePx": "27.569",
         "markPx": "27.63", "midPx": "27.599", "impactPxs": ["27.5915", "27.6319"], "dayBaseVlm": "10790652.83"}

    ``openInterest`` is in coins (USD = x mark); funding is per hour, settled on the hour.
    """
    mark, prev = fnum(ctx.get("markPx")), fnum(ctx.get("prevDayPx"))
    base = fnum(ctx.get("openInterest"))
    oi = OpenInterest(VENUE, market.symbol, base, base * mark, now_ms) if base is not None and mark else None
    ticker = Ticker(
        venue=VENUE,
        symbol=market.symbol,
        time=now_ms,
        last=fnum(ctx.get("midPx")) or mark,
        mark=mark,
        index=fnum(ctx.get("oraclePx")),
        funding_rate=fnum(ctx.get("funding")),
        next_funding_time=(now_ms // HOUR_MS + 1) * HOUR_MS,
        change_24h_pct=(mark / prev - 1.0) * 100 if mark and prev else None,
        volume_24h_usd=fnum(ctx.get("dayNtlVlm")),
        funding_interval_hours=1.0,
    )
    return oi, ticker


def markets_from_meta(
    payload: Any, markets: dict[str, MarketInfo], symbols: set[str], now_ms: int
) -> list[OpenInterest | Ticker]:
    """``[{"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 40}, ...]}, [ctx, ...]]`` -> events."""
    if not isinstance(payload, list) or len(payload) < 2:
        return []
    universe = (payload[0] or {}).get("universe") or []
    events: list[OpenInterest | Ticker] = []
    # Paired by position; a reply with fewer contexts than assets keeps the pairs it has.
    for asset, ctx in zip(universe, payload[1], strict=False):
        market = markets.get(str(asset.get("name")))
        if market is None or market.symbol not in symbols or not isinstance(ctx, dict):
            continue
        oi, ticker = market_from_asset_ctx(ctx, market, now_ms)
        events.append(ticker)
        if oi is not None:
            events.append(oi)
    return events


class Hyperliquid(VenueAdapter):
    venue = VENUE
    has_oi_history = False
    names_markets_by_coin = True
    book_limit = 20
    history_timeframe = "15m"  # Hyperliquid candles: 1m, 15m, 1h, 1d (no 5m)
    history_step_ms = 900_000
    tracks_positions = True

    def __init__(self) -> None:
        super().__init__()
        self.vault = VENUES[VENUE].backstop_account
        self.seen: OrderedDict[LiquidationKey, None] = OrderedDict()
        self.subscribed_ms: int | None = None  # when the vault's fills were first asked for
        self.budget = WeightBudget(VenueSettings().weight_budget)
        self.tracker = Tracker(VenueSettings().min_position_usd)
        self.marks = MarkHistory()
        self.discovered: deque[str] = deque(maxlen=50_000)  # users of trades, for the poller
        # candidate liquidations to look up: (account, its last snapshot, when it was missed, tries)
        self.lookups: deque[tuple[str, PositionSnapshot, int, int]] = deque()
        self.resume_from: Path | None = None  # a recording whose accounts a restart resumes
        self.configured: set[str] = set()
        self.read: set[str] = set()  # accounts read at least once
        self.checked: dict[str, float] = {}  # symbol -> the mark last checked for crossed liquidation prices
        self.problems: list[str] = []  # what could not be used (accounts file, leaderboard)
        self.malformed = self.failures = self.tracked_liquidations = self.lookups_done = 0
        self.last_failure = ""

    def configure(self, settings: VenueSettings) -> None:
        self.vault = (settings.liquidator_vault or VENUES[VENUE].backstop_account).lower()
        self.budget = WeightBudget(settings.weight_budget)
        self.tracker = Tracker(settings.min_position_usd)

    def attach(self, exchange: Any) -> None:
        install(exchange, self.budget)

    async def track_positions(self, feed: VenueFeed) -> None:
        from liqtui.feeds.live.hyperliquid_poller import run

        await run(feed)

    def positions_detail(self) -> str:
        """The "positions" status: what is tracked, what it costs, what was skipped."""
        tracker, budget = self.tracker, self.budget
        slowed = f", slowed x{budget.slowdown:g} after a 429" if budget.slowdown > 1 else ""
        parts = [
            f"tracking {len(tracker.accounts):,} accounts ({tracker.positions():,} positions on watched coins), "
            f"{len(tracker.discovered):,} discovered waiting; {tracker.looks:,} looks, "
            f"{self.tracked_liquidations} tracked liquidations; weight {budget.spent():.0f} of "
            f"{budget.limit:g} a minute{slowed}",
            f"{self.malformed} malformed answers skipped" if self.malformed else "",
            f"{self.failures} failed requests (last: {self.last_failure})" if self.failures else "",
            *self.problems,
        ]
        return "; ".join(p for p in parts if p)

    def see_trades(self, data: Any, recv_ms: int) -> None:
        """A ``trades`` frame: both users of every trade are accounts to look at; its prices are marks."""
        for trade in data if isinstance(data, list) else []:
            if not isinstance(trade, dict):
                continue
            for user in trade.get("users") or ():
                if isinstance(user, str) and ADDRESS.fullmatch(user):
                    self.discovered.append(user.lower())
            market = self.markets.by_id.get(str(trade.get("coin")))
            price = fnum(trade.get("px"))
            if market is not None and price is not None:
                time = trade.get("time")
                self.marks.see(market.symbol, time if isinstance(time, int) else recv_ms, price)

    def is_heartbeat(self, message: Any) -> bool:
        return isinstance(message, dict) and message.get("channel") in ("pong", "subscriptionResponse")

    def parse_liquidations(self, message: Any, recv_ms: int) -> list[Liquidation] | None:
        """The vault's ``userFills`` frame -> its new liquidations; None for any other frame."""
        if not isinstance(message, dict) or message.get("channel") != "userFills":
            if isinstance(message, dict) and message.get("channel") == "trades":
                self.see_trades(message.get("data"), recv_ms)
            return None
        data = message.get("data")
        if not isinstance(data, dict) or str(data.get("user", "")).lower() != self.vault:
            return None  # another user's fills (tracked accounts): not the backstop's
        fills = data.get("fills")
        oldest = self.subscribed_ms if data.get("isSnapshot") else None
        return self.new_liquidations(
            fills if isinstance(fills, list) else [], self.vault, recv_ms, LiquidationSource.BACKSTOP, oldest
        )

    def new_liquidations(
        self, fills: list[Any], owner: str, recv_ms: int, source: LiquidationSource, oldest: int | None = None
    ) -> list[Liquidation]:
        """The liquidations among ``fills`` of ``owner`` not delivered before (and not older than
        ``oldest`` ms); unreadable fills are counted in ``rejected``."""
        out = []
        for fill in fills:
            market = self.markets.by_id.get(str(fill.get("coin"))) if isinstance(fill, dict) else None
            if (
                market is None
                and isinstance(fill, dict)
                and ":" not in str(fill.get("coin"))
                and fill.get("liquidation")
            ):
                self.unknown_ids.add(
                    str(fill.get("coin"))
                )  # listed since start: the runtime reloads the markets
            try:
                found = liquidation_from_fill(fill, owner, market, recv_ms, source) if market else None
            except MalformedEntry as exc:
                self.rejected.append(str(exc))
                continue
            if found is None or (oldest is not None and found[1].time < oldest) or found[0] in self.seen:
                continue
            self.seen[found[0]] = None
            if len(self.seen) > SEEN_KEYS:
                self.seen.popitem(last=False)
            out.append(found[1])
        return out

    async def watch_liquidations(self, exchange: Any, symbols: list[str]) -> None:
        """The vault's fills (every coin: ``symbols`` does not narrow a user subscription). ccxt's
        ``watch_my_trades`` sends ``{"type": "userFills", "user": vault}``; the frames are read by
        ``parse_liquidations`` before ccxt sees them, so this waits for as long as the socket lives."""
        if self.subscribed_ms is None:
            self.subscribed_ms = int(exchange.milliseconds())
        await exchange.watch_my_trades(None, None, None, {"user": self.vault})

    async def watch_prices(self, exchange: Any, symbols: list[str], now_ms: int) -> list[Ticker]:
        # allMids carries mid prices only; mark, funding and volume come from the REST poll.
        tickers = await exchange.watch_tickers(symbols)
        out = []
        for t in tickers.values():
            if t.get("symbol") in symbols and fnum(t.get("last")) is not None:
                out.append(
                    Ticker(VENUE, t["symbol"], int(t.get("timestamp") or now_ms), last=fnum(t.get("last")))
                )
        return out

    async def poll_market(
        self, exchange: Any, symbols: list[str], now_ms: int, call: RestCall
    ) -> list[OpenInterest | Ticker]:
        payload = await call(
            "oi+ticker", "/info metaAndAssetCtxs", exchange.publicPostInfo, {"type": "metaAndAssetCtxs"}
        )
        return markets_from_meta(payload, self.markets.by_id, set(symbols), now_ms)
