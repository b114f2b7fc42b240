"""How liqtui writes numbers: compact USD, prices, signed percents, coin amounts, ages, venue tags.

One place for every pane and every headless command, so "$87.1M" reads the same in the ladder, the
tape, the totals and ``liqtui risk``. Pure functions of plain values, importable without Textual;
"—" stands for a number we do not have (the headless tables pass ``missing="n/a"``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from liqtui.domain.venues import venue_info, venue_order

MISSING = "—"

_USD_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def fitting(texts: Iterable[str], width: int) -> str:
    """The first text that fits ``width`` (texts in order of preference), else "": a narrow pane drops
    whole words, never characters of one."""
    return next((text for text in texts if len(text) <= width), "")


def _finite(value: float | None) -> float | None:
    """The value, or None when it is missing or not finite (NaN, infinity): shown as MISSING."""
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value


def usd(value: float | None, decimals: int | None = None, *, missing: str = MISSING) -> str:
    """Compact USD. By default the desk's three significant figures at most: $6.5B, $87.1M, $4.2k,
    $950, "$378B" not "$378.0B". With ``decimals``, that many at every unit, as the headless tables
    print them: ``usd(87_123_000, 2)`` is $87.12M, ``usd(576e12, 1)`` $576.0T."""
    value = _finite(value)
    if value is None:
        return missing
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if decimals is not None:
        scale, suffix = next(((s, u) for s, u in _USD_UNITS if amount >= s), (1.0, ""))
        places = decimals if suffix else 0
        return f"{sign}${amount / scale:,.{places}f}{suffix}"
    for scale, suffix in _USD_UNITS:
        if amount >= scale * 0.9995:
            scaled = amount / scale
            text = f"{scaled:.1f}" if round(scaled, 1) < 100 else f"{scaled:.0f}"
            if text == "1000" and suffix != "T":
                continue  # 999,960k reads as $1.0M, handled by the larger unit above
            return f"{sign}${text}{suffix}"
    return f"{sign}${amount:.0f}"


def price_decimals(value: float) -> int:
    """Decimals a trader expects for a price of this size (BTC 82,800; ETH 2,750.3; DOGE 0.1432)."""
    magnitude = abs(value)
    if magnitude >= 10_000:
        return 0
    if magnitude >= 1_000:
        return 1
    if magnitude >= 10:
        return 2
    if magnitude >= 1:
        return 4
    if magnitude == 0:
        return 2
    # Four significant figures below 1.
    return min(8, 3 - math.floor(math.log10(magnitude)))


def step_decimals(step: float) -> int:
    """Decimals needed to tell ladder rows of this price step apart (step 10 -> 0, 0.5 -> 1, 0.0001 -> 4)."""
    if step <= 0 or not math.isfinite(step):
        return 2
    decimals = 0
    while decimals < 10 and abs(round(step, decimals) - step) > step * 1e-6:
        decimals += 1
    return decimals


def price(value: float | None, decimals: int | None = None) -> str:
    """A price with thousands separators: 82,800 / 2,750.3 / 0.1432."""
    value = _finite(value)
    if value is None:
        return MISSING
    places = price_decimals(value) if decimals is None else decimals
    return f"{value:,.{places}f}"


def pct(value: float | None, decimals: int = 1) -> str:
    """A signed percent with a space, as traders write it: +11.1 %, -9.0 %."""
    value = _finite(value)
    if value is None:
        return MISSING
    text = f"{value:+.{decimals}f}"
    if float(text) == 0:
        text = f"{0:.{decimals}f}"  # no "-0.0 %"
    return f"{text} %"


def funding(rate: float | None, interval_hours: float | None = None) -> str:
    """A funding rate given as a fraction per interval: 0.0001 -> +0.0100 %; with its interval
    +0.0100 %/8h (a rate paid every hour and one paid every 8 hours do not compare unlabelled)."""
    rate = _finite(rate)
    if rate is None:
        return MISSING
    per = "" if interval_hours is None else f"/{interval_hours:g}h"
    return pct(rate * 100, 4) + per


def coin(amount: float | None) -> str:
    """A base-coin amount: 123,500 / 12.35 / 0.0420."""
    amount = _finite(amount)
    if amount is None:
        return MISSING
    magnitude = abs(amount)
    if magnitude >= 1_000:
        return f"{amount:,.0f}"
    if magnitude >= 1:
        return f"{amount:,.2f}"
    return f"{amount:.4f}"


def size(amount: float | None) -> str:
    """An order-book size in base coin, compact for a narrow column: 12.5 / 1.2k / 0.042."""
    amount = _finite(amount)
    if amount is None:
        return MISSING
    magnitude = abs(amount)
    if magnitude >= 1e6:
        return f"{amount / 1e6:.1f}M"
    if magnitude >= 1e4:
        return f"{amount / 1e3:.0f}k"
    if magnitude >= 1e3:
        return f"{amount / 1e3:.1f}k"
    if magnitude >= 100:
        return f"{amount:.0f}"
    if magnitude >= 1:
        return f"{amount:.1f}"
    return f"{amount:.3f}"


def age(ms: float | None) -> str:
    """How long ago, compact: 42s, 3m, 2h, 5d."""
    ms = _finite(ms)
    if ms is None:
        return MISSING
    seconds = max(0, int(ms // 1000))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86_400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86_400}d"


def hhmmss(ms: int) -> str:
    """Clock time (UTC) of an ms epoch: 15:51:07."""
    return time.strftime("%H:%M:%S", time.gmtime(ms / 1000))


def _plain_venue(venue: str) -> str:
    return venue.removeprefix("demo-")


def venue_tag(venue: str) -> str:
    """Short venue tag for narrow columns: BIN, BYB, OKX, HL (a demo venue keeps its venue's tag)."""
    plain = _plain_venue(venue)
    if venue == "all":
        return "ALL"
    info = venue_info(plain)
    return info.tag if info else plain[:3].upper()


def venue_name(venue: str) -> str:
    """Venue name as traders say it: Binance, Bybit, OKX, Hyperliquid."""
    plain = _plain_venue(venue)
    if venue == "all":
        return "All"
    info = venue_info(plain)
    return info.name if info else plain.capitalize()


def venue_sort_key(venue: str) -> tuple[int, str]:
    plain = _plain_venue(venue)
    return (venue_order(plain), plain)


def base_coin(symbol: str) -> str:
    """The base coin of a ccxt unified symbol: BTC/USDT:USDT -> BTC."""
    return symbol.split("/", 1)[0].split(":", 1)[0] or symbol


def side_word(side: str, plural: bool = False) -> str:
    """LONG / SHORT as text, so the side never depends on colour alone."""
    word = "LONG" if str(getattr(side, "value", side)) == "long" else "SHORT"
    return word + ("S" if plural else "")
