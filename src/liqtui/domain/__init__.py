"""Plain typed events and values that every layer speaks. No I/O, no Textual."""

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

__all__ = [
    "BookSnapshot",
    "Event",
    "FeedState",
    "FeedStatus",
    "Liquidation",
    "OpenInterest",
    "PriceBar",
    "Side",
    "Ticker",
]
