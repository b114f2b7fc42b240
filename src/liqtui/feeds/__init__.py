"""The I/O edge: venue feeds on ccxt, the demo simulator, replay. Never imports Textual."""
