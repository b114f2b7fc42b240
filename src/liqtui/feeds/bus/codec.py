"""The bus's wire format: every normalized event as one JSON message, its subject and its id.

One message per event, JSON so that `nats sub 'liqtui.>'` is readable (docs/bus.md)::

    subject  liqtui.liq.binanceusdm.BTC-USDT-USDT
    Nats-Msg-Id  3f1c...(32 hex)
    {"v": 1, "event": "liq", "venue": "binanceusdm", "symbol": "BTC/USDT:USDT", "side": "long",
     "price": 91234.5, "qty": 0.25, "usd": 22808.625, "time": 1790000000123,
     "recv_time": 1790000000150, "sampled": true}

The id is derived from the content (kind, venue, symbol, exchange time and every field except the
moment it was received), so two collectors that receive the same liquidation publish the same id:
JetStream keeps it once within its duplicate window and subscribers drop it beyond that
(``feeds/bus/source.py``). A message that does not decode into a valid event raises
``DecodeError`` with a short reason; the subscriber counts and skips it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from liqtui.domain.events import (
    BookSnapshot,
    Event,
    FeedState,
    FeedStatus,
    HeatmapBucket,
    Liquidation,
    LiquidationSource,
    MarginLimits,
    OpenInterest,
    PositionSnapshot,
    PriceBar,
    Side,
    Ticker,
    liquidation_problem,
)

VERSION = 1
SUBJECT_ROOT = "liqtui"
# The token of each event type, in subjects and in the payload's "event".
KINDS: dict[type, str] = {
    Liquidation: "liq",
    OpenInterest: "oi",
    Ticker: "ticker",
    BookSnapshot: "book",
    PriceBar: "bar",
    FeedStatus: "status",
    MarginLimits: "margin",
    PositionSnapshot: "position",
}
CLASSES: dict[str, type] = {kind: cls for cls, kind in KINDS.items()}
# Events no collector publishes: each reader's engine makes them from the events it receives (the
# heatmap's buckets, engine/heatmap.py), so a desk on the bus builds its own from the stream.
MADE_BY_READERS: frozenset[type] = frozenset({HeatmapBucket})
# Fields left out of the id: when this copy was received, not what happened.
NOT_IN_ID = frozenset({"recv_time"})
# Each event type's fields and their types, read once.
_HINTS: dict[type, dict[str, Any]] = {}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class DecodeError(ValueError):
    """A message that is not a liqtui event; the text says why in a few words."""


def symbol_token(symbol: str) -> str:
    """``BTC/USDT:USDT`` -> ``BTC-USDT-USDT``: one subject token (no '.', '*', '>' or spaces)."""
    return _UNSAFE.sub("_", symbol.replace("/", "-").replace(":", "-")) or "_"


def subject_of(event: Event, root: str = SUBJECT_ROOT) -> str:
    """``liqtui.<kind>.<venue>.<symbol token>``; a feed status has the data it covers in place of
    a symbol (``liqtui.status.okx.liquidations``, ``...all``). The demo's root is ``liqtui-demo``."""
    kind = KINDS[type(event)]
    last = event.kind if isinstance(event, FeedStatus) else event.symbol
    return f"{root}.{kind}.{symbol_token(event.venue)}.{symbol_token(last)}"


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value.value if isinstance(value, (Side, FeedState, LiquidationSource)) else value


def to_dict(event: Event) -> dict[str, Any]:
    body = {f.name: _plain(getattr(event, f.name)) for f in dataclasses.fields(event)}
    return {"v": VERSION, "event": KINDS[type(event)], **body}


def encode(event: Event, root: str = SUBJECT_ROOT) -> tuple[str, str, bytes]:
    """(subject, message id, payload). ValueError for a value JSON cannot carry (NaN, infinity)."""
    body = to_dict(event)
    payload = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    return subject_of(event, root), message_id(body), payload


@dataclass(frozen=True, slots=True)
class Beat:
    """A collector's heartbeat (``<root>.beat.<collector>``, every ``BEAT_S``): that it is alive,
    its source's clock (the demo's is simulated) and what it has published."""

    collector: str
    time: int  # wall clock, ms
    source_now: int  # the source's clock, ms
    published: int


BEAT_S = 5.0
_HINTS.update(
    {
        cls: {f.name: typing.get_type_hints(cls)[f.name] for f in dataclasses.fields(cls)}
        for cls in (*CLASSES.values(), Beat)
    }
)


def encode_beat(beat: Beat, root: str = SUBJECT_ROOT) -> tuple[str, bytes]:
    body = {
        "v": VERSION,
        "event": "beat",
        **{f.name: getattr(beat, f.name) for f in dataclasses.fields(beat)},
    }
    return f"{root}.beat.{symbol_token(beat.collector)}", json.dumps(body, separators=(",", ":")).encode()


def message_id(body: dict[str, Any]) -> str:
    """32 hex digits of SHA-256 over the event's content, the moment of receipt left out."""
    content = {k: v for k, v in body.items() if k not in NOT_IN_ID}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def decode(payload: bytes) -> Event | Beat:
    """The event a message carries; DecodeError when it is not one liqtui could have sent."""
    try:
        body = orjson.loads(payload)  # 6x json's speed: most of a reader's cost per event (bench_bus.py)
    except orjson.JSONDecodeError:  # also NaN and infinity (1e999), which json reads: then the field says why
        body = _stdlib_json(payload)
    if not isinstance(body, dict):
        raise DecodeError("not a JSON object")
    if body.get("v") != VERSION:
        raise DecodeError(f"version {body.get('v')!r}, this liqtui reads {VERSION}")
    cls = CLASSES.get(body.get("event")) or (Beat if body.get("event") == "beat" else None)  # type: ignore[arg-type]
    if cls is None:
        raise DecodeError(f"unknown event {body.get('event')!r}")
    try:  # the fast path: one converter per field, made once (_CONVERTERS)
        event: Event | Beat = cls(*[convert(body[name]) for name, convert in _CONVERTERS[cls]])
    except (KeyError, TypeError, ValueError, OverflowError):
        raise DecodeError(_why(body, cls)) from None
    problem = liquidation_problem(event) if isinstance(event, Liquidation) else None
    if problem:
        raise DecodeError(f"liquidation: {problem}")
    return event


def _stdlib_json(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise DecodeError("not JSON") from None


def _why(body: dict[str, Any], cls: type) -> str:
    """Which field of ``body`` does not fit ``cls``, in a few words (the slow path, on failure)."""
    for name, convert in _CONVERTERS[cls]:
        if name not in body:
            return f"no {name!r}"
        try:
            convert(body[name])
        except (TypeError, ValueError, OverflowError):
            return f"{name!r}: {body[name]!r:.40} is not {_word(_HINTS[cls][name])}"
    return "not valid"


def _number(value: Any) -> float:
    """A finite float from JSON's number (``1e999`` reads as infinity; NaN as NaN): TypeError else."""
    if type(value) is float:
        if value - value == 0.0:  # False for infinity and NaN
            return value
        raise TypeError
    if type(value) is int:
        return float(value)  # OverflowError beyond a float's range
    raise TypeError


def _levels(value: Any) -> tuple[tuple[float, float], ...]:
    """The book's ``[[price, size], ...]``: ValueError/TypeError for anything but pairs of numbers."""
    if type(value) is not list:
        raise TypeError
    pairs = [(price, size) for price, size in value]  # ValueError unless each is a pair
    if all(type(price) is float and type(size) is float for price, size in pairs):
        return tuple(pairs)  # orjson reads no NaN or infinity: every float is finite
    return tuple([(_number(price), _number(size)) for price, size in pairs])


def _exactly(hint: type) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if type(value) is not hint:
            raise TypeError
        return value

    return convert


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def _converter(hint: Any) -> Callable[[Any], Any]:
    """``value`` as ``hint`` (str, int, float, bool, an enum, None-able, book levels)."""
    args = typing.get_args(hint)
    if type(None) in args:
        return _optional(_converter(next(a for a in args if a is not type(None))))
    if hint in (Side, FeedState, LiquidationSource):
        return hint  # the enum's constructor: ValueError for another word
    if typing.get_origin(hint) is tuple:
        return _levels
    return _number if hint is float else _exactly(hint)


_CONVERTERS: dict[type, tuple[tuple[str, Callable[[Any], Any]], ...]] = {
    cls: tuple((name, _converter(hint)) for name, hint in hints.items()) for cls, hints in _HINTS.items()
}


def _word(hint: Any) -> str:
    return {str: "a string", int: "an integer", float: "a finite number", bool: "true or false"}.get(
        hint, "valid"
    )


class RecentIds:
    """The ids of the last ``size`` messages, to drop a copy JetStream's duplicate window let
    through (a collector that restarts re-sends its backfill minutes or hours later)."""

    def __init__(self, size: int = 300_000) -> None:
        self.size = size
        self._ids: dict[str, None] = {}  # insertion-ordered: the oldest goes first

    def seen(self, msg_id: str) -> bool:
        """True when ``msg_id`` came before; remembers it otherwise."""
        if msg_id in self._ids:
            return True
        self._ids[msg_id] = None
        if len(self._ids) > self.size:
            del self._ids[next(iter(self._ids))]
        return False
