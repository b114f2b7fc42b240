"""How each event kind is laid out in its table, both ways: event -> row tuple, row tuple -> event.

The kind names (``liquidations``, ``oi``, ``tickers``, ``bars``, ``books``, ``status``) are the ones
the commands accept (``liqtui export --kind``) and ``read_events(kinds=...)`` takes.
Values round-trip exactly (floats are stored as IEEE doubles), so a replayed event equals the
recorded one; only order books are cut to ``BOOK_LEVELS`` levels per side before they are stored.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from liqtui.domain.events import (
    BookSnapshot,
    Event,
    FeedState,
    FeedStatus,
    Liquidation,
    OpenInterest,
    PriceBar,
    Side,
    Ticker,
)

BOOK_LEVELS = 50
_SIDE_CODE = {Side.LONG: 0, Side.SHORT: 1}
_CODE_SIDE = (Side.LONG, Side.SHORT)

Market = tuple[str, str]  # (venue, symbol)


def event_time(event: Event) -> int:
    """The time an event belongs to on the recording's clock (ms)."""
    if isinstance(event, FeedStatus):
        # A status is re-sent as messages arrive; it belongs to the latest of its two times.
        return max(event.since, event.last_message or 0)
    return event.time


# Blobs are little-endian on every machine so a recording can be copied between them.
_BIG_ENDIAN = array("H", [1]).tobytes() == b"\x00\x01"


def pack_levels(levels: tuple[tuple[float, float], ...]) -> bytes:
    flat = array("d", [x for level in levels[:BOOK_LEVELS] for x in level])
    if _BIG_ENDIAN:
        flat.byteswap()
    return zlib.compress(flat.tobytes(), 6)


def unpack_levels(blob: bytes) -> tuple[tuple[float, float], ...]:
    flat = array("d")
    flat.frombytes(zlib.decompress(blob))
    if _BIG_ENDIAN:
        flat.byteswap()
    return tuple(zip(flat[0::2], flat[1::2]))


@dataclass(frozen=True)
class Layout:
    """One event kind: its table, its columns after (seq, time, market), and its converters."""

    kind: str
    table: str
    event_type: type
    columns: tuple[str, ...]
    to_row: Callable[[Any], tuple]  # event -> values of `columns`
    from_row: Callable[[Market, int, tuple], Event]  # (market, time, values) -> event


def _liquidation_row(e: Liquidation) -> tuple:
    return (_SIDE_CODE[e.side], e.price, e.qty, e.usd, e.recv_time - e.time, 1 if e.sampled else 0)


def _liquidation(m: Market, t: int, r: tuple) -> Liquidation:
    side, price, qty, usd, delay, sampled = r
    return Liquidation(m[0], m[1], _CODE_SIDE[side], price, qty, usd, t, t + delay, bool(sampled))


def _ticker_row(e: Ticker) -> tuple:
    return (
        e.last, e.mark, e.index, e.funding_rate, e.next_funding_time, e.change_24h_pct,
        e.volume_24h_usd,
    )


def _ticker(m: Market, t: int, r: tuple) -> Ticker:
    return Ticker(m[0], m[1], t, *r)


def _bar_row(e: PriceBar) -> tuple:
    return (e.open, e.high, e.low, e.close, e.volume_usd)


def _bar(m: Market, t: int, r: tuple) -> PriceBar:
    return PriceBar(m[0], m[1], t, *r)


def _book_row(e: BookSnapshot) -> tuple:
    return (pack_levels(e.bids), pack_levels(e.asks))


def _book(m: Market, t: int, r: tuple) -> BookSnapshot:
    return BookSnapshot(m[0], m[1], unpack_levels(r[0]), unpack_levels(r[1]), t)


def _status_row(e: FeedStatus) -> tuple:
    return (e.venue, e.state.value, e.since, e.detail, e.kind, e.last_message)


def _status(_m: Market, _t: int, r: tuple) -> FeedStatus:
    venue, state, since, detail, kind, last_message = r
    return FeedStatus(venue, FeedState(state), since, detail, kind, last_message)


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "liquidations", "liquidations", Liquidation,
        ("side", "price", "qty", "usd", "recv_delay", "sampled"), _liquidation_row, _liquidation,
    ),
    Layout(
        "oi", "open_interest", OpenInterest, ("base", "usd"),
        lambda e: (e.base, e.usd), lambda m, t, r: OpenInterest(m[0], m[1], r[0], r[1], t),
    ),
    Layout(
        "tickers", "tickers", Ticker,
        ("last", "mark", "index_price", "funding_rate", "next_funding_time", "change_24h_pct",
         "volume_24h_usd"),
        _ticker_row, _ticker,
    ),
    Layout("bars", "price_bars", PriceBar, ("open", "high", "low", "close", "volume_usd"), _bar_row, _bar),
    Layout("books", "books", BookSnapshot, ("bids", "asks"), _book_row, _book),
    # Feed status belongs to a venue, not a market: its table has no `market` column.
    Layout(
        "status", "feed_status", FeedStatus,
        ("venue", "state", "since", "detail", "kind", "last_message"), _status_row, _status,
    ),
)

KINDS = tuple(layout.kind for layout in LAYOUTS)
BY_KIND = {layout.kind: layout for layout in LAYOUTS}
BY_TYPE = {layout.event_type: layout for layout in LAYOUTS}


def has_market(layout: Layout) -> bool:
    return layout.kind != "status"


def check_kinds(kinds: object) -> tuple[str, ...]:
    if kinds is None:
        return KINDS
    chosen = tuple(kinds)  # type: ignore[arg-type]
    unknown = [k for k in chosen if k not in BY_KIND]
    if unknown:
        raise ValueError(f"unknown event kind {unknown[0]!r} (expected one of: {', '.join(KINDS)})")
    return chosen
