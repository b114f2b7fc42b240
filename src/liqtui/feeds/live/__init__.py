"""Live venues through ccxt.pro (shipped in the ``ccxt`` package). Never imports Textual.

``LiveSource`` (source.py) is the EventSource; ``venue_feed.py`` the per-venue worker; one module per
venue (binanceusdm, bybit, okx, hyperliquid) owns that venue's wire shapes.
"""
