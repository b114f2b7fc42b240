"""When each venue's liquidation tape was running: the intervals its liquidation feed was live.

Fed from the feed statuses, so the times are the statuses' own and the engine stays pure. Read to
tell whether the tape watched a sweep's whole window: a level swept during the backfill, or while a
feed was down, has nothing to compare with, and its realized USD is unknown, not zero.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

INTERVALS_KEPT = 64  # per venue; a sweep older than the oldest kept interval counts as not watched


@dataclass(slots=True)
class _Interval:
    start: int
    end: int | None  # None while live


class TapeCover:
    def __init__(self) -> None:
        self._intervals: dict[str, deque[_Interval]] = {}

    def see(self, venue: str, live: bool, time_ms: int) -> None:
        """The venue's liquidation feed is (``live``) or is not running from ``time_ms`` on."""
        intervals = self._intervals.setdefault(venue, deque(maxlen=INTERVALS_KEPT))
        running = bool(intervals) and intervals[-1].end is None
        if live and not running:
            intervals.append(_Interval(time_ms, None))
        elif not live and running:
            intervals[-1].end = max(time_ms, intervals[-1].start)

    def covers(self, venue: str, start_ms: int, end_ms: int) -> bool:
        """The venue's tape ran without a break from ``start_ms`` to ``end_ms``."""
        return any(
            i.start <= start_ms and (i.end is None or i.end >= end_ms) for i in self._intervals.get(venue, ())
        )
