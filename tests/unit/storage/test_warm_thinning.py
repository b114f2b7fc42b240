from itertools import pairwise

from liqtui.domain.events import Liquidation, OpenInterest, Side
from liqtui.storage.reader import thin_old_open_interest

DAY = 86_400_000


def _oi(venue: str, t: int) -> OpenInterest:
    return OpenInterest(venue, "BTC/USDT:USDT", 1.0 + t / 1e12, 1.0, t)


def test_old_oi_is_thinned_to_one_sample_per_five_minutes_per_market_and_the_last_day_kept_whole():
    now = 40 * DAY
    samples = [_oi(v, t) for t in range(now - 3 * DAY, now, 15_000) for v in ("binanceusdm", "okx")]
    liq = Liquidation("okx", "BTC/USDT:USDT", Side.LONG, 1.0, 1.0, 1.0, now - 2 * DAY, now - 2 * DAY)
    kept = list(thin_old_open_interest([liq, *samples], now - DAY))
    assert liq in kept  # other kinds pass untouched
    for venue in ("binanceusdm", "okx"):
        old = [
            e.time for e in kept if isinstance(e, OpenInterest) and e.venue == venue and e.time < now - DAY
        ]
        recent = [
            e.time for e in kept if isinstance(e, OpenInterest) and e.venue == venue and e.time >= now - DAY
        ]
        assert len(old) == 2 * 24 * 12  # two days at one per 5 minutes
        assert all(b - a == 300_000 for a, b in pairwise(old))
        assert len(recent) == DAY // 15_000  # the last day at the full 15 s
