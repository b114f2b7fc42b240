"""How each event kind is laid out in its table, both ways: event -> row tuple, row tuple -> event.

The kind names (``liquidations``, ``oi``, ``tickers``, ``bars``, ``books``, ``heatmap``, ``positions``,
``status``) are the ones
the commands accept (``liqtui export --kind``) and ``read_events(kinds=...)`` takes.
Values round-trip exactly (floats are stored as IEEE doubles), so a replayed event equals the
recorded one; only order books are cut to ``BOOK_LEVELS`` levels per side before they are stored.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from liqtui.domain.alerts import Alert
from liqtui.domain.events import (
    BookSnapshot,
    Event,
    FeedState,
    FeedStatus,
    Float32s,
    HeatmapBucket,
    Liquidation,
    LiquidationSource,
    OpenInterest,
    PositionSnapshot,
    PriceBar,
    Side,
    Ticker,
)

BOOK_LEVELS = 50
# Event times a recording holds: from the epoch to 2100. A time outside (a venue's broken clock,
# 10^30) is never written, and a row holding one (a damaged file) is skipped by every reader.
MAX_TIME_MS = 4_102_444_800_000
_SIDE_CODE = {Side.LONG: 0, Side.SHORT: 1}
_CODE_SIDE = (Side.LONG, Side.SHORT)

Market = tuple[str, str]  # (venue, symbol)
Row = tuple[Any, ...]  # the values of a layout's columns, as SQLite stores and returns them


def event_time(event: Event | Alert) -> int:
    """The time an event (or an alert) belongs to on the recording's clock (ms)."""
    if isinstance(event, Alert):
        return event.at  # when it was said: an update comes long after the alert's own time
    if isinstance(event, FeedStatus):
        # A status is re-sent as messages arrive; it belongs to the latest of its two times.
        return max(event.since, event.last_message or 0)
    return event.time


# What decoding a damaged row can raise (a row of a recording is skipped and counted for these).
DAMAGE = (ValueError, TypeError, LookupError, ArithmeticError, zlib.error)


# The key of a reader's damage counts (``skipped``) for the damaged blocks of liquidations (storage/blocks.py)
# it found and read from their rows instead: nothing was skipped, the note says so once.
BLOCK_NOTE = "liquidation blocks"


def damage_note(path: object, skipped: Mapping[str, int]) -> str | None:
    """One line for the damaged rows a reader skipped, by kind; None when there were none."""
    rows = {kind: count for kind, count in skipped.items() if kind != BLOCK_NOTE and count}
    total = sum(rows.values())
    said = []
    if total:
        kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(rows.items()))
        said.append(f"skipped {total:,} damaged row{'s' if total > 1 else ''} ({kinds})")
    if skipped.get(BLOCK_NOTE):
        said.append("liquidations read from their rows where their packed blocks are damaged")
    return f"{path}: {'; '.join(said)}" if said else None


def valid_time(ms: object) -> bool:
    return isinstance(ms, int) and not isinstance(ms, bool) and 0 <= ms <= MAX_TIME_MS


# Book sides are stored as a compact exact encoding. Exchange prices and sizes are short decimals
# (82799.4, 0.715599): each side gets the smallest power of ten that turns all its prices (and,
# separately, all its sizes) into integers that convert back to the very same floats; prices are
# then stored as deltas from the best level, everything as zigzag varints. ~430 bytes a demo book
# against 1,600 as float64 (bench/bench_storage.py). Values that are not short decimals (or NaN)
# fall back to zlib-compressed little-endian float64 pairs.
_FORMAT_RAW, _FORMAT_DECIMAL = 0, 1
_MAX_DECIMALS = 12
_MAX_RAW_BYTES = 16 * 1024 * BOOK_LEVELS  # far above 50 levels of two float64: a damaged blob stops here
_MAX_VARINT_BITS = 70  # zigzag of a 64-bit value; a longer run of continuation bytes is damage
_BIG_ENDIAN = array("H", [1]).tobytes() == b"\x00\x01"


def pack_levels(levels: tuple[tuple[float, float], ...]) -> bytes:
    levels = levels[:BOOK_LEVELS]
    prices, sizes = [p for p, _ in levels], [q for _, q in levels]
    price_scale, price_ints = _as_integers(prices)
    size_scale, size_ints = _as_integers(sizes)
    if price_scale is None or size_scale is None:
        flat = array("d", [x for level in levels for x in level])
        if _BIG_ENDIAN:
            flat.byteswap()
        return bytes([_FORMAT_RAW]) + zlib.compress(flat.tobytes(), 6)
    out = bytearray([_FORMAT_DECIMAL, price_scale, size_scale])
    deltas = price_ints[:1] + [b - a for a, b in pairwise(price_ints)]
    _put_varints(out, [len(levels), *deltas, *size_ints])
    return bytes(out)


def unpack_levels(blob: bytes) -> tuple[tuple[float, float], ...]:
    """The levels of one book side; ValueError (or another of ``DAMAGE``) for a damaged blob."""
    if not blob:
        raise ValueError("empty book blob")
    if blob[0] == _FORMAT_RAW:
        flat = array("d")
        inflate = zlib.decompressobj()
        raw = inflate.decompress(blob[1:], _MAX_RAW_BYTES)
        if inflate.unconsumed_tail or len(raw) % 16:
            raise ValueError("book blob of the wrong length")
        flat.frombytes(raw)
        if _BIG_ENDIAN:
            flat.byteswap()
        return tuple(zip(flat[0::2], flat[1::2], strict=True))
    if blob[0] != _FORMAT_DECIMAL or len(blob) < 3:
        raise ValueError(f"unknown book encoding {blob[0]}")
    price_div, size_div = 10 ** blob[1], 10 ** blob[2]
    values = _get_varints(blob, 3)
    n = values[0]
    if len(values) != 1 + 2 * n:
        raise ValueError("book blob of the wrong length")
    prices, price = [], 0
    for delta in values[1 : 1 + n]:
        price += delta
        prices.append(price / price_div)
    return tuple(zip(prices, (q / size_div for q in values[1 + n :]), strict=True))


def _as_integers(values: list[float]) -> tuple[int | None, list[int]]:
    """The smallest k with every value == round(value * 10**k) / 10**k exactly, and those integers."""
    try:
        for k in range(_MAX_DECIMALS + 1):
            scale = 10**k
            ints = [round(v * scale) for v in values]
            if all(i / scale == v and abs(i) < 2**62 for i, v in zip(ints, values, strict=True)):
                return k, ints
    except (ValueError, OverflowError):  # NaN, infinity
        pass
    return None, []


def _put_varints(out: bytearray, values: list[int]) -> None:
    for value in values:
        value = (value << 1) ^ (value >> 63)  # zigzag: small negatives stay small
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)


def _get_varints(blob: bytes, start: int) -> list[int]:
    values, value, shift = [], 0, 0
    for byte in blob[start:]:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            if shift > _MAX_VARINT_BITS:
                raise ValueError("book blob holds a number too long")
            continue
        values.append((value >> 1) ^ -(value & 1))
        value, shift = 0, 0
    if shift:
        raise ValueError("book blob cut short")
    return values


@dataclass(frozen=True)
class Layout:
    """One event kind: its table, its columns after (seq, time, market), and its converters."""

    kind: str
    table: str
    event_type: type[Event] | type[Alert]
    columns: tuple[str, ...]
    to_row: Callable[[Any], Row]  # event (of `event_type`) -> values of `columns`
    from_row: Callable[[Market, int, Row], Any]  # (market, time, values) -> event (an Alert: ALERTS)
    checks: str  # SQL, true for a row every reader can use (see `valid_sql`)

    def valid_sql(self) -> str:
        """SQL, 1 for a sound row (a time in range, values of the right type and finite), else 0.

        The one definition of a row every reader can use: the recorder deletes what it just wrote
        when this says 0, and readers select it beside each row to skip (and count) damaged rows,
        so a text time or a NULL price never reaches the engine, pandas or a sum. (Whether the
        row's market is known is checked by the reader, against the markets it loaded.)
        """
        return f"coalesce({TIME_OK_SQL} AND {self.checks}, 0)"


# The ``sampled`` column holds flags: bit 0 sampled, bits 1-2 the source (0 feed, 1 backstop, 2
# tracked). A recording made before sources existed holds 0 or 1 there: source "feed", as it was.
_SOURCE_CODE = {LiquidationSource.FEED: 0, LiquidationSource.BACKSTOP: 1, LiquidationSource.TRACKED: 2}
_CODE_SOURCE = {code: source for source, code in _SOURCE_CODE.items()}


def liquidation_flags(sampled: bool, source: LiquidationSource) -> int:
    return (1 if sampled else 0) | _SOURCE_CODE[source] << 1


def _liquidation_row(e: Liquidation) -> Row:
    return (
        _SIDE_CODE[e.side],
        e.price,
        e.qty,
        e.usd,
        e.recv_time - e.time,
        liquidation_flags(e.sampled, e.source),
    )


def _liquidation(m: Market, t: int, r: Row) -> Liquidation:
    side, price, qty, usd, delay, flags = r
    return Liquidation(
        m[0], m[1], _CODE_SIDE[side], price, qty, usd, t, t + delay, bool(flags & 1), _CODE_SOURCE[flags >> 1]
    )


def _ticker_row(e: Ticker) -> Row:
    return (
        e.last,
        e.mark,
        e.index,
        e.funding_rate,
        e.next_funding_time,
        e.change_24h_pct,
        e.volume_24h_usd,
    )


def _ticker(m: Market, t: int, r: Row) -> Ticker:
    return Ticker(m[0], m[1], t, *r)


def _bar_row(e: PriceBar) -> Row:
    return (e.open, e.high, e.low, e.close, e.volume_usd)


def _bar(m: Market, t: int, r: Row) -> PriceBar:
    return PriceBar(m[0], m[1], t, *r)


def _book_row(e: BookSnapshot) -> Row:
    return (pack_levels(e.bids), pack_levels(e.asks))


def _book(m: Market, t: int, r: Row) -> BookSnapshot:
    return BookSnapshot(m[0], m[1], unpack_levels(r[0]), unpack_levels(r[1]), t)


def _heatmap_row(e: HeatmapBucket) -> Row:
    realized = array("d", (x for row, side, usd in e.realized for x in (row, _SIDE_CODE[side], usd)))
    return (e.bucket, e.grid, _pack_run(e.longs), _pack_run(e.shorts), e.low, e.high, realized.tobytes())


def _heatmap(m: Market, t: int, r: Row) -> HeatmapBucket:
    bucket, grid, longs, shorts, low, high, realized = r
    flat = _doubles(realized)
    if len(flat) % 3 or not grid > 0:
        raise ValueError("damaged heatmap row")
    marks = tuple((int(flat[k]), _CODE_SIDE[int(flat[k + 1])], flat[k + 2]) for k in range(0, len(flat), 3))
    return HeatmapBucket(
        m[0], m[1], t, bucket, grid, _unpack_run(longs), _unpack_run(shorts), low, high, marks
    )


def _pack_run(run: tuple[int, Sequence[float]] | None) -> bytes | None:
    """A run of rows as its first row (int64) then float32 USD per row, zlib-compressed (runs hold zeros)."""
    if run is None:
        return None
    return zlib.compress(array("q", [run[0]]).tobytes() + array("f", run[1]).tobytes())


def _unpack_run(blob: bytes | None) -> tuple[int, Float32s] | None:
    if blob is None:
        return None
    raw = zlib.decompress(blob, bufsize=64 * 1024)
    if len(raw) < 8 or (len(raw) - 8) % 4 or len(raw) > 8 + 4 * 1_000_000:
        raise ValueError("damaged heatmap run")
    first, usd = array("q", raw[:8]), Float32s()
    usd.frombytes(raw[8:])  # as the file holds them: no Python float per row
    if _BIG_ENDIAN:
        first.byteswap()
        usd.byteswap()
    return first[0], usd


def _doubles(blob: bytes) -> array[float]:
    if len(blob) % 8:
        raise ValueError("damaged heatmap marks")
    out = array("d", blob)
    if _BIG_ENDIAN:
        out.byteswap()
    return out


_MARGIN_CODE = {"cross": 0, "isolated": 1}
_CODE_MARGIN = ("cross", "isolated")


def _position_row(e: PositionSnapshot) -> Row:
    return (
        e.account,
        _SIDE_CODE[e.side],
        e.size,
        e.usd,
        e.entry,
        e.liquidation_price,
        e.leverage,
        _MARGIN_CODE[e.margin],
    )


def _position(m: Market, t: int, r: Row) -> PositionSnapshot:
    account, side, size, usd, entry, liquidation_price, leverage, margin = r
    return PositionSnapshot(
        m[0],
        m[1],
        account,
        _CODE_SIDE[side],
        size,
        usd,
        entry,
        liquidation_price,
        leverage,
        _CODE_MARGIN[margin],
        t,
    )


def _status_row(e: FeedStatus) -> Row:
    return (e.venue, e.state.value, e.since, e.detail, e.kind, e.last_message)


def _status(_m: Market, _t: int, r: Row) -> FeedStatus:
    venue, state, since, detail, kind, last_message = r
    return FeedStatus(venue, FeedState(state), since, detail, kind, last_message)


# SQL checks, cheap per row (no function calls). BETWEEN is false for text, blobs, NULL and the
# infinities (SQLite sorts numbers before text and blobs); CAST finds a fraction in an integer.
_FINITE = "BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308"


def _numbers(*columns: str) -> str:
    return " AND ".join(f"{c} {_FINITE}" for c in columns)


def _optional_numbers(*columns: str) -> str:
    return " AND ".join(f"({c} IS NULL OR {c} {_FINITE})" for c in columns)


def _integers(column: str, low: int, high: int) -> str:
    return f"{column} BETWEEN {low} AND {high} AND CAST({column} AS INTEGER) = {column}"


def _times(*columns: str, optional: bool = False) -> str:
    checks = [_integers(c, 0, MAX_TIME_MS) for c in columns]
    if optional:
        checks = [f"({c} IS NULL OR ({check}))" for c, check in zip(columns, checks, strict=True)]
    return " AND ".join(checks)


TIME_OK_SQL = _times("time")  # true for a row whose time a recording can hold


def _texts(*columns: str) -> str:
    return " AND ".join(f"typeof({c}) = 'text'" for c in columns)


_STATES = ", ".join(f"'{state.value}'" for state in FeedState)

LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "liquidations",
        "liquidations",
        Liquidation,
        ("side", "price", "qty", "usd", "recv_delay", "sampled"),
        _liquidation_row,
        _liquidation,
        f"side IN (0, 1) AND sampled IN (0, 1, 2, 3, 4, 5) AND {_numbers('price', 'qty', 'usd')} AND "
        + _integers("recv_delay", -MAX_TIME_MS, MAX_TIME_MS),
    ),
    Layout(
        "oi",
        "open_interest",
        OpenInterest,
        ("base", "usd"),
        lambda e: (e.base, e.usd),
        lambda m, t, r: OpenInterest(m[0], m[1], r[0], r[1], t),
        _numbers("base", "usd"),
    ),
    Layout(
        "tickers",
        "tickers",
        Ticker,
        (
            "last",
            "mark",
            "index_price",
            "funding_rate",
            "next_funding_time",
            "change_24h_pct",
            "volume_24h_usd",
        ),
        _ticker_row,
        _ticker,
        _optional_numbers("last", "mark", "index_price", "funding_rate", "change_24h_pct", "volume_24h_usd")
        + " AND "
        + _times("next_funding_time", optional=True),
    ),
    Layout(
        "bars",
        "price_bars",
        PriceBar,
        ("open", "high", "low", "close", "volume_usd"),
        _bar_row,
        _bar,
        _numbers("open", "high", "low", "close", "volume_usd"),
    ),
    # The blobs themselves are checked when decoded (a damaged one is skipped then).
    Layout(
        "books",
        "books",
        BookSnapshot,
        ("bids", "asks"),
        _book_row,
        _book,
        "typeof(bids) = 'blob' AND typeof(asks) = 'blob'",
    ),
    # The heatmap's buckets as the desk closed them (engine/heatmap.py); blobs are checked when decoded.
    Layout(
        "heatmap",
        "heatmap_buckets",
        HeatmapBucket,
        ("bucket", "grid", "longs", "shorts", "low", "high", "realized"),
        _heatmap_row,
        _heatmap,
        f"{_times('bucket')} AND {_numbers('grid')} AND {_optional_numbers('low', 'high')} AND typeof(realized) = 'blob'",
    ),
    # MEASURED positions of tracked accounts (Hyperliquid), size 0 when one closed.
    Layout(
        "positions",
        "positions",
        PositionSnapshot,
        ("account", "side", "size", "usd", "entry", "liquidation_price", "leverage", "margin"),
        _position_row,
        _position,
        f"{_texts('account')} AND side IN (0, 1) AND margin IN (0, 1) AND "
        + f"{_numbers('size', 'usd', 'entry', 'leverage')} AND {_optional_numbers('liquidation_price')}",
    ),
    # Feed status belongs to a venue, not a market: its table has no `market` column.
    Layout(
        "status",
        "feed_status",
        FeedStatus,
        ("venue", "state", "since", "detail", "kind", "last_message"),
        _status_row,
        _status,
        f"{_texts('venue', 'detail', 'kind')} AND state IN ({_STATES}) AND {_times('since')} AND "
        + _times("last_message", optional=True),
    ),
)


def _alert_row(a: Alert) -> Row:
    side = None if a.side is None else _SIDE_CODE[a.side]
    return (a.time, a.rule, a.kind, a.venue, a.symbol, side, a.usd, a.price, a.count, a.text, int(a.update))


def _alert(_m: Market, t: int, r: Row) -> Alert:
    first, rule, kind, venue, symbol, side, usd, price, count, text, update = r
    side_of = None if side is None else _CODE_SIDE[side]
    return Alert(first, rule, kind, venue, symbol, side_of, usd, price, count, text, bool(update), t)


# The alerts a session said live: recorded beside the events, never one of them (``read_events``
# yields events only; ``reader.read_alerts`` reads these). No market: an alert may span venues.
ALERTS = Layout(
    "alerts",
    "alerts",
    Alert,
    ("first_time", "rule", "kind", "venue", "symbol", "side", "usd", "price", "n", "text", "is_update"),
    _alert_row,
    _alert,
    f"{_times('first_time')} AND {_texts('rule', 'kind', 'symbol', 'text')} AND "
    "(venue IS NULL OR typeof(venue) = 'text') AND (side IS NULL OR side IN (0, 1)) AND "
    f"{_optional_numbers('usd', 'price')} AND (n IS NULL OR ({_integers('n', 0, 1 << 62)})) AND is_update IN (0, 1)",
)

KINDS = tuple(layout.kind for layout in LAYOUTS)
BY_KIND = {layout.kind: layout for layout in LAYOUTS}
RECORDED = (*LAYOUTS, ALERTS)  # what the recorder writes: every event kind, and the alerts
BY_TYPE = {layout.event_type: layout for layout in RECORDED}


def has_market(layout: Layout) -> bool:
    return layout.kind not in ("status", "alerts")


def check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return KINDS
    chosen = tuple(kinds)
    unknown = [k for k in chosen if k not in BY_KIND]
    if unknown:
        raise ValueError(f"unknown event kind {unknown[0]!r} (expected one of: {', '.join(KINDS)})")
    return chosen
