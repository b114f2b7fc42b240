"""`liqtui risk --json` reports the MEASURED figure of Hyperliquid's tracked accounts beside the
estimate, counted as the estimate is (shorts price < level <= target, longs target <= level < price),
with what the accounts cover; no tracked account is unknown (null), never zero."""

from liqtui.commands.risk_from_venues import VenueRisk, measured_dict, measured_line, measured_rows
from liqtui.domain.events import OpenInterest, PositionSnapshot, Side
from liqtui.engine import Engine

BTC = "BTC/USDC:USDC"


def _snap(account: str, side: Side, usd: float, liq: float, time: int) -> PositionSnapshot:
    return PositionSnapshot(
        "hyperliquid", BTC, account, side, usd / 90_000, usd, 90_000.0, liq, 10.0, "cross", time
    )


def _engine() -> Engine:
    engine = Engine()
    engine.apply(OpenInterest("hyperliquid", BTC, 1_000.0, 90_000_000.0, 5_000))
    engine.apply(_snap("0x" + "1" * 40, Side.SHORT, 2_000_000.0, 94_000.0, 1_000))
    engine.apply(_snap("0x" + "2" * 40, Side.SHORT, 1_000_000.0, 96_000.0, 2_000))  # beyond the target
    engine.apply(_snap("0x" + "3" * 40, Side.LONG, 500_000.0, 85_000.0, 3_000))  # the other side
    return engine


def test_measured_beside_the_estimate_with_its_coverage():
    rows = [
        VenueRisk("hyperliquid", BTC, price=90_000.0),
        VenueRisk("bybit", "BTC/USDT:USDT", price=90_010.0),
    ]
    (m,) = measured_rows(_engine(), rows, 95_000.0)  # only the venue whose positions are public
    doc = measured_dict(m)
    assert doc == {
        "venue": "hyperliquid",
        "symbol": BTC,
        "measured": True,
        "usd": 2_000_000.0,
        "accounts": 3,
        "covered_usd": 3_500_000.0,
        "oi_usd": 90_000_000.0,
        "covered_share": 3_500_000.0 / 90_000_000.0,
        "oldest_snapshot": 1_000,
    }
    assert measured_line(m, 95_000.0) == (
        "MEASURED Hyperliquid: $2.0M of tracked positions liquidated to 95,000.00; 3 accounts, $3.5M "
        "(3.89 % of $90.0M OI)"
    )


def test_no_tracked_account_is_unknown_not_zero():
    engine = Engine()
    engine.apply(OpenInterest("hyperliquid", BTC, 1_000.0, 90_000_000.0, 5_000))
    (m,) = measured_rows(engine, [VenueRisk("hyperliquid", BTC, price=90_000.0)], 80_000.0)
    assert measured_dict(m)["usd"] is None and measured_dict(m)["accounts"] == 0
    assert "no tracked account holds" in measured_line(m, 80_000.0)
