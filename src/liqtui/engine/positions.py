"""MEASURED positions: the newest snapshot of each tracked account's position per venue and symbol
(Hyperliquid publishes every account's positions, docs/exchanges.md), and the liquidation levels they
give: USD by liquidation-price row, per side. Kept apart from the ESTIMATED level model and never mixed
with it. Pure: written by ``Engine.apply``, read by the projection and the commands."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from liqtui.domain.events import PositionSnapshot, Side

_Key = tuple[str, str]  # (venue, account)


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the measurement covers for one symbol: ``accounts`` holding it, their USD and the oldest
    snapshot's time (None when there is none)."""

    accounts: int
    usd: float
    oldest: int | None

    @classmethod
    def of(cls, positions: Iterable[PositionSnapshot]) -> Coverage:
        held = list(positions)
        accounts = len({(p.venue, p.account) for p in held})
        return cls(accounts, sum(p.usd for p in held), min((p.time for p in held), default=None))


def level_rows(positions: Iterable[PositionSnapshot], grid: float) -> dict[Side, dict[int, float]]:
    """USD of ``positions`` liquidated in each price row (row i: prices [i x grid, (i+1) x grid)), per
    side. Positions the venue gives no liquidation price for are not in any row."""
    rows: dict[Side, dict[int, float]] = {Side.LONG: {}, Side.SHORT: {}}
    for p in positions:
        if p.liquidation_price is None or not p.liquidation_price > 0:
            continue
        row = math.floor(p.liquidation_price / grid)
        side_rows = rows[p.side]
        side_rows[row] = side_rows.get(row, 0.0) + p.usd
    return rows


class MeasuredPositions:
    def __init__(self) -> None:
        self._by_symbol: dict[str, dict[_Key, PositionSnapshot]] = {}
        # symbol -> how many changes it has seen: readers cache what they derive on (symbol, version)
        self._versions: dict[str, int] = {}

    def see(self, snap: PositionSnapshot) -> None:
        """Keep ``snap`` unless a newer one of the same account and symbol is kept; size 0 drops it."""
        held = self._by_symbol.setdefault(snap.symbol, {})
        key = (snap.venue, snap.account)
        kept = held.get(key)
        if kept is not None and kept.time > snap.time:
            return
        self._versions[snap.symbol] = self._versions.get(snap.symbol, 0) + 1
        if snap.size > 0 and math.isfinite(snap.usd):
            held[key] = snap
        else:
            held.pop(key, None)

    def of(self, symbol: str, venue: str | None = None) -> list[PositionSnapshot]:
        """The symbol's positions, largest first (ties: account), of one venue or all."""
        held = self._by_symbol.get(symbol, {}).values()
        chosen = [p for p in held if venue is None or p.venue == venue]
        return sorted(chosen, key=lambda p: (-p.usd, p.account))

    def symbols(self) -> list[str]:
        return [symbol for symbol, held in self._by_symbol.items() if held]

    def version(self, symbol: str) -> int:
        """Changes seen for ``symbol`` so far (0: none): equal versions hold the same positions."""
        return self._versions.get(symbol, 0)

    def levels(self, symbol: str, grid: float, venue: str | None = None) -> dict[Side, dict[int, float]]:
        """USD of the positions liquidated in each price row, per side (``level_rows``)."""
        return level_rows(self.of(symbol, venue), grid)

    def accounts(self, venue: str) -> int:
        """How many accounts of ``venue`` hold a position in any symbol (tracked, measured)."""
        return len({key[1] for held in self._by_symbol.values() for key in held if key[0] == venue})

    def coverage(self, symbol: str, venue: str | None = None) -> Coverage:
        return Coverage.of(self.of(symbol, venue))
