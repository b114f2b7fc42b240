"""The engine keeps the newest MEASURED snapshot per account and symbol and bins it by liquidation price."""

from liqtui.domain.events import PositionSnapshot, Side
from liqtui.engine import Engine

BTC = "BTC/USDC:USDC"
A, B = "0x" + "a" * 40, "0x" + "b" * 40


def snap(
    account: str, side: Side, size: float, liq: float | None, time: int, usd: float | None = None
) -> PositionSnapshot:
    return PositionSnapshot(
        "hyperliquid",
        BTC,
        account,
        side,
        size,
        usd if usd is not None else size * 90_000,
        88_000.0,
        liq,
        10.0,
        "cross",
        time,
    )


def test_newest_snapshot_wins_and_size_zero_drops_it() -> None:
    engine = Engine()
    engine.apply(snap(A, Side.LONG, 2.0, 81_050.0, time=2_000))
    engine.apply(snap(A, Side.LONG, 5.0, 80_000.0, time=1_000))  # older: ignored
    engine.apply(snap(B, Side.SHORT, 1.0, 99_900.0, time=1_500))
    positions = engine.state.positions
    assert [(p.account, p.size) for p in positions.of(BTC)] == [(A, 2.0), (B, 1.0)]
    assert positions.levels(BTC, grid=100.0) == {Side.LONG: {810: 180_000.0}, Side.SHORT: {999: 90_000.0}}
    coverage = positions.coverage(BTC)
    assert (coverage.accounts, coverage.usd, coverage.oldest) == (2, 270_000.0, 1_500)
    engine.apply(snap(A, Side.LONG, 0.0, None, time=3_000))
    assert [p.account for p in positions.of(BTC)] == [B]
    assert BTC in engine.state.symbols


def test_a_position_without_liquidation_price_counts_in_coverage_not_in_levels() -> None:
    engine = Engine()
    engine.apply(snap(A, Side.LONG, 1.0, None, time=1_000))
    assert engine.state.positions.levels(BTC, grid=50.0) == {Side.LONG: {}, Side.SHORT: {}}
    assert engine.state.positions.coverage(BTC).accounts == 1
