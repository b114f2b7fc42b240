"""Open interest per venue and symbol: latest value, change over windows, lookback low/high, regime.

Samples arrive live (every ~15 s) and as history at start (5-minute points, possibly older than
the live ones and in any order). Two stores per venue and symbol:
- the samples of the last 25 h, time-sorted (``array``s), for the change over 5m 1h 4h 24h;
- hourly low/high buckets over the lookback (default 30 days) for "up 31 % from the 93,600 BTC
  low"; the lookback's start edge is exact to the hour, which is what a 30-day range needs.
Both are pruned behind the newest sample, so memory is bounded whatever the run time.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right

from liqtui.engine.views import OI_WINDOWS, WINDOW_MS, OIView

FINE_KEEP_MS = 25 * 3_600_000
HOUR_MS = 3_600_000

REGIMES = {
    (True, True): "new longs",
    (True, False): "short covering",
    (False, True): "new shorts",
    (False, False): "long flush",
}


def oi_regime(price_change: float | None, oi_change: float | None) -> str | None:
    """docs/level-model.md, other metrics: price up/OI up new longs, up/down short covering, down/up new shorts,
    down/down long flush. No move on either leg: no regime."""
    if not price_change or not oi_change:
        return None
    return REGIMES[(price_change > 0, oi_change > 0)]


def pct_change(now: float | None, then: float | None) -> float | None:
    if now is None or then is None or then == 0:
        return None
    return (now - then) / then * 100.0


# hour -> [low, low time, high, high time, first time]: times (ms) kept beside the values in one list
# updated in place on every sample.
HourBucket = list[float]
# Lowest (value, time), highest (value, -time), oldest time.
_Extremes = tuple[tuple[float, float] | None, tuple[float, float] | None, float | None]


class _Track:
    __slots__ = ("times", "bases", "usds", "hours", "version", "range_cache")

    def __init__(self) -> None:
        self.times = array("q")
        self.bases = array("d")
        self.usds = array("d")
        self.hours: dict[int, HourBucket] = {}
        self.version = 0
        # (version, first hour, last hour) -> range of whole hours
        self.range_cache: tuple[tuple[int, ...], _Extremes] = ((), (None, None, None))


class OITracker:
    def __init__(self, lookback_ms: int = 30 * 86_400_000) -> None:
        self.lookback_ms = lookback_ms
        self._tracks: dict[tuple[str, str], _Track] = {}
        self._venues: dict[str, list[str]] = {}  # symbol -> venues with samples, sorted

    def add(self, venue: str, symbol: str, base: float, usd: float, time_ms: int) -> None:
        track = self._tracks.get((venue, symbol))
        if track is None:
            track = self._tracks[(venue, symbol)] = _Track()
            self._venues[symbol] = sorted({*self._venues.get(symbol, ()), venue})
        newest = track.times[-1] if track.times else time_ms
        if time_ms >= newest - FINE_KEEP_MS:
            if not track.times or time_ms > newest:
                track.times.append(time_ms)
                track.bases.append(base)
                track.usds.append(usd)
            else:
                i = bisect_right(track.times, time_ms)
                if i and track.times[i - 1] == time_ms:  # same sample twice (history overlaps live)
                    track.bases[i - 1], track.usds[i - 1] = base, usd
                else:
                    track.times.insert(i, time_ms)
                    track.bases.insert(i, base)
                    track.usds.insert(i, usd)
            self._prune_fine(track)
        self._add_hour(track, base, time_ms)

    def _prune_fine(self, track: _Track) -> None:
        edge = track.times[-1] - FINE_KEEP_MS
        if track.times[0] < edge - HOUR_MS:  # prune in hour-sized chunks so add() stays O(1)
            i = bisect_right(track.times, edge)
            del track.times[:i], track.bases[:i], track.usds[:i]

    def _add_hour(self, track: _Track, base: float, time_ms: int) -> None:
        track.version += 1
        hour = time_ms // HOUR_MS
        b = track.hours.get(hour)
        if b is None:
            track.hours[hour] = [base, time_ms, base, time_ms, time_ms]
            if len(track.hours) > self.lookback_ms // HOUR_MS + 48:
                newest = max(track.hours)
                for h in [h for h in track.hours if h < newest - self.lookback_ms // HOUR_MS - 1]:
                    del track.hours[h]
            return
        if base < b[0]:
            b[0], b[1] = base, time_ms
        if base > b[2]:
            b[2], b[3] = base, time_ms
        b[4] = min(b[4], time_ms)

    def venues(self, symbol: str) -> list[str]:
        return list(self._venues.get(symbol, ()))

    def sample_count(self) -> int:
        return sum(len(t.times) + len(t.hours) for t in self._tracks.values())

    def latest(self, venue: str, symbol: str, now_ms: int) -> tuple[int, float, float] | None:
        """(time, base, usd) of the newest sample at or before ``now_ms``."""
        track = self._tracks.get((venue, symbol))
        if track is None or not track.times:
            return None
        i = bisect_right(track.times, now_ms)
        if not i:
            return None
        return track.times[i - 1], track.bases[i - 1], track.usds[i - 1]

    def view(self, venue: str, symbol: str, now_ms: int, regime_window: str = "1h") -> OIView:
        latest = self.latest(venue, symbol, now_ms)
        if latest is None:
            return OIView(venue, symbol, None, None, None, {w: None for w in OI_WINDOWS}, None, None)
        t, base, usd = latest
        changes = {w: pct_change(base, self._base_at(venue, symbol, t - WINDOW_MS[w])) for w in OI_WINDOWS}
        low, low_t, high, high_t, since = self._range(venue, symbol, now_ms)
        then = self._sample_at(venue, symbol, t - WINDOW_MS[regime_window])
        regime = price_pct = None
        if then is not None:
            price_pct = pct_change(_price(base, usd), _price(then[1], then[2]))
            regime = oi_regime(price_pct, base - then[1])
        position = None if low is None or high is None or high == low else (base - low) / (high - low)
        return OIView(
            venue,
            symbol,
            base,
            usd,
            t,
            changes,
            low,
            high,
            low_t,
            high_t,
            vs_low_pct=pct_change(base, low),
            vs_high_pct=pct_change(base, high),
            range_position=position,
            regime=regime,
            regime_window=regime_window,
            regime_price_pct=price_pct if regime else None,
            since=since,
        )

    def _sample_at(self, venue: str, symbol: str, time_ms: int) -> tuple[int, float, float] | None:
        return self.latest(venue, symbol, time_ms)

    def _base_at(self, venue: str, symbol: str, time_ms: int) -> float | None:
        sample = self.latest(venue, symbol, time_ms)
        return None if sample is None else sample[1]

    def _range(
        self, venue: str, symbol: str, now_ms: int
    ) -> tuple[float | None, int | None, float | None, int | None, int | None]:
        """(low, low time, high, high time, oldest sample time) of the base OI within the lookback
        ending at ``now_ms``."""
        track = self._tracks[(venue, symbol)]
        first, last = (now_ms - self.lookback_ms) // HOUR_MS, now_ms // HOUR_MS
        key = (track.version, first, last)
        if track.range_cache[0] != key:  # whole hours before the current one: cached until a sample lands
            extremes = [b for h, b in track.hours.items() if first <= h < last]
            track.range_cache = (key, _extremes(extremes))
        low, high, since = track.range_cache[1]
        current = track.hours.get(last)
        if current is not None and current[4] <= now_ms and (since is None or current[4] < since):
            since = current[4]
        # The current hour is partial: its low/high count only if they happened by ``now_ms``.
        if current is not None and current[1] <= now_ms and (low is None or (current[0], current[1]) < low):
            low = (current[0], current[1])
        if (
            current is not None
            and current[3] <= now_ms
            and (high is None or (current[2], -current[3]) > high)
        ):
            high = (current[2], -current[3])
        return (
            low[0] if low else None,
            int(low[1]) if low else None,
            high[0] if high else None,
            int(-high[1]) if high else None,
            None if since is None else int(since),
        )


def _extremes(buckets: list[HourBucket]) -> _Extremes:
    """Lowest (value, time), highest (value, -time) (ties go to the earliest sample), oldest time."""
    if not buckets:
        return None, None, None
    return min((b[0], b[1]) for b in buckets), max((b[2], -b[3]) for b in buckets), min(b[4] for b in buckets)


def _price(base: float, usd: float) -> float | None:
    return usd / base if base > 0 and usd > 0 else None
