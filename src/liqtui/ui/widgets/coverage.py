"""What each venue can and cannot tell us, decided in one place for every pane.

Hyperliquid publishes no liquidation feed: its realized totals are unknown, not zero, and the desk must
say so ("no public feed") rather than show $0.
"""

from __future__ import annotations

from collections.abc import Iterable

from liqtui.domain.events import FeedState, FeedStatus

NO_FEED_VENUES = frozenset({"hyperliquid"})  # DOMAIN.md: no public liquidation stream


def _plain(venue: str) -> str:
    return venue.removeprefix("demo-")


def no_public_liquidation_feed(venue: str, feeds: Iterable[FeedStatus], has_data: bool = False) -> bool:
    """True when ``venue`` has no public liquidation feed.

    Either its feed status says so (kind "liquidations", detail mentioning "no public"), or it is a
    venue known to have none and nothing arrived from it (so a future feed would not be hidden).
    """
    for status in feeds:
        if status.venue == venue and status.kind == "liquidations" and "no public" in status.detail.lower():
            return True
    return _plain(venue) in NO_FEED_VENUES and not has_data


def liquidation_feed_state(venue: str, feeds: Iterable[FeedStatus]) -> FeedStatus | None:
    """The status covering ``venue``'s liquidations: its "liquidations" status, else its "all" status."""
    found: FeedStatus | None = None
    for status in feeds:
        if status.venue != venue:
            continue
        if status.kind == "liquidations":
            return status
        if status.kind == "all":
            found = status
    return found


def is_unhealthy(status: FeedStatus | None) -> bool:
    return status is not None and status.state in (FeedState.STALE, FeedState.DOWN, FeedState.RECONNECTING)


def feed_reason(detail: str) -> str:
    """A feed's detail in a trader's words: without the parenthesised exception and URL, and without
    the retry count that changes every attempt ("cannot load markets: DNS failed")."""
    return detail.split(";", 1)[0].split(" (", 1)[0].strip()
