"""An alert: what a rule said about the market, once per event that matters (docs/alerts.md).

A grouped alert (a burst, a cascade, liquidations within a rule's cooldown) is emitted once, then as
updates that repeat its ``rule``, ``symbol`` and first ``time`` with ``update = True`` and the
running ``usd`` and ``count``. ``at`` is the exchange time of the event behind this emission (the
first one's ``time`` for the alert itself): recordings and replays order alerts by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from liqtui.domain.events import Side

# The kinds of rule there are (docs/alerts.md).
ALERT_KINDS = (
    "liquidation",
    "burst",
    "cascade",
    "cluster_near",
    "cluster_swept",
    "oi_change",
    "funding",
    "position_near",
)
LIQUIDATION_KINDS = frozenset({"liquidation", "burst", "cascade"})  # ``usd`` = USD liquidated


@dataclass(frozen=True, slots=True)
class Alert:
    time: int  # exchange time (ms) of the event that fired the alert
    rule: str
    kind: str
    venue: str | None  # None: the alert spans several venues
    symbol: str
    side: Side | None  # None: no side, or both
    usd: float | None  # liquidation kinds: USD liquidated so far; see docs/alerts.md for the others
    price: float | None
    count: int | None  # liquidation kinds: liquidations so far
    text: str
    update: bool = False
    at: int = 0  # exchange time of the event behind this emission (== time when not an update)

    def fields(self) -> dict[str, Any]:
        """The alert as the JSON object `liqtui alerts --json` prints (``update`` only on updates)."""
        data: dict[str, Any] = {
            "time": self.time,
            "rule": self.rule,
            "kind": self.kind,
            "venue": self.venue,
            "symbol": self.symbol,
            "side": self.side.value if self.side else None,
            "usd": self.usd,
            "price": self.price,
            "count": self.count,
            "text": self.text,
        }
        if self.update:
            data["update"] = True
        return data
