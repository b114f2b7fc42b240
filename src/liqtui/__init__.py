"""liqtui: a terminal desk for crypto derivatives liquidations."""

__version__ = "0.1.0"
