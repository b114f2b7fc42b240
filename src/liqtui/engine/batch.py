"""A run of liquidations held as columns (``LiquidationBatch``): what a warm-up and a replay's catch-up
read from a recording, applied by the engine without one object per row (docs/architecture.md, "The
bulk path").

It is a ``Sequence[Liquidation]``: anything that takes a list of liquidations takes it, and an item
read from it is built then (``Liquidation`` as the recording's reader builds it), so only the
consumers that keep objects (the tape's kept tail, a group's first rows) pay for them. The engine's
parts that know it (``Engine.apply_liquidations``) read the columns. Rows are in time order.

numpy is imported by the functions that use it, never at import: the desk's first frame does not wait
for it (the bulk path runs after it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from liqtui.domain.events import Liquidation, LiquidationSource, Side
from liqtui.domain.imports import import_frozen

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Ints = npt.NDArray[np.int64]
    Floats = npt.NDArray[np.float64]

Market = tuple[str, str]  # (venue, symbol)
# How a recording codes a side and a liquidation's flags (bit 0 sampled, bits 1-2 the source).
SIDE_OF_CODE = (Side.LONG, Side.SHORT)
SOURCE_OF_CODE = {0: LiquidationSource.FEED, 1: LiquidationSource.BACKSTOP, 2: LiquidationSource.TRACKED}


class LiquidationBatch(Sequence[Liquidation]):
    """Liquidations as columns: ``market`` (a key of ``markets``), ``side`` (0 long, 1 short), ``price``,
    ``qty``, ``usd``, ``time``, ``recv`` (recv_time) and ``flags`` (bit 0 sampled, bits 1-2 the source)."""

    __slots__ = ("markets", "market", "side", "price", "qty", "usd", "time", "recv", "flags", "_ids")

    def __init__(
        self,
        markets: Mapping[int, Market],
        market: Ints,
        side: Ints,
        price: Floats,
        qty: Floats,
        usd: Floats,
        time: Ints,
        recv: Ints,
        flags: Ints,
    ) -> None:
        self.markets = markets
        self.market, self.side, self.price, self.qty, self.usd = market, side, price, qty, usd
        self.time, self.recv, self.flags = time, recv, flags
        self._ids: tuple[list[int], Ints] | None = None

    @classmethod
    def of(cls, liqs: Sequence[Liquidation]) -> LiquidationBatch:
        """The columns of ``liqs`` (each reads back equal to its liquidation)."""
        import numpy as np

        ids: dict[Market, int] = {}
        market = [ids.setdefault((liq.venue, liq.symbol), len(ids)) for liq in liqs]
        code = {source: k for k, source in SOURCE_OF_CODE.items()}
        flags = [int(liq.sampled) | code[liq.source] << 1 for liq in liqs]

        def ints(values: list[int]) -> Ints:
            return np.array(values, dtype=np.int64)

        def floats(values: list[float]) -> Floats:
            return np.array(values, dtype=np.float64)

        return cls(
            {k: m for m, k in ids.items()},
            ints(market),
            ints([SIDE_OF_CODE.index(liq.side) for liq in liqs]),
            floats([liq.price for liq in liqs]),
            floats([liq.qty for liq in liqs]),
            floats([liq.usd for liq in liqs]),
            ints([liq.time for liq in liqs]),
            ints([liq.recv_time for liq in liqs]),
            ints(flags),
        )

    def __len__(self) -> int:
        return len(self.time)

    @overload
    def __getitem__(self, index: int) -> Liquidation: ...

    @overload
    def __getitem__(self, index: slice) -> LiquidationBatch: ...

    def __getitem__(self, index: int | slice) -> Liquidation | LiquidationBatch:
        if isinstance(index, slice):
            return self.take(index)
        return self._one(int(self.market[index]), int(self.side[index]), index)

    def __iter__(self) -> Iterator[Liquidation]:
        one, markets = self._one, self.market.tolist()
        return (one(m, s, i) for i, (m, s) in enumerate(zip(markets, self.side.tolist(), strict=True)))

    def _one(self, market: int, side: int, i: int) -> Liquidation:
        venue, symbol = self.markets[market]
        flags, time = int(self.flags[i]), int(self.time[i])
        return Liquidation(
            venue,
            symbol,
            SIDE_OF_CODE[side],
            float(self.price[i]),
            float(self.qty[i]),
            float(self.usd[i]),
            time,
            int(self.recv[i]),
            bool(flags & 1),
            SOURCE_OF_CODE[flags >> 1],
        )

    def take(self, rows: Any) -> LiquidationBatch:
        """The rows ``rows`` selects (a slice, a boolean mask or indexes, in order)."""
        return LiquidationBatch(
            self.markets,
            self.market[rows],
            self.side[rows],
            self.price[rows],
            self.qty[rows],
            self.usd[rows],
            self.time[rows],
            self.recv[rows],
            self.flags[rows],
        )

    def newest_time(self) -> int:
        return int(self.time.max())

    def newest_receipts(self) -> dict[str, int]:
        """Per venue, the newest ``recv_time`` of its rows."""
        out: dict[str, int] = {}
        for market in self.market_ids():
            venue = self.markets[market][0]
            newest = int(self.recv[self.market == market].max())
            if newest > out.get(venue, newest - 1):
                out[venue] = newest
        return out

    def market_ids(self) -> list[int]:
        """The markets of the rows, in the order of their first row."""
        return self.by_market()[0]

    def by_market(self) -> tuple[list[int], Ints]:
        """``market_ids``, and each row's market as an index into it (found once per batch)."""
        if self._ids is None:
            first, group = groups(self.market)
            self._ids = (self.market[first].tolist(), group)
        return self._ids


def load_numpy() -> None:
    """Import numpy (the bulk path's): a reader calls it in a thread before the path starts, so the
    import (~0.1-0.2 s of CPU) does not hold an event loop, nor a collector's pass over its objects
    (``domain.imports``)."""
    import_frozen("numpy")


def concat(batches: Sequence[LiquidationBatch]) -> LiquidationBatch:
    """The rows of ``batches`` one after the other (their market ids made one set where they differ)."""
    import numpy as np

    if len(batches) == 1:
        return batches[0]
    markets = batches[0].markets
    if all(b.markets is markets for b in batches):
        ids = [b.market for b in batches]
    else:
        merged: dict[Market, int] = {}
        ids = []
        for b in batches:
            known, inverse = np.unique(b.market, return_inverse=True)
            new = [merged.setdefault(b.markets[int(m)], len(merged)) for m in known]
            ids.append(np.array(new, dtype=np.int64)[inverse.reshape(-1)])
        markets = {k: m for m, k in merged.items()}
    return LiquidationBatch(
        markets,
        np.concatenate(ids),
        *(np.concatenate([getattr(b, name) for b in batches]) for name in _COLUMNS),
    )


_COLUMNS = ("side", "price", "qty", "usd", "time", "recv", "flags")


def in_time_order(batch: LiquidationBatch) -> bool:
    return bool((batch.time[1:] >= batch.time[:-1]).all())


def newest_receipts(liqs: Sequence[Liquidation]) -> dict[str, int]:
    """Per venue, the newest ``recv_time`` of ``liqs`` (a batch reads its columns)."""
    if type(liqs) is LiquidationBatch:
        return liqs.newest_receipts()
    out: dict[str, int] = {}
    for liq in liqs:
        if liq.recv_time > out.get(liq.venue, liq.recv_time - 1):
            out[liq.venue] = liq.recv_time
    return out


def newest_time(liqs: Sequence[Liquidation]) -> int:
    """The newest exchange time of ``liqs`` (a batch reads its column, a list its objects)."""
    if type(liqs) is LiquidationBatch:
        return liqs.newest_time()
    return max(liq.time for liq in liqs)


def column_sums(held: list[float], group: Any, values: Any) -> list[float]:
    """Per group, ``held[g]`` plus its ``values`` added one at a time in row order: the same float as
    adding them one by one (``np.bincount`` adds its weights in order; the held value goes first)."""
    import numpy as np

    n = len(held)
    index = np.concatenate([np.arange(n), group])
    sums: list[float] = np.bincount(index, weights=np.concatenate([held, values]), minlength=n).tolist()
    return sums


def groups(*columns: Any) -> tuple[list[int], Ints]:
    """Rows grouped by their values in ``columns`` (int arrays): each group's first row, in the order
    of those rows, and each row's group (an index into that list)."""
    import numpy as np

    key, radix = np.zeros(len(columns[0]), dtype=np.int64), 1
    for column in columns:  # one int64 key when the columns' spans multiply under 2**62
        low = int(column.min()) if len(column) else 0
        span = int(column.max()) - low + 1 if len(column) else 1
        radix *= span
        if radix >= 1 << 62:
            _uniq, first, inverse = np.unique(
                np.stack(columns, axis=1), axis=0, return_index=True, return_inverse=True
            )
            break
        key = key * span + (column - low)
    else:
        if radix <= _DENSE_KEYS + 4 * len(key):
            return _dense_groups(key, radix)
        _uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    group: Ints = rank[inverse.reshape(-1)]
    return first[order].tolist(), group


_DENSE_KEYS = 4096  # keys spanning up to this (plus 4 a row) are grouped through an array of them


def _dense_groups(key: Ints, radix: int) -> tuple[list[int], Ints]:
    """``groups`` of one key in ``[0, radix)`` without a sort of the rows (``np.unique``'s, ~0.1 s of
    a stress warm-up's CPU): each key's first row found through an array the size of the keys' span."""
    import numpy as np

    n = len(key)
    first_of = np.full(radix, n, dtype=np.int64)
    np.minimum.at(first_of, key, np.arange(n))
    first = np.sort(first_of[first_of < n])  # each group's first row, in row order
    code = np.empty(radix, dtype=np.int64)
    code[key[first]] = np.arange(len(first))
    group: Ints = code[key]
    return first.tolist(), group


def per_market(batch: LiquidationBatch, value: Callable[[int], float]) -> Floats:
    """``value(market)`` for each row, asked once per market."""
    import numpy as np

    ids, group = batch.by_market()
    out: Floats = np.array([value(m) for m in ids], dtype=np.float64)[group]
    return out
