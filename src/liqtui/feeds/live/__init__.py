"""Live venues through ccxt.pro (shipped in the ``ccxt`` package). Never imports Textual.

``LiveSource`` (source.py) is the EventSource; ``VenueFeed`` (venue_feed.py) the per-venue worker:
its health, delivery and frame tap, with its websocket bodies in ``streams.py``, its REST poll and
backfill in ``polling.py``, and how it fails and retries (backoff, Retry-After, 404) in
``supervision.py``. ``frame_tap.py`` hooks the ccxt client; ``adapter.py`` is the base class
(``VenueAdapter``) of the one module per venue (binanceusdm, bybit, okx, hyperliquid) that owns that
venue's wire shapes.
"""
