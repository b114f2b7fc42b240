"""What each venue can and cannot tell us, decided in one place for every pane.

A venue the registry lists with no liquidation feed: its realized totals are unknown, not zero, and
the desk must say so ("no public feed") rather than show $0. (Hyperliquid has a partial one: its
backstop vault's fills, a floor.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from liqtui.domain.events import FeedState, FeedStatus
from liqtui.domain.venues import has_liquidation_feed
from liqtui.feeds.live.errors import DNS_FAILED, NO_NETWORK, REFUSED, TIMED_OUT

# A network reason in one word or two, for a venue chip: "down: DNS", "down: refused".
_SHORT_REASONS = {NO_NETWORK: "no network", DNS_FAILED: "DNS", REFUSED: "refused", TIMED_OUT: "timeout"}
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


def no_public_liquidation_feed(venue: str, feeds: Iterable[FeedStatus], has_data: bool = False) -> bool:
    """True when ``venue`` has no public liquidation feed.

    Only a venue the registry (domain/venues.py) lists without a feed: when its feed reports its
    liquidations DOWN, or nothing arrived from it (so a future feed would not be hidden).
    """
    if has_liquidation_feed(venue):
        return False
    for status in feeds:
        if status.venue == venue and status.kind == "liquidations" and status.state is FeedState.DOWN:
            return True
    return not has_data


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


def short_reason(detail: str) -> str:
    """A feed's detail in a word or two for a chip: "DNS", "refused", "timeout", "no network",
    "HTTP 418"; "" when the detail names none of these."""
    found = next((short for reason, short in _SHORT_REASONS.items() if reason in detail), None)
    if found is not None:
        return found
    status = _HTTP_STATUS.search(detail)
    return f"HTTP {status.group(1)}" if status else ""
