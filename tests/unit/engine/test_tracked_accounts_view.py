"""The realized view counts the accounts whose positions are MEASURED per venue (the totals note:
"partial: backstop + N tracked accounts")."""

from liqtui.domain.events import Liquidation, LiquidationSource, PositionSnapshot, Side
from liqtui.engine import Engine

BTC, ETH = "BTC/USDC:USDC", "ETH/USDC:USDC"
A, B = "0x" + "a" * 40, "0x" + "b" * 40
T0 = 1_800_000_000_000


def _snap(account: str, symbol: str, size: float) -> PositionSnapshot:
    return PositionSnapshot(
        "hyperliquid", symbol, account, Side.LONG, size, size * 9e4, 9e4, 8e4, 10.0, "cross", T0
    )


def test_the_realized_view_counts_tracked_accounts_of_each_venue_across_symbols() -> None:
    engine = Engine()
    engine.apply(
        Liquidation(
            "hyperliquid",
            BTC,
            Side.LONG,
            9e4,
            1.0,
            9e4,
            T0,
            T0,
            sampled=True,
            source=LiquidationSource.BACKSTOP,
        )
    )
    assert engine.view(BTC, T0).realized.tracked == ()
    for account, symbol in ((A, BTC), (A, ETH), (B, ETH)):
        engine.apply(_snap(account, symbol, 1.0))
    assert engine.view(BTC, T0).realized.tracked == (("hyperliquid", 2),)
    engine.apply(_snap(B, ETH, 0.0))  # B closed its only position: no longer counted
    assert engine.view(BTC, T0).realized.tracked == (("hyperliquid", 1),)
