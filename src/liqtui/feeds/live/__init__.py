"""Live venues through ccxt.pro (shipped in the ``ccxt`` package). Never imports Textual."""
