"""The simulated market marked DEMO. Never imports Textual.

- ``source.py``: ``DemoSource``, the EventSource the desk and ``record --demo`` run, paced against
  the wall clock or as fast as it can;
- ``market.py``: ``DemoMarket``, the deterministic simulation itself (prices, positions opening and
  being liquidated, books, OI, funding, the backfill at start);
- ``positions.py``: the leveraged positions filed by liquidation price, swept as the price moves;
- ``instruments.py``: the demo's symbols, per-venue figures (``DEMO_PROFILE``) and event rates.
"""

from liqtui.feeds.demo.instruments import DEMO_VENUES, RATES
from liqtui.feeds.demo.market import DEFAULT_START_MS, DemoMarket, ForcedOrder
from liqtui.feeds.demo.source import DemoSource

__all__ = ["DEFAULT_START_MS", "DEMO_VENUES", "RATES", "DemoMarket", "DemoSource", "ForcedOrder"]
