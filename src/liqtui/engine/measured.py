"""The MEASURED side of a symbol's view: its tracked positions on the venues whose positions are
public (Hyperliquid), their coverage of those venues' OI, and the estimate scored against them
(engine/fidelity.py). Reads only; caches on the positions' and the level books' versions, so a view
per render tick costs a few lookups while nothing changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from liqtui.domain.events import PositionSnapshot
from liqtui.domain.venues import PUBLIC_POSITION_VENUES, VENUE_IDS
from liqtui.engine.fidelity import Fidelity, Levels, Mass, score
from liqtui.engine.positions import Coverage
from liqtui.engine.state import MarketState
from liqtui.engine.views import MeasuredView, OIView

PUBLIC_VENUES = tuple(v for v in VENUE_IDS if v in PUBLIC_POSITION_VENUES)
CACHED = 8  # symbols whose positions, estimate and score are kept between views
_T = TypeVar("_T")


def masses(positions: Sequence[PositionSnapshot]) -> list[Mass]:
    """The positions that have a liquidation price, as masses at that price."""
    return [
        Mass(p.side, p.liquidation_price, p.usd)
        for p in positions
        if p.liquidation_price is not None and p.liquidation_price > 0
    ]


@dataclass(frozen=True, slots=True)
class _Held:
    version: int
    positions: tuple[PositionSnapshot, ...]  # largest first
    coverage: Coverage


@dataclass(frozen=True, slots=True)
class MeasuredRisk:
    """What a move liquidates of the tracked accounts' positions of one venue and symbol (MEASURED),
    with what they cover; ``usd`` is None when no account of the venue holds the symbol (unknown, not 0)."""

    venue: str
    symbol: str
    usd: float | None
    accounts: int
    covered_usd: float
    oi_usd: float | None
    oldest: int | None

    @property
    def covered_share(self) -> float | None:
        return self.covered_usd / self.oi_usd if self.oi_usd else None


def measured_risk(
    state: MarketState, venue: str, symbol: str, price: float, target: float, oi_usd: float | None
) -> MeasuredRisk:
    """The MEASURED figure beside ``levels.at_risk``'s estimate, counted the same way (fidelity.Levels)."""
    held = state.positions.of(symbol, venue)
    usd = Levels(masses(held), 1.0).at_risk(price, target) if held else None
    covered = Coverage.of(held)
    return MeasuredRisk(venue, symbol, usd, covered.accounts, covered.usd, oi_usd, covered.oldest)


class MeasuredProjection:
    def __init__(self, state: MarketState) -> None:
        self.state = state
        self._positions: dict[str, _Held] = {}
        self._estimates: dict[str, tuple[tuple[object, ...], Levels]] = {}
        self._scores: dict[str, tuple[tuple[object, ...], Fidelity | None]] = {}

    def view(
        self, symbol: str, oi_rows: Sequence[OIView], price: float | None, grid: float
    ) -> MeasuredView | None:
        """``grid``: the rows the estimate's clusters are read at (the desk's default step)."""
        held = self._held(symbol)
        venues = self.venues(symbol, held.positions)
        if not venues:
            return None
        oi = [r.usd for r in oi_rows if r.venue in venues and r.usd is not None]
        oi_usd = sum(oi) if oi else None
        return MeasuredView(
            symbol=symbol,
            venues=venues,
            positions=held.positions,
            accounts=held.coverage.accounts,
            usd=held.coverage.usd,
            oldest=held.coverage.oldest,
            oi_usd=oi_usd,
            version=held.version,
            fidelity=self._score(symbol, (venues, held.positions, held.version), price, oi_usd, grid),
        )

    def _held(self, symbol: str) -> _Held:
        """The symbol's positions on the public venues and their sums, kept until they change."""
        store = self.state.positions
        version = store.version(symbol)
        cached = self._positions.get(symbol)
        if cached is None or cached.version != version:
            held = tuple(p for p in store.of(symbol) if p.venue in PUBLIC_POSITION_VENUES)
            cached = self._put(self._positions, symbol, _Held(version, held, Coverage.of(held)))
        return cached

    def venues(self, symbol: str, held: Sequence[PositionSnapshot] = ()) -> tuple[str, ...]:
        """The public-position venues that trade ``symbol`` (levels, tickers or ``held`` positions of it)."""
        state = self.state
        modelled = state.by_symbol.get(symbol, {})
        tickers = state.tickers.get(symbol, {})
        holding = {p.venue for p in held}
        return tuple(v for v in PUBLIC_VENUES if v in modelled or v in tickers or v in holding)

    def estimate(self, symbol: str, venues: Sequence[str], grid: float) -> Levels:
        """The venues' ESTIMATED levels of ``symbol`` as masses, kept until a book changes."""
        books = [s.book for v, s in self.state.symbol_states(symbol) if v in venues]
        key = (tuple(venues), grid, tuple(b.version for b in books))
        cached = self._estimates.get(symbol)
        if cached is None or cached[0] != key:
            levels = Levels((Mass(side, p, usd) for b in books for p, side, _lev, usd in b.levels()), grid)
            cached = self._put(self._estimates, symbol, (key, levels))
        return cached[1]

    def _score(
        self,
        symbol: str,
        held: tuple[tuple[str, ...], tuple[PositionSnapshot, ...], int],  # venues, positions, version
        price: float | None,
        oi_usd: float | None,
        grid: float,
    ) -> Fidelity | None:
        venues, positions, version = held
        if not positions or price is None or not price > 0 or not oi_usd or not grid > 0:
            return None
        estimate = self.estimate(symbol, venues, grid)
        key = (version, id(estimate), price, oi_usd)
        cached = self._scores.get(symbol)
        if cached is None or cached[0] != key:
            covered = sum(p.usd for p in positions)
            cached = self._put(
                self._scores, symbol, (key, score(masses(positions), estimate, price, oi_usd, covered))
            )
        return cached[1]

    @staticmethod
    def _put(cache: dict[str, _T], symbol: str, value: _T) -> _T:
        if symbol not in cache and len(cache) >= CACHED:
            del cache[next(iter(cache))]
        cache[symbol] = value
        return value
