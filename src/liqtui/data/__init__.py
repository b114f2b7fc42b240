"""Data files shipped with liqtui (read with importlib.resources)."""
