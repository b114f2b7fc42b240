"""Words for the MEASURED positions (Hyperliquid's tracked accounts): the coverage line the ladder
keeps at its foot, the positions view's rows, the score of the estimate against them."""

from __future__ import annotations

from liqtui.domain import format as fmt
from liqtui.domain.events import PositionSnapshot
from liqtui.engine.views import MeasuredView


def share_pct(part: float, whole: float | None) -> str:
    """ "2.5 %" of a whole; a small share keeps two decimals (0.32 %), an unknown whole is "—"."""
    if not whole or whole <= 0:
        return fmt.MISSING
    value = part / whole * 100
    return f"{value:.2f} %" if value < 1 else f"{value:.1f} %"


def score_words(measured: MeasuredView) -> tuple[str, str]:
    """(long, short) words for the estimate's score: its at-risk error and its clusters' hit share."""
    fid = measured.fidelity
    if fid is None:
        return ("", "")
    if fid.curve_error is None:
        return (" · nothing measured within ±15 % to score", "")
    error = f"{fid.curve_error * 100:.0f} %"
    near = f"{fid.near_share * 100:.0f} %"
    return (f" · estimate off by {error}, {near} near its ◆", f" · est. err {error}")


def coverage_texts(measured: MeasuredView, now: int) -> tuple[str, ...]:
    """The coverage line, widest first: "HL MEASURED: tracked 40 accounts, $12.7M of $3.95B HL OI
    (0.32 %), oldest snapshot 30s · ..."; every variant says MEASURED or MEAS."""
    tag = " ".join(fmt.venue_tag(v) for v in measured.venues)
    if not measured.positions:
        return (f"{tag} MEASURED: no account tracked yet", f"{tag} MEAS: none tracked", "MEAS: none")
    n, usd = measured.accounts, fmt.usd(measured.usd)
    oi = fmt.usd(measured.oi_usd) if measured.oi_usd else "OI not sampled yet"
    share = share_pct(measured.usd, measured.oi_usd)
    age = fmt.age(now - measured.oldest) if measured.oldest is not None else fmt.MISSING
    long_score, short_score = score_words(measured)
    accounts = f"{n} account{'s' if n != 1 else ''}"
    return (
        f"{tag} MEASURED: tracked {accounts}, {usd} of {oi} {tag} OI ({share}), oldest snapshot {age}{long_score}",
        f"{tag} MEASURED: tracked {accounts}, {usd} of {oi} OI ({share}), oldest {age}{short_score}",
        f"{tag} MEAS {n} accts {usd}/{oi} ({share}) {age}{short_score}",
        f"{tag} MEAS {n} accts, {share} of OI, {age}{short_score.replace('est. ', '')}",
        f"{tag} MEAS {n} accts, {share} of OI, {age}",
        f"{tag} MEAS {n} accts",
        "MEAS",
    )


def measured_cell(long_usd: float, short_usd: float) -> str:
    """A ladder row's MEASURED USD: "L $1.2M", "S $450k", or both sides' sum "LS $1.6M"."""
    if long_usd > 0 and short_usd > 0:
        return f"LS {fmt.usd(long_usd + short_usd)}"
    if long_usd > 0:
        return f"L {fmt.usd(long_usd)}"
    if short_usd > 0:
        return f"S {fmt.usd(short_usd)}"
    return ""


def distance_pct(position: PositionSnapshot, price: float | None) -> float | None:
    """Where the position is liquidated, in % from price (longs below: negative); None without a price
    or a liquidation price."""
    liq = position.liquidation_price
    if liq is None or not price:
        return None
    return (liq / price - 1) * 100


def nearest_first(measured: MeasuredView, price: float | None, count: int) -> list[PositionSnapshot]:
    """The ``count`` largest positions, then nearest to liquidation first (no price: last)."""
    largest = list(measured.positions[:count])

    def key(p: PositionSnapshot) -> tuple[float, float]:
        d = distance_pct(p, price)
        return (abs(d) if d is not None else float("inf"), -p.usd)

    return sorted(largest, key=key)
